//! Route 53 for the tests: a real `moto_server` (PyPI `moto[server]`, installed into a venv
//! under `target/` on first use) started on a free loopback port from a temp dir and killed
//! on drop, with moto's IAM authentication switched on — from then on moto recomputes every
//! request's SigV4 signature with botocore and refuses a wrong one (SignatureDoesNotMatch),
//! an unknown key (InvalidClientTokenId) or an action the key's policy does not allow
//! (AccessDenied).
//!
//! moto 5.2.5 cannot check GET requests: it hashes the query parameters as if they were the
//! body, so every signed GET fails, boto3's own included (checked by hand). So the proxy in
//! front of moto (the endpoint the provider is given) checks the signature of every GET
//! itself, recomputing it with the crate's signer for the key the request names (that signer
//! is pinned to botocore byte for byte in `route53.rs` and to AWS's test suite in its unit
//! tests), answers a wrong one as Route 53 does, and lets a correct one through moto's
//! authentication once (`/moto-api/reset-auth`). POSTs (ChangeResourceRecordSets) are
//! checked by moto itself, with botocore.
//!
//! The proxy also counts calls per action, checks the request time as Route 53 does (moto
//! does not: more than 5 minutes off → `SignatureDoesNotMatch` "Signature expired: …"),
//! refuses changes to chosen names with `InvalidChangeBatch`, and injects faults (5xx,
//! `Throttling`, timeouts, malformed and truncated XML). Everything else is forwarded byte for
//! byte, so moto sees the signed request as the provider sent it.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ddnsd::provider::route53::xml;
use ddnsd::provider::sign::sigv4::{self, SigV4Credentials, SigV4Request, SigV4Scope};

pub use super::emu_http::Target;
use super::emu_http::{
    exchange, forward, percent_decode, EmuReply, EmuRequest, EmuServer, Outcome,
};

/// A fault served instead of forwarding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body (a gateway error).
    Status(u16),
    /// Route 53's `Throttling` error (HTTP 400 "Rate exceeded"), with `Retry-After` if given.
    Throttling(Option<u64>),
    /// Never answer.
    Timeout,
    /// 200 with a body that is not XML.
    Malformed,
    /// 200 with moto's real reply cut in half.
    Truncated,
}

/// What the proxy knows; lock it with [`Route53Lab::state`].
#[derive(Debug, Default)]
pub struct ProxyState {
    /// Calls per action (`ListHostedZonesByName`, `ListResourceRecordSets`,
    /// `ChangeResourceRecordSets`, …), faulted and refused ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order, each to the first request its target matches.
    pub faults: VecDeque<(Target, Fault)>,
    /// The action of every request that got a fault, in order.
    pub faulted: Vec<String>,
    /// Record names (no trailing dot) whose changes are refused with `InvalidChangeBatch`.
    pub refused: Vec<String>,
    /// Seconds added to the proxy's clock when it checks `X-Amz-Date`.
    pub clock_offset: i64,
    /// The bodies of the change requests forwarded, in order.
    pub changes: Vec<String>,
    /// Access key id → secret, for checking GET signatures.
    pub keys: BTreeMap<String, String>,
    /// GET signatures the proxy checked and found right.
    pub verified_gets: u32,
    /// moto checks signatures itself (IAM on): the proxy checks only GETs and lets each one
    /// through moto's authentication. Off: the proxy checks every request.
    pub moto_iam: bool,
}

impl ProxyState {
    /// Total calls.
    pub fn total_calls(&self) -> u32 {
        self.calls.values().sum()
    }

    /// Calls of `action`.
    pub fn count(&self, action: &str) -> u32 {
        self.calls.get(action).copied().unwrap_or(0)
    }
}

/// One record set as moto holds it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Set {
    /// Name with the trailing dot.
    pub name: String,
    /// Type.
    pub rtype: String,
    /// TTL.
    pub ttl: u32,
    /// Values, sorted.
    pub values: Vec<String>,
}

/// A seed record set: (zone, name, type, ttl, values).
pub type Seed<'a> = (&'a str, &'a str, &'a str, u32, &'a [&'a str]);

/// moto_server, its users and zones, and the proxy; everything stops on drop.
pub struct Route53Lab {
    proxy: EmuServer,
    state: Arc<Mutex<ProxyState>>,
    moto_port: u16,
    child: Child,
    _dir: tempfile::TempDir,
    /// Access key allowed `route53:*`.
    pub writer: (String, String),
    /// Access key allowed only `route53:List*` and `route53:Get*`.
    pub reader: (String, String),
    /// Hosted zone ids by name.
    pub zones: BTreeMap<String, String>,
}

impl Drop for Route53Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A venv under `target/` with `moto[server]` and `boto3`, created (and the packages
/// installed with pip) when missing. Panics, so the test fails, when that is impossible.
pub fn moto_venv() -> PathBuf {
    super::sdk::venv(
        "moto-venv",
        &["moto[server]", "boto3"],
        "moto.server, boto3, flask",
    )
}

impl Route53Lab {
    /// Starts moto with `zones` (public hosted zones) and `seeds`, switches IAM
    /// authentication on, and starts the proxy.
    pub fn start(zones: &[&str], seeds: &[Seed<'_>]) -> Route53Lab {
        Route53Lab::start_with(zones, seeds, None)
    }

    /// Like [`Route53Lab::start`], but with `key` (id, secret) as the one key, checked by the
    /// proxy on every request, and moto's authentication off (moto cannot be given a chosen
    /// secret). `writer` is then `key` and `reader` is empty.
    pub fn start_with_key(zones: &[&str], seeds: &[Seed<'_>], key: (String, String)) -> Route53Lab {
        Route53Lab::start_with(zones, seeds, Some(key))
    }

    fn start_with(zones: &[&str], seeds: &[Seed<'_>], key: Option<(String, String)>) -> Route53Lab {
        let venv = moto_venv();
        let dir = tempfile::tempdir().unwrap();
        let port = super::free_port();
        let log = std::fs::File::create(dir.path().join("moto.log")).unwrap();
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start moto_server");
        let mut lab = Route53Lab {
            proxy: EmuServer::start(Arc::new(|_: &EmuRequest| Outcome::Hang)),
            state: Arc::new(Mutex::new(ProxyState::default())),
            moto_port: port,
            child,
            _dir: dir,
            writer: Default::default(),
            reader: Default::default(),
            zones: BTreeMap::new(),
        };
        lab.wait_ready();
        let cfg = serde_json::json!({
            "endpoint": format!("http://127.0.0.1:{port}"),
            "zones": zones,
            "records": seeds.iter().map(|(zone, name, rtype, ttl, values)| serde_json::json!({
                "zone": zone, "name": name, "type": rtype, "ttl": ttl, "values": values})).collect::<Vec<_>>(),
            "iam": key.is_none(),
        });
        let mut setup = Command::new(venv.join("bin/python"))
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/moto_setup.py"))
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        setup
            .stdin
            .take()
            .unwrap()
            .write_all(cfg.to_string().as_bytes())
            .unwrap();
        let out = setup.wait_with_output().unwrap();
        assert!(out.status.success(), "moto setup failed");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let pair = |k: &str| {
            (
                v[k][0].as_str().unwrap().to_owned(),
                v[k][1].as_str().unwrap().to_owned(),
            )
        };
        match key {
            None => {
                lab.writer = pair("writer");
                lab.reader = pair("reader");
            }
            Some(k) => lab.writer = k,
        }
        for (name, id) in v["zones"].as_object().unwrap() {
            lab.zones
                .insert(name.clone(), id.as_str().unwrap().to_owned());
        }
        {
            let mut st = lab.state();
            st.moto_iam = !lab.reader.0.is_empty();
            st.keys.insert(lab.writer.0.clone(), lab.writer.1.clone());
            if st.moto_iam {
                st.keys.insert(lab.reader.0.clone(), lab.reader.1.clone());
            }
        }
        let st = lab.state.clone();
        lab.proxy = EmuServer::start_async(move |req| proxy(req, st.clone(), port));
        lab
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = raw(self.moto_port, "GET", "/moto-api/", &[], b"") {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto_server exited: {status}");
            }
            assert!(Instant::now() < deadline, "moto_server did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The provider's endpoint: the proxy.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.proxy.addr())
    }

    /// Locks the proxy's state.
    pub fn state(&self) -> MutexGuard<'_, ProxyState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the call counters.
    pub fn reset_calls(&self) {
        let mut st = self.state();
        st.calls.clear();
        st.changes.clear();
    }

    /// Queues a fault for the next call (of `action`, if given).
    pub fn inject(&self, action: Option<&str>, fault: Fault) {
        self.inject_on(Target::of(action), fault);
    }

    /// Queues a fault for the next request `target` matches.
    pub fn inject_on(&self, target: Target, fault: Fault) {
        self.state().faults.push_back((target, fault));
    }

    /// The id of the hosted zone `name`.
    pub fn zone_id(&self, name: &str) -> String {
        self.zones[name].clone()
    }

    /// Sends a request signed with the writer's key straight to moto (not counted).
    fn admin(&self, method: &str, path: &str, query: &[(&str, &str)], body: &str) -> String {
        let host = format!("127.0.0.1:{}", self.moto_port);
        let mut signed = vec![("host", host.as_str())];
        if !body.is_empty() {
            signed.push(("content-type", "text/xml"));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let sig = sigv4::sign(
            &SigV4Request {
                method,
                path,
                query,
                headers: &signed,
                payload: body.as_bytes(),
            },
            SigV4Scope {
                region: "us-east-1",
                service: "route53",
            },
            SigV4Credentials {
                access_key_id: &self.writer.0,
                secret_access_key: &self.writer.1,
                session_token: None,
            },
            now,
        );
        let target = if sig.query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", sig.query)
        };
        let mut headers = vec![
            ("X-Amz-Date".to_owned(), sig.amz_date.clone()),
            ("Authorization".to_owned(), sig.authorization.clone()),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type".to_owned(), "text/xml".to_owned()));
        }
        if method == "GET" && self.state().moto_iam {
            // moto cannot check GET signatures (see the module header): let this one through.
            let plain = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
            let (status, _) = raw(self.moto_port, "POST", "/moto-api/reset-auth", &plain, b"1")
                .expect("talk to moto");
            assert_eq!(status, 200, "moto reset-auth");
        }
        let (status, text) =
            raw(self.moto_port, method, &target, &headers, body.as_bytes()).expect("talk to moto");
        assert_eq!(status, 200, "{method} {path}: {text}");
        text
    }

    /// Every record set of the zone `zone` (sorted).
    pub fn sets(&self, zone: &str) -> Vec<Set> {
        let path = format!("/2013-04-01/hostedzone/{}/rrset", self.zone_id(zone));
        let text = self.admin("GET", &path, &[("maxitems", "300")], "");
        let root = xml::parse(&text).unwrap();
        let mut out: Vec<Set> = root
            .child("ResourceRecordSets")
            .unwrap()
            .children_named("ResourceRecordSet")
            .map(|s| {
                let mut values: Vec<String> = s
                    .child("ResourceRecords")
                    .map(|r| {
                        r.children_named("ResourceRecord")
                            .map(|v| v.text_at(&["Value"]).unwrap().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                values.sort();
                Set {
                    name: s.text_at(&["Name"]).unwrap().to_owned(),
                    rtype: s.text_at(&["Type"]).unwrap().to_owned(),
                    ttl: s.text_at(&["TTL"]).map_or(0, |t| t.parse().unwrap()),
                    values,
                }
            })
            .collect();
        out.sort();
        out
    }

    /// The set (name, type) of `zone`, if any (`name` without the trailing dot).
    pub fn set(&self, zone: &str, name: &str, rtype: &str) -> Option<Set> {
        let dotted = format!("{name}.");
        self.sets(zone)
            .into_iter()
            .find(|s| s.name == dotted && s.rtype == rtype)
    }

    /// Every set of `zone` except (name, type).
    pub fn others(&self, zone: &str, name: &str, rtype: &str) -> Vec<Set> {
        let dotted = format!("{name}.");
        self.sets(zone)
            .into_iter()
            .filter(|s| !(s.name == dotted && s.rtype == rtype))
            .collect()
    }

    /// UPSERTs a set directly in moto (not counted).
    pub fn upsert(&self, zone: &str, name: &str, rtype: &str, ttl: u32, values: &[&str]) {
        let path = format!("/2013-04-01/hostedzone/{}/rrset/", self.zone_id(zone));
        let records: String = values
            .iter()
            .map(|v| format!("<ResourceRecord><Value>{v}</Value></ResourceRecord>"))
            .collect();
        let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>{name}.</Name><Type>{rtype}</Type><TTL>{ttl}</TTL><ResourceRecords>{records}</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
        self.admin("POST", &path, &[], &body);
    }
}

/// One blocking exchange with moto (`Host` added); (status, body).
fn raw(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut all = vec![("Host".to_owned(), format!("127.0.0.1:{port}"))];
    all.extend_from_slice(headers);
    let moto = SocketAddr::from(([127, 0, 0, 1], port));
    let reply = exchange(moto, &EmuRequest::new(method, target, all, body))?;
    Ok((
        reply.status,
        String::from_utf8_lossy(&reply.body).into_owned(),
    ))
}

fn action_of(method: &str, path: &str) -> &'static str {
    let p = path.trim_end_matches('/');
    if p.ends_with("/hostedzonesbyname") {
        "ListHostedZonesByName"
    } else if p.ends_with("/rrset") && method == "GET" {
        "ListResourceRecordSets"
    } else if p.ends_with("/rrset") && method == "POST" {
        "ChangeResourceRecordSets"
    } else if p.contains("/hostedzone/") && method == "GET" {
        "GetHostedZone"
    } else {
        "Other"
    }
}

fn aws_error(status: u16, code: &str, message: &str) -> EmuReply {
    EmuReply::new(
        status,
        "text/xml",
        format!("<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>9e1f8a3c-0000-4000-8000-000000000000</RequestId></ErrorResponse>", xml::escape(message)),
    )
}

async fn proxy(req: EmuRequest, st: Arc<Mutex<ProxyState>>, moto_port: u16) -> Outcome {
    let action = action_of(&req.method, &req.path);
    let fault = {
        let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
        *s.calls.entry(action.to_owned()).or_default() += 1;
        let write = req.method != "GET";
        let pos = s.faults.iter().position(|(t, _)| t.hits(action, !write));
        let fault = pos.and_then(|i| s.faults.remove(i)).map(|(_, f)| f);
        if fault.is_some() {
            s.faulted.push(action.to_owned());
        }
        match &fault {
            Some(Fault::Status(code)) => {
                return Outcome::Reply(EmuReply::new(
                    *code,
                    "text/html",
                    "<html><body>service unavailable</body></html>",
                ))
            }
            Some(Fault::Throttling(after)) => {
                let r = aws_error(400, "Throttling", "Rate exceeded");
                return Outcome::Reply(match after {
                    Some(a) => r.with_header("Retry-After", &a.to_string()),
                    None => r,
                });
            }
            Some(Fault::Timeout) => return Outcome::Hang,
            Some(Fault::Malformed) => {
                return Outcome::Reply(EmuReply::new(200, "text/xml", "{\"this is\": \"not xml\"}"))
            }
            _ => {}
        }
        // Route 53 refuses a request time more than 5 minutes off its clock.
        if let Some(stamp) = req.header("x-amz-date") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                .saturating_add_signed(s.clock_offset);
            if let Some(t) = sigv4::parse_amz_date(stamp) {
                let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(now));
                if t + 300 < now {
                    return Outcome::Reply(
                        aws_error(
                            403,
                            "SignatureDoesNotMatch",
                            &format!(
                                "Signature expired: {stamp} is now earlier than {} ({} - 5 min.)",
                                sigv4::amz_date(now - 300),
                                sigv4::amz_date(now)
                            ),
                        )
                        .with_header("Date", &date),
                    );
                }
                if t > now + 300 {
                    return Outcome::Reply(
                        aws_error(
                            403,
                            "SignatureDoesNotMatch",
                            &format!(
                        "Signature not yet current: {stamp} is still later than {} ({} + 5 min.)",
                        sigv4::amz_date(now + 300),
                        sigv4::amz_date(now)
                    ),
                        )
                        .with_header("Date", &date),
                    );
                }
            }
        }
        if req.method == "GET" || !s.moto_iam {
            if let Err(reply) = check_signature(&req, &s.keys) {
                return Outcome::Reply(reply);
            }
            if req.method == "GET" {
                s.verified_gets += 1;
            }
        }
        if action == "ChangeResourceRecordSets" {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            for name in &s.refused {
                if body.contains(&format!("<Name>{name}.</Name>")) {
                    return Outcome::Reply(aws_error(
                        400,
                        "InvalidChangeBatch",
                        &format!(
                            "[RRSet with DNS name {name}. is not permitted in zone by the test]"
                        ),
                    ));
                }
            }
            s.changes.push(body);
        }
        (fault, s.moto_iam)
    };
    let (fault, moto_iam) = fault;
    let moto = SocketAddr::from(([127, 0, 0, 1], moto_port));
    if req.method == "GET" && moto_iam {
        // Checked above; let this one request through moto's authentication.
        let reset = EmuRequest::new(
            "POST",
            "/moto-api/reset-auth",
            vec![
                ("Host".into(), "127.0.0.1".into()),
                ("Content-Type".into(), "text/plain".into()),
            ],
            "1",
        );
        match forward(moto, &reset).await {
            Ok(r) => assert_eq!(r.status, 200, "moto reset-auth"),
            Err(_) => return Outcome::Close,
        }
    }
    // Forward byte for byte (the Host header included: it is signed).
    let Ok(mut reply) = forward(moto, &req).await else {
        return Outcome::Close;
    };
    if fault == Some(Fault::Truncated) {
        reply.body.truncate(reply.body.len() / 2);
        reply.status = 200;
    }
    Outcome::Reply(reply)
}

/// Checks a request's SigV4 `Authorization` as Route 53 would: the key must be known
/// (`InvalidClientTokenId`), the signature recomputed over the signed headers, the path, the
/// query and the body must match (`SignatureDoesNotMatch`).
fn check_signature(req: &EmuRequest, keys: &BTreeMap<String, String>) -> Result<(), EmuReply> {
    let bad = || {
        aws_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    };
    let missing = || {
        aws_error(
            403,
            "MissingAuthenticationToken",
            "Missing Authentication Token",
        )
    };
    let auth = req.header("authorization").ok_or_else(missing)?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .ok_or_else(bad)?;
    let (cred, rest) = rest.split_once(", SignedHeaders=").ok_or_else(bad)?;
    let (signed, signature) = rest.split_once(", Signature=").ok_or_else(bad)?;
    let parts: Vec<&str> = cred.split('/').collect();
    let [key_id, _date, region, service, "aws4_request"] = parts[..] else {
        return Err(bad());
    };
    let Some(secret) = keys.get(key_id) else {
        return Err(aws_error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    };
    let stamp = req.header("x-amz-date").ok_or_else(bad)?;
    let when = sigv4::parse_amz_date(stamp).ok_or_else(bad)?;
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in signed.split(';') {
        if name == "x-amz-date" {
            continue;
        }
        headers.push((name, req.header(name).ok_or_else(bad)?));
    }
    let query = req.query();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let path = percent_decode(&req.path, false);
    let sig = sigv4::sign(
        &SigV4Request {
            method: &req.method,
            path: &path,
            query: &query,
            headers: &headers,
            payload: &req.body,
        },
        SigV4Scope { region, service },
        SigV4Credentials {
            access_key_id: key_id,
            secret_access_key: secret,
            session_token: None,
        },
        when,
    );
    if sig.signature != signature
        || !sig
            .authorization
            .contains(&format!("SignedHeaders={signed},"))
    {
        return Err(bad());
    }
    Ok(())
}
