//! The one integration-test binary: real servers on loopback, driven in-process or through
//! the built `ddnsd` binary.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;
mod rfc2136;
