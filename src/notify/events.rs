//! Which notices a pass gives. Pure: a [`Tracker`] remembers which records are failing (and
//! since when), so a record that keeps failing is reported once, and once more when it
//! recovers; the time is handed in.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::Event;
use crate::reconcile::{RunReport, Status};
use crate::record::{AddrSet, RecordKey};

/// One thing to tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// What happened.
    pub event: Event,
    /// The record (name, type).
    pub key: RecordKey,
    /// The provider it is published with.
    pub provider: String,
    /// The desired addresses.
    pub addrs: AddrSet,
    /// `Changed`: what was published before (`None`: the record was created).
    pub was: Option<AddrSet>,
    /// The record's status sentence (`failed: …`, `updated (was …)`), as `run --once` says it.
    pub status: String,
    /// `Recovered`: since when it was failing.
    pub failing_since: Option<SystemTime>,
    /// When the pass that found it ended.
    pub at: SystemTime,
}

/// Remembers failing records across passes.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    /// Failing records and since when.
    failing: BTreeMap<RecordKey, SystemTime>,
}

impl Tracker {
    /// The notices of one pass that ended at `at`: `Changed` for every record written (a
    /// withdrawal by `on_gone = "delete"` too),
    /// `Failed` for a record that was not failing before, `Recovered` for one that was and is
    /// current now. A dry run changes nothing, so it gives no `Changed`; a record without a
    /// usable address is neither failing nor current, so it changes nothing here.
    pub fn observe(&mut self, report: &RunReport, at: SystemTime) -> Vec<Notice> {
        let mut out = Vec::new();
        for r in &report.records {
            let notice = |event, was, failing_since| Notice {
                event,
                key: r.key.clone(),
                provider: r.provider.clone(),
                addrs: r.addrs.clone(),
                was,
                status: crate::report::status(&r.status),
                failing_since,
                at,
            };
            if r.status.is_failure() {
                if !self.failing.contains_key(&r.key) {
                    self.failing.insert(r.key.clone(), at);
                    out.push(notice(Event::Failed, None, None));
                }
                continue;
            }
            let current = matches!(
                r.status,
                Status::Created
                    | Status::Updated { .. }
                    | Status::Unchanged
                    | Status::Withdrawn { .. }
            );
            if current {
                if let Some(since) = self.failing.remove(&r.key) {
                    out.push(notice(Event::Recovered, None, Some(since)));
                }
            }
            match &r.status {
                Status::Created => out.push(notice(Event::Changed, None, None)),
                Status::Updated { was } | Status::Withdrawn { was } => {
                    out.push(notice(Event::Changed, Some(was.clone()), None))
                }
                _ => {}
            }
        }
        out
    }

    /// True while `key` is failing.
    pub fn is_failing(&self, key: &RecordKey) -> bool {
        self.failing.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::provider::{ProviderError, ProviderErrorKind};
    use crate::reconcile::RecordOutcome;
    use crate::record::RecordType;

    fn key() -> RecordKey {
        RecordKey {
            name: "h.example.test".parse().unwrap(),
            rtype: RecordType::Aaaa,
        }
    }

    fn pass(status: Status) -> RunReport {
        RunReport {
            records: vec![RecordOutcome {
                key: key(),
                provider: "p".into(),
                addrs: ["2001:db8::2".parse().unwrap()].into_iter().collect(),
                status,
            }],
            ..RunReport::default()
        }
    }

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    fn failed() -> Status {
        Status::Failed(ProviderError::new(ProviderErrorKind::Transient, "boom"))
    }

    /// See: issue 11. Repeated failures of one record notify once until it recovers.
    #[test]
    fn a_failing_record_is_told_once_then_once_more_when_it_recovers() {
        let mut tr = Tracker::default();
        let seq: Vec<(Status, Vec<&str>)> = vec![
            (Status::Created, vec!["changed"]),
            (failed(), vec!["failed"]),
            (failed(), vec![]),
            (
                Status::Held {
                    pause: crate::reconcile::Pause {
                        until: crate::reconcile::Until::Change,
                        reason: "boom".into(),
                    },
                },
                vec![],
            ),
            (
                Status::NoAddress {
                    sources: vec!["s".into()],
                },
                vec![],
            ),
            (
                Status::Updated {
                    was: ["2001:db8::1".parse().unwrap()].into_iter().collect(),
                },
                vec!["recovered", "changed"],
            ),
            (Status::Unchanged, vec![]),
            (failed(), vec!["failed"]),
            (Status::Unchanged, vec!["recovered"]),
            (Status::WouldCreate, vec![]),
            (
                Status::Gone {
                    sources: vec!["s".into()],
                    withdraw_at: t(99),
                },
                vec![],
            ),
            (
                Status::WouldWithdraw {
                    was: ["2001:db8::1".parse().unwrap()].into_iter().collect(),
                },
                vec![],
            ),
            (failed(), vec!["failed"]),
            (
                Status::Withdrawn {
                    was: ["2001:db8::1".parse().unwrap()].into_iter().collect(),
                },
                vec!["recovered", "changed"],
            ),
        ];
        for (i, (status, want)) in seq.into_iter().enumerate() {
            let got: Vec<&str> = tr
                .observe(&pass(status), t(i as u64))
                .iter()
                .map(|n| n.event.as_str())
                .collect();
            assert_eq!(got, want, "step {i}");
        }
    }

    #[test]
    fn notices_carry_what_a_message_needs() {
        let mut tr = Tracker::default();
        tr.observe(&pass(failed()), t(10));
        assert!(tr.is_failing(&key()));
        let n = tr.observe(
            &pass(Status::Updated {
                was: ["2001:db8::1".parse().unwrap()].into_iter().collect(),
            }),
            t(70),
        );
        assert_eq!(n[0].failing_since, Some(t(10)));
        assert_eq!(
            n[1].was.as_ref().map(ToString::to_string).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(n[1].status, "updated (was 2001:db8::1)");
        assert_eq!(n[1].at, t(70));
    }
}
