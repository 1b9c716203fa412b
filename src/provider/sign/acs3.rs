//! ACS3-HMAC-SHA256, the request signature (V3) of Alibaba Cloud's OpenAPI, as a pure function.
//!
//! Owns the canonical request, the string to sign, the signature and the `Authorization`
//! value, and the `x-acs-date` / `x-acs-signature-nonce` / `x-acs-content-sha256` headers
//! that the signature covers. Takes the request, the credentials, the time and the nonce as
//! arguments; never sends anything, never reads a clock or a random source. Procedure and
//! the worked example: `shared/providers/alidns.md` §3 (Alibaba's "V3 request body and
//! signature mechanism" page); the encoding matches the official SDK's
//! `alibabacloud_openapi_util.get_authorization` (cross-checked in `tests/it/alidns.rs`).

use std::fmt::Write as _;

use super::prim::{hex, hex_sha256, hmac_sha256, uri_encode};
use super::tc3;

/// The algorithm name that starts the `Authorization` value and the string to sign.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The parts of an HTTP request that the signature covers (apart from the three headers the
/// signer adds itself).
#[derive(Clone, Copy, Debug)]
pub struct Acs3Request<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The path, `/` for RPC-style APIs such as Alidns.
    pub path: &'a str,
    /// Query parameters, not encoded (they are encoded and sorted here).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign as (name, value): `host`, `x-acs-action`, `x-acs-version`, and
    /// `content-type` when a body is sent. Any order and case. Must not contain the three
    /// headers the signer adds.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes sent (empty for none).
    pub payload: &'a [u8],
}

/// An AccessKey pair. The secret is borrowed only for the duration of the signing call.
#[derive(Clone, Copy)]
pub struct Acs3Credentials<'a> {
    /// The AccessKey ID (an identifier, not secret).
    pub access_key_id: &'a str,
    /// The AccessKey secret.
    pub access_key_secret: &'a str,
}

/// The signature, the headers to send, and the intermediate values (kept for tests and trace
/// logs; none is secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acs3Signature {
    /// Every signed header as sent: lower-case name, trimmed value, sorted by name (the
    /// caller's headers plus `x-acs-content-sha256`, `x-acs-date` and
    /// `x-acs-signature-nonce`).
    pub headers: Vec<(String, String)>,
    /// The canonical query string; also the query to put in the URL.
    pub canonical_query: String,
    /// Step 1: the canonical request.
    pub canonical_request: String,
    /// Step 2: the string to sign.
    pub string_to_sign: String,
    /// Step 3: the lowercase hex signature.
    pub signature: String,
    /// Step 4: the value of the `Authorization` header.
    pub authorization: String,
}

/// Signs `req` at `unix_secs` (sent as `x-acs-date`) with `nonce` (sent as
/// `x-acs-signature-nonce`; it must be unique per request, a retry included).
pub fn sign(
    req: &Acs3Request<'_>,
    creds: Acs3Credentials<'_>,
    unix_secs: u64,
    nonce: &str,
) -> Acs3Signature {
    let payload_hash = hex_sha256(req.payload);
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    headers.push(("x-acs-content-sha256".into(), payload_hash.clone()));
    headers.push(("x-acs-date".into(), timestamp(unix_secs)));
    headers.push(("x-acs-signature-nonce".into(), nonce.trim().to_owned()));
    // Sorted by name; values are not lower-cased (unlike TC3).
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

    // Step 1. The path is encoded segment by segment, `/` kept.
    let canonical_uri = if req.path.is_empty() {
        "/".to_owned()
    } else {
        req.path
            .split('/')
            .map(percent_encode)
            .collect::<Vec<_>>()
            .join("/")
    };
    let canonical_request = format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        req.method
    );

    // Step 2.
    let string_to_sign = format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()));

    // Step 3: the secret is the HMAC key as is (no derivation, no "&" suffix as in V2).
    let signature = hex(&hmac_sha256(
        creds.access_key_secret.as_bytes(),
        string_to_sign.as_bytes(),
    ));

    // Step 4: commas without spaces.
    let authorization = format!(
        "{ALGORITHM} Credential={},SignedHeaders={signed_headers},Signature={signature}",
        creds.access_key_id
    );
    Acs3Signature {
        headers,
        canonical_query,
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// `name=value` pairs, both percent-encoded, sorted by name (then value), joined with `&`.
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 percent-encoding of a query key or value (everything but unreserved characters,
/// `/` included).
pub fn percent_encode(s: &str) -> String {
    uri_encode(s, true)
}

/// `2023-10-26T10:22:32Z`: the UTC time format of `x-acs-date`.
pub fn timestamp(unix_secs: u64) -> String {
    let secs = unix_secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        tc3::utc_date(unix_secs),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// Alibaba's published V3 example (`alidns.md` §3): POST RunInstances to ECS with two
    /// query parameters and an empty body.
    #[test]
    fn official_example() {
        let req = Acs3Request {
            method: "POST",
            path: "/",
            query: &[
                ("RegionId", "cn-shanghai"),
                (
                    "ImageId",
                    "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
                ),
            ],
            // Order and case must not matter.
            headers: &[
                ("x-acs-version", "2014-05-26"),
                ("Host", "ecs.cn-shanghai.aliyuncs.com"),
                ("x-acs-action", "RunInstances"),
            ],
            payload: b"",
        };
        let creds = Acs3Credentials {
            access_key_id: "YourAccessKeyId",
            access_key_secret: "YourAccessKeySecret",
        };
        let s = sign(
            &req,
            creds,
            1_698_315_752,
            "3156853299f313e23d1673dc12e1703d",
        );
        assert_eq!(
            s.canonical_request,
            format!("POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:{EMPTY}\nx-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n{EMPTY}")
        );
        assert_eq!(
            s.string_to_sign,
            "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            s.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(
            s.authorization,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(
            s.headers
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            [
                "host",
                "x-acs-action",
                "x-acs-content-sha256",
                "x-acs-date",
                "x-acs-signature-nonce",
                "x-acs-version"
            ]
        );
    }

    /// An Alidns-shaped request (the form ddnsd sends: POST, parameters in the query, empty
    /// body). The expected values were produced by the official SDK's
    /// `alibabacloud_openapi_util.client.Client.get_authorization` (0.2.4) from the same
    /// inputs; `tests/it/alidns.rs` re-runs that comparison with the SDK installed.
    #[test]
    fn alidns_shaped_request() {
        let req = Acs3Request {
            method: "POST",
            path: "/",
            query: &[
                ("SubDomain", "home.example.com"),
                ("DomainName", "example.com"),
                ("Type", "AAAA"),
                ("PageNumber", "1"),
                ("PageSize", "100"),
            ],
            headers: &[
                ("host", "alidns.aliyuncs.com"),
                ("x-acs-action", "DescribeSubDomainRecords"),
                ("x-acs-version", "2015-01-09"),
            ],
            payload: b"",
        };
        let creds = Acs3Credentials {
            access_key_id: "testid",
            access_key_secret: "testsecret",
        };
        let s = sign(
            &req,
            creds,
            1_700_000_000,
            "b5f3e1a2000040008000000000000001",
        );
        assert_eq!(
            s.canonical_query,
            "DomainName=example.com&PageNumber=1&PageSize=100&SubDomain=home.example.com&Type=AAAA"
        );
        assert_eq!(
            s.canonical_request,
            format!("POST\n/\nDomainName=example.com&PageNumber=1&PageSize=100&SubDomain=home.example.com&Type=AAAA\nhost:alidns.aliyuncs.com\nx-acs-action:DescribeSubDomainRecords\nx-acs-content-sha256:{EMPTY}\nx-acs-date:2023-11-14T22:13:20Z\nx-acs-signature-nonce:b5f3e1a2000040008000000000000001\nx-acs-version:2015-01-09\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n{EMPTY}")
        );
        assert_eq!(s.authorization, ALIDNS_SHAPED_AUTHORIZATION);
    }

    /// See [`alidns_shaped_request`].
    const ALIDNS_SHAPED_AUTHORIZATION: &str = "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=2181f87ed52ce9b9b65683d06d5843168afa74c503c8cb6b5eab6daba634dfff";

    #[test]
    fn percent_encoding_edge_cases() {
        // `alidns.md` §2: the same RFC 3986 rule as V2.
        assert_eq!(percent_encode("a b*c~d/é+="), "a%20b%2Ac~d%2F%C3%A9%2B%3D");
        assert_eq!(percent_encode("2001:db8::1"), "2001%3Adb8%3A%3A1");
        assert_eq!(percent_encode("@"), "%40");
        assert_eq!(
            canonical_query(&[("b", "2"), ("a", "x y"), ("B", "1")]),
            "B=1&a=x%20y&b=2"
        );
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_698_315_752), "2023-10-26T10:22:32Z");
        assert_eq!(timestamp(1_709_251_199), "2024-02-29T23:59:59Z");
    }
}
