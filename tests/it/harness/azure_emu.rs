//! A local emulator of Microsoft Entra ID's client-credentials token endpoint and of Azure
//! Resource Manager's DNS zones (`Microsoft.Network/dnsZones`, api-version 2018-05-01), as two
//! servers (authority and management endpoint) sharing one state.
//!
//! The token endpoint (`POST /{tenant}/oauth2/v2.0/token`) checks the tenant, the client id,
//! the client secret, the grant type and the scope (`{management endpoint}/.default`) and
//! answers Entra's real error bodies (`AADSTS90002`, `AADSTS700016`, `AADSTS7000215`, …).
//! Every management call must carry a live token it issued for that audience (else ARM's
//! 401 `InvalidAuthenticationToken` / `ExpiredAuthenticationToken`) and the pinned
//! api-version. Implements the zone list of a resource group (paged: `$top`, an absolute
//! `nextLink` with `$skipToken`) and record-set GET / PUT / DELETE with etags (`If-Match`,
//! `If-None-Match: *` → 412 `PreconditionFailed`); a PUT replaces the whole set, metadata
//! included, exactly as sent. New zones get their SOA and NS sets. Fault injection: an HTTP
//! status, a hang, throttling (429 `SubscriptionRequestsThrottled` with `Retry-After`),
//! malformed, truncated or wrongly shaped bodies, and refusing writes to one name (403
//! `AuthorizationFailed`). Counts calls per operation (the token exchange included).
//! Behaviour follows `shared/providers/hyperscalers.md` §2.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::emu_http::{
    form_decode, percent_decode, EmuReply, EmuRequest, EmuServer, Outcome, Target,
};

/// The only api-version served.
pub const API_VERSION: &str = "2018-05-01";

/// One record set.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordSet {
    /// Relative name (`@` at the apex).
    pub name: String,
    /// `A`, `AAAA`, `TXT`, `NS`, `SOA`.
    pub rtype: String,
    /// TTL.
    pub ttl: u64,
    /// Values (addresses, texts, name servers).
    pub values: Vec<String>,
    /// `metadata`, as last written.
    pub metadata: Option<Value>,
    /// Its etag.
    pub etag: String,
}

/// One DNS zone.
#[derive(Clone, Debug)]
pub struct Zone {
    /// Name without the trailing dot.
    pub name: String,
    /// Its record sets.
    pub sets: Vec<RecordSet>,
}

/// A fault served instead of the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an HTML body.
    Status(u16),
    /// Never answer.
    Timeout,
    /// 429 `SubscriptionRequestsThrottled`, with `Retry-After` seconds if given.
    RateLimit(Option<u64>),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// The real reply cut in half.
    Truncated,
    /// `200 OK` with JSON of an unexpected shape.
    WrongShape,
}

/// An app registration.
#[derive(Clone, Debug)]
pub struct App {
    /// Its tenant.
    pub tenant: String,
    /// Its client secret.
    pub secret: String,
}

/// Everything the emulator knows; lock it with [`AzureEmu::state`].
#[derive(Debug)]
pub struct State {
    /// client id → app.
    pub apps: BTreeMap<String, App>,
    /// The subscription.
    pub subscription: String,
    /// The resource group.
    pub resource_group: String,
    /// The management endpoint (the tokens' audience).
    pub audience: String,
    /// Seconds added to the system clock.
    pub clock_offset: i64,
    /// Issued tokens → expiry (Unix seconds).
    pub tokens: BTreeMap<String, i64>,
    /// What issued tokens start with (tests put a marker in it).
    pub token_prefix: String,
    /// `expires_in` of issued tokens.
    pub token_lifetime: i64,
    /// The resource group's zones.
    pub zones: Vec<Zone>,
    /// Calls per operation, rejected ones included.
    pub calls: BTreeMap<String, u32>,
    /// Faults to serve, in order.
    pub faults: VecDeque<(Target, Fault)>,
    /// The operation of every request that got a fault.
    pub faulted: Vec<String>,
    /// Zones per page of the zone list (0 = `$top`).
    pub page_cap: usize,
    /// Writes to these names (FQDN) are refused with 403 `AuthorizationFailed`.
    pub refused: Vec<String>,
    /// Token requests refused.
    pub token_failures: u32,
    /// The last request of each operation that passed authentication.
    pub last_requests: BTreeMap<String, EmuRequest>,
    next_etag: u64,
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

    /// Adds a zone with its SOA and NS sets.
    pub fn add_zone(&mut self, name: &str) {
        let soa = RecordSet {
            name: "@".into(),
            rtype: "SOA".into(),
            ttl: 3600,
            values: vec!["ns1-01.azure-dns.com.".into()],
            metadata: None,
            etag: self.etag(),
        };
        let ns = RecordSet {
            name: "@".into(),
            rtype: "NS".into(),
            ttl: 172_800,
            values: vec![
                "ns1-01.azure-dns.com.".into(),
                "ns2-01.azure-dns.net.".into(),
                "ns3-01.azure-dns.org.".into(),
                "ns4-01.azure-dns.info.".into(),
            ],
            metadata: None,
            etag: self.etag(),
        };
        self.zones.push(Zone {
            name: name.into(),
            sets: vec![soa, ns],
        });
    }

    /// Adds a record set (relative name) with optional metadata.
    pub fn add_set(
        &mut self,
        zone: &str,
        name: &str,
        rtype: &str,
        ttl: u64,
        values: &[&str],
        metadata: Option<Value>,
    ) {
        let etag = self.etag();
        let z = self
            .zones
            .iter_mut()
            .find(|z| z.name == zone)
            .expect("zone exists");
        z.sets.push(RecordSet {
            name: name.into(),
            rtype: rtype.into(),
            ttl,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            metadata,
            etag,
        });
    }

    /// The record set of (relative name, type).
    pub fn set(&self, zone: &str, name: &str, rtype: &str) -> Option<RecordSet> {
        self.zones
            .iter()
            .find(|z| z.name == zone)?
            .sets
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name) && s.rtype == rtype)
            .cloned()
    }

    /// The sorted values of (relative name, type).
    pub fn values(&self, zone: &str, name: &str, rtype: &str) -> Vec<String> {
        let mut v = self
            .set(zone, name, rtype)
            .map(|s| s.values)
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Changes a set behind the client's back (a new etag).
    pub fn touch(&mut self, zone: &str, name: &str, rtype: &str, values: &[&str]) {
        let etag = self.etag();
        if let Some(s) = self
            .zones
            .iter_mut()
            .find(|z| z.name == zone)
            .and_then(|z| {
                z.sets
                    .iter_mut()
                    .find(|s| s.name == name && s.rtype == rtype)
            })
        {
            s.values = values.iter().map(|v| (*v).to_owned()).collect();
            s.etag = etag;
        }
    }

    fn etag(&mut self) -> String {
        self.next_etag += 1;
        format!(
            "{:08x}-0000-4000-8000-{:012x}",
            self.next_etag, self.next_etag
        )
    }

    fn now_secs(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + self.clock_offset
    }
}

/// The running servers; stop on drop.
pub struct AzureEmu {
    login: EmuServer,
    management: EmuServer,
    state: Arc<Mutex<State>>,
}

impl AzureEmu {
    /// Starts both servers for `subscription` / `resource_group`, with no app and no zone.
    pub fn start(subscription: &str, resource_group: &str) -> AzureEmu {
        let state = Arc::new(Mutex::new(State {
            apps: BTreeMap::new(),
            subscription: subscription.into(),
            resource_group: resource_group.into(),
            audience: String::new(),
            clock_offset: 0,
            tokens: BTreeMap::new(),
            token_prefix: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.emu-".into(),
            token_lifetime: 3599,
            zones: Vec::new(),
            calls: BTreeMap::new(),
            faults: VecDeque::new(),
            faulted: Vec::new(),
            page_cap: 0,
            refused: Vec::new(),
            token_failures: 0,
            last_requests: BTreeMap::new(),
            next_etag: 0,
        }));
        let st = state.clone();
        let login = EmuServer::start(Arc::new(move |req: &EmuRequest| handle(req, &st, true, "")));
        let st = state.clone();
        let management_base: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
        let base = management_base.clone();
        let management = EmuServer::start(Arc::new(move |req: &EmuRequest| {
            let b = base.lock().unwrap_or_else(|p| p.into_inner()).clone();
            handle(req, &st, false, &b)
        }));
        *management_base.lock().unwrap() = management.endpoint();
        state.lock().unwrap().audience = management.endpoint();
        AzureEmu {
            login,
            management,
            state,
        }
    }

    /// The management endpoint.
    pub fn endpoint(&self) -> String {
        self.management.endpoint()
    }

    /// The authority.
    pub fn authority(&self) -> String {
        self.login.endpoint()
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers app `client_id` in `tenant` with `secret`.
    pub fn add_app(&self, tenant: &str, client_id: &str, secret: &str) {
        self.state().apps.insert(
            client_id.into(),
            App {
                tenant: tenant.into(),
                secret: secret.into(),
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

    /// Refuses writes to `fqdn`.
    pub fn refuse(&self, fqdn: &str) {
        self.state().refused.push(fqdn.into());
    }
}

fn arm_error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (status, json!({"error": {"code": code, "message": message}}))
}

fn aad_error(status: u16, error: &str, code: u64, text: &str) -> (u16, Value) {
    let trace = format!("{:032x}", rand::random::<u128>());
    (
        status,
        json!({"error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {trace}\r\nTimestamp: 2025-01-01 00:00:00Z"),
            "error_codes": [code], "timestamp": "2025-01-01 00:00:00Z", "trace_id": trace,
            "correlation_id": trace, "error_uri": format!("https://login.microsoftonline.com/error?code={code}")}),
    )
}

/// The operation a request is, and its path's zone, type and name.
fn route(login: bool, method: &str, path: &str) -> (&'static str, Vec<String>) {
    let decoded = percent_decode(path, false);
    let parts: Vec<String> = decoded
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let p: Vec<&str> = parts.iter().map(String::as_str).collect();
    if login {
        return match (method, p.as_slice()) {
            ("POST", [tenant, "oauth2", "v2.0", "token"]) => ("token", vec![(*tenant).into()]),
            _ => ("unknown", vec![]),
        };
    }
    match (method, p.as_slice()) {
        (
            "GET",
            ["subscriptions", s, "resourceGroups", g, "providers", "Microsoft.Network", "dnsZones"],
        ) => (
            "DnsZones_ListByResourceGroup",
            vec![(*s).into(), (*g).into()],
        ),
        (
            m,
            ["subscriptions", s, "resourceGroups", g, "providers", "Microsoft.Network", "dnsZones", z, t, n],
        ) => {
            let op = match m {
                "GET" => "RecordSets_Get",
                "PUT" => "RecordSets_CreateOrUpdate",
                "DELETE" => "RecordSets_Delete",
                _ => "unknown",
            };
            (
                op,
                vec![
                    (*s).into(),
                    (*g).into(),
                    (*z).into(),
                    (*t).into(),
                    (*n).into(),
                ],
            )
        }
        _ => ("unknown", vec![]),
    }
}

fn handle(req: &EmuRequest, state: &Arc<Mutex<State>>, login: bool, base: &str) -> Outcome {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let (op, parts) = route(login, &req.method, &req.path);
    *st.calls.entry(op.to_owned()).or_default() += 1;
    let read = op == "token" || req.method == "GET";
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
            "application/json; charset=utf-8".to_owned(),
        ),
        (
            "x-ms-request-id".to_owned(),
            format!("{:032x}", rand::random::<u128>()),
        ),
    ];
    match &fault {
        Some(Fault::Timeout) => return Outcome::Hang,
        Some(Fault::Status(code)) => {
            headers[1].1 = "text/html".into();
            return Outcome::Reply(EmuReply {
                status: *code,
                headers,
                body: b"<html><body><h2>Service Unavailable</h2></body></html>".to_vec(),
            });
        }
        Some(Fault::RateLimit(retry_after)) => {
            if let Some(s) = retry_after {
                headers.push(("Retry-After".into(), s.to_string()));
            }
            let (status, body) = arm_error(429, "SubscriptionRequestsThrottled", "Number of 'write' requests for subscription exceeded. Please try again after some time.");
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
    let (status, body, etag) = if login {
        let (s, b) = token(
            &mut st,
            req,
            parts.first().map(String::as_str).unwrap_or(""),
        );
        (s, b, None)
    } else {
        match authorize(&st, req) {
            Err((s, b)) => (s, b, None),
            Ok(()) => {
                st.last_requests.insert(op.to_owned(), req.clone());
                api(&mut st, op, &parts, req, base)
            }
        }
    };
    if let Some(e) = etag {
        headers.push(("ETag".into(), e));
    }
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
        body: if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).expect("json")
        },
    })
}

fn token(st: &mut State, req: &EmuRequest, tenant: &str) -> (u16, Value) {
    st.last_requests.insert("token".into(), req.clone());
    let form: BTreeMap<String, String> = form_decode(&req.body).into_iter().collect();
    let fail = |st: &mut State, e: (u16, Value)| {
        st.token_failures += 1;
        e
    };
    if !st.apps.values().any(|a| a.tenant == tenant) {
        return fail(st, aad_error(400, "invalid_request", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")));
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return fail(
            st,
            aad_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            ),
        );
    }
    let client = form.get("client_id").cloned().unwrap_or_default();
    let Some(app) = st.apps.get(&client).filter(|a| a.tenant == tenant).cloned() else {
        return fail(st, aad_error(400, "unauthorized_client", 700016, &format!("Application with identifier '{client}' was not found in the directory '{tenant}'.")));
    };
    match form.get("client_secret") {
        None => return fail(st, aad_error(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")),
        Some(s) if *s != app.secret => return fail(st, aad_error(401, "invalid_client", 7000215, &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'."))),
        Some(_) => {}
    }
    let want_scope = format!("{}/.default", st.audience);
    if form.get("scope") != Some(&want_scope) {
        return fail(st, aad_error(400, "invalid_scope", 1002012, &format!("The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", form.get("scope").cloned().unwrap_or_default())));
    }
    let token = format!("{}{:032x}", st.token_prefix, rand::random::<u128>());
    let expiry = st.now_secs() + st.token_lifetime;
    st.tokens.insert(token.clone(), expiry);
    (
        200,
        json!({"token_type": "Bearer", "expires_in": st.token_lifetime,
        "ext_expires_in": st.token_lifetime, "access_token": token}),
    )
}

fn authorize(st: &State, req: &EmuRequest) -> Result<(), (u16, Value)> {
    let Some(auth) = req.header("authorization") else {
        return Err(arm_error(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let token = auth.strip_prefix("Bearer ").unwrap_or("");
    match st.tokens.get(token) {
        Some(exp) if *exp > st.now_secs() => {}
        Some(_) => {
            return Err(arm_error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            ))
        }
        None => {
            return Err(arm_error(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
            ))
        }
    }
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    match q.get("api-version") {
        None => Err(arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )),
        Some(v) if v != API_VERSION => Err(arm_error(
            400,
            "InvalidApiVersionParameter",
            &format!(
                "The api-version '{v}' is invalid. The supported versions are '{API_VERSION}'."
            ),
        )),
        Some(_) => Ok(()),
    }
}

fn list_field(rtype: &str) -> Option<(&'static str, &'static str)> {
    match rtype {
        "A" => Some(("ARecords", "ipv4Address")),
        "AAAA" => Some(("AAAARecords", "ipv6Address")),
        "NS" => Some(("NSRecords", "nsdname")),
        _ => None,
    }
}

fn set_json(base: &str, sub: &str, rg: &str, zone: &str, s: &RecordSet) -> Value {
    let mut props = Map::new();
    if let Some(m) = &s.metadata {
        props.insert("metadata".into(), m.clone());
    }
    props.insert("TTL".into(), json!(s.ttl));
    let fqdn = if s.name == "@" {
        format!("{zone}.")
    } else {
        format!("{}.{zone}.", s.name)
    };
    props.insert("fqdn".into(), json!(fqdn));
    props.insert("provisioningState".into(), json!("Succeeded"));
    match (s.rtype.as_str(), list_field(&s.rtype)) {
        (_, Some((field, key))) => {
            props.insert(
                field.into(),
                Value::Array(s.values.iter().map(|v| json!({key: v})).collect()),
            );
        }
        ("TXT", None) => {
            props.insert(
                "TXTRecords".into(),
                Value::Array(s.values.iter().map(|v| json!({"value": [v]})).collect()),
            );
        }
        ("SOA", None) => {
            props.insert("SOARecord".into(), json!({"host": s.values.first(), "email": "azuredns-hostmaster.microsoft.com", "serialNumber": 1, "refreshTime": 3600, "retryTime": 300, "expireTime": 2419200, "minimumTTL": 300}));
        }
        _ => {}
    }
    let _ = base;
    json!({"id": format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnszones/{zone}/{}/{}", s.rtype, s.name),
        "name": s.name, "type": format!("Microsoft.Network/dnszones/{}", s.rtype), "etag": s.etag,
        "properties": Value::Object(props)})
}

fn api(
    st: &mut State,
    op: &str,
    parts: &[String],
    req: &EmuRequest,
    base: &str,
) -> (u16, Value, Option<String>) {
    let plain = |(s, b): (u16, Value)| (s, b, None);
    if parts.first() != Some(&st.subscription) {
        return plain(arm_error(
            404,
            "SubscriptionNotFound",
            &format!(
                "The subscription '{}' could not be found.",
                parts.first().cloned().unwrap_or_default()
            ),
        ));
    }
    if !parts
        .get(1)
        .is_some_and(|g| g.eq_ignore_ascii_case(&st.resource_group))
    {
        return plain(arm_error(
            404,
            "ResourceGroupNotFound",
            &format!(
                "Resource group '{}' could not be found.",
                parts.get(1).cloned().unwrap_or_default()
            ),
        ));
    }
    let (sub, rg) = (st.subscription.clone(), st.resource_group.clone());
    let q: BTreeMap<String, String> = req.query().into_iter().collect();
    if op == "DnsZones_ListByResourceGroup" {
        let top = q
            .get("$top")
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(100)
            .clamp(1, 100);
        let top = if st.page_cap == 0 {
            top
        } else {
            top.min(st.page_cap)
        };
        let start = q
            .get("$skipToken")
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0)
            .min(st.zones.len());
        let end = (start + top).min(st.zones.len());
        let value: Vec<Value> = st.zones[start..end]
            .iter()
            .map(|z| json!({"id": format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnszones/{}", z.name),
                "name": z.name, "type": "Microsoft.Network/dnszones", "etag": "00000002-0000-0000-0000-000000000000",
                "location": "global", "tags": {}, "properties": {"maxNumberOfRecordSets": 10000,
                "numberOfRecordSets": z.sets.len(), "nameServers": ["ns1-01.azure-dns.com."], "zoneType": "Public"}}))
            .collect();
        let mut body = json!({"value": value});
        if end < st.zones.len() {
            body["nextLink"] = json!(format!("{base}/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones?api-version={API_VERSION}&$top={top}&$skipToken={end}"));
        }
        return (200, body, None);
    }
    let [_, _, zone, rtype, name] = parts else {
        return plain(arm_error(
            400,
            "InvalidRequestFormat",
            "Cannot parse the request.",
        ));
    };
    let Some(zi) = st
        .zones
        .iter()
        .position(|z| z.name.eq_ignore_ascii_case(zone))
    else {
        return plain(arm_error(404, "ParentResourceNotFound", &format!("Can not perform requested operation on nested resource. Parent resource '{zone}' not found.")));
    };
    let zone_name = st.zones[zi].name.clone();
    let pos = st.zones[zi]
        .sets
        .iter()
        .position(|s| s.name.eq_ignore_ascii_case(name) && s.rtype == *rtype);
    let fqdn = if name == "@" {
        zone_name.clone()
    } else {
        format!("{name}.{zone_name}")
    };
    let not_found = || {
        arm_error(404, "NotFound", &format!("The resource record '{name}' does not exist in resource group '{rg}' of subscription '{sub}'."))
    };
    let refused = || {
        arm_error(403, "AuthorizationFailed", &format!("The client 'ddnsd' with object id '00000000-0000-0000-0000-000000000000' does not have authorization to perform action 'Microsoft.Network/dnszones/{rtype}/write' over scope '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnszones/{zone_name}/{rtype}/{name}' or the scope is invalid. If access was recently granted, please refresh your credentials."))
    };
    let precondition = || {
        arm_error(412, "PreconditionFailed", &format!("The Resource 'Microsoft.Network/dnszones/{zone_name}/{rtype}/{name}' under resource group '{rg}' was modified or already exists; the precondition (If-Match / If-None-Match) does not hold."))
    };
    match op {
        "RecordSets_Get" => match pos {
            Some(i) => {
                let s = st.zones[zi].sets[i].clone();
                (200, set_json(base, &sub, &rg, &zone_name, &s), Some(s.etag))
            }
            None => plain(not_found()),
        },
        "RecordSets_Delete" => {
            if st.refused.contains(&fqdn) {
                return plain(refused());
            }
            let Some(i) = pos else {
                return (204, Value::Null, None);
            };
            if let Some(m) = req.header("if-match") {
                if m != st.zones[zi].sets[i].etag && m != "*" {
                    return plain(precondition());
                }
            }
            st.zones[zi].sets.remove(i);
            (200, Value::Null, None)
        }
        "RecordSets_CreateOrUpdate" => {
            if let Some(m) = req.header("if-match") {
                if pos.is_none_or(|i| m != st.zones[zi].sets[i].etag && m != "*") {
                    return plain(precondition());
                }
            }
            if req.header("if-none-match") == Some("*") && pos.is_some() {
                return plain(precondition());
            }
            let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                return plain(arm_error(
                    400,
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized.",
                ));
            };
            let Some(props) = body.get("properties").and_then(Value::as_object) else {
                return plain(arm_error(
                    400,
                    "BadRequest",
                    "The request is missing properties.",
                ));
            };
            let Some(ttl) = props.get("TTL").and_then(Value::as_u64) else {
                return plain(arm_error(
                    400,
                    "BadRequest",
                    "The TTL of the record set is missing.",
                ));
            };
            let Some((field, key)) = list_field(rtype) else {
                return plain(arm_error(
                    400,
                    "BadRequest",
                    "This emulator writes only A, AAAA and NS record sets.",
                ));
            };
            for other in [
                "ARecords",
                "AAAARecords",
                "TXTRecords",
                "CNAMERecord",
                "MXRecords",
            ] {
                if other != field && props.contains_key(other) {
                    return plain(arm_error(
                        400,
                        "BadRequest",
                        &format!("The record set of type '{rtype}' cannot contain {other}."),
                    ));
                }
            }
            let mut values = Vec::new();
            for item in props
                .get(field)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let v = item
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let ok = match rtype.as_str() {
                    "A" => v.parse::<std::net::Ipv4Addr>().is_ok(),
                    "AAAA" => v.parse::<std::net::Ipv6Addr>().is_ok(),
                    _ => !v.is_empty(),
                };
                if !ok {
                    return plain(arm_error(
                        400,
                        "BadRequest",
                        &format!("The value '{v}' is not valid for a record of type {rtype}."),
                    ));
                }
                values.push(v);
            }
            if st.refused.contains(&fqdn) {
                return plain(refused());
            }
            let etag = st.etag();
            let set = RecordSet {
                name: name.clone(),
                rtype: rtype.clone(),
                ttl,
                values,
                metadata: props.get("metadata").cloned(),
                etag: etag.clone(),
            };
            let status = match pos {
                Some(i) => {
                    st.zones[zi].sets[i] = set.clone();
                    200
                }
                None => {
                    st.zones[zi].sets.push(set.clone());
                    201
                }
            };
            (
                status,
                set_json(base, &sub, &rg, &zone_name, &set),
                Some(etag),
            )
        }
        _ => plain(arm_error(
            400,
            "InvalidRequestFormat",
            "Cannot parse the request.",
        )),
    }
}
