//! The one integration-test binary.

// Tests may panic on the unexpected; the unwrap policy applies to library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dnspod;
mod harness;
