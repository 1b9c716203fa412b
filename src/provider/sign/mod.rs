//! Pure request signers, one file per scheme, each tested against the worked examples of its
//! provider's documentation (`../shared/providers/`): `tsig` (RFC 8945, DNS UPDATE), `tc3`
//! (TC3-HMAC-SHA256, Tencent Cloud) and `sigv4` (AWS Signature Version 4, Route 53). They
//! take the time and the secret as arguments and do no I/O.

pub mod acs3;
pub mod huawei;
pub mod prim;
pub mod sigv4;
pub mod tc3;
pub mod tsig;
