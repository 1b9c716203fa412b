//! The little XML that Route 53 speaks: a strict, bounded parser into an element tree, and
//! text escaping for request bodies. Pure.
//!
//! Why not a crate: Route 53 replies are a few nested elements with text (no namespaces to
//! resolve, no attributes that matter, no mixed content), and the only XML crates worth their
//! weight (quick-xml, roxmltree) would add a dependency for ~250 lines of well-tested code.
//! Everything outside that subset is refused rather than guessed: a DOCTYPE (entity
//! expansion), unknown entities, mismatched or unclosed tags, text after the root. Depth and
//! element count are capped on top of the 64 KiB body cap.

use std::fmt;

/// Deepest nesting accepted (Route 53 replies nest 6 levels).
pub const MAX_DEPTH: usize = 32;
/// Most elements accepted in one document (a 64 KiB body holds at most a few thousand).
pub const MAX_ELEMENTS: usize = 20_000;

/// One element: its local name (prefix dropped), its text (entities decoded; the text of
/// its direct content, concatenated) and its child elements in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// The name without a namespace prefix.
    pub name: String,
    /// The element's own text.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

/// Why a document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlError {
    /// Byte offset where parsing stopped.
    pub at: usize,
    /// What was wrong there.
    pub what: &'static str,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not well-formed xml: {} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for XmlError {}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at `path` below this one (each step: the first child of that name).
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// The trimmed text of the element at `path`.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).map(|e| e.text.trim())
    }
}

/// Parses a whole document; returns its root element.
pub fn parse(input: &str) -> Result<Element, XmlError> {
    let mut p = Parser {
        s: input.as_bytes(),
        src: input,
        pos: 0,
        elements: 0,
    };
    if p.s.starts_with("\u{feff}".as_bytes()) {
        p.pos = 3;
    }
    p.misc()?;
    if p.peek() != Some(b'<') {
        return Err(p.err("expected the root element"));
    }
    let root = p.element(1)?;
    p.misc()?;
    if p.pos != p.s.len() {
        return Err(p.err("content after the root element"));
    }
    Ok(root)
}

/// Escapes `s` for use as element text or an attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    elements: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> XmlError {
        XmlError { at: self.pos, what }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn starts(&self, lit: &str) -> bool {
        self.s[self.pos..].starts_with(lit.as_bytes())
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// Skips past `end`, or fails with `what` when the input ends first.
    fn skip_past(&mut self, end: &str, what: &'static str) -> Result<usize, XmlError> {
        let from = self.pos;
        match find(&self.s[from..], end.as_bytes()) {
            Some(i) => {
                self.pos = from + i + end.len();
                Ok(from + i)
            }
            None => {
                self.pos = self.s.len();
                Err(self.err(what))
            }
        }
    }

    /// Whitespace, comments and processing instructions (the prolog and the epilogue).
    fn misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            if self.starts("<?") {
                self.skip_past("?>", "unclosed processing instruction")?;
            } else if self.starts("<!--") {
                self.skip_past("-->", "unclosed comment")?;
            } else if self.starts("<!") {
                return Err(self.err("a document type declaration is not accepted"));
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<&str, XmlError> {
        let from = self.pos;
        while let Some(b) = self.peek() {
            if matches!(
                b,
                b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>' | b'=' | b'<' | b'"' | b'\''
            ) {
                break;
            }
            self.pos += 1;
        }
        if self.pos == from {
            return Err(self.err("expected a name"));
        }
        self.src
            .get(from..self.pos)
            .ok_or_else(|| self.err("a name is not utf-8"))
    }

    fn element(&mut self, depth: usize) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return Err(self.err("elements nested too deeply"));
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(self.err("too many elements"));
        }
        self.pos += 1; // '<'
        let qname = self.name()?.to_owned();
        let local = qname.rsplit(':').next().unwrap_or(&qname).to_owned();
        let mut el = Element {
            name: local,
            ..Element::default()
        };
        // Attributes are checked for shape and otherwise ignored.
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'/') => {
                    self.pos += 1;
                    if self.peek() != Some(b'>') {
                        return Err(self.err("expected '>' after '/'"));
                    }
                    self.pos += 1;
                    return Ok(el);
                }
                Some(b'>') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => {
                    self.name()?;
                    self.skip_ws();
                    if self.peek() != Some(b'=') {
                        return Err(self.err("expected '=' in an attribute"));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let quote = match self.peek() {
                        Some(q @ (b'"' | b'\'')) => q,
                        _ => return Err(self.err("expected a quoted attribute value")),
                    };
                    self.pos += 1;
                    let end = if quote == b'"' { "\"" } else { "'" };
                    self.skip_past(end, "unclosed attribute value")?;
                }
                None => return Err(self.err("unexpected end inside a tag")),
            }
        }
        // Content.
        loop {
            let from = self.pos;
            while self.peek().is_some_and(|b| b != b'<') {
                self.pos += 1;
            }
            if self.pos > from {
                let raw = self
                    .src
                    .get(from..self.pos)
                    .ok_or_else(|| self.err("text is not utf-8"))?;
                decode_into(raw, &mut el.text).map_err(|what| XmlError { at: from, what })?;
            }
            if self.peek().is_none() {
                return Err(self.err("unexpected end of input: an element is not closed"));
            }
            if self.starts("</") {
                self.pos += 2;
                let end = self.name()?.to_owned();
                self.skip_ws();
                if self.peek().is_none() {
                    return Err(self.err("unexpected end of input: an element is not closed"));
                }
                if end != qname {
                    return Err(self.err("an end tag does not match its start tag"));
                }
                if self.peek() != Some(b'>') {
                    return Err(self.err("expected '>' to end a tag"));
                }
                self.pos += 1;
                return Ok(el);
            } else if self.starts("<!--") {
                self.skip_past("-->", "unclosed comment")?;
            } else if self.starts("<![CDATA[") {
                self.pos += "<![CDATA[".len();
                let from = self.pos;
                let end = self.skip_past("]]>", "unclosed cdata section")?;
                let raw = self
                    .src
                    .get(from..end)
                    .ok_or_else(|| self.err("cdata is not utf-8"))?;
                el.text.push_str(raw);
            } else if self.starts("<?") {
                self.skip_past("?>", "unclosed processing instruction")?;
            } else if self.starts("<!") {
                return Err(self.err("a declaration inside an element"));
            } else {
                let child = self.element(depth + 1)?;
                el.children.push(child);
            }
        }
    }
}

/// Appends `raw` with its entity and character references decoded.
fn decode_into(raw: &str, out: &mut String) -> Result<(), &'static str> {
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or("an unterminated entity reference")?;
        let name = &after[..end];
        match name {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    return Err("an unknown entity reference");
                };
                let c = code
                    .and_then(char::from_u32)
                    .ok_or("an invalid character reference")?;
                out.push(c);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <ResourceRecordSets>
    <ResourceRecordSet>
      <Name>home.example.com.</Name><Type>AAAA</Type><TTL>300</TTL>
      <ResourceRecords>
        <ResourceRecord><Value>2001:db8::1</Value></ResourceRecord>
        <ResourceRecord><Value>2001:db8::2</Value></ResourceRecord>
      </ResourceRecords>
    </ResourceRecordSet>
  </ResourceRecordSets>
  <IsTruncated>false</IsTruncated><MaxItems>1</MaxItems>
</ListResourceRecordSetsResponse>"#;

    #[test]
    fn parses_a_route53_reply() {
        let root = parse(LIST).unwrap();
        assert_eq!(root.name, "ListResourceRecordSetsResponse");
        let set = root
            .at(&["ResourceRecordSets", "ResourceRecordSet"])
            .unwrap();
        assert_eq!(set.text_at(&["Name"]), Some("home.example.com."));
        assert_eq!(set.text_at(&["TTL"]), Some("300"));
        let values: Vec<&str> = set
            .child("ResourceRecords")
            .unwrap()
            .children_named("ResourceRecord")
            .filter_map(|r| r.text_at(&["Value"]))
            .collect();
        assert_eq!(values, ["2001:db8::1", "2001:db8::2"]);
        assert_eq!(root.text_at(&["IsTruncated"]), Some("false"));
        assert_eq!(root.text_at(&["NextRecordName"]), None);
    }

    #[test]
    fn decodes_entities_cdata_and_prefixes() {
        let doc = "\u{feff}<!-- c --><a:R x='1' y=\"a>b\"><a:M>x &amp; y &lt;&#42;&#x41;&gt; <![CDATA[<raw&>]]></a:M><E/><!-- c --></a:R>\n";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "R");
        assert_eq!(root.text_at(&["M"]), Some("x & y <*A> <raw&>"));
        assert!(root.child("E").is_some());
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let cases = [
            ("", "expected the root element"),
            ("hello", "expected the root element"),
            (
                &LIST[..LIST.len() - 20],
                "unexpected end of input: an element is not closed",
            ),
            ("<a><b></a></b>", "an end tag does not match its start tag"),
            ("<a>x</a><b/>", "content after the root element"),
            ("<a>&bogus;</a>", "an unknown entity reference"),
            ("<a>&amp</a>", "an unterminated entity reference"),
            ("<a>&#xD800;</a>", "an invalid character reference"),
            (
                "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
                "a document type declaration is not accepted",
            ),
            ("<a x=1/>", "expected a quoted attribute value"),
            ("<a x='1/>", "unclosed attribute value"),
            ("<a><!-- x</a>", "unclosed comment"),
            ("<a", "unexpected end inside a tag"),
            ("<>", "expected a name"),
        ];
        for (doc, what) in cases {
            let e = parse(doc).unwrap_err();
            assert_eq!(e.what, what, "{doc:?}");
        }
        assert_eq!(
            parse("<a>").unwrap_err().to_string(),
            "not well-formed xml: unexpected end of input: an element is not closed at byte 3"
        );
    }

    #[test]
    fn depth_and_size_are_capped() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep).unwrap_err().what, "elements nested too deeply");
        let ok = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert_eq!(parse(&wide).unwrap_err().what, "too many elements");
    }
}
