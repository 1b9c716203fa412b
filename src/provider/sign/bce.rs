//! BCE auth v1 (`bce-auth-v1/…`), the request signature of Baidu AI Cloud (百度智能云), as a
//! pure function.
//!
//! Owns the canonical request (method, encoded path, sorted query, sorted signed headers; no
//! payload hash), the derived signing key, the signature, the `Authorization` value and the
//! `x-bce-date` header it covers. Takes the request, the credentials and the time as
//! arguments; never sends anything, never reads a clock. Procedure: Baidu's "生成认证字符串"
//! (Generate Authentication String) page, whose worked example is pinned below, and
//! `shared/providers/china-clouds.md` §2.1; equal to `bce-python-sdk`'s
//! `baidubce.auth.bce_v1_signer.sign` (cross-checked in `tests/it/baiducloud.rs`).

use super::acs3::{percent_encode, timestamp};
use super::prim::{hex, hmac_sha256};

/// The prefix of every authorization string.
pub const VERSION: &str = "bce-auth-v1";
/// How long a signature is valid, in seconds (the SDK's default; the server refuses a request
/// that arrives later, or signed in the future).
pub const EXPIRATION_SECS: u32 = 1800;

/// The parts of an HTTP request that the signature covers (apart from `x-bce-date`, which
/// the signer adds).
#[derive(Clone, Copy, Debug)]
pub struct BceRequest<'a> {
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub method: &'a str,
    /// The path, not encoded (`/v1/dns/zone/example.com/record`); encoded here, `/` kept.
    pub path: &'a str,
    /// Query parameters, not encoded.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign as (name, value), any case: `host` at least. Must not contain
    /// `x-bce-date`.
    pub headers: &'a [(&'a str, &'a str)],
}

/// An AK/SK pair. The secret is borrowed only for the duration of the signing call.
#[derive(Clone, Copy)]
pub struct BceCredentials<'a> {
    /// The Access Key ID (an identifier).
    pub access_key_id: &'a str,
    /// The Secret Access Key.
    pub secret_access_key: &'a str,
}

/// The signature and the intermediate values (kept for tests and trace logs; none is
/// secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BceSignature {
    /// The value to send as `x-bce-date` (`2023-11-14T22:13:20Z`).
    pub date: String,
    /// The canonical query string; also the query to put in the URL.
    pub canonical_query: String,
    /// The encoded path; also the path to put in the URL.
    pub canonical_uri: String,
    /// The canonical request.
    pub canonical_request: String,
    /// The value of the `Authorization` header.
    pub authorization: String,
}

/// Signs `req` at `unix_secs` with the default expiration, listing every signed header.
pub fn sign(req: &BceRequest<'_>, creds: BceCredentials<'_>, unix_secs: u64) -> BceSignature {
    let date = timestamp(unix_secs);
    let mut headers: Vec<(&str, &str)> = req.headers.to_vec();
    headers.push(("x-bce-date", &date));
    let canonical_uri = canonical_uri(req.path);
    let canonical_query = canonical_query(req.query);
    let (canonical_headers, signed_headers) = canonical_headers(&headers);
    let canonical_request = format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}",
        req.method
    );
    let prefix = auth_prefix(creds.access_key_id, unix_secs, EXPIRATION_SECS);
    let key = signing_key(creds.secret_access_key, &prefix);
    let signature = hex(&hmac_sha256(key.as_bytes(), canonical_request.as_bytes()));
    BceSignature {
        authorization: format!("{prefix}/{signed_headers}/{signature}"),
        date,
        canonical_query,
        canonical_uri,
        canonical_request,
    }
}

/// `bce-auth-v1/AK/2023-11-14T22:13:20Z/1800`.
pub fn auth_prefix(access_key_id: &str, unix_secs: u64, expiration_secs: u32) -> String {
    format!(
        "{VERSION}/{access_key_id}/{}/{expiration_secs}",
        timestamp(unix_secs)
    )
}

/// The derived key: lowercase hex of HMAC-SHA256(SK, prefix). Its hex *text* is the key of
/// the second HMAC. Secret-derived (valid for the prefix's time window): never log it.
pub fn signing_key(secret_access_key: &str, prefix: &str) -> String {
    hex(&hmac_sha256(
        secret_access_key.as_bytes(),
        prefix.as_bytes(),
    ))
}

/// The signature of `canonical_request` under `signing_key`.
pub fn signature(signing_key: &str, canonical_request: &str) -> String {
    hex(&hmac_sha256(
        signing_key.as_bytes(),
        canonical_request.as_bytes(),
    ))
}

/// The path encoded except `/` (UriEncodeExceptSlash); empty → `/`.
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// `enc(k)=enc(v)` strings (an `authorization` parameter left out), sorted as strings, joined
/// with `&` (the SDK sorts the encoded pairs, not the names).
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut encoded: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    encoded.join("&")
}

/// `enc(lower(name)):enc(trim(value))` per header (empty values skipped), sorted, joined with
/// `\n`; and the `;`-joined sorted names.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut lines: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    lines.sort();
    let canonical = lines
        .iter()
        .map(|(n, v)| format!("{}:{}", percent_encode(n), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("\n");
    let names = lines
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (canonical, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Baidu's worked example ("Generate Authentication String"; the header form is shown on
    /// "Include the Authentication String into the Header"): an UploadPart to BOS
    /// (`PUT /v1/test/myfolder/readme.txt`), AK `a…a`, SK `b…b`, 2015-04-27T08:23:49Z, expiration 1800, the
    /// SDK's default header set (host, content-length, content-md5, content-type, x-bce-*)
    /// with an empty signed-header list. Published authorization:
    /// `bce-auth-v1/aaaa…/2015-04-27T08:23:49Z/1800//d74a0436…999e`.
    #[test]
    fn published_vector() {
        let ak = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let sk = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        let t = 1_430_123_029;
        let prefix = auth_prefix(ak, t, 1800);
        assert_eq!(
            prefix,
            "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800"
        );
        let (headers, _) = canonical_headers(&[
            ("Host", "bj.bcebos.com"),
            ("Content-Length", "8"),
            ("Content-Md5", "NFzcPqhviddjRNnSOGo4rw=="),
            ("Content-Type", "text/plain"),
            ("x-bce-date", "2015-04-27T08:23:49Z"),
        ]);
        let canonical = format!(
            "PUT\n{}\n{}\n{headers}",
            canonical_uri("/v1/test/myfolder/readme.txt"),
            canonical_query(&[
                ("partNumber", "9"),
                ("uploadId", "a44cc9bab11cbd156984767aad637851")
            ])
        );
        assert_eq!(
            canonical,
            "PUT\n/v1/test/myfolder/readme.txt\npartNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\ncontent-length:8\ncontent-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D\ncontent-type:text%2Fplain\nhost:bj.bcebos.com\nx-bce-date:2015-04-27T08%3A23%3A49Z"
        );
        let key = signing_key(sk, &prefix);
        assert_eq!(
            signature(&key, &canonical),
            "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
        );
    }

    const CREDS: BceCredentials<'static> = BceCredentials {
        access_key_id: "AKEXAMPLE",
        secret_access_key: "SKEXAMPLE",
    };
    const T: u64 = 1_700_000_000;

    /// `china-clouds.md` §2.1 (a): a DNS record list, signed `host;x-bce-date`, equal to
    /// `bce-python-sdk` 0.9.79.
    #[test]
    fn dns_get_vector() {
        let s = sign(
            &BceRequest {
                method: "GET",
                path: "/v1/dns/zone/example.com/record",
                query: &[("rr", "home")],
                headers: &[("Host", "dns.baidubce.com")],
            },
            CREDS,
            T,
        );
        assert_eq!(
            signing_key("SKEXAMPLE", &auth_prefix("AKEXAMPLE", T, 1800)),
            "127c04e8567b89651867f4f4a93fdcca9f511df1995d5cd366096a0e5afce109"
        );
        assert_eq!(s.date, "2023-11-14T22:13:20Z");
        assert_eq!(
            s.canonical_request,
            "GET\n/v1/dns/zone/example.com/record\nrr=home\nhost:dns.baidubce.com\nx-bce-date:2023-11-14T22%3A13%3A20Z"
        );
        assert_eq!(
            s.authorization,
            "bce-auth-v1/AKEXAMPLE/2023-11-14T22:13:20Z/1800/host;x-bce-date/88d136dfef8fb3e72d6cfc251bb28012cc65317127da0b1b9313de65875ca45f"
        );
    }

    /// `china-clouds.md` §2.1 (b): a POST signed over `host` alone (how ddns-go signs).
    #[test]
    fn host_only_vector() {
        let prefix = auth_prefix("AKEXAMPLE", T, 1800);
        let (headers, names) = canonical_headers(&[("host", "dns.baidubce.com")]);
        let canonical = format!(
            "POST\n{}\n{}\n{headers}",
            canonical_uri("/v1/dns/zone/example.com/record"),
            canonical_query(&[("clientToken", "0123456789abcdef")])
        );
        assert_eq!(names, "host");
        assert_eq!(
            signature(&signing_key("SKEXAMPLE", &prefix), &canonical),
            "d0cdb421cf27491a98a71e3c7b4530e2dc6fd1b1dd4bfb08597ac31f6f3be819"
        );
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/v1/a b/例"), "/v1/a%20b/%E4%BE%8B");
        // Sorted as encoded strings: `a-b=` before `a=` ('-' < '=').
        assert_eq!(
            canonical_query(&[
                ("a", "1"),
                ("a-b", "x/y"),
                ("authorization", "z"),
                ("e", "")
            ]),
            "a-b=x%2Fy&a=1&e="
        );
        let (h, n) = canonical_headers(&[("X-Empty", " "), ("Host", " h:8080 ")]);
        assert_eq!((h.as_str(), n.as_str()), ("host:h%3A8080", "host"));
    }
}
