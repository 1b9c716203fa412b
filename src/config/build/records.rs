//! `[[records]]` entries → [`RecordSpec`]s, checking that each names defined sources and a
//! defined provider and that no (name, type) is managed twice.

use std::collections::{BTreeMap, BTreeSet};

use toml::de::DeValue;
use toml::Spanned;

use super::{raw, Builder, Named};
use crate::addr::SourceSettings;
use crate::config::diag::{suggest, Diag, Quote};
use crate::provider::ProviderSettings;
use crate::record::{Family, Fqdn, OnGone, RecordSpec, Ttl};

/// The default `grace` of `on_gone = "delete"`.
pub const DEFAULT_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

impl Builder<'_> {
    pub(super) fn records(
        &mut self,
        v: Option<&Spanned<DeValue<'_>>>,
        sources: &Named<SourceSettings>,
        providers: &Named<ProviderSettings>,
    ) -> Vec<RecordSpec> {
        let mut out = Vec::new();
        let Some(v) = v else { return out };
        let DeValue::Array(items) = v.get_ref() else {
            self.push(Diag::new(
                v.span(),
                "`records` must be an array of tables ([[records]])",
            ));
            return out;
        };
        let mut seen: BTreeMap<(Fqdn, Family), usize> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let place = format!("[[records]] #{}", i + 1);
            let Some(r) = self.take::<raw::RawRecord>(item, &place) else {
                continue;
            };
            let name = match r.name.get_ref().parse::<Fqdn>() {
                Ok(n) => Some(n),
                Err(e) => {
                    self.push(Diag::new(r.name.span(), format!("record name: {e}")));
                    None
                }
            };
            let provider = r.provider.get_ref();
            if !providers.contains_key(provider) {
                let known: Vec<&str> = providers.keys().map(String::as_str).collect();
                let otherwise = if known.is_empty() {
                    format!("add a [providers.{provider}] table")
                } else {
                    format!("defined providers: {}", known.join(", "))
                };
                let hint = suggest(provider, &known, Quote::Value, otherwise);
                self.push(
                    Diag::new(
                        r.provider.span(),
                        format!("record names provider {provider:?}, which is not defined"),
                    )
                    .hint(hint),
                );
            }
            let known_sources: Vec<&str> = sources.keys().map(String::as_str).collect();
            if r.sources.get_ref().is_empty() {
                self.push(
                    Diag::new(r.sources.span(), "`sources` is empty")
                        .hint("name at least one [sources.NAME]"),
                );
            }
            let mut families = BTreeSet::new();
            for s in r.sources.get_ref() {
                match sources.get(s.get_ref()) {
                    Some(Some(settings)) => families.extend(settings.families()),
                    Some(None) => {}
                    None => {
                        let otherwise = if known_sources.is_empty() {
                            format!("add a [sources.{}] table", s.get_ref())
                        } else {
                            format!("defined sources: {}", known_sources.join(", "))
                        };
                        let hint = suggest(s.get_ref(), &known_sources, Quote::Value, otherwise);
                        self.push(
                            Diag::new(
                                s.span(),
                                format!(
                                    "record names source {:?}, which is not defined",
                                    s.get_ref()
                                ),
                            )
                            .hint(hint),
                        );
                    }
                }
            }
            let (ttl, ttl_auto) = match &r.ttl {
                None => (Some(Ttl::DEFAULT), false),
                Some(t) => match t.get_ref() {
                    raw::RawTtl::Seconds(s) => match u32::try_from(*s) {
                        Ok(v) if (1..=i32::MAX as u32).contains(&v) => (Some(Ttl(v)), false),
                        _ => {
                            self.push(
                                Diag::new(t.span(), format!("ttl {s} is out of range"))
                                    .hint("use seconds, 1 to 2147483647 (e.g. 300), or \"auto\""),
                            );
                            (None, false)
                        }
                    },
                    // The cap is the default TTL: short enough for a prefix change.
                    raw::RawTtl::Word(w) if w == "auto" => (Some(Ttl::DEFAULT), true),
                    raw::RawTtl::Word(w) => {
                        self.push(
                            Diag::new(t.span(), format!("ttl {w:?} is not a number of seconds"))
                                .hint("use seconds (e.g. 300) or \"auto\" (at most 300, capped at the address's remaining preferred lifetime)"),
                        );
                        (None, false)
                    }
                },
            };
            let grace = self.duration(&r.grace, DEFAULT_GRACE, super::MAX_PERIOD, "grace");
            let on_gone = match r.on_gone.as_ref().map(|t| (t, t.get_ref().as_str())) {
                None | Some((_, "keep")) => {
                    if let (Some(g), None) = (&r.grace, &r.on_gone) {
                        self.push(
                            Diag::new(g.span(), "`grace` is only used with on_gone = \"delete\"")
                                .hint("add on_gone = \"delete\" to withdraw the record after grace, or remove grace"),
                        );
                    }
                    Some(OnGone::Keep)
                }
                Some((_, "delete")) => grace.map(|grace| OnGone::Delete { grace }),
                Some((t, other)) => {
                    self.push(
                        Diag::new(t.span(), format!("unknown on_gone {other:?}"))
                            .hint("use \"keep\" (the default: the record stays) or \"delete\" (withdrawn after grace)"),
                    );
                    None
                }
            };
            if let Some(n) = &name {
                for f in &families {
                    if let Some(first) = seen.insert((n.clone(), *f), i + 1) {
                        self.push(
                            Diag::new(
                                r.name.span(),
                                format!(
                                    "{n} {} is also managed by [[records]] #{first}",
                                    f.record_type()
                                ),
                            )
                            .hint("list every source of one name in a single [[records]] entry"),
                        );
                    }
                }
            }
            if let (Some(name), Some(ttl), Some(on_gone)) = (name, ttl, on_gone) {
                out.push(RecordSpec {
                    name,
                    provider: provider.to_owned(),
                    sources: r
                        .sources
                        .get_ref()
                        .iter()
                        .map(|s| s.get_ref().clone())
                        .collect(),
                    ttl,
                    ttl_auto,
                    on_gone,
                });
            }
        }
        out
    }
}
