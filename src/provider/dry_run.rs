//! `kind = "dry-run"`: records what it would do and publishes nothing. The embedded default
//! uses it.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::{Configured, Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderHints};
use crate::fields::{self, Fields, Text};
use crate::record::{AddrSet, RecordKey, RrSet};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "dry-run",
    about: "shows what would be published; writes nothing",
    example: r#"[providers.preview]
kind = "dry-run"               # shows what would be published, writes nothing
"#,
    configure,
};

/// `[providers.NAME]` with `kind = "dry-run"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
}

/// The dry-run provider has no settings.
#[derive(Clone, Debug)]
pub struct DryRunSettings;

fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    fields::take::<Raw>(f)?;
    Some(Arc::new(DryRunSettings))
}

impl Configured for DryRunSettings {
    fn build(&self, name: &str, _deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(DryRun::new(name.to_owned()))
    }
}

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
