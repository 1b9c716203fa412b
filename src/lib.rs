//! ddnsd keeps DNS records pointing at this machine's current addresses.
pub mod addr;
pub mod clock;
pub mod http;
pub mod plan;
pub mod provider;
pub mod reconcile;
pub mod record;
pub mod secret;
pub mod state;
