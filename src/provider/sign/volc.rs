//! HMAC-SHA256 "V4", the request signature of Volcengine's OpenAPI (`open.volcengineapi.com`),
//! as a pure function.
//!
//! Owns the canonical request (AWS-SigV4 shaped: method, path, sorted query, signed headers
//! with a blank line, their names, the payload hash), the credential scope
//! `YYYYMMDD/REGION/SERVICE/request`, the derived key (SK → date → region → service →
//! "request"), the signature, the `Authorization` value and the `X-Date` /
//! `X-Content-Sha256` headers it covers. Takes the request, the credentials and the time as
//! arguments; never sends anything, never reads a clock. Procedure and the published vector:
//! Volcengine's signature documentation (docs 6369/67269) and
//! `shared/providers/china-clouds.md` §3.1; equal to the `volcengine` PyPI package's
//! `SignerV4` (cross-checked in `tests/it/volcengine.rs`).

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::acs3::percent_encode;
use super::huawei::sdk_date;
use super::prim::{hex, hmac_sha256};

/// The algorithm name.
pub const ALGORITHM: &str = "HMAC-SHA256";

/// The parts of an HTTP request that the signature covers (apart from the two headers the
/// signer adds).
#[derive(Clone, Copy, Debug)]
pub struct VolcRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The path (`/`).
    pub path: &'a str,
    /// Query parameters, not encoded (`Action`, `Version`, …).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign as (name, value), any case: `host`, and `content-type` with a body.
    /// Must not contain `x-date` or `x-content-sha256`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes sent (empty for none).
    pub payload: &'a [u8],
}

/// An AK/SK pair. The secret is borrowed only for the duration of the signing call.
#[derive(Clone, Copy)]
pub struct VolcCredentials<'a> {
    /// The Access Key ID (an identifier).
    pub access_key_id: &'a str,
    /// The Secret Access Key, used as is (not base64-decoded).
    pub secret_access_key: &'a str,
}

/// Where the signature is valid: the region and the service name of the credential scope.
#[derive(Clone, Copy, Debug)]
pub struct VolcScope<'a> {
    /// `cn-north-1` for DNS.
    pub region: &'a str,
    /// `DNS`.
    pub service: &'a str,
}

/// The signature, the headers to send, and the intermediate values (none is secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolcSignature {
    /// Every signed header as sent: lower-case name, value, sorted by name (the caller's plus
    /// `x-content-sha256` and `x-date`).
    pub headers: Vec<(String, String)>,
    /// The canonical query string; also the query to put in the URL.
    pub canonical_query: String,
    /// The canonical request.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The lowercase hex signature.
    pub signature: String,
    /// The value of the `Authorization` header.
    pub authorization: String,
}

/// Signs `req` at `unix_secs` (sent as `X-Date`).
pub fn sign(
    req: &VolcRequest<'_>,
    creds: VolcCredentials<'_>,
    scope: VolcScope<'_>,
    unix_secs: u64,
) -> VolcSignature {
    let x_date = sdk_date(unix_secs);
    let day = &x_date[..8];
    let payload_hash = hex(&Sha256::digest(req.payload));
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| {
            let name = n.trim().to_ascii_lowercase();
            let value = if name == "host" {
                // The SDK drops a default port from the signed host.
                v.strip_suffix(":80")
                    .or_else(|| v.strip_suffix(":443"))
                    .unwrap_or(v)
            } else {
                v
            };
            (name, value.to_owned())
        })
        .collect();
    headers.push(("x-content-sha256".into(), payload_hash.clone()));
    headers.push(("x-date".into(), x_date.clone()));
    headers.sort();
    let mut canonical_headers = String::new();
    for (n, v) in &headers {
        let _ = writeln!(canonical_headers, "{n}:{v}");
    }
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_query = canonical_query(req.query);
    let path = if req.path.is_empty() { "/" } else { req.path };
    let canonical_request = format!(
        "{}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        req.method
    );
    let credential_scope = format!("{day}/{}/{}/request", scope.region, scope.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{x_date}\n{credential_scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac_sha256(creds.secret_access_key.as_bytes(), day.as_bytes());
    let k_region = hmac_sha256(&k_date, scope.region.as_bytes());
    let k_service = hmac_sha256(&k_region, scope.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"request");
    let signature = hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    VolcSignature {
        headers,
        canonical_query,
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// `enc(k)=enc(v)` sorted by the (unencoded) name, values of one name in the order given,
/// joined with `&` (the SDK's `norm_query`: RFC 3986, `-_.~` kept, a space is `%20`).
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = pairs.iter().collect();
    // A stable sort by name keeps repeated names in order, as the SDK's lists are.
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Volcengine's published example (signature docs 6369/67269, GET QueryBalanceAcct on
    /// billing, signed `host;x-date`): hash(CR) `43171c16…`, signature `1eda9e7e…`. The
    /// example signs no `x-content-sha256`, so it is checked through the same steps with
    /// that header left out.
    #[test]
    fn published_vector() {
        let sk = "WkRZeE1EQmxPVGhsWWpWak5HVmtNbUUxTXpZeU9UVXlOMlE1TmpZeVlqTQ==";
        let x_date = "20250329T180937Z";
        let payload_hash = hex(&Sha256::digest(b""));
        let cr = format!(
            "GET\n/\n{}\nhost:billing.volcengineapi.com\nx-date:{x_date}\n\nhost;x-date\n{payload_hash}",
            canonical_query(&[("Action", "QueryBalanceAcct"), ("Version", "2022-01-01")])
        );
        let cr_hash = hex(&Sha256::digest(cr.as_bytes()));
        assert_eq!(
            cr_hash,
            "43171c1658c64b5db55c58d54988a4598d2d09a5613136beaa5eef40eae6e2c1"
        );
        let sts = format!("HMAC-SHA256\n{x_date}\n20250329/cn-beijing/billing/request\n{cr_hash}");
        let k = hmac_sha256(sk.as_bytes(), b"20250329");
        let k = hmac_sha256(&k, b"cn-beijing");
        let k = hmac_sha256(&k, b"billing");
        let k = hmac_sha256(&k, b"request");
        assert_eq!(
            hex(&hmac_sha256(&k, sts.as_bytes())),
            "1eda9e7e6b1728151a8e8791fdaf67cfbd28bd5c80d0fce2eb208746cf483105"
        );
    }

    /// `china-clouds.md` §3.1: a CreateRecord POST, equal to `volcengine` 1.0.229 `SignerV4`.
    #[test]
    fn dns_post_vector() {
        let body = br#"{"ZID":12345,"Host":"home","Type":"AAAA","Value":"2001:db8::1","TTL":600,"Line":"default"}"#;
        let s = sign(
            &VolcRequest {
                method: "POST",
                path: "/",
                query: &[("Action", "CreateRecord"), ("Version", "2018-08-01")],
                headers: &[
                    ("Host", "open.volcengineapi.com"),
                    ("Content-Type", "application/json"),
                ],
                payload: body,
            },
            VolcCredentials {
                access_key_id: "AKEXAMPLE",
                secret_access_key: "SKEXAMPLE",
            },
            VolcScope {
                region: "cn-north-1",
                service: "DNS",
            },
            1_700_000_000,
        );
        assert_eq!(
            s.headers[2],
            (
                "x-content-sha256".to_owned(),
                "6fde7ff90b9e3cbd120c7216297747df384b7d0808d91d34b33c82662f3ad1ad".to_owned()
            )
        );
        assert_eq!(
            hex(&Sha256::digest(s.canonical_request.as_bytes())),
            "533e78eccda8f1b233bac90f550af2fc0e6b4bb3abdfe731f2170c104d5b01fe"
        );
        assert_eq!(
            s.authorization,
            "HMAC-SHA256 Credential=AKEXAMPLE/20231114/cn-north-1/DNS/request, SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=673de8a1da6ab438d7e78b6c40890aa7cac30ce4c6facb0c501b9db0f91fd8cf"
        );
    }

    #[test]
    fn query_and_host_rules() {
        assert_eq!(
            canonical_query(&[("b", "x y"), ("a", "2"), ("a", "1"), ("c", "*/~")]),
            "a=2&a=1&b=x%20y&c=%2A%2F~"
        );
        let s = sign(
            &VolcRequest {
                method: "GET",
                path: "",
                query: &[],
                headers: &[("host", "open.volcengineapi.com:443")],
                payload: b"",
            },
            VolcCredentials {
                access_key_id: "A",
                secret_access_key: "S",
            },
            VolcScope {
                region: "cn-north-1",
                service: "DNS",
            },
            0,
        );
        assert!(s
            .canonical_request
            .starts_with("GET\n/\n\nhost:open.volcengineapi.com\n"));
    }
}
