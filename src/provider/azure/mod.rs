//! `kind = "azure"`: Azure DNS (Azure Resource Manager, `Microsoft.Network/dnsZones`,
//! api-version 2018-05-01) with an app registration's client credentials.
//!
//! Owns the client-credentials token exchange with Microsoft Entra ID (the identity
//! platform's v2.0 token endpoint; the token is cached until shortly before it expires), the
//! wire format of the zone list and the record-set GET / PUT / DELETE, and the mapping of
//! ARM's `CloudError` codes to [`ProviderError`]s (`meaning`, the one code table). A record
//! set holds every value of one (name, type): an update is one PUT of the set as read, with
//! only its `TTL` and `AAAARecords` / `ARecords` replaced — its metadata and every other
//! property are sent back unchanged — guarded by `If-Match: <etag>` (a create by
//! `If-None-Match: *`), so a concurrent change is read again instead of overwritten.
//! Reference: `shared/providers/hyperscalers.md` §2.
//!
//! Split by job: `settings` (`[providers.NAME]` and its checks), `token` (the
//! client-credentials exchange; the cache is `kit::token`), `call` (one ARM call with
//! retries and the URLs), `records` (zones, reading and changing the record set), `codes`
//! (the error-code table).

mod call;
mod codes;
mod records;
mod settings;
#[cfg(test)]
mod tests;
mod token;

pub use settings::AzureSettings;

use settings::configure;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;

use super::kit::token::TokenCache;
use super::{Kind, LiveRrSet, Provider, ProviderDeps, ProviderError, ProviderHints};
use crate::clock::Clock;
use crate::http::{Backoff, HttpClient};
use crate::record::{Fqdn, RecordKey, RrSet};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "azure",
    about: "Azure DNS (app registration client credentials, ARM api-version 2018-05-01)",
    example: r#"[providers.azure]
kind = "azure"
tenant_id = "00000000-0000-0000-0000-000000000000"       # Microsoft Entra tenant (directory) ID
client_id = "11111111-1111-1111-1111-111111111111"       # the app registration's application (client) ID
client_secret_env = "AZURE_CLIENT_SECRET"                # or client_secret / client_secret_file
subscription_id = "22222222-2222-2222-2222-222222222222"
resource_group = "dns"                                   # the app needs "DNS Zone Contributor" on it
# zone = "example.com"                  # omit to find it among the resource group's DNS zones
# endpoint = "https://management.azure.com"
# authority = "https://login.microsoftonline.com"
"#,
    configure,
};

/// The pinned ARM api-version of `Microsoft.Network/dnsZones`.
pub const API_VERSION: &str = "2018-05-01";
/// The default management endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";
/// The default identity authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// A token is renewed this long before it expires.
const TOKEN_MARGIN_SECS: u64 = 60;
const HINT_ZONE: &str = "zone";
const AUTH_HINT: &str = "check tenant_id, client_id and client_secret (an expired client secret must be renewed); the app needs the DNS Zone Contributor role on the resource group";
const FORBIDDEN_HINT: &str = "give the app registration the DNS Zone Contributor role on the zone or its resource group (Access control (IAM) → Add role assignment)";

/// An Azure DNS provider.
pub struct Azure {
    name: String,
    settings: AzureSettings,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    backoff: Backoff,
    timeout: Duration,
    token: TokenCache,
    /// The resource group's zones, listed at most once unless a name misses.
    zones: Mutex<Option<Vec<Fqdn>>>,
}

impl Azure {
    /// A provider named `name`.
    pub fn new(name: String, settings: AzureSettings, deps: &ProviderDeps) -> Azure {
        Azure {
            name,
            settings,
            clock: deps.clock.clone(),
            http: deps.http.clone(),
            backoff: deps.backoff,
            timeout: deps.timeout,
            token: TokenCache::new(TOKEN_MARGIN_SECS),
            zones: Mutex::new(None),
        }
    }
}

impl Provider for Azure {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_rrset<'a>(
        &'a self,
        key: &'a RecordKey,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<LiveRrSet, ProviderError>> {
        Box::pin(self.read(key, hints))
    }

    fn apply_rrset<'a>(
        &'a self,
        desired: &'a RrSet,
        hints: &'a ProviderHints,
    ) -> BoxFuture<'a, Result<ProviderHints, ProviderError>> {
        Box::pin(self.apply(desired, hints))
    }
}
