//! The one integration-test binary.

mod dnspod;
mod harness;
