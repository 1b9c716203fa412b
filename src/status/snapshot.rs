//! What the status server shows: a [`Snapshot`] of the daemon after its latest pass, and the
//! pure step that folds one pass into it ([`Snapshot::record_pass`]). No I/O and no clock:
//! the times and the state file's contents are handed in.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::addr::Detection;
use crate::reconcile::{Pause, RunReport, Status, Until};
use crate::record::{AddrSet, RecordKey, RecordSpec};
use crate::state::State;

/// The daemon as the status server shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// ddnsd's version.
    pub version: String,
    /// This machine's name.
    pub host: String,
    /// When the daemon started.
    pub started_at: SystemTime,
    /// The config file (or "the embedded default").
    pub config: String,
    /// Passes finished.
    pub passes: u64,
    /// The latest pass, once there was one.
    pub last_pass: Option<PassView>,
    /// Every record (name, type) of the config, in config order.
    pub records: Vec<RecordView>,
    /// Every provider of the config, by name.
    pub providers: Vec<ProviderView>,
    /// Every source of the config, by name.
    pub sources: Vec<SourceView>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Counters,
}

/// The latest pass.
#[derive(Clone, Debug, PartialEq)]
pub struct PassView {
    /// When it ended.
    pub at: SystemTime,
    /// How long it took.
    pub took: Duration,
    /// Why it ran (`address change`, `verify`…).
    pub causes: String,
    /// `1 changed, 0 unchanged, 0 failed, 0 without address`.
    pub summary: String,
}

/// One record (name, type).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordView {
    /// (name, type).
    pub key: RecordKey,
    /// The provider's name.
    pub provider: String,
    /// The sources that feed this type.
    pub sources: Vec<String>,
    /// What the sources want published (as of the last pass that covered the record).
    pub desired: Option<AddrSet>,
    /// What the state file says is published.
    pub published: Option<AddrSet>,
    /// The last pass's result for it, once a pass covered it.
    pub result: Option<ResultView>,
    /// When the state file says it was last written.
    pub last_change: Option<SystemTime>,
    /// When the live record was last read and found right.
    pub last_verify: Option<SystemTime>,
    /// How long its last write took to be confirmed.
    pub last_publish: Option<Latency>,
    /// When a pass last covered it.
    pub checked_at: Option<SystemTime>,
}

/// A record's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultView {
    /// A stable code: `created`, `updated`, `unchanged`, `would-create`, `would-update`,
    /// `failed`, `paused`, `held`, `source-failed`, `no-address`, `gone` (no address; withdrawn
    /// after its grace), `withdrawn`, `would-withdraw`.
    pub code: &'static str,
    /// False while the record is failing (not known to be current).
    pub ok: bool,
    /// The status as `run --once` says it.
    pub text: String,
    /// What to do, when the provider said.
    pub hint: Option<String>,
}

/// How long a write took to be confirmed, and from what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    /// The time.
    pub took: Duration,
    /// Measured from the kernel's address event (else from the start of the pass).
    pub from_event: bool,
}

/// One provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderView {
    /// Its name.
    pub name: String,
    /// Ok, backing off or paused.
    pub state: ProviderState,
    /// Its last error, if it ever had one.
    pub last_error: Option<ErrorView>,
}

/// A provider's state after the latest pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderState {
    /// Working (or not asked yet).
    Ok,
    /// Paused by a provider-wide error until a time; retried then.
    BackingOff {
        /// When it is retried.
        until: SystemTime,
        /// Why.
        reason: String,
    },
    /// Paused until the config is reloaded (credentials rejected).
    Paused {
        /// Why.
        reason: String,
    },
}

/// An error with its hint and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorView {
    /// The error, as a clause.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// When it happened (end of that pass).
    pub at: SystemTime,
}

/// One source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceView {
    /// Its name.
    pub name: String,
    /// When it last detected (successfully or not).
    pub at: Option<SystemTime>,
    /// What it selected then.
    pub selected: Vec<IpAddr>,
    /// Why it failed then.
    pub error: Option<ErrorView>,
}

/// A Prometheus histogram: cumulative buckets, sum and count.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Upper bounds (seconds), ascending; `+Inf` is implied.
    pub bounds: &'static [f64],
    /// Observations per bound (not cumulative), then the ones above every bound.
    pub counts: Vec<u64>,
    /// Sum of every observation.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

/// The buckets of `ddnsd_publish_latency_seconds`: tens of milliseconds (a local server) to a
/// minute (a slow API behind retries).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// The buckets of `ddnsd_pass_duration_seconds`.
pub const PASS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

impl Histogram {
    /// An empty histogram with `bounds`.
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// Adds one observation.
    pub fn observe(&mut self, d: Duration) {
        let v = d.as_secs_f64();
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum += v;
        self.count += 1;
    }

    /// (upper bound, cumulative count) for every bound, then (`+Inf`, count).
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        let mut out = Vec::with_capacity(self.counts.len());
        for (i, c) in self.counts.iter().enumerate() {
            acc += c;
            out.push((self.bounds.get(i).copied().unwrap_or(f64::INFINITY), acc));
        }
        out
    }
}

/// Counters and histograms kept across passes.
#[derive(Clone, Debug, PartialEq)]
pub struct Counters {
    /// Provider calls by (provider, action, result).
    pub provider_calls: BTreeMap<(String, String, String), u64>,
    /// Failed detections by source.
    pub source_failures: BTreeMap<String, u64>,
    /// Pass durations.
    pub pass_duration: Histogram,
    /// Address event → confirmed write.
    pub publish_latency: Histogram,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            provider_calls: BTreeMap::new(),
            source_failures: BTreeMap::new(),
            pass_duration: Histogram::new(PASS_BUCKETS),
            publish_latency: Histogram::new(LATENCY_BUCKETS),
        }
    }
}

/// What the config declares, for the shape of the snapshot.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Every record (name, type) with its provider and feeding sources, in config order.
    pub records: Vec<(RecordKey, String, Vec<String>)>,
    /// Every provider's name.
    pub providers: Vec<String>,
    /// Every source's name.
    pub sources: Vec<String>,
}

impl Layout {
    /// The layout of `records` whose sources yield `families_of(source)`.
    pub fn of(
        records: &[RecordSpec],
        providers: impl IntoIterator<Item = String>,
        sources: &BTreeMap<String, Vec<crate::record::Family>>,
    ) -> Layout {
        let mut out = Layout {
            providers: providers.into_iter().collect(),
            sources: sources.keys().cloned().collect(),
            ..Layout::default()
        };
        for r in records {
            for family in [crate::record::Family::Ipv6, crate::record::Family::Ipv4] {
                let feeding: Vec<String> = r
                    .sources
                    .iter()
                    .filter(|s| sources.get(*s).is_some_and(|f| f.contains(&family)))
                    .cloned()
                    .collect();
                if !feeding.is_empty() {
                    out.records.push((
                        RecordKey {
                            name: r.name.clone(),
                            rtype: family.record_type(),
                        },
                        r.provider.clone(),
                        feeding,
                    ));
                }
            }
        }
        out
    }
}

/// One pass, as the snapshot needs it.
#[derive(Debug)]
pub struct PassFacts<'a> {
    /// What the pass did.
    pub report: &'a RunReport,
    /// The config's shape now (a reload may have changed it).
    pub layout: &'a Layout,
    /// The state file after the pass (`None` when it could not be read).
    pub state: Option<&'a State>,
    /// Each provider's pause after the pass.
    pub pauses: &'a BTreeMap<String, Pause>,
    /// When the pass ended (wall clock).
    pub at: SystemTime,
    /// How long it took.
    pub took: Duration,
    /// Why it ran.
    pub causes: &'a str,
    /// How long each record written in this pass took to be confirmed.
    pub latencies: &'a BTreeMap<RecordKey, Latency>,
    /// Provider calls made during the pass, by (provider, action, result).
    pub calls: &'a BTreeMap<(String, String, String), u64>,
}

impl Snapshot {
    /// The snapshot of a daemon that has not finished a pass yet.
    pub fn new(
        version: &str,
        host: &str,
        started_at: SystemTime,
        config: &str,
        layout: &Layout,
    ) -> Snapshot {
        let mut s = Snapshot {
            version: version.to_owned(),
            host: host.to_owned(),
            started_at,
            config: config.to_owned(),
            passes: 0,
            last_pass: None,
            records: Vec::new(),
            providers: Vec::new(),
            sources: Vec::new(),
            metrics: Counters::default(),
        };
        s.reshape(layout);
        s
    }

    /// Folds one pass in.
    pub fn record_pass(&mut self, f: &PassFacts<'_>) {
        self.reshape(f.layout);
        self.passes += 1;
        self.last_pass = Some(PassView {
            at: f.at,
            took: f.took,
            causes: f.causes.to_owned(),
            summary: crate::report::summary(f.report),
        });
        self.metrics.pass_duration.observe(f.took);
        for (k, n) in f.calls {
            *self.metrics.provider_calls.entry(k.clone()).or_default() += n;
        }

        for d in &f.report.detections {
            let (name, selected, error) = match d {
                Ok(d) => (d.source.as_str(), selected(d), None),
                Err(e) => {
                    *self
                        .metrics
                        .source_failures
                        .entry(e.source.clone())
                        .or_default() += 1;
                    let err = ErrorView {
                        message: e.error.to_string(),
                        hint: e.error.hint().map(str::to_owned),
                        at: f.at,
                    };
                    (e.source.as_str(), Vec::new(), Some(err))
                }
            };
            if let Some(s) = self.sources.iter_mut().find(|s| s.name == name) {
                s.at = Some(f.at);
                s.selected = selected;
                s.error = error;
            }
        }

        for o in &f.report.records {
            let Some(r) = self.records.iter_mut().find(|r| r.key == o.key) else {
                continue;
            };
            r.desired = Some(o.addrs.clone());
            r.result = Some(result(&o.status));
            r.checked_at = Some(f.at);
            if let Some(l) = f.latencies.get(&o.key) {
                r.last_publish = Some(*l);
            }
            if let Status::Failed(e) = &o.status {
                if let Some(p) = self.providers.iter_mut().find(|p| p.name == o.provider) {
                    p.last_error = Some(ErrorView {
                        message: e.to_string(),
                        hint: e.hint(),
                        at: f.at,
                    });
                }
            }
        }
        for l in f.latencies.values().filter(|l| l.from_event) {
            self.metrics.publish_latency.observe(l.took);
        }

        if let Some(state) = f.state {
            for r in &mut self.records {
                let e = state.get(&r.key).filter(|e| e.provider == r.provider);
                r.published = e.map(|e| e.addrs.clone());
                r.last_change = e
                    .filter(|e| e.published_at > 0)
                    .map(|e| unix(e.published_at));
                r.last_verify = e.and_then(|e| e.verified_at).map(unix);
            }
        }

        for p in &mut self.providers {
            p.state = match f.pauses.get(&p.name) {
                None => ProviderState::Ok,
                Some(Pause {
                    until: Until::Time(t),
                    reason,
                }) => ProviderState::BackingOff {
                    until: *t,
                    reason: reason.clone(),
                },
                Some(Pause { reason, .. }) => ProviderState::Paused {
                    reason: reason.clone(),
                },
            };
        }
    }

    /// True when any record is failing.
    pub fn any_failing(&self) -> bool {
        self.records
            .iter()
            .any(|r| r.result.as_ref().is_some_and(|x| !x.ok))
    }

    /// Makes the records, providers and sources those of `layout`, keeping what is known of
    /// the ones that stay.
    fn reshape(&mut self, layout: &Layout) {
        let mut old: BTreeMap<RecordKey, RecordView> =
            self.records.drain(..).map(|r| (r.key.clone(), r)).collect();
        self.records = layout
            .records
            .iter()
            .map(|(key, provider, sources)| {
                let mut r = old.remove(key).unwrap_or(RecordView {
                    key: key.clone(),
                    provider: provider.clone(),
                    sources: Vec::new(),
                    desired: None,
                    published: None,
                    result: None,
                    last_change: None,
                    last_verify: None,
                    last_publish: None,
                    checked_at: None,
                });
                r.provider = provider.clone();
                r.sources = sources.clone();
                r
            })
            .collect();
        let mut old: BTreeMap<String, ProviderView> = self
            .providers
            .drain(..)
            .map(|p| (p.name.clone(), p))
            .collect();
        let names: BTreeSet<&String> = layout.providers.iter().collect();
        self.providers = names
            .into_iter()
            .map(|n| {
                old.remove(n).unwrap_or(ProviderView {
                    name: n.clone(),
                    state: ProviderState::Ok,
                    last_error: None,
                })
            })
            .collect();
        let mut old: BTreeMap<String, SourceView> = self
            .sources
            .drain(..)
            .map(|s| (s.name.clone(), s))
            .collect();
        let names: BTreeSet<&String> = layout.sources.iter().collect();
        self.sources = names
            .into_iter()
            .map(|n| {
                old.remove(n).unwrap_or(SourceView {
                    name: n.clone(),
                    at: None,
                    selected: Vec::new(),
                    error: None,
                })
            })
            .collect();
    }
}

/// The stable code, ok flag, sentence and hint of a status.
pub fn result(s: &Status) -> ResultView {
    let code = match s {
        Status::Created => "created",
        Status::Updated { .. } => "updated",
        Status::Unchanged => "unchanged",
        Status::WouldCreate => "would-create",
        Status::WouldUpdate { .. } => "would-update",
        Status::Failed(_) => "failed",
        Status::Paused { .. } => "paused",
        Status::Held { .. } => "held",
        Status::SourceFailed { .. } => "source-failed",
        Status::NoAddress { .. } => "no-address",
        Status::Gone { .. } => "gone",
        Status::Withdrawn { .. } => "withdrawn",
        Status::WouldWithdraw { .. } => "would-withdraw",
    };
    ResultView {
        code,
        ok: !s.is_failure(),
        text: crate::report::status(s),
        hint: match s {
            Status::Failed(e) => e.hint(),
            _ => None,
        },
    }
}

/// True for the results whose desired addresses are live (`ddnsd_record_published` 1).
pub fn is_published(code: &str) -> bool {
    matches!(code, "created" | "updated" | "unchanged")
}

fn selected(d: &Detection) -> Vec<IpAddr> {
    d.candidates
        .iter()
        .filter(|c| c.verdict == crate::addr::Verdict::Selected)
        .map(|c| c.addr)
        .collect()
}

fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::addr::{Candidate, SourceError, SourceFailure, Verdict};
    use crate::provider::{ProviderError, ProviderErrorKind, ProviderHints};
    use crate::reconcile::RecordOutcome;
    use crate::record::{Family, RecordType, Ttl};
    use crate::state::Entry;

    pub(crate) fn t(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    pub(crate) fn key(n: &str) -> RecordKey {
        RecordKey {
            name: n.parse().unwrap(),
            rtype: RecordType::Aaaa,
        }
    }

    pub(crate) fn set(a: &str) -> AddrSet {
        [a.parse().unwrap()].into_iter().collect()
    }

    pub(crate) fn layout() -> Layout {
        let records = vec![
            RecordSpec {
                name: "a.example.test".parse().unwrap(),
                provider: "home".into(),
                sources: vec!["wan6".into()],
                ttl: Ttl(60),
                ttl_auto: false,
                on_gone: Default::default(),
            },
            RecordSpec {
                name: "b.example.test".parse().unwrap(),
                provider: "home".into(),
                sources: vec!["wan6".into(), "wan4".into()],
                ttl: Ttl(60),
                ttl_auto: false,
                on_gone: Default::default(),
            },
        ];
        let sources = BTreeMap::from([
            ("wan6".to_owned(), vec![Family::Ipv6]),
            ("wan4".to_owned(), vec![Family::Ipv4]),
        ]);
        Layout::of(&records, ["home".to_owned()], &sources)
    }

    /// A pass: a created, b failed (AAAA) and its A left out by a failed source.
    pub(crate) fn report() -> RunReport {
        RunReport {
            detections: vec![
                Ok(Detection {
                    source: "wan6".into(),
                    candidates: vec![Candidate {
                        addr: "2001:db8::2".parse().unwrap(),
                        origin: "vt0".into(),
                        verdict: Verdict::Selected,
                        detail: None,
                        lifetime: None,
                    }],
                }),
                Err(SourceFailure {
                    source: "wan4".into(),
                    error: SourceError::NoSuchInterface("eth9".into()),
                }),
            ],
            records: vec![
                RecordOutcome {
                    key: key("a.example.test"),
                    provider: "home".into(),
                    addrs: set("2001:db8::2"),
                    status: Status::Created,
                },
                RecordOutcome {
                    key: key("b.example.test"),
                    provider: "home".into(),
                    addrs: set("2001:db8::2"),
                    status: Status::Failed(
                        ProviderError::new(
                            ProviderErrorKind::Forbidden,
                            "the server refused the update",
                        )
                        .with_hint("allow the name in the server's update-policy"),
                    ),
                },
                RecordOutcome {
                    key: RecordKey {
                        name: "b.example.test".parse().unwrap(),
                        rtype: RecordType::A,
                    },
                    provider: "home".into(),
                    addrs: AddrSet::new(),
                    status: Status::SourceFailed {
                        sources: vec!["wan4".into()],
                    },
                },
            ],
            state_error: None,
            wake_at: None,
        }
    }

    pub(crate) fn snapshot_after_one_pass() -> Snapshot {
        let layout = layout();
        let mut s = Snapshot::new("0.1.0", "vm", t(0), "/etc/ddnsd/ddnsd.toml", &layout);
        let mut state = State::default();
        state.set(
            &key("a.example.test"),
            Entry {
                provider: "home".into(),
                addrs: set("2001:db8::2"),
                ttl: Ttl(60),
                hints: ProviderHints::default(),
                published_at: 1_700_000_005,
                verified_at: None,
                unconfirmed: false,
                gone_since: None,
            },
        );
        let pauses = BTreeMap::from([(
            "home".to_owned(),
            Pause {
                until: Until::Time(t(65)),
                reason: "could not reach 127.0.0.1:53".into(),
            },
        )]);
        let latencies = BTreeMap::from([(
            key("a.example.test"),
            Latency {
                took: Duration::from_millis(42),
                from_event: true,
            },
        )]);
        let calls = BTreeMap::from([
            (("home".to_owned(), "write".to_owned(), "ok".to_owned()), 1),
            (
                (
                    "home".to_owned(),
                    "write".to_owned(),
                    "forbidden".to_owned(),
                ),
                1,
            ),
        ]);
        s.record_pass(&PassFacts {
            report: &report(),
            layout: &layout,
            state: Some(&state),
            pauses: &pauses,
            at: t(5),
            took: Duration::from_millis(60),
            causes: "address change",
            latencies: &latencies,
            calls: &calls,
        });
        s
    }

    #[test]
    fn a_pass_fills_records_providers_sources_and_metrics() {
        let s = snapshot_after_one_pass();
        assert_eq!(s.passes, 1);
        let keys: Vec<String> = s.records.iter().map(|r| r.key.to_string()).collect();
        assert_eq!(
            keys,
            [
                "a.example.test AAAA",
                "b.example.test AAAA",
                "b.example.test A"
            ]
        );
        let a = &s.records[0];
        assert_eq!(a.result.as_ref().unwrap().code, "created");
        assert_eq!(a.published, Some(set("2001:db8::2")));
        assert_eq!(a.last_change, Some(t(5)));
        assert_eq!(a.last_publish.unwrap().took, Duration::from_millis(42));
        let b = &s.records[1];
        let r = b.result.as_ref().unwrap();
        assert_eq!((r.code, r.ok), ("failed", false));
        assert_eq!(
            r.hint.as_deref(),
            Some("allow the name in the server's update-policy")
        );
        assert_eq!(b.published, None);
        assert_eq!(s.records[2].sources, ["wan4"]);
        assert!(s.any_failing());
        assert_eq!(
            s.providers[0].state,
            ProviderState::BackingOff {
                until: t(65),
                reason: "could not reach 127.0.0.1:53".into()
            }
        );
        assert_eq!(
            s.providers[0].last_error.as_ref().unwrap().message,
            "the server refused the update"
        );
        let wan4 = s.sources.iter().find(|x| x.name == "wan4").unwrap();
        assert!(wan4.error.is_some());
        assert_eq!(s.metrics.source_failures["wan4"], 1);
        assert_eq!(s.metrics.publish_latency.count, 1);
        assert_eq!(s.metrics.pass_duration.count, 1);
        assert_eq!(s.metrics.provider_calls.len(), 2);
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        for ms in [50, 100, 500, 5000] {
            h.observe(Duration::from_millis(ms));
        }
        assert_eq!(h.cumulative(), [(0.1, 2), (1.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(h.count, 4);
        assert!((h.sum - 5.65).abs() < 1e-9);
    }

    #[test]
    fn a_reload_reshapes_and_keeps_what_stays() {
        let mut s = snapshot_after_one_pass();
        let records = vec![RecordSpec {
            name: "a.example.test".parse().unwrap(),
            provider: "home".into(),
            sources: vec!["wan6".into()],
            ttl: Ttl(60),
            ttl_auto: false,
            on_gone: Default::default(),
        }];
        let sources = BTreeMap::from([("wan6".to_owned(), vec![Family::Ipv6])]);
        s.reshape(&Layout::of(&records, ["home".to_owned()], &sources));
        assert_eq!(s.records.len(), 1);
        assert_eq!(s.records[0].result.as_ref().unwrap().code, "created");
        assert_eq!(s.sources.len(), 1);
    }
}
