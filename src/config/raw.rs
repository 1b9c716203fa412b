//! Serde structs mirroring the TOML as the user wrote it (`deny_unknown_fields`), with spans
//! kept for diagnostics. Nothing here is checked beyond TOML types; `build.rs` does the rest.

use serde::Deserialize;
use toml::Spanned;

pub use crate::fields::Text;

/// `[daemon]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    /// Re-detect period.
    pub interval: Option<Text>,
    /// Live-record verification period.
    pub verify_interval: Option<Text>,
    /// Quiet time after an address event before a pass.
    pub debounce: Option<Text>,
    /// State file path.
    pub state_file: Option<Text>,
}

/// `[sources.NAME]` with `kind = "interface"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInterfaceSource {
    /// Always "interface".
    pub kind: Text,
    /// Interface name; omitted = every interface.
    pub interface: Option<Text>,
    /// "ipv6" (default) or "ipv4".
    pub family: Option<Text>,
    /// Publish temporary (privacy) addresses.
    pub allow_temporary: Option<bool>,
    /// Publish ULA addresses.
    pub allow_ula: Option<bool>,
    /// Publish RFC 1918 / CGNAT IPv4 addresses.
    pub allow_private: Option<bool>,
    /// "best" (default) or "all".
    pub select: Option<Text>,
}

/// `[sources.NAME]` with `kind = "static"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStaticSource {
    /// Always "static".
    pub kind: Text,
    /// The addresses.
    pub addresses: Spanned<Vec<Text>>,
}

/// `[sources.NAME]` with `kind = "http"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpSource {
    /// Always "http".
    pub kind: Text,
    /// "ipv6" (default) or "ipv4".
    pub family: Option<Text>,
    /// Echo service URLs, in order; omitted = the built-in list for the family.
    pub urls: Option<Spanned<Vec<Text>>>,
    /// Ask every URL and require this many to agree.
    pub consensus: Option<Spanned<i64>>,
    /// Time allowed per URL.
    pub timeout: Option<Text>,
    /// Publish a ULA answer.
    pub allow_ula: Option<bool>,
    /// Publish an RFC 1918 / CGNAT answer.
    pub allow_private: Option<bool>,
}

/// `[sources.NAME]` with `kind = "dns"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnsSource {
    /// Always "dns".
    pub kind: Text,
    /// "ipv6" (default) or "ipv4".
    pub family: Option<Text>,
    /// `IP` or `IP:PORT` of the server asked; omitted = the preset's server.
    pub resolver: Option<Text>,
    /// "opendns", "cloudflare" (default) or "google".
    pub query: Option<Text>,
    /// Explicit query name (instead of `query`).
    pub name: Option<Text>,
    /// Explicit query type: "A", "AAAA" or "TXT".
    #[serde(rename = "type")]
    pub rtype: Option<Text>,
    /// Explicit query class: "IN" (default) or "CH".
    pub class: Option<Text>,
    /// Time allowed.
    pub timeout: Option<Text>,
    /// Publish a ULA answer.
    pub allow_ula: Option<bool>,
    /// Publish an RFC 1918 / CGNAT answer.
    pub allow_private: Option<bool>,
}

/// `[sources.NAME]` with `kind = "command"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommandSource {
    /// Always "command".
    pub kind: Text,
    /// "ipv6" (default) or "ipv4".
    pub family: Option<Text>,
    /// Program and arguments.
    pub command: Spanned<Vec<Text>>,
    /// Time the command may run.
    pub timeout: Option<Text>,
    /// Publish ULA addresses.
    pub allow_ula: Option<bool>,
    /// Publish RFC 1918 / CGNAT addresses.
    pub allow_private: Option<bool>,
    /// Environment variables passed to the command besides PATH, HOME and LANG.
    pub env: Option<Spanned<Vec<Text>>>,
}

/// `[sources.NAME]` with `kind = "prefix"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrefixSource {
    /// Always "prefix".
    pub kind: Text,
    /// The source giving the prefix.
    pub from: Text,
    /// Prefix length, default 64.
    pub prefix_length: Option<Spanned<i64>>,
    /// Host part as an IPv6 suffix.
    pub suffix: Option<Text>,
    /// Host part as a MAC (modified EUI-64).
    pub mac: Option<Text>,
    /// Subnet between the prefix and /64.
    pub subnet_id: Option<Spanned<i64>>,
    /// Publish a composed ULA address.
    pub allow_ula: Option<bool>,
}

/// `[sources.NAME]` with `kind = "leases"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLeasesSource {
    /// Always "leases".
    pub kind: Text,
    /// The lease file.
    pub file: Text,
    /// "odhcpd" (default) or "dnsmasq".
    pub format: Option<Text>,
    /// The host by hostname.
    pub hostname: Option<Text>,
    /// The host by DHCPv6 DUID (or DHCPv4 client id).
    pub duid: Option<Text>,
    /// The host by MAC.
    pub mac: Option<Text>,
    /// "ipv6" (default) or "ipv4".
    pub family: Option<Text>,
    /// Publish ULA addresses.
    pub allow_ula: Option<bool>,
    /// Publish RFC 1918 / CGNAT addresses.
    pub allow_private: Option<bool>,
}

/// `[sources.NAME]` with `kind = "neighbors"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeighborsSource {
    /// Always "neighbors".
    pub kind: Text,
    /// The LAN interface.
    pub interface: Text,
    /// The source giving the current prefix(es).
    pub from: Text,
    /// Prefix length, default 64.
    pub prefix_length: Option<Spanned<i64>>,
    /// The host by MAC.
    pub mac: Option<Text>,
    /// The host by hostname (through `leases`).
    pub hostname: Option<Text>,
    /// The lease file mapping hostnames to MACs.
    pub leases: Option<Text>,
    /// "odhcpd" (default) or "dnsmasq".
    pub leases_format: Option<Text>,
    /// "best" (default) or "all".
    pub select: Option<Text>,
    /// Publish ULA addresses.
    pub allow_ula: Option<bool>,
    /// Probe the LAN when the prefix changes (default true).
    pub probe: Option<bool>,
}

/// One `[[records]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecord {
    /// Fully qualified name.
    pub name: Text,
    /// Provider name.
    pub provider: Text,
    /// Source names.
    pub sources: Spanned<Vec<Text>>,
    /// TTL in seconds, or "auto" (capped at the addresses' remaining preferred lifetime).
    pub ttl: Option<Spanned<RawTtl>>,
    /// "keep" (default) or "delete": what happens when the host has no address.
    pub on_gone: Option<Text>,
    /// With on_gone = "delete": how long the host may be without an address first.
    pub grace: Option<Text>,
}

/// A record's `ttl`: seconds or a word.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawTtl {
    /// `ttl = 300`.
    Seconds(i64),
    /// `ttl = "auto"`.
    Word(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::fields_of;

    #[test]
    fn introspects_field_names() {
        assert_eq!(
            fields_of::<RawDaemon>(),
            ["interval", "verify_interval", "debounce", "state_file"]
        );
    }
}
