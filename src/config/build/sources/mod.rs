//! `[sources.NAME]` tables → source settings: the dispatch on `kind` and the readers every
//! kind shares (`family`, `select`, the value-only policy). Each kind is built in a file of its
//! group: `local.rs` (interface, static, command), `remote.rs` (http, dns), `hosts.rs` (leases,
//! neighbors), `prefix.rs` (prefix, and the check that every `prefix` source's `from` names an
//! IPv6 source without a cycle).

mod hosts;
mod local;
mod prefix;
mod remote;

use toml::de::DeValue;
use toml::Spanned;

use super::{raw, Builder, Named};
use crate::addr::policy::{PolicyOptions, Select};
use crate::addr::SourceSettings;
use crate::config::diag::Diag;
use crate::fields::Text;
use crate::record::Family;

const SOURCE_KINDS: &[&str] = &[
    "interface",
    "static",
    #[cfg(feature = "http")]
    "http",
    "dns",
    "command",
    "prefix",
    "leases",
    "neighbors",
];

/// Source kinds this build leaves out, with the cargo feature that has each.
const SOURCE_LEFT_OUT: &[(&str, &str)] = &[
    #[cfg(not(feature = "http"))]
    ("http", "http"),
];

impl Builder<'_> {
    pub(super) fn sources(&mut self, v: Option<&Spanned<DeValue<'_>>>) -> Named<SourceSettings> {
        let mut out = Named::new();
        let Some(v) = v else { return out };
        let DeValue::Table(t) = v.get_ref() else {
            self.push(Diag::new(
                v.span(),
                "`sources` must be a table of [sources.NAME] tables",
            ));
            return out;
        };
        for (name, value) in t.iter() {
            let name = name.get_ref().to_string();
            let place = format!("[sources.{name}]");
            let built = match self
                .kind(value, &place, SOURCE_KINDS, SOURCE_LEFT_OUT)
                .as_deref()
            {
                Some("interface") => self
                    .take::<raw::RawInterfaceSource>(value, &place)
                    .and_then(|r| self.interface(r)),
                Some("static") => self
                    .take::<raw::RawStaticSource>(value, &place)
                    .and_then(|r| self.fixed(r, &place)),
                #[cfg(feature = "http")]
                Some("http") => self
                    .take::<raw::RawHttpSource>(value, &place)
                    .and_then(|r| self.http(r, &place)),
                Some("dns") => self
                    .take::<raw::RawDnsSource>(value, &place)
                    .and_then(|r| self.dns(r)),
                Some("command") => self
                    .take::<raw::RawCommandSource>(value, &place)
                    .and_then(|r| self.command(r, &place)),
                Some("prefix") => self
                    .take::<raw::RawPrefixSource>(value, &place)
                    .and_then(|r| self.prefix(&name, r, value.span(), &place)),
                Some("leases") => self
                    .take::<raw::RawLeasesSource>(value, &place)
                    .and_then(|r| self.leases(r, value.span(), &place)),
                Some("neighbors") => self
                    .take::<raw::RawNeighborsSource>(value, &place)
                    .and_then(|r| self.neighbors(&name, r, value.span(), &place)),
                _ => None,
            };
            out.insert(name, built);
        }
        out
    }

    fn family(&mut self, family: &Option<Text>) -> Option<Family> {
        match family {
            None => Some(Family::Ipv6),
            Some(f) => match f.get_ref().as_str() {
                "ipv6" => Some(Family::Ipv6),
                "ipv4" => Some(Family::Ipv4),
                other => {
                    self.push(
                        Diag::new(f.span(), format!("unknown family {other:?}"))
                            .hint("use \"ipv6\" or \"ipv4\""),
                    );
                    None
                }
            },
        }
    }

    fn select(&mut self, select: &Option<Text>) -> Option<Select> {
        match select {
            None => Some(Select::Best),
            Some(s) => match s.get_ref().as_str() {
                "best" => Some(Select::Best),
                "all" => Some(Select::All),
                other => {
                    self.push(
                        Diag::new(s.span(), format!("unknown select {other:?}"))
                            .hint("use \"best\" (one address) or \"all\""),
                    );
                    None
                }
            },
        }
    }
}

/// The options of sources judged by value only (echo, DNS, command): every passing address.
fn value_policy(allow_ula: Option<bool>, allow_private: Option<bool>) -> PolicyOptions {
    PolicyOptions {
        allow_temporary: false,
        allow_ula: allow_ula.unwrap_or(false),
        allow_private: allow_private.unwrap_or(false),
        select: Select::All,
    }
}
