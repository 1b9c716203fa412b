//! The kinds that ask a server for this machine's address: `http` (echo services) and `dns`
//! (a resolver's answer, from a preset or spelled out).

use super::value_policy;
use crate::addr::dns::{DnsQuery, DnsSourceSettings, Preset, QueryClass, QueryType, PRESETS};
#[cfg(feature = "http")]
use crate::addr::http::{default_urls, HttpSourceSettings};
use crate::addr::SourceSettings;
use crate::config::build::{Builder, MAX_WAIT};
use crate::config::diag::{suggest, Diag, Quote};
use crate::config::raw;
use crate::fields;
use crate::record::Family;

impl Builder<'_> {
    #[cfg(feature = "http")]
    pub(super) fn http(&mut self, r: raw::RawHttpSource, place: &str) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(
            &r.timeout,
            crate::addr::http::DEFAULT_TIMEOUT,
            MAX_WAIT,
            "timeout",
        );
        let mut ok = true;
        let urls = match &r.urls {
            None => family.map(default_urls).unwrap_or_default(),
            Some(list) => {
                if list.get_ref().is_empty() {
                    self.push(
                        Diag::new(list.span(), format!("`urls` in {place} is empty"))
                            .hint("omit `urls` to use the built-in echo services"),
                    );
                    ok = false;
                }
                for u in list.get_ref() {
                    let valid = reqwest::Url::parse(u.get_ref())
                        .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.has_host());
                    if !valid {
                        self.push(Diag::new(
                            u.span(),
                            format!("url {:?} is not an http(s) URL", u.get_ref()),
                        ));
                        ok = false;
                    }
                }
                list.get_ref().iter().map(|u| u.get_ref().clone()).collect()
            }
        };
        let consensus = match &r.consensus {
            None => None,
            Some(c) => match usize::try_from(*c.get_ref()) {
                Ok(n) if n >= 1 && n <= urls.len() => Some(n),
                _ => {
                    self.push(
                        Diag::new(
                            c.span(),
                            format!(
                                "consensus {} is out of range: there are {} urls",
                                c.get_ref(),
                                urls.len()
                            ),
                        )
                        .hint("use a number from 1 to the number of urls (2 is a good choice)"),
                    );
                    ok = false;
                    None
                }
            },
        };
        Some(SourceSettings::Http(HttpSourceSettings {
            family: family.filter(|_| ok)?,
            urls,
            consensus,
            timeout: timeout?,
            policy: value_policy(r.allow_ula, r.allow_private),
        }))
    }

    pub(super) fn dns(&mut self, r: raw::RawDnsSource) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(
            &r.timeout,
            crate::addr::dns::DEFAULT_TIMEOUT,
            MAX_WAIT,
            "timeout",
        );
        let mut ok = true;
        let preset = match &r.query {
            None => None,
            Some(q) => match Preset::parse(q.get_ref()) {
                Some(p) => Some(p),
                None => {
                    let hint = suggest(
                        q.get_ref(),
                        PRESETS,
                        Quote::Value,
                        "use \"opendns\", \"cloudflare\" or \"google\", or give name and type"
                            .to_owned(),
                    );
                    self.push(
                        Diag::new(q.span(), format!("unknown query {:?}", q.get_ref())).hint(hint),
                    );
                    ok = false;
                    None
                }
            },
        };
        if let (Some(_), Some(n)) = (&r.query, &r.name) {
            self.push(
                Diag::new(n.span(), "give either `query` or `name`, not both").hint(
                    "`query` picks a preset; `name`, `type` and `class` spell the question out",
                ),
            );
            ok = false;
        }
        if r.name.is_none() {
            for (key, v) in [("type", &r.rtype), ("class", &r.class)] {
                if let Some(v) = v {
                    self.push(Diag::new(
                        v.span(),
                        format!("`{key}` is only used with `name`"),
                    ));
                    ok = false;
                }
            }
        }
        let rtype = match &r.rtype {
            None => None,
            Some(t) => match t.get_ref().to_ascii_uppercase().as_str() {
                "A" => Some(QueryType::A),
                "AAAA" => Some(QueryType::Aaaa),
                "TXT" => Some(QueryType::Txt),
                _ => {
                    self.push(
                        Diag::new(t.span(), format!("unknown type {:?}", t.get_ref()))
                            .hint("use \"A\", \"AAAA\" or \"TXT\""),
                    );
                    ok = false;
                    None
                }
            },
        };
        let class = match &r.class {
            None => QueryClass::In,
            Some(c) => match c.get_ref().to_ascii_uppercase().as_str() {
                "IN" => QueryClass::In,
                "CH" => QueryClass::Ch,
                _ => {
                    self.push(
                        Diag::new(c.span(), format!("unknown class {:?}", c.get_ref()))
                            .hint("use \"IN\" or \"CH\""),
                    );
                    ok = false;
                    QueryClass::In
                }
            },
        };
        let family = family?;
        if let (Some(t), Some(rt)) = (&r.rtype, rtype) {
            let answers = match rt {
                QueryType::A => Some(Family::Ipv4),
                QueryType::Aaaa => Some(Family::Ipv6),
                QueryType::Txt => None,
            };
            if answers.is_some_and(|a| a != family) {
                self.push(
                    Diag::new(
                        t.span(),
                        format!(
                            "type {} answers with an address of the other family than {family}",
                            t.get_ref()
                        ),
                    )
                    .hint("use AAAA for ipv6 and A for ipv4"),
                );
                ok = false;
            }
        }
        let query = match (&r.name, preset) {
            (Some(n), _) => {
                let mut name = n.get_ref().trim().to_owned();
                if !name.ends_with('.') {
                    name.push('.');
                }
                if hickory_proto::rr::Name::from_ascii(&name).is_err() || name == "." {
                    self.push(Diag::new(
                        n.span(),
                        format!("{:?} is not a valid dns name", n.get_ref()),
                    ));
                    ok = false;
                }
                DnsQuery {
                    name,
                    rtype: rtype.unwrap_or(match family {
                        Family::Ipv6 => QueryType::Aaaa,
                        Family::Ipv4 => QueryType::A,
                    }),
                    class,
                }
            }
            (None, p) => p.unwrap_or(Preset::Cloudflare).query(family),
        };
        let resolver = match (&r.resolver, &r.name, preset) {
            (Some(t), _, _) => match fields::socket_addr(t.get_ref(), 53) {
                Ok(sa) if Family::of(&sa.ip()) != family => {
                    self.push(
                        Diag::new(
                            t.span(),
                            format!(
                                "resolver {sa} is an {} address but family is {family}",
                                Family::of(&sa.ip())
                            ),
                        )
                        .hint("the query goes out over the source's family: give a resolver of that family"),
                    );
                    None
                }
                Ok(sa) => Some(sa),
                Err(m) => {
                    self.push(Diag::new(t.span(), format!("resolver {m}")).hint(
                        "write an address, e.g. \"192.0.2.53\", \"192.0.2.53:5353\" or \"[2001:db8::53]:53\"",
                    ));
                    None
                }
            },
            (None, Some(n), _) => {
                self.push(
                    Diag::new(n.span(), "`name` needs a `resolver` to ask")
                        .hint("add resolver = \"IP[:PORT]\""),
                );
                None
            }
            (None, None, p) => Some(p.unwrap_or(Preset::Cloudflare).resolver(family)),
        };
        Some(SourceSettings::Dns(DnsSourceSettings {
            family,
            resolver: resolver.filter(|_| ok)?,
            query,
            timeout: timeout?,
            policy: value_policy(r.allow_ula, r.allow_private),
        }))
    }
}
