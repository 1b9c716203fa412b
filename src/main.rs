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
use ddnsd::status::CallLog;
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
        Command::Init(i) => {
            match i.provider {
                None => out(&config::default::init()),
                Some(kind) => out(&config::default::provider_example(&kind)?),
            }
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
        Command::Status(s) => status(s),
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
        let setup = build(&cfg, &Arc::default())?;
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
        // Issue 11: the heartbeat pings of this one pass (no notifications: a run has no
        // memory of the last one, so a failing record would be told on every run).
        let mut beat = {
            let _rt = rt.enter();
            outputs::heartbeat_only(&cfg)
        };
        beat.pass_started();
        let began = std::time::Instant::now();
        let report = rt.block_on(run_pass(
            &pass,
            &mut Holds::default(),
            &mut ddnsd::backoff::ThreadJitter,
        ));
        beat.pass_finished(&report, began.elapsed(), std::time::SystemTime::now());
        rt.block_on(beat.finish(outputs::FLUSH));
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
    let calls = Arc::new(CallLog::default());
    let started = writer_lock(&cfg, args.dry_run, "daemon").and_then(|lock| match lock {
        Lock::Busy(holder) => Err(Error::Daemon(report::daemon_busy(&holder))),
        Lock::Held(l) => runtime().and_then(|rt| build(&cfg, &calls).map(|setup| (l, rt, setup))),
    });
    let started = started.and_then(|(l, rt, setup)| {
        let _rt = rt.enter();
        let o = outputs::start(&cfg, &setup, &calls)?;
        Ok((l, rt, setup, o))
    });
    let (_lock, rt, setup, outputs) = match started {
        Ok(v) => v,
        Err(e) => {
            if let Some(c) = child {
                c.failed(e.exit_code(), &report::error(&e));
            }
            return Err(e);
        }
    };
    let reload_from = located.clone();
    let reload_calls = calls.clone();
    let outputs::Started { observer, servers } = outputs;
    let d = daemon::Daemon {
        setup,
        reload: Box::new(move || {
            load_located(&reload_from, false, Purpose::Run, &env)
                .and_then(|c| build(&c, &reload_calls))
        }),
        clock: Arc::new(SystemClock),
        dry_run: args.dry_run,
        on_report: Box::new(report::log_run),
        jitter: Box::new(ddnsd::backoff::ThreadJitter),
        observer,
    };
    // Dropping the guard after the loop ends removes the PID file.
    let mut pid_guard = None;
    let result = rt.block_on(servers.around(daemon::run_os(d, || {
        pid_guard = child.map(daemon::fork::Child::started)
    })));
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

/// Builds sources, providers (their calls counted in `calls`) and the state store from a
/// checked config.
fn build(cfg: &Config, calls: &Arc<CallLog>) -> Result<daemon::Setup, Error> {
    let deps = ProviderDeps::new(Arc::new(SystemClock));
    let providers = cfg
        .providers
        .iter()
        .map(|(n, s)| (n.clone(), s.build(n, &deps)))
        .collect();
    Ok(daemon::Setup {
        sources: addr::build_all(&cfg.sources),
        providers: ddnsd::status::calls::count_all(providers, calls),
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

/// `ddnsd status` in a build without the status server: says so (exit 2).
#[cfg(not(feature = "status"))]
fn status(_args: ddnsd::cli::StatusArgs) -> Result<i32, Error> {
    Err(ddnsd::status::StatusError::NotBuilt.into())
}

/// `ddnsd status`: the running daemon's document, as a table or as JSON; exit 1 when any
/// record is failing.
#[cfg(feature = "status")]
fn status(args: ddnsd::cli::StatusArgs) -> Result<i32, Error> {
    use ddnsd::status::{client, render, StatusError};
    let located = config::locate(args.config.config.as_deref(), &config::process_env);
    // The service's secrets are not needed to ask it (and a shell usually lacks them).
    let cfg = load_located(&located, false, Purpose::Check, &Env::default())?;
    let endpoint = cfg
        .status
        .as_ref()
        .and_then(client::endpoint)
        .ok_or_else(|| StatusError::NotConfigured {
            config: cfg.origin.to_string(),
        })?;
    let doc = runtime()?.block_on(client::fetch(&endpoint, std::time::Duration::from_secs(5)))?;
    if args.json {
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        return Ok(if doc["ok"] == serde_json::Value::Bool(false) {
            1
        } else {
            0
        });
    }
    let table = render::table::render(&doc, std::time::SystemTime::now()).map_err(|reason| {
        StatusError::Fetch {
            endpoint: endpoint.to_string(),
            reason,
            unreachable: false,
        }
    })?;
    out(&table.text);
    Ok(if table.failing { 1 } else { 0 })
}

/// Issue 11: what the daemon tells the outside — the status server, notifications and
/// heartbeats — wired to its passes.
mod outputs {
    use std::future::Future;
    use std::sync::Arc;
    use std::time::Duration;

    #[cfg(feature = "status")]
    use ddnsd::clock::SystemClock;
    use ddnsd::config::Config;
    use ddnsd::daemon::observe::Observer;
    use ddnsd::daemon::Setup;
    use ddnsd::error::Error;
    use ddnsd::notify::Dispatch;
    #[cfg(feature = "status")]
    use ddnsd::status::server::{self, Listener};
    use ddnsd::status::CallLog;
    #[cfg(feature = "status")]
    use ddnsd::status::{Publisher, Snapshots};

    /// How long `run --once` waits for its heartbeat pings to go out.
    pub const FLUSH: Duration = Duration::from_secs(15);

    /// The observer to hand the daemon, and the status servers to run beside it.
    pub struct Started {
        pub observer: Box<dyn Observer>,
        pub servers: Servers,
    }

    /// Bound status listeners with the channel they serve.
    #[cfg(feature = "status")]
    pub struct Servers(Vec<Listener>, Option<Snapshots>);
    /// Nothing to serve: built without the status server (`[status]` is refused by `check`).
    #[cfg(not(feature = "status"))]
    pub struct Servers;

    /// Binds the status server (if configured) and starts the notifiers' and heartbeat's
    /// workers. Call inside the runtime.
    pub fn start(cfg: &Config, setup: &Setup, calls: &Arc<CallLog>) -> Result<Started, Error> {
        let host = ddnsd::config::default::hostname();
        let http = ddnsd::http::HttpClient::new(&ddnsd::http::HttpSettings::default());
        let mut observers: Vec<Box<dyn Observer>> = Vec::new();
        #[cfg(not(feature = "status"))]
        let servers = {
            let _ = (setup, calls);
            Servers
        };
        #[cfg(feature = "status")]
        let mut servers = Servers(Vec::new(), None);
        #[cfg(feature = "status")]
        if let Some(s) = &cfg.status {
            let listeners = server::bind(s)?;
            let (publisher, rx) = Publisher::new(
                &host,
                &cfg.origin.to_string(),
                Arc::new(SystemClock),
                calls.clone(),
                setup,
            );
            for l in &listeners {
                tracing::info!("{}", ddnsd::status::listening(&l.describe()));
            }
            for w in &cfg.warnings {
                if s.remote() && w.message.starts_with("the status server on ") {
                    tracing::warn!("{}", w.message);
                }
            }
            observers.push(Box::new(publisher));
            servers = Servers(listeners, Some(rx));
        }
        if !cfg.notify.is_empty() || cfg.heartbeat.is_some() {
            observers.push(Box::new(Dispatch::start(
                &cfg.notify,
                cfg.heartbeat.as_ref(),
                &http,
                &host,
            )));
        }
        Ok(Started {
            observer: Box::new(observers),
            servers,
        })
    }

    /// The heartbeat alone (`run --once`). Call inside the runtime.
    pub fn heartbeat_only(cfg: &Config) -> Dispatch {
        let http = ddnsd::http::HttpClient::new(&ddnsd::http::HttpSettings::default());
        Dispatch::start(
            &[],
            cfg.heartbeat.as_ref(),
            &http,
            &ddnsd::config::default::hostname(),
        )
    }

    #[cfg(not(feature = "status"))]
    impl Servers {
        /// Runs `work`: there is no server beside it.
        pub async fn around<T>(self, work: impl Future<Output = T>) -> T {
            work.await
        }
    }

    #[cfg(feature = "status")]
    impl Servers {
        /// Runs the servers while `work` runs, and stops them when it ends.
        pub async fn around<T>(self, work: impl Future<Output = T>) -> T {
            let Servers(listeners, rx) = self;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let mut handles = Vec::new();
            if let Some(rx) = rx {
                for l in listeners {
                    let mut stopped = stopped.clone();
                    handles.push(tokio::spawn(server::serve(
                        l,
                        rx.clone(),
                        Arc::new(SystemClock),
                        async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        },
                    )));
                }
            }
            let out = work.await;
            let _ = stop.send(true);
            for h in handles {
                let _ = h.await;
            }
            out
        }
    }
}
