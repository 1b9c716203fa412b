//! The gcloud settings: the service account's JSON key and `[providers.NAME]` (`Raw`, validation).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::fields::{self, Fields, SecretFields, Text};
use crate::provider::sign::google_jwt::SigningKey;
use crate::provider::{Configured, Provider, ProviderDeps};

use super::*;

/// A service account's key, parsed from its JSON key file.
#[derive(Clone)]
pub struct ServiceAccount {
    /// `client_email` (the JWT's issuer; an identifier).
    pub client_email: String,
    /// `private_key_id` (the JWT's `kid`), when present.
    pub private_key_id: Option<String>,
    /// `project_id`, when present.
    pub project_id: Option<String>,
    /// `token_uri`, when present.
    pub token_uri: Option<String>,
    /// The private key.
    pub key: Arc<SigningKey>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri)
            .field("key", &"***")
            .finish()
    }
}

impl ServiceAccount {
    /// Parses a key file's text; the error is a clause naming what is wrong (never quoting
    /// the file).
    pub fn from_json(text: &str) -> Result<ServiceAccount, String> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| format!("is not JSON (line {}, column {})", e.line(), e.column()))?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match field("type").as_deref() {
            Some("service_account") => {}
            Some(other) => {
                return Err(format!(
                "is a {other:?} credential, not a service account's key (type \"service_account\")"
            ))
            }
            None => return Err("has no \"type\": it is not a service account's JSON key".into()),
        }
        let client_email = field("client_email").ok_or("has no \"client_email\"".to_owned())?;
        let pem = field("private_key").ok_or("has no \"private_key\"".to_owned())?;
        let key = SigningKey::from_pem(&pem).map_err(|e| e.to_string())?;
        Ok(ServiceAccount {
            client_email,
            private_key_id: field("private_key_id").filter(|s| !s.is_empty()),
            project_id: field("project_id").filter(|s| !s.is_empty()),
            token_uri: field("token_uri").filter(|s| !s.is_empty()),
            key: Arc::new(key),
        })
    }
}

/// Settings of a Google Cloud DNS provider.
#[derive(Clone, Debug)]
pub struct GcloudSettings {
    /// The service account.
    pub account: ServiceAccount,
    /// The project holding the managed zones.
    pub project: String,
    /// The managed zone's name (or id); `None` = the public zone whose DNS name holds the
    /// record.
    pub managed_zone: Option<String>,
    /// API endpoint, default `https://dns.googleapis.com`.
    pub endpoint: String,
    /// Where the JWT is traded for a token.
    pub token_uri: String,
}

/// `[providers.NAME]` with `kind = "gcloud"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    #[allow(dead_code)]
    kind: Text,
    credentials: Option<Text>,
    credentials_file: Option<Text>,
    credentials_env: Option<Text>,
    project: Option<Text>,
    managed_zone: Option<Text>,
    endpoint: Option<Text>,
    token_uri: Option<Text>,
}

pub(super) fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let forms = SecretFields {
        name: "credentials",
        inline: &r.credentials,
        file: &r.credentials_file,
        env: &r.credentials_env,
    };
    let account = f.secret(forms).and_then(|text| {
        match ServiceAccount::from_json(text.expose()) {
            Ok(a) => Some(a),
            Err(why) => {
                let span = forms.span().unwrap_or_else(|| f.span());
                f.problem(
                    span,
                    format!("credentials: the key file {why}"),
                    Some("download a JSON key of the service account (IAM → Service accounts → Keys → Add key → JSON) and point credentials_file at it".to_owned()),
                );
                None
            }
        }
    });
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    let token_uri = match &r.token_uri {
        Some(_) => fields::endpoint(f, &r.token_uri, DEFAULT_TOKEN_URI).map(Some),
        None => Some(None),
    };
    let managed_zone = match &r.managed_zone {
        None => Some(None),
        Some(t) => {
            let v = t.get_ref().trim();
            let ok = !v.is_empty()
                && v.len() <= 63
                && v.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if ok {
                Some(Some(v.to_owned()))
            } else {
                f.problem(
                    t.span(),
                    format!("managed_zone {:?} is not a managed zone name", t.get_ref()),
                    Some("write the zone's name as Cloud DNS lists it (lower-case letters, digits and '-', e.g. \"example-com\"), not its DNS name".to_owned()),
                );
                None
            }
        }
    };
    let account = account?;
    let project = match (&r.project, &account.project_id) {
        (Some(p), _) => p.get_ref().trim().to_owned(),
        (None, Some(p)) => p.clone(),
        (None, None) => {
            f.problem(
                f.span(),
                "project is missing and the key file has no project_id".to_owned(),
                Some("add project = \"PROJECT_ID\" (the project that holds the zone)".to_owned()),
            );
            return None;
        }
    };
    let token_uri = token_uri?
        .or_else(|| account.token_uri.clone())
        .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
    Some(Arc::new(GcloudSettings {
        account,
        project,
        managed_zone: managed_zone?,
        endpoint: endpoint?,
        token_uri,
    }))
}

impl Configured for GcloudSettings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Gcloud::new(name.to_owned(), self.clone(), deps))
    }
}
