//! ONE pass: detect → plan → apply → remember, returning a [`RunReport`]. Talks only to the
//! [`Source`], [`Provider`] and [`StateStore`] traits and the [`Clock`]. Owns no timers or
//! signals; `run --once` and the daemon both call it (the daemon keeps its [`Holds`] across
//! passes, `run --once` starts with none).
//!
//! Failure scope (issue 8): an error about one record holds that record only; an error about
//! the provider pauses the provider, and every record of it left out of the pass gets its own
//! result saying so. Providers are worked concurrently (at most [`MAX_CONCURRENT`] at once),
//! each given all its writes of the pass in one [`Provider::apply_batch`] call.

pub mod holds;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;

use crate::addr::{Detection, Source, SourceFailure};
use crate::backoff::Jitter;
use crate::clock::Clock;
use crate::plan::{against_live, auto_ttl, plan, Action, Remembered};
use crate::provider::{Provider, ProviderError, ProviderHints, Scope, Write};
use crate::record::{AddrSet, Family, OnGone, RecordKey, RecordSpec, RrSet};
use crate::state::{Entry, State, StateError, StateStore};
pub use holds::{Holds, Pause, Until};

/// How many providers are worked on at once.
pub const MAX_CONCURRENT: usize = 8;

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
    /// The clock (state timestamps, holds).
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
    /// When a pass should run again without any event: a published address's lifetime (or
    /// an automatic TTL's step) or a record's grace ends (issue 12).
    pub wake_at: Option<std::time::SystemTime>,
}

impl RunReport {
    /// True if some record could not be brought up to date, or state could not be used.
    pub fn has_failures(&self) -> bool {
        matches!(
            self.state_error,
            Some(StateError::Io { .. } | StateError::Newer { .. })
        ) || self.records.iter().any(|r| r.status.is_failure())
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
    /// Already current: no provider call (or a verify read found it right).
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
    /// Not attempted: the provider is paused by an earlier provider-wide error.
    Paused {
        /// The provider's name.
        provider: String,
        /// Why and until when.
        pause: Pause,
    },
    /// Not attempted: this very value failed before and waits for its retry.
    Held {
        /// Why and until when.
        pause: Pause,
    },
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
    /// No address, and `on_gone = "delete"`: left as it is until `withdraw_at`.
    Gone {
        /// The sources that were asked.
        sources: Vec<String>,
        /// When the record is withdrawn unless an address returns.
        withdraw_at: std::time::SystemTime,
    },
    /// Withdrawn (`on_gone = "delete"` after its grace).
    Withdrawn {
        /// What was published before.
        was: AddrSet,
    },
    /// Dry run: would be withdrawn.
    WouldWithdraw {
        /// What was published before.
        was: AddrSet,
    },
}

impl Status {
    /// True for every outcome that leaves the record not known to be current.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Status::Failed(_)
                | Status::Paused { .. }
                | Status::Held { .. }
                | Status::SourceFailed { .. }
        )
    }
}

/// One record the pass may have to call its provider for.
struct Item {
    /// Index of its outcome in the report.
    slot: usize,
    key: RecordKey,
    desired: RrSet,
    hints: ProviderHints,
    action: Action,
    /// Read the live record first (a verify pass, or an unconfirmed earlier write).
    read_first: bool,
    /// The state entry as it was before the pass.
    entry: Option<Entry>,
}

/// What the provider work did for one item.
enum Done {
    /// Read and found right: nothing written.
    Confirmed { hints: ProviderHints },
    /// Written.
    Written {
        action: Action,
        hints: ProviderHints,
    },
    /// A dry run: would write.
    Would(Action),
    /// Nothing to do (plan said unchanged, no read).
    Unchanged,
    /// The call failed.
    Failed(ProviderError),
    /// Left out: an earlier call of this pass failed for the whole provider.
    CutOff,
}

/// Runs one pass. `holds` carries pauses and record holds from earlier passes and is updated
/// with this pass's outcomes; `jitter` spreads the retry times it sets.
pub async fn run_pass(pass: &Pass<'_>, holds: &mut Holds, jitter: &mut dyn Jitter) -> RunReport {
    let mut report = RunReport::default();
    let loaded = if pass.dry_run {
        pass.store.peek()
    } else {
        pass.store.load()
    };
    let mut state = match loaded {
        Ok(s) => s,
        Err(e) => {
            report.state_error = Some(e);
            State::default()
        }
    };
    // An unreadable or newer state file is neither trusted nor overwritten.
    let state_usable = !matches!(
        report.state_error,
        Some(StateError::Io { .. } | StateError::Newer { .. })
    );

    let records: Vec<&RecordSpec> = pass
        .records
        .iter()
        .filter(|r| {
            pass.only_sources
                .is_none_or(|only| r.sources.iter().any(|s| only.contains(s)))
        })
        .collect();

    // Detect every source the selected records use, concurrently, once each (and the sources
    // they derive from, once however many derive from them). What each source feeds is
    // published now, so `select = "best"` keeps it while it stays eligible.
    let wanted: BTreeSet<String> = records
        .iter()
        .flat_map(|r| r.sources.iter().cloned())
        .collect();
    let published = published_by_source(records.iter().copied(), &state);
    // What neighbors sources saw before (issue 12): in, before they detect; out, after.
    for s in pass.sources.values() {
        s.load_history(&state.neighbors);
    }
    report.detections = crate::addr::detect_many(pass.sources, &wanted, &published).await;
    let mut dirty = false;
    if !pass.dry_run && state_usable {
        for s in pass.sources.values() {
            if let Some(h) = s.history() {
                dirty |= state.neighbors.merge(&h);
            }
        }
    }
    let found: BTreeMap<&str, &Detection> = report
        .detections
        .iter()
        .filter_map(|d| d.as_ref().ok())
        .map(|d| (d.source.as_str(), d))
        .collect();

    let now = pass.clock.now();
    let now_secs = pass.clock.unix_secs();
    let mut wake: Option<u64> = None;
    let mut work: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for rec in records {
        for family in record_families(rec, pass.sources) {
            let key = RecordKey {
                name: rec.name.clone(),
                rtype: family.record_type(),
            };
            let slot = report.records.len();
            let mut outcome = |addrs: AddrSet, status| {
                report.records.push(RecordOutcome {
                    key: key.clone(),
                    provider: rec.provider.clone(),
                    addrs,
                    status,
                })
            };
            let (addrs, failed, feeding) = desired_addrs(rec, family, pass.sources, &found);
            // A failed source or an empty selection never empties a record: publishing a
            // partial set would delete the addresses the failed source would have given.
            if !failed.is_empty() {
                outcome(addrs, Status::SourceFailed { sources: failed });
                continue;
            }
            // See: issue 12. Opt-in (`on_gone = "delete"`): a host without an address for
            // `grace` has its record withdrawn (an empty set); by default it is kept.
            let mut withdraw: Option<AddrSet> = None;
            let remembered = state
                .get(&key)
                .filter(|e| state_usable && e.provider == rec.provider)
                .cloned();
            if addrs.is_empty() {
                match (rec.on_gone, remembered.filter(|e| !e.addrs.is_empty())) {
                    (OnGone::Delete { grace }, Some(mut e)) => {
                        // Rounded up, so the record is never withdrawn before `grace` is over
                        // (`now_secs` is rounded down).
                        let since = *e.gone_since.get_or_insert(secs_up(now));
                        if !pass.dry_run && state.get(&key) != Some(&e) {
                            state.set(&key, e.clone());
                            dirty = true;
                        }
                        let due = since.saturating_add(grace.as_secs());
                        if now_secs < due {
                            wake = Some(wake.map_or(due, |w| w.min(due)));
                            let withdraw_at =
                                std::time::UNIX_EPOCH + std::time::Duration::from_secs(due);
                            outcome(
                                addrs,
                                Status::Gone {
                                    sources: feeding,
                                    withdraw_at,
                                },
                            );
                            continue;
                        }
                        withdraw = Some(e.addrs);
                    }
                    _ => {
                        outcome(addrs, Status::NoAddress { sources: feeding });
                        continue;
                    }
                }
            } else if let Some(mut e) = remembered.filter(|e| e.gone_since.is_some()) {
                if !pass.dry_run {
                    e.gone_since = None;
                    state.set(&key, e);
                    dirty = true;
                }
            }
            let lifetime = selected_lifetime(rec, family, &found);
            if let Some(l) = lifetime {
                // Run again when the address's preferred lifetime ends, and (ttl = "auto")
                // when it drops below the TTL now published.
                let mut at = now_secs + u64::from(l);
                if rec.ttl_auto {
                    let t = auto_ttl(rec.ttl, Some(l)).0;
                    at = at.min(now_secs + u64::from(l.saturating_sub(t)) + 1);
                }
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
            let Some(provider) = pass.providers.get(&rec.provider) else {
                // Config building guarantees every record names a provider that exists.
                continue;
            };
            let desired = RrSet {
                name: rec.name.clone(),
                rtype: key.rtype,
                ttl: provider.effective_ttl(if rec.ttl_auto {
                    auto_ttl(rec.ttl, lifetime)
                } else {
                    rec.ttl
                }),
                addrs,
            };
            if let Some(p) = holds.provider_pause(&rec.provider, now) {
                outcome(
                    desired.addrs,
                    Status::Paused {
                        provider: rec.provider.clone(),
                        pause: p.clone(),
                    },
                );
                continue;
            }
            if let Some(p) = holds.record_hold(&key, &desired.addrs, now, pass.verify) {
                outcome(desired.addrs, Status::Held { pause: p.clone() });
                continue;
            }
            let entry = state.get(&key).cloned().filter(|_| state_usable);
            let remembered = entry.as_ref().map(|e| Remembered {
                provider: &e.provider,
                addrs: &e.addrs,
                ttl: e.ttl,
            });
            let action = match &withdraw {
                Some(was) => Action::Update { was: was.clone() },
                None => plan(&desired, &rec.provider, remembered),
            };
            tracing::debug!(record = %key, provider = %rec.provider, addrs = %desired.addrs, ?action, "planned");
            let hints = entry
                .as_ref()
                .filter(|e| e.provider == rec.provider)
                .map(|e| e.hints.clone())
                .unwrap_or_default();
            let unconfirmed = entry.as_ref().is_some_and(|e| e.unconfirmed);
            // A placeholder until the provider work fills it in.
            outcome(desired.addrs.clone(), Status::Unchanged);
            work.entry(rec.provider.clone()).or_default().push(Item {
                slot,
                key: key.clone(),
                desired,
                hints,
                action,
                read_first: (pass.verify || unconfirmed)
                    && !provider.is_dry_run()
                    && provider.reads_live(),
                entry,
            });
        }
    }

    // Each provider's reads and its one batch of writes, providers concurrently.
    let results: Vec<(String, Vec<Item>, Vec<Done>)> =
        futures::stream::iter(work.into_iter().filter_map(|(name, items)| {
            let provider = pass.providers.get(&name)?.clone();
            Some(async move {
                let done = provider_work(provider.as_ref(), &items, pass.dry_run).await;
                (name, items, done)
            })
        }))
        .buffer_unordered(MAX_CONCURRENT)
        .collect()
        .await;

    let stamp = pass.clock.unix_secs();
    for (provider, items, done) in results {
        let mut pause: Option<Pause> = None;
        let mut answered = false;
        for (item, done) in items.into_iter().zip(done) {
            let withdrawal = item.desired.addrs.is_empty();
            let was = match &item.action {
                Action::Update { was } => was.clone(),
                _ => AddrSet::new(),
            };
            let status = match done {
                Done::Written { .. } | Done::Confirmed { .. } if withdrawal => {
                    answered = true;
                    holds.record_ok(&item.key);
                    if !pass.dry_run && state_usable {
                        state.remove(&item.key);
                        dirty = true;
                    }
                    Status::Withdrawn { was }
                }
                Done::Would(_) if withdrawal => Status::WouldWithdraw { was },
                Done::Unchanged => {
                    answered = true;
                    holds.record_ok(&item.key);
                    Status::Unchanged
                }
                Done::Confirmed { hints } => {
                    answered = true;
                    holds.record_ok(&item.key);
                    if !pass.dry_run && state_usable {
                        let mut e = item.entry.clone().unwrap_or(Entry {
                            provider: provider.clone(),
                            addrs: item.desired.addrs.clone(),
                            ttl: item.desired.ttl,
                            hints: ProviderHints::default(),
                            published_at: stamp,
                            verified_at: None,
                            unconfirmed: false,
                            gone_since: None,
                        });
                        e.provider = provider.clone();
                        e.addrs = item.desired.addrs.clone();
                        e.ttl = item.desired.ttl;
                        e.verified_at = Some(stamp);
                        e.unconfirmed = false;
                        e.hints.0.extend(hints.0);
                        state.set(&item.key, e);
                        dirty = true;
                    }
                    Status::Unchanged
                }
                Done::Written { action, hints } => {
                    answered = true;
                    holds.record_ok(&item.key);
                    state.set(
                        &item.key,
                        Entry {
                            provider: provider.clone(),
                            addrs: item.desired.addrs.clone(),
                            ttl: item.desired.ttl,
                            hints,
                            published_at: stamp,
                            verified_at: None,
                            unconfirmed: false,
                            gone_since: None,
                        },
                    );
                    dirty = true;
                    match action {
                        Action::Update { was } => Status::Updated { was },
                        _ => Status::Created,
                    }
                }
                Done::Would(Action::Update { was }) => Status::WouldUpdate { was },
                Done::Would(_) => Status::WouldCreate,
                Done::Failed(e) => {
                    let p =
                        holds.failed(&provider, &item.key, &item.desired.addrs, &e, now, jitter);
                    if e.scope() == Scope::Provider {
                        pause = Some(p);
                    } else {
                        answered = true;
                    }
                    if e.kind == crate::provider::ProviderErrorKind::Unconfirmed
                        && !pass.dry_run
                        && state_usable
                    {
                        // The write may have happened: the next pass reads before it decides.
                        let mut entry = item.entry.clone().unwrap_or(Entry {
                            provider: provider.clone(),
                            addrs: AddrSet::new(),
                            ttl: item.desired.ttl,
                            hints: item.hints.clone(),
                            published_at: 0,
                            verified_at: None,
                            unconfirmed: true,
                            gone_since: None,
                        });
                        entry.unconfirmed = true;
                        state.set(&item.key, entry);
                        dirty = true;
                    }
                    Status::Failed(e)
                }
                Done::CutOff => Status::Paused {
                    provider: provider.clone(),
                    pause: pause.clone().unwrap_or_else(|| Pause {
                        until: Until::Time(now),
                        reason: "an earlier call failed".to_owned(),
                    }),
                },
            };
            report.records[item.slot].status = status;
        }
        if answered && pause.is_none() {
            holds.provider_ok(&provider);
        }
    }

    if dirty && !pass.dry_run && state_usable {
        if let Err(e) = pass.store.save(&state) {
            report.state_error = Some(e);
        }
    }
    report.wake_at = wake.map(|s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
    report
}

/// The shortest remaining preferred lifetime among the addresses the record's sources of
/// `family` selected (`None`: all forever or unknown).
fn selected_lifetime(
    rec: &RecordSpec,
    family: Family,
    found: &BTreeMap<&str, &Detection>,
) -> Option<u32> {
    rec.sources
        .iter()
        .filter_map(|s| found.get(s.as_str()))
        .flat_map(|d| d.candidates.iter())
        .filter(|c| c.verdict == crate::addr::Verdict::Selected && Family::of(&c.addr) == family)
        .filter_map(|c| c.lifetime)
        .min()
}

/// Reads (where asked) and writes one provider's items; one [`Done`] per item, in order.
async fn provider_work(provider: &dyn Provider, items: &[Item], dry_run: bool) -> Vec<Done> {
    let mut done: Vec<Option<Done>> = items.iter().map(|_| None).collect();
    let mut actions: Vec<Action> = items.iter().map(|i| i.action.clone()).collect();
    let mut extra_hints: Vec<ProviderHints> =
        items.iter().map(|_| ProviderHints::default()).collect();
    let mut cut = false;
    for (i, item) in items.iter().enumerate() {
        if !item.read_first {
            continue;
        }
        if cut {
            done[i] = Some(Done::CutOff);
            continue;
        }
        match provider.read_rrset(&item.key, &item.hints).await {
            Ok(live) => {
                actions[i] = against_live(&item.desired, &live.addrs, live.ttl);
                if actions[i] == Action::Unchanged {
                    done[i] = Some(Done::Confirmed { hints: live.hints });
                } else {
                    extra_hints[i] = live.hints;
                }
            }
            Err(e) => {
                cut = e.scope() == Scope::Provider;
                done[i] = Some(Done::Failed(e));
            }
        }
    }
    let mut writes = Vec::new();
    let mut slots = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if done[i].is_some() {
            continue;
        }
        if cut {
            done[i] = Some(Done::CutOff);
            continue;
        }
        match &actions[i] {
            Action::Unchanged => done[i] = Some(Done::Unchanged),
            a if dry_run || provider.is_dry_run() => done[i] = Some(Done::Would(a.clone())),
            _ => {
                let mut hints = item.hints.clone();
                hints.0.extend(std::mem::take(&mut extra_hints[i]).0);
                writes.push(Write {
                    desired: item.desired.clone(),
                    hints,
                });
                slots.push(i);
            }
        }
    }
    if !writes.is_empty() {
        let mut results = provider.apply_batch(&writes).await.into_iter();
        for i in slots {
            done[i] = Some(match results.next() {
                Some(Ok(hints)) => Done::Written {
                    action: actions[i].clone(),
                    hints,
                },
                Some(Err(e)) => Done::Failed(e),
                None => Done::CutOff,
            });
        }
    }
    done.into_iter()
        .map(|d| d.unwrap_or(Done::Unchanged))
        .collect()
}

/// The desired addresses of one record and family, the feeding sources that failed, and the
/// feeding sources.
fn desired_addrs(
    rec: &RecordSpec,
    family: Family,
    sources: &BTreeMap<String, Arc<dyn Source>>,
    found: &BTreeMap<&str, &Detection>,
) -> (AddrSet, Vec<String>, Vec<String>) {
    let feeding: Vec<String> = rec
        .sources
        .iter()
        .filter(|s| {
            sources
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
    (addrs, failed, feeding)
}

/// Per source: the addresses currently published by the records it feeds.
pub fn published_by_source<'a>(
    records: impl IntoIterator<Item = &'a RecordSpec>,
    state: &State,
) -> BTreeMap<String, AddrSet> {
    let mut out: BTreeMap<String, AddrSet> = BTreeMap::new();
    for rec in records {
        for rtype in [
            crate::record::RecordType::Aaaa,
            crate::record::RecordType::A,
        ] {
            let key = RecordKey {
                name: rec.name.clone(),
                rtype,
            };
            if let Some(e) = state.get(&key) {
                for s in &rec.sources {
                    let set = out.entry(s.clone()).or_default();
                    for a in &e.addrs {
                        set.insert(*a);
                    }
                }
            }
        }
    }
    out
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

/// Unix seconds of `t`, rounded up.
fn secs_up(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;
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
        /// Names whose writes fail with their own kind (the others succeed).
        refuse: Mutex<BTreeMap<String, ProviderErrorKind>>,
        live: Mutex<BTreeMap<RecordKey, AddrSet>>,
        /// The TTL the "API" stores: at least this (DNSPod's 600 s).
        min_ttl: Option<u32>,
    }

    impl Provider for Recorder {
        fn name(&self) -> &str {
            "p"
        }
        fn effective_ttl(&self, ttl: Ttl) -> Ttl {
            Ttl(ttl.0.max(self.min_ttl.unwrap_or(0)))
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
            let ttl = Ttl(300u32.max(self.min_ttl.unwrap_or(0)));
            Box::pin(async move {
                Ok(LiveRrSet {
                    ttl: (!addrs.is_empty()).then_some(ttl),
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
            let fail = self.fail.lock().unwrap().clone().or_else(|| {
                self.refuse
                    .lock()
                    .unwrap()
                    .get(desired.name.as_str())
                    .cloned()
            });
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
                    ttl_auto: false,
                    on_gone: Default::default(),
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
            let mut holds = Holds::default();
            self.pass_with(dry_run, verify, &mut holds).await
        }
        async fn pass_with(&self, dry_run: bool, verify: bool, holds: &mut Holds) -> RunReport {
            run_pass(
                &Pass {
                    sources: &self.sources,
                    providers: &self.providers,
                    records: &self.records,
                    store: &self.store,
                    clock: &self.clock,
                    dry_run,
                    verify,
                    only_sources: None,
                },
                holds,
                &mut crate::backoff::ThreadJitter,
            )
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
                        lifetime: None,
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

    /// A record fed by an IPv6 and an IPv4 source keeps updating the family that works, and
    /// the failed family's record is left untouched (no provider call, state kept).
    #[tokio::test]
    async fn failed_family_is_left_alone_while_the_other_updates() {
        let mut w = World::new(&["2001:db8::1"]);
        let key_a = RecordKey {
            name: "h.example.test".parse().unwrap(),
            rtype: RecordType::A,
        };
        // The IPv4 record was published earlier, when that source still worked.
        let mut state = State::default();
        state.set(
            &key_a,
            Entry {
                provider: "p".into(),
                addrs: ["203.0.113.1".parse().unwrap()].into_iter().collect(),
                ttl: Ttl(300),
                hints: ProviderHints::default(),
                published_at: 1,
                verified_at: None,
                unconfirmed: false,
                gone_since: None,
            },
        );
        w.store.save(&state).unwrap();
        w.pass(false, false).await;
        w.set_v6(&["2001:db8::2"]);
        let r = w.pass(false, false).await;
        assert_eq!(
            statuses(&r),
            [
                "h.example.test AAAA updated (was 2001:db8::1)",
                "h.example.test A failed: source broken failed; record left as it is"
            ]
        );
        assert_eq!(
            w.calls(),
            [
                "apply h.example.test AAAA 2001:db8::1",
                "apply h.example.test AAAA 2001:db8::2"
            ]
        );
        let after = w.store.load().unwrap();
        assert_eq!(after.get(&key_a), state.get(&key_a));
    }

    /// A source that counts its detections.
    struct Counting(std::sync::atomic::AtomicUsize);
    impl Source for Counting {
        fn name(&self) -> &str {
            "wan"
        }
        fn families(&self) -> Vec<Family> {
            vec![Family::Ipv6]
        }
        fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async {
                Ok(Detection {
                    source: "wan".into(),
                    candidates: vec![crate::addr::Candidate {
                        addr: "2001:db8:1::10".parse().unwrap(),
                        origin: "eth0".into(),
                        verdict: crate::addr::Verdict::Selected,
                        detail: None,
                        lifetime: None,
                    }],
                })
            })
        }
    }

    /// Many prefix sources (LAN hosts) sharing one `from` source: it is detected once per pass.
    #[tokio::test]
    async fn shared_prefix_source_is_detected_once_per_pass() {
        use crate::addr::prefix::{HostPart, PrefixSettings, PrefixSource};
        let mut w = World::new(&["2001:db8::1"]);
        let wan = Arc::new(Counting(Default::default()));
        w.sources.insert("wan".into(), wan.clone());
        w.records.clear();
        for (i, host) in ["nas", "printer", "tv"].iter().enumerate() {
            let settings = PrefixSettings {
                from: "wan".into(),
                prefix_length: 64,
                subnet_id: 0,
                host: HostPart::Suffix(format!("::{}", i + 1).parse().unwrap()),
                policy: Default::default(),
            };
            let from: Arc<dyn Source> = wan.clone();
            w.sources.insert(
                (*host).into(),
                Arc::new(PrefixSource::new((*host).into(), settings, Some(from))),
            );
            w.records.push(RecordSpec {
                name: format!("{host}.example.test").parse().unwrap(),
                provider: "p".into(),
                sources: vec![(*host).into()],
                ttl: Ttl(300),
                ttl_auto: false,
                on_gone: Default::default(),
            });
        }
        let r = w.pass(false, false).await;
        assert_eq!(wan.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(
            statuses(&r),
            [
                "nas.example.test AAAA created",
                "printer.example.test AAAA created",
                "tv.example.test AAAA created"
            ]
        );
        assert_eq!(
            w.calls(),
            [
                "apply nas.example.test AAAA 2001:db8:1::1",
                "apply printer.example.test AAAA 2001:db8:1::2",
                "apply tv.example.test AAAA 2001:db8:1::3"
            ]
        );
    }

    /// Two records of one provider fed by the static `v6` source.
    fn two_records(w: &mut World) {
        w.records = ["a.example.test", "b.example.test"]
            .iter()
            .map(|n| RecordSpec {
                name: n.parse().unwrap(),
                provider: "p".into(),
                sources: vec!["v6".into()],
                ttl: Ttl(300),
                ttl_auto: false,
                on_gone: Default::default(),
            })
            .collect();
    }

    /// See: issue 8 (failure scope). A refused record fails alone; the other record of the
    /// same provider is published, follows a change, and the refused one is not asked again
    /// for the same value until it changes or a verify pass comes.
    #[tokio::test]
    async fn a_refused_record_does_not_stop_the_others() {
        let mut w = World::new(&["2001:db8::1"]);
        two_records(&mut w);
        w.provider
            .refuse
            .lock()
            .unwrap()
            .insert("a.example.test".into(), ProviderErrorKind::Forbidden);
        let mut holds = Holds::default();
        let r = w.pass_with(false, false, &mut holds).await;
        assert_eq!(
            statuses(&r),
            [
                "a.example.test AAAA failed: boom",
                "b.example.test AAAA created"
            ]
        );
        w.calls();
        let r = w.pass_with(false, false, &mut holds).await;
        assert_eq!(
            statuses(&r),
            [
                "a.example.test AAAA failed: boom (not retried until the address changes, the next verify pass, or a reload)",
                "b.example.test AAAA unchanged"
            ]
        );
        assert!(w.calls().is_empty());
        assert!(r.has_failures());
        w.set_v6(&["2001:db8::2"]);
        let r = w.pass_with(false, false, &mut holds).await;
        assert_eq!(
            statuses(&r),
            [
                "a.example.test AAAA failed: boom",
                "b.example.test AAAA updated (was 2001:db8::1)"
            ]
        );
        assert_eq!(
            w.calls(),
            [
                "apply a.example.test AAAA 2001:db8::2",
                "apply b.example.test AAAA 2001:db8::2"
            ]
        );
    }

    /// See: issue 8 (failure scope). An error about the provider pauses it; the records left
    /// out of the pass each say so, with the time the pause ends.
    #[tokio::test]
    async fn a_provider_error_pauses_the_provider_and_reports_every_skipped_record() {
        let mut w = World::new(&["2001:db8::1"]);
        two_records(&mut w);
        *w.provider.fail.lock().unwrap() = Some(ProviderErrorKind::Unreachable);
        let mut holds = Holds::default();
        let r = w.pass_with(false, false, &mut holds).await;
        // 1_700_000_000 is 22:13:20 UTC; the first pause is at most 5 s (at least 1 s).
        let st = statuses(&r);
        assert_eq!(st[0], "a.example.test AAAA failed: boom");
        assert!(
            st[1].starts_with("b.example.test AAAA failed: provider p paused until 22:13:2")
                && st[1].ends_with(" (boom)"),
            "{}",
            st[1]
        );
        assert_eq!(w.calls(), ["apply a.example.test AAAA 2001:db8::1"]);
        let r = w.pass_with(false, false, &mut holds).await;
        assert!(statuses(&r)
            .iter()
            .all(|s| s.contains("failed: provider p paused until")));
        assert!(w.calls().is_empty(), "no call while paused");
        // The pause ends: both are tried, and published.
        *w.provider.fail.lock().unwrap() = None;
        w.clock.advance(std::time::Duration::from_secs(10));
        let r = w.pass_with(false, false, &mut holds).await;
        assert_eq!(
            statuses(&r),
            ["a.example.test AAAA created", "b.example.test AAAA created"]
        );
        assert!(holds.is_empty());
    }

    /// See: issue 8 (verify uses the effective TTL). DNSPod raises a 300 s TTL to 600 s; the
    /// verify finds 600 live, writes nothing, says unchanged and stamps verified_at.
    #[tokio::test]
    async fn verify_compares_with_the_ttl_the_provider_really_uses() {
        let mut w = World::new(&["2001:db8::1"]);
        w.provider = Arc::new(Recorder {
            min_ttl: Some(600),
            ..Recorder::default()
        });
        w.providers.insert("p".into(), w.provider.clone());
        w.sources.remove("broken");
        w.records[0].sources = vec!["v6".into()];
        w.pass(false, false).await;
        assert_eq!(w.calls(), ["apply h.example.test AAAA 2001:db8::1"]);
        w.clock.advance(std::time::Duration::from_secs(3600));
        let r = w.pass(false, true).await;
        assert_eq!(statuses(&r), ["h.example.test AAAA unchanged"]);
        assert_eq!(w.calls(), ["read h.example.test AAAA"]);
        let state = w.store.load().unwrap();
        let e = state.records.values().next().unwrap();
        assert_eq!(e.ttl, Ttl(600));
        assert_eq!(e.verified_at, Some(1_700_003_600));
    }

    /// See: issue 8 (unconfirmed writes). A write whose reply never came makes the next pass
    /// read the live record first, as the hint promises.
    #[tokio::test]
    async fn an_unconfirmed_write_is_read_back_on_the_next_pass() {
        let mut w = World::new(&["2001:db8::1"]);
        w.sources.remove("broken");
        w.records[0].sources = vec!["v6".into()];
        *w.provider.fail.lock().unwrap() = Some(ProviderErrorKind::Unconfirmed);
        let r = w.pass(false, false).await;
        assert_eq!(statuses(&r), ["h.example.test AAAA failed: boom"]);
        assert!(w
            .store
            .load()
            .unwrap()
            .records
            .values()
            .all(|e| e.unconfirmed));
        // The write did happen after all.
        w.provider.live.lock().unwrap().insert(
            RecordKey {
                name: "h.example.test".parse().unwrap(),
                rtype: RecordType::Aaaa,
            },
            ["2001:db8::1".parse().unwrap()].into_iter().collect(),
        );
        *w.provider.fail.lock().unwrap() = None;
        w.calls();
        let r = w.pass(false, false).await;
        assert_eq!(statuses(&r), ["h.example.test AAAA unchanged"]);
        assert_eq!(w.calls(), ["read h.example.test AAAA"]);
        assert!(w
            .store
            .load()
            .unwrap()
            .records
            .values()
            .all(|e| !e.unconfirmed));
    }

    /// A source whose candidates the test sets: address, verdict, lifetime.
    struct Scripted(Mutex<Vec<crate::addr::Candidate>>);
    impl Source for Scripted {
        fn name(&self) -> &str {
            "v6"
        }
        fn families(&self) -> Vec<Family> {
            vec![Family::Ipv6]
        }
        fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
            let candidates = self.0.lock().unwrap().clone();
            Box::pin(async move {
                Ok(Detection {
                    source: "v6".into(),
                    candidates,
                })
            })
        }
    }

    fn scripted(addr: Option<&str>, lifetime: Option<u32>) -> Vec<crate::addr::Candidate> {
        addr.map(|a| crate::addr::Candidate {
            addr: a.parse().unwrap(),
            origin: "br-lan".into(),
            verdict: crate::addr::Verdict::Selected,
            detail: None,
            lifetime,
        })
        .into_iter()
        .collect()
    }

    /// A `neighbors`-like source: keeps what it is handed and adds one sighting per detection.
    struct Remembering {
        seen: Mutex<crate::record::NeighborHistory>,
        sighting: (Ipv6Addr, u64),
    }
    impl Source for Remembering {
        fn name(&self) -> &str {
            "v6"
        }
        fn families(&self) -> Vec<Family> {
            vec![Family::Ipv6]
        }
        fn load_history(&self, history: &crate::record::NeighborHistory) {
            *self.seen.lock().unwrap() = history.clone();
        }
        fn history(&self) -> Option<crate::record::NeighborHistory> {
            Some(self.seen.lock().unwrap().clone())
        }
        fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
            let (addr, at) = self.sighting;
            self.seen.lock().unwrap().saw(MAC, addr, at);
            Box::pin(async move {
                Ok(Detection {
                    source: "v6".into(),
                    candidates: scripted(Some(&addr.to_string()), None),
                })
            })
        }
    }

    const MAC: &str = "52:54:00:00:00:02";

    /// See: issue 12 (history in the state file). What a source saw of the neighbour table is
    /// saved after the pass and handed to the next process's source before it detects, so a
    /// restart does not forget which address came first; a dry run saves nothing.
    #[tokio::test]
    async fn neighbour_history_survives_a_restart() {
        let stable: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let temporary: Ipv6Addr = "2001:db8::7".parse().unwrap();
        let mut w = World::new(&[]);
        w.records[0].sources = vec!["v6".into()];
        let restart = |w: &mut World, sighting| {
            let src = Arc::new(Remembering {
                seen: Mutex::default(),
                sighting,
            });
            w.sources.clear();
            w.sources.insert("v6".into(), src.clone());
            src
        };
        restart(&mut w, (stable, 1_000));
        w.pass(false, false).await;
        let saved = w.store.load().unwrap().neighbors;
        assert_eq!(saved.first_seen(MAC, &stable), Some(1_000));

        // A dry run reads the history but writes none of what it saw.
        let src = restart(&mut w, (temporary, 2_000));
        w.pass(true, false).await;
        assert_eq!(
            src.seen.lock().unwrap().first_seen(MAC, &stable),
            Some(1_000)
        );
        assert_eq!(w.store.load().unwrap().neighbors, saved);

        // A new process: the source starts from the saved history, and both sightings are kept.
        let src = restart(&mut w, (temporary, 2_000));
        w.pass(false, false).await;
        assert_eq!(
            src.seen.lock().unwrap().first_seen(MAC, &stable),
            Some(1_000)
        );
        let saved = w.store.load().unwrap().neighbors;
        assert_eq!(saved.first_seen(MAC, &stable), Some(1_000));
        assert_eq!(saved.first_seen(MAC, &temporary), Some(2_000));
    }

    /// See: issue 12 (on_gone). Kept by default; with on_gone = "delete" the record waits out
    /// its grace (saying until when), is withdrawn with one empty write, and a returning
    /// address clears the countdown.
    #[tokio::test]
    async fn a_gone_host_is_withdrawn_only_when_asked_after_grace() {
        let mut w = World::new(&[]);
        let src = Arc::new(Scripted(Mutex::new(scripted(Some("2001:db8::7"), None))));
        w.sources.clear();
        w.sources.insert("v6".into(), src.clone());
        w.records[0].sources = vec!["v6".into()];
        w.pass(false, false).await;
        assert_eq!(w.calls(), ["apply h.example.test AAAA 2001:db8::7"]);
        *src.0.lock().unwrap() = Vec::new();
        // Default: kept, no call, no wake-up.
        let r = w.pass(false, false).await;
        assert!(
            statuses(&r)[0].contains("skipped: no usable address from v6; record left as it is")
        );
        assert!(w.calls().is_empty() && r.wake_at.is_none());
        // on_gone = "delete", grace 10 min: counts down from the first pass without address.
        w.records[0].on_gone = OnGone::Delete {
            grace: std::time::Duration::from_secs(600),
        };
        let r = w.pass(false, false).await;
        // 1_700_000_000 + 600 is 22:23:20 UTC.
        assert_eq!(
            statuses(&r),
            ["h.example.test AAAA skipped: no usable address from v6; withdrawn at 22:23:20 unless one returns (on_gone = \"delete\")"]
        );
        assert_eq!(
            r.wake_at,
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_600))
        );
        assert!(w.calls().is_empty());
        // The address comes back within grace: the countdown is cleared, nothing written.
        *src.0.lock().unwrap() = scripted(Some("2001:db8::7"), None);
        let r = w.pass(false, false).await;
        assert_eq!(statuses(&r), ["h.example.test AAAA unchanged"]);
        assert!(w
            .store
            .load()
            .unwrap()
            .records
            .values()
            .all(|e| e.gone_since.is_none()));
        // Gone again, and for longer than grace: withdrawn (a dry run only says so).
        *src.0.lock().unwrap() = Vec::new();
        w.pass(false, false).await;
        w.clock.advance(std::time::Duration::from_secs(601));
        let r = w.pass(true, false).await;
        assert_eq!(
            statuses(&r),
            ["h.example.test AAAA would withdraw (was 2001:db8::7) (dry run)"]
        );
        assert!(w.calls().is_empty());
        let r = w.pass(false, false).await;
        assert_eq!(
            statuses(&r),
            ["h.example.test AAAA withdrawn (was 2001:db8::7)"]
        );
        assert_eq!(w.calls(), ["apply h.example.test AAAA -"]);
        assert!(w.store.load().unwrap().records.is_empty());
        // Nothing left to withdraw: back to the plain skip, no call.
        let r = w.pass(false, false).await;
        assert!(statuses(&r)[0].contains("record left as it is"));
        assert!(w.calls().is_empty());
    }

    /// See: issue 12 (on_gone). The grace's start is rounded up, so a record is never
    /// withdrawn before its grace is over.
    #[test]
    fn grace_starts_at_the_next_whole_second() {
        let at = |ms: u64| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
        for (ms, want) in [(0, 0), (1, 1), (999, 1), (1_000, 1), (1_001, 2)] {
            assert_eq!(secs_up(at(ms)), want, "{ms} ms");
        }
    }

    /// See: issue 12 (ttl = "auto"). The TTL follows the remaining preferred lifetime in
    /// steps, within the provider's minimum, and the pass asks to run again when it must drop.
    #[tokio::test]
    async fn ttl_auto_follows_the_preferred_lifetime() {
        let mut w = World::new(&[]);
        let src = Arc::new(Scripted(Mutex::new(scripted(
            Some("2001:db8::7"),
            Some(3600),
        ))));
        w.sources.clear();
        w.sources.insert("v6".into(), src.clone());
        w.records[0].sources = vec!["v6".into()];
        w.records[0].ttl_auto = true;
        let r = w.pass(false, false).await;
        let ttl = |w: &World| w.store.load().unwrap().records.values().next().unwrap().ttl;
        assert_eq!(ttl(&w), Ttl(300));
        // Runs again when 3600 - 300 s have passed (the lifetime drops below the TTL).
        assert_eq!(
            r.wake_at,
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + 3301))
        );
        *src.0.lock().unwrap() = scripted(Some("2001:db8::7"), Some(200));
        let r = w.pass(false, false).await;
        assert_eq!(
            statuses(&r),
            ["h.example.test AAAA updated (was 2001:db8::7)"]
        );
        assert_eq!(ttl(&w), Ttl(120));
        // Within the same step: unchanged, no call.
        w.calls();
        *src.0.lock().unwrap() = scripted(Some("2001:db8::7"), Some(150));
        let r = w.pass(false, false).await;
        assert_eq!(statuses(&r), ["h.example.test AAAA unchanged"]);
        assert!(w.calls().is_empty());
        // The provider's minimum wins.
        w.provider = Arc::new(Recorder {
            min_ttl: Some(600),
            ..Recorder::default()
        });
        w.providers.insert("p".into(), w.provider.clone());
        w.pass(false, false).await;
        assert_eq!(ttl(&w), Ttl(600));
    }
}
