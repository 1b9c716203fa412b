//! Where log lines go and how they look: colour only on a terminal (and never with
//! `NO_COLOR`), plain lines with the `<N>` priority prefixes journald understands when stderr
//! is the journal (`JOURNAL_STREAM`), JSON when asked. The decision ([`style`]) is pure; only
//! [`init`] touches the process (the global subscriber).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Timestamped text with colour (a terminal).
    Colour,
    /// Timestamped text without escape codes (a file, a pipe, `docker logs`).
    Plain,
    /// `<N>message key=value` lines for journald, which adds its own timestamp.
    Journal,
    /// One JSON object per line.
    Json,
}

/// What the environment says about standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sink {
    /// Standard error is a terminal.
    pub terminal: bool,
    /// `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub no_color: bool,
    /// `JOURNAL_STREAM` is set and names the device and inode of standard error.
    pub journal: bool,
}

/// The style for `--log-format json` (`json`) or text, given the sink.
pub fn style(json: bool, sink: Sink) -> Style {
    if json {
        Style::Json
    } else if sink.journal {
        Style::Journal
    } else if sink.terminal && !sink.no_color {
        Style::Colour
    } else {
        Style::Plain
    }
}

/// Reads what [`Sink`] needs from the process: whether stderr is a terminal, `NO_COLOR`, and
/// whether `JOURNAL_STREAM` names stderr's own device and inode (systemd sets it for the
/// service's stderr; a child whose stderr was redirected elsewhere must not use the prefixes).
pub fn sink() -> Sink {
    use std::io::IsTerminal;
    use std::os::unix::fs::MetadataExt;
    let stderr_id = std::fs::metadata("/proc/self/fd/2")
        .ok()
        .map(|m| (m.dev(), m.ino()));
    let journal = std::env::var("JOURNAL_STREAM")
        .ok()
        .and_then(|v| parse_journal_stream(&v))
        .is_some_and(|id| Some(id) == stderr_id);
    Sink {
        terminal: std::io::stderr().is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        journal,
    }
}

/// `JOURNAL_STREAM=DEV:INO` → (dev, ino).
pub fn parse_journal_stream(v: &str) -> Option<(u64, u64)> {
    let (dev, ino) = v.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// Installs the global subscriber writing to stderr at `level` in `style`.
pub fn init(level: Level, style: Style) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    match style {
        Style::Colour => builder.with_target(false).with_ansi(true).init(),
        Style::Plain => builder.with_target(false).with_ansi(false).init(),
        Style::Journal => builder.with_ansi(false).event_format(Journal).init(),
        Style::Json => builder.with_ansi(false).json().init(),
    }
}

/// The syslog priority journald reads from a `<N>` prefix (sd-daemon(3)).
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// `<N>message key=value …`: no timestamp, no level word, no colour.
struct Journal;

impl<S, N> FormatEvent<S, N> for Journal
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See: issue 8 (logs fit where they go).
    #[test]
    fn style_table() {
        let s = |terminal, no_color, journal| Sink {
            terminal,
            no_color,
            journal,
        };
        assert_eq!(style(false, s(true, false, false)), Style::Colour);
        assert_eq!(style(false, s(true, true, false)), Style::Plain);
        assert_eq!(style(false, s(false, false, false)), Style::Plain);
        assert_eq!(style(false, s(false, false, true)), Style::Journal);
        assert_eq!(style(false, s(true, false, true)), Style::Journal);
        assert_eq!(style(true, s(true, false, true)), Style::Json);
        assert_eq!(parse_journal_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(priority(&Level::WARN), 4);
    }
}
