//! The dyndns2 wire format, pure: the update URL (where each family's addresses go), its
//! Basic auth header, and the parsing of an answer line into an [`Answer`]. What an answer
//! means is `codes.rs`'s job.

use std::net::IpAddr;

use base64::Engine as _;

use super::Dialect;
use crate::record::{AddrSet, Family};

/// `Basic base64(user:password)` (RFC 7617).
pub(super) fn basic_auth(user: &str, password: &str) -> String {
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
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
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
