//! The `[providers.NAME]` table of `kind = "azure"`: the raw TOML shape, its checks (GUIDs,
//! resource group, zone, endpoints) and the settings that build a provider.

use std::sync::Arc;

use serde::Deserialize;

use super::{Azure, DEFAULT_AUTHORITY, DEFAULT_ENDPOINT};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::provider::{Configured, Provider, ProviderDeps};
use crate::record::Fqdn;
use crate::secret::Secret;

/// Settings of an Azure DNS provider.
#[derive(Clone, Debug)]
pub struct AzureSettings {
    /// The directory (tenant) ID.
    pub tenant_id: String,
    /// The app registration's application (client) ID.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret<String>,
    /// The subscription holding the resource group.
    pub subscription_id: String,
    /// The resource group holding the DNS zones.
    pub resource_group: String,
    /// The zone; `None` = found among the resource group's zones.
    pub zone: Option<Fqdn>,
    /// Management endpoint, default `https://management.azure.com` (also the token's
    /// resource: the scope asked for is `ENDPOINT/.default`).
    pub endpoint: String,
    /// Identity authority, default `https://login.microsoftonline.com`.
    pub authority: String,
}

/// `[providers.NAME]` with `kind = "azure"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    tenant_id: Text,
    client_id: Text,
    client_secret: Option<Text>,
    client_secret_file: Option<Text>,
    client_secret_env: Option<Text>,
    subscription_id: Text,
    resource_group: Text,
    zone: Option<Text>,
    endpoint: Option<Text>,
    authority: Option<Text>,
}

/// A GUID (`8-4-4-4-12` hex digits), as tenants, apps and subscriptions are named.
pub(super) fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(super) fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let client_secret = f.secret(SecretFields {
        name: "client_secret",
        inline: &r.client_secret,
        file: &r.client_secret_file,
        env: &r.client_secret_env,
    });
    let mut ok = true;
    for (field, value, what) in [
        ("tenant_id", &r.tenant_id, "the directory (tenant) ID"),
        (
            "client_id",
            &r.client_id,
            "the app registration's application (client) ID",
        ),
        ("subscription_id", &r.subscription_id, "the subscription ID"),
    ] {
        let v = value.get_ref().trim();
        // A tenant may also be named by one of its domains (contoso.onmicrosoft.com).
        let domain_tenant =
            field == "tenant_id" && Fqdn::parse_relaxed(v).is_ok() && v.contains('.');
        if !is_guid(v) && !domain_tenant {
            f.problem(
                value.span(),
                format!("{field} {:?} is not a GUID", value.get_ref()),
                Some(format!(
                    "write {what} as shown in the Azure portal, e.g. \"00000000-0000-0000-0000-000000000000\""
                )),
            );
            ok = false;
        }
    }
    let rg = r.resource_group.get_ref().trim();
    let rg_ok = !rg.is_empty()
        && rg.len() <= 90
        && !rg.ends_with('.')
        && rg
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'));
    if !rg_ok {
        f.problem(
            r.resource_group.span(),
            format!("resource_group {:?} is not a resource group name", r.resource_group.get_ref()),
            Some("write the name of the resource group that holds the DNS zone (letters, digits, '-', '_', '.', '(' and ')')".to_owned()),
        );
        ok = false;
    }
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    let authority = fields::endpoint(f, &r.authority, DEFAULT_AUTHORITY);
    if !ok {
        return None;
    }
    Some(Arc::new(AzureSettings {
        tenant_id: r.tenant_id.get_ref().trim().to_owned(),
        client_id: r.client_id.get_ref().trim().to_owned(),
        client_secret: client_secret?,
        subscription_id: r.subscription_id.get_ref().trim().to_owned(),
        resource_group: rg.to_owned(),
        zone: zone?,
        endpoint: endpoint?,
        authority: authority?,
    }))
}

impl Configured for AzureSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Azure::new(name.to_owned(), self.clone(), deps))
    }
}
