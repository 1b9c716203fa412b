//! Configuration of a Cloudflare provider: the `[providers.NAME]` table (`Raw`), its
//! parsing and validation (`configure`) and the settings type that builds the provider.

use std::sync::Arc;

use serde::Deserialize;

use super::Cloudflare;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::provider::{Configured, Provider, ProviderDeps};
use crate::record::Fqdn;
use crate::secret::Secret;

/// Settings of a Cloudflare provider.
#[derive(Clone, Debug)]
pub struct CloudflareSettings {
    /// The API token.
    pub api_token: Secret<String>,
    /// The zone's name; `None` = the longest parent of the record name that is a zone.
    pub zone: Option<Fqdn>,
    /// The zone's id; `None` = looked up by name.
    pub zone_id: Option<String>,
    /// The proxy status to give every record; `None` keeps each record's own (new records:
    /// that of the name's other records, else DNS only).
    pub proxied: Option<bool>,
    /// The comment to give every record; `None` keeps each record's own.
    pub comment: Option<String>,
    /// API base URL, default `https://api.cloudflare.com/client/v4`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "cloudflare"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    api_token: Option<Text>,
    api_token_file: Option<Text>,
    api_token_env: Option<Text>,
    zone: Option<Text>,
    zone_id: Option<Text>,
    proxied: Option<toml::Spanned<bool>>,
    comment: Option<Text>,
    endpoint: Option<Text>,
}

pub(super) fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let api_token = f.secret(SecretFields {
        name: "api_token",
        inline: &r.api_token,
        file: &r.api_token_file,
        env: &r.api_token_env,
    });
    let zone = fields::zone(f, &r.zone);
    let zone_id = match &r.zone_id {
        None => Some(None),
        Some(t) => {
            let id = t.get_ref().trim();
            if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Some(Some(id.to_owned()))
            } else {
                f.problem(
                    t.span(),
                    format!("zone_id {:?} is not a Cloudflare zone id", t.get_ref()),
                    Some(
                        "copy the Zone ID from the zone's overview page (32 hex digits)".to_owned(),
                    ),
                );
                None
            }
        }
    };
    let endpoint = fields::endpoint(f, &r.endpoint, super::DEFAULT_ENDPOINT);
    Some(Arc::new(CloudflareSettings {
        api_token: api_token?,
        zone: zone?,
        zone_id: zone_id?,
        proxied: r.proxied.map(toml::Spanned::into_inner),
        comment: r.comment.map(toml::Spanned::into_inner),
        endpoint: endpoint?,
    }))
}

impl Configured for CloudflareSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Cloudflare::new(name.to_owned(), self.clone(), deps))
    }
}
