//! A local emulator of Google's OAuth 2.0 token endpoint and Cloud DNS API v1, on one
//! server: `POST /token` trades a service account's JWT assertion for an access token only
//! after verifying it as Google does (RS256 signature under the account's public key, `kid`,
//! `iss`, `aud`, scope, a lifetime of at most an hour around the server's clock), and every
//! API call must carry a live token it issued (else Google's 401 body).
//!
//! Implements `managedZones.list` (`dnsName` filter), `resourceRecordSets.list` (`name` /
//! `type` filters, `type` only with `name`), both paged with `maxResults` / `pageToken`, and
//! `changes.create`: atomic, each deletion must match a live RRset exactly (else `412
//! conditionNotMet`), an addition may not exist after the deletions (`409 alreadyExists`) and
//! must lie in the zone. New zones get their SOA and NS RRsets. Errors use the standard
//! Google JSON error. Fault injection: an HTTP status, a hang, throttling (429
//! `rateLimitExceeded` with `Retry-After`), malformed, truncated or wrongly shaped bodies,
//! and refusing changes to one name (403 `forbidden`). Counts calls per operation (the token
//! exchange included) and keeps the last request of each. Behaviour follows
//! `shared/providers/hyperscalers.md` §1.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::emu_http::{form_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target};

/// The audience Google requires of an assertion.
pub const AUDIENCE: &str = "https://oauth2.googleapis.com/token";
/// The scopes that allow Cloud DNS.
pub const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/ndev.clouddns.readwrite",
    "https://www.googleapis.com/auth/cloud-platform",
];
/// Google's wording for an assertion outside its time window.
pub const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

/// One RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrSet {
    /// Name with the trailing dot.
    pub name: String,
    /// Type.
    pub rtype: String,
    /// TTL.
    pub ttl: u64,
    /// Values.
    pub rrdatas: Vec<String>,
}

/// One managed zone.
#[derive(Clone, Debug)]
pub struct ManagedZone {
    /// Its name (`example-test`).
    pub name: String,
    /// Its DNS name with the trailing dot.
    pub dns_name: String,
    /// Its numeric id.
    pub id: u64,
    /// `public` or `private`.
    pub visibility: String,
    /// Its RRsets.
    pub rrsets: Vec<RrSet>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body.
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 `rateLimitExceeded`, with `Retry-After` seconds if given.
    RateLimit(Option<u64>),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// The real reply cut in half.
    Truncated,
    /// `200 OK` with JSON of an unexpected shape.
    WrongShape,
}

/// A service account the token endpoint knows.
#[derive(Clone, Debug)]
pub struct Account {
    /// `private_key_id` (the JWT's `kid`).
    pub key_id: String,
    /// Its public key, DER `RSAPublicKey`.
    pub public_key: Vec<u8>,
}

/// Everything the emulator knows; lock it with [`GcloudEmu::state`].
#[derive(Debug)]
pub struct State {
    /// client_email → account.
    pub accounts: BTreeMap<String, Account>,
    /// The project.
    pub project: String,
    /// Seconds added to the system clock for the server's own time.
    pub clock_offset: i64,
    /// Issued tokens → expiry (Unix seconds).
    pub tokens: BTreeMap<String, i64>,
    /// What issued tokens start with (tests put a marker in it).
    pub token_prefix: String,
    /// `expires_in` of issued tokens.
    pub token_lifetime: i64,
    /// The project's managed zones.
    pub zones: Vec<ManagedZone>,
    /// Calls per operation, rejected ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order.
    pub faults: VecDeque<(Target, Fault)>,
    /// The operation of every request that got a fault.
    pub faulted: Vec<String>,
    /// Largest page returned (0 = as asked, at most 1000).
    pub page_cap: usize,
    /// Changes touching these names (with the dot) are refused with 403 `forbidden`.
    pub refused: Vec<String>,
    /// Assertions refused.
    pub assertion_failures: u32,
    /// The last request of each operation that passed authentication.
    pub last_requests: BTreeMap<String, EmuRequest>,
    /// Bodies of every accepted change, in order.
    pub changes: Vec<Value>,
}

impl State {
    /// Calls of `op`.
    pub fn count(&self, op: &str) -> u32 {
        self.calls.get(op).copied().unwrap_or(0)
    }

    /// Calls of every operation.
    pub fn total_calls(&self) -> u32 {
        self.calls.values().sum()
    }

    /// Adds a public managed zone (`example.test` → `example-test`) with SOA and NS.
    pub fn add_zone(&mut self, dns_name: &str) -> String {
        let name = dns_name.replace('.', "-");
        let dotted = format!("{dns_name}.");
        self.zones.push(ManagedZone {
            name: name.clone(),
            dns_name: dotted.clone(),
            id: 4_000_000_000_000_000_000 + self.zones.len() as u64,
            visibility: "public".into(),
            rrsets: vec![
                RrSet {
                    name: dotted.clone(),
                    rtype: "SOA".into(),
                    ttl: 21_600,
                    rrdatas: vec!["ns-cloud-a1.googledomains.com. cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300".into()],
                },
                RrSet {
                    name: dotted,
                    rtype: "NS".into(),
                    ttl: 21_600,
                    rrdatas: (1..=4)
                        .map(|i| format!("ns-cloud-a{i}.googledomains.com."))
                        .collect(),
                },
            ],
        });
        name
    }

    /// Adds an RRset to the zone whose DNS name is `zone`.
    pub fn add_rrset(&mut self, zone: &str, name: &str, rtype: &str, ttl: u64, rrdatas: &[&str]) {
        let z = self.zone_mut(zone).expect("zone exists");
        z.rrsets.push(RrSet {
            name: format!("{name}."),
            rtype: rtype.into(),
            ttl,
            rrdatas: rrdatas.iter().map(|s| (*s).to_owned()).collect(),
        });
    }

    /// The RRset of (name, type) in zone `zone` (DNS names without dots).
    pub fn rrset(&self, zone: &str, name: &str, rtype: &str) -> Option<RrSet> {
        self.zones
            .iter()
            .find(|z| z.dns_name == format!("{zone}."))?
            .rrsets
            .iter()
            .find(|s| s.name == format!("{name}.") && s.rtype == rtype)
            .cloned()
    }

    /// The sorted values of (name, type).
    pub fn values(&self, zone: &str, name: &str, rtype: &str) -> Vec<String> {
        let mut v = self
            .rrset(zone, name, rtype)
            .map(|s| s.rrdatas)
            .unwrap_or_default();
        v.sort();
        v
    }

    fn zone_mut(&mut self, dns_name: &str) -> Option<&mut ManagedZone> {
        self.zones
            .iter_mut()
            .find(|z| z.dns_name == format!("{dns_name}."))
    }

    fn now_secs(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + self.clock_offset
    }
}

/// A running emulator; stops on drop.
pub struct GcloudEmu {
    server: EmuServer,
    state: Arc<Mutex<State>>,
}

impl GcloudEmu {
    /// Starts an emulator of project `project` with no account and no zone.
    pub fn start(project: &str) -> GcloudEmu {
        let state = Arc::new(Mutex::new(State {
            accounts: BTreeMap::new(),
            project: project.to_owned(),
            clock_offset: 0,
            tokens: BTreeMap::new(),
            token_prefix: "ya29.emu-".into(),
            token_lifetime: 3599,
            zones: Vec::new(),
            calls: BTreeMap::new(),
            faults: VecDeque::new(),
            faulted: Vec::new(),
            page_cap: 0,
            refused: Vec::new(),
            assertion_failures: 0,
            last_requests: BTreeMap::new(),
            changes: Vec::new(),
        }));
        let st = state.clone();
        let server = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st)));
        GcloudEmu { server, state }
    }

    /// `http://127.0.0.1:PORT` (the API).
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// The token endpoint.
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.server.endpoint())
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Trusts the key `pem` for `client_email` under `key_id`.
    pub fn add_account(&self, client_email: &str, key_id: &str, pem: &str) {
        let key = ddnsd::provider::sign::google_jwt::SigningKey::from_pem(pem).expect("a test key");
        self.state().accounts.insert(
            client_email.to_owned(),
            Account {
                key_id: key_id.to_owned(),
                public_key: key.public_key_der(),
            },
        );
    }

    /// Queues a fault for the next call (of `op`, if given).
    pub fn inject(&self, op: Option<&str>, fault: Fault) {
        self.inject_on(Target::of(op), fault);
    }

    /// Queues a fault for the next call `target` hits.
    pub fn inject_on(&self, target: Target, fault: Fault) {
        self.state().faults.push_back((target, fault));
    }

    /// Refuses changes to `fqdn` (no trailing dot).
    pub fn refuse(&self, fqdn: &str) {
        self.state().refused.push(format!("{fqdn}."));
    }
}

/// The standard Google JSON error.
fn google_error(code: u16, reason: &str, message: &str, status: &str) -> (u16, Value) {
    (
        code,
        json!({"error": {"code": code, "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status}}),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> (u16, Value) {
    (
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// The operation a request is, and the project and zone in its path.
fn route(method: &str, path: &str) -> (&'static str, Option<String>, Option<String>) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", ["token"]) => ("token", None, None),
        ("GET", ["dns", "v1", "projects", p, "managedZones"]) => {
            ("managedZones.list", Some((*p).into()), None)
        }
        ("GET", ["dns", "v1", "projects", p, "managedZones", z, "rrsets"]) => {
            ("rrsets.list", Some((*p).into()), Some((*z).into()))
        }
        ("POST", ["dns", "v1", "projects", p, "managedZones", z, "changes"]) => {
            ("changes.create", Some((*p).into()), Some((*z).into()))
        }
        _ => ("unknown", None, None),
    }
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let (op, project, zone) = route(&req.method, &req.path);
    *st.calls.entry(op.to_owned()).or_default() += 1;
    let read = op != "changes.create";
    let pos = st.faults.iter().position(|(t, _)| t.hits(op, read));
    let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
    if fault.is_some() {
        st.faulted.push(op.to_owned());
    }
    let now = UNIX_EPOCH + Duration::from_secs(st.now_secs().max(0) as u64);
    let mut headers = vec![
        ("Date".to_owned(), httpdate::fmt_http_date(now)),
        (
            "Content-Type".to_owned(),
            "application/json; charset=UTF-8".to_owned(),
        ),
    ];
    match &fault {
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Status(code)) => {
            headers[1].1 = "text/html; charset=UTF-8".into();
            return Outcome::Reply(EmuReply {
                status: *code,
                headers,
                body:
                    b"<!DOCTYPE html><html><title>Error 503 (Service Unavailable)!!1</title></html>"
                        .to_vec(),
            });
        }
        Some(Fault::RateLimit(retry_after)) => {
            if let Some(s) = retry_after {
                headers.push(("Retry-After".into(), s.to_string()));
            }
            let (status, body) = google_error(
                429,
                "rateLimitExceeded",
                "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute' of service 'dns.googleapis.com'.",
                "RESOURCE_EXHAUSTED",
            );
            return reply(status, headers, &body);
        }
        Some(Fault::Malformed) => {
            headers[1].1 = "text/html".into();
            return Outcome::Reply(EmuReply {
                status: 200,
                headers,
                body: b"<html>maintenance</html>".to_vec(),
            });
        }
        Some(Fault::WrongShape) => return reply(200, headers, &json!({"unexpected": true})),
        Some(Fault::Truncated) | None => {}
    }
    let (status, body) = if op == "token" {
        token(&mut st, req)
    } else {
        match authorize(&st, req) {
            Err(e) => e,
            Ok(()) => {
                st.last_requests.insert(op.to_owned(), req.clone());
                api(&mut st, op, project.as_deref(), zone.as_deref(), req)
            }
        }
    };
    if fault == Some(Fault::Truncated) {
        let bytes = serde_json::to_vec(&body).expect("json");
        return Outcome::Reply(EmuReply {
            status,
            headers,
            body: bytes[..bytes.len() / 2].to_vec(),
        });
    }
    reply(status, headers, &body)
}

fn reply(status: u16, headers: Vec<(String, String)>, body: &Value) -> Outcome {
    Outcome::Reply(EmuReply {
        status,
        headers,
        body: serde_json::to_vec(body).expect("json"),
    })
}

/// The token endpoint: verifies the assertion, issues a token.
fn token(st: &mut State, req: &EmuRequest) -> (u16, Value) {
    st.last_requests.insert("token".into(), req.clone());
    let form: BTreeMap<String, String> = form_decode(&req.body).into_iter().collect();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return oauth_error(400, "unsupported_grant_type", "Invalid grant_type: ");
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error(
            400,
            "invalid_request",
            "Missing required parameter: assertion",
        );
    };
    match check_assertion(st, assertion) {
        Ok(()) => {
            let token = format!("{}{:032x}", st.token_prefix, rand::random::<u128>());
            let expiry = st.now_secs() + st.token_lifetime;
            st.tokens.insert(token.clone(), expiry);
            (
                200,
                json!({"access_token": token, "expires_in": st.token_lifetime, "token_type": "Bearer"}),
            )
        }
        Err(e) => {
            st.assertion_failures += 1;
            e
        }
    }
}

fn check_assertion(st: &State, jwt: &str) -> Result<(), (u16, Value)> {
    let invalid = |d: &str| oauth_error(400, "invalid_grant", d);
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err(invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."));
    }
    let decode = |s: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).ok()?).ok()
    };
    let (Some(header), Some(claims)) = (decode(parts[0]), decode(parts[1])) else {
        return Err(invalid("Invalid JWT Signature."));
    };
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(invalid("Invalid JWT Signature."));
    }
    let Some(iss) = claims.get("iss").and_then(Value::as_str) else {
        return Err(invalid("Invalid JWT: No issuer specified."));
    };
    let Some(account) = st.accounts.get(iss) else {
        return Err(oauth_error(
            400,
            "invalid_grant",
            "Invalid grant: account not found",
        ));
    };
    if header
        .get("kid")
        .and_then(Value::as_str)
        .is_some_and(|k| k != account.key_id)
    {
        return Err(invalid("Invalid JWT Signature."));
    }
    let Ok(sig) = URL_SAFE_NO_PAD.decode(parts[2]) else {
        return Err(invalid("Invalid JWT Signature."));
    };
    let signed = format!("{}.{}", parts[0], parts[1]);
    if ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &account.public_key,
    )
    .verify(signed.as_bytes(), &sig)
    .is_err()
    {
        return Err(invalid("Invalid JWT Signature."));
    }
    if claims.get("aud").and_then(Value::as_str) != Some(AUDIENCE) {
        return Err(invalid("Invalid JWT: Failed audience check. The right audience is https://oauth2.googleapis.com/token"));
    }
    let (Some(iat), Some(exp)) = (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return Err(invalid(TIMEFRAME));
    };
    let now = st.now_secs();
    if exp - iat > 3600 || exp <= iat || iat > now + 300 || exp < now {
        return Err(invalid(TIMEFRAME));
    }
    let scope = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    if !scope.split(' ').any(|s| SCOPES.contains(&s)) {
        return Err(oauth_error(
            400,
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        ));
    }
    Ok(())
}

/// A live bearer token the token endpoint issued.
fn authorize(st: &State, req: &EmuRequest) -> Result<(), (u16, Value)> {
    let token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    match st.tokens.get(token) {
        Some(exp) if *exp > st.now_secs() => Ok(()),
        _ => Err(google_error(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "UNAUTHENTICATED",
        )),
    }
}

fn rrset_json(s: &RrSet) -> Value {
    json!({"kind": "dns#resourceRecordSet", "name": s.name, "type": s.rtype, "ttl": s.ttl,
        "rrdatas": s.rrdatas})
}

fn zone_json(z: &ManagedZone) -> Value {
    json!({"kind": "dns#managedZone", "name": z.name, "dnsName": z.dns_name,
        "id": z.id.to_string(), "description": "", "visibility": z.visibility,
        "nameServers": (1..=4).map(|i| format!("ns-cloud-a{i}.googledomains.com.")).collect::<Vec<_>>(),
        "creationTime": "2024-01-02T03:04:05.678Z"})
}

/// One page of `items` by `maxResults` / `pageToken` (the opaque token holds an offset).
fn page<T: Clone>(
    st: &State,
    q: &BTreeMap<String, String>,
    items: &[T],
) -> Result<(Vec<T>, Option<String>), (u16, Value)> {
    let max = match q.get("maxResults") {
        None => 1000,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(1000),
            _ => {
                return Err(google_error(
                    400,
                    "invalid",
                    &format!("Invalid value for 'maxResults': '{v}'"),
                    "INVALID_ARGUMENT",
                ))
            }
        },
    };
    let max = if st.page_cap == 0 {
        max
    } else {
        max.min(st.page_cap)
    };
    let start = match q.get("pageToken") {
        None => 0,
        Some(t) => match URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix("offset:")
                    .and_then(|n| n.parse::<usize>().ok())
            }) {
            Some(n) => n,
            None => {
                return Err(google_error(
                    400,
                    "invalid",
                    "Invalid value for 'pageToken'",
                    "INVALID_ARGUMENT",
                ))
            }
        },
    };
    let start = start.min(items.len());
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| URL_SAFE_NO_PAD.encode(format!("offset:{end}")));
    Ok((items[start..end].to_vec(), next))
}

fn api(
    st: &mut State,
    op: &str,
    project: Option<&str>,
    zone: Option<&str>,
    req: &EmuRequest,
) -> (u16, Value) {
    if project != Some(st.project.as_str()) {
        return google_error(
            403,
            "forbidden",
            "The caller does not have permission",
            "PERMISSION_DENIED",
        );
    }
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    let zone_idx = zone.and_then(|z| {
        st.zones
            .iter()
            .position(|m| m.name == z || m.id.to_string() == z)
    });
    let missing = |z: Option<&str>| {
        google_error(
            404,
            "notFound",
            &format!(
                "The 'parameters.managedZone' resource named '{}' does not exist.",
                z.unwrap_or("")
            ),
            "NOT_FOUND",
        )
    };
    match op {
        "managedZones.list" => {
            let matching: Vec<ManagedZone> = st
                .zones
                .iter()
                .filter(|z| {
                    q.get("dnsName")
                        .is_none_or(|d| d.trim_end_matches('.') == z.dns_name.trim_end_matches('.'))
                })
                .cloned()
                .collect();
            let (items, next) = match page(st, &q, &matching) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let mut body = json!({"kind": "dns#managedZonesListResponse",
                "managedZones": items.iter().map(zone_json).collect::<Vec<_>>()});
            if let Some(n) = next {
                body["nextPageToken"] = json!(n);
            }
            (200, body)
        }
        "rrsets.list" => {
            let Some(zi) = zone_idx else {
                return missing(zone);
            };
            if q.contains_key("type") && !q.contains_key("name") {
                return google_error(
                    400,
                    "invalid",
                    "Invalid value for 'type': it requires 'name'",
                    "INVALID_ARGUMENT",
                );
            }
            let name = q.get("name").map(|n| n.to_ascii_lowercase());
            let matching: Vec<RrSet> = st.zones[zi]
                .rrsets
                .iter()
                .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
                .filter(|s| q.get("type").is_none_or(|t| &s.rtype == t))
                .cloned()
                .collect();
            let (items, next) = match page(st, &q, &matching) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let mut body = json!({"kind": "dns#resourceRecordSetsListResponse",
                "rrsets": items.iter().map(rrset_json).collect::<Vec<_>>()});
            if let Some(n) = next {
                body["nextPageToken"] = json!(n);
            }
            (200, body)
        }
        "changes.create" => {
            let Some(zi) = zone_idx else {
                return missing(zone);
            };
            let Ok(change) = serde_json::from_slice::<Value>(&req.body) else {
                return google_error(
                    400,
                    "parseError",
                    "This API does not support parsing form-encoded input.",
                    "INVALID_ARGUMENT",
                );
            };
            let parse = |field: &str| -> Result<Vec<RrSet>, (u16, Value)> {
                let mut out = Vec::new();
                for (i, e) in change
                    .get(field)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    let name = e
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    let rtype = e
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    let ttl = e.get("ttl").and_then(Value::as_u64);
                    let rrdatas: Vec<String> = e
                        .get("rrdatas")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    let invalid = |what: &str, v: &str| {
                        google_error(
                            400,
                            "invalid",
                            &format!(
                                "Invalid value for 'entity.change.{field}[{i}].{what}': '{v}'"
                            ),
                            "INVALID_ARGUMENT",
                        )
                    };
                    if !name.ends_with('.') {
                        return Err(invalid("name", &name));
                    }
                    let Some(ttl) = ttl else {
                        return Err(google_error(
                            400,
                            "required",
                            &format!(
                                "Required field 'entity.change.{field}[{i}].ttl' not specified"
                            ),
                            "INVALID_ARGUMENT",
                        ));
                    };
                    if rrdatas.is_empty() {
                        return Err(google_error(
                            400,
                            "required",
                            &format!(
                                "Required field 'entity.change.{field}[{i}].rrdata' not specified"
                            ),
                            "INVALID_ARGUMENT",
                        ));
                    }
                    for v in &rrdatas {
                        let ok = match rtype.as_str() {
                            "A" => v.parse::<std::net::Ipv4Addr>().is_ok(),
                            "AAAA" => v.parse::<std::net::Ipv6Addr>().is_ok(),
                            "" => false,
                            _ => true,
                        };
                        if !ok {
                            return Err(invalid("rrdata", v));
                        }
                    }
                    out.push(RrSet {
                        name,
                        rtype,
                        ttl,
                        rrdatas,
                    });
                }
                Ok(out)
            };
            let (deletions, additions) = match (parse("deletions"), parse("additions")) {
                (Ok(d), Ok(a)) => (d, a),
                (Err(e), _) | (_, Err(e)) => return e,
            };
            if deletions.is_empty() && additions.is_empty() {
                return google_error(
                    400,
                    "required",
                    "The 'entity.change' resource is empty.",
                    "INVALID_ARGUMENT",
                );
            }
            let zone_name = st.zones[zi].dns_name.clone();
            for (i, a) in additions.iter().enumerate() {
                if a.name != zone_name && !a.name.ends_with(&format!(".{zone_name}")) {
                    return google_error(
                        400,
                        "invalid",
                        &format!(
                            "Invalid value for 'entity.change.additions[{i}].name': '{}'",
                            a.name
                        ),
                        "INVALID_ARGUMENT",
                    );
                }
            }
            if additions
                .iter()
                .chain(&deletions)
                .any(|s| st.refused.contains(&s.name))
            {
                return google_error(403, "forbidden", "Forbidden", "PERMISSION_DENIED");
            }
            let mut sets = st.zones[zi].rrsets.clone();
            for (i, d) in deletions.iter().enumerate() {
                let mut want = d.rrdatas.clone();
                want.sort();
                let pos = sets.iter().position(|s| {
                    let mut have = s.rrdatas.clone();
                    have.sort();
                    s.name == d.name && s.rtype == d.rtype && s.ttl == d.ttl && have == want
                });
                match pos {
                    Some(p) => {
                        sets.remove(p);
                    }
                    None => {
                        return google_error(
                            412,
                            "conditionNotMet",
                            &format!("Precondition not met for 'entity.change.deletions[{i}]'"),
                            "FAILED_PRECONDITION",
                        )
                    }
                }
            }
            for (i, a) in additions.iter().enumerate() {
                if sets.iter().any(|s| s.name == a.name && s.rtype == a.rtype) {
                    return google_error(409, "alreadyExists", &format!("The resource 'entity.change.additions[{i}]' named '{} ({})' already exists", a.name, a.rtype), "ALREADY_EXISTS");
                }
                sets.push(a.clone());
            }
            st.zones[zi].rrsets = sets;
            st.changes.push(change.clone());
            let id = st.changes.len();
            let mut out = json!({"kind": "dns#change", "id": id.to_string(), "status": "pending",
                "startTime": httpdate::fmt_http_date(SystemTime::now())});
            out["additions"] = json!(additions.iter().map(rrset_json).collect::<Vec<_>>());
            out["deletions"] = json!(deletions.iter().map(rrset_json).collect::<Vec<_>>());
            (200, out)
        }
        _ => google_error(404, "notFound", "Not Found", "NOT_FOUND"),
    }
}
