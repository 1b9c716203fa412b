//! Counting provider calls without touching any provider: [`Counted`] wraps a [`Provider`],
//! counts each read and write by result (`ddnsd_provider_calls_total`) and notes when each
//! write was confirmed (the end of `ddnsd_publish_latency_seconds`). The composition root
//! wraps every provider it builds; the status publisher drains the [`CallLog`] after a pass.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::provider::{
    LiveRrSet, Provider, ProviderError, ProviderErrorKind, ProviderHints, Write,
};
use crate::record::{RecordKey, RrSet, Ttl};

/// Calls counted and writes confirmed since the last [`CallLog::drain`].
#[derive(Debug, Default)]
pub struct CallLog {
    inner: Mutex<Drained>,
}

/// What [`CallLog::drain`] hands over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Calls by (provider, action, result).
    pub calls: BTreeMap<(String, String, String), u64>,
    /// When each (name, type) write was last confirmed.
    pub confirmed: BTreeMap<RecordKey, Instant>,
}

impl CallLog {
    /// Takes everything noted so far.
    pub fn drain(&self) -> Drained {
        std::mem::take(&mut *self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn count(&self, provider: &str, action: &str, result: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *g.calls
            .entry((provider.to_owned(), action.to_owned(), result.to_owned()))
            .or_default() += 1;
    }

    fn confirmed(&self, key: RecordKey, at: Instant) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.confirmed.insert(key, at);
    }
}

/// The result label of a call: `ok`, or the error's kind.
pub fn result_label(r: Result<(), &ProviderError>) -> &'static str {
    let Err(e) = r else { return "ok" };
    match e.kind {
        ProviderErrorKind::Auth => "auth",
        ProviderErrorKind::Forbidden => "forbidden",
        ProviderErrorKind::ClockSkew { .. } => "clock-skew",
        ProviderErrorKind::ZoneNotFound => "zone-not-found",
        ProviderErrorKind::RateLimited { .. } => "rate-limited",
        ProviderErrorKind::Unreachable => "unreachable",
        ProviderErrorKind::Transient => "transient",
        ProviderErrorKind::Unconfirmed => "unconfirmed",
        ProviderErrorKind::Protocol => "protocol",
        ProviderErrorKind::Rejected => "rejected",
    }
}

/// A provider whose calls are counted in a [`CallLog`]. Every method of [`Provider`] is
/// delegated (a method left to its default would silently change the wrapped provider's
/// behaviour: a new trait method must be added here too; the test below checks each).
pub struct Counted {
    inner: Arc<dyn Provider>,
    log: Arc<CallLog>,
}

impl Counted {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Provider>, log: Arc<CallLog>) -> Counted {
        Counted { inner, log }
    }
}

impl Provider for Counted {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn is_dry_run(&self) -> bool {
        self.inner.is_dry_run()
    }

    fn reads_live(&self) -> bool {
        self.inner.reads_live()
    }

    fn effective_ttl(&self, ttl: Ttl) -> Ttl {
        self.inner.effective_ttl(ttl)
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async move {
            let r = self.inner.read_rrset(key, hints).await;
            self.log.count(
                self.inner.name(),
                "read",
                result_label(r.as_ref().map(|_| ())),
            );
            r
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(async move {
            let r = self.inner.apply_rrset(desired, hints).await;
            self.note_write(&desired.key(), r.as_ref().map(|_| ()));
            r
        })
    }

    fn apply_batch<'a>(
        &'a self,
        writes: &'a [Write],
    ) -> BoxFuture<'a, Vec<Result<ProviderHints, ProviderError>>> {
        // The inner provider's own batch (one request where its API allows); every write of
        // the batch is confirmed when the batch returns.
        Box::pin(async move {
            let results = self.inner.apply_batch(writes).await;
            for (w, r) in writes.iter().zip(&results) {
                self.note_write(&w.desired.key(), r.as_ref().map(|_| ()));
            }
            results
        })
    }
}

impl Counted {
    fn note_write(&self, key: &RecordKey, r: Result<(), &ProviderError>) {
        self.log.count(self.inner.name(), "write", result_label(r));
        if r.is_ok() {
            self.log.confirmed(key.clone(), Instant::now());
        }
    }
}

/// Wraps every provider of `providers`.
pub fn count_all(
    providers: BTreeMap<String, Arc<dyn Provider>>,
    log: &Arc<CallLog>,
) -> BTreeMap<String, Arc<dyn Provider>> {
    providers
        .into_iter()
        .map(|(n, p)| {
            let c: Arc<dyn Provider> = Arc::new(Counted::new(p, log.clone()));
            (n, c)
        })
        .collect()
}

/// How long a write took from `from` to its confirmation (`None` if it came first).
pub fn since(from: Instant, confirmed: Instant) -> Option<Duration> {
    confirmed.checked_duration_since(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{AddrSet, RecordType};

    struct Fails;
    impl Provider for Fails {
        fn name(&self) -> &str {
            "p"
        }
        fn is_dry_run(&self) -> bool {
            true
        }
        fn reads_live(&self) -> bool {
            false
        }
        fn effective_ttl(&self, ttl: Ttl) -> Ttl {
            Ttl(ttl.0.max(600))
        }
        fn read_rrset<'a>(
            &'a self,
            _: &'a RecordKey,
            _: &'a ProviderHints,
        ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
            Box::pin(async { Err(ProviderError::new(ProviderErrorKind::Unreachable, "x")) })
        }
        fn apply_rrset<'a>(
            &'a self,
            d: &'a RrSet,
            _: &'a ProviderHints,
        ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
            Box::pin(async move {
                if d.name.as_str().starts_with("bad") {
                    Err(ProviderError::new(ProviderErrorKind::Forbidden, "x"))
                } else {
                    Ok(ProviderHints::default())
                }
            })
        }
    }

    fn write(name: &str) -> Write {
        Write {
            desired: RrSet {
                name: name.parse().unwrap(),
                rtype: RecordType::Aaaa,
                ttl: Ttl(60),
                addrs: AddrSet::new(),
            },
            hints: ProviderHints::default(),
        }
    }

    #[test]
    fn every_provider_method_is_delegated() {
        let p = Counted::new(Arc::new(Fails), Arc::default());
        assert_eq!(p.name(), "p");
        assert!(p.is_dry_run());
        assert!(!p.reads_live());
        assert_eq!(p.effective_ttl(Ttl(60)), Ttl(600));
    }

    #[tokio::test]
    async fn counts_reads_and_writes_by_result_and_notes_confirmations() {
        let log = Arc::new(CallLog::default());
        let p = Counted::new(Arc::new(Fails), log.clone());
        let k = write("good.example.test").desired.key();
        assert!(p.read_rrset(&k, &ProviderHints::default()).await.is_err());
        let r = p
            .apply_batch(&[write("good.example.test"), write("bad.example.test")])
            .await;
        assert_eq!(r.len(), 2);
        let d = log.drain();
        let calls: Vec<String> = d
            .calls
            .iter()
            .map(|((p, a, r), n)| format!("{p} {a} {r} {n}"))
            .collect();
        assert_eq!(
            calls,
            [
                "p read unreachable 1",
                "p write forbidden 1",
                "p write ok 1"
            ]
        );
        assert_eq!(
            d.confirmed
                .keys()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["good.example.test AAAA"]
        );
        assert_eq!(log.drain(), Drained::default(), "drained");
    }
}
