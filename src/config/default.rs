//! The embedded default config (used when no config is named and none is at the default path)
//! and what `ddnsd init` prints: the commented example, followed by every provider kind's
//! block from the registry (so a new kind shows up without touching this file).

use super::Error;
use crate::provider::{registry, Kind, KINDS};

/// The base of what `ddnsd init` prints: daemon settings, sources, one active provider and
/// its records (a complete config; `ddnsd check` accepts it).
pub const EXAMPLE: &str = include_str!("example.toml");

/// What `ddnsd init` prints: [`EXAMPLE`], then every provider kind's block, commented out
/// under its one-line description, in registry order.
pub fn init() -> String {
    let mut s = String::from(EXAMPLE);
    s.push_str(
        "\n# Every provider kind, commented out. To use one, remove the \"# \" before each line of its\n\
         # block, fill in the placeholders and name the provider in a record's `provider`.\n",
    );
    for kind in KINDS {
        s.push('\n');
        s.push_str(&commented(kind));
    }
    s
}

/// What `ddnsd init --provider KIND` prints: that kind's block under its description, ready
/// to paste into a config.
pub fn provider_example(kind: &str) -> Result<String, Error> {
    match registry::find(kind) {
        Some(k) => Ok(format!("{}\n{}", heading(k), k.example)),
        None => Err(
            match crate::provider::LEFT_OUT.iter().find(|(k, _)| *k == kind) {
                Some((_, feature)) => Error::KindLeftOut {
                    kind: kind.to_owned(),
                    feature,
                },
                None => Error::UnknownKind {
                    kind: kind.to_owned(),
                },
            },
        ),
    }
}

/// `# KIND — ABOUT`: the line above a kind's block.
fn heading(kind: &Kind) -> String {
    format!("# {} — {}", kind.name, kind.about)
}

/// A kind's block with every line commented out (`# `; an empty line becomes `#`).
fn commented(kind: &Kind) -> String {
    let mut s = heading(kind);
    s.push('\n');
    for line in kind.example.lines() {
        if line.is_empty() {
            s.push_str("#\n");
        } else {
            s.push_str("# ");
            s.push_str(line);
            s.push('\n');
        }
    }
    s
}

/// The embedded default: every interface's selected IPv6 and IPv4 addresses, the `dry-run`
/// provider, a record named after the host under `example.invalid`, and no state file.
pub fn embedded(host: &str) -> String {
    format!(
        r#"[sources.ipv6]
kind = "interface"
family = "ipv6"

[sources.ipv4]
kind = "interface"
family = "ipv4"

[providers.preview]
kind = "dry-run"

[[records]]
name = "{host}.example.invalid"
provider = "preview"
sources = ["ipv6", "ipv4"]
"#
    )
}

/// This machine's host name as one DNS label (`host` if it has none usable).
pub fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    label(raw.trim())
}

/// Turns any host name into one valid DNS label.
pub fn label(name: &str) -> String {
    let first = name.split('.').next().unwrap_or("");
    let mut l: String = first
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    l = l.trim_matches('-').to_owned();
    if l.is_empty() {
        "host".to_owned()
    } else {
        l
    }
}
