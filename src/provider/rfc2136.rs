//! `kind = "rfc2136"`: DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), sent natively over
//! UDP (TCP when the reply is truncated).
//!
//! Owns the adapter: settings, zone discovery and the [`Provider`] impl, which signs the
//! messages built by [`kit::dnsmsg`](super::kit::dnsmsg) (pure: UPDATE and query builders,
//! reply checks, RCODE → error table) and sends them through the shared exchange in
//! [`crate::dns`]. Must not read config files, environment variables or the system clock (time
//! comes from the injected [`Clock`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures::future::BoxFuture;
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType as DnsType;
use serde::Deserialize;

use super::kit::dnsmsg::{
    check_reply, dns_type, live_addresses, protocol, query_message, query_rcode_error,
    rejected_build, update_message, update_rcode_error, zone_from_soa_reply, CheckedReply, Sent,
    Untrusted, UpdateContext, Verdict, RCODE_NOERROR, RCODE_NOTAUTH, RCODE_NXDOMAIN,
    RCODE_REFUSED,
};
use super::sign::tsig::{self, TsigAlgorithm, TsigKey, DEFAULT_FUDGE};
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints,
};
use crate::clock::Clock;
use crate::dns::{self, ExchangeError, Sieve};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::record::{Fqdn, RecordKey, RrSet};
use crate::secret::Secret;

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "rfc2136",
    about: "DNS UPDATE (RFC 2136) with TSIG: BIND, Knot, PowerDNS, any primary server",
    example: r#"[providers.home]
kind = "rfc2136"
server = "192.0.2.53:53"       # the primary's address (IP or IP:PORT)
zone = "example.test"          # omit to find it with an SOA query
tsig_name = "ddnsd-key"        # the key's name as the server knows it
tsig_algorithm = "hmac-sha256" # or "hmac-sha512"
tsig_secret_env = "DDNSD_TSIG_SECRET"   # or tsig_secret_file = "/etc/ddnsd/tsig.b64"
# timeout = "5s"
"#,
    configure,
};

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The [`ProviderHints`] key under which a zone found by SOA query is remembered.
pub const HINT_ZONE: &str = "zone";

/// Settings of an RFC 2136 provider.
#[derive(Clone, Debug)]
pub struct Rfc2136Settings {
    /// The primary server's address.
    pub server: SocketAddr,
    /// The zone; `None` = found with an SOA query.
    pub zone: Option<Fqdn>,
    /// The TSIG key; `None` sends unsigned updates (servers that allow by address).
    pub tsig: Option<TsigKey>,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// `[providers.NAME]` with `kind = "rfc2136"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    server: Text,
    zone: Option<Text>,
    tsig_name: Option<Text>,
    tsig_algorithm: Option<Text>,
    tsig_secret: Option<Text>,
    tsig_secret_file: Option<Text>,
    tsig_secret_env: Option<Text>,
    timeout: Option<Text>,
}

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let server = fields::socket_addr(r.server.get_ref(), 53).map_err(|m| {
        f.problem(
            r.server.span(),
            format!("server {m}"),
            Some("write an address, e.g. \"192.0.2.53\", \"192.0.2.53:5353\" or \"[2001:db8::53]:53\"".to_owned()),
        )
    });
    let zone = fields::zone(f, &r.zone);
    let timeout = f.duration(&r.timeout, DEFAULT_TIMEOUT, Duration::from_secs(300), "timeout");
    let secret = SecretFields {
        name: "tsig_secret",
        inline: &r.tsig_secret,
        file: &r.tsig_secret_file,
        env: &r.tsig_secret_env,
    };
    let tsig = match &r.tsig_name {
        None if secret.given() => {
            f.problem(
                f.span(),
                "a TSIG secret is given but tsig_name is missing".to_owned(),
                Some("add tsig_name = \"…\" with the key's name as the server knows it".to_owned()),
            );
            None
        }
        None => Some(None),
        Some(n) => {
            let name = Fqdn::parse_relaxed(n.get_ref())
                .map_err(|e| f.problem(n.span(), format!("tsig_name: {e}"), None))
                .ok();
            let algorithm = match &r.tsig_algorithm {
                None => Some(TsigAlgorithm::HmacSha256),
                Some(a) => TsigAlgorithm::parse(a.get_ref()).or_else(|| {
                    f.problem(
                        a.span(),
                        format!("unsupported tsig_algorithm {:?}", a.get_ref()),
                        Some("use \"hmac-sha256\" or \"hmac-sha512\"".to_owned()),
                    );
                    None
                }),
            };
            let bytes = f.secret(secret).and_then(|s| {
                match base64::engine::general_purpose::STANDARD.decode(s.expose().as_bytes()) {
                    Ok(bytes) if !bytes.is_empty() => Some(Secret::new(bytes)),
                    _ => {
                        // Point at whichever form was used; never quote the value.
                        f.problem(
                            secret.span().unwrap_or(0..0),
                            "tsig_secret is not valid base64".to_owned(),
                            Some("use the secret exactly as in the server's key statement (tsig-keygen / keymgr print it)".to_owned()),
                        );
                        None
                    }
                }
            });
            match (name, algorithm, bytes) {
                (Some(name), Some(algorithm), Some(secret)) => Some(Some(TsigKey {
                    name,
                    algorithm,
                    secret,
                })),
                _ => None,
            }
        }
    };
    Some(Arc::new(Rfc2136Settings {
        server: server.ok()?,
        zone: zone?,
        tsig: tsig?,
        timeout: timeout?,
    }))
}

impl Configured for Rfc2136Settings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Rfc2136::new(name.to_owned(), self.clone(), deps.clock.clone()))
    }
}

/// An RFC 2136 server.
pub struct Rfc2136 {
    name: String,
    settings: Rfc2136Settings,
    clock: Arc<dyn Clock>,
}

impl Rfc2136 {
    /// A provider named `name`.
    pub fn new(name: String, settings: Rfc2136Settings, clock: Arc<dyn Clock>) -> Rfc2136 {
        Rfc2136 {
            name,
            settings,
            clock,
        }
    }
}

impl Provider for Rfc2136 {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            let reply = self.query(&key.name, dns_type(key.rtype)).await?;
            let rcode = reply.rcode;
            match rcode {
                RCODE_NOERROR | RCODE_NXDOMAIN => {}
                _ => {
                    return Err(query_rcode_error(
                        self.settings.server,
                        &key.name,
                        key.rtype.as_str(),
                        rcode,
                    ))
                }
            }
            let (addrs, ttl) = live_addresses(&reply.message, &key.name, key.rtype);
            Ok(LiveRrSet {
                addrs,
                ttl,
                hints: hints.clone(),
            })
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(async move {
            let hinted = hints
                .0
                .get(HINT_ZONE)
                .and_then(|z| Fqdn::parse_relaxed(z).ok())
                .filter(|z| desired.name.is_within(z));
            let (zone, source) = match (&self.settings.zone, hinted) {
                (Some(z), _) => (z.clone(), ZoneSource::Config),
                (None, Some(z)) => (z, ZoneSource::Hint),
                (None, None) => (self.find_zone(&desired.name).await?, ZoneSource::Discovered),
            };
            let zone = match self.update(&zone, desired).await {
                Ok(()) => zone,
                // A remembered zone may have been split or moved since: find it again, once.
                Err(e)
                    if source == ZoneSource::Hint
                        && matches!(
                            e.kind,
                            ProviderErrorKind::ZoneNotFound | ProviderErrorKind::Rejected
                        ) =>
                {
                    let fresh = self.find_zone(&desired.name).await?;
                    if fresh == zone {
                        return Err(e);
                    }
                    self.update(&fresh, desired).await?;
                    fresh
                }
                Err(e) => return Err(e),
            };
            let mut out = hints.clone();
            if source != ZoneSource::Config {
                out.0.insert(HINT_ZONE.to_owned(), zone.to_string());
            }
            Ok(out)
        })
    }
}

/// Where the zone of an update came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ZoneSource {
    Config,
    Hint,
    Discovered,
}

// ---------------------------------------------------------------------------------------------
// Sending.

/// How many times a request is sent over UDP within the timeout.
const UDP_SENDS: u32 = 3;

impl Rfc2136 {
    /// Sends the replacing UPDATE for `desired` to `zone` and checks the reply.
    async fn update(&self, zone: &Fqdn, desired: &RrSet) -> Result<(), ProviderError> {
        let key = desired.key();
        let msg = update_message(zone, desired, rand::random()).map_err(rejected_build)?;
        let reply = match self.exchange(&msg).await {
            Ok(r) => r,
            // UDP gives no delivery receipt: when no reply arrives the UPDATE may still have been
            // applied (reply lost) — or never arrived. We say so honestly (Unconfirmed: state is
            // not updated and a verify is scheduled) rather than "could not reach", which would
            // claim nothing happened. Only errors that prove non-delivery (connection refused)
            // are reported as "could not reach".
            Err(Failure::Reply(e)) => return Err(e),
            // Only replies that could not be trusted came: report what they said — in the words
            // of the RCODE table when a plain unsigned error said it — as transient (see
            // `check_reply`). Retrying is safe: the UPDATE replaces the RRset, so applying it
            // twice changes nothing.
            Err(Failure::Untrusted(u)) => {
                let ctx = UpdateContext {
                    server: self.settings.server,
                    zone,
                    key: &key,
                    tsig_name: self.settings.tsig.as_ref().map(|k| &k.name),
                };
                let claim = u
                    .rcode
                    .and_then(|r| update_rcode_error(&ctx, r))
                    .map(|mut e| {
                        e.kind = ProviderErrorKind::Transient;
                        e
                    })
                    .unwrap_or(u.claim);
                return Err(claim);
            }
            Err(Failure::Wire(e)) if is_unreachable(&e) => return Err(self.unreachable(&e)),
            Err(Failure::Wire(_)) => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Unconfirmed,
                    format!(
                        "could not confirm update of {key}: no reply from {} within {}",
                        self.settings.server,
                        fmt_duration(self.settings.timeout)
                    ),
                ))
            }
        };
        let ctx = UpdateContext {
            server: self.settings.server,
            zone,
            key: &key,
            tsig_name: self.settings.tsig.as_ref().map(|k| &k.name),
        };
        match update_rcode_error(&ctx, reply.rcode) {
            None => {
                tracing::debug!(provider = %self.name, record = %key, zone = %zone, addrs = %desired.addrs, "rfc2136 update applied");
                Ok(())
            }
            Some(e) => Err(e),
        }
    }

    /// Finds the zone of `name` by SOA queries, walking up the labels.
    async fn find_zone(&self, name: &Fqdn) -> Result<Fqdn, ProviderError> {
        let server = self.settings.server;
        for candidate in std::iter::once(name.clone()).chain(name.ancestors()) {
            let reply = self.query(&candidate, DnsType::SOA).await?;
            if let Some(zone) = zone_from_soa_reply(&reply.message, &candidate) {
                tracing::debug!(provider = %self.name, name = %name, zone = %zone, "found zone by soa query");
                return Ok(zone);
            }
            match reply.rcode {
                RCODE_NOERROR | RCODE_NXDOMAIN | RCODE_REFUSED | RCODE_NOTAUTH => continue,
                rcode => return Err(query_rcode_error(server, &candidate, "SOA", rcode)),
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::ZoneNotFound,
            format!(
                "{server} serves no zone containing {name} (no SOA found for it or its parents)"
            ),
        )
        .with_hint(
            "set zone in the provider's config, and check that server is the zone's primary",
        ))
    }

    /// Sends a query (TSIG-signed when a key is configured) and checks the reply.
    async fn query(&self, name: &Fqdn, qtype: DnsType) -> Result<CheckedReply, ProviderError> {
        let msg = query_message(name, qtype, rand::random()).map_err(rejected_build)?;
        match self.exchange(&msg).await {
            Ok(r) => Ok(r),
            Err(Failure::Reply(e)) => Err(e),
            Err(Failure::Untrusted(u)) => Err(u.claim),
            Err(Failure::Wire(e)) if is_unreachable(&e) => Err(self.unreachable(&e)),
            Err(Failure::Wire(_)) => Err(self.unreachable_because(&format!(
                "no reply within {}",
                fmt_duration(self.settings.timeout)
            ))),
        }
    }

    /// Signs `msg` (if a key is configured), sends it, and checks the reply's TSIG.
    async fn exchange(&self, msg: &Message) -> Result<CheckedReply, Failure> {
        let unsigned = msg
            .to_vec()
            .map_err(|e| Failure::Reply(protocol(format!("could not encode the request: {e}"))))?;
        let signed_at = self.clock.unix_secs();
        let (wire, mac) = match &self.settings.tsig {
            Some(key) => {
                let s = tsig::sign_request(key, &unsigned, signed_at, DEFAULT_FUDGE).map_err(|e| {
                    Failure::Reply(protocol(format!("could not sign the request: {e}")))
                })?;
                (s.wire, s.mac)
            }
            None => (unsigned, Vec::new()),
        };
        let sent = Sent {
            server: self.settings.server,
            key: self.settings.tsig.as_ref(),
            request_mac: &mac,
            signed_at,
        };
        let ex = dns::Exchange {
            server: self.settings.server,
            request: &wire,
            timeout: self.settings.timeout,
            udp_sends: UDP_SENDS,
        };
        // Replies that cannot be trusted are skipped and the exchange keeps listening for the
        // real one (RFC 8945 §5.4, see `check_reply`); the strongest claim among them is
        // reported only when nothing trustworthy came before the timeout, and then as a
        // transient error: a forged packet must never park the provider.
        let mut strongest: Option<Untrusted> = None;
        let mut skipped = 0usize;
        let result = dns::exchange(&ex, |reply| match check_reply(&sent, reply) {
            Verdict::Trusted(r) => Sieve::Take(r),
            Verdict::Untrusted(u) => {
                skipped += 1;
                if strongest.as_ref().is_none_or(|s| u.why > s.why) {
                    strongest = Some(u);
                }
                Sieve::Skip
            }
        })
        .await;
        match (result, strongest) {
            (Ok(r), Some(u)) => {
                // RFC 8945 §5.4: "the client SHOULD log an error". Only when a signed reply
                // followed: otherwise the claim itself is the error reported.
                tracing::warn!(provider = %self.name, server = %self.settings.server, ignored = skipped, why = ?u.why, claim = %u.claim, "ignored replies that could not be trusted before the signed one (forged, or from a middlebox)");
                r.map_err(Failure::Reply)
            }
            (Ok(r), None) => r.map_err(Failure::Reply),
            (Err(e), Some(u)) if !is_unreachable(&e) => Err(Failure::Untrusted(u)),
            (Err(e), _) => Err(Failure::Wire(e)),
        }
    }

    /// "could not reach SERVER: why" for a failure that proves nothing was delivered.
    fn unreachable(&self, e: &ExchangeError) -> ProviderError {
        let why = match e {
            ExchangeError::Unreachable { error, .. } => io_reason(error),
            ExchangeError::ConnectTimeout(d) => {
                format!("tcp connect timed out after {}", fmt_duration(*d))
            }
            ExchangeError::Oversized(_) => "the request is too large for tcp".to_owned(),
            other => other.to_string(),
        };
        self.unreachable_because(&why)
    }

    /// "could not reach SERVER: why".
    fn unreachable_because(&self, why: &str) -> ProviderError {
        ProviderError::new(
            ProviderErrorKind::Transient,
            format!("could not reach {}: {why}", self.settings.server),
        )
    }
}

/// True for wire failures after which the request cannot have had an effect.
fn is_unreachable(e: &ExchangeError) -> bool {
    matches!(
        e,
        ExchangeError::Unreachable { .. }
            | ExchangeError::ConnectTimeout(_)
            | ExchangeError::Oversized(_)
    )
}

/// A wire failure, an error already mapped from a trusted reply, or only untrusted replies.
#[derive(Debug)]
enum Failure {
    Wire(ExchangeError),
    Reply(ProviderError),
    Untrusted(Untrusted),
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        _ => e.to_string().to_lowercase(),
    }
}

/// `5s`, `1500ms`.
fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
