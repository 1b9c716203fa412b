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

mod codes;
mod settings;
#[cfg(test)]
mod tests;
mod wire;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::kit::api;
use super::{
    Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind, ProviderHints,
};
use crate::clock::Clock;
use crate::http::{Backoff, HttpClient, Method, Request};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RrSet, Ttl};

pub use codes::{judge, Ack, Context, Failure};
use settings::configure;
pub use settings::{Dialect, Dyndns2Settings, Preset};
use wire::basic_auth;
pub use wire::{parse_answer, update_url, Answer, Code};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "dyndns2",
    about:
        "dyndns2 update URL (No-IP, Dynu, deSEC, nsupdate.info, …): HTTP Basic auth, no read API",
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

/// Hint keys remembered after an acknowledged update.
const HINT_HOSTNAME: &str = "hostname";
const HINT_PUBLISHED: &str = "published";
const HINT_TTL: &str = "ttl";

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
