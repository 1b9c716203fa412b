//! The `ddnsd` binary: the composition root. Parses the CLI, initialises logging, builds the
//! config, sources, providers, state store and clock, calls reconcile or the daemon, and maps
//! errors to exit codes. The only caller of `process::exit`.

use std::io::Write;
use std::sync::Arc;

use clap::Parser;

use ddnsd::addr::{self, SourceFailure};
use ddnsd::cli::{Cli, Command, LogFormat, LogLevel, RunArgs};
use ddnsd::clock::SystemClock;
use ddnsd::config::{self, Config, Located};
use ddnsd::error::Error;
use ddnsd::provider::ProviderDeps;
use ddnsd::reconcile::{run_pass, Pass};
use ddnsd::state::{FileStore, MemoryStore};
use ddnsd::{daemon, report};

fn main() {
    let cli = Cli::parse();
    init_logging(cli.log_level, cli.log_format);
    let code = match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", report::error(&e));
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn dispatch(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Init => {
            out(config::default::EXAMPLE);
            Ok(0)
        }
        Command::Check(c) => {
            let cfg = load(c.config.as_deref(), false)?;
            out(&format!(
                "{}: ok ({} sources, {} providers, {} records)\n",
                cfg.origin,
                cfg.sources.len(),
                cfg.providers.len(),
                cfg.records.len()
            ));
            Ok(0)
        }
        Command::Detect(d) => {
            let cfg = load(d.config.config.as_deref(), true)?;
            let detections = runtime()?.block_on(detect_all(&cfg));
            if d.json {
                out(&report::detect_json(&detections));
            } else {
                let r = report::detect_text(&detections);
                out(&r.stdout);
                eprint!("{}", r.stderr);
            }
            Ok(if detections.iter().any(Result::is_err) {
                1
            } else {
                0
            })
        }
        Command::Run(r) => run(r),
        #[cfg(feature = "manual")]
        Command::Completions(c) => {
            out(&ddnsd::manual::completion_script(c.shell));
            Ok(0)
        }
        #[cfg(feature = "manual")]
        Command::Man(m) => {
            out(&ddnsd::manual::man_page(m.command));
            Ok(0)
        }
    }
}

fn run(args: RunArgs) -> Result<i32, Error> {
    let mut located = config::locate(args.config.config.as_deref(), &config::process_env);
    // A daemon re-reads its config on SIGHUP: pin a relative path to today's directory.
    if let Located::Named(p) = &located {
        if let Ok(abs) = std::path::absolute(p) {
            located = Located::Named(abs);
        }
    }
    let cfg = load_located(&located, true)?;
    if args.once {
        // Overlapping cron runs never race: the second one finds the lock and leaves.
        let _lock = match &cfg.daemon.state_file {
            Some(state) if !args.dry_run => match daemon::lock::try_lock(state) {
                Ok(daemon::lock::Acquired::Held(l)) => Some(l),
                Ok(daemon::lock::Acquired::Busy(path)) => {
                    out(&report::lock_busy(&path));
                    return Ok(0);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot take the run lock; running without it");
                    None
                }
            },
            _ => None,
        };
        let setup = build(&cfg)?;
        let pass = Pass {
            sources: &setup.sources,
            providers: &setup.providers,
            records: &setup.records,
            store: setup.store.as_ref(),
            clock: &SystemClock,
            dry_run: args.dry_run,
            verify: false,
            only_sources: None,
        };
        let report = runtime()?.block_on(run_pass(&pass));
        let r = report::run(&report);
        out(&r.stdout);
        eprint!("{}", r.stderr);
        return Ok(if report.has_failures() { 1 } else { 0 });
    }

    // Fork before any thread exists; the config was checked above, so config mistakes exit 2
    // from the parent without forking.
    let mut child = None;
    if let (true, Some(pid_file)) = (args.daemonize, &args.pid_file) {
        match daemon::fork::daemonize(pid_file).map_err(|e| Error::Daemon(e.to_string()))? {
            daemon::fork::Forked::Exit { code, message } => {
                eprint!("{}", message.unwrap_or_default());
                return Ok(code);
            }
            daemon::fork::Forked::Child(c) => child = Some(c),
        }
    }
    let started = runtime().and_then(|rt| build(&cfg).map(|setup| (rt, setup)));
    let (rt, setup) = match started {
        Ok(v) => v,
        Err(e) => {
            if let Some(c) = child {
                c.failed(e.exit_code(), &report::error(&e));
            }
            return Err(e);
        }
    };
    let reload_from = located.clone();
    let d = daemon::Daemon {
        setup,
        reload: Box::new(move || load_located(&reload_from, false).and_then(|c| build(&c))),
        clock: Arc::new(SystemClock),
        dry_run: args.dry_run,
        on_report: Box::new(report::log_run),
        jitter: Box::new(daemon::backoff::ThreadJitter),
    };
    // Dropping the guard after the loop ends removes the PID file.
    let mut pid_guard = None;
    let result = rt.block_on(daemon::run_os(d, || {
        pid_guard = child.map(daemon::fork::Child::started)
    }));
    drop(pid_guard);
    result.map_err(Error::Runtime)?;
    Ok(0)
}

/// Builds sources, providers and the state store from a checked config.
fn build(cfg: &Config) -> Result<daemon::Setup, Error> {
    let deps = ProviderDeps::new(Arc::new(SystemClock));
    Ok(daemon::Setup {
        sources: addr::build_all(&cfg.sources),
        providers: cfg
            .providers
            .iter()
            .map(|(n, s)| (n.clone(), s.build(n, &deps)))
            .collect(),
        records: cfg.records.clone(),
        store: match &cfg.daemon.state_file {
            Some(p) => Box::new(FileStore::new(p.clone())),
            None => Box::new(MemoryStore::default()),
        },
        timing: daemon::Timing {
            interval: cfg.daemon.interval,
            verify_interval: cfg.daemon.verify_interval,
            debounce: cfg.daemon.debounce,
        },
    })
}

async fn detect_all(cfg: &Config) -> Vec<Result<addr::Detection, SourceFailure>> {
    let sources = addr::build_all(&cfg.sources);
    addr::detect_many(&sources, &sources.keys().cloned().collect()).await
}

/// Loads the config; with `embedded_ok`, shows the notice when the embedded default is used.
fn load(cli_path: Option<&std::path::Path>, embedded_ok: bool) -> Result<Config, Error> {
    load_located(&config::locate(cli_path, &config::process_env), embedded_ok)
}

/// Loads the config chosen earlier (run keeps the choice for SIGHUP reloads).
fn load_located(located: &Located, embedded_ok: bool) -> Result<Config, Error> {
    if *located == Located::Embedded && embedded_ok {
        eprint!("{}", report::embedded_notice(config::DEFAULT_PATH));
    }
    Ok(config::load(located, &config::process_env)?)
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    // A closed stdout (e.g. `ddnsd detect | head -1`) is not worth a panic.
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

fn init_logging(level: LogLevel, format: LogFormat) {
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}
