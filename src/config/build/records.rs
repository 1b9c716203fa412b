//! `[[records]]` entries → [`RecordSpec`]s, checking that each names defined sources and a
//! defined provider and that no (name, type) is managed twice. `${VAR}` in a record name is
//! expanded from the environment (one config for a fleet: `${NODE_NAME}.nodes.example.com`
//! from Kubernetes' downward API).

use std::collections::{BTreeMap, BTreeSet};

use toml::de::DeValue;
use toml::Spanned;

use super::{raw, Builder, Named};
use crate::addr::SourceSettings;
use crate::config::diag::{suggest, Diag, Quote};
use crate::config::secret::expand_vars;
use crate::fields::Text;
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
            let name = self.record_name(&r.name);
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
            // What the provider can publish (Configured::families): a source yielding another
            // family would fail on every pass, so it is a config problem.
            let publishes = match providers.get(provider) {
                Some(Some(p)) => Some((p.kind(), p.config.families())),
                _ => None,
            };
            let mut families = BTreeSet::new();
            for s in r.sources.get_ref() {
                match sources.get(s.get_ref()) {
                    Some(Some(settings)) => {
                        let yields = settings.families();
                        if let Some((kind, can)) = publishes {
                            for f in yields.iter().filter(|f| !can.contains(f)) {
                                self.push(unpublishable(s, *f, provider, kind, can));
                            }
                        }
                        families.extend(yields);
                    }
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

    /// The record's name with `${VAR}` expanded from the environment, parsed.
    fn record_name(&mut self, name: &Text) -> Option<Fqdn> {
        let written = name.get_ref();
        let expanded = match expand_vars(written, self.env) {
            Ok(n) => n,
            Err(m) => {
                self.push(Diag::new(name.span(), format!("record name: {m}")).hint(
                    "set the variable in ddnsd's environment (Environment= in a systemd unit, \
                     env: in a Kubernetes pod), or write the name out",
                ));
                return None;
            }
        };
        match expanded.parse::<Fqdn>() {
            Ok(n) => Some(n),
            Err(e) if expanded == *written => {
                self.push(Diag::new(name.span(), format!("record name: {e}")));
                None
            }
            Err(e) => {
                self.push(Diag::new(
                    name.span(),
                    format!("record name (from {written:?}): {e}"),
                ));
                None
            }
        }
    }
}

/// The problem of a source whose family `f` the provider cannot publish.
fn unpublishable(
    source: &Spanned<String>,
    f: Family,
    provider: &str,
    kind: &str,
    can: &[Family],
) -> Diag {
    let can: Vec<&str> = can.iter().map(|c| c.as_str()).collect();
    Diag::new(
        source.span(),
        format!(
            "source {:?} yields {f} addresses, but provider {provider:?} ({kind}) publishes {} only",
            source.get_ref(),
            can.join(" and ")
        ),
    )
    .hint(format!(
        "publish {} records through another provider: a second [[records]] entry with the same name, a provider that supports {f}, and this source",
        f.record_type()
    ))
}

#[cfg(test)]
mod tests {
    use crate::config::{from_text, Error};
    use std::path::Path;

    fn config(name: &str) -> String {
        format!(
            "[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\
             [providers.p]\nkind = \"dry-run\"\n\
             [[records]]\nname = {name:?}\nprovider = \"p\"\nsources = [\"s\"]\n"
        )
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "NODE_NAME" => Some("node-1".to_owned()),
            "ZONE" => Some("example.test".to_owned()),
            "BAD" => Some("bad_label!".to_owned()),
            _ => None,
        }
    }

    /// (written name, the name it builds to or the exact problem)
    const CASES: &[(&str, Result<&str, &str>)] = &[
        ("host.example.test", Ok("host.example.test")),
        ("${NODE_NAME}.nodes.example.test", Ok("node-1.nodes.example.test")),
        ("${NODE_NAME}.${ZONE}", Ok("node-1.example.test")),
        ("n-${NODE_NAME}-v6.example.test", Ok("n-node-1-v6.example.test")),
        (
            "${NODE}.example.test",
            Err("t.toml:7:8: record name: environment variable \"NODE\" used in \"${NODE}.example.test\" is not set\n  hint: set the variable in ddnsd's environment (Environment= in a systemd unit, env: in a Kubernetes pod), or write the name out"),
        ),
        (
            "${NODE_NAME.example.test",
            Err("t.toml:7:8: record name: unclosed \"${\" in \"${NODE_NAME.example.test\"\n  hint: set the variable in ddnsd's environment (Environment= in a systemd unit, env: in a Kubernetes pod), or write the name out"),
        ),
        (
            "${NODE_NAME}",
            Err("t.toml:7:8: record name (from \"${NODE_NAME}\"): \"node-1\" is not fully qualified (it needs at least one dot, e.g. \"host.example.com\")"),
        ),
    ];

    #[test]
    fn record_names_expand_environment_variables() {
        for (written, want) in CASES {
            let got = from_text(&config(written), Path::new("t.toml"), &env);
            match (got, want) {
                (Ok(c), Ok(name)) => assert_eq!(c.records[0].name.to_string(), *name, "{written}"),
                (Err(e @ Error::Invalid { .. }), Err(problem)) => {
                    assert_eq!(e.to_string(), *problem, "{written}")
                }
                (got, _) => panic!("{written}: {got:?}"),
            }
        }
    }

    /// See: issue 10 (Namecheap). A record feeding a provider a family it cannot publish is
    /// refused by `check`, placed at the source, with the way out.
    #[cfg(feature = "http")]
    #[test]
    fn a_family_the_provider_cannot_publish_is_a_placed_problem() {
        let text = "[sources.wan6]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n[sources.wan4]\nkind = \"static\"\naddresses = [\"192.0.2.1\"]\n[providers.nc]\nkind = \"namecheap\"\ndomain = \"example.com\"\npassword = \"x\"\n[[records]]\nname = \"home.example.com\"\nprovider = \"nc\"\nsources = [\"wan4\", \"wan6\"]\n";
        let e = from_text(text, Path::new("t.toml"), &|_| None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.toml:14:20: source \"wan6\" yields ipv6 addresses, but provider \"nc\" (namecheap) publishes ipv4 only\n  hint: publish AAAA records through another provider: a second [[records]] entry with the same name, a provider that supports ipv6, and this source"
        );
        // IPv4 sources alone are fine, and so is any family for a provider that takes both.
        let ok = text.replace("[\"wan4\", \"wan6\"]", "[\"wan4\"]");
        assert!(from_text(&ok, Path::new("t.toml"), &|_| None).is_ok());
        let both = text.replace(
            "kind = \"namecheap\"\ndomain = \"example.com\"\npassword = \"x\"",
            "kind = \"dry-run\"",
        );
        assert!(from_text(&both, Path::new("t.toml"), &|_| None).is_ok());
    }
}
