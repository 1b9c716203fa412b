//! The `ddnsd` binary: the composition root. Parses the CLI, initialises logging, builds the
//! config, sources, providers, state store and clock, calls reconcile or the daemon, and maps
//! errors to exit codes. The only caller of `process::exit`.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use clap::Parser;

use ddnsd::addr::{self, Source, SourceFailure};
use ddnsd::cli::{Cli, Command, LogFormat, LogLevel, RunArgs};
use ddnsd::clock::SystemClock;
use ddnsd::config::{self, Config, Located};
use ddnsd::error::Error;
use ddnsd::provider::{self, Provider, ProviderDeps};
use ddnsd::reconcile::{run_pass, Pass};
use ddnsd::state::{FileStore, MemoryStore, StateStore};
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
    }
}

fn run(args: RunArgs) -> Result<i32, Error> {
    let cfg = load(args.config.config.as_deref(), true)?;
    let sources: BTreeMap<String, Arc<dyn Source>> = addr::build_all(&cfg.sources);
    let deps = ProviderDeps::new(Arc::new(SystemClock))?;
    let providers: BTreeMap<String, Arc<dyn Provider>> = cfg
        .providers
        .iter()
        .map(|(n, s)| (n.clone(), provider::build(n, s, &deps)))
        .collect();
    let store: Box<dyn StateStore> = match &cfg.daemon.state_file {
        Some(p) => Box::new(FileStore::new(p.clone())),
        None => Box::new(MemoryStore::default()),
    };
    let pass = Pass {
        sources: &sources,
        providers: &providers,
        records: &cfg.records,
        store: store.as_ref(),
        clock: &SystemClock,
        dry_run: args.dry_run,
        verify: false,
        only_sources: None,
    };
    let rt = runtime()?;
    if args.once {
        let report = rt.block_on(run_pass(&pass));
        let r = report::run(&report);
        out(&r.stdout);
        eprint!("{}", r.stderr);
        return Ok(if report.has_failures() { 1 } else { 0 });
    }
    rt.block_on(daemon::run(&pass, cfg.daemon.interval, |report| {
        let r = report::run(report);
        for line in r.stdout.lines() {
            tracing::info!("{line}");
        }
        for line in r.stderr.lines() {
            tracing::warn!("{line}");
        }
    }))
    .map_err(Error::Runtime)?;
    Ok(0)
}

async fn detect_all(cfg: &Config) -> Vec<Result<addr::Detection, SourceFailure>> {
    let sources = addr::build_all(&cfg.sources);
    addr::detect_many(&sources, &sources.keys().cloned().collect()).await
}

/// Loads the config; with `embedded_ok`, shows the notice when the embedded default is used.
fn load(cli_path: Option<&std::path::Path>, embedded_ok: bool) -> Result<Config, Error> {
    let located = config::locate(cli_path, &config::process_env);
    if located == Located::Embedded && embedded_ok {
        eprint!("{}", report::embedded_notice(config::DEFAULT_PATH));
    }
    Ok(config::load(&located, &config::process_env)?)
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
