//! The `[providers.NAME]` table of `kind = "huaweicloud"`: the raw TOML shape, its
//! validation (keys, zone, endpoint) and the settings that build a provider.

use std::sync::Arc;

use serde::Deserialize;

use super::HuaweiCloud;
use crate::fields::{self, Fields, SecretFields, Text};
use crate::provider::{Configured, Provider, ProviderDeps};
use crate::record::Fqdn;
use crate::secret::Secret;

/// Settings of a Huawei Cloud DNS provider.
#[derive(Clone, Debug)]
pub struct HuaweiCloudSettings {
    /// Access key (AK, an identifier sent with every request).
    pub access_key: String,
    /// Secret key (SK).
    pub secret_key: Secret<String>,
    /// The region (`cn-north-4`); picks the default endpoint.
    pub region: String,
    /// The zone; `None` = found among the account's public zones.
    pub zone: Option<Fqdn>,
    /// API endpoint, default `https://dns.REGION.myhuaweicloud.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "huaweicloud"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    access_key: Option<Text>,
    access_key_file: Option<Text>,
    access_key_env: Option<Text>,
    secret_key: Option<Text>,
    secret_key_file: Option<Text>,
    secret_key_env: Option<Text>,
    region: Text,
    zone: Option<Text>,
    endpoint: Option<Text>,
}

pub(super) fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let access_key = f.secret(SecretFields {
        name: "access_key",
        inline: &r.access_key,
        file: &r.access_key_file,
        env: &r.access_key_env,
    });
    let secret_key = f.secret(SecretFields {
        name: "secret_key",
        inline: &r.secret_key,
        file: &r.secret_key_file,
        env: &r.secret_key_env,
    });
    let region = r.region.get_ref().trim();
    let region_ok = !region.is_empty()
        && region.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !region_ok {
        f.problem(
            r.region.span(),
            format!("region {:?} is not a region name", r.region.get_ref()),
            Some("write the region of your Huawei Cloud console, e.g. \"cn-north-4\" or \"ap-southeast-1\"".to_owned()),
        );
    }
    let zone = fields::zone(f, &r.zone);
    let endpoint = fields::endpoint(
        f,
        &r.endpoint,
        &format!("https://dns.{region}.myhuaweicloud.com"),
    );
    if !region_ok {
        return None;
    }
    Some(Arc::new(HuaweiCloudSettings {
        // The AK is an identifier (it travels in every Authorization header); only the SK is
        // secret.
        access_key: access_key?.expose().clone(),
        secret_key: secret_key?,
        region: region.to_owned(),
        zone: zone?,
        endpoint: endpoint?,
    }))
}

impl Configured for HuaweiCloudSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(HuaweiCloud::new(name.to_owned(), self.clone(), deps))
    }
}
