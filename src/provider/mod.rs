//! Publishing: the [`Provider`] trait, [`ProviderError`], and the registry of provider kinds.
//!
//! Layout: this file (the trait), `error.rs` (error kinds, scope, retry policy), `registry.rs`
//! (what a kind declares) and the `kinds!` table below; `kit/` holds the machinery adapters
//! share (HTTP/JSON error mapping, row reconciliation, zone look-up), `sign/` the pure request
//! signers; every other file here is one provider kind.
//!
//! Providers never read config files, environment variables, the clock (other than the
//! [`Clock`] handed in) or the state file.

pub mod error;
pub mod kit;
pub mod registry;
pub mod sign;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::http::{Backoff, HttpClient, HttpSettings};
use crate::record::{AddrSet, RecordKey, RrSet, Ttl};

pub use error::{
    clock_skew_hint, human_duration, ProviderError, ProviderErrorKind, RetryPolicy, Scope,
};
pub use registry::{Configured, Kind, ProviderSettings};

/// Declares the provider kinds: one module per kind, [`KINDS`] in the order `ddnsd init` shows
/// them, and [`LEFT_OUT`]. Adding a kind is one line here plus its file. A kind that needs a
/// cargo feature carries `#[cfg(feature = "…")]`; its module name must be its config spelling
/// (tested), because that is all a build without the feature knows of it.
macro_rules! kinds {
    ($($(#[cfg(feature = $feature:literal)])? $module:ident),* $(,)?) => {
        $($(#[cfg(feature = $feature)])? pub mod $module;)*
        /// Every provider kind in this build.
        pub static KINDS: &[&Kind] = &[$($(#[cfg(feature = $feature)])? &$module::KIND),*];
        /// The kinds this build leaves out: (config spelling, the cargo feature that has it).
        pub static LEFT_OUT: &[(&str, &str)] = &[
            $($(#[cfg(not(feature = $feature))] (stringify!($module), $feature),)?)*
        ];
        /// (module, config spelling) of each feature-gated kind in this build: they must agree,
        /// because [`LEFT_OUT`] knows a left-out kind only by its module name.
        #[cfg(test)]
        static GATED: &[(&str, &str)] = &[
            $($(#[cfg(feature = $feature)] (stringify!($module), $module::KIND.name),)?)*
        ];
    };
}

kinds! {
    rfc2136,
    #[cfg(feature = "http")] tencentcloud,
    #[cfg(feature = "http")] dnspod,
    #[cfg(feature = "http")] powerdns,
    #[cfg(feature = "http")] alidns,
    #[cfg(feature = "http")] huaweicloud,
    #[cfg(feature = "http")] cloudflare,
    #[cfg(feature = "http")] route53,
    #[cfg(feature = "http")] dyndns2,
    #[cfg(feature = "http")] webhook,
    #[cfg(feature = "http")] gcloud,
    #[cfg(feature = "http")] azure,
    #[cfg(feature = "http")] baiducloud,
    #[cfg(feature = "http")] volcengine,
    #[cfg(feature = "http")] godaddy,
    #[cfg(feature = "http")] gandi,
    #[cfg(feature = "http")] hetzner,
    #[cfg(feature = "http")] digitalocean,
    #[cfg(feature = "http")] dynv6,
    #[cfg(feature = "http")] duckdns,
    #[cfg(feature = "http")] desec,
    #[cfg(feature = "http")] namecheap,
    #[cfg(feature = "http")] porkbun,
    dry_run,
}

/// Provider-specific facts kept in the state file between runs (zone ids, record ids), so a
/// later run can skip look-ups. Never holds a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderHints(pub BTreeMap<String, String>);

/// What a provider reports of a live RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRrSet {
    /// The live addresses (empty when the name has no record of this type).
    pub addrs: AddrSet,
    /// The live TTL, if any record exists.
    pub ttl: Option<Ttl>,
    /// Fresh hints learned while reading.
    pub hints: ProviderHints,
}

/// One RRset to write, with what was remembered of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// The desired RRset (an empty address set withdraws it).
    pub desired: RrSet,
    /// The hints remembered from the last write of this (name, type).
    pub hints: ProviderHints,
}

/// A DNS hosting service (or server) that ddnsd publishes to.
pub trait Provider: Send + Sync {
    /// The provider's name from the config.
    fn name(&self) -> &str;

    /// True for the provider that only reports what it would do.
    fn is_dry_run(&self) -> bool {
        false
    }

    /// False for write-only APIs (dyndns2, webhooks): nothing can be read back, so verify
    /// passes and unconfirmed writes skip the read, and the record is written again only when
    /// its value changes (or a write may not have happened).
    fn reads_live(&self) -> bool {
        true
    }

    /// The TTL the provider really publishes when asked for `ttl` (a plan's minimum raises
    /// it). Plans and verifies compare against this, so a raised TTL is not "drift".
    fn effective_ttl(&self, ttl: Ttl) -> Ttl {
        ttl
    }

    /// Reads the live RRset of (name, type).
    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>>;

    /// Makes the live RRset of (name, type) equal `desired`, touching nothing else; returns the
    /// hints to remember. An empty `desired.addrs` withdraws the RRset.
    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>>;

    /// Writes several RRsets, returning one result per write in order. A provider whose API
    /// can change many records in one request overrides this; the default writes them one by
    /// one and stops after an error about the whole provider ([`Scope::Provider`]): the
    /// results then end early, and the caller reports every write left out.
    fn apply_batch<'a>(
        &'a self,
        writes: &'a [Write],
    ) -> BoxFuture<'a, Vec<Result<ProviderHints, ProviderError>>> {
        Box::pin(apply_each(self, writes))
    }
}

/// Writes `writes` one by one with [`Provider::apply_rrset`], stopping after an error about
/// the whole provider: the default [`Provider::apply_batch`], also for adapters whose batch
/// form is switched off.
pub async fn apply_each<P: Provider + ?Sized>(
    provider: &P,
    writes: &[Write],
) -> Vec<Result<ProviderHints, ProviderError>> {
    let mut out = Vec::with_capacity(writes.len());
    for w in writes {
        let r = provider.apply_rrset(&w.desired, &w.hints).await;
        let stop = matches!(&r, Err(e) if e.scope() == Scope::Provider);
        out.push(r);
        if stop {
            break;
        }
    }
    out
}

/// What providers are handed from outside.
#[derive(Clone)]
pub struct ProviderDeps {
    /// The clock used for signatures and skew measurement.
    pub clock: Arc<dyn Clock>,
    /// The HTTP client shared by every HTTP provider.
    pub http: HttpClient,
    /// How HTTP providers retry transient failures and rate limits within one call.
    pub backoff: Backoff,
    /// Time allowed for one HTTP request (connect included).
    pub timeout: Duration,
}

impl ProviderDeps {
    /// Production dependencies: `clock`, a client with [`HttpSettings::default`] (built on
    /// first use, so a config without HTTP providers never sets up TLS), the default
    /// [`Backoff`] and a 20 s request timeout.
    pub fn new(clock: Arc<dyn Clock>) -> ProviderDeps {
        let settings = HttpSettings::default();
        ProviderDeps {
            clock,
            http: HttpClient::new(&settings),
            backoff: Backoff::default(),
            timeout: settings.total_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gated_kinds_are_spelled_as_their_modules() {
        for (module, name) in GATED {
            assert_eq!(module, name);
        }
        // Every kind but rfc2136 and dry-run speaks HTTP; with `http` on, none is left out.
        #[cfg(feature = "http")]
        assert_eq!((GATED.len(), LEFT_OUT.len()), (KINDS.len() - 2, 0));
        #[cfg(not(feature = "http"))]
        assert!(LEFT_OUT.iter().all(|(_, feature)| *feature == "http"));
    }
}
