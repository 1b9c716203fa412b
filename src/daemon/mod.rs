//! The daemon: the only owner of time and signals. An event loop whose triggers are start-up,
//! netlink address/link/neighbour changes and lease file changes (debounced), the time an
//! address's lifetime or a record's grace ends, the `interval` timer for sources that cannot push,
//! the `verify_interval` timer, SIGHUP (reload) and SIGUSR1 (pass now). Calls reconcile for
//! each pass, keeps per-provider backoff, and tells systemd how it is doing.
//!
//! [`run`] takes its triggers and a shutdown future as arguments, so tests drive it in-process
//! with paused time (mini-redis style); [`run_os`] wires it to signals and netlink.

pub mod fork;
pub mod lock;
pub mod observe;
pub mod signals;
pub mod systemd;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};

use crate::addr::watch::{Subscription, WatchEvent};
use crate::addr::Source;
use crate::backoff::{spread, Jitter};
use crate::clock::Clock;
use crate::error::Error;
use crate::provider::Provider;
use crate::reconcile::{run_pass, Holds, Pass, RunReport};
use crate::record::RecordSpec;
use crate::report::{self, Note};
use crate::state::StateStore;

/// How long the pass in flight may still run after SIGTERM/SIGINT before it is abandoned. With
/// the runtime's own shutdown timeout (in `main`) the process is gone within 5 s even while a
/// name lookup hangs in a blocking thread (issue 8).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// A burst of events delays its pass by at most this many debounce periods, so a flapping
/// link cannot postpone publishing forever.
const MAX_DEBOUNCE_PERIODS: u32 = 5;

/// After a quiet period, the first event is acted on once events have settled for this long
/// (a tenth of `debounce`, at most 50 ms): the kernel announces a renumbering as several
/// messages within microseconds, and DAD completion as one — both are then published within
/// tens of milliseconds instead of a whole debounce period later.
pub fn settle(debounce: Duration) -> Duration {
    (debounce / 10).min(Duration::from_millis(50))
}

/// The daemon's timers, from `[daemon]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Re-detect period for sources that cannot push events (jittered ±10 %).
    pub interval: Duration,
    /// Period of verify passes that re-read the live records (jittered ±10 %).
    pub verify_interval: Duration,
    /// Quiet time after an address event before a pass.
    pub debounce: Duration,
}

/// One generation of the configuration, built and ready to use.
pub struct Setup {
    /// Sources by name.
    pub sources: BTreeMap<String, Arc<dyn Source>>,
    /// Providers by name.
    pub providers: BTreeMap<String, Arc<dyn Provider>>,
    /// The records to keep current.
    pub records: Vec<RecordSpec>,
    /// Where state is remembered.
    pub store: Box<dyn StateStore>,
    /// The timers.
    pub timing: Timing,
}

/// Builds a fresh [`Setup`] from the configuration on disk (SIGHUP).
pub type Reloader = Box<dyn FnMut() -> Result<Setup, Error>>;

/// What the daemon works with.
pub struct Daemon {
    /// The current configuration.
    pub setup: Setup,
    /// Re-reads the configuration on SIGHUP.
    pub reload: Reloader,
    /// The clock handed to reconcile (state timestamps, pause and retry times).
    pub clock: Arc<dyn Clock>,
    /// `run --dry-run`: plan and report only.
    pub dry_run: bool,
    /// Sees every pass's report (logging).
    pub on_report: Box<dyn FnMut(&RunReport)>,
    /// Randomness for timer and backoff jitter.
    pub jitter: Box<dyn Jitter>,
    /// Told when each pass starts and ends (status server, metrics, notifications).
    pub observer: Box<dyn observe::Observer>,
}

/// An input to the loop other than time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The kernel announced a change.
    Netlink(WatchEvent),
    /// Watched files (lease files) changed.
    Files(BTreeSet<PathBuf>),
    /// The event subscription was (re)established after events may have been lost: re-read
    /// everything.
    Resync,
    /// The event subscription is down: re-read interface sources on the interval timer too.
    WatchDown,
    /// SIGHUP: re-read the configuration.
    Reload,
    /// SIGUSR1: run a full pass now.
    PassNow,
}

/// What a finished loop did (for tests and the exit log line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Passes started.
    pub passes: u32,
    /// Reloads that were applied.
    pub reloads: u32,
    /// Reloads that were rejected (invalid config).
    pub failed_reloads: u32,
}

/// Why a pass runs (logged with the pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cause {
    Startup,
    Event,
    Interval,
    Verify,
    Retry,
    Signal,
    Reload,
    Resync,
    Neighbor,
    File,
    Lifetime,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::Startup => "start-up",
            Cause::Event => "address change",
            Cause::Interval => "interval",
            Cause::Verify => "verify",
            Cause::Retry => "retry",
            Cause::Signal => "SIGUSR1",
            Cause::Reload => "reload",
            Cause::Resync => "resync",
            Cause::Neighbor => "neighbour change",
            Cause::File => "lease file change",
            Cause::Lifetime => "lifetime or grace over",
        }
    }
}

/// The work waiting for the next pass.
#[derive(Debug, Default)]
struct Pending {
    /// Every record, not only those of `sources`.
    full: bool,
    verify: bool,
    sources: BTreeSet<String>,
    causes: BTreeSet<Cause>,
    /// When the pass runs; `None` = nothing pending.
    due: Option<Instant>,
    /// The first event of the current burst.
    burst_start: Option<Instant>,
    /// The current burst began after a quiet period: act after [`settle`], not `debounce`.
    leading: bool,
    immediate: bool,
    /// The first address event waiting for this pass (publish latency, issue 11), neighbour
    /// and lease file events included.
    event_at: Option<Instant>,
}

impl Pending {
    /// Asks for a pass now.
    fn now(&mut self, at: Instant, cause: Cause, full: bool, verify: bool) {
        self.full |= full;
        self.verify |= verify;
        self.causes.insert(cause);
        self.immediate = true;
        self.due = Some(at);
    }

    /// Asks for a pass over `sources`. A burst that starts after a quiet period (`idle`: no
    /// event within the last `debounce`) runs once events have settled for [`settle`], at most
    /// `debounce` after it began; a burst that follows a pass closely is coalesced until events
    /// stop for `debounce` (bounded by [`MAX_DEBOUNCE_PERIODS`]). So a lone change is
    /// published at once and a flapping interface costs one pass per debounce period.
    fn debounced(
        &mut self,
        at: Instant,
        debounce: Duration,
        cause: Cause,
        full: bool,
        sources: BTreeSet<String>,
        idle: bool,
    ) {
        if sources.is_empty() && !full {
            return;
        }
        // A host's address showing up in the neighbour table or a lease file is an address
        // event too (issue 12): its publish latency starts there.
        if matches!(cause, Cause::Event | Cause::Neighbor | Cause::File) {
            self.event_at.get_or_insert(at);
        }
        self.full |= full;
        self.sources.extend(sources);
        self.causes.insert(cause);
        if self.immediate {
            return;
        }
        if self.burst_start.is_none() {
            self.leading = idle;
        }
        let start = *self.burst_start.get_or_insert(at);
        self.due = Some(if self.leading {
            (at + settle(debounce)).min(start + debounce)
        } else {
            (at + debounce).min(start + debounce * MAX_DEBOUNCE_PERIODS)
        });
    }

    fn take(&mut self) -> Request {
        let p = std::mem::take(self);
        Request {
            only_sources: if p.full { None } else { Some(p.sources) },
            verify: p.verify,
            causes: p.causes,
            event_at: p.event_at,
        }
    }
}

/// One pass to run.
#[derive(Debug)]
struct Request {
    only_sources: Option<BTreeSet<String>>,
    verify: bool,
    causes: BTreeSet<Cause>,
    event_at: Option<Instant>,
}

/// Runs the loop until `shutdown` resolves: a full pass at start-up, then passes as
/// `triggers` and the timers ask. At shutdown the pass in flight gets [`SHUTDOWN_GRACE`] to
/// finish.
pub async fn run(
    mut d: Daemon,
    mut triggers: mpsc::Receiver<Trigger>,
    shutdown: impl Future<Output = ()>,
) -> Stats {
    let mut shutdown = std::pin::pin!(shutdown);
    let mut stats = Stats::default();
    let mut holds = Holds::default();
    let mut pending = Pending::default();
    let start = Instant::now();
    pending.now(start, Cause::Startup, true, false);
    let mut next_interval = start + spread(d.setup.timing.interval, d.jitter.as_mut());
    let mut next_verify = start + spread(d.setup.timing.verify_interval, d.jitter.as_mut());
    let watchdog = systemd::watchdog_period();
    let mut next_watchdog = watchdog.map(|p| start + p);
    let mut last_full_pass = d.clock.now();
    let mut last_event: Option<Instant> = None;
    let mut triggers_open = true;
    let mut push_works = true;
    // When an address's lifetime or a record's grace ends (issue 12).
    let mut wake: Option<Instant> = None;
    // Lease files are watched from a thread of their own (issue 12); a reload that names other
    // files starts a new watch (the old thread ends at its next event, its channel gone).
    let mut files = watched_files(&d.setup.sources);
    let (mut file_tx, mut file_rx) = mpsc::channel::<Trigger>(64);
    if !files.is_empty() {
        file_task(files.clone(), file_tx.clone());
    }

    loop {
        let due = pending.due;
        // The earliest pause or hold to end, unless a full pass has run since it ended (a
        // record whose provider is still paused must not spin the loop).
        let retry = holds
            .next_due_after(last_full_pass)
            .map(|t| Instant::now() + t.duration_since(d.clock.now()).unwrap_or_default());
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            t = triggers.recv(), if triggers_open => {
                let now = Instant::now();
                match t {
                    None => triggers_open = false,
                    Some(Trigger::Netlink(ev)) => {
                        let sources = watching(&d.setup.sources, &ev);
                        tracing::debug!(event = ?ev, sources = ?sources, "address change");
                        let cause = match ev {
                            WatchEvent::Neighbor { .. } => Cause::Neighbor,
                            _ => Cause::Event,
                        };
                        // Quiet = no address event within the last debounce period (a stray
                        // event right after a pass must not slow down the next real change).
                        let idle = last_event.is_none_or(|t| now.duration_since(t) >= d.setup.timing.debounce);
                        last_event = Some(now);
                        pending.debounced(now, d.setup.timing.debounce, cause, false, sources, idle);
                    }
                    Some(Trigger::Files(changed)) => {
                        let sources = reading(&d.setup.sources, &changed);
                        tracing::debug!(files = ?changed, sources = ?sources, "file change");
                        let idle = last_event.is_none_or(|t| now.duration_since(t) >= d.setup.timing.debounce);
                        last_event = Some(now);
                        pending.debounced(now, d.setup.timing.debounce, Cause::File, false, sources, idle);
                    }
                    Some(Trigger::Resync) => {
                        push_works = true;
                        pending.debounced(now, d.setup.timing.debounce, Cause::Resync, true, BTreeSet::new(), false);
                    }
                    Some(Trigger::WatchDown) => push_works = false,
                    Some(Trigger::PassNow) => pending.now(now, Cause::Signal, true, false),
                    Some(Trigger::Reload) => {
                        systemd::reloading();
                        match (d.reload)() {
                            Ok(setup) => {
                                d.setup = setup;
                                holds.reset();
                                let now_files = watched_files(&d.setup.sources);
                                if now_files != files {
                                    files = now_files;
                                    (file_tx, file_rx) = mpsc::channel(64);
                                    if !files.is_empty() {
                                        file_task(files.clone(), file_tx.clone());
                                    }
                                }
                                next_interval = now + spread(d.setup.timing.interval, d.jitter.as_mut());
                                next_verify = now + spread(d.setup.timing.verify_interval, d.jitter.as_mut());
                                stats.reloads += 1;
                                tracing::info!("{}", report::note(&Note::Reloaded));
                                pending.now(now, Cause::Reload, true, false);
                            }
                            Err(e) => {
                                stats.failed_reloads += 1;
                                for line in report::error(&e).lines() {
                                    tracing::error!("{line}");
                                }
                                let line = report::note(&Note::ReloadFailed);
                                tracing::error!("{line}");
                                systemd::ready(&line);
                            }
                        }
                    }
                }
            }
            () = sleep_until_some(due), if due.is_some() => {
                let req = pending.take();
                if req.only_sources.is_none() {
                    last_full_pass = d.clock.now();
                }
                stats.passes += 1;
                let (finished, wake_at) = pass(&mut d, req, &mut holds, shutdown.as_mut()).await;
                if !finished {
                    break;
                }
                if let Some(at) = wake_at {
                    let at = Instant::now() + at.duration_since(d.clock.now()).unwrap_or_default();
                    wake = Some(wake.map_or(at, |w| w.min(at)));
                }
            }
            Some(Trigger::Files(changed)) = file_rx.recv() => {
                let now = Instant::now();
                let sources = reading(&d.setup.sources, &changed);
                tracing::debug!(files = ?changed, sources = ?sources, "file change");
                let idle = last_event.is_none_or(|t| now.duration_since(t) >= d.setup.timing.debounce);
                last_event = Some(now);
                pending.debounced(now, d.setup.timing.debounce, Cause::File, false, sources, idle);
            }
            () = sleep_until_some(wake), if wake.is_some() => {
                wake = None;
                pending.now(Instant::now(), Cause::Lifetime, true, false);
            }
            () = sleep_until(next_interval) => {
                let now = Instant::now();
                next_interval = now + spread(d.setup.timing.interval, d.jitter.as_mut());
                let sources: BTreeSet<String> = d
                    .setup
                    .sources
                    .iter()
                    .filter(|(_, s)| !push_works || s.watched_interfaces().is_none())
                    .map(|(n, _)| n.clone())
                    .collect();
                if !sources.is_empty() {
                    pending.debounced(now, Duration::ZERO, Cause::Interval, false, sources, true);
                }
            }
            () = sleep_until(next_verify) => {
                let now = Instant::now();
                next_verify = now + spread(d.setup.timing.verify_interval, d.jitter.as_mut());
                pending.now(now, Cause::Verify, true, true);
            }
            () = sleep_until_some(retry), if retry.is_some() => {
                pending.now(Instant::now(), Cause::Retry, true, false);
            }
            () = sleep_until_some(next_watchdog), if next_watchdog.is_some() => {
                systemd::watchdog();
                next_watchdog = watchdog.map(|p| Instant::now() + p);
            }
        }
    }
    systemd::stopping();
    tracing::info!(
        passes = stats.passes,
        "{}",
        report::note(&Note::ShuttingDown)
    );
    stats
}

/// Wires [`run`] to the operating system: installs the signal handlers, subscribes to netlink
/// events (before the first pass, so no change is lost in between), calls `started` once both
/// are in place, and runs until SIGTERM or SIGINT.
pub async fn run_os(d: Daemon, started: impl FnOnce()) -> io::Result<Stats> {
    let mut signals = signals::Signals::install()?;
    let (tx, rx) = mpsc::channel(1024);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let first = Subscription::open().await;
    tokio::spawn(watch_task(first, tx.clone()));
    tokio::spawn(async move {
        loop {
            let trigger = match signals.next().await {
                signals::Request::Shutdown => {
                    tracing::info!("{}", report::note(&Note::ShutdownRequested));
                    let _ = stop_tx.send(());
                    break;
                }
                signals::Request::Reload => Trigger::Reload,
                signals::Request::PassNow => Trigger::PassNow,
            };
            if tx.send(trigger).await.is_err() {
                break;
            }
        }
    });
    started();
    Ok(run(d, rx, async move {
        let _ = stop_rx.await;
    })
    .await)
}

/// Keeps a netlink subscription open, forwarding its events; subscribes again (and asks for a
/// full pass) when the kernel dropped events or the socket closed (issue 8).
async fn watch_task(first: io::Result<Subscription>, tx: mpsc::Sender<Trigger>) {
    let mut sub = first;
    let mut delay = Duration::from_secs(1);
    let mut warned = false;
    loop {
        match sub {
            Ok(mut s) => {
                delay = Duration::from_secs(1);
                warned = false;
                tracing::debug!(
                    receive_buffer = s.receive_buffer(),
                    "subscribed to netlink address events"
                );
                let lost = loop {
                    match s.next().await {
                        Ok(ev) => {
                            if tx.send(Trigger::Netlink(ev)).await.is_err() {
                                return;
                            }
                        }
                        Err(lost) => break lost,
                    }
                };
                // The old socket goes first: its queue holds only events from before the
                // loss, and the new subscription's Resync re-reads everything anyway.
                drop(s);
                tracing::warn!("{}", report::note(&Note::EventsLost(&lost.to_string())));
            }
            Err(e) => {
                if warned {
                    tracing::debug!(error = %e, "{}", report::note(&Note::WatchUnavailable));
                } else {
                    tracing::warn!(error = %e, "{}", report::note(&Note::WatchUnavailable));
                    warned = true;
                }
                if tx.send(Trigger::WatchDown).await.is_err() {
                    return;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
        }
        sub = Subscription::open().await;
        if sub.is_ok() && tx.send(Trigger::Resync).await.is_err() {
            return;
        }
    }
}

/// Forwards changes of the watched files (lease files) from a thread of its own (the reads
/// block). Without inotify the sources that read them are re-read on the interval timer like
/// any source that cannot push.
fn file_task(files: BTreeSet<PathBuf>, tx: mpsc::Sender<Trigger>) {
    let mut w = match crate::addr::filewatch::FileWatch::open(&files) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "{}", report::note(&Note::FileWatchUnavailable));
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("ddnsd-files".to_owned())
        .spawn(move || loop {
            match w.wait() {
                Ok(changed) => {
                    if tx.blocking_send(Trigger::Files(changed)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "{}", report::note(&Note::FileWatchUnavailable));
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "{}", report::note(&Note::FileWatchUnavailable));
    }
}

/// Runs one pass; false if shutdown arrived meanwhile (the pass then got its grace period),
/// and when the pass asks to run again (a lifetime or grace ends).
/// The systemd watchdog is fed while the pass runs, however long its providers take.
async fn pass(
    d: &mut Daemon,
    req: Request,
    holds: &mut Holds,
    shutdown: Pin<&mut impl Future<Output = ()>>,
) -> (bool, Option<std::time::SystemTime>) {
    let started = Instant::now();
    let p = Pass {
        sources: &d.setup.sources,
        providers: &d.setup.providers,
        records: &d.setup.records,
        store: d.setup.store.as_ref(),
        clock: d.clock.as_ref(),
        dry_run: d.dry_run,
        verify: req.verify,
        only_sources: req.only_sources.as_ref(),
    };
    let causes: Vec<&str> = req.causes.iter().map(|c| c.as_str()).collect();
    let causes = causes.join(", ");
    d.observer.pass_started(&causes);
    // Boxed so it can be dropped (ending its borrow of `holds`) before the observer looks.
    let mut work = Box::pin(run_pass(&p, holds, d.jitter.as_mut()));
    let mut shutdown = shutdown;
    let watchdog = systemd::watchdog_period();
    let (report, finished) = loop {
        tokio::select! {
            r = &mut work => break (Some(r), true),
            () = sleep_until_some(watchdog.map(|w| Instant::now() + w)), if watchdog.is_some() => {
                systemd::watchdog();
            }
            () = &mut shutdown => {
                tracing::info!("{}", report::note(&Note::WaitingForPass(SHUTDOWN_GRACE)));
                let deadline = Instant::now() + SHUTDOWN_GRACE;
                let r = loop {
                    tokio::select! {
                        r = &mut work => break Some(r),
                        () = sleep_until(deadline) => break None,
                        () = sleep_until_some(watchdog.map(|w| Instant::now() + w)), if watchdog.is_some() => {
                            systemd::watchdog();
                        }
                    }
                };
                if r.is_none() {
                    tracing::warn!("{}", report::note(&Note::AbandonedPass));
                }
                break (r, false);
            }
        }
    };
    drop(work);
    let Some(report) = report else {
        return (false, None);
    };
    (d.on_report)(&report);
    d.observer.pass_finished(&observe::PassEnd {
        report: &report,
        setup: &d.setup,
        holds,
        causes: &causes,
        verify: req.verify,
        event_at: req.event_at.map(Instant::into_std),
        started: started.into_std(),
        finished: Instant::now().into_std(),
    });
    let summary = report::summary(&report);
    tracing::info!(
        cause = %causes,
        records = report.records.len(),
        verify = req.verify,
        ms = started.elapsed().as_millis() as u64,
        "{}",
        report::note(&Note::PassFinished(&summary))
    );
    if finished {
        systemd::ready(&format!("last pass ({causes}): {summary}"));
    }
    (finished, report.wake_at)
}

/// Every file the sources watch.
fn watched_files(sources: &BTreeMap<String, Arc<dyn Source>>) -> BTreeSet<PathBuf> {
    sources.values().flat_map(|s| s.watched_files()).collect()
}

/// The sources that read one of `changed`.
fn reading(
    sources: &BTreeMap<String, Arc<dyn Source>>,
    changed: &BTreeSet<PathBuf>,
) -> BTreeSet<String> {
    sources
        .iter()
        .filter(|(_, s)| s.watched_files().iter().any(|f| changed.contains(f)))
        .map(|(n, _)| n.clone())
        .collect()
}

/// The sources an event wakes: address and link events those that watch the interface,
/// neighbour events those that watch its neighbour table (every watching source when the
/// name is unknown).
fn watching(sources: &BTreeMap<String, Arc<dyn Source>>, ev: &WatchEvent) -> BTreeSet<String> {
    let interface = ev.interface();
    sources
        .iter()
        .filter(|(_, s)| match ev {
            WatchEvent::Neighbor { .. } => {
                let list = s.watched_neighbors();
                !list.is_empty() && interface.is_none_or(|i| list.iter().any(|w| w == i))
            }
            _ => match (s.watched_interfaces(), interface) {
                (None, _) => false,
                (Some(list), Some(i)) => list.is_empty() || list.iter().any(|w| w == i),
                (Some(_), None) => true,
            },
        })
        .map(|(n, _)| n.clone())
        .collect()
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
