//! Compiled only under #[cfg(test)] (declared so in config/mod.rs).
//! Property tests of the config reader (issue 8, fuzzing): arbitrary text, TOML-like token
//! soup and mutations of real configs go through [`from_text`]. Whatever comes in: no panic;
//! every problem is placed inside the text (line and column exist); the diagnostics stay
//! within a fixed size per problem and never quote a secret; and a config that builds keeps
//! the promises the rest of the program relies on (every record's provider and sources
//! exist, durations within their ceilings).

use std::path::Path;

use proptest::prelude::*;

use super::build::{MAX_PERIOD, MAX_WAIT};
use super::{from_text, Error};
use crate::testing::{apply, cases, edit};

/// The secret value the generated configs carry (valid base64, so rfc2136 accepts it too).
const MARKER: &str = "TUFSS0VSLWNvbmZpZy1mdXp6LXNlY3JldA==";

/// The environment: `SET` holds the marker, `EMPTY` is empty, nothing else is set.
fn env(name: &str) -> Option<String> {
    match name {
        "SET" => Some(MARKER.to_owned()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// At most this many bytes of diagnostics per problem besides what it quotes from the file:
/// a sentence and a hint. The longest seen in 20,000 cases per property was 176 bytes (a
/// list of the keys known in a table). A problem quotes a piece of the file at most twice
/// (a record name and its bad label), escaped with `{:?}` (at most 6 bytes per byte: a
/// control character becomes `\u{1b}`): so a problem stays under
/// `PER_PROBLEM + 12 × file size`, and there are at most a few problems per byte.
const PER_PROBLEM: usize = 512;

/// Checks one text; returns the number of problems.
fn check(text: &str) -> Result<usize, TestCaseError> {
    let path = Path::new("f.toml");
    match from_text(text, path, &env) {
        Ok(cfg) => {
            for r in &cfg.records {
                prop_assert!(
                    cfg.providers.contains_key(&r.provider),
                    "record {} names provider {} that does not exist",
                    r.name,
                    r.provider
                );
                prop_assert!(!r.sources.is_empty(), "record {} has no source", r.name);
                for s in &r.sources {
                    prop_assert!(cfg.sources.contains_key(s), "source {s} does not exist");
                }
            }
            let d = &cfg.daemon;
            for (name, v, max) in [
                ("interval", d.interval, MAX_PERIOD),
                ("verify_interval", d.verify_interval, MAX_PERIOD),
                ("debounce", d.debounce, MAX_WAIT),
            ] {
                prop_assert!(!v.is_zero() && v <= max, "{name} = {v:?}");
            }
            Ok(0)
        }
        Err(e @ Error::Invalid { .. }) => {
            let Error::Invalid { problems, .. } = &e else {
                unreachable!()
            };
            prop_assert!(!problems.is_empty(), "invalid without a problem");
            let lines: Vec<&str> = text.split('\n').collect();
            for p in problems {
                prop_assert!(
                    (1..=lines.len()).contains(&p.line),
                    "line {} of {}: {p:?}",
                    p.line,
                    lines.len()
                );
                let width = lines[p.line - 1].chars().count();
                prop_assert!(
                    (1..=width + 1).contains(&p.col),
                    "column {} of a {width}-character line: {p:?}",
                    p.col
                );
                prop_assert!(!p.message.is_empty());
            }
            let rendered = e.to_string();
            // The TOML parser recovers and reports on: "." alone gives three problems.
            prop_assert!(
                problems.len() <= 4 * (text.len() + 1),
                "{} problems",
                problems.len()
            );
            prop_assert!(
                rendered.len() <= problems.len() * (PER_PROBLEM + 12 * text.len()),
                "{} bytes of diagnostics for {} problems in {} bytes",
                rendered.len(),
                problems.len(),
                text.len()
            );
            // Only while the marker is still a secret: an edit can splice it into another
            // key's value (`tsig_algorithm = "MARKER"`), which is then rightly quoted.
            let as_secret = format!("tsig_secret = \"{MARKER}\"");
            if text.matches(MARKER).count() == text.matches(&as_secret).count() {
                prop_assert!(
                    !rendered.contains(MARKER),
                    "a secret was quoted:\n{rendered}"
                );
            }
            Ok(problems.len())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "from_text read no file, yet: {other}"
        ))),
    }
}

/// Pieces of TOML and of this config's vocabulary, for token soup and insertions.
const TOKENS: &[&str] = &[
    "\n",
    "\n",
    "\n",
    " ",
    "=",
    " = ",
    "\"",
    "'",
    "[",
    "]",
    ",",
    "{",
    "}",
    "#",
    ".",
    "[daemon]",
    "[sources.s]",
    "[sources.t]",
    "[providers.p]",
    "[providers.q]",
    "[[records]]",
    "[sources]",
    "[providers]",
    "[records]",
    "[[sources.s]]",
    "kind",
    "kind = \"static\"",
    "kind = \"interface\"",
    "kind = \"http\"",
    "kind = \"dns\"",
    "kind = \"command\"",
    "kind = \"prefix\"",
    "kind = \"rfc2136\"",
    "kind = \"tencentcloud\"",
    "kind = \"dnspod\"",
    "kind = \"dry-run\"",
    "kind = \"nope\"",
    "interval",
    "verify_interval",
    "debounce",
    "state_file",
    "addresses",
    "interface",
    "family",
    "select",
    "allow_ula",
    "allow_temporary",
    "allow_private",
    "urls",
    "timeout",
    "command",
    "env",
    "from",
    "prefix_length",
    "subnet_id",
    "suffix",
    "server",
    "zone",
    "tsig_name",
    "tsig_algorithm",
    "tsig_secret",
    "tsig_secret_env",
    "tsig_secret_file",
    "secret_id",
    "secret_key",
    "secret_key_env",
    "token_id",
    "token",
    "token_env",
    "endpoint",
    "record_line",
    "name",
    "provider",
    "sources",
    "ttl",
    "query",
    "resolver",
    "\"5m\"",
    "\"1h\"",
    "\"0s\"",
    "\"30s\"",
    "\"99999999999999h\"",
    "\"1e3s\"",
    "\"-5m\"",
    "\"8d\"",
    "\"ipv6\"",
    "\"ipv4\"",
    "\"best\"",
    "\"all\"",
    "\"eth0\"",
    "\"2001:db8::1\"",
    "\"203.0.113.7\"",
    "[\"2001:db8::1\"]",
    "[\"s\"]",
    "[\"s\", \"t\"]",
    "[]",
    "\"s\"",
    "\"p\"",
    "\"h.example.test\"",
    "\"example.test\"",
    "\"127.0.0.1:53\"",
    "\"http://127.0.0.1:1/\"",
    "\"hmac-sha256\"",
    "\"SET\"",
    "\"EMPTY\"",
    "\"UNSET\"",
    "\"${UNSET}/x\"",
    "\"/nonexistent\"",
    "300",
    "0",
    "-1",
    "4294967296",
    "1.5",
    "true",
    "1979-05-27T07:32:00Z",
    "\"默认\"",
    "\"\"",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\"\\\"",
    "'''",
    "\"\"\"",
    "\u{feff}",
    "\r\n",
    "\t",
    "é",
    "\u{0}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..80).prop_map(|v| v.concat())
}

/// A valid config with every kind of table and a secret in each provider.
fn seed_config() -> String {
    format!(
        r#"[daemon]
interval = "5m"
verify_interval = "1h"
state_file = "/var/lib/ddnsd/state.json"

[sources.s]
kind = "static"
addresses = ["2001:db8::1", "203.0.113.7"]

[sources.t]
kind = "interface"
interface = "eth0"
family = "ipv6"
select = "best"

[providers.p]
kind = "rfc2136"
server = "127.0.0.1:53"
zone = "example.test"
tsig_name = "ddnsd-key"
tsig_algorithm = "hmac-sha256"
tsig_secret = "{MARKER}"

[providers.q]
kind = "tencentcloud"
secret_id = "AKIDexample"
secret_key_env = "SET"

[[records]]
name = "h.example.test"
provider = "p"
sources = ["s", "t"]
ttl = 300

[[records]]
name = "q.example.test"
provider = "q"
sources = ["s"]
"#
    )
}

/// The seed config builds, so edits start from a config the builder goes all the way through.
// The seed names kinds of the `http` feature.
#[cfg(feature = "http")]
#[test]
fn the_seed_builds() {
    assert_eq!(check(&seed_config()).unwrap(), 0);
}

proptest! {
    #![proptest_config(cases(1000))]

    /// Any text at all.
    #[test]
    fn arbitrary_text(text in any::<String>()) {
        check(&text)?;
    }

    /// Any bytes, read the way `load` would get them (lossy for this test: `load` refuses
    /// non-UTF-8 files before parsing).
    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    /// Sequences of TOML pieces and this config's keys and values: gets past the TOML parser
    /// into the builder far more often than random text does.
    #[test]
    fn token_soup_configs(text in token_soup()) {
        check(&text)?;
    }

    /// A valid config (with a secret in each provider) or the `ddnsd init` example, edited
    /// a few times: every kind of mistake a hand edit makes, next to the secrets.
    #[test]
    fn edited_configs(
        example in any::<bool>(),
        edits in prop::collection::vec(edit(TOKENS), 1..6),
    ) {
        let seed = if example { super::default::EXAMPLE.to_owned() } else { seed_config() };
        check(&apply(&seed, &edits))?;
    }
}
