//! The one integration-test binary: real DNS servers, network namespaces and cloud API
//! emulators, all on loopback or inside namespaces the tests create.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

mod cli;
mod daemon;
mod daemon_bind;
mod dnspod;
mod harness;
mod lan;
mod netlink;
mod rfc2136;
mod sources;
