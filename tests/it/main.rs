//! The one integration-test binary.

mod daemon;
