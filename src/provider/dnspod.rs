//! `kind = "tencentcloud"`: Tencent Cloud DNSPod API 3.0 (signed with TC3-HMAC-SHA256, see
//! `tc3.rs`).

use crate::record::Fqdn;
use crate::secret::Secret;

/// Settings of a Tencent Cloud DNSPod provider.
#[derive(Clone, Debug)]
pub struct TencentCloudSettings {
    /// SecretId (an identifier, shown in logs).
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: Secret<String>,
    /// The zone (domain); `None` = found with DescribeDomainList.
    pub zone: Option<Fqdn>,
    /// The record line; `None` = the default line ("默认").
    pub record_line: Option<String>,
    /// API endpoint, default `https://dnspod.tencentcloudapi.com`.
    pub endpoint: String,
    /// Region header, if needed.
    pub region: Option<String>,
}
