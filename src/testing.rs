//! Compiled only under #[cfg(test)] (declared so in lib.rs). Helpers shared by the property
//! tests of the parsers that read bytes from outside (issue 8, fuzzing).

use proptest::prelude::*;
use proptest::test_runner::Config;

/// `n` cases per property in CI (seconds in all); a long run sets proptest's own
/// `PROPTEST_CASES` instead (commands and results in docs/design/testing.md).
pub fn cases(n: u32) -> Config {
    let config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        config
    } else {
        Config { cases: n, ..config }
    }
}

/// One edit of a text, positions given as fractions of its length: the mistakes of a hand
/// edit, a damaged file or a broken server.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Delete up to this many characters.
    Delete(prop::sample::Index, usize),
    /// Insert a string.
    Insert(prop::sample::Index, String),
    /// Repeat a line.
    DuplicateLine(prop::sample::Index),
    /// Swap two lines.
    SwapLines(prop::sample::Index, prop::sample::Index),
    /// Replace one character.
    ReplaceChar(prop::sample::Index, char),
}

/// An edit; insertions are pieces of `tokens` or arbitrary strings.
pub fn edit(tokens: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<prop::sample::Index>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<prop::sample::Index>(), prop::sample::select(tokens))
            .prop_map(|(i, t)| Edit::Insert(i, t.to_owned())),
        (any::<prop::sample::Index>(), any::<String>()).prop_map(|(i, s)| Edit::Insert(i, s)),
        any::<prop::sample::Index>().prop_map(Edit::DuplicateLine),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<prop::sample::Index>(), any::<char>()).prop_map(|(i, c)| Edit::ReplaceChar(i, c)),
    ]
}

/// `text` with `edits` applied in order (on characters, so the result stays UTF-8).
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        match e {
            Edit::Delete(at, n) => {
                let start = at.index(chars.len() + 1);
                let end = (start + n).min(chars.len());
                chars.drain(start..end);
            }
            Edit::Insert(at, s) => {
                let i = at.index(chars.len() + 1);
                chars.splice(i..i, s.chars());
            }
            Edit::ReplaceChar(at, c) if !chars.is_empty() => {
                let i = at.index(chars.len());
                chars[i] = *c;
            }
            Edit::ReplaceChar(..) => {}
            Edit::DuplicateLine(at) | Edit::SwapLines(at, _) => {
                let s: String = chars.iter().collect();
                let mut lines: Vec<String> = s.split('\n').map(str::to_owned).collect();
                let i = at.index(lines.len());
                if let Edit::SwapLines(_, b) = e {
                    let j = b.index(lines.len());
                    lines.swap(i, j);
                } else {
                    let line = lines[i].clone();
                    lines.insert(i, line);
                }
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}
