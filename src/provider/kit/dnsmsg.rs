//! DNS messages for the rfc2136 provider, as pure functions: the UPDATE that replaces an RRset
//! ([`update_message`]), queries ([`query_message`]), the TSIG check of a reply
//! ([`check_reply`]), and the mapping of every RCODE and TSIG error to a [`ProviderError`]
//! with its kind and hint ([`update_rcode_error`], [`query_rcode_error`]).
//!
//! No I/O and no clock: the wire exchange is `crate::dns`, signing is
//! [`crate::provider::sign::tsig`], the signing time is handed in.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use hickory_proto::op::{Message, MessageType, OpCode, Query, UpdateMessage};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType as DnsType};

use crate::provider::sign::tsig::{self, TsigKey, TsigRcode};
use crate::provider::{ProviderError, ProviderErrorKind};
use crate::record::{AddrSet, Family, Fqdn, RecordKey, RecordType, RrSet, Ttl};

/// Why a message could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The name is not a valid DNS name for hickory.
    #[error("{0} is not a valid dns name")]
    BadName(String),
    /// The record name is not inside the zone.
    #[error("{name} is not inside zone {zone}")]
    OutsideZone {
        /// The record name.
        name: String,
        /// The zone.
        zone: String,
    },
}

/// Builds the UPDATE that replaces the whole (name, type) RRset of `desired` in `zone`.
///
/// RFC 2136 §2.5.2 "Delete An RRset": "TYPE must be specified … CLASS must be ANY, TTL must be
/// zero, RDLENGTH must be zero"; then §2.5.1 "Add To An RRset" once per address. The server
/// applies the update section in order as one transaction (§3.4.2), so the RRset is replaced
/// atomically and nothing else in the zone is touched. No prerequisites are sent. An empty
/// `desired.addrs` only deletes.
pub fn update_message(zone: &Fqdn, desired: &RrSet, id: u16) -> Result<Message, BuildError> {
    let mut msg = empty_update(zone, id)?;
    add_rrset(&mut msg, zone, desired)?;
    Ok(msg)
}

/// The most bytes an UPDATE may hold before its TSIG record: a DNS message over TCP holds
/// 65535 bytes (RFC 1035 §4.2.2, a 16-bit length), and a TSIG record is at most 255 (key
/// name) + 10 + 13 (`hmac-sha512.`) + 16 + 64 (MAC) = 358 bytes; 512 are kept for it.
pub const MAX_UPDATE_LEN: usize = 65535 - 512;

/// One UPDATE of a batch: the message and which RRsets it carries.
#[derive(Clone, Debug)]
pub struct BatchUpdate {
    /// The message, with ID 0 (the sender gives it a random one).
    pub message: Message,
    /// Indices into the `sets` given to [`batch_update_messages`], in order.
    pub sets: Vec<usize>,
}

/// The UPDATEs of a batch, and the RRsets that could not go into one.
#[derive(Clone, Debug)]
pub struct BatchPlan {
    /// The messages, in order.
    pub updates: Vec<BatchUpdate>,
    /// Indices of the RRsets that cannot be built, with why.
    pub refused: Vec<(usize, BuildError)>,
}

/// Builds the UPDATEs that replace every RRset of `sets` in `zone` (issue 13: one UPDATE per
/// zone per pass), in order, each RRset whole — its delete and its adds, as in
/// [`update_message`] — in as few messages as fit `max_len` bytes each. The size is counted
/// without name compression, so the encoded message is never longer. The server applies each
/// message as one transaction (RFC 2136 §3.4.2.1), so every RRset of a message is replaced,
/// or none is.
///
/// An RRset that cannot be built (outside the zone, an invalid name) is returned with its error
/// instead; one that alone exceeds `max_len` gets a message of its own rather than being split
/// (half a replaced RRset would publish half a set).
pub fn batch_update_messages(
    zone: &Fqdn,
    sets: &[&RrSet],
    max_len: usize,
) -> Result<BatchPlan, BuildError> {
    let base = HEADER_LEN + name_len(zone) + 4;
    let mut out: Vec<BatchUpdate> = Vec::new();
    let mut refused = Vec::new();
    let mut current: Option<(BatchUpdate, usize)> = None;
    for (i, set) in sets.iter().enumerate() {
        if let Err(e) = buildable(zone, set) {
            refused.push((i, e));
            continue;
        }
        let len = rrset_len(set);
        if matches!(&current, Some((_, used)) if used + len > max_len) {
            out.extend(current.take().map(|(b, _)| b));
        }
        if current.is_none() {
            let message = empty_update(zone, 0)?;
            current = Some((
                BatchUpdate {
                    message,
                    sets: Vec::new(),
                },
                base,
            ));
        }
        if let Some((batch, used)) = current.as_mut() {
            add_rrset(&mut batch.message, zone, set)?;
            batch.sets.push(i);
            *used += len;
        }
    }
    out.extend(current.map(|(b, _)| b));
    Ok(BatchPlan {
        updates: out,
        refused,
    })
}

/// An UPDATE with only its zone section (`ZNAME SOA IN`, RFC 2136 §2.3).
fn empty_update(zone: &Fqdn, id: u16) -> Result<Message, BuildError> {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Update);
    let mut z = Query::new();
    z.set_name(dns_name(zone)?)
        .set_query_class(DNSClass::IN)
        .set_query_type(DnsType::SOA);
    msg.add_zone(z);
    Ok(msg)
}

/// Why `set` cannot go into an UPDATE of `zone`, if it cannot.
fn buildable(zone: &Fqdn, set: &RrSet) -> Result<(), BuildError> {
    if !set.name.is_within(zone) {
        return Err(BuildError::OutsideZone {
            name: set.name.to_string(),
            zone: zone.to_string(),
        });
    }
    dns_name(&set.name).map(|_| ())
}

/// Appends the delete of `desired`'s RRset and one add per address of its type.
fn add_rrset(msg: &mut Message, zone: &Fqdn, desired: &RrSet) -> Result<(), BuildError> {
    buildable(zone, desired)?;
    let name = dns_name(&desired.name)?;
    let mut delete = Record::update0(name.clone(), 0, dns_type(desired.rtype));
    delete.dns_class = DNSClass::ANY;
    msg.add_update(delete);
    for addr in addrs_of_type(desired) {
        let rdata = match addr {
            IpAddr::V4(v4) => RData::A(A(*v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
        };
        msg.add_update(Record::from_rdata(name.clone(), desired.ttl.0, rdata));
    }
    Ok(())
}

/// The addresses of `set` that match its type (another family's never leak in).
fn addrs_of_type(set: &RrSet) -> impl Iterator<Item = &IpAddr> {
    set.addrs
        .iter()
        .filter(|a| Family::of(a).record_type() == set.rtype)
}

/// Length of a DNS header.
const HEADER_LEN: usize = 12;

/// Builds a non-recursive query for (name, type).
pub fn query_message(name: &Fqdn, qtype: DnsType, id: u16) -> Result<Message, BuildError> {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.add_query(Query::query(dns_name(name)?, qtype));
    Ok(msg)
}

/// A reply that passed the TSIG checks, with its header RCODE.
#[derive(Clone, Debug)]
pub struct CheckedReply {
    /// The 4-bit header RCODE.
    pub rcode: u8,
    /// The decoded message.
    pub message: Message,
}

/// What a reply is checked against: the request it answers.
#[derive(Clone, Copy, Debug)]
pub struct Sent<'a> {
    /// The server (for messages).
    pub server: SocketAddr,
    /// The key the request was signed with, if any.
    pub key: Option<&'a TsigKey>,
    /// The request's MAC (empty when unsigned).
    pub request_mac: &'a [u8],
    /// The request's Time Signed.
    pub signed_at: u64,
}

/// What a reply is worth to the request it seems to answer.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Act on it: its TSIG verified, or no key is configured (nothing can be verified). A
    /// verified failure (BADTIME, a signature outside the fudge) is an `Err`.
    Trusted(Result<CheckedReply, ProviderError>),
    /// Do not act on it: keep waiting for the real reply (RFC 8945 §5.4).
    Untrusted(Untrusted),
}

/// A reply that cannot be trusted, and what it claimed.
#[derive(Clone, Debug)]
pub struct Untrusted {
    /// Why it is not trusted; also how much its claim tells the user.
    pub why: Distrust,
    /// What it claimed, as the error to report if nothing trustworthy arrives before the
    /// timeout. Always [`ProviderErrorKind::Transient`]: a forged packet must not park the
    /// provider (Auth) or stop retries of the record (Forbidden, Rejected, ZoneNotFound).
    pub claim: ProviderError,
    /// The RCODE of a plain unsigned error reply (no TSIG record, not NOERROR), so the caller
    /// can phrase the claim with its RCODE table (some servers, e.g. Knot for a zone it does
    /// not serve, answer a signed UPDATE so).
    pub rcode: Option<u8>,
}

/// Why a reply is not trusted, weakest claim first: when only untrusted replies arrive, the
/// one with the strongest claim is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Distrust {
    /// Its TSIG record could not be read.
    Undecodable,
    /// It carries no TSIG record at all.
    Unsigned,
    /// Its TSIG record names another key, carries a truncated MAC, or the MAC is wrong.
    FailedVerification,
    /// An unsigned TSIG error (MAC size 0): BADKEY or BADSIG as a server that does not know the
    /// key or secret sends it (RFC 8945 §5.3.2) — and as anyone can forge it.
    UnsignedTsigError,
}

/// Checks a reply's TSIG and decodes it, mapping TSIG errors to [`ProviderError`]s.
///
/// Without a key nothing can be verified: every reply is [`Verdict::Trusted`]. With a key,
/// only a reply whose TSIG verifies (key and algorithm, full MAC over the request MAC and the
/// reply, RFC 8945 §5.3.1) is trusted; a verified reply signed outside the fudge is clock skew.
/// Everything else is [`Verdict::Untrusted`] — including the unsigned BADKEY / BADSIG replies
/// that servers send when they do not know the key or the secret, since a forger can send the
/// very same bytes. RFC 8945 §5.4: "Regardless of the RCODE, a message containing a TSIG RR
/// that is unsigned as specified in Section 5.3.2 or that fails verification SHOULD NOT be
/// considered an acceptable response, as it may have been spoofed or manipulated. Instead,
/// the client SHOULD log an error and continue to wait for a signed response until the
/// request times out." A reply with no TSIG at all to a signed request is treated the same.
pub fn check_reply(ex: &Sent<'_>, reply: &[u8]) -> Verdict {
    let server = ex.server;
    if reply.len() < 12 {
        let e = protocol(format!(
            "the reply from {server} is shorter than a dns header"
        ));
        return match ex.key {
            None => Verdict::Trusted(Err(e)),
            Some(_) => untrusted(Distrust::Undecodable, e),
        };
    }
    // invariant: `reply.len() >= 12` was checked just above.
    let rcode = reply[3] & 0x0f;
    let Some(key) = ex.key else {
        return Verdict::Trusted(decode(server, rcode, reply));
    };
    let t = match tsig::find_tsig(reply) {
        Err(e) => {
            return untrusted(
                Distrust::Undecodable,
                protocol(format!(
                    "could not read the tsig record of the reply from {server}: {e}"
                )),
            )
        }
        Ok(None) => {
            let what = match rcode {
                RCODE_NOERROR => "the reply".to_owned(),
                r => format!("the {} reply", rcode_name(r)),
            };
            let claim = protocol(format!(
                "{what} from {server} is not signed although the request was signed with key {}; not trusting it",
                key.name
            ))
            .with_hint("check that the server knows the key and signs its replies (a middlebox may have answered)");
            return match untrusted(Distrust::Unsigned, claim) {
                Verdict::Untrusted(u) => Verdict::Untrusted(Untrusted {
                    rcode: (rcode != RCODE_NOERROR).then_some(rcode),
                    ..u
                }),
                trusted => trusted,
            };
        }
        Ok(Some(t)) => t,
    };
    if t.mac.is_empty() {
        // RFC 8945 §5.3.2: errors about the key or the MAC are sent unsigned. Report what the
        // server (or a forger) said in its words, but only if nothing verifiable comes.
        let claim = match t.error {
            TsigRcode::BadKey => badkey(server, key),
            TsigRcode::BadSig => badsig(server, key),
            other => {
                return untrusted(
                    Distrust::Unsigned,
                    protocol(format!(
                        "the reply from {server} has a tsig record without a mac (tsig error {}); not trusting it",
                        tsig_rcode_name(other)
                    )),
                )
            }
        };
        return untrusted(Distrust::UnsignedTsigError, claim);
    }
    if let Err(e) = tsig::verify_reply(key, ex.request_mac, reply, &t) {
        return untrusted(Distrust::FailedVerification, unverified(server, &e));
    }
    // Verified: what it says is the server's word.
    let verified = match t.error {
        TsigRcode::NoError => {
            let offset = t.time_signed as i64 - ex.signed_at as i64;
            if offset.unsigned_abs() > u64::from(t.fudge) {
                Err(ProviderError::new(
                    ProviderErrorKind::ClockSkew { offset_secs: offset },
                    format!("the reply from {server} is signed {offset} s away from this machine's clock, outside the fudge of {} s", t.fudge),
                ))
            } else {
                decode(server, rcode, reply)
            }
        }
        TsigRcode::BadTime => match t.server_time() {
            Some(server_time) => Err(badtime(server, server_time, ex.signed_at)),
            None => Err(protocol(format!(
                "{server} answered BADTIME without its time in the tsig other data"
            ))),
        },
        // A server must not sign these (RFC 8945 §5.3.2), but this one did, with our key.
        TsigRcode::BadKey => Err(badkey(server, key)),
        TsigRcode::BadSig => Err(badsig(server, key)),
        TsigRcode::BadTrunc | TsigRcode::Other(_) => Err(protocol(format!(
            "{server} answered with tsig error {}",
            tsig_rcode_name(t.error)
        ))),
    };
    Verdict::Trusted(verified)
}

/// An untrusted reply whose claim is reported as a transient error.
fn untrusted(why: Distrust, claim: ProviderError) -> Verdict {
    let mut claim = claim;
    claim.kind = ProviderErrorKind::Transient;
    Verdict::Untrusted(Untrusted {
        why,
        claim,
        rcode: None,
    })
}

/// Decodes a reply that is trusted.
fn decode(server: SocketAddr, rcode: u8, reply: &[u8]) -> Result<CheckedReply, ProviderError> {
    let message = Message::from_vec(reply)
        .map_err(|e| protocol(format!("could not parse the reply from {server}: {e}")))?;
    Ok(CheckedReply { rcode, message })
}

/// What an update was about, for error messages.
#[derive(Clone, Copy, Debug)]
pub struct UpdateContext<'a> {
    /// The server.
    pub server: SocketAddr,
    /// The zone named in the update.
    pub zone: &'a Fqdn,
    /// The record.
    pub key: &'a RecordKey,
    /// The TSIG key name, if any.
    pub tsig_name: Option<&'a Fqdn>,
}

/// The error for a non-NOERROR header RCODE of an UPDATE reply (RFC 2136 §2.2), `None` for
/// NOERROR.
pub fn update_rcode_error(ctx: &UpdateContext<'_>, rcode: u8) -> Option<ProviderError> {
    let UpdateContext {
        server,
        zone,
        key,
        tsig_name,
    } = *ctx;
    let name = rcode_name(rcode);
    let e = match rcode {
        RCODE_NOERROR => return None,
        RCODE_SERVFAIL => ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{server} failed to apply the update of {key} ({name})"),
        ),
        RCODE_REFUSED => {
            let who = match tsig_name {
                Some(k) => format!("key {k}"),
                None => "this machine's address".to_owned(),
            };
            ProviderError::new(
                ProviderErrorKind::Forbidden,
                format!("{server} refused the update of {key} ({name})"),
            )
            .with_hint(format!(
                "the server's update policy does not allow this name: grant {who} updates of {} (BIND: update-policy / allow-update; Knot: acl with action update)",
                key.name
            ))
        }
        RCODE_NOTAUTH => ProviderError::new(
            ProviderErrorKind::ZoneNotFound,
            format!("{server} is not authoritative for zone {zone} ({name})"),
        )
        .with_hint(format!(
            "check zone and server: the server must be a primary for {zone}, or leave zone out to find the zone of {} by an SOA query",
            key.name
        )),
        RCODE_NOTZONE => ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("{} is outside zone {zone} ({name})", key.name),
        )
        .with_hint(format!(
            "wrong zone: set zone to the zone that contains {}, or leave it out to find it by an SOA query",
            key.name
        )),
        RCODE_FORMERR => ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("{server} could not parse the update of {key} ({name})"),
        )
        .with_hint("the server may not support dynamic updates of this record type; check its log"),
        RCODE_NOTIMP => ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("{server} does not implement dynamic updates ({name})"),
        )
        .with_hint(format!(
            "enable dynamic updates for {zone} on the server (BIND: update-policy / allow-update; Knot: acl with action update)"
        )),
        RCODE_NXDOMAIN | RCODE_YXDOMAIN | RCODE_YXRRSET | RCODE_NXRRSET => ProviderError::new(
            ProviderErrorKind::Rejected,
            format!("{server} reported a failed prerequisite for {key} ({name}) although ddnsd sends none"),
        ),
        _ => protocol(format!("{server} answered the update of {key} with unexpected rcode {name}")),
    };
    Some(e)
}

/// The error for a header RCODE of a query reply other than NOERROR / NXDOMAIN.
pub fn query_rcode_error(server: SocketAddr, name: &Fqdn, qtype: &str, rcode: u8) -> ProviderError {
    let rname = rcode_name(rcode);
    match rcode {
        RCODE_SERVFAIL => ProviderError::new(
            ProviderErrorKind::Transient,
            format!("{server} failed to answer the query for {name} {qtype} ({rname})"),
        ),
        RCODE_REFUSED => ProviderError::new(
            ProviderErrorKind::Forbidden,
            format!("{server} refused the query for {name} {qtype} ({rname})"),
        )
        .with_hint("allow this machine to query the zone (BIND: allow-query), or point server at the zone's primary"),
        RCODE_NOTAUTH => ProviderError::new(
            ProviderErrorKind::ZoneNotFound,
            format!("{server} is not authoritative for {name} ({rname})"),
        ),
        _ => protocol(format!("{server} answered the query for {name} {qtype} with rcode {rname}")),
    }
}

/// The addresses of type `rtype` owned by `name` in the answer section, and their smallest TTL.
pub fn live_addresses(reply: &Message, name: &Fqdn, rtype: RecordType) -> (AddrSet, Option<Ttl>) {
    let mut addrs = AddrSet::new();
    let mut ttl: Option<u32> = None;
    for r in &reply.answers {
        if !same_name(&r.name, name) {
            continue;
        }
        let addr = match (&r.data, rtype) {
            (RData::A(a), RecordType::A) => IpAddr::V4(a.0),
            (RData::AAAA(a), RecordType::Aaaa) => IpAddr::V6(a.0),
            _ => continue,
        };
        addrs.insert(addr);
        ttl = Some(ttl.map_or(r.ttl, |t| t.min(r.ttl)));
    }
    (addrs, ttl.map(Ttl))
}

/// The zone named by an SOA reply for `name` (RFC 2136 §4 / nsupdate's method): an SOA owned by
/// `name` in the answer section makes `name` the apex; otherwise the owner of the SOA in the
/// authority section (NODATA / NXDOMAIN replies carry the enclosing zone's SOA there).
pub fn zone_from_soa_reply(reply: &Message, name: &Fqdn) -> Option<Fqdn> {
    let soa_owner = |r: &Record| {
        matches!(r.data, RData::SOA(_))
            .then(|| fqdn_of(&r.name))
            .flatten()
    };
    reply
        .answers
        .iter()
        .filter(|r| same_name(&r.name, name))
        .find_map(soa_owner)
        .or_else(|| reply.authorities.iter().find_map(soa_owner))
        .filter(|z| name.is_within(z))
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// 0 NOERROR: success.
pub const RCODE_NOERROR: u8 = 0;
/// 1 FORMERR: the server could not parse the request.
pub const RCODE_FORMERR: u8 = 1;
/// 2 SERVFAIL: the server failed internally.
pub const RCODE_SERVFAIL: u8 = 2;
/// 3 NXDOMAIN: the name does not exist.
pub const RCODE_NXDOMAIN: u8 = 3;
/// 4 NOTIMP: the opcode is not implemented.
pub const RCODE_NOTIMP: u8 = 4;
/// 5 REFUSED: policy forbids it.
pub const RCODE_REFUSED: u8 = 5;
/// 6 YXDOMAIN: a name exists that should not.
pub const RCODE_YXDOMAIN: u8 = 6;
/// 7 YXRRSET: an RRset exists that should not.
pub const RCODE_YXRRSET: u8 = 7;
/// 8 NXRRSET: an RRset that should exist does not.
pub const RCODE_NXRRSET: u8 = 8;
/// 9 NOTAUTH: not authoritative for the zone, or a TSIG failure.
pub const RCODE_NOTAUTH: u8 = 9;
/// 10 NOTZONE: a name is outside the zone section's zone.
pub const RCODE_NOTZONE: u8 = 10;

/// The mnemonic of a header RCODE (RFC 2136 §2.2), e.g. `NOTAUTH`.
fn rcode_name(rcode: u8) -> RcodeName {
    RcodeName(rcode)
}

/// Displays an RCODE mnemonic.
struct RcodeName(u8);

impl fmt::Display for RcodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.0 {
            RCODE_NOERROR => "NOERROR",
            RCODE_FORMERR => "FORMERR",
            RCODE_SERVFAIL => "SERVFAIL",
            RCODE_NXDOMAIN => "NXDOMAIN",
            RCODE_NOTIMP => "NOTIMP",
            RCODE_REFUSED => "REFUSED",
            RCODE_YXDOMAIN => "YXDOMAIN",
            RCODE_YXRRSET => "YXRRSET",
            RCODE_NXRRSET => "NXRRSET",
            RCODE_NOTAUTH => "NOTAUTH",
            RCODE_NOTZONE => "NOTZONE",
            n => return write!(f, "{n}"),
        };
        f.write_str(s)
    }
}

fn tsig_rcode_name(e: TsigRcode) -> String {
    match e {
        TsigRcode::NoError => "NOERROR".to_owned(),
        TsigRcode::BadSig => "BADSIG".to_owned(),
        TsigRcode::BadKey => "BADKEY".to_owned(),
        TsigRcode::BadTime => "BADTIME".to_owned(),
        TsigRcode::BadTrunc => "BADTRUNC".to_owned(),
        TsigRcode::Other(n) => n.to_string(),
    }
}

fn badkey(server: SocketAddr, key: &TsigKey) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Auth,
        format!(
            "{server} does not know tsig key {} with algorithm {} (NOTAUTH, BADKEY)",
            key.name, key.algorithm
        ),
    )
    .with_hint("the key name or algorithm do not match the server's: make tsig_name and tsig_algorithm equal the server's key statement")
}

fn badsig(server: SocketAddr, key: &TsigKey) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Auth,
        format!(
            "{server} rejected the signature made with tsig key {} (NOTAUTH, BADSIG)",
            key.name
        ),
    )
    .with_hint(format!(
        "wrong secret: tsig_secret (or tsig_secret_file / tsig_secret_env) does not match the server's secret for key {}",
        key.name
    ))
}

fn badtime(server: SocketAddr, server_time: u64, signed_at: u64) -> ProviderError {
    let offset = server_time as i64 - signed_at as i64;
    ProviderError::new(
        ProviderErrorKind::ClockSkew {
            offset_secs: offset,
        },
        format!(
            "{server} rejected the signing time (NOTAUTH, BADTIME): clocks differ by {offset} s"
        ),
    )
}

fn unverified(server: SocketAddr, e: &tsig::TsigError) -> ProviderError {
    protocol(format!(
        "the reply from {server} failed tsig verification: {e}"
    ))
}

/// A [`ProviderErrorKind::Protocol`] error saying `message`.
pub fn protocol(message: String) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Protocol, message)
}

/// A message that could not be built is the record's problem: [`ProviderErrorKind::Rejected`].
pub fn rejected_build(e: BuildError) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Rejected, e.to_string())
}

fn dns_name(f: &Fqdn) -> Result<Name, BuildError> {
    Name::from_ascii(f.dotted()).map_err(|_| BuildError::BadName(f.to_string()))
}

fn fqdn_of(n: &Name) -> Option<Fqdn> {
    Fqdn::parse_relaxed(&n.to_ascii()).ok()
}

fn same_name(n: &Name, f: &Fqdn) -> bool {
    fqdn_of(n).as_ref() == Some(f)
}

/// The hickory type of a record type.
pub fn dns_type(t: RecordType) -> DnsType {
    match t {
        RecordType::A => DnsType::A,
        RecordType::Aaaa => DnsType::AAAA,
    }
}

/// The uncompressed wire length of a name: a length byte per label, the labels, the root.
fn name_len(name: &Fqdn) -> usize {
    name.as_str().trim_end_matches('.').len() + 2
}

/// The most bytes `set`'s update RRs take: each RR's owner name uncompressed, type, class, TTL
/// and RDLENGTH (10 bytes) and, for each add, 4 or 16 bytes of address. Compression is not
/// counted on: hickory's encoder compresses only against the first 64 names it wrote
/// (`COMPRESSION_CANDIDATE_LIMIT`) and writes later ones whole.
fn rrset_len(set: &RrSet) -> usize {
    let owner = name_len(&set.name) + 10;
    let rdata = match set.rtype {
        RecordType::A => 4,
        RecordType::Aaaa => 16,
    };
    owner + addrs_of_type(set).count() * (owner + rdata)
}

#[cfg(test)]
mod tests;
