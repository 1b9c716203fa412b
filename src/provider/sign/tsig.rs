//! TSIG (RFC 8945): the key type, request signing and reply verification, as pure functions
//! over DNS wire bytes.
//!
//! Owns the MAC computation and the parsing of a reply's TSIG record. Does no I/O and never
//! reads the clock: the signing time is handed in. Never formats a secret.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha512};

use crate::record::Fqdn;
use crate::secret::Secret;

/// The fudge (allowed clock difference, in seconds) put into every signature; RFC 8945 §10
/// recommends 300.
pub const DEFAULT_FUDGE: u16 = 300;

/// RR type of a TSIG record.
const TYPE_TSIG: u16 = 250;
/// RR class ANY, the class of a TSIG record.
const CLASS_ANY: u16 = 255;
/// Length of a DNS header.
const HEADER_LEN: usize = 12;

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

    /// Length of a full (untruncated) MAC in bytes.
    pub fn mac_len(self) -> usize {
        match self {
            TsigAlgorithm::HmacSha256 => 32,
            TsigAlgorithm::HmacSha512 => 64,
        }
    }

    /// HMAC of the concatenation of `parts` under `key`.
    fn mac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            // HMAC accepts keys of any length (RFC 2104 §2: longer keys are hashed, shorter
            // ones padded), so `new_from_slice` cannot fail for `Hmac<_>`; fall back to an
            // empty MAC rather than panic, which the server would reject as BADSIG.
            let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
                return Vec::new();
            };
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }
        match self {
            TsigAlgorithm::HmacSha256 => run::<Hmac<Sha256>>(key, parts),
            TsigAlgorithm::HmacSha512 => run::<Hmac<Sha512>>(key, parts),
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

/// A request with its TSIG record appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRequest {
    /// The bytes to send.
    pub wire: Vec<u8>,
    /// The request's MAC, needed to verify the reply.
    pub mac: Vec<u8>,
    /// The Time Signed put into the TSIG record (seconds since the Unix epoch).
    pub time_signed: u64,
}

/// Why a message could not be signed or a reply's TSIG could not be read or trusted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TsigError {
    /// The bytes are not a well-formed DNS message (the static text says where).
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// The message already has 65535 additional records.
    #[error("the message has no room for a TSIG record")]
    TooManyRecords,
    /// The reply's TSIG names another key or algorithm than the request's.
    #[error("the reply is signed with key {key:?} ({algorithm:?}), not the request's key")]
    WrongKey {
        /// The key name in the reply.
        key: String,
        /// The algorithm name in the reply.
        algorithm: String,
    },
    /// The reply's MAC is shorter than the algorithm's output (truncation is not accepted).
    #[error("the reply's MAC is {got} bytes long, expected {want}")]
    TruncatedMac {
        /// MAC length in the reply.
        got: usize,
        /// Full MAC length of the algorithm.
        want: usize,
    },
    /// The reply's MAC does not match.
    #[error("the reply's MAC does not verify")]
    BadMac,
}

/// TSIG error codes (RFC 8945 §3, the "Error" field of a TSIG record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsigRcode {
    /// 0: no error.
    NoError,
    /// 16 BADSIG: the MAC did not verify (wrong secret).
    BadSig,
    /// 17 BADKEY: the key name or algorithm is unknown to the server.
    BadKey,
    /// 18 BADTIME: Time Signed is outside the server's now ± fudge.
    BadTime,
    /// 22 BADTRUNC: the MAC was truncated too much.
    BadTrunc,
    /// Any other value.
    Other(u16),
}

impl From<u16> for TsigRcode {
    fn from(v: u16) -> TsigRcode {
        match v {
            0 => TsigRcode::NoError,
            16 => TsigRcode::BadSig,
            17 => TsigRcode::BadKey,
            18 => TsigRcode::BadTime,
            22 => TsigRcode::BadTrunc,
            n => TsigRcode::Other(n),
        }
    }
}

/// The TSIG record found at the end of a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTsig {
    /// The key name (lower-case, without the trailing dot).
    pub key_name: String,
    /// The algorithm name (lower-case, without the trailing dot).
    pub algorithm: String,
    /// Time Signed (for BADTIME replies: the request's time).
    pub time_signed: u64,
    /// Fudge in seconds.
    pub fudge: u16,
    /// The MAC (empty in BADKEY / BADSIG replies).
    pub mac: Vec<u8>,
    /// The message ID the signer saw.
    pub original_id: u16,
    /// The TSIG error field.
    pub error: TsigRcode,
    /// Other Data (the server's 48-bit time in BADTIME replies).
    pub other: Vec<u8>,
    /// Byte offset of the TSIG RR inside the reply.
    offset: usize,
}

impl ReplyTsig {
    /// The server's clock from Other Data, present in BADTIME replies (RFC 8945 §5.2.3).
    pub fn server_time(&self) -> Option<u64> {
        if self.other.len() != 6 {
            return None;
        }
        Some(
            self.other
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }
}

/// Signs `unsigned` (a complete DNS message without TSIG) with `key` at `time_signed`.
///
/// RFC 8945 §4.3.1: the MAC covers "the DNS message (request) … prior to the TSIG RR" followed
/// by the TSIG variables (key name, class, TTL, algorithm, time signed, fudge, error, other
/// length, other data). The TSIG RR is then appended and ARCOUNT incremented.
pub fn sign_request(
    key: &TsigKey,
    unsigned: &[u8],
    time_signed: u64,
    fudge: u16,
) -> Result<SignedRequest, TsigError> {
    if unsigned.len() < HEADER_LEN {
        return Err(TsigError::Malformed("shorter than a header"));
    }
    let key_name = name_wire(key.name.as_str());
    let alg_name = name_wire(key.algorithm.as_str());
    let vars = variables(&key_name, &alg_name, time_signed, fudge, 0, &[]);
    let mac = key.algorithm.mac(key.secret.expose(), &[unsigned, &vars]);

    let wire = append_tsig(
        unsigned,
        &key_name,
        &alg_name,
        time_signed,
        fudge,
        &mac,
        0,
        &[],
    )?;
    Ok(SignedRequest {
        wire,
        mac,
        time_signed,
    })
}

/// Signs a reply the way a server does (RFC 8945 §4.3.3): the MAC covers the request MAC with
/// its length, `unsigned` (the reply without TSIG) and the TSIG variables with `error` and
/// `other`. Used by tests and local emulators; ddnsd itself only verifies replies.
pub fn sign_reply(
    key: &TsigKey,
    request_mac: &[u8],
    unsigned: &[u8],
    time_signed: u64,
    fudge: u16,
    error: u16,
    other: &[u8],
) -> Result<Vec<u8>, TsigError> {
    if unsigned.len() < HEADER_LEN {
        return Err(TsigError::Malformed("shorter than a header"));
    }
    let key_name = name_wire(key.name.as_str());
    let alg_name = name_wire(key.algorithm.as_str());
    let vars = variables(&key_name, &alg_name, time_signed, fudge, error, other);
    let mac = key.algorithm.mac(
        key.secret.expose(),
        &[&be16_len(request_mac.len()), request_mac, unsigned, &vars],
    );
    append_tsig(
        unsigned,
        &key_name,
        &alg_name,
        time_signed,
        fudge,
        &mac,
        error,
        other,
    )
}

/// Finds the TSIG record of a reply: the last RR of the additional section (RFC 8945 §5.1).
/// `Ok(None)` when the reply carries none.
pub fn find_tsig(reply: &[u8]) -> Result<Option<ReplyTsig>, TsigError> {
    if reply.len() < HEADER_LEN {
        return Err(TsigError::Malformed("shorter than a header"));
    }
    let count = |i: usize| usize::from(u16::from_be_bytes([reply[i], reply[i + 1]]));
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    if ar == 0 {
        return Ok(None);
    }
    let mut pos = HEADER_LEN;
    for _ in 0..qd {
        pos = skip_name(reply, pos)?;
        pos = pos.checked_add(4).ok_or(TsigError::Malformed("question"))?;
    }
    for _ in 0..(an + ns + ar - 1) {
        pos = skip_rr(reply, pos)?;
    }
    let offset = pos;
    let (key_name, after_name) = read_name(reply, pos)?;
    let fixed = slice(reply, after_name, 10)?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    if rtype != TYPE_TSIG {
        return Ok(None);
    }
    // RFC 8945 §4.2: "CLASS: This MUST be ANY", "TTL: This MUST be 0". The MAC covers both only
    // as these constants (§4.3.3), so a record claiming anything else is not a TSIG at all.
    if fixed[2..4] != CLASS_ANY.to_be_bytes() || fixed[4..8] != [0, 0, 0, 0] {
        return Err(TsigError::Malformed("tsig class or ttl"));
    }
    let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let rstart = after_name + 10;
    let rdata_end = rstart + rdlen;
    if rdata_end > reply.len() {
        return Err(TsigError::Malformed("tsig rdata past the end"));
    }
    // RFC 8945 §4.2: the algorithm name "MUST NOT be compressed"; read_name copes either way.
    let (algorithm, p) = read_name(reply, rstart)?;
    let f = slice(reply, p, 10)?;
    let time_signed = f[..6]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let fudge = u16::from_be_bytes([f[6], f[7]]);
    let mac_len = usize::from(u16::from_be_bytes([f[8], f[9]]));
    let mac = slice(reply, p + 10, mac_len)?.to_vec();
    let q = p + 10 + mac_len;
    let g = slice(reply, q, 6)?;
    let original_id = u16::from_be_bytes([g[0], g[1]]);
    let error = TsigRcode::from(u16::from_be_bytes([g[2], g[3]]));
    let other_len = usize::from(u16::from_be_bytes([g[4], g[5]]));
    let other = slice(reply, q + 6, other_len)?.to_vec();
    if q + 6 + other_len != rdata_end {
        return Err(TsigError::Malformed("tsig rdata length"));
    }
    Ok(Some(ReplyTsig {
        key_name,
        algorithm,
        time_signed,
        fudge,
        mac,
        original_id,
        error,
        other,
        offset,
    }))
}

/// Verifies the MAC of a signed reply to a request whose MAC was `request_mac`.
///
/// RFC 8945 §4.3.3: the reply's MAC covers the request MAC (with a 2-byte length prefix), the
/// reply "prior to the TSIG RR" with ARCOUNT decremented and the ID set to the original ID, and
/// the TSIG variables. A truncated MAC is not accepted. Time is checked by the caller.
pub fn verify_reply(
    key: &TsigKey,
    request_mac: &[u8],
    reply: &[u8],
    tsig: &ReplyTsig,
) -> Result<(), TsigError> {
    if tsig.key_name != key.name.as_str() || tsig.algorithm != key.algorithm.as_str() {
        return Err(TsigError::WrongKey {
            key: tsig.key_name.clone(),
            algorithm: tsig.algorithm.clone(),
        });
    }
    if tsig.mac.len() != key.algorithm.mac_len() {
        return Err(TsigError::TruncatedMac {
            got: tsig.mac.len(),
            want: key.algorithm.mac_len(),
        });
    }
    if tsig.offset > reply.len() || tsig.offset < HEADER_LEN {
        return Err(TsigError::Malformed("tsig offset"));
    }
    let mut head = reply[..tsig.offset].to_vec();
    head[0..2].copy_from_slice(&tsig.original_id.to_be_bytes());
    let ar = u16::from_be_bytes([head[10], head[11]])
        .checked_sub(1)
        .ok_or(TsigError::Malformed("arcount"))?;
    head[10..12].copy_from_slice(&ar.to_be_bytes());
    let vars = variables(
        &name_wire(&tsig.key_name),
        &name_wire(&tsig.algorithm),
        tsig.time_signed,
        tsig.fudge,
        tsig_error_code(tsig.error),
        &tsig.other,
    );
    let want = key.algorithm.mac(
        key.secret.expose(),
        &[&be16_len(request_mac.len()), request_mac, &head, &vars],
    );
    if constant_time_eq(&want, &tsig.mac) {
        Ok(())
    } else {
        Err(TsigError::BadMac)
    }
}

/// `unsigned` with a TSIG RR appended and ARCOUNT incremented.
#[allow(clippy::too_many_arguments)]
fn append_tsig(
    unsigned: &[u8],
    key_name: &[u8],
    alg_name: &[u8],
    time_signed: u64,
    fudge: u16,
    mac: &[u8],
    error: u16,
    other: &[u8],
) -> Result<Vec<u8>, TsigError> {
    if unsigned.len() < HEADER_LEN {
        return Err(TsigError::Malformed("shorter than a header"));
    }
    let mut wire = unsigned.to_vec();
    let arcount = u16::from_be_bytes([wire[10], wire[11]])
        .checked_add(1)
        .ok_or(TsigError::TooManyRecords)?;
    wire[10..12].copy_from_slice(&arcount.to_be_bytes());
    let original_id = [unsigned[0], unsigned[1]];

    let mut rdata = Vec::with_capacity(alg_name.len() + 16 + mac.len() + other.len());
    rdata.extend_from_slice(alg_name);
    rdata.extend_from_slice(&u48(time_signed));
    rdata.extend_from_slice(&fudge.to_be_bytes());
    rdata.extend_from_slice(&be16_len(mac.len()));
    rdata.extend_from_slice(mac);
    rdata.extend_from_slice(&original_id);
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&be16_len(other.len()));
    rdata.extend_from_slice(other);

    wire.extend_from_slice(key_name);
    wire.extend_from_slice(&TYPE_TSIG.to_be_bytes());
    wire.extend_from_slice(&CLASS_ANY.to_be_bytes());
    wire.extend_from_slice(&0u32.to_be_bytes());
    wire.extend_from_slice(&be16_len(rdata.len()));
    wire.extend_from_slice(&rdata);
    Ok(wire)
}

/// The numeric value of a TSIG error.
fn tsig_error_code(e: TsigRcode) -> u16 {
    match e {
        TsigRcode::NoError => 0,
        TsigRcode::BadSig => 16,
        TsigRcode::BadKey => 17,
        TsigRcode::BadTime => 18,
        TsigRcode::BadTrunc => 22,
        TsigRcode::Other(n) => n,
    }
}

/// The TSIG variables of RFC 8945 §4.3.3 (key name, class ANY, TTL 0, algorithm, time signed,
/// fudge, error, other len, other data), names already in canonical wire form.
fn variables(
    key_name: &[u8],
    alg_name: &[u8],
    time_signed: u64,
    fudge: u16,
    error: u16,
    other: &[u8],
) -> Vec<u8> {
    let mut v = Vec::with_capacity(key_name.len() + alg_name.len() + 22 + other.len());
    v.extend_from_slice(key_name);
    v.extend_from_slice(&CLASS_ANY.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(alg_name);
    v.extend_from_slice(&u48(time_signed));
    v.extend_from_slice(&fudge.to_be_bytes());
    v.extend_from_slice(&error.to_be_bytes());
    v.extend_from_slice(&be16_len(other.len()));
    v.extend_from_slice(other);
    v
}

/// A name in canonical wire form: lower-case, uncompressed labels, root label last.
fn name_wire(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let bytes = label.as_bytes();
        // Labels longer than 63 bytes cannot come from an `Fqdn`; clamp rather than emit a
        // length byte that would read as a compression pointer.
        let bytes = &bytes[..bytes.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend(bytes.iter().map(u8::to_ascii_lowercase));
    }
    out.push(0);
    out
}

/// The low 48 bits of `t`, big-endian.
fn u48(t: u64) -> [u8; 6] {
    let b = t.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// A length as a big-endian u16, saturating (no MAC or other data reaches 64 KiB).
fn be16_len(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes()
}

/// `len` bytes of `buf` from `at`, or a malformed-message error.
fn slice(buf: &[u8], at: usize, len: usize) -> Result<&[u8], TsigError> {
    at.checked_add(len)
        .and_then(|end| buf.get(at..end))
        .ok_or(TsigError::Malformed("record past the end"))
}

/// Position after the (possibly compressed) name at `pos`.
fn skip_name(buf: &[u8], mut pos: usize) -> Result<usize, TsigError> {
    loop {
        let len = *buf
            .get(pos)
            .ok_or(TsigError::Malformed("name past the end"))?;
        match len {
            0 => return Ok(pos + 1),
            l if l & 0xc0 == 0xc0 => return Ok(pos + 2),
            l if l & 0xc0 == 0 => pos += 1 + usize::from(l),
            _ => return Err(TsigError::Malformed("label type")),
        }
    }
}

/// Position after the resource record at `pos`.
fn skip_rr(buf: &[u8], pos: usize) -> Result<usize, TsigError> {
    let p = skip_name(buf, pos)?;
    let fixed = slice(buf, p, 10)?;
    let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let end = p + 10 + rdlen;
    if end > buf.len() {
        return Err(TsigError::Malformed("rdata past the end"));
    }
    Ok(end)
}

/// Reads the name at `pos` (following compression pointers), lower-case without the trailing
/// dot; returns it and the position after it.
fn read_name(buf: &[u8], pos: usize) -> Result<(String, usize), TsigError> {
    let mut labels: Vec<String> = Vec::new();
    let mut p = pos;
    let mut end = None;
    for _ in 0..128 {
        let len = *buf
            .get(p)
            .ok_or(TsigError::Malformed("name past the end"))?;
        if len == 0 {
            return Ok((labels.join("."), end.unwrap_or(p + 1)));
        }
        if len & 0xc0 == 0xc0 {
            let lo = *buf
                .get(p + 1)
                .ok_or(TsigError::Malformed("name past the end"))?;
            end.get_or_insert(p + 2);
            p = (usize::from(len & 0x3f) << 8) | usize::from(lo);
            continue;
        }
        if len & 0xc0 != 0 {
            return Err(TsigError::Malformed("label type"));
        }
        let label = slice(buf, p + 1, usize::from(len))?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        p += 1 + usize::from(len);
    }
    Err(TsigError::Malformed("name compression loop"))
}

/// Compares two byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ddnsd-key.` / hmac-sha256 / "secret-key-for-ddnsd-tests-32bytes!" (providers doc §3.1).
    pub(crate) fn vector_key() -> TsigKey {
        TsigKey {
            name: Fqdn::parse_relaxed("ddnsd-key").unwrap(),
            algorithm: TsigAlgorithm::HmacSha256,
            secret: Secret::new(b"secret-key-for-ddnsd-tests-32bytes!".to_vec()),
        }
    }

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const UNSIGNED: &str = "123428000001000000020000076578616d706c650474657374000006000104686f7374c00c001c00ff000000000000c01e001c00010000012c001020010db8000000000000000000000001";
    const SIGNED: &str = "123428000001000000020001076578616d706c650474657374000006000104686f7374c00c001c00ff000000000000c01e001c00010000012c001020010db80000000000000000000000010964646e73642d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c0020199b849657b0594afdcdac8f3270baf79da0f67baeef15f9067a9a7285644e77123400000000";

    #[test]
    fn reproduces_the_rfc2136_doc_vector() {
        let signed = sign_request(&vector_key(), &hex(UNSIGNED), 1_700_000_000, 300).unwrap();
        assert_eq!(
            signed.mac,
            hex("199b849657b0594afdcdac8f3270baf79da0f67baeef15f9067a9a7285644e77")
        );
        assert_eq!(signed.wire, hex(SIGNED));
        assert_eq!(signed.wire.len(), 157);
    }

    #[test]
    fn variables_match_the_doc() {
        let v = variables(
            &name_wire("ddnsd-key"),
            &name_wire("hmac-sha256"),
            1_700_000_000,
            300,
            0,
            &[],
        );
        assert_eq!(
            v,
            hex("0964646e73642d6b65790000ff000000000b686d61632d7368613235360000006553f100012c00000000")
        );
    }

    #[test]
    fn request_tsig_parses_back() {
        let wire = hex(SIGNED);
        let t = find_tsig(&wire).unwrap().unwrap();
        assert_eq!(t.key_name, "ddnsd-key");
        assert_eq!(t.algorithm, "hmac-sha256");
        assert_eq!(t.time_signed, 1_700_000_000);
        assert_eq!(t.fudge, 300);
        assert_eq!(t.original_id, 0x1234);
        assert_eq!(t.error, TsigRcode::NoError);
        assert_eq!(t.mac.len(), 32);
        assert!(find_tsig(&hex(UNSIGNED)).unwrap().is_none());
    }

    /// BIND 9.18's BADTIME answer to the vector (doc §3.1), with its real MAC replaced by one
    /// computed here, so the verification path is exercised end to end.
    fn badtime_reply(key: &TsigKey, request_mac: &[u8]) -> Vec<u8> {
        let unsigned = hex("1234a8090001000000000000076578616d706c6504746573740000060001");
        let r = sign_reply(
            key,
            request_mac,
            &unsigned,
            1_700_000_000,
            300,
            18,
            &hex("00006b06145e"),
        )
        .unwrap();
        // Same layout as BIND's real answer, MAC aside.
        assert_eq!(r[..r.len() - 44], hex("1234a8090001000000000001076578616d706c6504746573740000060001 0964646e73642d6b657900 00fa 00ff 00000000 0043 0b686d61632d73686132353600 0000 6553f100 012c 0020")[..]);
        assert_eq!(r[r.len() - 12..], hex("1234 0012 0006 00006b06145e")[..]);
        r
    }

    #[test]
    fn badtime_reply_verifies_and_carries_server_time() {
        let key = vector_key();
        let req = sign_request(&key, &hex(UNSIGNED), 1_700_000_000, 300).unwrap();
        let reply = badtime_reply(&key, &req.mac);
        let t = find_tsig(&reply).unwrap().unwrap();
        assert_eq!(t.error, TsigRcode::BadTime);
        assert_eq!(t.server_time(), Some(0x6b06145e));
        verify_reply(&key, &req.mac, &reply, &t).unwrap();

        let mut tampered = reply.clone();
        tampered[14] ^= 1;
        let t2 = find_tsig(&tampered).unwrap().unwrap();
        assert_eq!(
            verify_reply(&key, &req.mac, &tampered, &t2),
            Err(TsigError::BadMac)
        );
        let other_key = TsigKey {
            secret: Secret::new(b"another".to_vec()),
            ..key.clone()
        };
        assert_eq!(
            verify_reply(&other_key, &req.mac, &reply, &t),
            Err(TsigError::BadMac)
        );
    }

    #[test]
    fn badkey_reply_is_unsigned() {
        let mut r = hex("1234a8090001000000000001076578616d706c6504746573740000060001");
        r.extend(hex("0964646e73642d6b657900 00fa 00ff 00000000 001d"));
        r.extend(hex(
            "0b686d61632d73686132353600 0000 6553f100 012c 0000 1234 0011 0000",
        ));
        let t = find_tsig(&r).unwrap().unwrap();
        assert_eq!(t.error, TsigRcode::BadKey);
        assert!(t.mac.is_empty());
        assert_eq!(
            verify_reply(&vector_key(), &[0; 32], &r, &t),
            Err(TsigError::TruncatedMac { got: 0, want: 32 })
        );
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        let signed = hex(SIGNED);
        for cut in 0..signed.len() {
            let _ = find_tsig(&signed[..cut]);
        }
        assert!(find_tsig(&signed[..100]).is_err());
        // A compression loop.
        let mut r = hex("123400000000000000000001");
        r.extend(hex("c00c"));
        assert!(find_tsig(&r).is_err());
    }

    #[test]
    fn sha512_mac_length() {
        let key = TsigKey {
            algorithm: TsigAlgorithm::HmacSha512,
            ..vector_key()
        };
        let s = sign_request(&key, &hex(UNSIGNED), 1, 300).unwrap();
        assert_eq!(s.mac.len(), 64);
        let t = find_tsig(&s.wire).unwrap().unwrap();
        assert_eq!(t.algorithm, "hmac-sha512");
    }

    #[test]
    fn algorithm_spellings() {
        assert_eq!(
            TsigAlgorithm::parse("HMAC-SHA256."),
            Some(TsigAlgorithm::HmacSha256)
        );
        assert_eq!(
            TsigAlgorithm::parse("hmac-sha512"),
            Some(TsigAlgorithm::HmacSha512)
        );
        assert_eq!(TsigAlgorithm::parse("hmac-md5"), None);
    }

    /// `n` cases per property in CI (well under a second each); a long run sets proptest's own
    /// `PROPTEST_CASES` instead (docs/design/testing.md).
    fn cases(n: u32) -> proptest::test_runner::Config {
        let config = proptest::test_runner::Config::default();
        if std::env::var_os("PROPTEST_CASES").is_some() {
            config
        } else {
            proptest::test_runner::Config { cases: n, ..config }
        }
    }

    /// A signed NOERROR reply to the doc vector's request, and that request's MAC.
    fn signed_reply() -> (Vec<u8>, Vec<u8>) {
        let key = vector_key();
        let req = sign_request(&key, &hex(UNSIGNED), 1_700_000_000, 300).unwrap();
        let unsigned = hex("1234a8000001000000000000076578616d706c6504746573740000060001");
        let reply = sign_reply(&key, &req.mac, &unsigned, 1_700_000_001, 300, 0, &[]).unwrap();
        (reply, req.mac)
    }

    use proptest::prelude::*;

    /// True when byte `i` of a reply signed with the `ddnsd-key` / hmac-sha256 key lies in
    /// the TSIG record's key name or algorithm name: the record is the last 82 bytes (owner
    /// 11, fixed 10, algorithm 13, then 48 bytes of rdata).
    fn case_blind(reply: &[u8], i: usize) -> bool {
        let start = reply.len() - 82;
        (start..start + 11).contains(&i) || (start + 21..start + 34).contains(&i)
    }

    proptest! {
        #![proptest_config(cases(2000))]

        /// See: issue 8 (fuzzing). Arbitrary bytes: an error or a record, never a panic; what
        /// is read is bounded by the input (names by 128 labels of 63 bytes).
        #[test]
        fn find_tsig_reads_arbitrary_bytes_without_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..700),
        ) {
            if let Ok(Some(t)) = find_tsig(&bytes) {
                prop_assert!(t.mac.len() + t.other.len() <= bytes.len());
                prop_assert!(t.key_name.len() <= 128 * 64 && t.algorithm.len() <= 128 * 64);
                let _ = verify_reply(&vector_key(), &[0; 32], &bytes, &t);
            }
        }

        /// Arbitrary bytes behind a real header and TSIG owner, so parsing reaches the rdata.
        #[test]
        fn find_tsig_reads_arbitrary_rdata_without_panic(
            rdata in proptest::collection::vec(any::<u8>(), 0..200),
            rdlen in any::<u16>(),
        ) {
            let mut r = hex("1234a8000000000000000001 0964646e73642d6b657900 00fa 00ff 00000000");
            r.extend_from_slice(&rdlen.to_be_bytes());
            r.extend_from_slice(&rdata);
            if let Ok(Some(t)) = find_tsig(&r) {
                prop_assert!(t.mac.len() + t.other.len() <= r.len());
                let _ = verify_reply(&vector_key(), &[0; 32], &r, &t);
            }
        }

        /// A signed reply with any byte changed (but the header ID, which the MAC replaces by
        /// the original ID) or cut short never verifies.
        #[test]
        fn damaged_signed_replies_never_verify(
            hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let (good, mac) = signed_reply();
            let t = find_tsig(&good).unwrap().unwrap();
            prop_assert_eq!(verify_reply(&vector_key(), &mac, &good, &t), Ok(()));
            let mut bad = good.clone();
            for (at, value) in hits {
                let i = 2 + at.index(bad.len() - 2);
                // The TSIG's key and algorithm names are MACed in canonical (lower-case) form
                // (RFC 8945 §4.3.3), so their letters' case is not the signer's to fix.
                if !(case_blind(&good, i) && good[i].eq_ignore_ascii_case(&value)) {
                    bad[i] = value;
                }
            }
            if bad != good {
                if let Ok(Some(t)) = find_tsig(&bad) {
                    prop_assert!(verify_reply(&vector_key(), &mac, &bad, &t).is_err());
                }
            }
            let short = &good[..cut.index(good.len())];
            if let Ok(Some(t)) = find_tsig(short) {
                prop_assert!(verify_reply(&vector_key(), &mac, short, &t).is_err());
            }
        }
    }
}
