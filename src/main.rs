//! The `ddnsd` binary: the composition root. Parses the CLI, initialises logging, builds the
//! config, sources, providers, state store and clock, calls reconcile or the daemon, and maps
//! errors to exit codes. The only caller of `process::exit`.

use std::io::Write;
use std::sync::Arc;

use clap::Parser;

use ddnsd::addr::{self, SourceFailure};
use ddnsd::cli::{Cli, Command, LogFormat, LogLevel, RunArgs};
use ddnsd::clock::SystemClock;
use ddnsd::config::{self, Config, Located, Purpose};
use ddnsd::error::Error;
use ddnsd::provider::ProviderDeps;
use ddnsd::reconcile::{self, run_pass, Holds, Pass};
use ddnsd::state::{FileStore, MemoryStore, StateStore};
use ddnsd::{daemon, logging, report};

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
            let located = config::locate(c.config.as_deref(), &config::process_env);
            let cfg = load_located(&located, false, Purpose::Check, &Env::default())?;
            eprint!("{}", report::config_warnings(&cfg));
            out(&report::check_ok(
                &cfg.origin,
                cfg.sources.len(),
                cfg.providers.len(),
                cfg.records.len(),
            ));
            Ok(0)
        }
        Command::Detect(d) => {
            let located = config::locate(d.config.config.as_deref(), &config::process_env);
            let cfg = load_located(&located, true, Purpose::Run, &Env::default())?;
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
    let mut located = config::locate(args.config.config.as_deref(), &config::process_env);
    // A daemon re-reads its config on SIGHUP: pin a relative path to today's directory.
    if let Located::Named(p) = &located {
        if let Ok(abs) = std::path::absolute(p) {
            located = Located::Named(abs);
        }
    }
    let env = Arc::new(Env::default());
    let cfg = load_located(&located, true, Purpose::Run, &env)?;
    // Secrets named by `X_env` leave the process environment now, before any thread or child
    // exists, so nothing ddnsd starts can inherit them (issue 8; command sources also get a
    // clean environment of their own). A reload finds them in `env`. The kernel's copy in
    // /proc/PID/environ is readable only by the same user and root.
    env.take(&cfg.secret_env);
    if args.once {
        // One writer: a daemon (or an overlapping cron run) holding the lock does the work.
        let _lock = match writer_lock(&cfg, args.dry_run, "run --once")? {
            Lock::Busy(holder) => {
                out(&report::lock_busy(&holder));
                return Ok(0);
            }
            Lock::Held(l) => l,
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
        let rt = runtime()?;
        let report = rt.block_on(run_pass(
            &pass,
            &mut Holds::default(),
            &mut ddnsd::backoff::ThreadJitter,
        ));
        // A name lookup stuck in a blocking thread must not keep the process alive.
        rt.shutdown_timeout(RUNTIME_SHUTDOWN);
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
    // The daemon is the one writer for its whole life (taken after the fork, so the PID in
    // the lock file is the daemon's).
    let started = writer_lock(&cfg, args.dry_run, "daemon").and_then(|lock| match lock {
        Lock::Busy(holder) => Err(Error::Daemon(report::daemon_busy(&holder))),
        Lock::Held(l) => runtime().and_then(|rt| build(&cfg).map(|setup| (l, rt, setup))),
    });
    let (_lock, rt, setup) = match started {
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
        reload: Box::new(move || {
            load_located(&reload_from, false, Purpose::Run, &env).and_then(|c| build(&c))
        }),
        clock: Arc::new(SystemClock),
        dry_run: args.dry_run,
        on_report: Box::new(report::log_run),
        jitter: Box::new(ddnsd::backoff::ThreadJitter),
    };
    // Dropping the guard after the loop ends removes the PID file.
    let mut pid_guard = None;
    let result = rt.block_on(daemon::run_os(d, || {
        pid_guard = child.map(daemon::fork::Child::started)
    }));
    drop(pid_guard);
    rt.shutdown_timeout(RUNTIME_SHUTDOWN);
    result.map_err(Error::Runtime)?;
    Ok(0)
}

/// How long blocking tasks (a hung name lookup) may delay the exit once the work is done.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_millis(500);

/// The writer's lock, or who holds it.
enum Lock {
    /// Held by this process (`None`: no state file, or a dry run, which writes nothing).
    Held(Option<daemon::lock::RunLock>),
    /// Another process holds it.
    Busy(daemon::lock::Holder),
}

/// Takes the writer's lock for `role`, unless the run writes nothing.
fn writer_lock(cfg: &Config, dry_run: bool, role: &str) -> Result<Lock, Error> {
    let Some(state) = cfg.daemon.state_file.as_ref().filter(|_| !dry_run) else {
        return Ok(Lock::Held(None));
    };
    match daemon::lock::try_lock(state, role) {
        Ok(daemon::lock::Acquired::Held(l)) => Ok(Lock::Held(Some(l))),
        Ok(daemon::lock::Acquired::Busy(holder)) => Ok(Lock::Busy(holder)),
        Err(e) => {
            // Without the lock two writers could race; running anyway beats not publishing.
            tracing::warn!(error = %e, "{}", report::lock_unavailable(state));
            Ok(Lock::Held(None))
        }
    }
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
    // Show the choice `run` would make: the published address is kept while eligible. A state
    // file that cannot be read only loses that preference here.
    let state = match &cfg.daemon.state_file {
        Some(p) => FileStore::new(p.clone()).peek().unwrap_or_default(),
        None => Default::default(),
    };
    let published = reconcile::published_by_source(&cfg.records, &state);
    // Neighbour sightings: `detect` shows the choice `run` would make (issue 12).
    for s in sources.values() {
        s.load_history(&state.neighbors);
    }
    addr::detect_many(&sources, &sources.keys().cloned().collect(), &published).await
}

/// Loads the config chosen earlier (run keeps the choice for SIGHUP reloads); with
/// `embedded_ok`, shows the notice when the embedded default is used.
fn load_located(
    located: &Located,
    embedded_ok: bool,
    purpose: Purpose,
    env: &Env,
) -> Result<Config, Error> {
    if *located == Located::Embedded && embedded_ok {
        eprint!("{}", report::embedded_notice(config::DEFAULT_PATH));
    }
    Ok(config::load(located, &|name| env.lookup(name), purpose)?)
}

/// The process environment, minus the secrets taken out of it (kept here for reloads).
#[derive(Debug, Default)]
struct Env {
    taken: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl Env {
    fn lookup(&self, name: &str) -> Option<String> {
        let taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        taken
            .get(name)
            .cloned()
            .or_else(|| config::process_env(name))
    }

    /// Moves `names` from the process environment into this one. Called only while the
    /// process has a single thread (before the runtime and any fork).
    fn take(&self, names: &[String]) {
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        for name in names {
            if let Ok(value) = std::env::var(name) {
                taken.insert(name.clone(), value);
                std::env::remove_var(name);
            }
        }
    }
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
    let style = logging::style(format == LogFormat::Json, logging::sink());
    logging::init(level, style);
}
