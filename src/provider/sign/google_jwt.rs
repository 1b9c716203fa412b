//! The OAuth 2.0 JWT-bearer assertion of a Google service account (RFC 7523, RS256), as a
//! pure function over a parsed key.
//!
//! Owns reading the key file's PKCS#8 PEM private key into a ring [`RsaKeyPair`], the JWT
//! header and claims exactly as `google-auth` writes them (Python `json.dumps` spacing, key
//! order, `ensure_ascii` escapes, unpadded base64url) and the RSASSA-PKCS1-v1_5 SHA-256
//! signature. RSA PKCS#1 v1.5 is deterministic, so the assertion is a function of the key,
//! the claims and the time: it is pinned byte for byte against
//! `google.oauth2.service_account.Credentials._make_authorization_grant_assertion` in
//! `tests/it/gcloud.rs`. Reads no clock and no file; sends nothing. Reference:
//! `shared/providers/hyperscalers.md` §1.1.

use std::fmt::{self, Write as _};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

/// What every assertion is addressed to, whatever `token_uri` the request is sent to
/// (`google-auth`'s `_GOOGLE_OAUTH2_TOKEN_ENDPOINT`).
pub const AUDIENCE: &str = "https://oauth2.googleapis.com/token";
/// The scope ddnsd asks for: read and write Cloud DNS.
pub const DNS_SCOPE: &str = "https://www.googleapis.com/auth/ndev.clouddns.readwrite";
/// The assertion's lifetime (`google-auth`'s `_DEFAULT_TOKEN_LIFETIME_SECS`; Google accepts at
/// most one hour).
pub const LIFETIME_SECS: u64 = 3600;

/// The claims of one assertion.
#[derive(Clone, Copy, Debug)]
pub struct Claims<'a> {
    /// The service account's `client_email` (`iss`).
    pub issuer: &'a str,
    /// The key file's `private_key_id` (the header's `kid`), when it has one.
    pub key_id: Option<&'a str>,
    /// `aud`: [`AUDIENCE`].
    pub audience: &'a str,
    /// Space-separated scopes.
    pub scope: &'a str,
    /// `iat`, Unix seconds; `exp` = `iat` + [`LIFETIME_SECS`].
    pub issued_at: u64,
}

/// Why a key cannot sign.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No `-----BEGIN PRIVATE KEY-----` block.
    #[error("private_key is not a PEM \"PRIVATE KEY\" block")]
    NotPem,
    /// The block's base64 does not decode.
    #[error("private_key's PEM body is not base64")]
    BadBase64,
    /// ring refused the DER (not RSA, not PKCS#8, or a size outside 2048–8192 bits).
    #[error("private_key is not an RSA PKCS#8 key of 2048 to 8192 bits ({0})")]
    Rejected(String),
    /// ring could not sign (its random source, used to blind the operation, failed).
    #[error("signing the token request failed (the system's random source did not answer)")]
    SignFailed,
}

/// A service account's private key, ready to sign. Its `Debug` shows no key material.
pub struct SigningKey(RsaKeyPair);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Parses the `private_key` field of a key file: a PEM `PRIVATE KEY` (PKCS#8) block.
    pub fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
        const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
        const END: &str = "-----END PRIVATE KEY-----";
        let start = pem.find(BEGIN).ok_or(KeyError::NotPem)? + BEGIN.len();
        let stop = pem[start..].find(END).ok_or(KeyError::NotPem)? + start;
        let body: String = pem[start..stop]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD.decode(body).map_err(|_| KeyError::BadBase64)?;
        RsaKeyPair::from_pkcs8(&der)
            .map(SigningKey)
            .map_err(|e| KeyError::Rejected(e.to_string()))
    }

    /// The public key as DER `RSAPublicKey` (for tests and emulators that verify).
    pub fn public_key_der(&self) -> Vec<u8> {
        use ring::signature::KeyPair as _;
        self.0.public_key().as_ref().to_vec()
    }
}

/// The signed assertion `b64(header).b64(claims).b64(signature)`.
pub fn assertion(key: &SigningKey, claims: &Claims<'_>) -> Result<String, KeyError> {
    let mut header = String::from("{\"typ\": \"JWT\", \"alg\": \"RS256\"");
    if let Some(kid) = claims.key_id {
        let _ = write!(header, ", \"kid\": {}", py_json_string(kid));
    }
    header.push('}');
    let body = format!(
        "{{\"iat\": {}, \"exp\": {}, \"iss\": {}, \"aud\": {}, \"scope\": {}}}",
        claims.issued_at,
        claims.issued_at + LIFETIME_SECS,
        py_json_string(claims.issuer),
        py_json_string(claims.audience),
        py_json_string(claims.scope)
    );
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(body.as_bytes())
    );
    let mut signature = vec![0u8; key.0.public().modulus_len()];
    // The random source only blinds the RSA operation; PKCS#1 v1.5 output does not depend
    // on it. The buffer is the modulus length, so a failure is the random source's.
    key.0
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| KeyError::SignFailed)?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`: every non-ASCII character
/// as `\uXXXX`, astral ones as surrogate pairs).
pub fn py_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hyperscalers.md` §1.1: the signing input `google-auth` 2.63.0 produced for this key id,
    /// issuer, scope and 2023-11-14T22:13:20Z (the signature itself depends on the key; the
    /// whole JWT is compared with `google-auth` in `tests/it/gcloud.rs`).
    #[test]
    fn published_signing_input() {
        let pem = include_str!("../../../tests/fixtures/gcloud/test-key.pem");
        let key = SigningKey::from_pem(pem).unwrap();
        let jwt = assertion(
            &key,
            &Claims {
                issuer: "ddnsd@my-project.iam.gserviceaccount.com",
                key_id: Some("0123456789abcdef0123456789abcdef01234567"),
                audience: AUDIENCE,
                scope: DNS_SCOPE,
                issued_at: 1_700_000_000,
            },
        )
        .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "eyJ0eXAiOiAiSldUIiwgImFsZyI6ICJSUzI1NiIsICJraWQiOiAiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2NyJ9");
        assert_eq!(parts[1], "eyJpYXQiOiAxNzAwMDAwMDAwLCAiZXhwIjogMTcwMDAwMzYwMCwgImlzcyI6ICJkZG5zZEBteS1wcm9qZWN0LmlhbS5nc2VydmljZWFjY291bnQuY29tIiwgImF1ZCI6ICJodHRwczovL29hdXRoMi5nb29nbGVhcGlzLmNvbS90b2tlbiIsICJzY29wZSI6ICJodHRwczovL3d3dy5nb29nbGVhcGlzLmNvbS9hdXRoL25kZXYuY2xvdWRkbnMucmVhZHdyaXRlIn0");
        // A 2048-bit signature is 256 bytes: 342 base64url characters.
        assert_eq!(parts[2].len(), 342);
        // Deterministic: the same input signs to the same bytes.
        assert_eq!(
            jwt,
            assertion(
                &key,
                &Claims {
                    issuer: "ddnsd@my-project.iam.gserviceaccount.com",
                    key_id: Some("0123456789abcdef0123456789abcdef01234567"),
                    audience: AUDIENCE,
                    scope: DNS_SCOPE,
                    issued_at: 1_700_000_000,
                },
            )
            .unwrap()
        );
        // It verifies under the public key.
        let signed = &jwt[..jwt.rfind('.').unwrap()];
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key.public_key_der(),
        )
        .verify(signed.as_bytes(), &sig)
        .unwrap();
    }

    #[test]
    fn keys_that_cannot_sign() {
        assert_eq!(SigningKey::from_pem("nope").unwrap_err(), KeyError::NotPem);
        assert_eq!(
            SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----")
                .unwrap_err(),
            KeyError::BadBase64
        );
        assert!(matches!(
            SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
            Err(KeyError::Rejected(_))
        ));
        assert_eq!(
            format!(
                "{:?}",
                SigningKey::from_pem(include_str!("../../../tests/fixtures/gcloud/test-key.pem"))
                    .unwrap()
            ),
            "SigningKey(***)"
        );
    }

    #[test]
    fn python_json_strings() {
        assert_eq!(py_json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            py_json_string("é😀\u{1}"),
            "\"\\u00e9\\ud83d\\ude00\\u0001\""
        );
        assert_eq!(py_json_string("\u{7f}"), "\"\\u007f\"");
    }
}
