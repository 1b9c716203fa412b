//! What the daemon tells the outside about its passes: the [`Observer`] trait, called when a
//! pass starts and when it ends. The status server, the metrics, notifications and heartbeats
//! implement it (issue 11); the daemon knows none of them. An observer must not block: it is
//! called on the loop, between passes.

use std::time::Instant;

use super::Setup;
use crate::reconcile::{Holds, RunReport};

/// A pass that just ended.
pub struct PassEnd<'a> {
    /// What it did.
    pub report: &'a RunReport,
    /// The configuration it ran with.
    pub setup: &'a Setup,
    /// Provider pauses and record holds after it.
    pub holds: &'a Holds,
    /// Why it ran (`address change`, `interval`…), comma-separated.
    pub causes: &'a str,
    /// A verify pass (live records read).
    pub verify: bool,
    /// When the first address event of the burst that started it arrived, if one did.
    pub event_at: Option<Instant>,
    /// When it started.
    pub started: Instant,
    /// When it ended.
    pub finished: Instant,
}

/// Told about every pass. Both methods default to doing nothing.
pub trait Observer {
    /// A pass is about to start.
    fn pass_started(&mut self, _causes: &str) {}
    /// A pass ended.
    fn pass_finished(&mut self, _end: &PassEnd<'_>) {}
}

/// No observer.
impl Observer for () {}

/// Several observers, told in order.
impl Observer for Vec<Box<dyn Observer>> {
    fn pass_started(&mut self, causes: &str) {
        for o in self.iter_mut() {
            o.pass_started(causes);
        }
    }

    fn pass_finished(&mut self, end: &PassEnd<'_>) {
        for o in self.iter_mut() {
            o.pass_finished(end);
        }
    }
}
