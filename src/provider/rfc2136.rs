//! `kind = "rfc2136"`: DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::tsig::TsigKey;
use super::{LiveRrSet, Provider, ProviderError, ProviderErrorKind, ProviderHints};
use crate::clock::Clock;
use crate::record::{Fqdn, RecordKey, RrSet};

/// Settings of an RFC 2136 provider.
#[derive(Clone, Debug)]
pub struct Rfc2136Settings {
    /// The primary server's address.
    pub server: SocketAddr,
    /// The zone; `None` = found with an SOA query.
    pub zone: Option<Fqdn>,
    /// The TSIG key; `None` sends unsigned updates (servers that allow by address).
    pub tsig: Option<TsigKey>,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// An RFC 2136 server.
pub struct Rfc2136 {
    name: String,
    settings: Rfc2136Settings,
    clock: Arc<dyn Clock>,
}

impl Rfc2136 {
    /// A provider named `name`.
    pub fn new(name: String, settings: Rfc2136Settings, clock: Arc<dyn Clock>) -> Rfc2136 {
        Rfc2136 {
            name,
            settings,
            clock,
        }
    }
}

impl Provider for Rfc2136 {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_rrset<'a>(
        &'a self,
        _key: &'a RecordKey,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        let _ = (&self.settings, &self.clock);
        Box::pin(async {
            Err(ProviderError::new(
                ProviderErrorKind::Protocol,
                "rfc2136 is being written",
            ))
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        _desired: &'a RrSet,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(async {
            Err(ProviderError::new(
                ProviderErrorKind::Protocol,
                "rfc2136 is being written",
            ))
        })
    }
}
