//! One bounded queue and one worker task per target, so a slow or failing target delays
//! nothing but its own messages, and a pass never waits: [`Outbox::offer`] hands a message
//! over or drops it (with a warning) when the queue is full. The worker retries a failed
//! delivery with jittered exponential backoff, except when the target's answer means
//! retrying cannot help.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::heartbeat::Ping;
use super::message::{delivery_failed, describe, queue_full};
use super::send::DeliveryError;
use super::Notice;
use crate::http::Backoff;

/// How many messages may wait per target.
pub const CAPACITY: usize = 32;

/// How a failed delivery is retried: 3 attempts, about 2 s then 4 s apart.
pub const RETRY: Backoff = Backoff {
    attempts: 3,
    base: Duration::from_secs(2),
    max: Duration::from_secs(30),
};

/// A message for a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A notification.
    Notice(Notice),
    /// A heartbeat ping.
    Ping(Ping),
}

impl Item {
    /// How a log line names it.
    pub fn describe(&self) -> String {
        match self {
            Item::Notice(n) => describe(n),
            Item::Ping(p) => p.describe().to_owned(),
        }
    }
}

/// Something that delivers messages to one target.
pub trait Deliver: Send + Sync + 'static {
    /// How logs name the target: `notify #1 (webhook)`, `heartbeat`.
    fn label(&self) -> &str;
    /// One delivery attempt.
    fn deliver<'a>(&'a self, item: &'a Item) -> BoxFuture<'a, Result<(), DeliveryError>>;
    /// Time allowed for one attempt (a guard above the target's own timeouts).
    fn timeout(&self) -> Duration;
}

/// The sending side of a target's queue.
#[derive(Debug)]
pub struct Outbox {
    label: String,
    tx: mpsc::Sender<Item>,
}

impl Outbox {
    /// Starts the worker of `target` (inside a tokio runtime) with `capacity` places.
    pub fn start(
        target: Arc<dyn Deliver>,
        capacity: usize,
        retry: Backoff,
    ) -> (Outbox, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let label = target.label().to_owned();
        let worker = tokio::spawn(work(rx, target, retry));
        (Outbox { label, tx }, worker)
    }

    /// Queues `item` without waiting; drops it with a warning when the queue is full.
    pub fn offer(&self, item: Item) {
        match self.tx.try_send(item) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(item)) => {
                tracing::warn!(
                    "{}",
                    queue_full(&self.label, self.tx.max_capacity(), &item.describe())
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

async fn work(mut rx: mpsc::Receiver<Item>, target: Arc<dyn Deliver>, retry: Backoff) {
    while let Some(item) = rx.recv().await {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match tokio::time::timeout(target.timeout(), target.deliver(&item)).await {
                Ok(r) => r,
                Err(_) => Err(DeliveryError {
                    message: format!("no answer within {} s", target.timeout().as_secs()),
                    permanent: false,
                }),
            };
            match result {
                Ok(()) => {
                    tracing::debug!(target = target.label(), "delivered {}", item.describe());
                    break;
                }
                Err(e) if e.permanent || attempt >= retry.attempts => {
                    tracing::warn!(
                        "{}",
                        delivery_failed(target.label(), &item.describe(), attempt, &e.message)
                    );
                    break;
                }
                Err(e) => {
                    tracing::debug!(target = target.label(), error = %e.message, attempt, "delivery failed; retrying");
                    let delay = retry
                        .delay(attempt - 1, None, rand::random::<f64>())
                        .unwrap_or(retry.max);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Fails the first `fail` attempts, records every attempt's time.
    struct Flaky {
        fail: usize,
        permanent: bool,
        attempts: Mutex<Vec<tokio::time::Instant>>,
        hang: bool,
    }

    impl Deliver for Flaky {
        fn label(&self) -> &str {
            "notify #1 (webhook)"
        }
        fn timeout(&self) -> Duration {
            Duration::from_secs(10)
        }
        fn deliver<'a>(&'a self, _: &'a Item) -> BoxFuture<'a, Result<(), DeliveryError>> {
            Box::pin(async move {
                let n = {
                    let mut a = self.attempts.lock().unwrap();
                    a.push(tokio::time::Instant::now());
                    a.len()
                };
                if self.hang {
                    std::future::pending::<()>().await;
                }
                if n <= self.fail {
                    Err(DeliveryError {
                        message: "the target answered 500".into(),
                        permanent: self.permanent,
                    })
                } else {
                    Ok(())
                }
            })
        }
    }

    fn flaky(fail: usize, permanent: bool, hang: bool) -> Arc<Flaky> {
        Arc::new(Flaky {
            fail,
            permanent,
            attempts: Mutex::new(Vec::new()),
            hang,
        })
    }

    fn ping() -> Item {
        Item::Ping(Ping::Start)
    }

    #[tokio::test(start_paused = true)]
    async fn retries_with_backoff_then_delivers() {
        let t = flaky(2, false, false);
        let (out, worker) = Outbox::start(t.clone(), 4, RETRY);
        out.offer(ping());
        drop(out);
        worker.await.unwrap();
        let a = t.attempts.lock().unwrap().clone();
        assert_eq!(a.len(), 3);
        // Equal jitter: the first retry waits 1–2 s, the second 2–4 s.
        let d1 = a[1] - a[0];
        let d2 = a[2] - a[1];
        assert!(
            d1 >= Duration::from_secs(1) && d1 <= Duration::from_secs(2),
            "{d1:?}"
        );
        assert!(
            d2 >= Duration::from_secs(2) && d2 <= Duration::from_secs(4),
            "{d2:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_refusal_is_not_retried_and_attempts_are_bounded() {
        let t = flaky(9, true, false);
        let (out, worker) = Outbox::start(t.clone(), 4, RETRY);
        out.offer(ping());
        drop(out);
        worker.await.unwrap();
        assert_eq!(t.attempts.lock().unwrap().len(), 1);

        let t = flaky(9, false, false);
        let (out, worker) = Outbox::start(t.clone(), 4, RETRY);
        out.offer(ping());
        drop(out);
        worker.await.unwrap();
        assert_eq!(t.attempts.lock().unwrap().len(), 3);
    }

    /// See: issue 11. A target that never answers costs the caller nothing: offering never
    /// waits, a full queue drops, and each attempt is cut off by the timeout.
    #[tokio::test(start_paused = true)]
    async fn a_hanging_target_never_blocks_the_caller() {
        let t = flaky(0, false, true);
        let (out, worker) = Outbox::start(t.clone(), 2, RETRY);
        let before = tokio::time::Instant::now();
        for _ in 0..100 {
            out.offer(ping());
        }
        assert_eq!(tokio::time::Instant::now(), before, "offer waited");
        tokio::time::sleep(Duration::from_secs(60)).await;
        // The first item: three attempts of 10 s each plus the backoff, then the next.
        assert!(t.attempts.lock().unwrap().len() >= 4);
        drop(out);
        worker.abort();
    }
}
