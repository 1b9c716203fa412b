//! The `prefix` kind (an IPv6 prefix taken from another source plus a host part) and the check,
//! once every source is built, that each `prefix` or `neighbors` source's `from` names a
//! defined IPv6 source without a cycle.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use crate::addr::policy::{PolicyOptions, Select};
use crate::addr::prefix::{HostPart, PrefixProblem, PrefixSettings};
use crate::addr::SourceSettings;
use crate::config::build::{Builder, Named};
use crate::config::diag::{suggest, Diag, Quote};
use crate::config::raw;
use crate::record::Family;

impl Builder<'_> {
    pub(super) fn prefix(
        &mut self,
        name: &str,
        r: raw::RawPrefixSource,
        table: Range<usize>,
        place: &str,
    ) -> Option<SourceSettings> {
        self.prefix_from.push((name.to_owned(), r.from.clone()));
        let mut ok = true;
        let prefix_length = match &r.prefix_length {
            None => Some(crate::addr::prefix::DEFAULT_PREFIX_LENGTH),
            Some(l) => match u8::try_from(*l.get_ref()) {
                Ok(v) if (1..=64).contains(&v) => Some(v),
                _ => {
                    self.push(
                        Diag::new(l.span(), format!("prefix_length {} is out of range", l.get_ref()))
                            .hint("use 1 to 64 (the host part needs the last 64 bits); 64 when the interface has a /64"),
                    );
                    None
                }
            },
        };
        let subnet_id = match &r.subnet_id {
            None => Some(0),
            Some(v) => u64::try_from(*v.get_ref()).ok().or_else(|| {
                self.push(Diag::new(
                    v.span(),
                    format!("subnet_id {} is negative", v.get_ref()),
                ));
                None
            }),
        };
        let host = match (&r.suffix, &r.mac) {
            (Some(_), Some(m)) => {
                self.push(
                    Diag::new(
                        m.span(),
                        format!("give either `suffix` or `mac` in {place}, not both"),
                    )
                    .hint(
                        "`suffix` is the host part as written; `mac` derives it (modified EUI-64)",
                    ),
                );
                None
            }
            (None, None) => {
                self.push(
                    Diag::new(
                        table,
                        format!("{place} needs `suffix` or `mac` (the host part)"),
                    )
                    .hint("e.g. suffix = \"::1234:5678:9abc:def0\" or mac = \"aa:bb:cc:dd:ee:ff\""),
                );
                None
            }
            (Some(s), None) => {
                match s.get_ref().trim().parse::<std::net::Ipv6Addr>() {
                    Ok(a) => Some(HostPart::Suffix(a)),
                    Err(_) => {
                        self.push(
                        Diag::new(s.span(), format!("suffix {:?} is not an IPv6 address", s.get_ref()))
                            .hint("write the host part with leading ::, e.g. \"::1234:5678:9abc:def0\""),
                    );
                        None
                    }
                }
            }
            (None, Some(m)) => match crate::addr::prefix::parse_mac(m.get_ref().trim()) {
                Some(mac) => Some(HostPart::Mac(mac)),
                None => {
                    self.push(
                        Diag::new(
                            m.span(),
                            format!("mac {:?} is not a MAC address", m.get_ref()),
                        )
                        .hint("write six hex bytes, e.g. \"aa:bb:cc:dd:ee:ff\""),
                    );
                    None
                }
            },
        };
        if let (Some(len), Some(subnet), Some(host)) = (prefix_length, subnet_id, &host) {
            if let Err(p) = crate::addr::prefix::check(len, subnet, host) {
                let at = match p {
                    PrefixProblem::SuffixInPrefix { .. } | PrefixProblem::SuffixInSubnet { .. } => {
                        r.suffix.as_ref().map(Spanned::span)
                    }
                    PrefixProblem::SubnetTooLarge { .. } => r.subnet_id.as_ref().map(Spanned::span),
                    PrefixProblem::PrefixTooLong(_) => r.prefix_length.as_ref().map(Spanned::span),
                };
                self.push(Diag {
                    span: at,
                    message: p.to_string(),
                    hint: None,
                });
                ok = false;
            }
        }
        let policy = PolicyOptions {
            allow_ula: r.allow_ula.unwrap_or(false),
            select: Select::All,
            ..PolicyOptions::default()
        };
        Some(SourceSettings::Prefix(PrefixSettings {
            from: r.from.get_ref().clone(),
            prefix_length: prefix_length?,
            subnet_id: subnet_id?,
            host: host.filter(|_| ok)?,
            policy,
        }))
    }

    /// Every prefix source's `from` must name a defined IPv6 source, without a cycle.
    pub(in crate::config::build) fn check_prefix_sources(
        &mut self,
        sources: &Named<SourceSettings>,
    ) {
        let known: Vec<&str> = sources.keys().map(String::as_str).collect();
        let froms: BTreeMap<String, String> = self
            .prefix_from
            .iter()
            .map(|(n, f)| (n.clone(), f.get_ref().clone()))
            .collect();
        for (name, from) in std::mem::take(&mut self.prefix_from) {
            let f = from.get_ref();
            match sources.get(f) {
                None => {
                    let others: Vec<&str> = known.iter().copied().filter(|k| *k != name).collect();
                    let otherwise = if others.is_empty() {
                        format!("add a [sources.{f}] table (usually kind = \"interface\")")
                    } else {
                        format!("defined sources: {}", others.join(", "))
                    };
                    let hint = suggest(f, &others, Quote::Value, otherwise);
                    self.push(
                        Diag::new(
                            from.span(),
                            format!("[sources.{name}] takes its prefix from source {f:?}, which is not defined"),
                        )
                        .hint(hint),
                    );
                }
                Some(Some(s)) if s.families() != [Family::Ipv6] => {
                    self.push(
                        Diag::new(
                            from.span(),
                            format!("[sources.{name}] takes its prefix from source {f:?}, which is not an ipv6 source"),
                        )
                        .hint("name a source with family = \"ipv6\" (usually an interface)"),
                    );
                }
                _ => {
                    let mut chain = vec![name.clone()];
                    let mut cur = f.clone();
                    while let Some(next) = froms.get(&cur) {
                        chain.push(cur.clone());
                        if cur == name {
                            self.push(
                                Diag::new(
                                    from.span(),
                                    format!("prefix sources take their prefix from each other in a cycle: {}", chain.join(" → ")),
                                )
                                .hint("one source in the chain must take its prefix from an interface source"),
                            );
                            break;
                        }
                        if chain.len() > froms.len() + 1 {
                            break;
                        }
                        cur = next.clone();
                    }
                }
            }
        }
    }
}
