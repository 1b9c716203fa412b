//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), the request signature of Route 53 and every
//! other AWS API, as a pure function.
//!
//! Owns the canonical request, the string to sign, the key derivation and the `Authorization`
//! value. Takes the request, the credentials and the time as arguments; never sends anything,
//! never reads a clock. Procedure: `shared/providers/dyndns2-and-others.md` §3.1; the unit
//! tests are cases of AWS's published SigV4 test suite (the maintained copy in
//! awslabs/aws-c-auth `tests/aws-signing-test-suite/v4/`) plus a Route 53 request that
//! botocore signs identically (`shared/providers/dyndns2-and-others.md` §3).

use std::fmt::Write as _;

pub use super::prim::uri_encode;
use super::prim::{civil_from_days, days_from_civil, hex, hex_sha256, hmac_sha256};

/// The algorithm name that starts the `Authorization` value and the string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parts of an HTTP request that the signature covers.
#[derive(Clone, Copy, Debug)]
pub struct SigV4Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The absolute path, not percent-encoded (`/2013-04-01/hostedzone/Z1/rrset/`); it is
    /// encoded here (RFC 3986 unreserved characters and `/` kept) and must be sent that way.
    pub path: &'a str,
    /// The query parameters, not percent-encoded, in any order; [`SigV4Signature::query`] is
    /// the encoded, sorted form to send.
    pub query: &'a [(&'a str, &'a str)],
    /// The headers to sign as (name, value); must include `host`. Any order and case. The
    /// signer adds `x-amz-date` (and `x-amz-security-token` with temporary credentials).
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes sent (empty for none).
    pub payload: &'a [u8],
}

/// Where a signature is valid: an AWS region and service (`us-east-1`, `route53`).
#[derive(Clone, Copy, Debug)]
pub struct SigV4Scope<'a> {
    /// The region (`us-east-1` for Route 53, a global service).
    pub region: &'a str,
    /// The service's signing name (`route53`).
    pub service: &'a str,
}

/// An access key. The secret is borrowed only for the duration of the signing call.
#[derive(Clone, Copy)]
pub struct SigV4Credentials<'a> {
    /// The access key id (an identifier, not secret).
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a str,
    /// The session token of temporary credentials (signed and sent as
    /// `X-Amz-Security-Token`).
    pub session_token: Option<&'a str>,
}

/// The signature, the headers to add, and the intermediate values (kept for tests and trace
/// logs; none is secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigV4Signature {
    /// The `X-Amz-Date` value (`YYYYMMDDTHHMMSSZ`); send it as that header.
    pub amz_date: String,
    /// The canonical query string; send exactly this after `?` (empty: no query).
    pub query: String,
    /// Step 1: the canonical request.
    pub canonical_request: String,
    /// Step 2: the string to sign.
    pub string_to_sign: String,
    /// Step 3: the lowercase hex signature.
    pub signature: String,
    /// Step 4: the value of the `Authorization` header.
    pub authorization: String,
}

/// Signs `req` for `scope` at `unix_secs` (UTC).
pub fn sign(
    req: &SigV4Request<'_>,
    scope: SigV4Scope<'_>,
    creds: SigV4Credentials<'_>,
    unix_secs: u64,
) -> SigV4Signature {
    let amz_date = amz_date(unix_secs);
    let date = &amz_date[..8];

    // Canonical headers: lower-case names, values trimmed with inner runs of spaces collapsed,
    // repeated names joined with "," in the order given, sorted by name.
    let mut headers: Vec<(String, String)> = Vec::with_capacity(req.headers.len() + 2);
    let extra = [
        ("x-amz-date", Some(amz_date.as_str())),
        ("x-amz-security-token", creds.session_token),
    ];
    let all = req
        .headers
        .iter()
        .map(|(n, v)| (*n, *v))
        .chain(extra.iter().filter_map(|(n, v)| v.map(|v| (*n, v))));
    for (name, value) in all {
        let name = name.trim().to_ascii_lowercase();
        let value = collapse_spaces(value);
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut canonical_headers = String::new();
    for (n, v) in &headers {
        let _ = writeln!(canonical_headers, "{n}:{v}");
    }
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");

    // Canonical query: each name and value encoded, sorted by name then value.
    let mut pairs: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    // Step 1.
    let canonical_request = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        uri_encode(req.path, false),
        hex_sha256(req.payload)
    );

    // Step 2.
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{credential_scope}\n{}",
        hex_sha256(canonical_request.as_bytes())
    );

    // Step 3.
    let k_date = hmac_sha256(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, scope.region.as_bytes());
    let k_service = hmac_sha256(&k_region, scope.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()));

    // Step 4.
    let authorization = format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    SigV4Signature {
        amz_date,
        query,
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time (UTC).
pub fn amz_date(unix_secs: u64) -> String {
    let (y, m, d) = civil_from_days(unix_secs / 86_400);
    let s = unix_secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Parses `YYYYMMDDTHHMMSSZ` back into a Unix time (for error messages that quote one).
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d)? * 86_400 + h * 3600 + mi * 60 + se)
}

/// Trims a header value and collapses each run of spaces inside it to one.
fn collapse_spaces(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for word in v.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every case below is from AWS's SigV4 test suite (aws-c-auth
    // tests/aws-signing-test-suite/v4/CASE/{context.json, request.txt,
    // header-canonical-request.txt, header-string-to-sign.txt, header-signature.txt}):
    // credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 2015-08-30T12:36:00Z,
    // us-east-1, service "service".
    const CREDS: SigV4Credentials<'static> = SigV4Credentials {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: None,
    };
    const SCOPE: SigV4Scope<'static> = SigV4Scope {
        region: "us-east-1",
        service: "service",
    };
    /// 2015-08-30T12:36:00Z.
    const T: u64 = 1_440_938_160;
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const HOST: (&str, &str) = ("Host", "example.amazonaws.com");

    struct Case {
        name: &'static str,
        method: &'static str,
        path: &'static str,
        query: &'static [(&'static str, &'static str)],
        headers: &'static [(&'static str, &'static str)],
        payload: &'static str,
        creds: SigV4Credentials<'static>,
        canonical_request: &'static str,
        string_to_sign_hash: &'static str,
        signature: &'static str,
    }

    const fn case(name: &'static str) -> Case {
        Case {
            name,
            method: "GET",
            path: "/",
            query: &[],
            headers: &[HOST],
            payload: "",
            creds: CREDS,
            canonical_request: "",
            string_to_sign_hash: "",
            signature: "",
        }
    }

    fn suite() -> Vec<Case> {
        vec![
            Case {
                canonical_request: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                ..case("get-vanilla")
            },
            Case {
                query: &[("Param2", "value2"), ("Param1", "value1")],
                canonical_request: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
                ..case("get-vanilla-query-order-key-case")
            },
            Case {
                query: &[("Param1", "value1")],
                canonical_request: "GET\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
                signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
                ..case("get-vanilla-empty-query-key")
            },
            Case {
                query: &[(
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                )],
                canonical_request: "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
                signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
                ..case("get-vanilla-query-unreserved")
            },
            Case {
                query: &[("ሴ", "bar")],
                canonical_request: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
                signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
                ..case("get-vanilla-utf8-query")
            },
            Case {
                path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                canonical_request: "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
                signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
                ..case("get-unreserved")
            },
            Case {
                path: "/ሴ",
                canonical_request: "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
                signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
                ..case("get-utf8")
            },
            Case {
                headers: &[HOST, ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
                canonical_request: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
                ..case("get-header-value-trim")
            },
            Case {
                headers: &[
                    HOST,
                    ("My-Header1", "value2"),
                    ("My-Header1", "value2"),
                    ("My-Header1", "value1"),
                ],
                canonical_request: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
                signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
                ..case("get-header-key-duplicate")
            },
            Case {
                creds: SigV4Credentials {
                    session_token: Some(
                        "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
                    ),
                    ..CREDS
                },
                canonical_request: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\nhost;x-amz-date;x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
                signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
                ..case("get-vanilla-with-session-token")
            },
            Case {
                method: "POST",
                canonical_request: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
                signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
                ..case("post-vanilla")
            },
            Case {
                method: "POST",
                query: &[("Param1", "value1")],
                canonical_request: "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
                signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
                ..case("post-vanilla-query")
            },
            Case {
                method: "POST",
                headers: &[HOST, ("My-Header1", "value1")],
                canonical_request: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
                signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
                ..case("post-header-key-sort")
            },
            Case {
                method: "POST",
                headers: &[HOST, ("My-Header1", "VALUE1")],
                canonical_request: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                string_to_sign_hash: "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
                signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
                ..case("post-header-value-case")
            },
            // The suite's signer adds `x-amz-content-sha256` itself when `sign_body` is set; here
            // it is passed in as an ordinary header.
            Case {
                method: "POST",
                headers: &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    HOST,
                    ("Content-Length", "13"),
                    (
                        "X-Amz-Content-Sha256",
                        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                    ),
                ],
                payload: "Param1=value1",
                canonical_request: "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                string_to_sign_hash: "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
                signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
                ..case("post-x-www-form-urlencoded")
            },
            Case {
                method: "POST",
                headers: &[
                    ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                    HOST,
                    ("Content-Length", "13"),
                    (
                        "X-Amz-Content-Sha256",
                        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                    ),
                ],
                payload: "Param1=value1",
                canonical_request: "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:example.amazonaws.com\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                string_to_sign_hash: "a89f1a5b53e37702ee6363ce1da3ce8f54386f3c8f352ae652153c2982a0bc4d",
                signature: "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422",
                ..case("post-x-www-form-urlencoded-parameters")
            },
        ]
    }

    #[test]
    fn aws_sigv4_test_suite() {
        for c in suite() {
            let s = sign(
                &SigV4Request {
                    method: c.method,
                    path: c.path,
                    query: c.query,
                    headers: c.headers,
                    payload: c.payload.as_bytes(),
                },
                SCOPE,
                c.creds,
                T,
            );
            assert_eq!(s.canonical_request, c.canonical_request, "{}", c.name);
            assert_eq!(
                s.string_to_sign,
                format!(
                    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
                    c.string_to_sign_hash
                ),
                "{}",
                c.name
            );
            assert_eq!(s.signature, c.signature, "{}", c.name);
            let signed = s
                .canonical_request
                .lines()
                .nth_back(1)
                .unwrap_or_default()
                .to_owned();
            assert_eq!(
                s.authorization,
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={}",
                    c.signature
                ),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn suite_query_is_sent_as_signed() {
        let s = sign(
            &SigV4Request {
                method: "GET",
                path: "/",
                query: &[("Param2", "value2"), ("Param1", "value1"), ("ሴ", "a b")],
                headers: &[HOST],
                payload: b"",
            },
            SCOPE,
            CREDS,
            T,
        );
        // Sorted by the encoded name, byte order: "%" sorts before letters.
        assert_eq!(s.query, "%E1%88%B4=a%20b&Param1=value1&Param2=value2");
        assert_eq!(s.amz_date, "20150830T123600Z");
    }

    /// `shared/providers/dyndns2-and-others.md` §3: a Route 53 UPSERT that botocore 1.43.11
    /// `SigV4Auth` signs to the same value.
    #[test]
    fn route53_change_request() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>home.example.com</Name><Type>AAAA</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>2001:db8::1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";
        assert_eq!(
            hex_sha256(body.as_bytes()),
            "f04e1b0b5071db80cd04c7b113d575a732741b42bdca421eb9655830d45cb76b"
        );
        let s = sign(
            &SigV4Request {
                method: "POST",
                path: "/2013-04-01/hostedzone/Z0123456789ABC/rrset/",
                query: &[],
                headers: &[
                    ("Content-Type", "text/xml"),
                    ("Host", "route53.amazonaws.com"),
                ],
                payload: body.as_bytes(),
            },
            SigV4Scope {
                region: "us-east-1",
                service: "route53",
            },
            CREDS,
            1_700_000_000,
        );
        assert_eq!(s.amz_date, "20231114T221320Z");
        assert!(s
            .canonical_request
            .contains("\ncontent-type;host;x-amz-date\n"));
        assert_eq!(
            hex_sha256(s.canonical_request.as_bytes()),
            "1f84ea3b2fd3eb5b858378d1a61dfd8d73e2361a8a49b01debdf571f4cc61546"
        );
        assert_eq!(
            s.signature,
            "08a3d16f63a8f8365c83e81b9011b0ee56ea7d9c5119077848d420ce095552fb"
        );
    }

    #[test]
    fn dates_round_trip() {
        for (t, want) in [
            (0, "19700101T000000Z"),
            (T, "20150830T123600Z"),
            (1_700_000_000, "20231114T221320Z"),
            (1_709_251_199, "20240229T235959Z"),
            (1_709_251_200, "20240301T000000Z"),
            (4_102_444_800, "21000101T000000Z"),
        ] {
            assert_eq!(amz_date(t), want, "{t}");
            assert_eq!(parse_amz_date(want), Some(t), "{want}");
        }
        for bad in [
            "",
            "20150830T123600",
            "2015083OT123600Z",
            "20151330T123600Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        assert_eq!(EMPTY_SHA256, hex_sha256(b""));
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode("a b/c*~", false), "a%20b/c%2A~");
        assert_eq!(uri_encode("a b/c*~", true), "a%20b%2Fc%2A~");
        assert_eq!(uri_encode("*.example.com.", true), "%2A.example.com.");
    }
}
