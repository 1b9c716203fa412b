//! Pure request signers, one file per scheme, each tested against the worked examples of its
//! provider's documentation (`../shared/providers/`) and, in tests/it, the official SDK:
//! `tsig` (RFC 8945, DNS UPDATE), `tc3` (Tencent Cloud), `acs3` (Alibaba Cloud), `huawei`
//! (SDK-HMAC-SHA256), `sigv4` (AWS), `bce` (Baidu BCE v1), `volc` (Volcengine) and
//! `google_jwt` (RS256 service-account assertions); `prim` holds what they share. They take
//! the time and the secret as arguments and do no I/O.

#[cfg(feature = "http")]
pub mod acs3;
#[cfg(feature = "http")]
pub mod bce;
#[cfg(feature = "http")]
pub mod google_jwt;
#[cfg(feature = "http")]
pub mod huawei;
#[cfg(feature = "http")]
pub mod prim;
#[cfg(feature = "http")]
pub mod sigv4;
#[cfg(feature = "http")]
pub mod tc3;
pub mod tsig;
#[cfg(feature = "http")]
pub mod volc;
