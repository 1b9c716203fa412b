//! The embedded default config (used when no config is named and none is at the default path)
//! and the commented example printed by `ddnsd init`.

/// The commented example printed by `ddnsd init`.
pub const EXAMPLE: &str = include_str!("example.toml");

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
