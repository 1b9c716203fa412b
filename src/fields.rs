//! Reading one kind's table of settings (`[providers.NAME]`): the [`Fields`] trait that the
//! config reader implements and a kind's own parser calls, so a provider's settings live in
//! its own file while every problem is still reported by the config reader, placed and all at
//! once. Knows no kind; reads no file and no environment variable itself.

use std::ops::Range;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use toml::Spanned;

use crate::secret::Secret;

/// A string with its place in the file.
pub type Text = Spanned<String>;

/// What a kind's settings parser may ask of the config reader. Every method that can fail
/// records the problem itself and returns `None`, so a parser carries on and reports every
/// mistake of its table.
pub trait Fields {
    /// Where the table is, for messages: `[providers.home]`.
    fn place(&self) -> &str;
    /// The byte span of the whole table (used when a required key is missing).
    fn span(&self) -> Range<usize>;
    /// Records a problem at `span`.
    fn problem(&mut self, span: Range<usize>, message: String, hint: Option<String>);
    /// Deserializes the table: unknown keys (not in `known`) are reported and dropped, then
    /// `de` is called with the rest until it succeeds; a key with a wrong type is reported
    /// and dropped too. False when the table cannot be read at all.
    fn deserialize(
        &mut self,
        known: &'static [&'static str],
        de: &mut dyn FnMut(toml::de::ValueDeserializer<'_>) -> Result<(), toml::de::Error>,
    ) -> bool;
    /// Resolves a secret given as `X`, `X_file` or `X_env` (exactly one).
    fn secret(&mut self, fields: SecretFields<'_>) -> Option<Secret<String>>;
    /// Parses an optional duration (`30s`, `5m`) within `1 s ..= max`.
    fn duration(
        &mut self,
        value: &Option<Text>,
        default: Duration,
        max: Duration,
        name: &str,
    ) -> Option<Duration>;
}

/// Deserializes the table into the raw struct `T` (which should `deny_unknown_fields`).
pub fn take<T: DeserializeOwned>(f: &mut dyn Fields) -> Option<T> {
    let mut out = None;
    let ok = f.deserialize(fields_of::<T>(), &mut |de| {
        out = Some(T::deserialize(de)?);
        Ok(())
    });
    if ok {
        out
    } else {
        None
    }
}

/// The three ways a secret field can be given.
#[derive(Clone, Copy, Debug)]
pub struct SecretFields<'a> {
    /// The field's base name (`tsig_secret`).
    pub name: &'a str,
    /// `X = "…"`.
    pub inline: &'a Option<Text>,
    /// `X_file = "path"`.
    pub file: &'a Option<Text>,
    /// `X_env = "VAR"`.
    pub env: &'a Option<Text>,
}

impl SecretFields<'_> {
    /// True if any of the three forms is present.
    pub fn given(&self) -> bool {
        self.inline.is_some() || self.file.is_some() || self.env.is_some()
    }

    /// The span of whichever form was used, for problems about the value (never quoted).
    pub fn span(&self) -> Option<Range<usize>> {
        [self.inline, self.file, self.env]
            .into_iter()
            .flatten()
            .next()
            .map(Spanned::span)
    }
}

/// Parses an optional zone name (`example.com` or `example.com.`).
pub fn zone(f: &mut dyn Fields, value: &Option<Text>) -> Option<Option<crate::record::Fqdn>> {
    match value {
        None => Some(None),
        Some(t) => match crate::record::Fqdn::parse_relaxed(t.get_ref()) {
            Ok(z) => Some(Some(z)),
            Err(e) => {
                f.problem(t.span(), format!("zone: {e}"), None);
                None
            }
        },
    }
}

/// Parses an optional `endpoint` (an http or https URL), defaulting to `default`; a trailing
/// `/` is dropped so paths can be appended.
pub fn endpoint(f: &mut dyn Fields, value: &Option<Text>, default: &str) -> Option<String> {
    match value {
        None => Some(default.to_owned()),
        Some(t) => {
            let s = t.get_ref().trim_end_matches('/');
            let ok = (s.starts_with("https://") || s.starts_with("http://"))
                && s.len() > "https://".len();
            if ok {
                Some(s.to_owned())
            } else {
                f.problem(
                    t.span(),
                    format!("endpoint {:?} is not an http(s) URL", t.get_ref()),
                    Some("write the API's base URL, e.g. \"https://api.example.com\"".to_owned()),
                );
                None
            }
        }
    }
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`, with `default_port` when the port is omitted; the error
/// is a clause to put after the field's name (`server "x" is not …`).
pub fn socket_addr(s: &str, default_port: u16) -> Result<std::net::SocketAddr, String> {
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        return Ok(std::net::SocketAddr::new(ip, default_port));
    }
    Err(format!("{s:?} is not an IP address with an optional port"))
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

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        kind: String,
        zone: Option<String>,
    }

    #[test]
    fn introspects_field_names() {
        assert_eq!(fields_of::<Probe>(), ["kind", "zone"]);
    }
}
