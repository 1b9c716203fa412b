//! ddnsd keeps DNS records pointing at this machine's current addresses.
//!
//! ```text
//!  triggers ──► detect ──► plan ──► apply ──► remember
//!  (start, netlink   (sources →   (records ×   (provider   (state file:
//!   event, timer,     addresses,   addresses    calls,      last published
//!   SIGHUP, --once)   with why)    vs state)    per record) per record)
//! ```
//!
//! # Layout
//! - [`config`] reads the TOML file and secrets into a checked [`config::Config`].
//! - [`addr`] detects addresses (sources) and judges them ([`addr::policy`]).
//! - [`plan`] compares desired and remembered RRsets; [`state`] remembers them.
//! - [`provider`] publishes; [`reconcile`] runs one pass; [`daemon`] owns time and signals.
//! - [`report`] renders everything the user reads; [`error`] maps errors to exit codes.
//! - `manual` (feature "manual") generates the completion scripts and man pages from [`cli`].
//! - [`status`] serves the latest pass (JSON, metrics, a page); [`notify`] tells people
//!   (notifications, heartbeats), off the publishing path.
#![deny(unsafe_code)]

pub mod addr;
pub mod backoff;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod dns;
pub mod error;
pub mod fields;
pub mod http;
pub mod limits;
pub mod logging;
#[cfg(feature = "manual")]
pub mod manual;
pub mod notify;
pub mod plan;
pub mod provider;
pub mod reconcile;
pub mod record;
pub mod report;
pub mod secret;
pub mod state;
pub mod status;
#[cfg(test)]
mod testing;
