//! `kind = "dyndns2"`: the dyndns2 "Members NIC Update API" (`GET /nic/update?hostname=…&myip=…`
//! with HTTP Basic auth) spoken by Dyn, No-IP, Dynu, deSEC, nsupdate.info and many others.
//!
//! Owns the request format (where each family's addresses go, [`Dialect`]), the named
//! [`Preset`]s, and the meaning of every answer (`good`, `nochg`, `badauth`, `911`, …) in one
//! table ([`judge`]). Reference: `shared/providers/dyndns2-and-others.md` §1.
//!
//! The protocol has no read call. [`Provider::read_rrset`] therefore reads nothing: it reports
//! the addresses the service last acknowledged, as remembered in the record's hints, or an
//! empty set when nothing is remembered (see `docs/design/providers.md`, "write-only kinds").
//! Answers the protocol says must stop the client (`badauth`, `abuse`, `badagent`, a blocked
//! client's `good 127.0.0.1`) stop this provider until the config is reloaded; `911` stops it
//! for at least 30 minutes.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::future::BoxFuture;
use serde::Deserialize;
use toml::Spanned;

use super::kit::api;
use super::{
    human_duration, Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError,
    ProviderErrorKind, ProviderHints,
};
use crate::clock::Clock;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::http::{Backoff, HttpClient, HttpResponse, Method, Request};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RrSet, Ttl};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "dyndns2",
    about: "dyndns2 update URL (No-IP, Dynu, deSEC, nsupdate.info, …): HTTP Basic auth, no read API",
    example: r#"[providers.noip]
kind = "dyndns2"
preset = "noip"                      # noip | dynu | desec | nsupdate.info, or:
# server = "https://dynupdate.no-ip.com/nic/update"   # the service's update URL
username = "you@example.com"         # deSEC: the domain; nsupdate.info: the host name
password_env = "NOIP_PASSWORD"       # or password / password_file (deSEC: a token)
# hostname = "home.ddns.net"         # the name the service knows, if not the record's name
# ipv6_param = "myipv6"              # where IPv6 addresses go (default: myip, like IPv4)
# keep_other = "preserve"            # what the other family's parameter says to keep it as is
# multiple_addresses = true          # the service takes comma-separated lists
# zone = "ddns.net"                  # records outside it are refused
"#,
    configure,
};

/// How long a `911` answer (outage, maintenance) stops the provider, as the protocol asks.
pub const OUTAGE_PAUSE: Duration = Duration::from_secs(30 * 60);

/// The second half of every hint of an answer that stops the provider.
const RELOAD: &str =
    "nothing more is sent to this service until the config is reloaded (`systemctl reload ddnsd`)";

/// Hint keys remembered after an acknowledged update.
const HINT_HOSTNAME: &str = "hostname";
const HINT_PUBLISHED: &str = "published";
const HINT_TTL: &str = "ttl";

/// Where a service takes each family's addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// The query parameter for IPv4 addresses (`myip`).
    pub ipv4_param: String,
    /// The query parameter for IPv6 addresses (`myip`, or `myipv6` where a service wants it).
    pub ipv6_param: String,
    /// Sent in the other family's parameter so the service keeps that family's record as it
    /// is (deSEC `preserve`, Dynu `no`); only used when the two parameters differ.
    pub keep_other: Option<String>,
    /// The service accepts several addresses of one family as a comma-separated list.
    pub multiple_addresses: bool,
}

impl Default for Dialect {
    /// Plain dyndns2: every address in `myip`, one address per update.
    fn default() -> Dialect {
        Dialect {
            ipv4_param: "myip".into(),
            ipv6_param: "myip".into(),
            keep_other: None,
            multiple_addresses: false,
        }
    }
}

/// A service whose endpoint and [`Dialect`] ddnsd knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// No-IP: `myip` takes IPv4 or IPv6; A and AAAA are updated separately.
    NoIp,
    /// Dynu: IPv6 in `myipv6`; `no` leaves the other family alone.
    Dynu,
    /// deSEC: `myipv4` / `myipv6`, `preserve` keeps the other family (it is deleted when
    /// omitted), comma-separated lists accepted.
    Desec,
    /// nsupdate.info: `myip` takes IPv4 or IPv6; the username is the host name.
    NsupdateInfo,
}

impl Preset {
    /// Every preset, as spelled in the config.
    pub const ALL: [Preset; 4] = [
        Preset::NoIp,
        Preset::Dynu,
        Preset::Desec,
        Preset::NsupdateInfo,
    ];

    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Preset::NoIp => "noip",
            Preset::Dynu => "dynu",
            Preset::Desec => "desec",
            Preset::NsupdateInfo => "nsupdate.info",
        }
    }

    /// The service's update URL.
    pub fn server(self) -> &'static str {
        match self {
            Preset::NoIp => "https://dynupdate.no-ip.com/nic/update",
            Preset::Dynu => "https://api.dynu.com/nic/update",
            Preset::Desec => "https://update.dedyn.io/",
            Preset::NsupdateInfo => "https://nsupdate.info/nic/update",
        }
    }

    /// How the service takes addresses.
    pub fn dialect(self) -> Dialect {
        let d = Dialect::default();
        match self {
            Preset::NoIp | Preset::NsupdateInfo => d,
            Preset::Dynu => Dialect {
                ipv6_param: "myipv6".into(),
                keep_other: Some("no".into()),
                ..d
            },
            Preset::Desec => Dialect {
                ipv4_param: "myipv4".into(),
                ipv6_param: "myipv6".into(),
                keep_other: Some("preserve".into()),
                multiple_addresses: true,
            },
        }
    }
}

/// Settings of a dyndns2 provider.
#[derive(Clone, Debug)]
pub struct Dyndns2Settings {
    /// The update URL (`https://…/nic/update`), without credentials.
    pub server: String,
    /// The Basic auth user (an identifier, not a secret).
    pub username: String,
    /// The Basic auth password or token.
    pub password: Secret<String>,
    /// The name sent in `hostname` instead of the record's name.
    pub hostname: Option<String>,
    /// Records outside this zone are refused; `None` = any name.
    pub zone: Option<Fqdn>,
    /// Where the addresses go.
    pub dialect: Dialect,
    /// The preset the settings started from, if any.
    pub preset: Option<Preset>,
}

/// `[providers.NAME]` with `kind = "dyndns2"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    preset: Option<Text>,
    server: Option<Text>,
    username: Option<Text>,
    password: Option<Text>,
    password_file: Option<Text>,
    password_env: Option<Text>,
    hostname: Option<Text>,
    zone: Option<Text>,
    ipv4_param: Option<Text>,
    ipv6_param: Option<Text>,
    keep_other: Option<Text>,
    multiple_addresses: Option<Spanned<bool>>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let password = f.secret(SecretFields {
        name: "password",
        inline: &r.password,
        file: &r.password_file,
        env: &r.password_env,
    });
    let preset = match &r.preset {
        None => Some(None),
        Some(t) => match Preset::ALL.into_iter().find(|p| p.name() == t.get_ref()) {
            Some(p) => Some(Some(p)),
            None => {
                let hint = if t.get_ref().eq_ignore_ascii_case("duckdns") {
                    "DuckDNS does not speak dyndns2; use kind = \"webhook\" with its update URL (see the README, \"DuckDNS\")".to_owned()
                } else {
                    format!("known presets: {}; or leave preset out and give server", preset_list())
                };
                f.problem(t.span(), format!("unknown preset {:?}", t.get_ref()), Some(hint));
                None
            }
        },
    };
    let server = match (&r.server, preset) {
        (Some(t), _) => server_url(f, t),
        (None, Some(Some(p))) => Some(p.server().to_owned()),
        (None, Some(None)) => {
            f.problem(
                f.span(),
                "server is missing".into(),
                Some(format!(
                    "give the service's update URL, e.g. server = \"{}\", or a preset ({})",
                    Preset::NoIp.server(),
                    preset_list()
                )),
            );
            None
        }
        (None, None) => None,
    };
    let username = match &r.username {
        Some(t) if t.get_ref().trim().is_empty() => {
            f.problem(t.span(), "username is empty".into(), None);
            None
        }
        // RFC 7617 §2: the user-id of Basic auth cannot contain a colon.
        Some(t) if t.get_ref().contains(':') => {
            f.problem(
                t.span(),
                "username contains ':', which HTTP Basic auth cannot carry".into(),
                None,
            );
            None
        }
        Some(t) => Some(t.get_ref().trim().to_owned()),
        None => {
            f.problem(
                f.span(),
                "username is missing".into(),
                Some("give the account name the service expects (No-IP: the e-mail or DDNS key user; deSEC: the domain; nsupdate.info: the host name)".into()),
            );
            None
        }
    };
    let hostname = match &r.hostname {
        None => Some(None),
        Some(t) => {
            let h = t.get_ref().trim();
            // A comma would turn one name into a list of hosts (numhost); spaces never work.
            if h.is_empty() || h.contains([',', ' ', '\t', '&', '?', '#']) {
                f.problem(
                    t.span(),
                    format!("hostname {:?} is not a single host name", t.get_ref()),
                    Some("write the one name the service knows, e.g. \"home.ddns.net\"".into()),
                );
                None
            } else {
                Some(Some(h.to_owned()))
            }
        }
    };
    let zone = fields::zone(f, &r.zone);
    let base = preset.flatten().map(Preset::dialect).unwrap_or_default();
    let ipv4_param = param(f, &r.ipv4_param, "ipv4_param", &base.ipv4_param);
    let ipv6_param = param(f, &r.ipv6_param, "ipv6_param", &base.ipv6_param);
    let keep_other = match &r.keep_other {
        None => Some(base.keep_other.clone()),
        Some(t) if t.get_ref().is_empty() => {
            // An empty value tells deSEC to delete the other family: never what is meant.
            f.problem(
                t.span(),
                "keep_other is empty".into(),
                Some("write the value that keeps the other family as it is (deSEC: \"preserve\", Dynu: \"no\")".into()),
            );
            None
        }
        Some(t) => Some(Some(t.get_ref().clone())),
    };
    if let (Some(v4), Some(v6), Some(Some(_)), Some(t)) =
        (&ipv4_param, &ipv6_param, &keep_other, &r.keep_other)
    {
        if v4 == v6 {
            f.problem(
                t.span(),
                format!("keep_other needs ipv4_param and ipv6_param to differ (both are {v4:?})"),
                Some("set ipv6_param (e.g. \"myipv6\"), or remove keep_other".into()),
            );
        }
    }
    let multiple_addresses = r
        .multiple_addresses
        .map(Spanned::into_inner)
        .unwrap_or(base.multiple_addresses);
    Some(Arc::new(Dyndns2Settings {
        server: server?,
        username: username?,
        password: password?,
        hostname: hostname?,
        zone: zone?,
        dialect: Dialect {
            ipv4_param: ipv4_param?,
            ipv6_param: ipv6_param?,
            keep_other: keep_other?,
            multiple_addresses,
        },
        preset: preset?,
    }))
}

fn preset_list() -> String {
    Preset::ALL.map(Preset::name).join(", ")
}

/// The update URL: http(s), a host, no credentials (they go in username/password, so they
/// never appear in a URL that could be logged).
fn server_url(f: &mut dyn Fields, t: &Text) -> Option<String> {
    let s = t.get_ref().trim();
    match reqwest::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
            if !u.username().is_empty() || u.password().is_some() {
                f.problem(
                    t.span(),
                    "server holds credentials".into(),
                    Some("remove them from the URL and use username and password_file (or password_env)".into()),
                );
                return None;
            }
            if u.fragment().is_some() {
                f.problem(
                    t.span(),
                    format!("server {s:?} has a #fragment"),
                    None,
                );
                return None;
            }
            Some(u.to_string())
        }
        _ => {
            f.problem(
                t.span(),
                format!("server {s:?} is not an http(s) URL"),
                Some(format!(
                    "write the service's update URL, e.g. \"{}\"",
                    Preset::NoIp.server()
                )),
            );
            None
        }
    }
}

fn param(f: &mut dyn Fields, t: &Option<Text>, name: &str, default: &str) -> Option<String> {
    let Some(t) = t else {
        return Some(default.to_owned());
    };
    let v = t.get_ref();
    let ok = !v.is_empty()
        && v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Some(v.clone())
    } else {
        f.problem(
            t.span(),
            format!("{name} {v:?} is not a query parameter name"),
            Some("use letters, digits, '_', '-' or '.', e.g. \"myipv6\"".into()),
        );
        None
    }
}

impl Configured for Dyndns2Settings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Dyndns2::new(name.to_owned(), self.clone(), deps))
    }
}

/// A dyndns2 provider.
pub struct Dyndns2 {
    name: String,
    settings: Dyndns2Settings,
    /// `host[:port]` of the update URL, for messages.
    service: String,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    hold: Mutex<Option<Hold>>,
}

/// Why the provider sends nothing for now.
#[derive(Clone, Debug)]
enum Hold {
    /// Until the config is reloaded (a new provider is built then).
    Stopped(ProviderError),
    /// Until this instant (`911`).
    Until(Instant, ProviderError),
}

impl Dyndns2 {
    /// A provider named `name`.
    pub fn new(name: String, settings: Dyndns2Settings, deps: &ProviderDeps) -> Dyndns2 {
        let service = reqwest::Url::parse(&settings.server)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| "the dyndns2 server".to_owned());
        Dyndns2 {
            name,
            settings,
            service,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            hold: Mutex::new(None),
        }
    }

    fn hostname<'a>(&'a self, name: &'a Fqdn) -> &'a str {
        self.settings.hostname.as_deref().unwrap_or(name.as_str())
    }

    /// The error to give without contacting the service, while a stop or a pause holds.
    fn held(&self) -> Option<ProviderError> {
        let mut hold = self.hold.lock().unwrap_or_else(|p| p.into_inner());
        match hold.as_ref()? {
            Hold::Stopped(e) => Some(e.clone()),
            Hold::Until(t, e) => {
                let now = self.clock.monotonic();
                if now < *t {
                    let mut e = e.clone();
                    e.kind = ProviderErrorKind::RateLimited {
                        retry_after: Some(*t - now),
                    };
                    Some(e)
                } else {
                    *hold = None;
                    None
                }
            }
        }
    }

    fn hold_after(&self, e: &ProviderError) {
        let hold = match &e.kind {
            ProviderErrorKind::Auth => Hold::Stopped(e.clone()),
            ProviderErrorKind::RateLimited {
                retry_after: Some(d),
            } if *d >= OUTAGE_PAUSE => Hold::Until(self.clock.monotonic() + *d, e.clone()),
            _ => return,
        };
        *self.hold.lock().unwrap_or_else(|p| p.into_inner()) = Some(hold);
    }

    async fn update(&self, desired: &RrSet) -> Result<ProviderHints, ProviderError> {
        let key = desired.key();
        if let Some(zone) = &self.settings.zone {
            if !desired.name.is_within(zone) {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    format!("{} is not inside the zone {zone}", desired.name),
                )
                .with_hint("set the provider's zone to a domain that contains the record name, or remove zone"));
            }
        }
        if desired.addrs.is_empty() {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!("the dyndns2 protocol cannot remove {key}"),
            )
            .with_hint("remove the record on the service's website"));
        }
        if desired.addrs.len() > 1 && !self.settings.dialect.multiple_addresses {
            return Err(ProviderError::new(
                ProviderErrorKind::Rejected,
                format!(
                    "{key} has {} addresses ({}) but {} takes one per update",
                    desired.addrs.len(),
                    desired.addrs,
                    self.service
                ),
            )
            .with_hint("narrow the record's sources to one address, or set multiple_addresses = true if the service accepts comma-separated lists (deSEC does)"));
        }
        if let Some(e) = self.held() {
            tracing::debug!(provider = %self.name, record = %key, "not contacting the service: {e}");
            return Err(e);
        }
        let family = desired.rtype.family();
        let hostname = self.hostname(&desired.name);
        let url = update_url(
            &self.settings.server,
            &self.settings.dialect,
            hostname,
            family,
            &desired.addrs,
        );
        let auth = basic_auth(&self.settings.username, self.settings.password.expose());
        let ctx = Context {
            service: &self.service,
            provider: &self.name,
            hostname,
            family,
            sent: &desired.addrs,
            dialect: &self.settings.dialect,
            password: self.settings.password.expose(),
        };
        let action = format!("update at {}", self.service);
        tracing::debug!(provider = %self.name, record = %key, hostname, addrs = %desired.addrs, "sending dyndns2 update");
        let result = api::with_retries(
            &self.backoff,
            &self.name,
            &action,
            |f: &Failure| f.retry_in_call.then_some(&f.error),
            || async {
                let headers = [("Authorization", auth.clone())];
                let resp = self
                    .http
                    .send(Request {
                        method: Method::Get,
                        url: &url,
                        headers: &headers,
                        body: Vec::new(),
                        timeout: self.timeout,
                    })
                    .await
                    .map_err(|e| {
                        let error = api::http_error(&action, &e, true);
                        Failure {
                            retry_in_call: error.kind == ProviderErrorKind::Transient,
                            error,
                        }
                    })?;
                tracing::debug!(provider = %self.name, status = resp.status, "dyndns2 reply");
                judge(&resp, &ctx)
            },
        )
        .await;
        match result {
            Ok(ack) => {
                tracing::debug!(provider = %self.name, record = %key, answer = ack.as_str(), "acknowledged");
                Ok(acknowledged_hints(hostname, desired))
            }
            Err(f) => {
                self.hold_after(&f.error);
                Err(f.error)
            }
        }
    }
}

impl Provider for Dyndns2 {
    fn name(&self) -> &str {
        &self.name
    }

    /// Reads nothing (the protocol has no read call): the addresses the service last
    /// acknowledged for this host, from the hints, or an empty set when none are remembered.
    /// dyndns2/webhooks have no read API: verify and read-back are skipped.
    fn reads_live(&self) -> bool {
        false
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        let hostname = self.hostname(&key.name);
        Box::pin(async move { Ok(acknowledged(hints, Some(hostname), key)) })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(self.update(desired))
    }
}

/// The remembered acknowledgement of `key` as a [`LiveRrSet`], if the hints hold one for the
/// same host name (another name in the settings means another host: nothing is known of it).
fn acknowledged(hints: &ProviderHints, hostname: Option<&str>, key: &RecordKey) -> LiveRrSet {
    let empty = LiveRrSet {
        addrs: AddrSet::new(),
        ttl: None,
        hints: ProviderHints::default(),
    };
    if hostname.is_some() && hints.0.get(HINT_HOSTNAME).map(String::as_str) != hostname {
        return empty;
    }
    let (Some(list), Some(ttl)) = (hints.0.get(HINT_PUBLISHED), hints.0.get(HINT_TTL)) else {
        return empty;
    };
    let Ok(ttl) = ttl.parse::<u32>() else {
        return empty;
    };
    let addrs: Option<AddrSet> = list.split(',').map(|a| a.parse().ok()).collect();
    match addrs {
        Some(addrs) if addrs.iter().all(|a| Family::of(a) == key.rtype.family()) => LiveRrSet {
            addrs,
            ttl: Some(Ttl(ttl)),
            hints: hints.clone(),
        },
        _ => empty,
    }
}

fn acknowledged_hints(hostname: &str, desired: &RrSet) -> ProviderHints {
    let mut h = ProviderHints::default();
    h.0.insert(HINT_HOSTNAME.into(), hostname.to_owned());
    h.0.insert(HINT_PUBLISHED.into(), desired.addrs.to_string());
    h.0.insert(HINT_TTL.into(), desired.ttl.0.to_string());
    h
}

/// `Basic base64(user:password)` (RFC 7617).
fn basic_auth(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// The update URL: `server` plus `hostname=…`, this family's parameter with the addresses
/// (comma-separated), and, where the families have separate parameters and the service needs
/// it, the other family's parameter with the keep value. Pure.
pub fn update_url(
    server: &str,
    dialect: &Dialect,
    hostname: &str,
    family: Family,
    addrs: &AddrSet,
) -> String {
    let (this, other) = match family {
        Family::Ipv4 => (&dialect.ipv4_param, &dialect.ipv6_param),
        Family::Ipv6 => (&dialect.ipv6_param, &dialect.ipv4_param),
    };
    let mut url = server.to_owned();
    url.push(if server.contains('?') { '&' } else { '?' });
    url.push_str("hostname=");
    url.push_str(&encode(hostname));
    url.push('&');
    url.push_str(this);
    url.push('=');
    url.push_str(&encode(&addrs.to_string()));
    if let Some(keep) = dialect.keep_other.as_deref().filter(|_| this != other) {
        url.push('&');
        url.push_str(other);
        url.push('=');
        url.push_str(&encode(keep));
    }
    url
}

/// Percent-encodes a query value, leaving RFC 3986 unreserved characters and the `:` and `,`
/// of address lists as they are (every dyndns2 server reads them; some old ones read nothing
/// else).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:,".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A dyndns2 answer line, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `good [addresses]`: updated.
    Good(Vec<IpAddr>),
    /// `nochg [addresses]`: already so.
    NoChange(Vec<IpAddr>),
    /// One of the documented failure codes.
    Code(Code),
    /// Anything else (the first line, trimmed).
    Unknown(String),
}

/// The documented failure answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// `badauth`.
    BadAuth,
    /// `!donator`.
    NotDonator,
    /// `notfqdn`.
    NotFqdn,
    /// `nohost`.
    NoHost,
    /// `numhost`.
    NumHost,
    /// `abuse`.
    Abuse,
    /// `badagent`.
    BadAgent,
    /// `badsys`.
    BadSys,
    /// `dnserr`.
    DnsErr,
    /// `911`.
    Outage,
}

impl Code {
    /// The code as the service writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadAuth => "badauth",
            Code::NotDonator => "!donator",
            Code::NotFqdn => "notfqdn",
            Code::NoHost => "nohost",
            Code::NumHost => "numhost",
            Code::Abuse => "abuse",
            Code::BadAgent => "badagent",
            Code::BadSys => "badsys",
            Code::DnsErr => "dnserr",
            Code::Outage => "911",
        }
    }
}

/// Parses the first non-empty line of a reply body (one line per host; ddnsd sends one).
pub fn parse_answer(body: &str) -> Answer {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let addrs = || {
        rest.split([',', ' ', '\t'])
            .filter_map(|t| t.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>()
    };
    let code = match word {
        "good" => return Answer::Good(addrs()),
        "nochg" => return Answer::NoChange(addrs()),
        "badauth" => Code::BadAuth,
        "!donator" => Code::NotDonator,
        "notfqdn" => Code::NotFqdn,
        "nohost" => Code::NoHost,
        "numhost" => Code::NumHost,
        "abuse" => Code::Abuse,
        "badagent" => Code::BadAgent,
        "badsys" => Code::BadSys,
        "dnserr" => Code::DnsErr,
        "911" => Code::Outage,
        _ => return Answer::Unknown(line.to_owned()),
    };
    Answer::Code(code)
}

/// A successful answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    /// `good`.
    Updated,
    /// `nochg`.
    Unchanged,
}

impl Ack {
    fn as_str(self) -> &'static str {
        match self {
            Ack::Updated => "good",
            Ack::Unchanged => "nochg",
        }
    }
}

/// A failed update and whether it is worth another attempt within the same call.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The error.
    pub error: ProviderError,
    /// True for HTTP-level hiccups (5xx, a short 429, a broken connection); false for answers
    /// the protocol says to back off from (`dnserr`, `911`) and every permanent one.
    pub retry_in_call: bool,
}

/// What [`judge`] needs to know of the request.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// `host[:port]` of the service, for messages.
    pub service: &'a str,
    /// The provider's config name, for hints.
    pub provider: &'a str,
    /// The name sent in `hostname`.
    pub hostname: &'a str,
    /// The family updated.
    pub family: Family,
    /// The addresses sent.
    pub sent: &'a AddrSet,
    /// Where they were sent.
    pub dialect: &'a Dialect,
    /// The password, so that an answer echoing it is never shown.
    pub password: &'a str,
}

/// The ONE table of what a reply means: the answer code first (services answer `badauth`
/// with 200 or 401 alike), then the HTTP status for services that answer with statuses only
/// (deSEC). Only answers the protocol says need user action stop the provider (Auth) or the
/// record (Rejected/Forbidden); everything unknown is a protocol error.
pub fn judge(resp: &HttpResponse, ctx: &Context<'_>) -> Result<Ack, Failure> {
    let service = ctx.service;
    let provider = ctx.provider;
    let hostname = ctx.hostname;
    let body = String::from_utf8_lossy(&resp.body);
    let answer = parse_answer(&body);
    let fail = |kind: ProviderErrorKind, message: String, hint: Option<String>| {
        let mut error = ProviderError::new(kind, message);
        error.hint = hint;
        Err(Failure {
            error,
            retry_in_call: false,
        })
    };
    let reload = RELOAD;
    let ok = (200..300).contains(&resp.status);
    match answer {
        Answer::Good(echo) if ok => check_echo(Ack::Updated, &echo, ctx),
        Answer::NoChange(echo) if ok => check_echo(Ack::Unchanged, &echo, ctx),
        Answer::Code(code) => {
            let c = code.as_str();
            match code {
                Code::BadAuth => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} rejected the username or password ({c})"),
                    Some(format!("check username and password of [providers.{provider}]; {reload}")),
                ),
                Code::Abuse => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} blocked updates of {hostname} for abuse ({c})"),
                    Some(format!("log in to the service's website to lift the block; {reload}")),
                ),
                Code::BadAgent => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} refused this client ({c})"),
                    Some(format!("the service blocks ddnsd's requests; please report it to ddnsd; {reload}")),
                ),
                Code::NotDonator => fail(
                    ProviderErrorKind::Forbidden,
                    format!("{service} refused the update of {hostname}: it needs a paid feature ({c})"),
                    Some("the account's plan does not allow this update (e.g. this host or IPv6); upgrade it or remove the record".into()),
                ),
                Code::NotFqdn => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} says {hostname} is not a fully qualified host name ({c})"),
                    Some(format!("set hostname in [providers.{provider}] to the full name the service knows, e.g. \"home.example.com\"")),
                ),
                Code::NoHost => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} has no host {hostname} in this account ({c})"),
                    Some(format!("create the host at the service, or set hostname in [providers.{provider}] to the name it has there")),
                ),
                Code::NumHost => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} refused {hostname} as too many hosts or addresses ({c})"),
                    Some(format!("publish one address per family to this service (multiple_addresses = false in [providers.{provider}])")),
                ),
                Code::BadSys => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} rejected the request's system parameter ({c})"),
                    Some(format!("server in [providers.{provider}] must be the service's update URL without extra parameters")),
                ),
                Code::DnsErr => fail(
                    ProviderErrorKind::Transient,
                    format!("{service} had a dns error on its side ({c})"),
                    None,
                ),
                Code::Outage => {
                    let wait = resp.retry_after.unwrap_or_default().max(OUTAGE_PAUSE);
                    fail(
                        ProviderErrorKind::RateLimited {
                            retry_after: Some(wait),
                        },
                        format!("{service} reported an outage or maintenance ({c})"),
                        Some(format!(
                            "ddnsd waits {} before sending to this service again, as the protocol asks",
                            human_duration(wait.as_secs())
                        )),
                    )
                }
            }
        }
        // No dyndns2 answer: the HTTP status is all there is (deSEC answers errors so).
        _ => {
            let s = resp.status;
            match s {
                401 => fail(
                    ProviderErrorKind::Auth,
                    format!("{service} rejected the username or password (http 401)"),
                    Some(format!("check username and password of [providers.{provider}]; {reload}")),
                ),
                403 => fail(
                    ProviderErrorKind::Forbidden,
                    format!("{service} refused the update of {hostname} (http 403)"),
                    Some("the credentials may not update this host; check them on the service's website".into()),
                ),
                404 => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} has no host {hostname} (http 404)"),
                    Some(format!("create the host at the service, or set hostname in [providers.{provider}] to the name it has there")),
                ),
                429 => Err(Failure {
                    error: ProviderError::new(
                        ProviderErrorKind::RateLimited {
                            retry_after: resp.retry_after,
                        },
                        format!("{service} is rate limiting updates (http 429)"),
                    ),
                    retry_in_call: true,
                }),
                500..=599 => Err(Failure {
                    error: ProviderError::new(
                        ProviderErrorKind::Transient,
                        format!("{service} failed (http {s})"),
                    ),
                    retry_in_call: true,
                }),
                400..=499 => fail(
                    ProviderErrorKind::Rejected,
                    format!("{service} rejected the update of {hostname} (http {s})"),
                    Some(format!("check server, username and hostname of [providers.{provider}]")),
                ),
                200..=299 => {
                    let line = match parse_answer(&body) {
                        Answer::Unknown(l) => l,
                        _ => String::new(),
                    };
                    fail(
                        ProviderErrorKind::Protocol,
                        format!(
                            "{service} answered {}, which is not a dyndns2 answer",
                            shown_answer(&line, ctx.password)
                        ),
                        Some(format!("server in [providers.{provider}] must be the service's dyndns2 update URL (e.g. https://…/nic/update)")),
                    )
                }
                _ => fail(
                    ProviderErrorKind::Protocol,
                    format!("{service} answered with http status {s}"),
                    Some(format!("server in [providers.{provider}] must be the service's dyndns2 update URL (e.g. https://…/nic/update)")),
                ),
            }
        }
    }
}

/// A `good`/`nochg` answer that echoes addresses must echo the ones sent: a service that
/// ignored `myip` (an IPv6 address where it reads only IPv4) set something else.
fn check_echo(ack: Ack, echo: &[IpAddr], ctx: &Context<'_>) -> Result<Ack, Failure> {
    if echo.is_empty() || ctx.sent.iter().all(|a| echo.contains(a)) {
        return Ok(ack);
    }
    let service = ctx.service;
    let provider = ctx.provider;
    let blocked = ctx.family == Family::Ipv4 && echo == [IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let (kind, message, hint) = if blocked {
        // Dyn: "good 127.0.0.1" for an IPv4 address that was not 127.0.0.1 means the update
        // was ignored because the client is blocked. (After an IPv6 address it more likely
        // means the service ignored it and used the connection's address: a protocol error.)
        (
            ProviderErrorKind::Auth,
            format!("{service} ignored the update and answered \"{} 127.0.0.1\" (the service blocks this client)", ack.as_str()),
            format!("check the account on the service's website; {RELOAD}"),
        )
    } else {
        let param = match ctx.family {
            Family::Ipv4 => &ctx.dialect.ipv4_param,
            Family::Ipv6 => &ctx.dialect.ipv6_param,
        };
        let shown: Vec<String> = echo.iter().map(IpAddr::to_string).collect();
        (
            ProviderErrorKind::Protocol,
            format!(
                "{service} answered \"{} {}\", not the address sent ({})",
                ack.as_str(),
                shown.join(","),
                ctx.sent
            ),
            match ctx.family {
                Family::Ipv6 => format!("the service may not read IPv6 addresses from {param:?}; set ipv6_param in [providers.{provider}] (e.g. \"myipv6\") or use a preset"),
                Family::Ipv4 => format!("the service did not take the address from {param:?}; check ipv4_param in [providers.{provider}]"),
            },
        )
    };
    Err(Failure {
        error: ProviderError::new(kind, message).with_hint(hint),
        retry_in_call: false,
    })
}

/// An unknown answer, quoted and shortened; never one that echoes the password.
fn shown_answer(line: &str, password: &str) -> String {
    if line.is_empty() {
        return "nothing".to_owned();
    }
    if !password.is_empty() && line.contains(password) {
        return "a line holding the password (not shown)".to_owned();
    }
    let short: String = line.chars().take(60).collect();
    if short.len() < line.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn set(v: &[&str]) -> AddrSet {
        v.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect()
    }

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            date: None,
            retry_after: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn urls_put_each_family_where_the_service_wants_it() {
        let plain = Dialect::default();
        let one6 = set(&["2001:db8::1"]);
        let one4 = set(&["192.0.2.1"]);
        // AAAA goes in myip: the thing ddclient 3.10 gets wrong.
        assert_eq!(
            update_url("https://dynupdate.no-ip.com/nic/update", &plain, "home.ddns.net", Family::Ipv6, &one6),
            "https://dynupdate.no-ip.com/nic/update?hostname=home.ddns.net&myip=2001:db8::1"
        );
        assert_eq!(
            update_url("https://x.test/nic/update", &plain, "h.x.test", Family::Ipv4, &one4),
            "https://x.test/nic/update?hostname=h.x.test&myip=192.0.2.1"
        );
        let dynu = Preset::Dynu.dialect();
        assert_eq!(
            update_url(Preset::Dynu.server(), &dynu, "h.dynu.net", Family::Ipv6, &one6),
            "https://api.dynu.com/nic/update?hostname=h.dynu.net&myipv6=2001:db8::1&myip=no"
        );
        assert_eq!(
            update_url(Preset::Dynu.server(), &dynu, "h.dynu.net", Family::Ipv4, &one4),
            "https://api.dynu.com/nic/update?hostname=h.dynu.net&myip=192.0.2.1&myipv6=no"
        );
        let desec = Preset::Desec.dialect();
        assert_eq!(
            update_url(Preset::Desec.server(), &desec, "h.dedyn.io", Family::Ipv6, &set(&["2001:db8::2", "2001:db8::1"])),
            "https://update.dedyn.io/?hostname=h.dedyn.io&myipv6=2001:db8::1,2001:db8::2&myipv4=preserve"
        );
        // An existing query is extended; odd characters in an override are encoded.
        assert_eq!(
            update_url("http://127.0.0.1:8245/nic/update?system=dyndns", &plain, "grp@1", Family::Ipv4, &one4),
            "http://127.0.0.1:8245/nic/update?system=dyndns&hostname=grp%401&myip=192.0.2.1"
        );
        // Same parameter for both families: a keep value is never sent.
        let odd = Dialect {
            keep_other: Some("no".into()),
            ..Dialect::default()
        };
        assert_eq!(
            update_url("https://x.test/u", &odd, "h.x.test", Family::Ipv6, &one6),
            "https://x.test/u?hostname=h.x.test&myip=2001:db8::1"
        );
    }

    #[test]
    fn parses_answers() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(parse_answer("good 192.0.2.1\n"), Answer::Good(vec![ip("192.0.2.1")]));
        assert_eq!(parse_answer("good"), Answer::Good(vec![]));
        assert_eq!(
            parse_answer("nochg 192.0.2.1,2001:db8::1"),
            Answer::NoChange(vec![ip("192.0.2.1"), ip("2001:db8::1")])
        );
        assert_eq!(parse_answer("\r\n badauth\r\n"), Answer::Code(Code::BadAuth));
        assert_eq!(parse_answer("911"), Answer::Code(Code::Outage));
        assert_eq!(parse_answer("!donator"), Answer::Code(Code::NotDonator));
        assert_eq!(parse_answer("<html>"), Answer::Unknown("<html>".into()));
        assert_eq!(parse_answer(""), Answer::Unknown(String::new()));
    }

    fn ctx<'a>(sent: &'a AddrSet, dialect: &'a Dialect, family: Family) -> Context<'a> {
        Context {
            service: "dyn.test",
            provider: "home",
            hostname: "h.example.com",
            family,
            sent,
            dialect,
            password: "pw-secret",
        }
    }

    /// Every answer's kind, message and hint; and which are worth a retry within the call.
    #[test]
    fn judges_every_answer() {
        use ProviderErrorKind as K;
        let d = Dialect::default();
        let sent = set(&["2001:db8::1"]);
        let c = ctx(&sent, &d, Family::Ipv6);
        let reload = "nothing more is sent to this service until the config is reloaded (`systemctl reload ddnsd`)";
        assert_eq!(judge(&reply(200, "good 2001:db8::1"), &c).unwrap(), Ack::Updated);
        assert_eq!(judge(&reply(200, "good"), &c).unwrap(), Ack::Updated);
        assert_eq!(judge(&reply(200, "nochg 2001:db8::1\n"), &c).unwrap(), Ack::Unchanged);
        let half = K::RateLimited {
            retry_after: Some(OUTAGE_PAUSE),
        };
        // (status, body, kind, message, hint, retried within the call)
        type Case<'a> = (u16, &'a str, K, &'a str, Option<String>, bool);
        let cases: Vec<Case> = vec![
            (200, "badauth", K::Auth, "dyn.test rejected the username or password (badauth)", Some(format!("check username and password of [providers.home]; {reload}")), false),
            (401, "badauth", K::Auth, "dyn.test rejected the username or password (badauth)", Some(format!("check username and password of [providers.home]; {reload}")), false),
            (200, "abuse", K::Auth, "dyn.test blocked updates of h.example.com for abuse (abuse)", Some(format!("log in to the service's website to lift the block; {reload}")), false),
            (200, "badagent", K::Auth, "dyn.test refused this client (badagent)", Some(format!("the service blocks ddnsd's requests; please report it to ddnsd; {reload}")), false),
            (200, "good 127.0.0.1", K::Protocol, "dyn.test answered \"good 127.0.0.1\", not the address sent (2001:db8::1)", Some("the service may not read IPv6 addresses from \"myip\"; set ipv6_param in [providers.home] (e.g. \"myipv6\") or use a preset".into()), false),
            (200, "!donator", K::Forbidden, "dyn.test refused the update of h.example.com: it needs a paid feature (!donator)", Some("the account's plan does not allow this update (e.g. this host or IPv6); upgrade it or remove the record".into()), false),
            (200, "notfqdn", K::Rejected, "dyn.test says h.example.com is not a fully qualified host name (notfqdn)", Some("set hostname in [providers.home] to the full name the service knows, e.g. \"home.example.com\"".into()), false),
            (200, "nohost", K::Rejected, "dyn.test has no host h.example.com in this account (nohost)", Some("create the host at the service, or set hostname in [providers.home] to the name it has there".into()), false),
            (200, "numhost", K::Rejected, "dyn.test refused h.example.com as too many hosts or addresses (numhost)", Some("publish one address per family to this service (multiple_addresses = false in [providers.home])".into()), false),
            (200, "badsys", K::Rejected, "dyn.test rejected the request's system parameter (badsys)", Some("server in [providers.home] must be the service's update URL without extra parameters".into()), false),
            (200, "dnserr", K::Transient, "dyn.test had a dns error on its side (dnserr)", None, false),
            (200, "911", half.clone(), "dyn.test reported an outage or maintenance (911)", Some("ddnsd waits 30m0s before sending to this service again, as the protocol asks".into()), false),
            (503, "911", half, "dyn.test reported an outage or maintenance (911)", Some("ddnsd waits 30m0s before sending to this service again, as the protocol asks".into()), false),
            (200, "good 198.51.100.7", K::Protocol, "dyn.test answered \"good 198.51.100.7\", not the address sent (2001:db8::1)", Some("the service may not read IPv6 addresses from \"myip\"; set ipv6_param in [providers.home] (e.g. \"myipv6\") or use a preset".into()), false),
            (200, "hello world", K::Protocol, "dyn.test answered \"hello world\", which is not a dyndns2 answer", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
            (200, "", K::Protocol, "dyn.test answered nothing, which is not a dyndns2 answer", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
            (200, "echo pw-secret", K::Protocol, "dyn.test answered a line holding the password (not shown), which is not a dyndns2 answer", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
            (401, "Unauthorized", K::Auth, "dyn.test rejected the username or password (http 401)", Some(format!("check username and password of [providers.home]; {reload}")), false),
            (403, "", K::Forbidden, "dyn.test refused the update of h.example.com (http 403)", Some("the credentials may not update this host; check them on the service's website".into()), false),
            (404, "Not Found", K::Rejected, "dyn.test has no host h.example.com (http 404)", Some("create the host at the service, or set hostname in [providers.home] to the name it has there".into()), false),
            (400, "", K::Rejected, "dyn.test rejected the update of h.example.com (http 400)", Some("check server, username and hostname of [providers.home]".into()), false),
            (429, "", K::RateLimited { retry_after: None }, "dyn.test is rate limiting updates (http 429)", None, true),
            (502, "<html>", K::Transient, "dyn.test failed (http 502)", None, true),
            (302, "", K::Protocol, "dyn.test answered with http status 302", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
        ];
        for (status, body, kind, message, hint, retry) in cases {
            let f = judge(&reply(status, body), &c).unwrap_err();
            assert_eq!(f.error.kind, kind, "{status} {body:?}");
            assert_eq!(f.error.message, message, "{status} {body:?}");
            assert_eq!(f.error.hint, hint, "{status} {body:?}");
            assert_eq!(f.retry_in_call, retry, "{status} {body:?}");
        }
        // Asking for 127.0.0.1 and getting it is fine; asking for another IPv4 address and
        // getting 127.0.0.1 means the client is blocked.
        let lo = set(&["127.0.0.1"]);
        let c4 = ctx(&lo, &d, Family::Ipv4);
        assert_eq!(judge(&reply(200, "good 127.0.0.1"), &c4).unwrap(), Ack::Updated);
        let v4 = set(&["192.0.2.1"]);
        let c4 = ctx(&v4, &d, Family::Ipv4);
        let f = judge(&reply(200, "good 127.0.0.1"), &c4).unwrap_err();
        assert_eq!(f.error.kind, K::Auth);
        assert_eq!(
            f.error.message,
            "dyn.test ignored the update and answered \"good 127.0.0.1\" (the service blocks this client)"
        );
        assert_eq!(
            f.error.hint.as_deref(),
            Some(format!("check the account on the service's website; {reload}").as_str())
        );
        let f = judge(&reply(200, "nochg 198.51.100.9"), &c4).unwrap_err();
        assert_eq!(f.error.kind, K::Protocol);
        assert_eq!(
            f.error.hint.as_deref(),
            Some("the service did not take the address from \"myip\"; check ipv4_param in [providers.home]")
        );
        // A longer Retry-After with 911 is honoured.
        let mut r = reply(200, "911");
        r.retry_after = Some(Duration::from_secs(7200));
        let f = judge(&r, &c).unwrap_err();
        assert_eq!(
            f.error.kind,
            K::RateLimited {
                retry_after: Some(Duration::from_secs(7200))
            }
        );
    }

    fn build(text: &str) -> Result<Dyndns2Settings, String> {
        let env = |v: &str| match v {
            "PW" | "NOIP_PASSWORD" => Some("pw-from-env".to_owned()),
            _ => None,
        };
        let full = format!(
            "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"p\"\nsources = [\"s\"]\n"
        );
        match crate::config::from_text(&full, Path::new("t.toml"), &env) {
            Ok(c) => Ok(c.providers["p"].get::<Dyndns2Settings>().unwrap().clone()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn presets_fill_in_server_and_dialect_and_keys_override_them() {
        let s = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"desec\"\nusername = \"h.dedyn.io\"\npassword_env = \"PW\"\n").unwrap();
        assert_eq!(s.server, "https://update.dedyn.io/");
        assert_eq!(s.dialect, Preset::Desec.dialect());
        assert_eq!(s.password.expose(), "pw-from-env");
        assert_eq!(s.preset, Some(Preset::Desec));
        let s = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"nsupdate.info\"\nserver = \"https://ddns.example.net/nic/update\"\nusername = \"h.example.com\"\npassword = \"x\"\nipv6_param = \"myipv6\"\nmultiple_addresses = true\n").unwrap();
        assert_eq!(s.server, "https://ddns.example.net/nic/update");
        assert_eq!(s.dialect.ipv6_param, "myipv6");
        assert!(s.dialect.multiple_addresses);
        let s = build("[providers.p]\nkind = \"dyndns2\"\nserver = \"http://127.0.0.1:8245/nic/update\"\nusername = \"u\"\npassword = \"x\"\nhostname = \"home.ddns.net\"\nzone = \"example.com\"\n").unwrap();
        assert_eq!(s.dialect, Dialect::default());
        assert_eq!(s.hostname.as_deref(), Some("home.ddns.net"));
        assert_eq!(s.zone.unwrap().as_str(), "example.com");
        for p in Preset::ALL {
            assert!(update_url(p.server(), &p.dialect(), "h", Family::Ipv4, &set(&["192.0.2.1"])).starts_with("https://"));
        }
    }

    #[test]
    fn the_example_block_builds() {
        let example = KIND.example.replace("[providers.noip]", "[providers.p]");
        let s = build(&example).unwrap();
        assert_eq!(s.preset, Some(Preset::NoIp));
        assert_eq!(s.server, "https://dynupdate.no-ip.com/nic/update");
        assert_eq!(s.username, "you@example.com");
        assert_eq!(s.dialect, Dialect::default());
    }

    #[test]
    fn config_mistakes_are_placed_and_hinted() {
        let e = build("[providers.p]\nkind = \"dyndns2\"\npassword = \"x\"\n").unwrap_err();
        assert!(e.contains("server is missing\n  hint: give the service's update URL, e.g. server = \"https://dynupdate.no-ip.com/nic/update\", or a preset (noip, dynu, desec, nsupdate.info)"), "{e}");
        assert!(e.contains("username is missing\n  hint: give the account name"), "{e}");
        let e = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"duckdns\"\nusername = \"u\"\npassword = \"x\"\n").unwrap_err();
        assert!(e.contains("t.toml:3:10: unknown preset \"duckdns\"\n  hint: DuckDNS does not speak dyndns2; use kind = \"webhook\""), "{e}");
        let e = build("[providers.p]\nkind = \"dyndns2\"\nserver = \"https://u:pw@x.test/nic/update\"\nusername = \"u\"\npassword = \"x\"\n").unwrap_err();
        assert!(e.contains("t.toml:3:10: server holds credentials\n  hint: remove them from the URL"), "{e}");
        assert!(!e.contains(":pw@"), "{e}");
        let e = build("[providers.p]\nkind = \"dyndns2\"\nserver = \"ftp://x.test/\"\nusername = \"a:b\"\npassword = \"x\"\nipv6_param = \"my ip\"\nkeep_other = \"no\"\nhostname = \"a,b\"\n").unwrap_err();
        for want in [
            "t.toml:3:10: server \"ftp://x.test/\" is not an http(s) URL",
            "t.toml:4:12: username contains ':', which HTTP Basic auth cannot carry",
            "t.toml:6:14: ipv6_param \"my ip\" is not a query parameter name",
            "t.toml:8:12: hostname \"a,b\" is not a single host name",
        ] {
            assert!(e.contains(want), "{want}\n{e}");
        }
        let e = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"noip\"\nusername = \"u\"\npassword = \"x\"\nkeep_other = \"no\"\n").unwrap_err();
        assert!(e.contains("t.toml:6:14: keep_other needs ipv4_param and ipv6_param to differ (both are \"myip\")\n  hint: set ipv6_param"), "{e}");
        let e = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"noip\"\nusername = \"u\"\n").unwrap_err();
        assert!(e.contains("password is missing"), "{e}");
    }

    #[test]
    fn acknowledged_hints_round_trip_and_stay_with_their_host() {
        let rr = RrSet {
            name: "h.example.com".parse().unwrap(),
            rtype: crate::record::RecordType::Aaaa,
            ttl: Ttl(300),
            addrs: set(&["2001:db8::1", "2001:db8::2"]),
        };
        let h = acknowledged_hints("h.example.com", &rr);
        assert_eq!(h.0[HINT_PUBLISHED], "2001:db8::1,2001:db8::2");
        let live = acknowledged(&h, Some("h.example.com"), &rr.key());
        assert_eq!((live.addrs, live.ttl), (rr.addrs.clone(), Some(Ttl(300))));
        // Another host name in the settings: nothing is known.
        assert!(acknowledged(&h, Some("other.ddns.net"), &rr.key()).addrs.is_empty());
        // Hints of the other family (or garbage) are not believed.
        let a = RecordKey {
            name: rr.name.clone(),
            rtype: crate::record::RecordType::A,
        };
        assert!(acknowledged(&h, Some("h.example.com"), &a).addrs.is_empty());
        assert_eq!(acknowledged(&ProviderHints::default(), None, &a).ttl, None);
    }

    #[test]
    fn basic_auth_is_rfc7617() {
        // RFC 7617 §2's example.
        assert_eq!(basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }
}
