//! `kind = "leases"`: a host's addresses from a DHCP server's lease file — odhcpd (OpenWrt's
//! `/tmp/hosts/odhcpd`, or its state file) and dnsmasq (`dnsmasq.leases`) — chosen by
//! hostname, DUID or MAC. The parsers ([`parse`]) are pure: every line they cannot read is
//! skipped and counted with its reason ([`Skipped`]), never a panic. The daemon watches the
//! file ([`Source::watched_files`]) so a new lease is published at once.
//!
//! Formats (as their writers print them):
//! - odhcpd state file: `# IFACE DUID IAID HOSTNAME VALID HOSTID LENGTH ADDR/LEN…` per
//!   lease (IPv4: `# IFACE MACHEX ipv4 HOSTNAME VALID ADDRHEX 32 A.B.C.D/32`), `VALID`
//!   the Unix time the lease ends (`-1` forever, `0` over), `HOSTNAME` `-` when unknown
//!   (`broken\x20NAME` when refused), followed by hosts lines `ADDR<TAB>FQDN<TAB>NAME`. The
//!   newer hosts file holds only the hosts lines (no DUID, no lifetime).
//! - dnsmasq: `EXPIRY MAC IP HOSTNAME CLIENTID` (IPv4), a `duid SERVERDUID` line, then
//!   `EXPIRY [T]IAID IP6 HOSTNAME DUID` (IPv6; `T` = a temporary address, IA_TA);
//!   `EXPIRY` 0 is forever, `*` an unknown field.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use futures::future::BoxFuture;

use super::policy::{judge_address, PolicyOptions, SkipReason, Verdict};
use super::prefix::parse_mac;
use super::{Candidate, Detection, Source, SourceError};
use crate::limits::{human_size, Capped};
use crate::record::Family;

/// A lease file larger than this is refused (a home router's has a few hundred lines).
pub const MAX_LEASE_FILE: usize = 4 * 1024 * 1024;

/// Which DHCP server wrote the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseFormat {
    /// OpenWrt's odhcpd (state file or hosts file).
    Odhcpd,
    /// dnsmasq's `dnsmasq.leases`.
    Dnsmasq,
}

impl LeaseFormat {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseFormat::Odhcpd => "odhcpd",
            LeaseFormat::Dnsmasq => "dnsmasq",
        }
    }
}

/// When a lease ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expiry {
    /// At this Unix time.
    At(u64),
    /// Never (or the file does not say).
    Never,
}

/// One address lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The leased address.
    pub addr: IpAddr,
    /// The client's hostname, if it sent one.
    pub hostname: Option<String>,
    /// The client's DUID (DHCPv6) or client id, lower-case hex without separators.
    pub duid: Option<String>,
    /// The client's MAC: the hardware address (DHCPv4) or the one inside a DUID-LL/LLT.
    pub mac: Option<[u8; 6]>,
    /// When the lease ends.
    pub expires: Expiry,
    /// A temporary address (dnsmasq IA_TA): never a host's stable address.
    pub temporary: bool,
}

/// Why a line was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BadLine {
    /// Fewer fields than the format has.
    TooFewFields,
    /// The address field is not an address.
    BadAddress,
    /// The expiry field is not a number.
    BadExpiry,
    /// The hardware address is not hex bytes.
    BadHardwareAddress,
    /// Not valid UTF-8.
    NotText,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadLine::TooFewFields => "too few fields",
            BadLine::BadAddress => "bad address",
            BadLine::BadExpiry => "bad expiry time",
            BadLine::BadHardwareAddress => "bad hardware address",
            BadLine::NotText => "not text",
        })
    }
}

/// The lines a parse skipped: per reason, how many and the first line number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped(pub BTreeMap<BadLine, (usize, usize)>);

impl Skipped {
    fn add(&mut self, reason: BadLine, line: usize) {
        let e = self.0.entry(reason).or_insert((0, line));
        e.0 += 1;
    }

    /// Total lines skipped.
    pub fn total(&self) -> usize {
        self.0.values().map(|(n, _)| n).sum()
    }
}

impl fmt::Display for Skipped {
    /// `2 lines skipped: 1 bad address (line 4), 1 too few fields (line 9)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.total();
        write!(f, "{n} line{} skipped: ", if n == 1 { "" } else { "s" })?;
        for (i, (reason, (count, first))) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{count} {reason} (line {first})")?;
        }
        Ok(())
    }
}

/// What a parse found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every address lease, in file order (one per address, deduplicated).
    pub leases: Vec<Lease>,
    /// The lines that could not be read.
    pub skipped: Skipped,
}

impl Parsed {
    /// The MACs of the leases naming `hostname` (case-insensitive), first seen first.
    pub fn macs_of(&self, hostname: &str) -> Vec<[u8; 6]> {
        let mut out = Vec::new();
        for l in &self.leases {
            if l.hostname
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(hostname))
            {
                if let Some(m) = l.mac {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
        }
        out
    }
}

/// Parses a lease file's bytes (pure; never panics).
pub fn parse(format: LeaseFormat, bytes: &[u8]) -> Parsed {
    let mut p = Parsed::default();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let Ok(line) = std::str::from_utf8(raw) else {
            p.skipped.add(BadLine::NotText, line_no);
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let r = match format {
            LeaseFormat::Odhcpd => odhcpd_line(line),
            LeaseFormat::Dnsmasq => dnsmasq_line(line),
        };
        match r {
            Ok(leases) => {
                for l in leases {
                    merge(&mut p.leases, l);
                }
            }
            Err(reason) => p.skipped.add(reason, line_no),
        }
    }
    p
}

/// Adds a lease; a hosts line for an address already known from a lease line (or the other
/// way round) fills in what is missing rather than adding a second lease.
fn merge(leases: &mut Vec<Lease>, l: Lease) {
    match leases.iter_mut().find(|x| x.addr == l.addr) {
        Some(x) => {
            x.hostname = x.hostname.take().or(l.hostname);
            x.duid = x.duid.take().or(l.duid);
            x.mac = x.mac.or(l.mac);
            if x.expires == Expiry::Never {
                x.expires = l.expires;
            }
            x.temporary |= l.temporary;
        }
        None => leases.push(l),
    }
}

fn odhcpd_line(line: &str) -> Result<Vec<Lease>, BadLine> {
    if let Some(rest) = line.strip_prefix('#') {
        let f: Vec<&str> = rest.split_whitespace().collect();
        // A comment, not a lease line (odhcpd writes at least 7 fields).
        if f.len() < 7 {
            return Ok(Vec::new());
        }
        let (id, kind, name, valid) = (f[1], f[2], f[3], f[4]);
        let hostname = (name != "-" && !name.starts_with("broken\\x20")).then(|| name.to_owned());
        let expires = match valid.parse::<i64>() {
            Ok(-1) => Expiry::Never,
            Ok(v) if v >= 0 => Expiry::At(v as u64),
            _ => return Err(BadLine::BadExpiry),
        };
        let id = hex(id).ok_or(BadLine::BadHardwareAddress)?;
        let (duid, mac) = if kind == "ipv4" {
            let mac: Option<[u8; 6]> = id.as_slice().try_into().ok();
            (None, Some(mac.ok_or(BadLine::BadHardwareAddress)?))
        } else {
            (Some(hexstr(&id)), duid_mac(&id))
        };
        let mut out = Vec::new();
        for a in &f[7..] {
            let (addr, len) = a.split_once('/').ok_or(BadLine::BadAddress)?;
            let addr: IpAddr = addr.parse().map_err(|_| BadLine::BadAddress)?;
            let len: u8 = len.parse().map_err(|_| BadLine::BadAddress)?;
            // Delegated prefixes (IA_PD) are not a host's address.
            if len != if addr.is_ipv6() { 128 } else { 32 } {
                continue;
            }
            out.push(Lease {
                addr,
                hostname: hostname.clone(),
                duid: duid.clone(),
                mac,
                expires,
                temporary: false,
            });
        }
        return Ok(out);
    }
    // A hosts line: ADDR NAME [NAME…]; the last name is the bare hostname.
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 2 {
        return Err(BadLine::TooFewFields);
    }
    let addr: IpAddr = f[0].parse().map_err(|_| BadLine::BadAddress)?;
    Ok(vec![Lease {
        addr,
        hostname: f.last().map(|s| (*s).to_owned()),
        duid: None,
        mac: None,
        expires: Expiry::Never,
        temporary: false,
    }])
}

fn dnsmasq_line(line: &str) -> Result<Vec<Lease>, BadLine> {
    let f: Vec<&str> = line.split_whitespace().collect();
    // The server's own DUID, and the extra lines newer versions append.
    if matches!(f.first(), Some(&("duid" | "agent-info" | "vendorclass"))) {
        return Ok(Vec::new());
    }
    if f.len() < 5 {
        return Err(BadLine::TooFewFields);
    }
    let expires = match f[0].parse::<u64>() {
        Ok(0) => Expiry::Never,
        Ok(t) => Expiry::At(t),
        Err(_) => return Err(BadLine::BadExpiry),
    };
    let addr: IpAddr = f[2].parse().map_err(|_| BadLine::BadAddress)?;
    let hostname = (f[3] != "*").then(|| f[3].to_owned());
    let client = (f[4] != "*")
        .then(|| hex(f[4]).ok_or(BadLine::BadHardwareAddress))
        .transpose()?;
    let (mac, duid, temporary) = match addr {
        IpAddr::V4(_) => {
            // Ethernet is written bare; other hardware types as `TYPE-aa:bb:…`.
            let mac = if f[1].contains('-') {
                None
            } else {
                Some(parse_mac(f[1]).ok_or(BadLine::BadHardwareAddress)?)
            };
            (mac, client.as_deref().map(hexstr), false)
        }
        IpAddr::V6(_) => {
            let iaid = f[1].strip_prefix('T').unwrap_or(f[1]);
            if iaid.parse::<u32>().is_err() {
                return Err(BadLine::TooFewFields);
            }
            (
                client.as_deref().and_then(duid_mac),
                client.as_deref().map(hexstr),
                f[1].starts_with('T'),
            )
        }
    };
    Ok(vec![Lease {
        addr,
        hostname,
        duid,
        mac,
        expires,
        temporary,
    }])
}

/// Hex bytes, with or without `:` separators.
fn hex(s: &str) -> Option<Vec<u8>> {
    let digits: String = s.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) || !digits.is_ascii() {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

fn hexstr(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The MAC inside a DUID-LLT (type 1) or DUID-LL (type 3) of Ethernet (hardware type 1),
/// RFC 8415 §11.2 and §11.4.
pub fn duid_mac(duid: &[u8]) -> Option<[u8; 6]> {
    match duid {
        [0, 1, 0, 1, _, _, _, _, mac @ ..] | [0, 3, 0, 1, mac @ ..] => mac.try_into().ok(),
        _ => None,
    }
}

/// Normalises a user-written DUID (`00:01:…` or plain hex) the way [`Lease::duid`] holds it.
pub fn parse_duid(s: &str) -> Option<String> {
    hex(s.trim()).map(|b| hexstr(&b))
}

/// Which leases belong to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostKey {
    /// `hostname = "nas"` (case-insensitive).
    Hostname(String),
    /// `duid = "00:01:…"` (normalised hex).
    Duid(String),
    /// `mac = "aa:bb:cc:dd:ee:ff"`.
    Mac([u8; 6]),
}

impl HostKey {
    fn matches(&self, l: &Lease) -> bool {
        match self {
            HostKey::Hostname(h) => l
                .hostname
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(h)),
            HostKey::Duid(d) => l.duid.as_deref() == Some(d.as_str()),
            HostKey::Mac(m) => l.mac == Some(*m),
        }
    }
}

/// Settings of a leases source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeasesSettings {
    /// The lease file.
    pub file: PathBuf,
    /// Who wrote it.
    pub format: LeaseFormat,
    /// Which host.
    pub host: HostKey,
    /// The family yielded.
    pub family: Family,
    /// Rules the addresses are judged by (ULA, private).
    pub policy: PolicyOptions,
}

/// Reads a lease file (at most [`MAX_LEASE_FILE`] bytes) and parses it.
pub fn read(path: &std::path::Path, format: LeaseFormat) -> Result<Parsed, SourceError> {
    let failed = |reason: String| SourceError::LeaseFile {
        path: path.display().to_string(),
        reason,
    };
    let mut f = std::fs::File::open(path).map_err(|e| failed(e.to_string()))?;
    let mut buf = Capped::new(MAX_LEASE_FILE);
    let mut chunk = [0u8; 8192];
    loop {
        let n = f.read(&mut chunk).map_err(|e| failed(e.to_string()))?;
        if n == 0 {
            break;
        }
        buf.extend(&chunk[..n]).map_err(|e| {
            failed(format!(
                "the file is {e}; more than {} is not a lease file",
                human_size(MAX_LEASE_FILE)
            ))
        })?;
    }
    let parsed = parse(format, &buf.into_inner());
    if parsed.skipped.total() > 0 {
        tracing::warn!(
            file = %path.display(),
            "lease file {}: {}",
            path.display(),
            parsed.skipped
        );
    }
    Ok(parsed)
}

/// The detection of one host's leases (pure): every lease of the family that matches,
/// selected unless expired, temporary or ruled out by the policy.
pub fn judge(source: &str, s: &LeasesSettings, parsed: &Parsed, now: u64) -> Detection {
    let candidates = parsed
        .leases
        .iter()
        .filter(|l| s.host.matches(l) && Family::of(&l.addr) == s.family)
        .map(|l| {
            let lifetime = match l.expires {
                Expiry::At(t) => Some(u32::try_from(t.saturating_sub(now)).unwrap_or(u32::MAX)),
                Expiry::Never => None,
            };
            let verdict = if lifetime == Some(0) {
                Verdict::Skipped(SkipReason::LeaseExpired)
            } else if l.temporary {
                Verdict::Skipped(SkipReason::Temporary)
            } else {
                judge_address(&l.addr, &s.policy)
            };
            let mut detail = Vec::new();
            if let Some(h) = &l.hostname {
                detail.push(format!("hostname {h}"));
            }
            if let Some(m) = l.mac {
                detail.push(format!("mac {}", mac_str(&m)));
            }
            detail.push(match lifetime {
                Some(0) => "expired".to_owned(),
                Some(secs) => format!("{secs}s left"),
                None => "no end".to_owned(),
            });
            Candidate {
                addr: l.addr,
                origin: format!("{} lease", s.format.as_str()),
                verdict,
                detail: Some(detail.join(", ")),
                lifetime: lifetime.filter(|_| verdict == Verdict::Selected),
            }
        })
        .collect();
    Detection {
        source: source.to_owned(),
        candidates,
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_str(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A host's addresses from a lease file.
#[derive(Debug)]
pub struct LeasesSource {
    name: String,
    settings: LeasesSettings,
}

impl LeasesSource {
    /// A leases source named `name`.
    pub fn new(name: String, settings: LeasesSettings) -> LeasesSource {
        LeasesSource { name, settings }
    }
}

impl Source for LeasesSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn families(&self) -> Vec<Family> {
        vec![self.settings.family]
    }

    fn watched_files(&self) -> Vec<PathBuf> {
        vec![self.settings.file.clone()]
    }

    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        Box::pin(async move {
            let parsed = read(&self.settings.file, self.settings.format)?;
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            Ok(judge(&self.name, &self.settings, &parsed, now))
        })
    }
}

#[cfg(test)]
mod tests;
