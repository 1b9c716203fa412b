//! Raw TOML → [`Config`] ("parse, don't validate"): collects every problem in the file as a
//! [`Diag`] with its span, so `ddnsd check` lists every mistake at once. This file holds the
//! walk over the top level, `[daemon]` and the shared table reading; `sources/`,
//! `providers.rs` and `records.rs` build their parts.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diag::{suggest, Diag, Quote};
use super::raw;
use super::secret::{resolve, SecretError};
use super::{duration, Config, DaemonSettings, Origin, Purpose, DEFAULT_STATE_FILE};
use crate::fields::{fields_of, SecretFields, Text};
use crate::secret::Secret;

mod notify;
mod providers;
mod records;
mod sources;

const TOP_KEYS: &[&str] = &[
    "daemon",
    "sources",
    "providers",
    "records",
    "status",
    "heartbeat",
    "notify",
];

/// The default daemon timings (each equals a value a user could write).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_VERIFY: Duration = Duration::from_secs(3600);
const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(500);

/// The longest a period may be: beyond a week a "periodic" check no longer means anything, and
/// every later computation (timers, jitter) stays far from overflowing.
pub const MAX_PERIOD: Duration = Duration::from_secs(7 * 86400);
/// The longest a timeout or debounce may be.
pub const MAX_WAIT: Duration = Duration::from_secs(600);

/// Checks config text. `env` looks up environment variables (for `*_env` secrets, `${VAR}`
/// in paths and `$STATE_DIRECTORY`).
pub fn build(
    text: &str,
    origin: Origin,
    env: &dyn Fn(&str) -> Option<String>,
    purpose: Purpose,
) -> Result<Config, Vec<Diag>> {
    let mut b = Builder {
        env,
        purpose,
        diags: Vec::new(),
        warnings: Vec::new(),
        secret_env: BTreeSet::new(),
        prefix_from: Vec::new(),
    };
    let (root, parse_errors) = DeTable::parse_recoverable(text);
    for e in parse_errors {
        b.diags.push(Diag {
            span: e.span(),
            message: format!("invalid TOML: {}", e.message().trim_end()),
            hint: None,
        });
    }
    if !b.diags.is_empty() {
        return Err(b.diags);
    }
    let root = root.into_inner();
    for (key, _) in root.iter() {
        if !TOP_KEYS.contains(&key.get_ref().as_ref()) {
            b.unknown_key(key, TOP_KEYS, "at the top level");
        }
    }
    let daemon = b.daemon(root.get("daemon"), &origin);
    let sources = b.sources(root.get("sources"));
    b.check_prefix_sources(&sources);
    let providers = b.providers(root.get("providers"));
    let records = b.records(root.get("records"), &sources, &providers);
    let status = b.status(root.get("status"), &origin);
    let heartbeat = b.heartbeat(root.get("heartbeat"));
    let notify = b.notify(root.get("notify"));
    match (b.diags.is_empty(), daemon) {
        (true, Some(daemon)) => Ok(Config {
            origin,
            daemon,
            sources: sources
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
            providers: providers
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
            records,
            status: status.flatten(),
            heartbeat: heartbeat.flatten(),
            notify,
            warnings: super::render_problems(text, b.warnings),
            secret_env: b.secret_env.into_iter().collect(),
        }),
        _ => Err(b.diags),
    }
}

struct Builder<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    purpose: Purpose,
    diags: Vec<Diag>,
    /// Problems that do not stop `check` (a secret the service's environment will have).
    warnings: Vec<Diag>,
    /// The variables secrets were read from (`X_env`).
    secret_env: BTreeSet<String>,
    /// (prefix source name, its `from`), checked once every source is built.
    prefix_from: Vec<(String, Text)>,
}

/// Sources/providers by name; `None` for an entry that had problems (so references to it are
/// not reported a second time).
type Named<T> = BTreeMap<String, Option<T>>;

impl Builder<'_> {
    fn push(&mut self, d: Diag) {
        self.diags.push(d);
    }

    /// Resolves a secret. For `check`, a secret that only the service's environment has (an
    /// unset `X_env` variable, `${CREDENTIALS_DIRECTORY}` in a path) is a warning, and a
    /// placeholder stands in for it; `run` refuses it.
    fn secret(&mut self, fields: SecretFields<'_>, table: Range<usize>) -> Option<Secret<String>> {
        match resolve(&fields, table, self.env) {
            Ok(r) => {
                self.secret_env.extend(r.env_var);
                Some(r.secret)
            }
            Err(SecretError::NotHere { var, diag }) if self.purpose == Purpose::Check => {
                let message = format!("{}; `ddnsd run` will need it", diag.message);
                self.warnings.push(Diag { message, ..diag });
                let _ = var;
                // Valid base64, so a TSIG secret's decoding is still checked.
                Some(Secret::new("cGxhY2Vob2xkZXI=".to_owned()))
            }
            Err(e) => {
                self.push(e.into_diag());
                None
            }
        }
    }

    fn unknown_key(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        known: &[&str],
        place: &str,
    ) {
        let k = key.get_ref().as_ref();
        let hint = suggest(
            k,
            known,
            Quote::Key,
            format!("known keys here: {}", known.join(", ")),
        );
        self.push(Diag::new(key.span(), format!("unknown key `{k}` {place}")).hint(hint));
    }

    /// Deserializes a table into `T` after reporting (and dropping) every unknown key, so one
    /// typo does not hide the other problems of the same table.
    fn take<T: DeserializeOwned>(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        place: &str,
    ) -> Option<T> {
        let mut out = None;
        let ok = self.deserialize_table(value, place, fields_of::<T>(), &mut |de| {
            out = Some(T::deserialize(de)?);
            Ok(())
        });
        if ok {
            out
        } else {
            None
        }
    }

    /// The untyped core of [`Builder::take`] (also what a provider kind's parser calls through
    /// [`crate::fields::Fields`]): reports unknown keys, then calls `de` until it succeeds,
    /// dropping each key whose value has the wrong type.
    fn deserialize_table(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        place: &str,
        known: &[&str],
        de: &mut dyn FnMut(toml::de::ValueDeserializer<'_>) -> Result<(), toml::de::Error>,
    ) -> bool {
        let DeValue::Table(table) = value.get_ref() else {
            self.push(Diag::new(value.span(), format!("{place} must be a table")));
            return false;
        };
        let mut clean = table.clone();
        for (key, _) in table.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                self.unknown_key(key, known, &format!("in {place}"));
                clean.remove(key.get_ref().as_ref());
            }
        }
        // serde stops at the first bad value; drop the key it was in and try again, so a
        // wrong type in one key does not hide problems in the others.
        let mut dropped: Vec<String> = Vec::new();
        loop {
            let v = Spanned::new(value.span(), DeValue::Table(clean.clone()));
            let e = match de(v.into_deserializer()) {
                // With keys dropped the value is incomplete, but the problems are recorded
                // (so the build fails) and its other fields can still be cross-checked.
                Ok(()) => return true,
                Err(e) => e,
            };
            let message = e.message().trim_end().to_owned();
            if dropped
                .iter()
                .any(|k| message == format!("missing field `{k}`"))
            {
                return false;
            }
            let culprit = e.span().and_then(|span| {
                clean
                    .iter()
                    .find(|(_, v)| v.span().start <= span.start && span.end <= v.span().end)
                    .map(|(k, _)| k.get_ref().to_string())
            });
            match culprit {
                Some(key) => {
                    self.push(Diag {
                        span: e.span(),
                        message: format!("{key}: {message} in {place}"),
                        hint: None,
                    });
                    clean.remove(key.as_str());
                    dropped.push(key);
                }
                None => {
                    self.push(Diag {
                        span: e.span().or(Some(value.span())),
                        message: format!("{message} in {place}"),
                        hint: None,
                    });
                    return false;
                }
            }
        }
    }

    /// An optional duration within `1 ms ..= max`; problems are recorded and give `None`.
    fn duration(
        &mut self,
        v: &Option<Text>,
        default: Duration,
        max: Duration,
        name: &str,
    ) -> Option<Duration> {
        let Some(t) = v else {
            return Some(default);
        };
        match duration::parse(t.get_ref()) {
            Ok(d) if d.is_zero() => {
                self.push(Diag::new(
                    t.span(),
                    format!("{name} must be longer than zero"),
                ));
                None
            }
            Ok(d) if d > max => {
                self.push(
                    Diag::new(
                        t.span(),
                        format!(
                            "{name} {:?} is longer than the {} allowed",
                            t.get_ref(),
                            duration::format(max)
                        ),
                    )
                    .hint(format!("use at most \"{}\"", duration::format(max))),
                );
                None
            }
            Ok(d) => Some(d),
            Err(m) => {
                self.push(Diag::new(t.span(), format!("{name}: {m}")));
                None
            }
        }
    }

    fn daemon(
        &mut self,
        v: Option<&Spanned<DeValue<'_>>>,
        origin: &Origin,
    ) -> Option<DaemonSettings> {
        let raw: raw::RawDaemon = match v {
            Some(v) => self.take(v, "[daemon]")?,
            None => raw::RawDaemon::default(),
        };
        let state_file = match (&raw.state_file, origin) {
            (Some(p), _) => match super::secret::expand_vars(p.get_ref(), self.env) {
                Ok(s) if !s.is_empty() => Some(PathBuf::from(s)),
                Ok(_) => {
                    self.push(Diag::new(p.span(), "state_file is empty"));
                    None
                }
                Err(m) => {
                    self.push(Diag::new(p.span(), m));
                    None
                }
            },
            (None, Origin::Embedded) => None,
            // systemd's StateDirectory= sets $STATE_DIRECTORY; use it when the config is silent.
            (None, Origin::File(_)) => Some(
                match (self.env)("STATE_DIRECTORY").filter(|s| !s.is_empty()) {
                    Some(dir) => {
                        PathBuf::from(dir.split(':').next().unwrap_or(&dir)).join("state.json")
                    }
                    None => PathBuf::from(DEFAULT_STATE_FILE),
                },
            ),
        };
        let interval = self.duration(&raw.interval, DEFAULT_INTERVAL, MAX_PERIOD, "interval");
        let verify_interval = self.duration(
            &raw.verify_interval,
            DEFAULT_VERIFY,
            MAX_PERIOD,
            "verify_interval",
        );
        let debounce = self.duration(&raw.debounce, DEFAULT_DEBOUNCE, MAX_WAIT, "debounce");
        Some(DaemonSettings {
            interval: interval?,
            verify_interval: verify_interval?,
            debounce: debounce?,
            state_file,
        })
    }

    /// Reads `kind` of a `[sources.x]` / `[providers.x]` table and checks it is known.
    /// The `kind` of table `v`: one of `kinds`, else a diagnostic — naming the cargo feature
    /// when the kind is one this build left out (`left_out`: (kind, feature) pairs).
    fn kind(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        place: &str,
        kinds: &[&str],
        left_out: &[(&str, &str)],
    ) -> Option<String> {
        let DeValue::Table(t) = v.get_ref() else {
            self.push(Diag::new(v.span(), format!("{place} must be a table")));
            return None;
        };
        let Some(kind) = t.get("kind") else {
            self.push(
                Diag::new(v.span(), format!("{place} has no `kind`"))
                    .hint(format!("add kind = \"…\", one of: {}", kinds.join(", "))),
            );
            return None;
        };
        let Some(k) = kind.get_ref().as_str() else {
            self.push(Diag::new(
                kind.span(),
                format!("`kind` in {place} must be a string"),
            ));
            return None;
        };
        if let Some((_, feature)) = left_out.iter().find(|(name, _)| *name == k) {
            self.push(left_out_kind(kind.span(), k, place, feature));
            return None;
        }
        if !kinds.contains(&k) {
            let hint = suggest(
                k,
                kinds,
                Quote::Value,
                format!("known kinds: {}", kinds.join(", ")),
            );
            self.push(Diag::new(kind.span(), format!("unknown kind {k:?} in {place}")).hint(hint));
            return None;
        }
        Some(k.to_owned())
    }
}

/// The diagnostic for `kind = "KIND"` in `place` when this build of ddnsd left KIND out (it
/// needs the cargo feature `feature`): not "unknown kind", which would send the user looking
/// for a typo.
fn left_out_kind(span: Range<usize>, kind: &str, place: &str, feature: &str) -> Diag {
    Diag::new(
        span,
        format!("kind {kind:?} in {place} is not available: ddnsd was built without the {feature} feature"),
    )
    .hint(format!(
        "use a build with the default features (cargo feature `{feature}`), or a kind this build has"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(env: &dyn Fn(&str) -> Option<String>) -> Builder<'_> {
        Builder {
            env,
            purpose: Purpose::Check,
            diags: Vec::new(),
            warnings: Vec::new(),
            secret_env: BTreeSet::new(),
            prefix_from: Vec::new(),
        }
    }

    /// A kind this build left out is named with its feature, not as an unknown kind; this is
    /// the path a `--no-default-features` build takes for `kind = "cloudflare"`.
    #[test]
    fn a_left_out_kind_names_the_feature() {
        let text = "[providers.cf]\nkind = \"cloudflare\"\n[providers.x]\nkind = \"clodflare\"\n";
        let root = DeTable::parse(text).unwrap().into_inner();
        let providers = root.get("providers").unwrap();
        let DeValue::Table(t) = providers.get_ref() else {
            panic!("not a table")
        };
        let env = |_: &str| None;
        let mut b = builder(&env);
        let kinds = ["rfc2136"];
        let left_out = [("cloudflare", "http")];
        assert_eq!(
            b.kind(t.get("cf").unwrap(), "[providers.cf]", &kinds, &left_out),
            None
        );
        assert_eq!(
            b.kind(t.get("x").unwrap(), "[providers.x]", &kinds, &left_out),
            None
        );
        let got: Vec<(String, Option<String>)> =
            b.diags.into_iter().map(|d| (d.message, d.hint)).collect();
        assert_eq!(
            got,
            vec![
                (
                    "kind \"cloudflare\" in [providers.cf] is not available: ddnsd was built without the http feature".to_owned(),
                    Some("use a build with the default features (cargo feature `http`), or a kind this build has".to_owned()),
                ),
                (
                    "unknown kind \"clodflare\" in [providers.x]".to_owned(),
                    Some("known kinds: rfc2136".to_owned()),
                ),
            ]
        );
    }
}
