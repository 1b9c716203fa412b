//! TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0, as a pure function.
//!
//! Owns the canonical request, the string to sign, the key derivation and the `Authorization`
//! value. Takes the request, the credentials and the time as arguments; never sends anything,
//! never reads a clock. Procedure and worked examples: `shared/providers/tencentcloud-dnspod.md`
//! §2 (Tencent's "Signature v3" page).

use std::fmt::Write as _;

use super::prim::{civil_from_days, hex, hex_sha256, hmac_sha256};

/// The algorithm name that starts the `Authorization` value and the string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The parts of an HTTP request that the signature covers.
#[derive(Clone, Copy, Debug)]
pub struct Tc3Request<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The path, always `/` for API 3.0.
    pub uri: &'a str,
    /// The canonical query string (`""` for POST).
    pub query: &'a str,
    /// The signed headers as (name, value); must include `content-type` and `host`. Any order
    /// and case: they are canonicalised here.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes sent (empty for GET).
    pub payload: &'a [u8],
}

/// An API key pair. The key is borrowed only for the duration of the signing call.
#[derive(Clone, Copy)]
pub struct Tc3Credentials<'a> {
    /// The SecretId (an identifier, not secret).
    pub secret_id: &'a str,
    /// The SecretKey.
    pub secret_key: &'a str,
}

/// The signature and the intermediate values (kept for tests and trace logs; none is secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tc3Signature {
    /// Step 4: the canonical request.
    pub canonical_request: String,
    /// Step 7: the string to sign.
    pub string_to_sign: String,
    /// Step 9: the lowercase hex signature.
    pub signature: String,
    /// Step 10: the value of the `Authorization` header.
    pub authorization: String,
}

/// Signs `req` for `service` (the first label of the host, e.g. `dnspod`) at `timestamp`
/// (Unix seconds, the same value sent in `X-TC-Timestamp`).
pub fn sign(
    req: &Tc3Request<'_>,
    service: &str,
    creds: Tc3Credentials<'_>,
    timestamp: u64,
) -> Tc3Signature {
    // Steps 2-3: lower-cased names and values, trimmed, sorted by name.
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_lowercase()))
        .collect();
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

    // Steps 1 and 4.
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        req.uri,
        req.query,
        canonical_headers,
        signed_headers,
        hex_sha256(req.payload)
    );

    // Steps 5-7.
    let date = utc_date(timestamp);
    let scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        hex_sha256(canonical_request.as_bytes())
    );

    // Steps 8-9.
    let secret_date = hmac_sha256(
        format!("TC3{}", creds.secret_key).as_bytes(),
        date.as_bytes(),
    );
    let secret_service = hmac_sha256(&secret_date, service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex(&hmac_sha256(&secret_signing, string_to_sign.as_bytes()));

    // Step 10.
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.secret_id
    );
    Tc3Signature {
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// The UTC calendar date of a Unix time, `YYYY-MM-DD` (step 5: UTC, not local time).
pub fn utc_date(unix_secs: u64) -> String {
    let (y, m, d) = civil_from_days(unix_secs / 86_400);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Official worked example, `shared/providers/tencentcloud-dnspod.md` §2.1/§2.2.
    const BODY: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const CREDS: Tc3Credentials<'static> = Tc3Credentials {
        secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        secret_key: "Gu5t9xGARNpq86cd98joQYCN3*******",
    };

    #[test]
    fn official_example_variant_a_content_type_host() {
        let headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Host", "cvm.tencentcloudapi.com"),
        ];
        let req = Tc3Request {
            method: "POST",
            uri: "/",
            query: "",
            headers: &headers,
            payload: BODY.as_bytes(),
        };
        assert_eq!(
            hex_sha256(BODY.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let s = sign(&req, "cvm", CREDS, 1_551_113_065);
        assert_eq!(
            s.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            s.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            s.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        assert_eq!(
            s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn official_example_derived_keys() {
        let d = hmac_sha256(format!("TC3{}", CREDS.secret_key).as_bytes(), b"2019-02-25");
        let s = hmac_sha256(&d, b"cvm");
        let k = hmac_sha256(&s, b"tc3_request");
        assert_eq!(
            hex(&d),
            "f1cb4d518a0eda9d5cbbfdb7850983f1e603eeae484edea76e4dd8d8deb5556e"
        );
        assert_eq!(
            hex(&s),
            "e7c609ce81bea53546bed2cc904778bef9ca14082e48e67883443ed64e227cd7"
        );
        assert_eq!(
            hex(&k),
            "8aa8ab5755582f576e94bcfe383b8e29325b0ca90c3590d569221c6a63a091ed"
        );
    }

    #[test]
    fn official_example_variant_b_with_action() {
        // Header order and case must not matter.
        let headers = [
            ("X-TC-Action", "DescribeInstances"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("Content-Type", "application/json; charset=utf-8"),
        ];
        let req = Tc3Request {
            method: "POST",
            uri: "/",
            query: "",
            headers: &headers,
            payload: BODY.as_bytes(),
        };
        let s = sign(&req, "cvm", CREDS, 1_551_113_065);
        assert_eq!(
            s.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert!(s
            .string_to_sign
            .ends_with("7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"));
        assert_eq!(
            s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"
        );
    }

    #[test]
    fn dnspod_shaped_request() {
        let body = r#"{"Domain":"example.com","Subdomain":"home","RecordType":"AAAA","Limit":3000,"Offset":0}"#;
        let headers = [
            ("Content-Type", "application/json"),
            ("Host", "dnspod.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeRecordList"),
        ];
        let req = Tc3Request {
            method: "POST",
            uri: "/",
            query: "",
            headers: &headers,
            payload: body.as_bytes(),
        };
        let creds = Tc3Credentials {
            secret_id: "AKIDEXAMPLE",
            secret_key: "SECRETKEYEXAMPLE",
        };
        let s = sign(&req, "dnspod", creds, 1_700_000_000);
        assert_eq!(
            s.canonical_request,
            "POST\n/\n\ncontent-type:application/json\nhost:dnspod.tencentcloudapi.com\nx-tc-action:describerecordlist\n\ncontent-type;host;x-tc-action\nc207551388d3058981bd13d9bc76cb637cbaee23b1e280012753deed5182ab9e"
        );
        assert!(s
            .string_to_sign
            .ends_with("3a641f79743a3fd6b2dac16a422038527a7dc0cc4584304cf4deb6b0c4eed565"));
        assert_eq!(
            s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/dnspod/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=6519279ec5cc584716a5bdd9b837ba88162dc20c897cb021531c0a392ea22f10"
        );
    }

    #[test]
    fn utc_dates() {
        for (t, want) in [
            (0, "1970-01-01"),
            (1_551_113_065, "2019-02-25"),
            (1_700_000_000, "2023-11-14"),
            // 2024-02-29 23:59:59 and the next second.
            (1_709_251_199, "2024-02-29"),
            (1_709_251_200, "2024-03-01"),
            (4_102_444_800, "2100-01-01"),
        ] {
            assert_eq!(utc_date(t), want, "{t}");
        }
    }
}
