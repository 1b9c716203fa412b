//! Pure request signers, one file per scheme, each tested against the worked examples of its
//! provider's documentation (`../shared/providers/`): `tsig` (RFC 8945, DNS UPDATE) and `tc3`
//! (TC3-HMAC-SHA256, Tencent Cloud). They take the time and the secret as arguments and do no
//! I/O.

pub mod acs3;
pub mod bce;
pub mod google_jwt;
pub mod huawei;
pub mod tc3;
pub mod tsig;
pub mod volc;
