//! `kind = "rfc2136"`: DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), sent natively over
//! UDP (TCP when the reply is truncated or the request long); a batch is one UPDATE per zone.
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
use futures::stream::{self, StreamExt};
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType as DnsType;
use serde::Deserialize;

use super::kit::dnsmsg::{
    batch_update_messages, check_reply, dns_type, live_addresses, protocol, query_message,
    query_rcode_error, rejected_build, update_message, update_rcode_error, zone_from_soa_reply,
    CheckedReply, Distrust, Sent, Untrusted, UpdateContext, Verdict, MAX_UPDATE_LEN, RCODE_NOERROR,
    RCODE_NOTAUTH, RCODE_NXDOMAIN, RCODE_REFUSED,
};
use super::sign::tsig::{self, TsigAlgorithm, TsigKey, DEFAULT_FUDGE};
use super::{
    Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderErrorKind,
    ProviderHints, RetryPolicy, Scope, Write,
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
# batch = true                 # one UPDATE per zone; false: one per name (see the README for Knot)
# sign_queries = false         # true when the server answers only TSIG-signed queries
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
    /// One UPDATE per zone carrying every changed RRset (default); `false` sends one UPDATE
    /// per RRset — for servers whose per-name ACLs judge only whole messages (Knot 3.2 lets a
    /// mixed UPDATE through a `deny` rule on one of its names).
    pub batch: bool,
    /// Sign queries (verify reads, zone discovery) with the TSIG key too. Off by default: the
    /// answers are public zone data, and many servers (Knot with an update-only key) answer a
    /// signed query from a key without a query ACL with NOTAUTH.
    pub sign_queries: bool,
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
    batch: Option<bool>,
    sign_queries: Option<bool>,
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
    let timeout = f.duration(
        &r.timeout,
        DEFAULT_TIMEOUT,
        Duration::from_secs(300),
        "timeout",
    );
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
        batch: r.batch.unwrap_or(true),
        sign_queries: r.sign_queries.unwrap_or(false),
    }))
}

impl Configured for Rfc2136Settings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Rfc2136::new(
            name.to_owned(),
            self.clone(),
            deps.clock.clone(),
        ))
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
            let (zone, source) = self.zone_for(desired, hints).await?;
            self.apply_in(zone, source, desired, hints).await
        })
    }

    /// One UPDATE per zone carrying every RRset of that zone (issue 13), split only where a
    /// message would pass 64 KiB; see `Rfc2136::batch`.
    fn apply_batch<'a>(
        &'a self,
        writes: &'a [Write],
    ) -> BoxFuture<'a, Vec<Result<ProviderHints, ProviderError>>> {
        Box::pin(async move {
            if self.settings.batch {
                self.batch(writes).await
            } else {
                super::apply_each(self, writes).await
            }
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
    /// The zone of `desired`: from the settings, else the remembered hint, else found by SOA
    /// queries.
    async fn zone_for(
        &self,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<(Fqdn, ZoneSource), ProviderError> {
        let hinted = hints
            .0
            .get(HINT_ZONE)
            .and_then(|z| Fqdn::parse_relaxed(z).ok())
            .filter(|z| desired.name.is_within(z));
        Ok(match (&self.settings.zone, hinted) {
            (Some(z), _) => (z.clone(), ZoneSource::Config),
            (None, Some(z)) => (z, ZoneSource::Hint),
            (None, None) => (self.find_zone(&desired.name).await?, ZoneSource::Discovered),
        })
    }

    /// Replaces `desired` in `zone` with an UPDATE of its own; a remembered zone that the
    /// server no longer takes is looked up again, once.
    async fn apply_in(
        &self,
        zone: Fqdn,
        source: ZoneSource,
        desired: &RrSet,
        hints: &ProviderHints,
    ) -> Result<ProviderHints, ProviderError> {
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
        Ok(hints_after(&zone, source, hints))
    }

    /// Writes a batch: the zones of all writes (found concurrently where not known), then one
    /// UPDATE per zone carrying all its RRsets — zones concurrently, at most [`IN_FLIGHT`] at a
    /// time — split only where a message would pass [`MAX_UPDATE_LEN`]. One result per write,
    /// in order.
    ///
    /// An UPDATE is one transaction (RFC 2136 §3.4.2.1: "the update section is processed as a
    /// single atomic unit"): if the server refuses it, it refuses every RRset in it — so one
    /// name outside the key's update-policy would fail its zone's others. When a message of
    /// several RRsets is answered with an error about what it asked (REFUSED, NOTAUTH,
    /// NOTZONE, FORMERR, YX*/NX*: the kinds retried only on change), each of its RRsets is
    /// sent again in an UPDATE of its own, so only the RRset at fault fails. Errors about the
    /// exchange or the server (no reply, SERVFAIL, clock skew, unreachable) go to every RRset
    /// of the message as they are. After an error about the whole provider (unreachable,
    /// clock skew, a rejected key), no further UPDATE is sent: the writes not yet sent get
    /// that error too.
    async fn batch(&self, writes: &[Write]) -> Vec<Result<ProviderHints, ProviderError>> {
        let halt = Halt::default();
        // The futures are made before they enter the stream: a closure mapping inside it
        // trips the compiler's higher-ranked Send check for the boxed future.
        let mut lookups = Vec::with_capacity(writes.len());
        for w in writes {
            lookups.push(self.zone_for(&w.desired, &w.hints));
        }
        let zones: Vec<_> = stream::iter(lookups).buffered(IN_FLIGHT).collect().await;
        let mut results: Vec<Option<Result<ProviderHints, ProviderError>>> =
            writes.iter().map(|_| None).collect();
        // Zones in the order they first appear, each with its writes in order.
        let mut groups: Vec<(Fqdn, Vec<(usize, ZoneSource)>)> = Vec::new();
        for (i, z) in zones.into_iter().enumerate() {
            match z {
                Ok((zone, source)) => match groups.iter_mut().find(|(g, _)| *g == zone) {
                    Some((_, members)) => members.push((i, source)),
                    None => groups.push((zone, vec![(i, source)])),
                },
                Err(e) => {
                    halt.note(&e);
                    results[i] = Some(Err(e));
                }
            }
        }
        let mut zone_updates = Vec::with_capacity(groups.len());
        for (zone, members) in groups {
            zone_updates.push(self.apply_zone(zone, members, writes, &halt));
        }
        let done: Vec<_> = stream::iter(zone_updates)
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        for (i, r) in done.into_iter().flatten() {
            results[i] = Some(r);
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(halt.error().unwrap_or_else(never_sent))))
            .collect()
    }

    /// The UPDATEs of one zone's writes (`members`: indices into `writes` and where their zone
    /// came from), with one result per member.
    async fn apply_zone(
        &self,
        zone: Fqdn,
        members: Vec<(usize, ZoneSource)>,
        writes: &[Write],
        halt: &Halt,
    ) -> Vec<(usize, Result<ProviderHints, ProviderError>)> {
        let sets: Vec<&RrSet> = members.iter().map(|(i, _)| &writes[*i].desired).collect();
        let mut out = Vec::with_capacity(members.len());
        let plan = match batch_update_messages(&zone, &sets, MAX_UPDATE_LEN) {
            Ok(p) => p,
            Err(e) => {
                let e = rejected_build(e);
                return members.iter().map(|(i, _)| (*i, Err(e.clone()))).collect();
            }
        };
        for (j, e) in plan.refused {
            out.push((members[j].0, Err(rejected_build(e))));
        }
        for batch in plan.updates {
            let carried: Vec<(usize, ZoneSource)> =
                batch.sets.iter().map(|j| members[*j]).collect();
            if let Some(e) = halt.error() {
                out.extend(carried.iter().map(|(i, _)| (*i, Err(e.clone()))));
                continue;
            }
            if let [(i, source)] = carried[..] {
                let w = &writes[i];
                let r = self
                    .apply_in(zone.clone(), source, &w.desired, &w.hints)
                    .await;
                halt.note_result(&r);
                out.push((i, r));
                continue;
            }
            let mut msg = batch.message;
            msg.metadata.id = rand::random();
            let outcome = self.send_update(&msg).await;
            if self.split_after(&zone, &writes[carried[0].0].desired, &outcome) {
                tracing::debug!(provider = %self.name, zone = %zone, rrsets = carried.len(), "batch update refused; sending each rrset alone");
                for (i, source) in carried {
                    let w = &writes[i];
                    let r = self
                        .apply_in(zone.clone(), source, &w.desired, &w.hints)
                        .await;
                    halt.note_result(&r);
                    out.push((i, r));
                }
                continue;
            }
            for (i, source) in carried {
                let w = &writes[i];
                let r = match self.update_error(&zone, &w.desired, &outcome) {
                    None => Ok(hints_after(&zone, source, &w.hints)),
                    Some(e) => Err(e),
                };
                halt.note_result(&r);
                out.push((i, r));
            }
        }
        out
    }

    /// True when a refused UPDATE of several RRsets should be retried one RRset at a time:
    /// the server's trusted answer is about what was asked (a kind retried only on change),
    /// an unsigned error claim that may be about one of its names, or the message was too
    /// long to send.
    fn split_after(&self, zone: &Fqdn, first: &RrSet, outcome: &UpdateOutcome) -> bool {
        match outcome {
            UpdateOutcome::Rcode(_) => self
                .update_error(zone, first, outcome)
                .is_some_and(|e| e.kind.retry_policy() == RetryPolicy::UntilChange),
            // Knot 3.2 answers an UPDATE naming an owner its ACL denies with an unsigned
            // NOTAUTH/BADKEY for the whole message (found by the conformance battery): such a
            // claim cannot be trusted, but sending each RRset alone lets the others through.
            UpdateOutcome::Untrusted(u) => {
                u.rcode.is_some() || u.why == Distrust::UnsignedTsigError
            }
            UpdateOutcome::Wire(ExchangeError::Oversized(_)) => true,
            _ => false,
        }
    }

    /// Sends the replacing UPDATE for `desired` to `zone` and checks the reply.
    async fn update(&self, zone: &Fqdn, desired: &RrSet) -> Result<(), ProviderError> {
        let msg = update_message(zone, desired, rand::random()).map_err(rejected_build)?;
        let outcome = self.send_update(&msg).await;
        match self.update_error(zone, desired, &outcome) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Sends one UPDATE (of one RRset or many) and says what came of it.
    async fn send_update(&self, msg: &Message) -> UpdateOutcome {
        match self.exchange(msg, self.settings.tsig.as_ref()).await {
            Ok(reply) => UpdateOutcome::Rcode(reply.rcode),
            Err(Failure::Reply(e)) => UpdateOutcome::Failed(e),
            Err(Failure::Untrusted(u)) => UpdateOutcome::Untrusted(u),
            Err(Failure::Wire(e)) => UpdateOutcome::Wire(e),
        }
    }

    /// What an UPDATE's outcome means for `desired`, one of the RRsets it carried: `None` when
    /// it was applied.
    fn update_error(
        &self,
        zone: &Fqdn,
        desired: &RrSet,
        outcome: &UpdateOutcome,
    ) -> Option<ProviderError> {
        let key = desired.key();
        let ctx = UpdateContext {
            server: self.settings.server,
            zone,
            key: &key,
            tsig_name: self.settings.tsig.as_ref().map(|k| &k.name),
        };
        match outcome {
            UpdateOutcome::Rcode(rcode) => {
                let e = update_rcode_error(&ctx, *rcode);
                if e.is_none() {
                    tracing::debug!(provider = %self.name, record = %key, zone = %zone, addrs = %desired.addrs, "rfc2136 update applied");
                }
                e
            }
            UpdateOutcome::Failed(e) => Some(e.clone()),
            // Only replies that could not be trusted came: report what they said — in the
            // words of the RCODE table when a plain unsigned error said it — as transient (see
            // `check_reply`). Retrying is safe: the UPDATE replaces the RRset, so applying it
            // twice changes nothing.
            UpdateOutcome::Untrusted(u) => Some(
                u.rcode
                    .and_then(|r| update_rcode_error(&ctx, r))
                    .map(|mut e| {
                        e.kind = ProviderErrorKind::Transient;
                        e
                    })
                    .unwrap_or_else(|| u.claim.clone()),
            ),
            UpdateOutcome::Wire(e) => Some(self.update_wire_error(&key, e)),
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

    /// Sends a query (TSIG-signed only with `sign_queries`) and checks the reply.
    async fn query(&self, name: &Fqdn, qtype: DnsType) -> Result<CheckedReply, ProviderError> {
        let msg = query_message(name, qtype, rand::random()).map_err(rejected_build)?;
        let key = self
            .settings
            .tsig
            .as_ref()
            .filter(|_| self.settings.sign_queries);
        match self.exchange(&msg, key).await {
            Ok(r) => Ok(r),
            Err(Failure::Reply(e)) => Err(e),
            Err(Failure::Untrusted(u)) => Err(u.claim),
            Err(Failure::Wire(e)) => Err(self.query_wire_error(&e)),
        }
    }

    /// Signs `msg` with `key` (if any), sends it, and checks the reply's TSIG.
    async fn exchange(
        &self,
        msg: &Message,
        key: Option<&TsigKey>,
    ) -> Result<CheckedReply, Failure> {
        let unsigned = msg
            .to_vec()
            .map_err(|e| Failure::Reply(protocol(format!("could not encode the request: {e}"))))?;
        let signed_at = self.clock.unix_secs();
        let (wire, mac) = match key {
            Some(key) => {
                let s =
                    tsig::sign_request(key, &unsigned, signed_at, DEFAULT_FUDGE).map_err(|e| {
                        Failure::Reply(protocol(format!("could not sign the request: {e}")))
                    })?;
                (s.wire, s.mac)
            }
            None => (unsigned, Vec::new()),
        };
        let sent = Sent {
            server: self.settings.server,
            key,
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

    /// The error for an UPDATE that got no usable reply (issue 8 item 7). Only failures that
    /// prove nothing was delivered (connection refused, no TCP connection) are "could not
    /// reach" (Unreachable: the whole provider waits). Once the UPDATE went out, silence or a
    /// broken connection may hide an applied update: that is Unconfirmed, never "failed" —
    /// state is not updated and the live record is read on the next pass.
    fn update_wire_error(&self, key: &RecordKey, e: &ExchangeError) -> ProviderError {
        let server = self.settings.server;
        match e {
            ExchangeError::NoReply { .. } => ProviderError::new(
                ProviderErrorKind::Unconfirmed,
                format!(
                    "could not confirm update of {key}: no reply from {server} within {}",
                    fmt_duration(self.settings.timeout)
                ),
            ),
            ExchangeError::Broken { step, error } => ProviderError::new(
                ProviderErrorKind::Unconfirmed,
                format!(
                    "could not confirm update of {key}: {step} with {server} failed: {}",
                    io_reason(error)
                ),
            ),
            _ => self.common_wire_error(e),
        }
    }

    /// The error for a query that got no usable reply: a server that does not answer at all
    /// is unreachable for every record.
    fn query_wire_error(&self, e: &ExchangeError) -> ProviderError {
        let server = self.settings.server;
        match e {
            ExchangeError::NoReply { .. } => ProviderError::new(
                ProviderErrorKind::Unreachable,
                format!(
                    "could not reach {server}: no reply within {}",
                    fmt_duration(self.settings.timeout)
                ),
            ),
            ExchangeError::Broken { step, error } => ProviderError::new(
                ProviderErrorKind::Transient,
                format!(
                    "the exchange with {server} broke off: {step} failed: {}",
                    io_reason(error)
                ),
            ),
            _ => self.common_wire_error(e),
        }
    }

    /// Failures that mean the same for updates and queries.
    fn common_wire_error(&self, e: &ExchangeError) -> ProviderError {
        let server = self.settings.server;
        let unreachable = |why: String| {
            ProviderError::new(
                ProviderErrorKind::Unreachable,
                format!("could not reach {server}: {why}"),
            )
        };
        match e {
            ExchangeError::Unreachable { error, .. } => unreachable(io_reason(error)),
            // A connection that never opened: nothing was sent (not "could not confirm").
            ExchangeError::ConnectTimeout(d) => {
                unreachable(format!("tcp connect timed out after {}", fmt_duration(*d)))
            }
            other => protocol(format!("could not send to {server}: {other}")),
        }
    }
}

/// True for wire failures after which the request cannot have had an effect.
fn is_unreachable(e: &ExchangeError) -> bool {
    matches!(
        e,
        ExchangeError::Unreachable { .. } | ExchangeError::ConnectTimeout(_)
    )
}

/// A wire failure, an error already mapped from a trusted reply, or only untrusted replies.
#[derive(Debug)]
enum Failure {
    Wire(ExchangeError),
    Reply(ProviderError),
    Untrusted(Untrusted),
}

/// What came of one UPDATE, whichever RRsets it carried.
#[derive(Debug)]
enum UpdateOutcome {
    /// A trusted reply with this header RCODE (NOERROR: applied).
    Rcode(u8),
    /// A trusted reply that is an error on its own (clock skew, an undecodable reply).
    Failed(ProviderError),
    /// Only replies that could not be trusted.
    Untrusted(Untrusted),
    /// No usable reply.
    Wire(ExchangeError),
}

/// How many zone look-ups or zone UPDATEs of one batch are in flight at once.
const IN_FLIGHT: usize = 8;

/// The first error about the whole provider seen in a batch: once set, no further UPDATE is
/// sent (the default `apply_batch` stops there too).
#[derive(Debug, Default)]
struct Halt(std::sync::Mutex<Option<ProviderError>>);

impl Halt {
    /// Remembers `e` if it is about the whole provider and nothing was remembered yet.
    fn note(&self, e: &ProviderError) {
        if e.scope() == Scope::Provider {
            let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
            g.get_or_insert_with(|| e.clone());
        }
    }

    fn note_result<T>(&self, r: &Result<T, ProviderError>) {
        if let Err(e) = r {
            self.note(e);
        }
    }

    /// The error that halted the batch, if one did.
    fn error(&self) -> Option<ProviderError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// For a write left without a result, which cannot happen: every write is in a zone group or
/// failed its look-up.
fn never_sent() -> ProviderError {
    protocol("the update was not sent".to_owned())
}

/// The hints to remember after `zone` took an update: the zone, unless it is configured.
fn hints_after(zone: &Fqdn, source: ZoneSource, hints: &ProviderHints) -> ProviderHints {
    let mut out = hints.clone();
    if source != ZoneSource::Config {
        out.0.insert(HINT_ZONE.to_owned(), zone.to_string());
    }
    out
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
