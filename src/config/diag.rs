//! [`Diag`]: one config problem with its byte span and hint, and [`suggest`], the one
//! did-you-mean every "unknown …" problem uses. Kept apart so the builder and the secret
//! resolver can both use it without depending on each other.

use std::ops::Range;

/// One problem, placed by byte span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    /// Where (byte range in the file), if known.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

impl Diag {
    /// A problem at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Diag {
        Diag {
            span: Some(span),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Diag {
        self.hint = Some(hint.into());
        self
    }
}

/// How a suggested word is quoted: keys as `` `key` ``, values as `"value"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    /// A key: `` did you mean `interval`? ``.
    Key,
    /// A value: `did you mean "rfc2136"?`.
    Value,
}

/// The hint for an unknown `word`: "did you mean …?" when one of `known` is a likely typo of
/// it, else `otherwise` (usually the list of what is known).
pub fn suggest(word: &str, known: &[&str], quote: Quote, otherwise: String) -> String {
    match did_you_mean(word, known) {
        Some(s) if quote == Quote::Key => format!("did you mean `{s}`?"),
        Some(s) => format!("did you mean \"{s}\"?"),
        None => otherwise,
    }
}

/// The known word closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = ["interval", "verify_interval", "state_file"];
        assert_eq!(
            suggest("intervall", &known, Quote::Key, "x".into()),
            "did you mean `interval`?"
        );
        assert_eq!(
            suggest("rfc2163", &["rfc2136", "dnspod"], Quote::Value, "x".into()),
            "did you mean \"rfc2136\"?"
        );
        assert_eq!(
            suggest("zzz", &known, Quote::Key, "known: …".into()),
            "known: …"
        );
    }
}
