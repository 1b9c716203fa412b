//! The RRset calls: read, create, set_records, change_ttl, delete, following the action a
//! write returns, and the hints that remember a live RRset.

use super::*;

/// One value of an RRset, with Hetzner's comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Value1 {
    pub(super) addr: IpAddr,
    pub(super) comment: String,
}

/// What is known of the live RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Live {
    Absent,
    /// The RRset, its TTL (`None` = the zone's default) and values.
    Present {
        ttl: Option<u32>,
        values: Vec<Value1>,
    },
}

impl Hetzner {
    /// A provider named `name`.
    pub fn new(name: String, settings: HetznerSettings, deps: &ProviderDeps) -> Hetzner {
        Hetzner {
            name,
            settings,
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: ZoneCache::default(),
        }
    }

    /// Sends one request, retrying transient failures and rate limits; returns the JSON body.
    pub(super) async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.settings.endpoint);
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut headers = vec![(
            "Authorization",
            format!("Bearer {}", self.settings.api_token.expose()),
        )];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let write = method != Method::Get;
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |f| match f {
                Failure::Provider(e) | Failure::Api { error: e, .. } => Some(e),
            },
            || async {
                let resp = self
                    .http
                    .send(Request {
                        method,
                        url: &url,
                        headers: &headers,
                        body: body.clone(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| api::http_error(action, &e, write))?;
                tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
                interpret(action, &resp)
            },
        )
        .await
    }

    /// Every page of a list: `path` (which has a query already) with `page`/`per_page`,
    /// the items under `key`.
    pub(super) async fn all_pages(
        &self,
        action: &'static str,
        path: &str,
        key: &str,
    ) -> Result<Vec<Value>, Failure> {
        let mut out = Vec::new();
        let mut page = 1;
        for _ in 0..MAX_PAGES {
            let reply = self
                .call(
                    action,
                    Method::Get,
                    &format!("{path}&per_page={PER_PAGE}&page={page}"),
                    None,
                )
                .await?;
            let items = reply
                .get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| api::protocol(action, &format!("no {key:?} list")))?;
            out.extend(items.iter().cloned());
            let next = reply
                .get("meta")
                .and_then(|m| m.get("pagination"))
                .and_then(|p| p.get("next_page"))
                .and_then(Value::as_u64);
            match next {
                Some(n) if !items.is_empty() && n > page => page = n,
                _ => return Ok(out),
            }
        }
        Err(api::protocol(action, &format!("more than {MAX_PAGES} pages")).into())
    }

    /// The project's zones.
    pub(super) async fn list_zones(&self) -> Result<Vec<Fqdn>, ProviderError> {
        let action = "ListZones";
        let zones = self.all_pages(action, "/zones?sort=name", "zones").await?;
        zones
            .iter()
            .map(|z| {
                let name = z
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api::protocol(action, "a zone without a name"))?;
                Fqdn::parse_relaxed(name)
                    .map_err(|_| api::protocol(action, &format!("a zone named {name:?}")))
            })
            .collect()
    }

    pub(super) async fn zone_of(
        &self,
        name: &Fqdn,
        hints: &ProviderHints,
    ) -> Result<Fqdn, ProviderError> {
        self.zones
            .zone_of(name, self.settings.zone.as_ref(), hints, SERVICE, || {
                self.list_zones()
            })
            .await
    }

    /// The live RRset of (`sub`, `rtype`) in `zone`.
    pub(super) async fn fetch(
        &self,
        zone: &Fqdn,
        sub: &str,
        rtype: RecordType,
    ) -> Result<Live, ProviderError> {
        let action = "ListRRSets";
        let path = format!(
            "/zones/{}/rrsets?name={}&type={}",
            path_encode(zone.as_str()),
            query_encode(sub),
            rtype.as_str()
        );
        let sets = match self.all_pages(action, &path, "rrsets").await {
            Ok(s) => s,
            Err(Failure::Api {
                meaning: Meaning::NotFound,
                error,
            }) => {
                return Err(
                    ProviderError::new(ProviderErrorKind::ZoneNotFound, error.message)
                        .with_hint(ZONE_HINT),
                )
            }
            Err(e) => return Err(e.into()),
        };
        // The filters are exact; a lenient server must not hand over other RRsets.
        let Some(set) = sets.iter().find(|s| {
            s.get("name").and_then(Value::as_str) == Some(sub)
                && s.get("type").and_then(Value::as_str) == Some(rtype.as_str())
        }) else {
            return Ok(Live::Absent);
        };
        let ttl = match set.get("ttl") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                t.as_u64()
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or_else(|| api::protocol(action, "an rrset with an invalid ttl"))?,
            ),
        };
        let records = set
            .get("records")
            .and_then(Value::as_array)
            .ok_or_else(|| api::protocol(action, "an rrset without records"))?;
        let mut values = Vec::new();
        for r in records {
            let text = r
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| api::protocol(action, "a record without a value"))?;
            let addr = text
                .parse::<IpAddr>()
                .ok()
                .filter(|a| Family::of(a).record_type() == rtype)
                .ok_or_else(|| api::protocol(action, &format!("a {rtype} value {text:?}")))?;
            let comment = r
                .get("comment")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            values.push(Value1 { addr, comment });
        }
        Ok(Live::Present { ttl, values })
    }

    pub(super) async fn read(
        &self,
        key: &RecordKey,
        hints: &ProviderHints,
    ) -> Result<LiveRrSet, ProviderError> {
        let zone = self.zone_of(&key.name, hints).await?;
        let sub = rows::sub_domain(&key.name, &zone)?;
        let live = self.fetch(&zone, &sub, key.rtype).await?;
        let (addrs, ttl) = match &live {
            Live::Absent => (AddrSet::new(), None),
            Live::Present { ttl, values } => (
                values.iter().map(|v| v.addr).collect::<AddrSet>(),
                ttl.map(Ttl),
            ),
        };
        Ok(LiveRrSet {
            ttl: if addrs.is_empty() { None } else { ttl },
            addrs,
            hints: self.hints(&zone, &live),
        })
    }

    /// Makes the live RRset equal `desired`: from the remembered state when it can be
    /// trusted (no comments to keep), else from a read; a remembered state that turns out
    /// wrong (the RRset vanished, or exists already) is read once more.
    pub(super) async fn apply(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
        let zone = self.zone_of(&desired.name, hints).await?;
        let sub = rows::sub_domain(&desired.name, &zone)?;
        let mut live = match remembered(hints, &zone) {
            Some(l) => l,
            None => self.fetch(&zone, &sub, desired.rtype).await?,
        };
        let mut reread = false;
        loop {
            match self.write(&zone, &sub, desired, &live).await {
                Ok(after) => return Ok(self.hints(&zone, &after)),
                Err(Failure::Api {
                    meaning: Meaning::NotFound | Meaning::Exists,
                    error,
                }) if !reread => {
                    tracing::info!(provider = %self.name, record = %desired.key(), error = %error, "the rrset changed under ddnsd; reading it again");
                    reread = true;
                    live = self.fetch(&zone, &sub, desired.rtype).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The writes that make `live` equal `desired`; returns the RRset as it is afterwards.
    pub(super) async fn write(
        &self,
        zone: &Fqdn,
        sub: &str,
        desired: &RrSet,
        live: &Live,
    ) -> Result<Live, Failure> {
        let zone_path = format!("/zones/{}/rrsets", path_encode(zone.as_str()));
        let set_path = format!(
            "{zone_path}/{}/{}",
            path_encode(sub),
            desired.rtype.as_str()
        );
        let ttl = desired.ttl.0;
        match live {
            Live::Absent if desired.addrs.is_empty() => Ok(Live::Absent),
            Live::Absent => {
                let records: Vec<Value> = desired
                    .addrs
                    .iter()
                    .map(|a| json!({"value": a.to_string()}))
                    .collect();
                let body = json!({"name": sub, "type": desired.rtype.as_str(), "ttl": ttl, "records": records});
                let reply = self
                    .call("CreateRRSet", Method::Post, &zone_path, Some(&body))
                    .await?;
                self.follow("CreateRRSet", &reply).await?;
                Ok(Live::Present {
                    ttl: Some(ttl),
                    values: desired
                        .addrs
                        .iter()
                        .map(|a| Value1 {
                            addr: *a,
                            comment: String::new(),
                        })
                        .collect(),
                })
            }
            Live::Present { .. } if desired.addrs.is_empty() => {
                match self
                    .call("DeleteRRSet", Method::Delete, &set_path, None)
                    .await
                {
                    Ok(reply) => self.follow("DeleteRRSet", &reply).await?,
                    // Already gone: what was wanted.
                    Err(Failure::Api {
                        meaning: Meaning::NotFound,
                        ..
                    }) => {}
                    Err(e) => return Err(e),
                }
                Ok(Live::Absent)
            }
            Live::Present {
                ttl: live_ttl,
                values,
            } => {
                let live_addrs: AddrSet = values.iter().map(|v| v.addr).collect();
                let mut after = values.clone();
                if live_addrs != desired.addrs || values.len() != desired.addrs.len() {
                    // Values that stay keep their comments.
                    after = desired
                        .addrs
                        .iter()
                        .map(|a| Value1 {
                            addr: *a,
                            comment: values
                                .iter()
                                .find(|v| v.addr == *a)
                                .map(|v| v.comment.clone())
                                .unwrap_or_default(),
                        })
                        .collect();
                    let records: Vec<Value> = after
                        .iter()
                        .map(|v| {
                            if v.comment.is_empty() {
                                json!({"value": v.addr.to_string()})
                            } else {
                                json!({"value": v.addr.to_string(), "comment": v.comment})
                            }
                        })
                        .collect();
                    let reply = self
                        .call(
                            "SetRecords",
                            Method::Post,
                            &format!("{set_path}/actions/set_records"),
                            Some(&json!({ "records": records })),
                        )
                        .await?;
                    self.follow("SetRecords", &reply).await?;
                }
                if *live_ttl != Some(ttl) {
                    let reply = self
                        .call(
                            "ChangeTTL",
                            Method::Post,
                            &format!("{set_path}/actions/change_ttl"),
                            Some(&json!({ "ttl": ttl })),
                        )
                        .await?;
                    self.follow("ChangeTTL", &reply).await?;
                }
                Ok(Live::Present {
                    ttl: Some(ttl),
                    values: after,
                })
            }
        }
    }

    /// Follows the action a write returned: an action that failed is the write's error; one
    /// still running after a few asks is taken as accepted (the next verify reads the RRset).
    pub(super) async fn follow(&self, write: &'static str, reply: &Value) -> Result<(), Failure> {
        let mut action = reply.get("action").cloned().unwrap_or(Value::Null);
        for delay in ACTION_POLLS {
            match action.get("status").and_then(Value::as_str) {
                Some("running") => {}
                Some("error") => {
                    let code = action
                        .get("error")
                        .and_then(|e| e.get("code"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let message = action
                        .get("error")
                        .and_then(|e| e.get("message"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let m = meaning(code);
                    return Err(Failure::Api {
                        meaning: m,
                        error: error_of(m, format!("{write} failed: {code}: {message:?}"), None),
                    });
                }
                // `success`, or no action in the reply: done.
                _ => return Ok(()),
            }
            let Some(id) = action.get("id").and_then(Value::as_u64) else {
                return Ok(());
            };
            tokio::time::sleep(delay).await;
            let reply = self
                .call(
                    "GetAction",
                    Method::Get,
                    &format!("/zones/actions/{id}"),
                    None,
                )
                .await?;
            action = reply.get("action").cloned().unwrap_or(Value::Null);
        }
        tracing::debug!(provider = %self.name, write, "the action is still running; taken as accepted");
        Ok(())
    }

    /// `zone` (unless configured) and what is known of the RRset: `rrset` = `absent`, or
    /// `present` with `ttl`, `values` and `commented` (values with comments make the next
    /// write read first, so the comments are kept).
    pub(super) fn hints(&self, zone: &Fqdn, live: &Live) -> ProviderHints {
        let mut h = ProviderHints::default();
        if self.settings.zone.is_none() {
            h.0.insert(HINT_ZONE.to_owned(), zone.to_string());
        }
        match live {
            Live::Absent => {
                h.0.insert(HINT_RRSET.to_owned(), "absent".to_owned());
            }
            Live::Present { ttl, values } => {
                let commented = values.iter().any(|v| !v.comment.is_empty());
                let addrs: Vec<String> = values.iter().map(|v| v.addr.to_string()).collect();
                let text = match ttl {
                    Some(t) => format!("present ttl={t} values={}", addrs.join(",")),
                    None => format!("present ttl=zone values={}", addrs.join(",")),
                };
                h.0.insert(
                    HINT_RRSET.to_owned(),
                    if commented {
                        "present commented".to_owned()
                    } else {
                        text
                    },
                );
            }
        }
        h
    }
}

/// The live RRset as the hints remember it, when they can be trusted: for `zone`, and
/// without comments to keep.
pub(super) fn remembered(hints: &ProviderHints, zone: &Fqdn) -> Option<Live> {
    if let Some(z) = hints.0.get(HINT_ZONE) {
        if z != zone.as_str() {
            return None;
        }
    }
    let text = hints.0.get(HINT_RRSET)?;
    if text == "absent" {
        return Some(Live::Absent);
    }
    let rest = text.strip_prefix("present ttl=")?;
    let (ttl, values) = rest.split_once(" values=")?;
    let ttl = match ttl {
        "zone" => None,
        t => Some(t.parse().ok()?),
    };
    let values = if values.is_empty() {
        Vec::new()
    } else {
        values
            .split(',')
            .map(|v| {
                Some(Value1 {
                    addr: v.parse().ok()?,
                    comment: String::new(),
                })
            })
            .collect::<Option<Vec<_>>>()?
    };
    Some(Live::Present { ttl, values })
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters; `@` too).
pub(super) fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@' | b'*') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a path segment (`@` and `*` stay: RRset names use them as is).
pub(super) fn path_encode(s: &str) -> String {
    query_encode(s)
}
