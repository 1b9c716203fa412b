//! ONE pass: detect → plan → apply → remember, returning a [`RunReport`]. Talks only to the
//! [`Source`], [`Provider`] and [`StateStore`] traits and the [`Clock`]. Owns no timers or
//! signals; `run --once` and the daemon both call it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::addr::{Detection, Source, SourceFailure};
use crate::clock::Clock;
use crate::plan::{plan, Action, Remembered};
use crate::provider::{Provider, ProviderError, ProviderHints};
use crate::record::{AddrSet, Family, RecordKey, RecordSpec, RrSet};
use crate::state::{Entry, StateError, StateStore};

/// Everything one pass works with.
pub struct Pass<'a> {
    /// Sources by name.
    pub sources: &'a BTreeMap<String, Arc<dyn Source>>,
    /// Providers by name.
    pub providers: &'a BTreeMap<String, Arc<dyn Provider>>,
    /// The records to keep current.
    pub records: &'a [RecordSpec],
    /// Where state is remembered.
    pub store: &'a dyn StateStore,
    /// The clock (for state timestamps).
    pub clock: &'a dyn Clock,
    /// Plan and report only: no provider write, no state write.
    pub dry_run: bool,
    /// Read the live records and repair drift even when the state says nothing changed.
    pub verify: bool,
    /// Only the records fed by these sources (`None` = every record).
    pub only_sources: Option<&'a BTreeSet<String>>,
}

/// The result of one pass.
#[derive(Debug, Default)]
pub struct RunReport {
    /// Per source: what it found, or why it failed.
    pub detections: Vec<Result<Detection, SourceFailure>>,
    /// Per (record, type): what happened.
    pub records: Vec<RecordOutcome>,
    /// A state file problem (reading or writing), if any.
    pub state_error: Option<StateError>,
}

impl RunReport {
    /// True if some record could not be brought up to date, or state could not be saved.
    pub fn has_failures(&self) -> bool {
        matches!(self.state_error, Some(StateError::Io { .. }))
            || self
                .records
                .iter()
                .any(|r| matches!(r.status, Status::Failed(_) | Status::SourceFailed { .. }))
    }
}

/// What happened to one (name, type).
#[derive(Debug)]
pub struct RecordOutcome {
    /// (name, type).
    pub key: RecordKey,
    /// The provider's name.
    pub provider: String,
    /// The desired addresses (empty when no source produced any).
    pub addrs: AddrSet,
    /// The result.
    pub status: Status,
}

/// The result for one (name, type).
#[derive(Debug)]
pub enum Status {
    /// Written; nothing was known to be published before.
    Created,
    /// Written, replacing `was`.
    Updated {
        /// What was published before.
        was: AddrSet,
    },
    /// Already current: no provider call.
    Unchanged,
    /// Dry run: would be created.
    WouldCreate,
    /// Dry run: would replace `was`.
    WouldUpdate {
        /// What was published before.
        was: AddrSet,
    },
    /// The provider failed; the previous state is kept.
    Failed(ProviderError),
    /// A source feeding this type failed; the record is left as it is.
    SourceFailed {
        /// The failed sources.
        sources: Vec<String>,
    },
    /// The sources worked but selected no address; the record is left as it is.
    NoAddress {
        /// The sources that were asked.
        sources: Vec<String>,
    },
}

/// Runs one pass.
pub async fn run_pass(pass: &Pass<'_>) -> RunReport {
    let mut report = RunReport::default();
    let mut state = match pass.store.load() {
        Ok(s) => s,
        Err(e) => {
            report.state_error = Some(e);
            Default::default()
        }
    };
    let state_readable = !matches!(report.state_error, Some(StateError::Io { .. }));

    let records: Vec<&RecordSpec> = pass
        .records
        .iter()
        .filter(|r| {
            pass.only_sources
                .is_none_or(|only| r.sources.iter().any(|s| only.contains(s)))
        })
        .collect();

    // Detect every source the selected records use, concurrently, once each.
    let wanted: BTreeSet<&str> = records
        .iter()
        .flat_map(|r| r.sources.iter().map(String::as_str))
        .collect();
    let detecting = wanted
        .iter()
        .filter_map(|name| pass.sources.get(*name))
        .map(|src| async move {
            src.detect().await.map_err(|error| SourceFailure {
                source: src.name().to_owned(),
                error,
            })
        });
    report.detections = futures::future::join_all(detecting).await;
    let found: BTreeMap<&str, &Detection> = report
        .detections
        .iter()
        .filter_map(|d| d.as_ref().ok())
        .map(|d| (d.source.as_str(), d))
        .collect();

    let mut dirty = false;
    for rec in records {
        for family in record_families(rec, pass.sources) {
            let key = RecordKey {
                name: rec.name.clone(),
                rtype: family.record_type(),
            };
            let feeding: Vec<String> = rec
                .sources
                .iter()
                .filter(|s| {
                    pass.sources
                        .get(*s)
                        .is_some_and(|src| src.families().contains(&family))
                })
                .cloned()
                .collect();
            let failed: Vec<String> = feeding
                .iter()
                .filter(|s| !found.contains_key(s.as_str()))
                .cloned()
                .collect();
            let mut addrs = AddrSet::new();
            for s in &feeding {
                if let Some(d) = found.get(s.as_str()) {
                    for a in &d.selected(family) {
                        addrs.insert(*a);
                    }
                }
            }
            let outcome = |addrs: AddrSet, status| RecordOutcome {
                key: key.clone(),
                provider: rec.provider.clone(),
                addrs,
                status,
            };
            // A failed source or an empty selection never empties a record: publishing a
            // partial set would delete the addresses the failed source would have given.
            if !failed.is_empty() {
                report
                    .records
                    .push(outcome(addrs, Status::SourceFailed { sources: failed }));
                continue;
            }
            if addrs.is_empty() {
                report
                    .records
                    .push(outcome(addrs, Status::NoAddress { sources: feeding }));
                continue;
            }
            let Some(provider) = pass.providers.get(&rec.provider) else {
                // Config building guarantees every record names a provider that exists.
                continue;
            };
            let desired = RrSet {
                name: rec.name.clone(),
                rtype: key.rtype,
                ttl: rec.ttl,
                addrs,
            };
            let entry = state.get(&key).cloned();
            let remembered = if state_readable {
                entry.as_ref().map(|e| Remembered {
                    provider: &e.provider,
                    addrs: &e.addrs,
                    ttl: e.ttl,
                })
            } else {
                None
            };
            let hints = entry
                .as_ref()
                .filter(|e| e.provider == rec.provider)
                .map(|e| e.hints.clone())
                .unwrap_or_default();
            let mut action = plan(&desired, &rec.provider, remembered);
            if pass.verify && !provider.is_dry_run() {
                match provider.read_rrset(&key, &hints).await {
                    Ok(live) if live.addrs == desired.addrs && live.ttl == Some(desired.ttl) => {
                        action = Action::Unchanged;
                        if !pass.dry_run {
                            let now = pass.clock.unix_secs();
                            let mut e = entry.clone().unwrap_or(Entry {
                                provider: rec.provider.clone(),
                                addrs: desired.addrs.clone(),
                                ttl: desired.ttl,
                                hints: ProviderHints::default(),
                                published_at: now,
                                verified_at: None,
                            });
                            e.verified_at = Some(now);
                            e.hints.0.extend(live.hints.0);
                            state.set(&key, e);
                            dirty = true;
                        }
                    }
                    Ok(live) if action == Action::Unchanged => {
                        action = Action::Update { was: live.addrs };
                    }
                    Ok(_) => {}
                    Err(e) => {
                        report
                            .records
                            .push(outcome(desired.addrs, Status::Failed(e)));
                        continue;
                    }
                }
            }
            let status = match action {
                Action::Unchanged => Status::Unchanged,
                Action::Create if pass.dry_run || provider.is_dry_run() => Status::WouldCreate,
                Action::Update { was } if pass.dry_run || provider.is_dry_run() => {
                    Status::WouldUpdate { was }
                }
                action => match provider.apply_rrset(&desired, &hints).await {
                    Ok(new_hints) => {
                        state.set(
                            &key,
                            Entry {
                                provider: rec.provider.clone(),
                                addrs: desired.addrs.clone(),
                                ttl: desired.ttl,
                                hints: new_hints,
                                published_at: pass.clock.unix_secs(),
                                verified_at: None,
                            },
                        );
                        dirty = true;
                        match action {
                            Action::Update { was } => Status::Updated { was },
                            _ => Status::Created,
                        }
                    }
                    Err(e) => Status::Failed(e),
                },
            };
            report.records.push(outcome(desired.addrs, status));
        }
    }

    if dirty && !pass.dry_run && state_readable {
        if let Err(e) = pass.store.save(&state) {
            report.state_error = Some(e);
        }
    }
    report
}

/// The families a record publishes: those its sources yield, IPv6 first.
fn record_families(rec: &RecordSpec, sources: &BTreeMap<String, Arc<dyn Source>>) -> Vec<Family> {
    let mut fams: Vec<Family> = rec
        .sources
        .iter()
        .filter_map(|s| sources.get(s))
        .flat_map(|s| s.families())
        .collect();
    fams.sort_by_key(|f| match f {
        Family::Ipv6 => 0,
        Family::Ipv4 => 1,
    });
    fams.dedup();
    fams
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::future::BoxFuture;

    use super::*;
    use crate::addr::fixed::{StaticSettings, StaticSource};
    use crate::addr::SourceError;
    use crate::clock::FakeClock;
    use crate::provider::{LiveRrSet, ProviderErrorKind};
    use crate::record::{RecordType, Ttl};
    use crate::state::{MemoryStore, State};

    /// A provider that records every call and fails on demand.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<String>>,
        fail: Mutex<Option<ProviderErrorKind>>,
        live: Mutex<BTreeMap<RecordKey, AddrSet>>,
    }

    impl Provider for Recorder {
        fn name(&self) -> &str {
            "p"
        }
        fn read_rrset<'a>(
            &'a self,
            key: &'a RecordKey,
            _: &'a ProviderHints,
        ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
            self.calls.lock().unwrap().push(format!("read {key}"));
            let addrs = self
                .live
                .lock()
                .unwrap()
                .get(key)
                .cloned()
                .unwrap_or_default();
            Box::pin(async move {
                Ok(LiveRrSet {
                    ttl: (!addrs.is_empty()).then_some(Ttl(300)),
                    addrs,
                    hints: ProviderHints::default(),
                })
            })
        }
        fn apply_rrset<'a>(
            &'a self,
            desired: &'a RrSet,
            _: &'a ProviderHints,
        ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("apply {} {}", desired.key(), desired.addrs));
            let fail = self.fail.lock().unwrap().clone();
            if fail.is_none() {
                self.live
                    .lock()
                    .unwrap()
                    .insert(desired.key(), desired.addrs.clone());
            }
            Box::pin(async move {
                match fail {
                    Some(kind) => Err(ProviderError::new(kind, "boom")),
                    None => Ok(ProviderHints(BTreeMap::from([(
                        "id".to_owned(),
                        "1".to_owned(),
                    )]))),
                }
            })
        }
    }

    struct Failing;
    impl Source for Failing {
        fn name(&self) -> &str {
            "broken"
        }
        fn families(&self) -> Vec<Family> {
            vec![Family::Ipv4]
        }
        fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
            Box::pin(async { Err(SourceError::NoSuchInterface("eth9".into())) })
        }
    }

    struct World {
        sources: BTreeMap<String, Arc<dyn Source>>,
        provider: Arc<Recorder>,
        providers: BTreeMap<String, Arc<dyn Provider>>,
        records: Vec<RecordSpec>,
        store: MemoryStore,
        clock: FakeClock,
    }

    impl World {
        fn new(v6: &[&str]) -> World {
            let mut w = World {
                sources: BTreeMap::new(),
                provider: Arc::new(Recorder::default()),
                providers: BTreeMap::new(),
                records: vec![RecordSpec {
                    name: "h.example.test".parse().unwrap(),
                    provider: "p".into(),
                    sources: vec!["v6".into(), "broken".into()],
                    ttl: Ttl(300),
                }],
                store: MemoryStore::default(),
                clock: FakeClock::at_unix(1_700_000_000),
            };
            w.set_v6(v6);
            w.sources.insert("broken".into(), Arc::new(Failing));
            w.providers.insert("p".into(), w.provider.clone());
            w
        }
        fn set_v6(&mut self, v6: &[&str]) {
            let s = StaticSettings {
                addresses: v6.iter().map(|a| a.parse().unwrap()).collect(),
            };
            self.sources
                .insert("v6".into(), Arc::new(StaticSource::new("v6".into(), s)));
        }
        async fn pass(&self, dry_run: bool, verify: bool) -> RunReport {
            run_pass(&Pass {
                sources: &self.sources,
                providers: &self.providers,
                records: &self.records,
                store: &self.store,
                clock: &self.clock,
                dry_run,
                verify,
                only_sources: None,
            })
            .await
        }
        fn calls(&self) -> Vec<String> {
            std::mem::take(&mut *self.provider.calls.lock().unwrap())
        }
    }

    fn statuses(r: &RunReport) -> Vec<String> {
        r.records
            .iter()
            .map(|o| format!("{} {}", o.key, crate::report::status(&o.status)))
            .collect()
    }

    #[tokio::test]
    async fn create_then_unchanged_costs_no_call_then_update() {
        let mut w = World::new(&["2001:db8::1"]);
        let r = w.pass(false, false).await;
        assert_eq!(
            statuses(&r),
            [
                "h.example.test AAAA created",
                "h.example.test A failed: source broken failed; record left as it is"
            ]
        );
        assert_eq!(w.calls(), ["apply h.example.test AAAA 2001:db8::1"]);
        assert!(r.has_failures());

        let r = w.pass(false, false).await;
        assert_eq!(statuses(&r)[0], "h.example.test AAAA unchanged");
        assert!(
            w.calls().is_empty(),
            "an unchanged address must cost no provider call"
        );

        w.set_v6(&["2001:db8::2"]);
        let r = w.pass(false, false).await;
        assert_eq!(
            statuses(&r)[0],
            "h.example.test AAAA updated (was 2001:db8::1)"
        );
        let state = w.store.load().unwrap();
        let e = state
            .get(&RecordKey {
                name: "h.example.test".parse().unwrap(),
                rtype: RecordType::Aaaa,
            })
            .unwrap();
        assert_eq!(e.addrs.to_string(), "2001:db8::2");
        assert_eq!(e.hints.0["id"], "1");
        assert_eq!(e.published_at, 1_700_000_000);
    }

    #[tokio::test]
    async fn failed_apply_keeps_previous_state() {
        let mut w = World::new(&["2001:db8::1"]);
        w.pass(false, false).await;
        let before = w.store.load().unwrap();
        *w.provider.fail.lock().unwrap() = Some(ProviderErrorKind::Transient);
        w.set_v6(&["2001:db8::2"]);
        let r = w.pass(false, false).await;
        assert_eq!(statuses(&r)[0], "h.example.test AAAA failed: boom");
        assert_eq!(w.store.load().unwrap(), before);
    }

    #[tokio::test]
    async fn dry_run_calls_no_write_and_writes_no_state() {
        let w = World::new(&["2001:db8::1"]);
        let r = w.pass(true, false).await;
        assert_eq!(
            statuses(&r)[0],
            "h.example.test AAAA would create (dry run)"
        );
        assert!(w.calls().is_empty());
        assert_eq!(w.store.load().unwrap(), State::default());
    }

    struct OnlySkipped;
    impl Source for OnlySkipped {
        fn name(&self) -> &str {
            "v6"
        }
        fn families(&self) -> Vec<Family> {
            vec![Family::Ipv6]
        }
        fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
            Box::pin(async {
                Ok(Detection {
                    source: "v6".into(),
                    candidates: vec![crate::addr::Candidate {
                        addr: "fd00::1".parse().unwrap(),
                        origin: "eth0".into(),
                        verdict: crate::addr::Verdict::Skipped(crate::addr::SkipReason::Ula),
                        detail: None,
                    }],
                })
            })
        }
    }

    #[tokio::test]
    async fn empty_selection_leaves_the_record_alone() {
        let mut w = World::new(&["2001:db8::1"]);
        w.sources.insert("v6".into(), Arc::new(OnlySkipped));
        let r = w.pass(false, false).await;
        assert_eq!(
            statuses(&r)[0],
            "h.example.test AAAA skipped: no usable address from v6; record left as it is (see `ddnsd detect`)"
        );
        assert!(w.calls().is_empty());
    }

    #[tokio::test]
    async fn verify_repairs_drift_and_confirms_matches() {
        let w = World::new(&["2001:db8::1"]);
        w.pass(false, false).await;
        w.calls();
        // someone else changed the live record
        w.provider.live.lock().unwrap().insert(
            RecordKey {
                name: "h.example.test".parse().unwrap(),
                rtype: RecordType::Aaaa,
            },
            ["2001:db8::99".parse().unwrap()].into_iter().collect(),
        );
        let r = w.pass(false, true).await;
        assert_eq!(
            statuses(&r)[0],
            "h.example.test AAAA updated (was 2001:db8::99)"
        );
        assert_eq!(
            w.calls(),
            [
                "read h.example.test AAAA",
                "apply h.example.test AAAA 2001:db8::1"
            ]
        );
        let r = w.pass(false, true).await;
        assert_eq!(statuses(&r)[0], "h.example.test AAAA unchanged");
        assert_eq!(w.calls(), ["read h.example.test AAAA"]);
    }
}
