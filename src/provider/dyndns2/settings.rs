//! The dyndns2 settings: the `[providers.NAME]` table as written (`Raw`), its checks, the named
//! [`Preset`]s and the [`Dialect`] they fill in (where each family's addresses go). Builds the
//! provider; knows nothing of the wire or of answers.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::Dyndns2;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::provider::{Configured, Provider, ProviderDeps};
use crate::record::Fqdn;
use crate::secret::Secret;

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

pub(super) fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
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
                    "DuckDNS does not speak dyndns2; use kind = \"duckdns\" with its account token (see the README, \"DuckDNS\")".to_owned()
                } else {
                    format!(
                        "known presets: {}; or leave preset out and give server",
                        preset_list()
                    )
                };
                f.problem(
                    t.span(),
                    format!("unknown preset {:?}", t.get_ref()),
                    Some(hint),
                );
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
                f.problem(t.span(), format!("server {s:?} has a #fragment"), None);
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
        && v.bytes()
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
