//! `[[records]]` entries → [`RecordSpec`]s, checking that each names defined sources and a
//! defined provider and that no (name, type) is managed twice.

use std::collections::{BTreeMap, BTreeSet};

use toml::de::DeValue;
use toml::Spanned;

use super::{raw, Builder, Named};
use crate::addr::SourceSettings;
use crate::config::diag::{suggest, Diag, Quote};
use crate::provider::ProviderSettings;
use crate::record::{Family, Fqdn, RecordSpec, Ttl};

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
            let ttl = match &r.ttl {
                None => Some(Ttl::DEFAULT),
                Some(t) => match u32::try_from(*t.get_ref()) {
                    Ok(v) if v >= 1 => Some(Ttl(v)),
                    _ => {
                        self.push(
                            Diag::new(t.span(), format!("ttl {} is out of range", t.get_ref()))
                                .hint("use seconds, 1 to 2147483647 (e.g. 300)"),
                        );
                        None
                    }
                },
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
            if let (Some(name), Some(ttl)) = (name, ttl) {
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
                });
            }
        }
        out
    }
}
