//! The webhook template language: placeholders ([`Field`]), escaping by context ([`Escape`])
//! and rendering a [`Template`] with one request's [`Values`].

use crate::record::{AddrSet, Fqdn};

/// A value a template can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `{name}`: the record's name, without the trailing dot.
    Name,
    /// `{type}`: `A` or `AAAA`.
    Type,
    /// `{address}`: the lowest address of the set (empty for none).
    Address,
    /// `{addresses}`: every address, comma-separated.
    Addresses,
    /// `{addresses_json}`: every address as a JSON array of strings, inserted as is in a JSON
    /// body.
    AddressesJson,
    /// `{ttl}`: the TTL in seconds.
    Ttl,
    /// `{zone}`: the provider's `zone`.
    Zone,
}

impl Field {
    /// Every field, as written between braces.
    pub const ALL: [(Field, &'static str); 7] = [
        (Field::Name, "name"),
        (Field::Type, "type"),
        (Field::Address, "address"),
        (Field::Addresses, "addresses"),
        (Field::AddressesJson, "addresses_json"),
        (Field::Ttl, "ttl"),
        (Field::Zone, "zone"),
    ];
}

/// How substituted values are escaped: by where the template's text ends up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// A URL: percent-encoded.
    Url,
    /// A JSON body: JSON string content (the template writes the quotes).
    Json,
    /// An `application/x-www-form-urlencoded` body: percent-encoded.
    Form,
    /// Any other body: as is.
    Verbatim,
}

impl Escape {
    /// The escaping a body of `content_type` needs.
    pub fn for_content_type(content_type: &str) -> Escape {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence == "application/json" || essence.ends_with("+json") {
            Escape::Json
        } else if essence == "application/x-www-form-urlencoded" {
            Escape::Form
        } else {
            Escape::Verbatim
        }
    }
}

/// A parsed template: literal text and placeholders. Its text may hold a secret, so `Debug`
/// shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    pub(super) parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Part {
    Text(String),
    Field(Field),
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Template(***)")
    }
}

/// The values one request fills in.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    /// The record's name.
    pub name: &'a Fqdn,
    /// `A` / `AAAA`.
    pub rtype: &'a str,
    /// The addresses.
    pub addrs: &'a AddrSet,
    /// The TTL.
    pub ttl: u32,
    /// The provider's zone, if set.
    pub zone: Option<&'a Fqdn>,
}

impl Template {
    /// Parses `text`: `{field}` is a placeholder, `{{field}}` the literal text `{field}`, and
    /// every other brace is literal (so JSON bodies need no escaping). An unknown `{word}` is an
    /// error naming it.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            lit.push_str(&rest[..i]);
            let at = &rest[i..];
            if let Some(word) = braced(at.strip_prefix('{').unwrap_or("")) {
                if at[1 + word.len() + 2..].starts_with('}') {
                    // `{{word}}`: the literal `{word}`.
                    lit.push('{');
                    lit.push_str(word);
                    lit.push('}');
                    rest = &at[word.len() + 4..];
                    continue;
                }
            }
            match braced(at) {
                Some(word) => {
                    let Some((field, _)) = Field::ALL.iter().find(|(_, n)| *n == word) else {
                        return Err(word.to_owned());
                    };
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Field(*field));
                    rest = &at[word.len() + 2..];
                }
                None => {
                    lit.push('{');
                    rest = &at[1..];
                }
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template { parts })
    }

    /// True if the template holds `field`.
    pub fn uses(&self, field: Field) -> bool {
        self.parts.contains(&Part::Field(field))
    }

    /// The text with every placeholder replaced by its value, escaped for `escape`. Pure.
    pub fn render(&self, v: &Values<'_>, escape: Escape) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => {
                    let raw = match f {
                        Field::Name => v.name.as_str().to_owned(),
                        Field::Type => v.rtype.to_owned(),
                        Field::Address => v
                            .addrs
                            .iter()
                            .next()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        Field::Addresses if v.addrs.is_empty() => String::new(),
                        Field::Addresses => v.addrs.to_string(),
                        Field::AddressesJson => {
                            let list: Vec<String> =
                                v.addrs.iter().map(ToString::to_string).collect();
                            serde_json::Value::from(list).to_string()
                        }
                        Field::Ttl => v.ttl.to_string(),
                        Field::Zone => v.zone.map(|z| z.as_str().to_owned()).unwrap_or_default(),
                    };
                    match (escape, f) {
                        // Already JSON: inserted as is into JSON or free text.
                        (Escape::Json | Escape::Verbatim, Field::AddressesJson) => {
                            out.push_str(&raw)
                        }
                        (Escape::Json, _) => out.push_str(&json_escape(&raw)),
                        (Escape::Url | Escape::Form, _) => out.push_str(&percent_encode(&raw)),
                        (Escape::Verbatim, _) => out.push_str(&raw),
                    }
                }
            }
        }
        out
    }
}

/// `{word}` at the start of `s` (a lower-case identifier): the word.
fn braced(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('{')?;
    let end = inner.find('}')?;
    let word = &inner[..end];
    let ok = word.len() <= 32
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ok.then_some(word)
}

/// JSON string content (RFC 8259 §7): quote, backslash and control characters escaped.
pub(super) fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters and the `:` and `,` of
/// address lists.
pub(super) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:,".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
