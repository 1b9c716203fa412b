//! Serde structs mirroring the TOML as the user wrote it (`deny_unknown_fields`), with spans
//! kept for diagnostics. Nothing here is checked beyond TOML types; `build.rs` does the rest.

use serde::Deserialize;
use toml::Spanned;

/// A string with its place in the file.
pub type Text = Spanned<String>;

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

/// `[providers.NAME]` with `kind = "dry-run"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDryRun {
    /// Always "dry-run".
    pub kind: Text,
}

/// `[providers.NAME]` with `kind = "rfc2136"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRfc2136 {
    /// Always "rfc2136".
    pub kind: Text,
    /// `IP` or `IP:PORT` of the primary.
    pub server: Text,
    /// Zone; omitted = found by SOA query.
    pub zone: Option<Text>,
    /// TSIG key name.
    pub tsig_name: Option<Text>,
    /// TSIG algorithm, default hmac-sha256.
    pub tsig_algorithm: Option<Text>,
    /// TSIG secret (base64), inline.
    pub tsig_secret: Option<Text>,
    /// TSIG secret, from a file.
    pub tsig_secret_file: Option<Text>,
    /// TSIG secret, from an environment variable.
    pub tsig_secret_env: Option<Text>,
    /// Per-request timeout.
    pub timeout: Option<Text>,
}

/// `[providers.NAME]` with `kind = "tencentcloud"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTencentCloud {
    /// Always "tencentcloud".
    pub kind: Text,
    /// SecretId.
    pub secret_id: Option<Text>,
    /// SecretId from a file.
    pub secret_id_file: Option<Text>,
    /// SecretId from an environment variable.
    pub secret_id_env: Option<Text>,
    /// SecretKey.
    pub secret_key: Option<Text>,
    /// SecretKey from a file.
    pub secret_key_file: Option<Text>,
    /// SecretKey from an environment variable.
    pub secret_key_env: Option<Text>,
    /// Zone (domain).
    pub zone: Option<Text>,
    /// Record line.
    pub record_line: Option<Text>,
    /// API endpoint.
    pub endpoint: Option<Text>,
    /// Region.
    pub region: Option<Text>,
}

/// `[providers.NAME]` with `kind = "dnspod"` (legacy token API).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnspod {
    /// Always "dnspod".
    pub kind: Text,
    /// Token ID.
    pub token_id: Option<Text>,
    /// Token ID from a file.
    pub token_id_file: Option<Text>,
    /// Token ID from an environment variable.
    pub token_id_env: Option<Text>,
    /// Token.
    pub token: Option<Text>,
    /// Token from a file.
    pub token_file: Option<Text>,
    /// Token from an environment variable.
    pub token_env: Option<Text>,
    /// Zone (domain).
    pub zone: Option<Text>,
    /// Record line.
    pub record_line: Option<Text>,
    /// API endpoint.
    pub endpoint: Option<Text>,
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
    /// TTL in seconds.
    pub ttl: Option<Spanned<i64>>,
}

/// The field names of a struct deriving `Deserialize`, as serde sees them (used to report
/// every unknown key with a did-you-mean before deserializing the rest).
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Probe {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspects_field_names() {
        assert_eq!(
            fields_of::<RawDaemon>(),
            ["interval", "verify_interval", "debounce", "state_file"]
        );
    }
}
