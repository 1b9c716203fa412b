//! `kind = "dns"`: ask a DNS server for a "what is my IP" answer (OpenDNS `myip.opendns.com`,
//! Cloudflare `whoami.cloudflare` TXT CH, Google `o-o.myaddr.l.google.com` TXT), over UDP with
//! TCP fallback on truncation, on a socket of the source's family sent straight to the
//! resolver's IP (never the system resolver). Messages are built and read by pure functions
//! (hickory-proto); the wire exchange is the one shared with the rfc2136 provider
//! ([`crate::dns`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use futures::future::BoxFuture;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};

use super::policy::{judge_address, PolicyOptions, SkipReason, Verdict};
use super::{Candidate, Detection, Source, SourceError};
use crate::dns::{self, ExchangeError, Sieve};
use crate::record::Family;

/// The default time allowed for the whole exchange (UDP, then TCP if truncated).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of a dns source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsSourceSettings {
    /// The family asked for (the resolver's address has this family).
    pub family: Family,
    /// Where the query is sent.
    pub resolver: SocketAddr,
    /// What is asked.
    pub query: DnsQuery,
    /// Time allowed.
    pub timeout: Duration,
    /// Rules the answer is judged by.
    pub policy: PolicyOptions,
}

/// The question: name, type and class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuery {
    /// Fully qualified name, e.g. `whoami.cloudflare.`.
    pub name: String,
    /// The record type.
    pub rtype: QueryType,
    /// The class.
    pub class: QueryClass,
}

impl fmt::Display for DnsQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.name, self.rtype, self.class)
    }
}

/// The record types a whoami answer comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryType {
    /// An IPv4 address record.
    A,
    /// An IPv6 address record.
    Aaaa,
    /// Text holding the address.
    Txt,
}

impl fmt::Display for QueryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryType::A => "A",
            QueryType::Aaaa => "AAAA",
            QueryType::Txt => "TXT",
        })
    }
}

/// The classes used by whoami services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryClass {
    /// Internet.
    In,
    /// Chaos (Cloudflare's `whoami.cloudflare`).
    Ch,
}

impl fmt::Display for QueryClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryClass::In => "IN",
            QueryClass::Ch => "CH",
        })
    }
}

/// A named preset: the question and the server that answers it for a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// `myip.opendns.com` A/AAAA at resolver1.opendns.com.
    OpenDns,
    /// `whoami.cloudflare` TXT CH at 1.1.1.1 / 2606:4700:4700::1111.
    Cloudflare,
    /// `o-o.myaddr.l.google.com` TXT at ns1.google.com (asked directly: through a recursive
    /// resolver the answer is the resolver's address).
    Google,
}

/// The preset names as written in the config.
pub const PRESETS: &[&str] = &["opendns", "cloudflare", "google"];

impl Preset {
    /// Parses a config spelling.
    pub fn parse(s: &str) -> Option<Preset> {
        match s {
            "opendns" => Some(Preset::OpenDns),
            "cloudflare" => Some(Preset::Cloudflare),
            "google" => Some(Preset::Google),
            _ => None,
        }
    }

    /// The question for `family`.
    pub fn query(self, family: Family) -> DnsQuery {
        let (name, rtype, class) = match self {
            Preset::OpenDns => (
                "myip.opendns.com.",
                match family {
                    Family::Ipv6 => QueryType::Aaaa,
                    Family::Ipv4 => QueryType::A,
                },
                QueryClass::In,
            ),
            Preset::Cloudflare => ("whoami.cloudflare.", QueryType::Txt, QueryClass::Ch),
            Preset::Google => ("o-o.myaddr.l.google.com.", QueryType::Txt, QueryClass::In),
        };
        DnsQuery {
            name: name.to_owned(),
            rtype,
            class,
        }
    }

    /// The server that answers it over `family`.
    pub fn resolver(self, family: Family) -> SocketAddr {
        let ip: IpAddr = match (self, family) {
            (Preset::OpenDns, Family::Ipv4) => Ipv4Addr::new(208, 67, 222, 222).into(),
            // resolver1.opendns.com's IPv6 address [unverified: the service is documented for
            // resolver1.ipv6-sandbox.opendns.com too].
            (Preset::OpenDns, Family::Ipv6) => {
                Ipv6Addr::new(0x2620, 0x119, 0x35, 0, 0, 0, 0, 0x35).into()
            }
            (Preset::Cloudflare, Family::Ipv4) => Ipv4Addr::new(1, 1, 1, 1).into(),
            (Preset::Cloudflare, Family::Ipv6) => {
                Ipv6Addr::new(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1111).into()
            }
            // ns1.google.com.
            (Preset::Google, Family::Ipv4) => Ipv4Addr::new(216, 239, 32, 10).into(),
            (Preset::Google, Family::Ipv6) => {
                Ipv6Addr::new(0x2001, 0x4860, 0x4802, 0x32, 0, 0, 0, 0xa).into()
            }
        };
        SocketAddr::new(ip, 53)
    }
}

/// Why the DNS exchange gave no address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsFailure {
    /// The query name is not a valid DNS name (config guards against it).
    #[error("{0:?} is not a valid dns name")]
    BadName(String),
    /// A socket operation failed.
    #[error("{during} failed: {error}")]
    Io {
        /// What was being done ("udp send", "tcp connect"…).
        during: &'static str,
        /// The OS error.
        error: String,
    },
    /// No reply in time.
    #[error("no answer within {}s", .0.as_secs_f32())]
    Timeout(Duration),
    /// The reply could not be decoded.
    #[error("malformed reply: {0}")]
    Malformed(String),
    /// The server answered with an error code.
    #[error("server answered {0}")]
    Rcode(String),
    /// The reply holds no record of the asked type.
    #[error("the reply has no {0} record")]
    NoAnswer(QueryType),
    /// A TXT string is not an address.
    #[error("answer {0:?} is not an ip address")]
    Unparsable(String),
}

/// Builds the query message (pure).
pub fn build_query(q: &DnsQuery, id: u16) -> Result<Vec<u8>, DnsFailure> {
    let name = Name::from_ascii(&q.name).map_err(|_| DnsFailure::BadName(q.name.clone()))?;
    let mut query = Query::query(name, record_type(q.rtype));
    query.set_query_class(match q.class {
        QueryClass::In => DNSClass::IN,
        QueryClass::Ch => DNSClass::CH,
    });
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(query);
    msg.to_vec()
        .map_err(|e| DnsFailure::Malformed(e.to_string()))
}

/// What a reply says: addresses, or that it was truncated and must be asked over TCP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The addresses found in the answer section.
    Addresses(Vec<IpAddr>),
    /// The TC bit is set: ask again over TCP.
    Truncated,
}

/// Reads a reply to query `id` (pure). TXT strings are parsed as addresses; Google's
/// `edns0-client-subnet …` note is ignored.
pub fn read_reply(bytes: &[u8], id: u16, rtype: QueryType) -> Result<Reply, DnsFailure> {
    let msg = Message::from_vec(bytes).map_err(|e| DnsFailure::Malformed(e.to_string()))?;
    if msg.metadata.id != id || msg.metadata.message_type != MessageType::Response {
        return Err(DnsFailure::Malformed(
            "reply does not match the query".into(),
        ));
    }
    if msg.metadata.truncation {
        return Ok(Reply::Truncated);
    }
    if msg.metadata.response_code != ResponseCode::NoError {
        return Err(DnsFailure::Rcode(msg.metadata.response_code.to_string()));
    }
    let mut out = Vec::new();
    for r in &msg.answers {
        match (&r.data, rtype) {
            (RData::A(a), QueryType::A) => out.push(IpAddr::V4(a.0)),
            (RData::AAAA(a), QueryType::Aaaa) => out.push(IpAddr::V6(a.0)),
            (RData::TXT(t), QueryType::Txt) => {
                for part in t.txt_data.iter() {
                    let s = String::from_utf8_lossy(part);
                    let s = s.trim().trim_matches('"');
                    if s.starts_with("edns0-client-subnet") {
                        continue;
                    }
                    out.push(
                        s.parse()
                            .map_err(|_| DnsFailure::Unparsable(s.to_owned()))?,
                    );
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(DnsFailure::NoAnswer(rtype));
    }
    Ok(Reply::Addresses(out))
}

fn record_type(t: QueryType) -> RecordType {
    match t {
        QueryType::A => RecordType::A,
        QueryType::Aaaa => RecordType::AAAA,
        QueryType::Txt => RecordType::TXT,
    }
}

/// Asks a DNS server for this machine's address.
#[derive(Debug)]
pub struct DnsSource {
    name: String,
    settings: DnsSourceSettings,
}

impl DnsSource {
    /// A dns source named `name`.
    pub fn new(name: String, settings: DnsSourceSettings) -> DnsSource {
        DnsSource { name, settings }
    }

    /// `RESOLVER NAME TYPE CLASS`, as shown in `detect` and errors.
    pub fn origin(&self) -> String {
        format!("{} {}", self.settings.resolver, self.settings.query)
    }

    async fn detect_now(&self) -> Result<Detection, SourceError> {
        let s = &self.settings;
        let origin = self.origin();
        let addrs = tokio::time::timeout(s.timeout, exchange(s))
            .await
            .map_err(|_| DnsFailure::Timeout(s.timeout))
            .and_then(|r| r)
            .map_err(|failure| SourceError::Dns {
                origin: origin.clone(),
                failure,
            })?;
        let candidates = addrs
            .into_iter()
            .map(|addr| Candidate {
                addr,
                origin: origin.clone(),
                verdict: if Family::of(&addr) == s.family {
                    judge_address(&addr, &s.policy)
                } else {
                    Verdict::Skipped(SkipReason::WrongFamily)
                },
                detail: None,
                lifetime: None,
            })
            .collect();
        Ok(Detection {
            source: self.name.clone(),
            candidates,
        })
    }
}

/// One query through the shared exchange ([`crate::dns`]): UDP, then TCP if the reply was
/// truncated, on a socket of the resolver's family (the config makes it the source's), so the
/// server sees this machine over that family.
async fn exchange(s: &DnsSourceSettings) -> Result<Vec<IpAddr>, DnsFailure> {
    let id: u16 = rand::random();
    let query = build_query(&s.query, id)?;
    let ex = dns::Exchange {
        server: s.resolver,
        request: &query,
        timeout: s.timeout,
        udp_sends: 1,
    };
    let answer = dns::exchange(&ex, |reply| match read_reply(reply, id, s.query.rtype) {
        // Not decodable as an answer to this query: keep waiting for one that is.
        Err(DnsFailure::Malformed(_)) => Sieve::Skip,
        Ok(Reply::Truncated) => {
            Sieve::Take(Err(DnsFailure::Malformed("truncated over tcp".into())))
        }
        Ok(Reply::Addresses(a)) => Sieve::Take(Ok(a)),
        Err(e) => Sieve::Take(Err(e)),
    })
    .await
    .map_err(|e| match e {
        ExchangeError::Unreachable { step, error } | ExchangeError::Broken { step, error } => {
            DnsFailure::Io {
                during: step.as_str(),
                error: error.to_string(),
            }
        }
        ExchangeError::ConnectTimeout(_) | ExchangeError::NoReply { .. } => {
            DnsFailure::Timeout(s.timeout)
        }
        ExchangeError::Oversized(_) => DnsFailure::Malformed("query too long".into()),
    })?;
    answer
}

impl Source for DnsSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn families(&self) -> Vec<Family> {
        vec![self.settings.family]
    }

    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        Box::pin(self.detect_now())
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::rdata::{A, TXT};
    use hickory_proto::rr::Record;

    use super::*;

    fn reply(id: u16, rdata: Vec<RData>, tc: bool) -> Vec<u8> {
        let mut m = Message::new(id, MessageType::Response, OpCode::Query);
        m.metadata.truncation = tc;
        for d in rdata {
            m.add_answer(Record::from_rdata(Name::from_ascii("x.").unwrap(), 0, d));
        }
        m.to_vec().unwrap()
    }

    #[test]
    fn presets_and_replies() {
        let q = Preset::Cloudflare.query(Family::Ipv6);
        assert_eq!(q.to_string(), "whoami.cloudflare. TXT CH");
        let bytes = build_query(&q, 7).unwrap();
        let m = Message::from_vec(&bytes).unwrap();
        assert_eq!(m.queries[0].query_class(), DNSClass::CH);
        assert_eq!(Preset::OpenDns.query(Family::Ipv4).rtype, QueryType::A);
        assert_eq!(
            Preset::Google.resolver(Family::Ipv4).to_string(),
            "216.239.32.10:53"
        );

        let txt = RData::TXT(TXT::new(vec!["\"2001:db8::5\"".into()]));
        assert_eq!(
            read_reply(&reply(7, vec![txt], false), 7, QueryType::Txt).unwrap(),
            Reply::Addresses(vec!["2001:db8::5".parse().unwrap()])
        );
        let ecs = RData::TXT(TXT::new(vec!["edns0-client-subnet 192.0.2.0/24".into()]));
        let a = RData::TXT(TXT::new(vec!["203.0.113.5".into()]));
        assert_eq!(
            read_reply(&reply(7, vec![ecs, a], false), 7, QueryType::Txt).unwrap(),
            Reply::Addresses(vec!["203.0.113.5".parse().unwrap()])
        );
        assert_eq!(
            read_reply(&reply(7, vec![], true), 7, QueryType::A).unwrap(),
            Reply::Truncated
        );
        assert_eq!(
            read_reply(&reply(7, vec![], false), 7, QueryType::A)
                .unwrap_err()
                .to_string(),
            "the reply has no A record"
        );
        let bad = RData::TXT(TXT::new(vec!["hello".into()]));
        assert_eq!(
            read_reply(&reply(7, vec![bad], false), 7, QueryType::Txt)
                .unwrap_err()
                .to_string(),
            "answer \"hello\" is not an ip address"
        );
        let a = RData::A(A(Ipv4Addr::new(203, 0, 113, 1)));
        assert!(matches!(
            read_reply(&reply(8, vec![a], false), 7, QueryType::A),
            Err(DnsFailure::Malformed(_))
        ));
    }

    /// `n` cases per property in CI; a long run sets `PROPTEST_CASES` (docs/design/testing.md).
    fn cases(n: u32) -> proptest::test_runner::Config {
        let config = proptest::test_runner::Config::default();
        if std::env::var_os("PROPTEST_CASES").is_some() {
            config
        } else {
            proptest::test_runner::Config { cases: n, ..config }
        }
    }

    use proptest::prelude::*;

    fn qtype(i: u8) -> QueryType {
        [QueryType::A, QueryType::Aaaa, QueryType::Txt][usize::from(i % 3)]
    }

    proptest! {
        #![proptest_config(cases(2000))]

        /// See: issue 8 (fuzzing). Arbitrary bytes: addresses or an error, never a panic, and
        /// never more addresses than the bytes could carry.
        #[test]
        fn read_reply_takes_arbitrary_bytes_without_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            t in any::<u8>(),
        ) {
            let id = bytes.first().map_or(0, |b| u16::from(*b) << 8);
            if let Ok(Reply::Addresses(a)) = read_reply(&bytes, id, qtype(t)) {
                prop_assert!(!a.is_empty() && a.len() <= bytes.len() / 4);
            }
        }

        /// Real whoami answers (TXT, A, AAAA) with bytes overwritten or cut short: no panic,
        /// and an answer is only ever an address of the asked type.
        #[test]
        fn damaged_whoami_answers_never_panic(
            t in any::<u8>(),
            hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let rtype = qtype(t);
            let rdata = match rtype {
                QueryType::A => RData::A(A(Ipv4Addr::new(203, 0, 113, 7))),
                QueryType::Aaaa => RData::AAAA(hickory_proto::rr::rdata::AAAA(
                    "2001:db8::7".parse().unwrap(),
                )),
                QueryType::Txt => RData::TXT(TXT::new(vec!["2001:db8::7".into()])),
            };
            let mut bytes = reply(7, vec![rdata], false);
            prop_assert!(matches!(read_reply(&bytes, 7, rtype), Ok(Reply::Addresses(_))));
            for (at, value) in hits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let keep = cut.index(bytes.len() + 1);
            for b in [&bytes[..], &bytes[..keep]] {
                if let Ok(Reply::Addresses(a)) = read_reply(b, 7, rtype) {
                    for addr in a {
                        let family_ok = match rtype {
                            QueryType::A => addr.is_ipv4(),
                            QueryType::Aaaa => addr.is_ipv6(),
                            QueryType::Txt => true,
                        };
                        prop_assert!(family_ok, "{addr} for {rtype}");
                    }
                }
            }
        }
    }
}
