//! Command-line definitions (clap). No I/O and no validation beyond argument syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keeps DNS records pointing at this machine's current addresses.
#[derive(Debug, Parser)]
#[command(name = "ddnsd", version, about, propagate_version = true)]
pub struct Cli {
    /// Log verbosity.
    #[arg(long, value_enum, default_value_t = LogLevel::Info, global = true)]
    pub log_level: LogLevel,
    /// Log line format (logs go to standard error).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Keep the records current (a daemon; --once for a single pass).
    Run(RunArgs),
    /// Show every candidate address per source, selected or skipped and why.
    Detect(DetectArgs),
    /// Check the config and exit (0 valid, 2 invalid).
    Check(ConfigArg),
    /// Show the running daemon's records, providers and sources (exit 1 if any record fails).
    Status(StatusArgs),
    /// Print a commented example config, with every provider kind's block.
    Init(InitArgs),
    /// Print a shell completion script (install it where the shell looks for completions).
    #[cfg(feature = "manual")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff): ddnsd(1), or ddnsd-COMMAND(1) for one command.
    #[cfg(feature = "manual")]
    Man(ManArgs),
}

/// `ddnsd init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print only this provider kind's block, ready to paste into a config.
    #[arg(long, value_name = "KIND")]
    pub provider: Option<String>,
}

/// `ddnsd completions SHELL`.
#[cfg(feature = "manual")]
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `ddnsd man [COMMAND]`.
#[cfg(feature = "manual")]
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print; omit for ddnsd(1).
    #[arg(value_enum, value_name = "COMMAND")]
    pub command: Option<Page>,
}

/// The commands that have a page of their own (one per [`Command`] variant; a test keeps the
/// two lists equal).
#[cfg(feature = "manual")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Page {
    /// ddnsd-run(1).
    Run,
    /// ddnsd-detect(1).
    Detect,
    /// ddnsd-check(1).
    Check,
    /// ddnsd-status(1).
    Status,
    /// ddnsd-init(1).
    Init,
    /// ddnsd-completions(1).
    Completions,
    /// ddnsd-man(1).
    Man,
}

/// The shells `ddnsd completions` writes scripts for.
#[cfg(feature = "manual")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash (bash-completion).
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// `-c PATH`.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Config file [default: $DDNSD_CONFIG, else /etc/ddnsd/ddnsd.toml, else the embedded default].
    #[arg(short = 'c', long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// `ddnsd run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file.
    #[command(flatten)]
    pub config: ConfigArg,
    /// One detect → plan → apply pass, then exit (for cron and timers).
    #[arg(long)]
    pub once: bool,
    /// Plan and print; call no provider write and write no state.
    #[arg(long)]
    pub dry_run: bool,
    /// Fork into the background (systemd Type=forking); needs --pid-file.
    #[arg(long, requires = "pid_file", conflicts_with = "once")]
    pub daemonize: bool,
    /// Where --daemonize writes the daemon's PID.
    #[arg(long, value_name = "PATH", requires = "daemonize")]
    pub pid_file: Option<PathBuf>,
}

/// `ddnsd detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Config file.
    #[command(flatten)]
    pub config: ConfigArg,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `ddnsd status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Config file (its [status] table says where the daemon serves).
    #[command(flatten)]
    pub config: ConfigArg,
    /// The daemon's JSON document, as served at /status.
    #[arg(long)]
    pub json: bool,
}

/// `--log-level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// What changed (default).
    Info,
    /// Every decision.
    Debug,
    /// Everything, including protocol details (never secrets).
    Trace,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_forms() {
        let c =
            Cli::try_parse_from(["ddnsd", "run", "-c", "/x.toml", "--once", "--dry-run"]).unwrap();
        match c.command {
            Command::Run(r) => {
                assert!(r.once && r.dry_run);
                assert_eq!(
                    r.config.config.as_deref(),
                    Some(std::path::Path::new("/x.toml"))
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["ddnsd", "run", "--daemonize"]).is_err());
        let c = Cli::try_parse_from(["ddnsd", "--log-level", "trace", "detect", "--json"]).unwrap();
        assert_eq!(c.log_level, LogLevel::Trace);
        let c = Cli::try_parse_from(["ddnsd", "detect", "--log-format", "json"]).unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
        let c = Cli::try_parse_from(["ddnsd", "init", "--provider", "rfc2136"]).unwrap();
        match c.command {
            Command::Init(i) => assert_eq!(i.provider.as_deref(), Some("rfc2136")),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(feature = "manual")]
    #[test]
    fn parses_the_manual_commands() {
        let c = Cli::try_parse_from(["ddnsd", "completions", "zsh"]).unwrap();
        assert!(matches!(
            c.command,
            Command::Completions(CompletionsArgs { shell: Shell::Zsh })
        ));
        assert!(Cli::try_parse_from(["ddnsd", "completions", "tcsh"]).is_err());
        let c = Cli::try_parse_from(["ddnsd", "man", "run"]).unwrap();
        assert!(matches!(
            c.command,
            Command::Man(ManArgs {
                command: Some(Page::Run)
            })
        ));
    }

    #[cfg(feature = "manual")]
    #[test]
    fn every_command_has_a_page() {
        let commands: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        let pages: Vec<String> = Page::value_variants()
            .iter()
            .filter_map(|p| p.to_possible_value())
            .map(|v| v.get_name().to_owned())
            .collect();
        assert_eq!(pages, commands);
    }
}
