//! SDK-HMAC-SHA256, the AK/SK request signature of Huawei Cloud's API gateway (APIG), as a
//! pure function.
//!
//! Owns the canonical request (with its always-trailing-slash URI), the string to sign, the
//! signature, the `Authorization` value and the `X-Sdk-Date` header it covers. Takes the
//! request, the credentials and the time as arguments; never sends anything, never reads a
//! clock. Procedure and vectors: `shared/providers/dyndns2-and-others.md` §4 and
//! `shared/providers/china-clouds.md` §1.1, both equal to the official `huaweicloudsdkcore`
//! `Signer.sign` (cross-checked again in `tests/it/huaweicloud.rs`).

use std::fmt::Write as _;

use super::acs3::percent_encode;
use super::prim::{hex, hex_sha256, hmac_sha256};
use super::tc3;

/// The algorithm name that starts the `Authorization` value and the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The parts of an HTTP request that the signature covers (apart from `X-Sdk-Date`, which the
/// signer adds).
#[derive(Clone, Copy, Debug)]
pub struct HuaweiRequest<'a> {
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub method: &'a str,
    /// The path as sent, without a trailing slash (`/v2/zones`).
    pub path: &'a str,
    /// Query parameters, not encoded (they are encoded and sorted here).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign as (name, value): `host`, and `content-type` when a body is sent. Any
    /// order and case; must not contain `x-sdk-date`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes sent (empty for none).
    pub payload: &'a [u8],
}

/// An AK/SK pair. The secret key is borrowed only for the duration of the signing call.
#[derive(Clone, Copy)]
pub struct HuaweiCredentials<'a> {
    /// The access key (AK, an identifier).
    pub access_key: &'a str,
    /// The secret key (SK).
    pub secret_key: &'a str,
}

/// The signature and the intermediate values (kept for tests and trace logs; none is secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuaweiSignature {
    /// The value to send as `X-Sdk-Date`.
    pub date: String,
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

/// Signs `req` at `unix_secs` (sent as `X-Sdk-Date`).
pub fn sign(
    req: &HuaweiRequest<'_>,
    creds: HuaweiCredentials<'_>,
    unix_secs: u64,
) -> HuaweiSignature {
    let date = sdk_date(unix_secs);
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    headers.push(("x-sdk-date".into(), date.clone()));
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

    // Each segment encoded; the canonical URI always ends in `/` although the request is sent
    // without it (the SDK's `_process_canonical_uri`).
    let mut canonical_uri = req
        .path
        .split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/");
    if !canonical_uri.ends_with('/') {
        canonical_uri.push('/');
    }
    let canonical_query = canonical_query(req.query);
    let canonical_request = format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        hex_sha256(req.payload)
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{date}\n{}",
        hex_sha256(canonical_request.as_bytes())
    );
    // The secret key is the HMAC key as is (no derivation).
    let signature = hex(&hmac_sha256(
        creds.secret_key.as_bytes(),
        string_to_sign.as_bytes(),
    ));
    let authorization = format!(
        "{ALGORITHM} Access={}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    );
    HuaweiSignature {
        date,
        canonical_query,
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// `name=value` pairs, both percent-encoded (RFC 3986), sorted by name then value, joined
/// with `&` (the SDK sorts the pairs before encoding; for the ASCII names used here that is
/// the same order).
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = pairs.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `20231114T221320Z`: the UTC "basic" time format of `X-Sdk-Date`.
pub fn sdk_date(unix_secs: u64) -> String {
    let secs = unix_secs % 86_400;
    format!(
        "{}T{:02}{:02}{:02}Z",
        tc3::utc_date(unix_secs).replace('-', ""),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDS: HuaweiCredentials<'static> = HuaweiCredentials {
        access_key: "AKEXAMPLE",
        secret_key: "SKEXAMPLE",
    };
    /// 2023-11-14T22:13:20Z.
    const T: u64 = 1_700_000_000;

    /// `dyndns2-and-others.md` §4: GET /v2/zones, equal to `huaweicloudsdkcore` 3.1.219.
    #[test]
    fn published_get_vector() {
        let req = HuaweiRequest {
            method: "GET",
            path: "/v2/zones",
            query: &[("type", "public"), ("name", "example.com.")],
            headers: &[
                ("Content-Type", "application/json"),
                ("Host", "dns.myhuaweicloud.com"),
            ],
            payload: b"",
        };
        let s = sign(&req, CREDS, T);
        assert_eq!(s.date, "20231114T221320Z");
        assert_eq!(
            s.canonical_request,
            "GET\n/v2/zones/\nname=example.com.&type=public\ncontent-type:application/json\nhost:dns.myhuaweicloud.com\nx-sdk-date:20231114T221320Z\n\ncontent-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            s.string_to_sign,
            "SDK-HMAC-SHA256\n20231114T221320Z\na00728c19cae4aa595d6219bebddcec5b242a70c58b3a4182ba8ff1b1acb6517"
        );
        assert_eq!(
            s.authorization,
            "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-sdk-date, Signature=5c93e83ab491e0f14af3492b788af7a018cd5b09bab4f57a39b9b9a4cbe4878d"
        );
    }

    /// `china-clouds.md` §1.1: POST a record set, equal to `huaweicloudsdkcore` `Signer.sign`.
    #[test]
    fn published_post_vector() {
        let body =
            br#"{"name":"home.example.com.","type":"AAAA","ttl":300,"records":["2001:db8::1"]}"#;
        let req = HuaweiRequest {
            method: "POST",
            path: "/v2/zones/ff8080828bfcc673018ca42326e3480b/recordsets",
            query: &[],
            headers: &[
                ("Host", "dns.myhuaweicloud.com"),
                ("Content-Type", "application/json"),
            ],
            payload: body,
        };
        let s = sign(&req, CREDS, T);
        assert_eq!(
            s.canonical_request,
            "POST\n/v2/zones/ff8080828bfcc673018ca42326e3480b/recordsets/\n\ncontent-type:application/json\nhost:dns.myhuaweicloud.com\nx-sdk-date:20231114T221320Z\n\ncontent-type;host;x-sdk-date\n7d06a053ecce64b34ad6695348ca61b58c94cba0b2960d948a7ef022a4115a94"
        );
        assert_eq!(
            s.string_to_sign,
            "SDK-HMAC-SHA256\n20231114T221320Z\n6f2ec48c1d601ed90f46fa5a9cb073ece8b2fd228d06d40e5b8d3302c6911fe2"
        );
        assert_eq!(
            s.signature,
            "ac1f7a3f7bcb2c3b5479d285b7f307a2aebae0c7c682c7c5cbf6b8be07562d82"
        );
    }

    #[test]
    fn query_and_dates() {
        assert_eq!(
            canonical_query(&[
                ("type", "AAAA"),
                ("name", "home.example.com."),
                ("limit", "500")
            ]),
            "limit=500&name=home.example.com.&type=AAAA"
        );
        assert_eq!(canonical_query(&[("a", "x y"), ("a", "w")]), "a=w&a=x%20y");
        assert_eq!(sdk_date(0), "19700101T000000Z");
        assert_eq!(sdk_date(1_709_251_199), "20240229T235959Z");
    }
}
