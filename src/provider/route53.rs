//! `kind = "route53"`: AWS Route 53 (REST-XML API 2013-04-01), signed with SigV4
//! (`sign/sigv4.rs`).
//!
//! Owns the wire format of ListHostedZonesByName, ListResourceRecordSets and
//! ChangeResourceRecordSets (XML bodies through the small parser in `route53/xml.rs`), the
//! hosted-zone look-up, and the mapping of Route 53's error codes to [`ProviderError`]s
//! ([`error_for`]). Reference: `shared/providers/dyndns2-and-others.md` §3 and
//! `shared/providers/hyperscalers.md` §3.
//!
//! Route 53 keeps an RRset as one object, so a write is one `UPSERT` of the whole set (stale
//! values go with it; no record ids to keep) and a withdrawal one `DELETE` of the exact live
//! set. Only simple record sets are managed: an alias, weighted or otherwise routed set of the
//! same name and type is refused, never overwritten.

pub mod xml;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use self::xml::Element;
use super::kit::api;
use super::kit::zones::longest_match;
use super::sign::sigv4::{self, SigV4Credentials, SigV4Request, SigV4Scope};
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::clock::Clock;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{self, Backoff, HttpClient, HttpResponse, Method, Request};
use crate::record::{AddrSet, Fqdn, RecordKey, RecordType, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "route53",
    about: "AWS Route 53 (access key, SigV4)",
    example: r#"[providers.aws]
kind = "route53"
access_key_id = "AKIA..."               # an IAM user's key; its policy needs
                                        # route53:ChangeResourceRecordSets and
                                        # route53:ListResourceRecordSets on the hosted zone
secret_access_key_env = "AWS_SECRET_ACCESS_KEY"   # or secret_access_key / secret_access_key_file
# hosted_zone_id = "Z0123456789ABC"     # omit to find it by name (needs route53:ListHostedZonesByName)
# zone = "example.com"                  # the hosted zone's name, if not the record's parent
# endpoint = "https://route53.amazonaws.com"
"#,
    configure,
};

/// The default API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://route53.amazonaws.com";
/// The API version in every path.
pub const API_VERSION: &str = "2013-04-01";
/// The XML namespace of request and reply bodies.
pub const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// Route 53 is a global service: requests are signed for `us-east-1`.
const SCOPE: SigV4Scope<'static> = SigV4Scope {
    region: "us-east-1",
    service: "route53",
};
const HINT_ZONE: &str = "zone";
const HINT_ZONE_ID: &str = "zone_id";
const PERMISSIONS: &str = "route53:ChangeResourceRecordSets and route53:ListResourceRecordSets on the hosted zone (and route53:ListHostedZonesByName unless hosted_zone_id is set)";

/// Settings of a Route 53 provider.
#[derive(Clone, Debug)]
pub struct Route53Settings {
    /// The access key id (an identifier: it travels in every request's `Authorization`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret<String>,
    /// The hosted zone's id, bare (`Z0123…`); `None` = found by name.
    pub hosted_zone_id: Option<String>,
    /// The hosted zone's name; `None` = the longest parent of the record name that is one.
    pub zone: Option<Fqdn>,
    /// API endpoint, default `https://route53.amazonaws.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "route53"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    access_key_id: Option<Text>,
    access_key_id_file: Option<Text>,
    access_key_id_env: Option<Text>,
    secret_access_key: Option<Text>,
    secret_access_key_file: Option<Text>,
    secret_access_key_env: Option<Text>,
    hosted_zone_id: Option<Text>,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let access_key_id = f.secret(SecretFields {
        name: "access_key_id",
        inline: &r.access_key_id,
        file: &r.access_key_id_file,
        env: &r.access_key_id_env,
    });
    let secret_access_key = f.secret(SecretFields {
        name: "secret_access_key",
        inline: &r.secret_access_key,
        file: &r.secret_access_key_file,
        env: &r.secret_access_key_env,
    });
    let hosted_zone_id = match &r.hosted_zone_id {
        None => Some(None),
        Some(t) => match bare_zone_id(t.get_ref()) {
            Some(id) => Some(Some(id)),
            None => {
                f.problem(
                    t.span(),
                    format!("hosted_zone_id {:?} is not a hosted zone id", t.get_ref()),
                    Some(
                        "copy the id from the Route 53 console, e.g. \"Z0123456789ABCDEFGHIJ\""
                            .to_owned(),
                    ),
                );
                None
            }
        },
    };
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(Route53Settings {
        // The key id is an identifier (it is sent in clear in every request); only the
        // secret key is secret.
        access_key_id: access_key_id?.expose().clone(),
        secret_access_key: secret_access_key?,
        hosted_zone_id: hosted_zone_id?,
        zone: zone?,
        endpoint: endpoint?,
    }))
}

/// `/hostedzone/Z123` or `Z123` → `Z123` (botocore strips the prefix the same way); `None`
/// unless the rest is letters and digits.
pub fn bare_zone_id(s: &str) -> Option<String> {
    let s = s.trim();
    let id = s.strip_prefix("/hostedzone/").unwrap_or(s);
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id.to_owned())
}

impl Configured for Route53Settings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Route53::new(name.to_owned(), self.clone(), deps))
    }
}

/// A hosted zone: its name (when known) and bare id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Zone {
    name: Option<Fqdn>,
    id: String,
}

/// A Route 53 provider.
pub struct Route53 {
    name: String,
    settings: Route53Settings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    /// Hosted zones found by name in this process: (name, id).
    zones: Mutex<Vec<(Fqdn, String)>>,
}

/// One live simple record set.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LiveSet {
    ttl: u32,
    values: Vec<String>,
}

impl Route53 {
    /// A provider named `name`.
    pub fn new(name: String, settings: Route53Settings, deps: &ProviderDeps) -> Route53 {
        Route53 {
            name,
            settings,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            zones: Mutex::new(Vec::new()),
        }
    }

    /// Sends one signed request, retrying transient failures and rate limits; returns the
    /// root element of a 200 reply.
    async fn call(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: &str,
    ) -> Result<Element, ProviderError> {
        api::with_retries(
            &self.backoff,
            &self.name,
            action,
            |e| Some(e),
            || self.attempt(action, method, path, query, body),
        )
        .await
    }

    async fn attempt(
        &self,
        action: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: &str,
    ) -> Result<Element, ProviderError> {
        let endpoint = reqwest::Url::parse(&self.settings.endpoint).map_err(|_| {
            ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("invalid endpoint {:?}", self.settings.endpoint),
            )
        })?;
        let host = match (endpoint.host_str(), endpoint.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("endpoint {:?} has no host", self.settings.endpoint),
                ))
            }
        };
        // The endpoint may carry a path prefix (a proxy); it is part of what is signed.
        let full_path = format!("{}{path}", endpoint.path().trim_end_matches('/'));
        let mut signed: Vec<(&str, &str)> = vec![("host", host.as_str())];
        if !body.is_empty() {
            signed.push(("content-type", "text/xml"));
        }
        let sig = sigv4::sign(
            &SigV4Request {
                method: method.as_str(),
                path: &full_path,
                query,
                headers: &signed,
                payload: body.as_bytes(),
            },
            SCOPE,
            SigV4Credentials {
                access_key_id: &self.settings.access_key_id,
                secret_access_key: self.settings.secret_access_key.expose(),
                session_token: None,
            },
            self.clock.unix_secs(),
        );
        tracing::trace!(provider = %self.name, action, canonical_request = %sig.canonical_request, "signed");
        let mut url = format!(
            "{}://{host}{}",
            endpoint.scheme(),
            sigv4::uri_encode(&full_path, false)
        );
        if !sig.query.is_empty() {
            url.push('?');
            url.push_str(&sig.query);
        }
        let mut headers = vec![
            ("Host", host.clone()),
            ("X-Amz-Date", sig.amz_date.clone()),
            ("Authorization", sig.authorization.clone()),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type", "text/xml".to_owned()));
        }
        let resp = self
            .http
            .send(Request {
                method,
                url: &url,
                headers: &headers,
                body: body.as_bytes().to_vec(),
                timeout: self.timeout,
            })
            .await
            .map_err(|e| api::http_error(action, &e, method == Method::Post))?;
        tracing::debug!(provider = %self.name, action, status = resp.status, "reply");
        self.reply(action, &resp)
    }

    /// A reply's root element, or the error it carries.
    fn reply(&self, action: &str, resp: &HttpResponse) -> Result<Element, ProviderError> {
        let text = std::str::from_utf8(&resp.body)
            .map_err(|_| api::protocol(action, "the body is not utf-8"));
        let parsed =
            text.and_then(|t| xml::parse(t).map_err(|e| api::protocol(action, &e.to_string())));
        if resp.status == 200 {
            return parsed;
        }
        // `<ErrorResponse><Error>…` (Route 53) or `<ErrorResponse><Errors><Error>…` (the
        // query-protocol form some AWS front ends answer authentication failures with).
        let root = parsed.ok().filter(|root| root.name == "ErrorResponse");
        let error = root
            .as_ref()
            .and_then(|r| r.child("Error").or_else(|| r.at(&["Errors", "Error"])));
        let code = error.and_then(|e| e.text_at(&["Code"])).unwrap_or("");
        let message = error.and_then(|e| e.text_at(&["Message"])).unwrap_or("");
        let request_id = root
            .as_ref()
            .and_then(|r| r.text_at(&["RequestId"]))
            .unwrap_or("");
        tracing::debug!(provider = %self.name, action, status = resp.status, code, request_id, "api error");
        Err(error_for(
            action,
            resp.status,
            code,
            message,
            ReplyFacts {
                retry_after: resp.retry_after,
                server_offset: resp
                    .date
                    .map(|d| http::clock_offset_secs(d, self.clock.now())),
                local_now: self.clock.unix_secs(),
            },
        ))
    }

    /// The hosted zone of `name`: the configured id, else the remembered one, else found by
    /// name (cached for the process).
    async fn zone(&self, name: &Fqdn, hints: &ProviderHints) -> Result<Zone, ProviderError> {
        if let Some(id) = &self.settings.hosted_zone_id {
            return Ok(Zone {
                name: self.settings.zone.clone(),
                id: id.clone(),
            });
        }
        if let (Some(zone), Some(id)) = (
            hints
                .0
                .get(HINT_ZONE)
                .and_then(|z| Fqdn::parse_relaxed(z).ok()),
            hints.0.get(HINT_ZONE_ID).and_then(|i| bare_zone_id(i)),
        ) {
            let configured_ok = self.settings.zone.as_ref().is_none_or(|z| *z == zone);
            if name.is_within(&zone) && configured_ok {
                return Ok(Zone {
                    name: Some(zone),
                    id,
                });
            }
        }
        let cached = {
            let zones = self.lock_zones();
            let names: Vec<Fqdn> = zones.iter().map(|(z, _)| z.clone()).collect();
            let wanted = match &self.settings.zone {
                Some(z) => names.contains(z).then(|| z.clone()),
                None => longest_match(&names, name),
            };
            wanted.and_then(|w| zones.iter().find(|(z, _)| *z == w).cloned())
        };
        if let Some((zone, id)) = cached {
            return Ok(Zone {
                name: Some(zone),
                id,
            });
        }
        let candidates: Vec<Fqdn> = match &self.settings.zone {
            Some(z) => vec![z.clone()],
            // The name itself may be a zone apex; single labels (TLDs) are never hosted zones.
            None => std::iter::once(name.clone())
                .chain(name.ancestors())
                .filter(|c| c.as_str().contains('.'))
                .collect(),
        };
        for candidate in candidates {
            if let Some(id) = self.find_zone(&candidate).await? {
                self.lock_zones().push((candidate.clone(), id.clone()));
                return Ok(Zone {
                    name: Some(candidate),
                    id,
                });
            }
        }
        let what = match &self.settings.zone {
            Some(z) => format!("no public hosted zone named {z} in this AWS account"),
            None => format!("no public hosted zone of this AWS account contains {name}"),
        };
        Err(ProviderError::new(ProviderErrorKind::ZoneNotFound, what)
            .with_hint("create the hosted zone, or set hosted_zone_id in the provider's settings"))
    }

    fn lock_zones(&self) -> std::sync::MutexGuard<'_, Vec<(Fqdn, String)>> {
        self.zones.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id of the public hosted zone named exactly `zone` (ListHostedZonesByName lists
    /// zones *starting at* `dnsname`, so every entry is checked).
    async fn find_zone(&self, zone: &Fqdn) -> Result<Option<String>, ProviderError> {
        let action = "ListHostedZonesByName";
        let path = format!("/{API_VERSION}/hostedzonesbyname");
        let dotted = zone.dotted();
        let mut next_id: Option<String> = None;
        // Several zones may share a name (private ones, or one being migrated): page while
        // the listing has not moved past it, at most a few pages.
        for _ in 0..5 {
            let mut query = vec![("dnsname", dotted.as_str()), ("maxitems", "100")];
            if let Some(id) = &next_id {
                query.push(("hostedzoneid", id.as_str()));
            }
            let root = self.call(action, Method::Get, &path, &query, "").await?;
            expect_root(&root, action, "ListHostedZonesByNameResponse")?;
            let list = root
                .child("HostedZones")
                .ok_or_else(|| api::protocol(action, "no HostedZones element"))?;
            let mut past = false;
            for hz in list.children_named("HostedZone") {
                let name = hz
                    .text_at(&["Name"])
                    .ok_or_else(|| api::protocol(action, "a hosted zone without a Name"))?;
                let id = hz
                    .text_at(&["Id"])
                    .and_then(bare_zone_id)
                    .ok_or_else(|| api::protocol(action, "a hosted zone without a valid Id"))?;
                let private = hz.text_at(&["Config", "PrivateZone"]) == Some("true");
                match Fqdn::parse_relaxed(&unescape_name(name)) {
                    Ok(n) if n == *zone => {
                        if !private {
                            return Ok(Some(id));
                        }
                    }
                    _ => past = true,
                }
            }
            let truncated = root.text_at(&["IsTruncated"]) == Some("true");
            if past || !truncated {
                return Ok(None);
            }
            next_id = root.text_at(&["NextHostedZoneId"]).map(str::to_owned);
            if next_id.is_none() {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// The live simple record set of (name, type) in `zone`, if any.
    async fn live_set(
        &self,
        zone: &Zone,
        name: &Fqdn,
        rtype: RecordType,
    ) -> Result<Option<LiveSet>, ProviderError> {
        let action = "ListResourceRecordSets";
        let path = format!("/{API_VERSION}/hostedzone/{}/rrset", zone.id);
        let dotted = name.dotted();
        // The listing starts at (name, type); only its first entry can be the set.
        let query = [
            ("name", dotted.as_str()),
            ("type", rtype.as_str()),
            ("maxitems", "1"),
        ];
        let root = self.call(action, Method::Get, &path, &query, "").await?;
        expect_root(&root, action, "ListResourceRecordSetsResponse")?;
        let sets = root
            .child("ResourceRecordSets")
            .ok_or_else(|| api::protocol(action, "no ResourceRecordSets element"))?;
        let Some(set) = sets.children_named("ResourceRecordSet").next() else {
            return Ok(None);
        };
        let set_name = set
            .text_at(&["Name"])
            .ok_or_else(|| api::protocol(action, "a record set without a Name"))?;
        let set_type = set
            .text_at(&["Type"])
            .ok_or_else(|| api::protocol(action, "a record set without a Type"))?;
        let same_name = Fqdn::parse_relaxed(&unescape_name(set_name)).is_ok_and(|n| n == *name);
        if !same_name || set_type != rtype.as_str() {
            return Ok(None);
        }
        if set.child("AliasTarget").is_some()
            || set.child("SetIdentifier").is_some()
            || set.child("TrafficPolicyInstanceId").is_some()
        {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!(
                    "{name} {rtype} is an alias or routed record set in Route 53; ddnsd manages only simple record sets"
                ),
            )
            .with_hint("delete that record set in Route 53, or publish another name"));
        }
        let ttl = set
            .text_at(&["TTL"])
            .and_then(|t| t.parse::<u32>().ok())
            .ok_or_else(|| api::protocol(action, "a record set without a valid TTL"))?;
        let values = set
            .child("ResourceRecords")
            .map(|rr| {
                rr.children_named("ResourceRecord")
                    .filter_map(|r| r.text_at(&["Value"]).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(LiveSet { ttl, values }))
    }

    async fn change(&self, zone: &Zone, body: String) -> Result<(), ProviderError> {
        let action = "ChangeResourceRecordSets";
        let path = format!("/{API_VERSION}/hostedzone/{}/rrset/", zone.id);
        let root = self.call(action, Method::Post, &path, &[], &body).await?;
        expect_root(&root, action, "ChangeResourceRecordSetsResponse")?;
        let status = root.text_at(&["ChangeInfo", "Status"]).unwrap_or("");
        let id = root.text_at(&["ChangeInfo", "Id"]).unwrap_or("");
        if !matches!(status, "PENDING" | "INSYNC") {
            return Err(api::protocol(
                action,
                &format!("change status {status:?} is neither PENDING nor INSYNC"),
            ));
        }
        tracing::debug!(provider = %self.name, action, change = id, status, "accepted");
        Ok(())
    }

    /// `zone_id` (always) and `zone` (when the name is known). Their presence also tells a
    /// later apply that the set was read or written before.
    fn hints(zone: &Zone) -> ProviderHints {
        let mut h = ProviderHints::default();
        h.0.insert(HINT_ZONE_ID.into(), zone.id.clone());
        if let Some(name) = &zone.name {
            h.0.insert(HINT_ZONE.into(), name.to_string());
        }
        h
    }
}

/// `name`, `type`, `ttl` and `values` of one change.
#[derive(Clone, Copy, Debug)]
pub struct ChangeSet<'a> {
    /// `UPSERT` or `DELETE`.
    pub action: &'a str,
    /// The owner name.
    pub name: &'a Fqdn,
    /// A or AAAA.
    pub rtype: RecordType,
    /// The TTL.
    pub ttl: u32,
    /// The values (addresses), as Route 53 stores them.
    pub values: &'a [String],
}

/// The body of a ChangeResourceRecordSets request with `changes`, in order. Pure.
pub fn change_batch(changes: &[ChangeSet<'_>]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"{XMLNS}\"><ChangeBatch><Comment>ddnsd</Comment><Changes>"
    );
    for c in changes {
        out.push_str("<Change><Action>");
        out.push_str(&xml::escape(c.action));
        out.push_str("</Action><ResourceRecordSet><Name>");
        out.push_str(&xml::escape(&c.name.dotted()));
        out.push_str("</Name><Type>");
        out.push_str(c.rtype.as_str());
        out.push_str("</Type><TTL>");
        out.push_str(&c.ttl.to_string());
        out.push_str("</TTL><ResourceRecords>");
        for v in c.values {
            out.push_str("<ResourceRecord><Value>");
            out.push_str(&xml::escape(v));
            out.push_str("</Value></ResourceRecord>");
        }
        out.push_str("</ResourceRecords></ResourceRecordSet></Change>");
    }
    out.push_str("</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
    out
}

/// Facts of an error reply beyond its code.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplyFacts {
    /// The `Retry-After` header, if any.
    pub retry_after: Option<Duration>,
    /// Seconds the server's `Date` is ahead of the local clock, if it sent one.
    pub server_offset: Option<i64>,
    /// The local clock when the reply came (Unix seconds).
    pub local_now: u64,
}

/// Route 53's error codes → [`ProviderError`]: the one table of this adapter. Codes are from
/// the API reference (per-action errors) and AWS's common errors; only those documented as
/// permanent stop retries, anything else is transient.
pub fn error_for(
    action: &str,
    status: u16,
    code: &str,
    message: &str,
    facts: ReplyFacts,
) -> ProviderError {
    let text = if code.is_empty() {
        format!("{action} failed: http {status}")
    } else {
        format!("{action} failed: {code}: {message:?}")
    };
    let expired = code == "RequestExpired"
        || (code == "SignatureDoesNotMatch"
            && (message.starts_with("Signature expired")
                || message.starts_with("Signature not yet current")));
    if expired {
        // Prefer the Date header; else the server time the message quotes in parentheses
        // ("… (20231114T223320Z - 5 min.)").
        let offset = facts.server_offset.or_else(|| {
            let inner = message.rsplit_once('(')?.1;
            let stamp = inner.split_whitespace().next()?;
            let server = sigv4::parse_amz_date(stamp)?;
            Some(i64::try_from(server).ok()? - i64::try_from(facts.local_now).ok()?)
        });
        let mut e = ProviderError::new(
            ProviderErrorKind::ClockSkew {
                offset_secs: offset.unwrap_or(0),
            },
            format!("{action}: the provider rejected the request time ({code})"),
        );
        if offset.is_none() {
            e = e.with_hint(
                "this machine's clock differs from AWS's by more than 5 minutes; enable NTP",
            );
        }
        return e;
    }
    let kind = match code {
        "SignatureDoesNotMatch"
        | "InvalidClientTokenId"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "UnrecognizedClientException" => {
            return ProviderError::new(ProviderErrorKind::Auth, text).with_hint(format!(
                "check access_key_id/secret_access_key; the key's IAM policy needs {PERMISSIONS}"
            ))
        }
        "AccessDenied" | "AccessDeniedException" => {
            return ProviderError::new(ProviderErrorKind::Forbidden, text)
                .with_hint(format!("allow the key's IAM user {PERMISSIONS}"))
        }
        "NoSuchHostedZone" => {
            return ProviderError::new(ProviderErrorKind::ZoneNotFound, text)
                .with_hint("check hosted_zone_id: it must be a hosted zone of this AWS account")
        }
        "InvalidChangeBatch" | "InvalidInput" | "InvalidDomainName" => ProviderErrorKind::Rejected,
        "Throttling" | "ThrottlingException" => ProviderErrorKind::RateLimited {
            retry_after: facts.retry_after,
        },
        _ if status == 429 => ProviderErrorKind::RateLimited {
            retry_after: facts.retry_after,
        },
        // PriorRequestNotComplete is documented as "retry later"; 5xx and unknown codes
        // may pass.
        _ if code.is_empty() && (400..500).contains(&status) => {
            return api::protocol(action, &format!("unexpected http status {status}"))
        }
        _ => ProviderErrorKind::Transient,
    };
    ProviderError::new(kind, text)
}

fn expect_root(root: &Element, action: &str, name: &str) -> Result<(), ProviderError> {
    if root.name == name {
        Ok(())
    } else {
        Err(api::protocol(
            action,
            &format!("the root element is {:?}, not {name:?}", root.name),
        ))
    }
}

/// Route 53 writes some characters of names as `\ddd` octal escapes (`\052` for `*`).
fn unescape_name(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let digits = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let (b'\\', Some(d)) = (b[i], digits) {
            let v =
                u32::from(d[0] - b'0') * 64 + u32::from(d[1] - b'0') * 8 + u32::from(d[2] - b'0');
            if let Ok(c) = u8::try_from(v) {
                out.push(c);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn addrs_of(values: &[String]) -> AddrSet {
    values
        .iter()
        .filter_map(|v| v.parse::<IpAddr>().ok())
        .collect()
}

impl Provider for Route53 {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            let zone = self.zone(&key.name, hints).await?;
            let live = self.live_set(&zone, &key.name, key.rtype).await?;
            Ok(LiveRrSet {
                addrs: live
                    .as_ref()
                    .map(|l| addrs_of(&l.values))
                    .unwrap_or_default(),
                ttl: live.as_ref().map(|l| Ttl(l.ttl)),
                hints: Self::hints(&zone),
            })
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(async move {
            let zone = self.zone(&desired.name, hints).await?;
            let values: Vec<String> = desired.addrs.iter().map(IpAddr::to_string).collect();
            if desired.addrs.is_empty() {
                // DELETE must name the live set exactly (TTL and every value).
                let Some(live) = self.live_set(&zone, &desired.name, desired.rtype).await? else {
                    return Ok(Self::hints(&zone));
                };
                let body = change_batch(&[ChangeSet {
                    action: "DELETE",
                    name: &desired.name,
                    rtype: desired.rtype,
                    ttl: live.ttl,
                    values: &live.values,
                }]);
                return match self.change(&zone, body).await {
                    // Already gone (a retried DELETE whose first reply was lost).
                    Err(e)
                        if e.kind == ProviderErrorKind::Rejected
                            && e.message.contains("but it was not found") =>
                    {
                        Ok(Self::hints(&zone))
                    }
                    Err(e) => Err(e),
                    Ok(()) => Ok(Self::hints(&zone)),
                };
            }
            // With remembered hints the last write was ours: UPSERT replaces the whole set
            // whatever is live, so nothing needs reading. Without them (first run, lost
            // state) read first, so a set that is already right costs no write.
            if !hints.0.contains_key(HINT_ZONE_ID) {
                let live = self.live_set(&zone, &desired.name, desired.rtype).await?;
                if let Some(l) = live {
                    if addrs_of(&l.values) == desired.addrs
                        && l.values.len() == desired.addrs.len()
                        && l.ttl == desired.ttl.0
                    {
                        return Ok(Self::hints(&zone));
                    }
                }
            }
            let body = change_batch(&[ChangeSet {
                action: "UPSERT",
                name: &desired.name,
                rtype: desired.rtype,
                ttl: desired.ttl.0,
                values: &values,
            }]);
            self.change(&zone, body).await?;
            Ok(Self::hints(&zone))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Fqdn {
        Fqdn::parse_relaxed(s).unwrap()
    }

    #[test]
    fn change_batch_body() {
        let values = vec!["2001:db8::1".to_owned(), "2001:db8::2".to_owned()];
        let name = f("home.example.com");
        let body = change_batch(&[ChangeSet {
            action: "UPSERT",
            name: &name,
            rtype: RecordType::Aaaa,
            ttl: 300,
            values: &values,
        }]);
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Comment>ddnsd</Comment><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>home.example.com.</Name><Type>AAAA</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>2001:db8::1</Value></ResourceRecord><ResourceRecord><Value>2001:db8::2</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
        );
        // The body parses back with the same values.
        let root = xml::parse(&body).unwrap();
        let set = root
            .at(&["ChangeBatch", "Changes", "Change", "ResourceRecordSet"])
            .unwrap();
        assert_eq!(set.text_at(&["Name"]), Some("home.example.com."));
    }

    #[test]
    fn zone_ids() {
        for (input, want) in [
            ("Z0123456789ABC", Some("Z0123456789ABC")),
            ("/hostedzone/Z0123456789ABC", Some("Z0123456789ABC")),
            (" Z1 ", Some("Z1")),
            ("", None),
            ("/hostedzone/", None),
            ("Z1/../x", None),
            ("arn:aws:route53:::hostedzone/Z1", None),
        ] {
            assert_eq!(bare_zone_id(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn names_with_octal_escapes() {
        assert_eq!(unescape_name("\\052.example.com."), "*.example.com.");
        assert_eq!(unescape_name("a\\0"), "a\\0");
        assert_eq!(unescape_name("plain.example.com."), "plain.example.com.");
    }

    /// The error table, one row per documented code (and what unknown ones become).
    #[test]
    fn error_table() {
        use ProviderErrorKind as K;
        let facts = ReplyFacts {
            retry_after: Some(Duration::from_secs(3)),
            server_offset: Some(-400),
            local_now: 1_700_000_000,
        };
        let cases: &[(u16, &str, K)] = &[
            (403, "SignatureDoesNotMatch", K::Auth),
            (403, "InvalidClientTokenId", K::Auth),
            (403, "IncompleteSignature", K::Auth),
            (403, "MissingAuthenticationToken", K::Auth),
            (403, "AccessDenied", K::Forbidden),
            (404, "NoSuchHostedZone", K::ZoneNotFound),
            (400, "InvalidChangeBatch", K::Rejected),
            (400, "InvalidInput", K::Rejected),
            (400, "InvalidDomainName", K::Rejected),
            (
                400,
                "Throttling",
                K::RateLimited {
                    retry_after: Some(Duration::from_secs(3)),
                },
            ),
            (
                429,
                "",
                K::RateLimited {
                    retry_after: Some(Duration::from_secs(3)),
                },
            ),
            (400, "PriorRequestNotComplete", K::Transient),
            (400, "SomethingNew", K::Transient),
            (500, "InternalFailure", K::Transient),
            (503, "", K::Transient),
            (400, "", K::Protocol),
            (403, "RequestExpired", K::ClockSkew { offset_secs: -400 }),
        ];
        for (status, code, kind) in cases {
            let e = error_for("ChangeResourceRecordSets", *status, code, "m", facts);
            assert_eq!(&e.kind, kind, "{status} {code}");
        }
        let e = error_for(
            "ListResourceRecordSets",
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match",
            facts,
        );
        assert_eq!(
            e.to_string(),
            "ListResourceRecordSets failed: SignatureDoesNotMatch: \"The request signature we calculated does not match\""
        );
        assert_eq!(
            e.hint().as_deref(),
            Some("check access_key_id/secret_access_key; the key's IAM policy needs route53:ChangeResourceRecordSets and route53:ListResourceRecordSets on the hosted zone (and route53:ListHostedZonesByName unless hosted_zone_id is set)")
        );
    }

    #[test]
    fn expired_signatures_measure_the_offset() {
        let msg = "Signature expired: 20231114T221320Z is now earlier than 20231114T222820Z (20231114T223320Z - 5 min.)";
        let no_date = ReplyFacts {
            local_now: 1_700_000_000,
            ..ReplyFacts::default()
        };
        let e = error_for(
            "ChangeResourceRecordSets",
            403,
            "SignatureDoesNotMatch",
            msg,
            no_date,
        );
        assert_eq!(e.kind, ProviderErrorKind::ClockSkew { offset_secs: 1200 });
        assert_eq!(
            e.hint().as_deref(),
            Some("this machine's clock is 20m0s behind the provider's; enable NTP (`timedatectl set-ntp true`, or ntpd/chrony on a router)")
        );
        let with_date = ReplyFacts {
            server_offset: Some(1190),
            ..no_date
        };
        let e = error_for(
            "ChangeResourceRecordSets",
            403,
            "SignatureDoesNotMatch",
            msg,
            with_date,
        );
        assert_eq!(e.kind, ProviderErrorKind::ClockSkew { offset_secs: 1190 });
        let e = error_for("X", 400, "RequestExpired", "Request has expired.", no_date);
        assert_eq!(e.kind, ProviderErrorKind::ClockSkew { offset_secs: 0 });
        assert!(e.hint().unwrap().contains("more than 5 minutes"));
    }
}
