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
    if !desired.name.is_within(zone) {
        return Err(BuildError::OutsideZone {
            name: desired.name.to_string(),
            zone: zone.to_string(),
        });
    }
    let zone_name = dns_name(zone)?;
    let name = dns_name(&desired.name)?;
    let mut msg = Message::new(id, MessageType::Query, OpCode::Update);
    let mut z = Query::new();
    z.set_name(zone_name)
        .set_query_class(DNSClass::IN)
        .set_query_type(DnsType::SOA);
    msg.add_zone(z);
    let mut delete = Record::update0(name.clone(), 0, dns_type(desired.rtype));
    delete.dns_class = DNSClass::ANY;
    msg.add_update(delete);
    for addr in desired
        .addrs
        .iter()
        .filter(|a| Family::of(a).record_type() == desired.rtype)
    {
        let rdata = match addr {
            IpAddr::V4(v4) => RData::A(A(*v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
        };
        msg.add_update(Record::from_rdata(name.clone(), desired.ttl.0, rdata));
    }
    Ok(msg)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::sign::tsig::TsigAlgorithm;
    use crate::secret::Secret;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn fqdn(s: &str) -> Fqdn {
        Fqdn::parse_relaxed(s).unwrap()
    }

    fn rrset(name: &str, rtype: RecordType, addrs: &[&str]) -> RrSet {
        RrSet {
            name: fqdn(name),
            rtype,
            ttl: Ttl(300),
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn key() -> TsigKey {
        TsigKey {
            name: fqdn("ddnsd-key"),
            algorithm: TsigAlgorithm::HmacSha256,
            secret: Secret::new(b"secret-key-for-ddnsd-tests-32bytes!".to_vec()),
        }
    }

    fn server() -> SocketAddr {
        "127.0.0.1:5300".parse().unwrap()
    }

    /// The unsigned request of the providers doc §3.1, byte for byte.
    #[test]
    fn update_matches_the_doc_vector() {
        let msg = update_message(
            &fqdn("example.test"),
            &rrset("host.example.test", RecordType::Aaaa, &["2001:db8::1"]),
            0x1234,
        )
        .unwrap();
        assert_eq!(
            msg.to_vec().unwrap(),
            hex("123428000001000000020000076578616d706c650474657374000006000104686f7374c00c001c00ff000000000000c01e001c00010000012c001020010db8000000000000000000000001")
        );
        let signed =
            tsig::sign_request(&key(), &msg.to_vec().unwrap(), 1_700_000_000, 300).unwrap();
        assert_eq!(
            signed.mac,
            hex("199b849657b0594afdcdac8f3270baf79da0f67baeef15f9067a9a7285644e77")
        );
    }

    #[test]
    fn update_builder_table() {
        // (rrset, expected update section as (class, type, ttl, rdata text))
        type UpdateRr = (DNSClass, DnsType, u32, String);
        let cases: Vec<(RrSet, Vec<UpdateRr>)> = vec![
            (
                rrset(
                    "host.example.test",
                    RecordType::A,
                    &["192.0.2.2", "192.0.2.1"],
                ),
                vec![
                    (DNSClass::ANY, DnsType::A, 0, String::new()),
                    (DNSClass::IN, DnsType::A, 300, "192.0.2.1".into()),
                    (DNSClass::IN, DnsType::A, 300, "192.0.2.2".into()),
                ],
            ),
            (
                rrset("host.example.test", RecordType::Aaaa, &[]),
                vec![(DNSClass::ANY, DnsType::AAAA, 0, String::new())],
            ),
            (
                // Addresses of the other family never leak into the set.
                rrset(
                    "example.test",
                    RecordType::Aaaa,
                    &["2001:db8::5", "192.0.2.9"],
                ),
                vec![
                    (DNSClass::ANY, DnsType::AAAA, 0, String::new()),
                    (DNSClass::IN, DnsType::AAAA, 300, "2001:db8::5".into()),
                ],
            ),
        ];
        for (set, want) in cases {
            let msg = update_message(&fqdn("example.test"), &set, 7).unwrap();
            assert_eq!(msg.metadata.op_code, OpCode::Update);
            assert_eq!(msg.queries.len(), 1, "one zone entry");
            assert_eq!(msg.queries[0].query_type(), DnsType::SOA);
            assert_eq!(msg.queries[0].name().to_ascii(), "example.test.");
            assert!(msg.answers.is_empty(), "no prerequisites");
            let got: Vec<_> = msg
                .authorities
                .iter()
                .map(|r| {
                    let data = match &r.data {
                        RData::A(a) => a.0.to_string(),
                        RData::AAAA(a) => a.0.to_string(),
                        _ => String::new(),
                    };
                    assert!(same_name(&r.name, &set.name));
                    (r.dns_class, r.record_type(), r.ttl, data)
                })
                .collect();
            assert_eq!(got, want, "{}", set.key());
        }
        assert_eq!(
            update_message(
                &fqdn("example.test"),
                &rrset("host.other.test", RecordType::A, &[]),
                1
            )
            .unwrap_err()
            .to_string(),
            "host.other.test is not inside zone example.test"
        );
    }

    fn sent<'a>(key: Option<&'a TsigKey>, mac: &'a [u8], signed_at: u64) -> Sent<'a> {
        Sent {
            server: server(),
            key,
            request_mac: mac,
            signed_at,
        }
    }

    /// An UPDATE reply header + echoed zone, RCODE `rcode`, no records.
    fn reply(rcode: u8) -> Vec<u8> {
        let mut r = hex("1234a8000001000000000000076578616d706c6504746573740000060001");
        r[3] |= rcode;
        r
    }

    /// An unsigned TSIG record with `error` (how BIND and Knot send BADKEY / BADSIG).
    fn with_unsigned_tsig(mut r: Vec<u8>, error: u16) -> Vec<u8> {
        r[11] = 1;
        r.extend(hex("0964646e73642d6b657900 00fa 00ff 00000000 001d 0b686d61632d73686132353600 0000 6553f100 012c 0000 1234"));
        r.extend(error.to_be_bytes());
        r.extend(hex("0000"));
        r
    }

    impl Verdict {
        /// The trusted result; panics on an untrusted reply.
        fn trusted(self) -> Result<CheckedReply, ProviderError> {
            match self {
                Verdict::Trusted(r) => r,
                Verdict::Untrusted(u) => panic!("untrusted: {u:?}"),
            }
        }

        /// The untrusted claim; panics on a trusted reply.
        fn untrusted(self) -> Untrusted {
            match self {
                Verdict::Untrusted(u) => u,
                Verdict::Trusted(r) => panic!("trusted: {r:?}"),
            }
        }
    }

    /// See: issue 8 (item 3). BADKEY / BADSIG come unsigned (RFC 8945 §5.3.2), so anyone can
    /// send them: they are remembered in the server's words (the message and hint users know),
    /// but as a transient claim, never Auth.
    #[test]
    fn unsigned_badkey_and_badsig_are_untrusted_claims_in_the_servers_words() {
        let k = key();
        let u = check_reply(
            &sent(Some(&k), &[1; 32], 1_700_000_000),
            &with_unsigned_tsig(reply(9), 17),
        )
        .untrusted();
        assert_eq!(u.why, Distrust::UnsignedTsigError);
        assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
        assert_eq!(
            u.claim.message,
            "127.0.0.1:5300 does not know tsig key ddnsd-key with algorithm hmac-sha256 (NOTAUTH, BADKEY)"
        );
        let hint = u.claim.hint().unwrap();
        assert!(
            hint.contains("tsig_name") && hint.contains("tsig_algorithm"),
            "{hint}"
        );

        let u = check_reply(
            &sent(Some(&k), &[1; 32], 1_700_000_000),
            &with_unsigned_tsig(reply(9), 16),
        )
        .untrusted();
        assert_eq!(u.why, Distrust::UnsignedTsigError);
        assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
        assert_eq!(
            u.claim.message,
            "127.0.0.1:5300 rejected the signature made with tsig key ddnsd-key (NOTAUTH, BADSIG)"
        );
        let hint = u.claim.hint().unwrap();
        assert!(
            hint.starts_with("wrong secret") && hint.contains("tsig_secret"),
            "{hint}"
        );
        // An unsigned TSIG record with any other error is just unsigned.
        let u = check_reply(
            &sent(Some(&k), &[1; 32], 1_700_000_000),
            &with_unsigned_tsig(reply(0), 0),
        )
        .untrusted();
        assert_eq!(u.why, Distrust::Unsigned);
        assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
    }

    #[test]
    fn badtime_reply_is_clock_skew_with_measured_offset() {
        let k = key();
        let signed_at = 1_700_000_000;
        let req_mac = [9u8; 32];
        let server_time: u64 = 0x6b06145e;
        let r = tsig::sign_reply(
            &k,
            &req_mac,
            &reply(9),
            signed_at,
            300,
            18,
            &hex("00006b06145e"),
        )
        .unwrap();
        let e = check_reply(&sent(Some(&k), &req_mac, signed_at), &r)
            .trusted()
            .unwrap_err();
        let offset = (server_time - signed_at) as i64;
        assert_eq!(
            e.kind,
            ProviderErrorKind::ClockSkew {
                offset_secs: offset
            }
        );
        assert_eq!(
            e.message,
            format!("127.0.0.1:5300 rejected the signing time (NOTAUTH, BADTIME): clocks differ by {offset} s")
        );
        // A BADTIME reply signed over another request MAC does not verify: not trusted.
        let u = check_reply(&sent(Some(&k), &[0u8; 32], signed_at), &r).untrusted();
        assert_eq!(u.why, Distrust::FailedVerification);
        assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
    }

    /// See: issue 8 (item 3). With a key, only a verified reply is acted on — whatever its
    /// RCODE; without one, every reply is.
    #[test]
    fn with_a_key_only_verified_replies_are_trusted() {
        let k = key();
        let mac = [5u8; 32];
        let now = 1_800_000_000;
        let good = tsig::sign_reply(&k, &mac, &reply(0), now + 2, 300, 0, &[]).unwrap();
        assert_eq!(
            check_reply(&sent(Some(&k), &mac, now), &good)
                .trusted()
                .unwrap()
                .rcode,
            0
        );
        let refused = tsig::sign_reply(&k, &mac, &reply(5), now, 300, 0, &[]).unwrap();
        assert_eq!(
            check_reply(&sent(Some(&k), &mac, now), &refused)
                .trusted()
                .unwrap()
                .rcode,
            5,
            "a signed REFUSED is the server's word"
        );

        let mut flipped = good.clone();
        flipped[3] = 0x05; // NOERROR → REFUSED under the same MAC
        let other_key = TsigKey {
            secret: Secret::new(b"a-forger-does-not-know-the-secret".to_vec()),
            ..key()
        };
        let renamed = TsigKey {
            name: fqdn("other-key"),
            ..key()
        };
        // (reply, why, message fragment)
        let cases: Vec<(Vec<u8>, Distrust, &str)> = vec![
            (reply(0), Distrust::Unsigned, "the reply from 127.0.0.1:5300 is not signed although the request was signed with key ddnsd-key; not trusting it"),
            (reply(5), Distrust::Unsigned, "the REFUSED reply from 127.0.0.1:5300 is not signed although the request was signed with key ddnsd-key; not trusting it"),
            (flipped, Distrust::FailedVerification, "the reply from 127.0.0.1:5300 failed tsig verification: the reply's MAC does not verify"),
            (
                tsig::sign_reply(&other_key, &mac, &reply(0), now, 300, 0, &[]).unwrap(),
                Distrust::FailedVerification,
                "the reply's MAC does not verify",
            ),
            (
                tsig::sign_reply(&renamed, &mac, &reply(0), now, 300, 0, &[]).unwrap(),
                Distrust::FailedVerification,
                "not the request's key",
            ),
            (good[..good.len() - 3].to_vec(), Distrust::Undecodable, "could not read the tsig record"),
            (good[..7].to_vec(), Distrust::Undecodable, "shorter than a dns header"),
        ];
        for (bytes, why, fragment) in cases {
            let rcode = (why == Distrust::Unsigned && bytes[3] != 0).then_some(bytes[3]);
            let u = check_reply(&sent(Some(&k), &mac, now), &bytes).untrusted();
            assert_eq!(u.rcode, rcode, "{}", u.claim.message);
            assert_eq!(u.why, why, "{}", u.claim.message);
            assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
            assert!(u.claim.message.contains(fragment), "{}", u.claim.message);
        }

        let late = tsig::sign_reply(&k, &mac, &reply(0), now + 1000, 300, 0, &[]).unwrap();
        let e = check_reply(&sent(Some(&k), &mac, now), &late)
            .trusted()
            .unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::ClockSkew { offset_secs: 1000 });

        // Without a key nothing can be verified: every reply is taken as it comes.
        assert_eq!(
            check_reply(&sent(None, &[], now), &reply(0))
                .trusted()
                .unwrap()
                .rcode,
            0
        );
        assert_eq!(
            check_reply(&sent(None, &[], now), &reply(5))
                .trusted()
                .unwrap()
                .rcode,
            5
        );
        assert_eq!(
            check_reply(&sent(None, &[], now), &reply(0)[..5])
                .trusted()
                .unwrap_err()
                .kind,
            ProviderErrorKind::Protocol
        );
        // The strongest claim wins when only untrusted replies come.
        assert!(Distrust::UnsignedTsigError > Distrust::FailedVerification);
        assert!(Distrust::FailedVerification > Distrust::Unsigned);
        assert!(Distrust::Unsigned > Distrust::Undecodable);
    }

    #[test]
    fn update_rcode_to_kind_table() {
        let zone = fqdn("example.test");
        let rkey = RecordKey {
            name: fqdn("host.example.test"),
            rtype: RecordType::Aaaa,
        };
        let kname = fqdn("ddnsd-key");
        let ctx = UpdateContext {
            server: server(),
            zone: &zone,
            key: &rkey,
            tsig_name: Some(&kname),
        };
        use ProviderErrorKind as K;
        let table: &[(u8, Option<K>, &str, &str)] = &[
            (0, None, "", ""),
            (
                1,
                Some(K::Rejected),
                "could not parse the update of host.example.test AAAA (FORMERR)",
                "",
            ),
            (
                2,
                Some(K::Transient),
                "127.0.0.1:5300 failed to apply the update of host.example.test AAAA (SERVFAIL)",
                "",
            ),
            (
                3,
                Some(K::Rejected),
                "(NXDOMAIN) although ddnsd sends none",
                "",
            ),
            (
                4,
                Some(K::Rejected),
                "does not implement dynamic updates (NOTIMP)",
                "enable dynamic updates",
            ),
            (
                5,
                Some(K::Forbidden),
                "127.0.0.1:5300 refused the update of host.example.test AAAA (REFUSED)",
                "update policy does not allow this name",
            ),
            (6, Some(K::Rejected), "(YXDOMAIN)", ""),
            (7, Some(K::Rejected), "(YXRRSET)", ""),
            (8, Some(K::Rejected), "(NXRRSET)", ""),
            (
                9,
                Some(K::ZoneNotFound),
                "127.0.0.1:5300 is not authoritative for zone example.test (NOTAUTH)",
                "check zone",
            ),
            (
                10,
                Some(K::Rejected),
                "host.example.test is outside zone example.test (NOTZONE)",
                "wrong zone",
            ),
            (15, Some(K::Protocol), "unexpected rcode 15", ""),
        ];
        for (rcode, kind, msg, hint) in table {
            let got = update_rcode_error(&ctx, *rcode);
            assert_eq!(
                got.as_ref().map(|e| e.kind.clone()),
                kind.clone(),
                "rcode {rcode}"
            );
            if let Some(e) = got {
                assert!(e.message.contains(msg), "rcode {rcode}: {}", e.message);
                assert!(
                    e.hint().unwrap_or_default().contains(hint),
                    "rcode {rcode}: {:?}",
                    e.hint()
                );
                assert!(
                    !e.message.starts_with(|c: char| c.is_ascii_uppercase()),
                    "lower-case clause"
                );
                assert!(!e.message.ends_with('.'));
            }
        }
        let refused = update_rcode_error(&ctx, 5).unwrap();
        assert!(refused.hint().unwrap().contains("key ddnsd-key"));
    }

    #[test]
    fn zone_from_soa_replies() {
        use hickory_proto::rr::rdata::SOA;
        let soa = |owner: &str| {
            Record::from_rdata(
                Name::from_ascii(owner).unwrap(),
                300,
                RData::SOA(SOA::new(
                    Name::from_ascii("ns1.example.test.").unwrap(),
                    Name::from_ascii("hostmaster.example.test.").unwrap(),
                    1,
                    3600,
                    900,
                    604800,
                    300,
                )),
            )
        };
        let mut nx = Message::new(1, MessageType::Response, OpCode::Query);
        nx.add_authority(soa("example.test."));
        assert_eq!(
            zone_from_soa_reply(&nx, &fqdn("host.example.test")),
            Some(fqdn("example.test"))
        );
        let mut apex = Message::new(1, MessageType::Response, OpCode::Query);
        apex.add_answer(soa("example.test."));
        assert_eq!(
            zone_from_soa_reply(&apex, &fqdn("example.test")),
            Some(fqdn("example.test"))
        );
        let empty = Message::new(1, MessageType::Response, OpCode::Query);
        assert_eq!(
            zone_from_soa_reply(&empty, &fqdn("host.example.test")),
            None
        );
        // An SOA of an unrelated zone is ignored.
        let mut other = Message::new(1, MessageType::Response, OpCode::Query);
        other.add_authority(soa("other.test."));
        assert_eq!(
            zone_from_soa_reply(&other, &fqdn("host.example.test")),
            None
        );
    }
}
