//! Compiled only under #[cfg(test)] (declared so in daemon/mod.rs).
//! The loop, driven in-process with paused time: fake sources and providers count calls.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use futures::future::BoxFuture;

use super::*;
use crate::addr::{Candidate, Detection, SourceError, Verdict};
use crate::clock::FakeClock;
use crate::provider::{LiveRrSet, ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::{AddrSet, Family, RecordKey, RrSet, Ttl};
use crate::state::MemoryStore;

struct FakeSource {
    name: String,
    watched: Option<Vec<String>>,
    addr: Arc<Mutex<IpAddr>>,
    detects: Arc<AtomicUsize>,
}

impl Source for FakeSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn families(&self) -> Vec<Family> {
        vec![Family::Ipv6]
    }
    fn watched_interfaces(&self) -> Option<Vec<String>> {
        self.watched.clone()
    }
    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        self.detects.fetch_add(1, Ordering::SeqCst);
        let addr = *self.addr.lock().unwrap();
        Box::pin(async move {
            Ok(Detection {
                source: self.name.clone(),
                candidates: vec![Candidate {
                    addr,
                    origin: "fake".into(),
                    verdict: Verdict::Selected,
                    detail: None,
                    lifetime: None,
                }],
            })
        })
    }
}

#[derive(Default)]
struct FakeProvider {
    applies: AtomicUsize,
    fail: Mutex<Option<ProviderErrorKind>>,
}

struct Shared(Arc<FakeProvider>);

impl Provider for Shared {
    fn name(&self) -> &str {
        "p"
    }
    fn read_rrset<'a>(
        &'a self,
        _: &'a RecordKey,
        _: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async {
            Ok(LiveRrSet {
                addrs: AddrSet::new(),
                ttl: None,
                hints: ProviderHints::default(),
            })
        })
    }
    fn apply_rrset<'a>(
        &'a self,
        _: &'a RrSet,
        _: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        self.0.applies.fetch_add(1, Ordering::SeqCst);
        let fail = self.0.fail.lock().unwrap().clone();
        Box::pin(async move {
            match fail {
                Some(kind) => Err(ProviderError::new(kind, "fake failure")),
                None => Ok(ProviderHints::default()),
            }
        })
    }
}

struct World {
    addr: Arc<Mutex<IpAddr>>,
    detects_a: Arc<AtomicUsize>,
    detects_b: Arc<AtomicUsize>,
    provider: Arc<FakeProvider>,
}

const TIMING: Timing = Timing {
    interval: Duration::from_secs(300),
    verify_interval: Duration::from_secs(3600),
    debounce: Duration::from_millis(500),
};

impl World {
    fn new() -> World {
        World {
            addr: Arc::new(Mutex::new("2001:db8::1".parse().unwrap())),
            detects_a: Arc::default(),
            detects_b: Arc::default(),
            provider: Arc::default(),
        }
    }

    /// Source `a` watches interface `v0`; source `b` cannot push. One record each.
    fn setup(&self, records: usize) -> Setup {
        let mut sources: BTreeMap<String, Arc<dyn Source>> = BTreeMap::new();
        sources.insert(
            "a".into(),
            Arc::new(FakeSource {
                name: "a".into(),
                watched: Some(vec!["v0".into()]),
                addr: self.addr.clone(),
                detects: self.detects_a.clone(),
            }),
        );
        sources.insert(
            "b".into(),
            Arc::new(FakeSource {
                name: "b".into(),
                watched: None,
                addr: Arc::new(Mutex::new("2001:db8::b".parse().unwrap())),
                detects: self.detects_b.clone(),
            }),
        );
        let mut providers: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
        providers.insert("p".into(), Arc::new(Shared(self.provider.clone())));
        let all = [("a.example.test.", "a"), ("b.example.test.", "b")];
        Setup {
            sources,
            providers,
            records: all[..records]
                .iter()
                .map(|(n, s)| RecordSpec {
                    name: n.parse().unwrap(),
                    provider: "p".into(),
                    sources: vec![(*s).into()],
                    ttl: Ttl(60),
                    ttl_auto: false,
                    on_gone: Default::default(),
                })
                .collect(),
            store: Box::new(MemoryStore::default()),
            timing: TIMING,
        }
    }

    fn daemon(&self, reload: Reloader) -> Daemon {
        Daemon {
            setup: self.setup(2),
            reload,
            clock: Arc::new(FakeClock::at_unix(1_700_000_000)),
            dry_run: false,
            on_report: Box::new(|_| {}),
            jitter: Box::new(Half),
            observer: Box::new(()),
        }
    }
}

/// Wall-clock time that follows tokio's (paused) clock, so holds and timers agree.
struct TokioClock {
    start: tokio::time::Instant,
}

impl TokioClock {
    fn new() -> TokioClock {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + self.start.elapsed()
    }
    fn monotonic(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
}

struct Half;
impl Jitter for Half {
    fn fraction(&mut self) -> f64 {
        0.5
    }
}

fn addr_event(addr: &str, flags: u32) -> Trigger {
    Trigger::Netlink(WatchEvent::Address {
        interface: Some("v0".into()),
        addr: addr.parse().unwrap(),
        flags,
        removed: false,
    })
}

/// Runs the daemon while `script` drives it, then shuts it down.
async fn drive<F: Future<Output = ()>>(
    d: Daemon,
    script: impl FnOnce(mpsc::Sender<Trigger>) -> F,
) -> Stats {
    let (tx, rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let driver = async move {
        script(tx).await;
        let _ = stop_tx.send(());
    };
    let (stats, ()) = tokio::join!(
        run(d, rx, async move {
            let _ = stop_rx.await;
        }),
        driver
    );
    stats
}

fn no_reload() -> Reloader {
    Box::new(|| Err(Error::Daemon("no reload in this test".into())))
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_events_is_one_pass_over_the_changed_sources_only() {
    let w = World::new();
    let stats = drive(w.daemon(no_reload()), |tx| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        for i in 0..20 {
            tx.send(addr_event(&format!("2001:db8::{i:x}"), 0x80))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    // Events every 50 ms from 1 s to 1.95 s: the burst began after a quiet period, so it gets a
    // pass one debounce period after it began (1.5 s: it never settled for 50 ms), and the rest
    // of the burst one trailing pass (2.45 s); plus start-up.
    assert_eq!(stats.passes, 3, "start-up + two passes for the whole burst");
    assert_eq!(w.detects_a.load(Ordering::SeqCst), 3);
    assert_eq!(
        w.detects_b.load(Ordering::SeqCst),
        1,
        "b did not change and cannot push"
    );
}

#[tokio::test(start_paused = true)]
async fn an_endless_burst_still_gets_a_pass_after_five_debounce_periods() {
    let w = World::new();
    let stats = drive(w.daemon(no_reload()), |tx| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        for i in 0..40 {
            tx.send(addr_event(&format!("2001:db8::{i:x}"), 0x80))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    })
    .await;
    // Events every 100 ms from 1 s to 4.9 s: the first one settles (pass at 1.05 s); the rest
    // follow that pass closely and are coalesced: a pass at 3.6 s (the 2.5 s bound) and one at
    // 5.4 s (the burst's end); plus start-up.
    assert_eq!(stats.passes, 4);
}

#[tokio::test(start_paused = true)]
async fn tentative_then_usable_gives_a_second_pass() {
    let w = World::new();
    let addr = w.addr.clone();
    let provider = w.provider.clone();
    let stats = drive(w.daemon(no_reload()), |tx| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        // The new address appears tentative: the source does not select it yet.
        tx.send(addr_event("2001:db8::2", 0x40 | 0x80))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let before = provider.applies.load(Ordering::SeqCst);
        *addr.lock().unwrap() = "2001:db8::2".parse().unwrap();
        tx.send(addr_event("2001:db8::2", 0x80)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            provider.applies.load(Ordering::SeqCst),
            before + 1,
            "published once usable"
        );
    })
    .await;
    assert_eq!(stats.passes, 3);
}

#[tokio::test(start_paused = true)]
async fn interval_rereads_only_sources_that_cannot_push() {
    let w = World::new();
    let stats = drive(w.daemon(no_reload()), |_tx| async move {
        tokio::time::sleep(Duration::from_secs(700)).await;
    })
    .await;
    // Interval 300 s × 1.0 (fraction 0.5): passes at 0, 300, 600.
    assert_eq!(stats.passes, 3);
    assert_eq!(w.detects_a.load(Ordering::SeqCst), 1);
    assert_eq!(w.detects_b.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn sigusr1_runs_a_full_pass_now() {
    let w = World::new();
    let stats = drive(w.daemon(no_reload()), |tx| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tx.send(Trigger::PassNow).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    })
    .await;
    assert_eq!(stats.passes, 2);
    assert_eq!(w.detects_b.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_broken_reload_keeps_the_old_config_and_a_good_one_swaps() {
    let w = World::new();
    let good = w.setup(1);
    let mut next: Vec<Result<Setup, Error>> =
        vec![Ok(good), Err(Error::Daemon("bad config".into()))];
    let reload: Reloader = Box::new(move || {
        next.pop()
            .unwrap_or_else(|| Err(Error::Daemon("no more".into())))
    });
    let detects_b = w.detects_b.clone();
    let stats = drive(w.daemon(reload), |tx| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tx.send(Trigger::Reload).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        tx.send(Trigger::Reload).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        tx.send(Trigger::PassNow).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    })
    .await;
    assert_eq!((stats.reloads, stats.failed_reloads), (1, 1));
    // start-up, after the good reload, SIGUSR1; only the start-up pass had record b.
    assert_eq!(stats.passes, 3);
    assert_eq!(detects_b.load(Ordering::SeqCst), 1);
}

/// See: issue 8 (failure scope). A record that fails is held for the value that failed and
/// retried with backoff; a new address is tried at once; credentials rejected pause the
/// provider until a reload, and every record left out says so.
#[tokio::test(start_paused = true)]
async fn record_failures_back_off_per_value_and_auth_pauses_the_provider_until_reload() {
    let w = World::new();
    *w.provider.fail.lock().unwrap() = Some(ProviderErrorKind::Transient);
    let provider = w.provider.clone();
    let fresh = w.setup(2);
    let mut next = vec![Ok(fresh)];
    let reload: Reloader = Box::new(move || {
        next.pop()
            .unwrap_or_else(|| Err(Error::Daemon("no more".into())))
    });
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut d = w.daemon(reload);
    d.clock = Arc::new(TokioClock::new());
    let seen = lines.clone();
    d.on_report = Box::new(move |r: &RunReport| {
        let mut l = seen.lock().unwrap();
        l.extend(r.records.iter().map(report::record_line));
    });
    let addr = w.addr.clone();
    let counter = provider.clone();
    let applies = move || counter.applies.load(Ordering::SeqCst);
    let last = move |name: &str| {
        lines
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|l| l.starts_with(name))
            .cloned()
            .unwrap_or_default()
    };
    drive(d, |tx| async move {
        // Start-up: both records fail; each is held 2.5 s (5 s × jitter 0.5).
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(applies(), 2);
        // The same value again inside its hold: not called, and the line says when it retries.
        tx.send(addr_event("2001:db8::1", 0x80)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(applies(), 2);
        assert!(
            last("a.example.test").ends_with("failed: fake failure (retrying at 22:13:22)"),
            "{}",
            last("a.example.test")
        );
        // A new address is tried at once (and fails: a fresh hold for the new value).
        *addr.lock().unwrap() = "2001:db8::3".parse().unwrap();
        tx.send(addr_event("2001:db8::3", 0x80)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(applies(), 3);
        // b's retry at 2.5 s (a still held), then a's at ~3.55 s: each record on its own time.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(applies(), 4);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(applies(), 5);
        // Credentials rejected at b's next retry (7.5 s): the provider is paused until a
        // reload; a, due at ~8.55 s, is not called and its line says why.
        *provider.fail.lock().unwrap() = Some(ProviderErrorKind::Auth);
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(applies(), 6);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(applies(), 6);
        assert!(
            last("a.example.test")
                .ends_with("failed: provider p paused until the config is reloaded (fake failure)"),
            "{}",
            last("a.example.test")
        );
        tokio::time::sleep(Duration::from_secs(1000)).await;
        tx.send(Trigger::PassNow).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(applies(), 6);
        // A reload (credentials fixed) resumes; both records publish.
        *provider.fail.lock().unwrap() = None;
        tx.send(Trigger::Reload).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(applies(), 8);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_the_pass_in_flight_at_most_the_grace_period() {
    struct Hang;
    impl Source for Hang {
        fn name(&self) -> &str {
            "a"
        }
        fn families(&self) -> Vec<Family> {
            vec![Family::Ipv6]
        }
        fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
            Box::pin(std::future::pending())
        }
    }
    let w = World::new();
    let mut d = w.daemon(no_reload());
    d.setup.sources.insert("a".into(), Arc::new(Hang));
    let began = Instant::now();
    let stats = drive(d, |_tx| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
    })
    .await;
    assert_eq!(stats.passes, 1);
    assert_eq!(began.elapsed(), Duration::from_secs(1) + SHUTDOWN_GRACE);
}

#[tokio::test(start_paused = true)]
async fn a_lone_change_after_a_quiet_period_is_acted_on_after_the_settle_time() {
    let w = World::new();
    let provider = w.provider.clone();
    let addr = w.addr.clone();
    let stats = drive(w.daemon(no_reload()), |tx| async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let before = provider.applies.load(Ordering::SeqCst);
        *addr.lock().unwrap() = "2001:db8::9".parse().unwrap();
        tx.send(addr_event("2001:db8::9", 0x80)).await.unwrap();
        let debounce = Duration::from_millis(500);
        assert_eq!(crate::daemon::settle(debounce), Duration::from_millis(50));
        tokio::time::sleep(Duration::from_millis(49)).await;
        assert_eq!(
            provider.applies.load(Ordering::SeqCst),
            before,
            "not before the settle time"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(
            provider.applies.load(Ordering::SeqCst),
            before + 1,
            "published after the settle time, not a whole debounce period later"
        );
    })
    .await;
    assert_eq!(stats.passes, 2);
}

/// A source that only says what it watches.
struct Watches {
    interfaces: Option<Vec<String>>,
    neighbors: Vec<String>,
}

impl Source for Watches {
    fn name(&self) -> &str {
        "w"
    }
    fn families(&self) -> Vec<Family> {
        vec![Family::Ipv6]
    }
    fn watched_interfaces(&self) -> Option<Vec<String>> {
        self.interfaces.clone()
    }
    fn watched_neighbors(&self) -> Vec<String> {
        self.neighbors.clone()
    }
    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        Box::pin(async { Err(SourceError::NoSuchInterface("x".into())) })
    }
}

/// See: issue 12. Neighbour events wake only the sources watching that interface's
/// neighbour table; address events keep waking the interface watchers.
#[test]
fn neighbour_events_wake_neighbour_sources_only() {
    let mut sources: BTreeMap<String, Arc<dyn Source>> = BTreeMap::new();
    let w = |i: Option<&[&str]>, n: &[&str]| -> Arc<dyn Source> {
        Arc::new(Watches {
            interfaces: i.map(|l| l.iter().map(|s| (*s).to_owned()).collect()),
            neighbors: n.iter().map(|s| (*s).to_owned()).collect(),
        })
    };
    sources.insert("lan6".into(), w(Some(&["br-lan"]), &[]));
    sources.insert("nas".into(), w(Some(&["br-lan"]), &["br-lan"]));
    sources.insert("guest".into(), w(Some(&["br-guest"]), &["br-guest"]));
    sources.insert("web".into(), w(None, &[]));
    let neigh = |i: Option<&str>| WatchEvent::Neighbor {
        interface: i.map(str::to_owned),
        addr: "2001:db8::7".parse().unwrap(),
        counted: true,
        removed: false,
    };
    let names = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
    assert_eq!(names(watching(&sources, &neigh(Some("br-lan")))), ["nas"]);
    assert_eq!(
        names(watching(&sources, &neigh(None))),
        ["guest", "nas"],
        "unknown interface: every neighbour watcher"
    );
    let addr = WatchEvent::Address {
        interface: Some("br-lan".into()),
        addr: "2001:db8::1".parse().unwrap(),
        flags: 0,
        removed: false,
    };
    assert_eq!(names(watching(&sources, &addr)), ["lan6", "nas"]);
}

/// Records what the observer is told.
struct Seen(Arc<Mutex<Vec<String>>>);

impl observe::Observer for Seen {
    fn pass_started(&mut self, causes: &str) {
        self.0.lock().unwrap().push(format!("start {causes}"));
    }
    fn pass_finished(&mut self, end: &observe::PassEnd<'_>) {
        // How long before the pass's start the burst's first address event came, if one did.
        let event = end
            .event_at
            .map(|e| format!("{} ms", end.started.duration_since(e).as_millis()))
            .unwrap_or_else(|| "none".into());
        self.0.lock().unwrap().push(format!(
            "end {} records={} event={event}",
            end.causes,
            end.report.records.len()
        ));
    }
}

/// See: issue 11. The observer hears every pass start and end, and a pass started by address
/// events carries the first event's arrival (the start of the publish latency), not a later
/// one of the same burst.
#[tokio::test(start_paused = true)]
async fn the_observer_hears_each_pass_with_the_first_event_of_its_burst() {
    let w = World::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut d = w.daemon(no_reload());
    d.observer = Box::new(Seen(seen.clone()));
    drive(d, |tx| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tx.send(addr_event("2001:db8::2", 0x80)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(addr_event("2001:db8::3", 0x80)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    // Debounce 500 ms: the burst settles 50 ms after its last event (1.07 s), 70 ms after
    // its first.
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "start start-up",
            "end start-up records=2 event=none",
            "start address change",
            "end address change records=1 event=70 ms",
        ]
    );
}

/// See: issues 11 and 12. A host's address appearing in the neighbour table or a lease file
/// starts the publish latency like an address event; a timer does not; the first event of
/// the burst is the one kept.
#[test]
fn neighbour_and_lease_events_start_the_publish_latency() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let one = |s: &str| BTreeSet::from([s.to_owned()]);
    let debounce = Duration::from_millis(500);
    for cause in [Cause::Event, Cause::Neighbor, Cause::File] {
        let mut p = Pending::default();
        p.debounced(ms(10), debounce, cause, false, one("nas"), true);
        p.debounced(ms(30), debounce, Cause::Event, false, one("nas"), false);
        assert_eq!(p.take().event_at, Some(ms(10)), "{cause:?}");
    }
    let mut p = Pending::default();
    p.debounced(ms(10), debounce, Cause::Interval, false, one("web"), true);
    p.now(ms(20), Cause::Lifetime, true, false);
    assert_eq!(p.take().event_at, None);
}
