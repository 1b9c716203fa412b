//! The one integration-test binary: real DNS servers, network namespaces and cloud API
//! emulators, all on loopback or inside namespaces the tests create.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

mod alidns;
mod azure;
mod baiducloud;
mod cli;
mod cloudflare;
mod conformance;
mod daemon;
mod daemon_bind;
mod desec;
mod digitalocean;
mod dnspod;
mod duckdns;
mod dyndns2;
mod dynv6;
mod faults;
mod gandi;
mod gcloud;
mod godaddy;
mod harness;
mod hetzner;
mod huaweicloud;
mod kubernetes;
mod lan;
mod namecheap;
mod netlink;
mod openwrt;
mod packaging;
mod porkbun;
mod powerdns;
mod replies;
mod rfc2136;
mod route53;
mod sources;
mod status;
mod volcengine;
mod webhook;
