//! `kind = "dnspod"`: the legacy DNSPod token API at dnsapi.cn (form-encoded, JSON replies).

use crate::record::Fqdn;
use crate::secret::Secret;

/// Settings of a legacy DNSPod token provider.
#[derive(Clone, Debug)]
pub struct DnspodLegacySettings {
    /// Token ID (the number before the comma in "ID,Token"; an identifier).
    pub token_id: String,
    /// Token.
    pub token: Secret<String>,
    /// The zone (domain); `None` = found with Domain.List.
    pub zone: Option<Fqdn>,
    /// The record line; `None` = the default line ("默认").
    pub record_line: Option<String>,
    /// API endpoint, default `https://dnsapi.cn`.
    pub endpoint: String,
}
