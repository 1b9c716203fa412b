//! The `[providers.NAME]` table of `kind = "dynv6"`: the raw TOML shape, its validation
//! (mode, prefix length, token, zone, endpoint) and the settings that build a provider.

use std::sync::Arc;

use serde::Deserialize;

use super::{Dynv6, DEFAULT_ENDPOINT};
use crate::fields::{self, Fields, SecretFields, Text};
use crate::provider::{Configured, Provider, ProviderDeps};
use crate::record::Fqdn;
use crate::secret::Secret;

/// How a dynv6 provider publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each name's addresses through the REST API.
    Records,
    /// Only the zone's IPv6 prefix (and IPv4 address) through the update API.
    Prefix,
}

/// Settings of a dynv6 provider.
#[derive(Clone, Debug)]
pub struct Dynv6Settings {
    /// The HTTP token.
    pub token: Secret<String>,
    /// The zone; `None` = the token's zone that contains the name (records mode) or the
    /// record's own name (prefix mode).
    pub zone: Option<Fqdn>,
    /// How to publish.
    pub mode: Mode,
    /// The published prefix's length (prefix mode).
    pub prefix_length: u8,
    /// Base URL, default `https://dynv6.com`.
    pub endpoint: String,
}

/// `[providers.NAME]` with `kind = "dynv6"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[allow(dead_code)]
    kind: Text,
    token: Option<Text>,
    token_file: Option<Text>,
    token_env: Option<Text>,
    zone: Option<Text>,
    mode: Option<Text>,
    prefix_length: Option<toml::Spanned<i64>>,
    endpoint: Option<Text>,
}

pub(super) fn configure(f: &mut dyn Fields) -> Option<Arc<dyn Configured>> {
    let r: Raw = fields::take(f)?;
    let token = f.secret(SecretFields {
        name: "token",
        inline: &r.token,
        file: &r.token_file,
        env: &r.token_env,
    });
    let zone = fields::zone(f, &r.zone);
    let mode = match r.mode.as_ref().map(|t| (t, t.get_ref().as_str())) {
        None | Some((_, "records")) => Some(Mode::Records),
        Some((_, "prefix")) => Some(Mode::Prefix),
        Some((t, other)) => {
            f.problem(
                t.span(),
                format!("mode {other:?} is not \"records\" or \"prefix\""),
                Some("records publishes each name's addresses; prefix publishes only the zone's IPv6 prefix".into()),
            );
            None
        }
    };
    let prefix_length = match &r.prefix_length {
        None => Some(64),
        Some(t) => match u8::try_from(*t.get_ref()) {
            Ok(n) if (1..=128).contains(&n) => {
                if mode != Some(Mode::Prefix) {
                    f.problem(
                        t.span(),
                        "prefix_length is used only with mode = \"prefix\"".into(),
                        Some("remove it, or set mode = \"prefix\"".into()),
                    );
                }
                Some(n)
            }
            _ => {
                f.problem(
                    t.span(),
                    format!("prefix_length {} is not 1 to 128", t.get_ref()),
                    Some(
                        "use the length of the prefix your ISP delegates, usually 64 or 56".into(),
                    ),
                );
                None
            }
        },
    };
    let endpoint = fields::endpoint(f, &r.endpoint, DEFAULT_ENDPOINT);
    Some(Arc::new(Dynv6Settings {
        token: token?,
        zone: zone?,
        mode: mode?,
        prefix_length: prefix_length?,
        endpoint: endpoint?,
    }))
}

impl Configured for Dynv6Settings {
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        Arc::new(Dynv6::new(name.to_owned(), self.clone(), deps))
    }
}
