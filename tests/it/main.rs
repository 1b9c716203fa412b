//! The one integration-test binary: real DNS servers, network namespaces and cloud API
//! emulators, all on loopback or inside namespaces the tests create.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

mod alidns;
mod cli;
mod cloudflare;
mod conformance;
mod daemon;
mod daemon_bind;
mod dnspod;
mod dyndns2;
mod harness;
mod huaweicloud;
mod netlink;
mod powerdns;
mod rfc2136;
mod route53;
mod sources;
mod status;
mod webhook;
