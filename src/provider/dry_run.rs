//! `kind = "dry-run"`: records what it would do and publishes nothing. The embedded default
//! uses it.

use futures::future::BoxFuture;

use super::{LiveRrSet, Provider, ProviderError, ProviderHints};
use crate::record::{AddrSet, RecordKey, RrSet};

/// The provider that writes nothing.
#[derive(Debug)]
pub struct DryRun {
    name: String,
}

impl DryRun {
    /// A dry-run provider named `name`.
    pub fn new(name: String) -> DryRun {
        DryRun { name }
    }
}

impl Provider for DryRun {
    fn name(&self) -> &str {
        &self.name
    }

    fn is_dry_run(&self) -> bool {
        true
    }

    fn read_rrset<'a>(
        &'a self,
        _key: &'a RecordKey,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(async {
            Ok(LiveRrSet {
                addrs: AddrSet::new(),
                ttl: None,
                hints: ProviderHints::default(),
            })
        })
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        _hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        tracing::debug!(provider = %self.name, record = %desired.key(), addrs = %desired.addrs, "dry run: would publish");
        Box::pin(async { Ok(ProviderHints::default()) })
    }
}
