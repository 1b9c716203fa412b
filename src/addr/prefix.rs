//! `kind = "prefix"`: addresses of LAN hosts, composed from the prefix another source (usually
//! an interface) selected this pass and a fixed host part: a `suffix` or a MAC's modified
//! EUI-64 interface ID, with an optional `subnet_id` for a delegated /56 or /48.
//!
//! Composition is a pure function ([`compose`], checked by [`check`]). At detect time a prefix
//! source reads its `from` source's detection made in the same pass ([`super::detect_many`]
//! detects every `from` source once however many prefix sources share it).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::policy::{judge_address, PolicyOptions};
use super::{Candidate, Detection, Source, SourceError};
use crate::record::Family;

/// The default prefix length.
pub const DEFAULT_PREFIX_LENGTH: u8 = 64;

/// Settings of a prefix source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixSettings {
    /// The source whose selected IPv6 addresses give the prefix.
    pub from: String,
    /// How many leading bits of those addresses are the prefix (at most 64).
    pub prefix_length: u8,
    /// The subnet placed between `prefix_length` and 64 (0 when not delegated).
    pub subnet_id: u64,
    /// The host part.
    pub host: HostPart,
    /// Rules the composed address is judged by (ULA).
    pub policy: PolicyOptions,
}

/// The host's part of the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostPart {
    /// `suffix = "::1234:5678:9abc:def0"`: ORed into the address.
    Suffix(Ipv6Addr),
    /// `mac = "aa:bb:cc:dd:ee:ff"`: the modified EUI-64 interface ID (RFC 4291 appendix A).
    Mac([u8; 6]),
}

/// Why a prefix/host combination cannot be composed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrefixProblem {
    /// `prefix_length` above 64.
    PrefixTooLong(u8),
    /// The suffix has bits set inside the prefix.
    SuffixInPrefix {
        /// The suffix.
        suffix: Ipv6Addr,
        /// The prefix length.
        prefix_length: u8,
    },
    /// The suffix has bits in the subnet field while `subnet_id` is set.
    SuffixInSubnet {
        /// The suffix.
        suffix: Ipv6Addr,
    },
    /// `subnet_id` needs more bits than lie between the prefix and /64.
    SubnetTooLarge {
        /// The subnet id.
        subnet_id: u64,
        /// Bits available.
        bits: u8,
    },
}

impl fmt::Display for PrefixProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixProblem::PrefixTooLong(l) => {
                write!(f, "prefix_length {l} is longer than 64")
            }
            PrefixProblem::SuffixInPrefix {
                suffix,
                prefix_length,
            } => write!(
                f,
                "suffix {suffix} has bits inside the /{prefix_length} prefix"
            ),
            PrefixProblem::SuffixInSubnet { suffix } => write!(
                f,
                "suffix {suffix} has bits in the subnet field, which subnet_id fills"
            ),
            PrefixProblem::SubnetTooLarge { subnet_id, bits: 0 } => write!(
                f,
                "subnet_id {subnet_id} does not fit: a /64 prefix leaves no subnet bits"
            ),
            PrefixProblem::SubnetTooLarge { subnet_id, bits } => write!(
                f,
                "subnet_id {subnet_id} does not fit in the {bits} bits between the prefix and /64 (at most {})",
                (1u128 << bits) - 1
            ),
        }
    }
}

/// Checks that a prefix length, subnet id and host part compose (pure).
pub fn check(prefix_length: u8, subnet_id: u64, host: &HostPart) -> Result<(), PrefixProblem> {
    if prefix_length > 64 {
        return Err(PrefixProblem::PrefixTooLong(prefix_length));
    }
    let bits = 64 - prefix_length;
    if u128::from(subnet_id) >= (1u128 << bits) {
        return Err(PrefixProblem::SubnetTooLarge { subnet_id, bits });
    }
    if let HostPart::Suffix(suffix) = host {
        let s = u128::from(*suffix);
        if s & mask(prefix_length) != 0 {
            return Err(PrefixProblem::SuffixInPrefix {
                suffix: *suffix,
                prefix_length,
            });
        }
        if subnet_id != 0 && s & mask(64) != 0 {
            return Err(PrefixProblem::SuffixInSubnet { suffix: *suffix });
        }
    }
    Ok(())
}

/// Composes an address: the first `prefix_length` bits of `prefix`, `subnet_id` in the bits
/// up to /64, and the host part (pure; [`check`] must have passed).
pub fn compose(prefix: Ipv6Addr, prefix_length: u8, subnet_id: u64, host: &HostPart) -> Ipv6Addr {
    let net = u128::from(prefix) & mask(prefix_length);
    let subnet = u128::from(subnet_id) << 64;
    let host = match host {
        HostPart::Suffix(s) => u128::from(*s),
        HostPart::Mac(m) => u128::from(eui64(m)),
    };
    Ipv6Addr::from(net | subnet | host)
}

/// The modified EUI-64 interface ID of a MAC (RFC 4291 appendix A): `ff:fe` inserted in the
/// middle and the universal/local bit (0x02 of the first octet) inverted.
pub fn eui64(mac: &[u8; 6]) -> u64 {
    u64::from_be_bytes([
        mac[0] ^ 0x02,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ])
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (b, p) in mac.iter_mut().zip(parts) {
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

fn mask(len: u8) -> u128 {
    match len {
        0 => 0,
        l if l >= 128 => u128::MAX,
        l => u128::MAX << (128 - u32::from(l)),
    }
}

/// Composes LAN host addresses from another source's prefix.
pub struct PrefixSource {
    name: String,
    settings: PrefixSettings,
    from: Option<Arc<dyn Source>>,
}

impl PrefixSource {
    /// A prefix source named `name` reading `from` (`None`: it could not be built).
    pub fn new(
        name: String,
        settings: PrefixSettings,
        from: Option<Arc<dyn Source>>,
    ) -> PrefixSource {
        PrefixSource {
            name,
            settings,
            from,
        }
    }

    /// The composed candidates for a detection of the `from` source (pure): one per selected
    /// IPv6 address.
    pub fn derive(&self, from: &Detection) -> Detection {
        let s = &self.settings;
        let candidates = from
            .selected(Family::Ipv6)
            .iter()
            .filter_map(|a| match a {
                IpAddr::V6(p) => Some(*p),
                IpAddr::V4(_) => None,
            })
            .map(|p| {
                let addr = IpAddr::V6(compose(p, s.prefix_length, s.subnet_id, &s.host));
                Candidate {
                    addr,
                    origin: format!("composed from {p}/{}", s.prefix_length),
                    verdict: judge_address(&addr, &s.policy),
                    detail: None,
                    lifetime: None,
                }
            })
            .collect();
        Detection {
            source: self.name.clone(),
            candidates,
        }
    }

    fn failed(&self) -> SourceError {
        SourceError::InputFailed {
            from: self.settings.from.clone(),
        }
    }
}

impl Source for PrefixSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn families(&self) -> Vec<Family> {
        vec![Family::Ipv6]
    }

    fn watched_interfaces(&self) -> Option<Vec<String>> {
        self.from.as_ref().and_then(|f| f.watched_interfaces())
    }

    fn inputs(&self) -> Vec<String> {
        vec![self.settings.from.clone()]
    }

    /// Standalone: detects the `from` source itself (a pass uses [`Source::detect_with`]).
    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        Box::pin(async move {
            let from = self.from.as_ref().ok_or_else(|| self.failed())?;
            let d = from.detect().await.map_err(|_| self.failed())?;
            Ok(self.derive(&d))
        })
    }

    fn detect_with<'a>(
        &'a self,
        inputs: &'a BTreeMap<String, Detection>,
    ) -> BoxFuture<'a, Result<Detection, SourceError>> {
        let r = inputs
            .get(&self.settings.from)
            .map(|d| self.derive(d))
            .ok_or_else(|| self.failed());
        Box::pin(async move { r })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn eui64_from_mac_matches_known_pairs() {
        // Observed on a veth in this lab: fe80::4cd:baff:fe11:535 for 06:cd:ba:11:05:35.
        let cases = [
            ("06:cd:ba:11:05:35", "2001:db8:1::4cd:baff:fe11:535"),
            // RFC 4291 §2.5.1 / appendix A style: 00:… gets the U/L bit set.
            ("00:1a:2b:3c:4d:5e", "2001:db8:1::21a:2bff:fe3c:4d5e"),
            ("52-54-00-12-34-56", "2001:db8:1::5054:ff:fe12:3456"),
        ];
        for (mac, want) in cases {
            let m = parse_mac(mac).unwrap();
            let got = compose(v6("2001:db8:1::99"), 64, 0, &HostPart::Mac(m));
            assert_eq!(got, v6(want), "{mac}");
        }
        for bad in [
            "06:cd:ba:11:05",
            "06:cd:ba:11:05:3",
            "zz:cd:ba:11:05:35",
            "",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }

    #[test]
    fn composition_table() {
        let suffix = HostPart::Suffix(v6("::1234:5678:9abc:def0"));
        let cases: &[(&str, u8, u64, &str)] = &[
            (
                "2001:db8:1:0:aaaa::1",
                64,
                0,
                "2001:db8:1:0:1234:5678:9abc:def0",
            ),
            // A delegated /60: the subnet goes into the last 4 bits before /64.
            (
                "2001:db8:1:10::1",
                60,
                5,
                "2001:db8:1:15:1234:5678:9abc:def0",
            ),
            // A /56 with subnet 0xff.
            (
                "2001:db8:1:ab00::",
                56,
                0xff,
                "2001:db8:1:abff:1234:5678:9abc:def0",
            ),
            (
                "2001:db8:1:ffff::",
                48,
                0x2,
                "2001:db8:1:2:1234:5678:9abc:def0",
            ),
        ];
        for (prefix, len, subnet, want) in cases {
            assert_eq!(check(*len, *subnet, &suffix), Ok(()));
            assert_eq!(
                compose(v6(prefix), *len, *subnet, &suffix),
                v6(want),
                "{prefix}/{len}"
            );
        }
    }

    #[test]
    fn invalid_combinations() {
        let cases: &[(u8, u64, HostPart, &str)] = &[
            (
                65,
                0,
                HostPart::Suffix(v6("::1")),
                "prefix_length 65 is longer than 64",
            ),
            (
                64,
                0,
                HostPart::Suffix(v6("0:0:0:1::1")),
                "suffix ::1:0:0:0:1 has bits inside the /64 prefix",
            ),
            (
                64,
                1,
                HostPart::Mac([0; 6]),
                "subnet_id 1 does not fit: a /64 prefix leaves no subnet bits",
            ),
            (
                60,
                16,
                HostPart::Mac([0; 6]),
                "subnet_id 16 does not fit in the 4 bits between the prefix and /64 (at most 15)",
            ),
            (
                56,
                1,
                HostPart::Suffix(v6("0:0:0:2::1")),
                "suffix ::2:0:0:0:1 has bits in the subnet field, which subnet_id fills",
            ),
        ];
        for (len, subnet, host, want) in cases {
            assert_eq!(check(*len, *subnet, host).unwrap_err().to_string(), *want);
        }
        // Without subnet_id a suffix may fill the subnet field of a shorter prefix.
        assert_eq!(check(56, 0, &HostPart::Suffix(v6("0:0:0:2::1"))), Ok(()));
    }

    #[test]
    fn one_candidate_per_selected_prefix_address() {
        use crate::addr::{SkipReason, Verdict};
        let from = Detection {
            source: "wan".into(),
            candidates: vec![
                Candidate {
                    addr: "2001:db8:1::10".parse().unwrap(),
                    origin: "eth0".into(),
                    verdict: Verdict::Selected,
                    detail: None,
                    lifetime: None,
                },
                Candidate {
                    addr: "2001:db8:9::10".parse().unwrap(),
                    origin: "eth0".into(),
                    verdict: Verdict::Skipped(SkipReason::Deprecated),
                    detail: None,
                    lifetime: None,
                },
            ],
        };
        let p = PrefixSource::new(
            "nas".into(),
            PrefixSettings {
                from: "wan".into(),
                prefix_length: 64,
                subnet_id: 0,
                host: HostPart::Suffix(v6("::5")),
                policy: PolicyOptions::default(),
            },
            None,
        );
        let d = p.derive(&from);
        assert_eq!(d.candidates.len(), 1);
        assert_eq!(d.candidates[0].addr.to_string(), "2001:db8:1::5");
        assert_eq!(d.candidates[0].origin, "composed from 2001:db8:1::10/64");
        assert_eq!(d.candidates[0].verdict, Verdict::Selected);
    }
}
