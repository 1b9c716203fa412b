//! `kind = "http"`: ask "what is my IP" echo services over HTTP(S), the connection forced onto
//! the source's family. Strict parsing: a bare address, or the `ip=` line of a Cloudflare
//! trace body (`../shared/providers/address-echo-services.md` §1); anything else is an error.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use futures::future::BoxFuture;

use super::policy::{judge_address, PolicyOptions, SkipReason, Verdict};
use super::{Candidate, Detection, Source, SourceError};
use crate::http::{HttpClient, HttpError, HttpSettings};
use crate::record::Family;

/// The built-in IPv6 echo services, tried in order (`urls` replaces them).
pub const DEFAULT_URLS_V6: &[&str] = &[
    "https://api6.ipify.org",
    // Reachable from mainland China, where the others may not be.
    "https://6.ipw.cn",
    "https://ipv6.icanhazip.com",
];

/// The built-in IPv4 echo services, tried in order (`urls` replaces them).
pub const DEFAULT_URLS_V4: &[&str] = &[
    "https://api.ipify.org",
    "https://4.ipw.cn",
    "https://ipv4.icanhazip.com",
];

/// The default time allowed per URL.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How much of an unexpected body is quoted in an error.
const HEAD_CHARS: usize = 48;

/// Settings of an http source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSourceSettings {
    /// The family asked for; the connection is forced onto it.
    pub family: Family,
    /// The echo services, in order.
    pub urls: Vec<String>,
    /// `Some(n)`: ask every URL and require `n` to agree; `None`: first URL that answers.
    pub consensus: Option<usize>,
    /// Time allowed per URL.
    pub timeout: Duration,
    /// Rules the answer is judged by (ULA, private).
    pub policy: PolicyOptions,
}

/// The defaults for a family.
pub fn default_urls(family: Family) -> Vec<String> {
    let urls = match family {
        Family::Ipv6 => DEFAULT_URLS_V6,
        Family::Ipv4 => DEFAULT_URLS_V4,
    };
    urls.iter().map(|u| (*u).to_owned()).collect()
}

/// One URL that gave no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoFailure {
    /// The URL.
    pub url: String,
    /// Why.
    pub reason: EchoReason,
}

impl fmt::Display for EchoFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.reason)
    }
}

/// Why one echo service gave no usable answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EchoReason {
    /// No reply (connection, timeout, bad URL).
    #[error("{0}")]
    Http(HttpError),
    /// A status other than 200.
    #[error("server answered {status} (body starts {head:?})")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The first characters of the body.
        head: String,
    },
    /// The body is not an address nor a Cloudflare trace.
    #[error("answer is not an ip address (body starts {head:?})")]
    Unparsable {
        /// The first characters of the body.
        head: String,
    },
    /// The address is of the other family (the service or the URL ignores the forced family).
    #[error("answered {addr}, which is not {family}")]
    WrongFamily {
        /// The answer.
        addr: IpAddr,
        /// The family asked for.
        family: Family,
    },
    /// The URL's host is an IP literal of the other family.
    #[error("the url's host is an {literal} address but the source asks for {family}")]
    UrlWrongFamily {
        /// The literal's family.
        literal: Family,
        /// The family asked for.
        family: Family,
    },
}

/// Joins failures for a message.
pub fn list(failures: &[EchoFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Describes a failed vote: every answer, then every failure.
pub fn disagreement(answers: &[(String, IpAddr)], failures: &[EchoFailure]) -> String {
    let mut parts: Vec<String> = answers
        .iter()
        .map(|(u, a)| format!("{u} said {a}"))
        .collect();
    parts.extend(failures.iter().map(ToString::to_string));
    parts.join("; ")
}

/// Parses an echo body strictly: one address (surrounding whitespace ignored), or the `ip=`
/// line of a Cloudflare `/cdn-cgi/trace` body (every line `key=value`).
pub fn parse_body(body: &[u8]) -> Result<IpAddr, EchoReason> {
    let unparsable = || EchoReason::Unparsable { head: head(body) };
    let text = std::str::from_utf8(body).map_err(|_| unparsable())?;
    let trimmed = text.trim();
    if let Ok(a) = trimmed.parse::<IpAddr>() {
        return Ok(a);
    }
    let lines: Vec<&str> = trimmed.lines().map(str::trim).collect();
    if lines.len() > 1 && lines.iter().all(|l| l.contains('=')) {
        let ips: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix("ip=")).collect();
        if let [one] = ips.as_slice() {
            return one.parse().map_err(|_| unparsable());
        }
    }
    Err(unparsable())
}

/// The first characters of a body, for quoting in a message.
pub fn head(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(HEAD_CHARS).collect();
    if text.chars().count() > HEAD_CHARS {
        s.push('…');
    }
    s
}

/// Asks echo services for this machine's address.
#[derive(Debug)]
pub struct HttpSource {
    name: String,
    settings: HttpSourceSettings,
    /// Bound to the source's family; set up on the first detection and kept, so a daemon
    /// reuses its connections instead of building a TLS client every pass.
    client: HttpClient,
}

impl HttpSource {
    /// An http source named `name`.
    pub fn new(name: String, settings: HttpSourceSettings) -> HttpSource {
        let local = match settings.family {
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        let client = HttpClient::bound_to(
            &HttpSettings {
                connect_timeout: settings.timeout,
                total_timeout: settings.timeout,
                ..HttpSettings::default()
            },
            local,
        );
        HttpSource {
            name,
            settings,
            client,
        }
    }

    async fn detect_now(&self) -> Result<Detection, SourceError> {
        match self.settings.consensus {
            None => self.first_answer(&self.client).await,
            Some(needed) => self.vote(&self.client, needed).await,
        }
    }

    async fn first_answer(&self, client: &HttpClient) -> Result<Detection, SourceError> {
        let mut candidates = Vec::new();
        let mut failures = Vec::new();
        for url in &self.settings.urls {
            match self.ask(client, url).await {
                Ok(addr) => {
                    let detail =
                        (!failures.is_empty()).then(|| format!("after {}", list(&failures)));
                    candidates.push(Candidate {
                        addr,
                        origin: url.clone(),
                        verdict: judge_address(&addr, &self.settings.policy),
                        detail,
                        lifetime: None,
                    });
                    return Ok(self.detection(candidates));
                }
                Err(reason) => {
                    if let EchoReason::WrongFamily { addr, .. } = &reason {
                        candidates.push(wrong_family(*addr, url));
                    }
                    failures.push(EchoFailure {
                        url: url.clone(),
                        reason,
                    });
                }
            }
        }
        Err(SourceError::EchoFailed { attempts: failures })
    }

    async fn vote(&self, client: &HttpClient, needed: usize) -> Result<Detection, SourceError> {
        let asks = self.settings.urls.iter().map(|u| self.ask(client, u));
        let results = futures::future::join_all(asks).await;
        let mut answers: Vec<(String, IpAddr)> = Vec::new();
        let mut failures = Vec::new();
        let mut candidates = Vec::new();
        for (url, r) in self.settings.urls.iter().zip(results) {
            match r {
                Ok(a) => answers.push((url.clone(), a)),
                Err(reason) => {
                    if let EchoReason::WrongFamily { addr, .. } = &reason {
                        candidates.push(wrong_family(*addr, url));
                    }
                    failures.push(EchoFailure {
                        url: url.clone(),
                        reason,
                    });
                }
            }
        }
        let winner = answers
            .iter()
            .map(|(_, a)| *a)
            .find(|a| answers.iter().filter(|(_, b)| b == a).count() >= needed);
        let Some(winner) = winner else {
            return Err(SourceError::NoConsensus {
                needed,
                answers,
                failures,
            });
        };
        let agreeing: Vec<&str> = answers
            .iter()
            .filter(|(_, a)| *a == winner)
            .map(|(u, _)| u.as_str())
            .collect();
        for (url, addr) in &answers {
            let (verdict, detail) = if *addr == winner {
                (
                    judge_address(addr, &self.settings.policy),
                    format!(
                        "{} of {} agreed: {}",
                        agreeing.len(),
                        self.settings.urls.len(),
                        agreeing.join(", ")
                    ),
                )
            } else {
                (
                    Verdict::Skipped(SkipReason::Outvoted),
                    format!("{} services agreed on {winner}", agreeing.len()),
                )
            };
            // One candidate per distinct address: the first URL that gave it.
            if candidates.iter().any(|c: &Candidate| c.addr == *addr) {
                continue;
            }
            candidates.push(Candidate {
                addr: *addr,
                origin: url.clone(),
                verdict,
                detail: Some(detail),
                lifetime: None,
            });
        }
        Ok(self.detection(candidates))
    }

    async fn ask(&self, client: &HttpClient, url: &str) -> Result<IpAddr, EchoReason> {
        let family = self.settings.family;
        if let Some(literal) = literal_family(url) {
            if literal != family {
                return Err(EchoReason::UrlWrongFamily { literal, family });
            }
        }
        let resp = client
            .get(url, self.settings.timeout)
            .await
            .map_err(EchoReason::Http)?;
        if resp.status != 200 {
            return Err(EchoReason::Status {
                status: resp.status,
                head: head(&resp.body),
            });
        }
        let addr = parse_body(&resp.body)?;
        if Family::of(&addr) != family {
            return Err(EchoReason::WrongFamily { addr, family });
        }
        Ok(addr)
    }

    fn detection(&self, candidates: Vec<Candidate>) -> Detection {
        Detection {
            source: self.name.clone(),
            candidates,
        }
    }
}

fn wrong_family(addr: IpAddr, url: &str) -> Candidate {
    Candidate {
        addr,
        origin: url.to_owned(),
        verdict: Verdict::Skipped(SkipReason::WrongFamily),
        detail: None,
        lifetime: None,
    }
}

/// The family of the URL's host when it is an IP literal.
fn literal_family(url: &str) -> Option<Family> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()
        .map(|a| Family::of(&a))
}

impl Source for HttpSource {
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
    use super::*;

    #[test]
    fn bodies_are_parsed_strictly() {
        let ok = |b: &str| parse_body(b.as_bytes()).map(|a| a.to_string());
        assert_eq!(ok("2001:db8::7\n").unwrap(), "2001:db8::7");
        assert_eq!(ok("  203.0.113.7 ").unwrap(), "203.0.113.7");
        assert_eq!(
            ok("fl=202f30\nh=1.1.1.1\nip=203.0.113.9\nts=17.1\nloc=DE\n").unwrap(),
            "203.0.113.9"
        );
        assert_eq!(
            ok("<html><body>Your IP is 203.0.113.7</body></html>").unwrap_err(),
            EchoReason::Unparsable {
                head: "<html><body>Your IP is 203.0.113.7</body></html>".into()
            }
        );
        assert_eq!(
            ok("203.0.113.7\n203.0.113.8").unwrap_err().to_string(),
            "answer is not an ip address (body starts \"203.0.113.7\\n203.0.113.8\")"
        );
        let long = "x".repeat(100);
        assert_eq!(
            ok(&long).unwrap_err().to_string(),
            format!(
                "answer is not an ip address (body starts \"{}…\")",
                "x".repeat(48)
            )
        );
        assert!(ok("h=1.1.1.1\nip=banana").is_err());
        assert!(ok("").is_err());
    }

    // Property tests (issue 8, fuzzing): an echo service's body is whatever the network
    // delivered.

    use proptest::prelude::*;

    use crate::testing::{apply, cases, edit};

    /// Pieces of echo answers, for edits.
    const TOKENS: &[&str] = &[
        "\n",
        "\r\n",
        " ",
        "\t",
        "=",
        "ip=",
        "h=",
        "ts=",
        "fl=",
        "ip=ip=",
        "2001:db8::7",
        "203.0.113.9",
        "::",
        "::ffff:203.0.113.9",
        "fe80::1%eth0",
        "1.2.3",
        "256.1.1.1",
        "0x7f.1",
        "<html>",
        "\u{0}",
        "\u{feff}",
        "é",
        "#",
    ];

    /// The readings of a body that may name an address: the whole body, and each
    /// `ip=` line.
    fn readings(body: &str) -> Vec<&str> {
        let mut v = vec![body.trim()];
        v.extend(body.lines().filter_map(|l| l.trim().strip_prefix("ip=")));
        v
    }

    /// No panic; an address comes only from the body; a quoted head stays short.
    fn check(body: &[u8]) -> Result<(), TestCaseError> {
        match parse_body(body) {
            Ok(a) => {
                let text = std::str::from_utf8(body);
                prop_assert!(text.is_ok(), "an address from bytes that are not utf-8");
                let found = readings(text.unwrap_or_default())
                    .iter()
                    .any(|r| r.parse::<IpAddr>() == Ok(a));
                prop_assert!(found, "{a} is not in {:?}", String::from_utf8_lossy(body));
            }
            Err(EchoReason::Unparsable { head }) => {
                prop_assert!(head.chars().count() <= HEAD_CHARS + 1, "{head:?}");
            }
            Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(cases(2000))]

        #[test]
        fn arbitrary_bodies(body in prop::collection::vec(any::<u8>(), 0..300)) {
            check(&body)?;
        }

        #[test]
        fn edited_bodies(
            trace in any::<bool>(),
            edits in prop::collection::vec(edit(TOKENS), 0..6),
        ) {
            let seed = if trace {
                "fl=202f30\nh=1.1.1.1\nip=203.0.113.9\nts=17.1\nloc=DE\n"
            } else {
                "2001:db8::7\n"
            };
            check(apply(seed, &edits).as_bytes())?;
        }
    }

    #[test]
    fn literal_hosts_have_a_family() {
        assert_eq!(literal_family("http://[::1]:80/"), Some(Family::Ipv6));
        assert_eq!(literal_family("http://127.0.0.1/"), Some(Family::Ipv4));
        assert_eq!(literal_family("https://api6.ipify.org"), None);
    }
}
