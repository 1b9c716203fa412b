//! Documentation generated from the clap definitions in [`crate::cli`]: shell completion
//! scripts (`ddnsd completions SHELL`) and the manual pages (`ddnsd man [COMMAND]`). Pure text;
//! the caller prints it. Packages ship the same text: tests keep the copies under `dist/`
//! equal to this output.

use clap::{CommandFactory, ValueEnum};

use crate::cli::{Cli, Page, Shell};

/// The completion script for `shell`.
pub fn completion_script(shell: Shell) -> String {
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut Cli::command(), "ddnsd", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}

/// The manual page in roff: ddnsd(1) for `None`, ddnsd-COMMAND(1) for one command.
pub fn man_page(page: Option<Page>) -> String {
    let cmd = pages();
    let mut roff = Vec::new();
    // invariant: rendering into a Vec<u8> cannot fail (its io::Write never returns an error),
    // so the results below are ignored rather than unwrapped.
    match page.and_then(|p| p.to_possible_value()) {
        Some(p) => {
            if let Some(sub) = cmd.find_subcommand(p.get_name()) {
                // The footer names the program, not the subcommand ("ddnsd 0.1.0").
                let source = format!("ddnsd {}", cmd.get_version().unwrap_or_default());
                let _ = clap_mangen::Man::new(sub.clone())
                    .source(source)
                    .render(&mut roff);
            }
        }
        None => {
            let man = clap_mangen::Man::new(cmd);
            let _ = man.render_title(&mut roff);
            let _ = man.render_name_section(&mut roff);
            let _ = man.render_synopsis_section(&mut roff);
            let _ = man.render_description_section(&mut roff);
            let _ = man.render_options_section(&mut roff);
            let _ = man.render_subcommands_section(&mut roff);
            roff.extend_from_slice(MAIN_PAGE_SECTIONS.as_bytes());
            let _ = man.render_version_section(&mut roff);
        }
    }
    String::from_utf8_lossy(&roff).into_owned()
}

/// The CLI as clap builds it, with the subcommands named `ddnsd-COMMAND` (their page titles)
/// and without clap's `help` subcommand, which has no page.
fn pages() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// What ddnsd(1) says beyond the options: exit codes, files, environment, signals.
const MAIN_PAGE_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success.
.TP
\fB1\fR
Some record could not be updated, a source failed, or a runtime failure (such as a state
file that cannot be written).
.TP
\fB2\fR
Bad usage or bad config.
.SH FILES
.TP
\fI/etc/ddnsd/ddnsd.toml\fR
The config file, unless \fB\-c\fR or \fBDDNSD_CONFIG\fR names another. When none is named
and this file does not exist, \fBrun\fR and \fBdetect\fR use an embedded default that
publishes nothing (the dry\-run provider) and say so.
.TP
\fI/var/lib/ddnsd/state.json\fR
What was last published per record (\fBstate_file\fR; \fI$STATE_DIRECTORY/state.json\fR
under systemd). \fBrun \-\-once\fR takes the lock \fIstate.json.lock\fR next to it.
.SH ENVIRONMENT
.TP
\fBDDNSD_CONFIG\fR
The config file when \fB\-c\fR is not given.
.TP
\fBSTATE_DIRECTORY\fR, \fBCREDENTIALS_DIRECTORY\fR
Set by systemd; the default state file lives in the first, and \fB${VAR}\fR in
\fIX_file\fR paths and record names is expanded from the environment.
.TP
\fBNOTIFY_SOCKET\fR
Set by systemd for Type=notify services: ddnsd reports READY, STATUS and STOPPING.
.SH SIGNALS
.TP
\fBSIGHUP\fR
Re\-read the config; if it is invalid, log every problem and keep the old one.
.TP
\fBSIGUSR1\fR
Run a pass now.
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Let the pass in flight finish, save state and exit 0.
.SH "SEE ALSO"
\fBddnsd\-run\fR(1), \fBddnsd\-detect\fR(1), \fBddnsd\-check\fR(1), \fBddnsd\-init\fR(1),
\fBddnsd\-completions\fR(1), \fBddnsd\-man\fR(1)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn title(page: &str) -> &str {
        page.lines()
            .find(|l| l.starts_with(".TH "))
            .unwrap_or_default()
    }

    #[test]
    fn every_page_is_titled_after_its_command() {
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            title(&man_page(None)),
            format!(".TH ddnsd 1  \"ddnsd {version}\" ")
        );
        for p in Page::value_variants() {
            let name = p.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(
                title(&man_page(Some(*p))),
                format!(".TH ddnsd-{name} 1  \"ddnsd {version}\" ")
            );
        }
    }

    #[test]
    fn main_page_lists_every_command_and_the_extra_sections() {
        let page = man_page(None);
        for p in Page::value_variants() {
            let name = p.to_possible_value().unwrap().get_name().to_owned();
            assert!(page.contains(&format!("ddnsd\\-{name}(1)")), "{name}");
        }
        assert!(!page.contains("ddnsd\\-help(1)"));
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH FILES",
            ".SH ENVIRONMENT",
            ".SH SIGNALS",
            ".SH \"SEE ALSO\"",
            ".SH VERSION",
        ] {
            assert!(page.contains(section), "{section}");
        }
    }

    #[test]
    fn completions_offer_the_commands_in_every_shell() {
        for shell in Shell::value_variants() {
            let script = completion_script(*shell);
            // (fish spells options `-l once`, so the long names are matched without dashes.)
            for word in ["detect", "once", "log-level", "dry-run"] {
                assert!(script.contains(word), "{shell:?}: {word}");
            }
        }
    }
}
