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

/// `[status]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatus {
    /// TCP address of the status server.
    pub listen: Option<Text>,
    /// Unix socket of the status server.
    pub socket: Option<Text>,
    /// Allow `listen` on an address other hosts can reach.
    pub allow_remote: Option<bool>,
}

/// `[heartbeat]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    /// The ping URL (secret).
    pub url: Option<Text>,
    /// The ping URL, from a file.
    pub url_file: Option<Text>,
    /// The ping URL, from an environment variable.
    pub url_env: Option<Text>,
    /// "healthchecks" (default) or "uptime-kuma".
    pub style: Option<Text>,
    /// Time allowed per ping.
    pub timeout: Option<Text>,
}

/// `[[notify]]` with `kind = "webhook"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhookNotify {
    /// Always "webhook".
    pub kind: Text,
    /// Events: "changed", "failed", "recovered".
    pub on: Option<Spanned<Vec<Text>>>,
    /// Time allowed per attempt.
    pub timeout: Option<Text>,
    /// The URL (secret).
    pub url: Option<Text>,
    /// The URL, from a file.
    pub url_file: Option<Text>,
    /// The URL, from an environment variable.
    pub url_env: Option<Text>,
    /// "POST" (default), "PUT" or "GET".
    pub method: Option<Text>,
    /// Headers (secret): a table of name = value.
    pub headers: Option<Spanned<std::collections::BTreeMap<String, Text>>>,
    /// Headers, from a file of `Name: value` lines.
    pub headers_file: Option<Text>,
    /// Headers, from an environment variable holding `Name: value` lines.
    pub headers_env: Option<Text>,
    /// Body template.
    pub body: Option<Text>,
    /// Content-Type of the body.
    pub content_type: Option<Text>,
}

/// `[[notify]]` with `kind = "ntfy"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNtfyNotify {
    /// Always "ntfy".
    pub kind: Text,
    /// Events.
    pub on: Option<Spanned<Vec<Text>>>,
    /// Time allowed per attempt.
    pub timeout: Option<Text>,
    /// The topic URL.
    pub url: Text,
    /// Access token (secret).
    pub token: Option<Text>,
    /// Access token, from a file.
    pub token_file: Option<Text>,
    /// Access token, from an environment variable.
    pub token_env: Option<Text>,
}

/// A Telegram chat id: a number or `@channelname`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawChatId {
    /// A numeric id.
    Number(i64),
    /// A name or a number written as a string.
    Name(String),
}

/// `[[notify]]` with `kind = "telegram"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelegramNotify {
    /// Always "telegram".
    pub kind: Text,
    /// Events.
    pub on: Option<Spanned<Vec<Text>>>,
    /// Time allowed per attempt.
    pub timeout: Option<Text>,
    /// The bot token (secret).
    pub bot_token: Option<Text>,
    /// The bot token, from a file.
    pub bot_token_file: Option<Text>,
    /// The bot token, from an environment variable.
    pub bot_token_env: Option<Text>,
    /// The chat.
    pub chat_id: Spanned<RawChatId>,
    /// The Bot API's base URL.
    pub endpoint: Option<Text>,
}

/// `[[notify]]` with `kind = "email"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmailNotify {
    /// Always "email".
    pub kind: Text,
    /// Events.
    pub on: Option<Spanned<Vec<Text>>>,
    /// Time allowed per attempt.
    pub timeout: Option<Text>,
    /// The relay's host name or IP address.
    pub server: Text,
    /// The relay's port.
    pub port: Option<Spanned<i64>>,
    /// "starttls" (default), "implicit" or "none".
    pub tls: Option<Text>,
    /// Login.
    pub username: Option<Text>,
    /// Password (secret).
    pub password: Option<Text>,
    /// Password, from a file.
    pub password_file: Option<Text>,
    /// Password, from an environment variable.
    pub password_env: Option<Text>,
    /// Sender.
    pub from: Text,
    /// Recipients.
    pub to: Spanned<Vec<Text>>,
    /// Extra trusted certificates (PEM file).
    pub ca_file: Option<Text>,
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
