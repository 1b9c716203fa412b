//! The status server and what it serves (issue 11): the daemon's latest [`Snapshot`], sent by
//! the [`Publisher`] (an observer of the daemon's passes) through a `tokio::sync::watch`
//! channel to [`server::serve`], which answers `GET /status` (JSON), `GET /metrics`
//! (Prometheus text) and `GET /` (an HTML page). Read-only: nothing here triggers a pass or
//! changes anything; nothing it shows holds a secret (names, addresses, error clauses).
//!
//! Layout: `snapshot.rs` (the model and the pure step folding a pass in), `calls.rs` (the
//! provider wrapper counting calls), `render/` (JSON, metrics text, HTML, the `ddnsd status`
//! table: pure), `server.rs` (HTTP/1.1 on a bound TCP or Unix listener, hyper), `client.rs`
//! (`ddnsd status` fetching the document), `error.rs`. The server and client are the cargo
//! feature `status` (default): a router build can leave hyper out (issue 13).

pub mod calls;
#[cfg(feature = "status")]
pub mod client;
pub mod error;
pub mod render;
#[cfg(feature = "status")]
pub mod server;
pub mod snapshot;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::daemon::observe::{Observer, PassEnd};
use crate::daemon::Setup;
use crate::reconcile::{Pause, Status};
use crate::record::RecordKey;
pub use calls::CallLog;
pub use error::StatusError;
pub use snapshot::{Latency, Layout, PassFacts, Snapshot};

/// The default TCP address of the status server (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9753";

/// `[status]`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSettings {
    /// The TCP address to listen on.
    pub listen: Option<SocketAddr>,
    /// The Unix socket to listen on.
    pub socket: Option<PathBuf>,
    /// `listen` may be an address other hosts can reach.
    pub allow_remote: bool,
}

impl StatusSettings {
    /// True when `listen` is reachable from other hosts.
    pub fn remote(&self) -> bool {
        self.listen.is_some_and(|a| !a.ip().is_loopback())
    }
}

/// The receiving side of the snapshot channel: what the server serves.
pub type Snapshots = watch::Receiver<Arc<Snapshot>>;

/// Keeps the snapshot up to date after every pass and sends it to the server.
pub struct Publisher {
    snapshot: Snapshot,
    tx: watch::Sender<Arc<Snapshot>>,
    calls: Arc<CallLog>,
    clock: Arc<dyn Clock>,
    /// Records whose address event has not been published yet (their write failed), with
    /// the time of that event, so the latency counts from it when they are.
    waiting: BTreeMap<RecordKey, Instant>,
}

impl Publisher {
    /// A publisher for a daemon starting now with `setup`; `calls` is the log its providers
    /// were wrapped with ([`calls::count_all`]).
    pub fn new(
        host: &str,
        config: &str,
        clock: Arc<dyn Clock>,
        calls: Arc<CallLog>,
        setup: &Setup,
    ) -> (Publisher, Snapshots) {
        let snapshot = Snapshot::new(
            env!("CARGO_PKG_VERSION"),
            host,
            clock.now(),
            config,
            &layout(setup),
        );
        let (tx, rx) = watch::channel(Arc::new(snapshot.clone()));
        (
            Publisher {
                snapshot,
                tx,
                calls,
                clock,
                waiting: BTreeMap::new(),
            },
            rx,
        )
    }
}

impl Observer for Publisher {
    fn pass_finished(&mut self, end: &PassEnd<'_>) {
        let drained = self.calls.drain();
        let mut latencies = BTreeMap::new();
        for o in &end.report.records {
            match &o.status {
                Status::Created | Status::Updated { .. } => {
                    let confirmed = drained
                        .confirmed
                        .get(&o.key)
                        .copied()
                        .unwrap_or(end.finished);
                    let event = match (self.waiting.remove(&o.key), end.event_at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    let from = event.unwrap_or(end.started);
                    latencies.insert(
                        o.key.clone(),
                        Latency {
                            took: confirmed.saturating_duration_since(from),
                            from_event: event.is_some(),
                        },
                    );
                }
                Status::Unchanged | Status::Withdrawn { .. } => {
                    self.waiting.remove(&o.key);
                }
                s if s.is_failure() => {
                    if let Some(at) = end.event_at {
                        self.waiting.entry(o.key.clone()).or_insert(at);
                    }
                }
                _ => {}
            }
        }
        let now = self.clock.now();
        let pauses: BTreeMap<String, Pause> = end
            .setup
            .providers
            .keys()
            .filter_map(|n| Some((n.clone(), end.holds.provider_pause(n, now)?.clone())))
            .collect();
        let state = end.setup.store.peek().ok();
        let layout = layout(end.setup);
        self.snapshot.record_pass(&PassFacts {
            report: end.report,
            layout: &layout,
            state: state.as_ref(),
            pauses: &pauses,
            at: now,
            took: end.finished.saturating_duration_since(end.started),
            causes: end.causes,
            latencies: &latencies,
            calls: &drained.calls,
        });
        self.tx.send_replace(Arc::new(self.snapshot.clone()));
    }
}

/// The shape of the snapshot for `setup`.
pub fn layout(setup: &Setup) -> Layout {
    let families = setup
        .sources
        .iter()
        .map(|(n, s)| (n.clone(), s.families()))
        .collect();
    Layout::of(&setup.records, setup.providers.keys().cloned(), &families)
}

/// Logged when the status server starts: `status server listening on http://127.0.0.1:9753/`.
pub fn listening(at: &str) -> String {
    format!("status server listening on {at}")
}
