//! The daemon: the only owner of time and signals. Runs a pass at start-up and then every
//! `daemon.interval` until SIGINT/SIGTERM.

use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use crate::reconcile::{run_pass, Pass, RunReport};

/// Runs passes until SIGINT or SIGTERM; `on_report` sees every pass's report.
pub async fn run(
    pass: &Pass<'_>,
    interval: Duration,
    mut on_report: impl FnMut(&RunReport),
) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        let report = run_pass(pass).await;
        on_report(&report);
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}
