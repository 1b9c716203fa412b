//! Pure selection policy: kernel flags, scope and prefix → a [`Verdict`] per address, and the
//! `best` / `all` choice among the addresses that passed.
//!
//! Follows `../shared/providers/address-echo-services.md` §3.4, except that documentation
//! prefixes (2001:db8::/32, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) count as global
//! (DESIGN.md) so that examples and tests can use them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

/// `IFA_F_TEMPORARY` (same bit as `IFA_F_SECONDARY` for IPv4).
pub const IFA_F_TEMPORARY: u32 = 0x01;
/// `IFA_F_OPTIMISTIC`.
pub const IFA_F_OPTIMISTIC: u32 = 0x04;
/// `IFA_F_DADFAILED`.
pub const IFA_F_DADFAILED: u32 = 0x08;
/// `IFA_F_DEPRECATED`.
pub const IFA_F_DEPRECATED: u32 = 0x20;
/// `IFA_F_TENTATIVE`.
pub const IFA_F_TENTATIVE: u32 = 0x40;
/// `IFA_F_PERMANENT`.
pub const IFA_F_PERMANENT: u32 = 0x80;

/// Kernel address scope (`ifa_scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `RT_SCOPE_UNIVERSE` (0). ULA addresses report this too.
    Universe,
    /// `RT_SCOPE_SITE` (200).
    Site,
    /// `RT_SCOPE_LINK` (253).
    Link,
    /// `RT_SCOPE_HOST` (254).
    Host,
    /// Anything else.
    Other(u8),
}

/// One address as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelAddr {
    /// The address (`IFA_LOCAL` for IPv4 when present, else `IFA_ADDRESS`).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Interface name.
    pub ifname: String,
    /// Scope.
    pub scope: Scope,
    /// Full `IFA_F_*` flags (from the 32-bit `IFA_FLAGS` attribute when present).
    pub flags: u32,
    /// Preferred lifetime in seconds; `None` = forever.
    pub preferred_lft: Option<u32>,
    /// Valid lifetime in seconds; `None` = forever.
    pub valid_lft: Option<u32>,
}

/// The options a source gives the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyOptions {
    /// Publish RFC 4941/8981 temporary (privacy) addresses too.
    pub allow_temporary: bool,
    /// Publish unique local addresses (fc00::/7) too.
    pub allow_ula: bool,
    /// Publish RFC 1918 and 100.64.0.0/10 IPv4 addresses too.
    pub allow_private: bool,
    /// `select = "all"` rather than `"best"`.
    pub select: Select,
}

/// How many of the addresses that passed are published.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Select {
    /// One address per source and family: the most stable one.
    #[default]
    Best,
    /// Every address that passed.
    All,
}

/// Selected for publishing, or skipped and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Will be published.
    Selected,
    /// Will not be published.
    Skipped(SkipReason),
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Verdict::Selected => s.serialize_str("selected"),
            Verdict::Skipped(r) => s.serialize_str(r.code()),
        }
    }
}

/// Why an address is not published. Each is shown by `ddnsd detect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// IPv6 temporary (privacy) address.
    Temporary,
    /// Preferred lifetime is over.
    Deprecated,
    /// Duplicate address detection still running.
    Tentative,
    /// Duplicate address detection failed.
    DadFailed,
    /// Unique local address, fc00::/7.
    Ula,
    /// fe80::/10 or 169.254.0.0/16.
    LinkLocal,
    /// ::1 or 127.0.0.0/8.
    Loopback,
    /// Multicast.
    Multicast,
    /// ::, 0.0.0.0/8 and other addresses that are never a host's public address.
    Unspecified,
    /// RFC 1918 private IPv4.
    Private,
    /// 100.64.0.0/10 (carrier-grade NAT).
    SharedCgnat,
    /// Kernel scope other than global (site-local and the like).
    NotGlobalScope,
    /// `select = "best"` chose another address of the same source.
    NotBest,
    /// The source asks for the other family.
    WrongFamily,
    /// Other echo services agreed on another address (`consensus`).
    Outvoted,
    /// The DHCP lease is over.
    LeaseExpired,
    /// Another address of the same host is its stable one (EUI-64, or seen earlier): this one
    /// looks temporary (issue 12).
    TemporaryLooking,
    /// The neighbour entry failed or is incomplete: the host does not answer for it.
    Unreachable,
    /// Not inside the current prefix of the `from` source.
    OutsidePrefix,
}

impl SkipReason {
    /// A stable machine-readable code (used by `detect --json`).
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::Temporary => "temporary",
            SkipReason::Deprecated => "deprecated",
            SkipReason::Tentative => "tentative",
            SkipReason::DadFailed => "dadfailed",
            SkipReason::Ula => "ula",
            SkipReason::LinkLocal => "link-local",
            SkipReason::Loopback => "loopback",
            SkipReason::Multicast => "multicast",
            SkipReason::Unspecified => "unspecified",
            SkipReason::Private => "private",
            SkipReason::SharedCgnat => "cgnat",
            SkipReason::NotGlobalScope => "not-global-scope",
            SkipReason::NotBest => "not-best",
            SkipReason::WrongFamily => "wrong-family",
            SkipReason::Outvoted => "outvoted",
            SkipReason::LeaseExpired => "lease-expired",
            SkipReason::TemporaryLooking => "temporary-looking",
            SkipReason::Unreachable => "unreachable",
            SkipReason::OutsidePrefix => "outside-prefix",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::Temporary => "temporary (privacy) address; allow_temporary = true publishes it",
            SkipReason::Deprecated => "deprecated (preferred lifetime over)",
            SkipReason::Tentative => "tentative (duplicate address detection still running)",
            SkipReason::DadFailed => "duplicate address detection failed",
            SkipReason::Ula => "unique local address (fc00::/7); allow_ula = true publishes it",
            SkipReason::LinkLocal => "link-local",
            SkipReason::Loopback => "loopback",
            SkipReason::Multicast => "multicast",
            SkipReason::Unspecified => "not a host address",
            SkipReason::Private => "private (RFC 1918); allow_private = true publishes it",
            SkipReason::SharedCgnat => "carrier-grade NAT (100.64.0.0/10); allow_private = true publishes it",
            SkipReason::NotGlobalScope => "not global scope",
            SkipReason::NotBest => "another address of this source was preferred (select = \"all\" publishes every one)",
            SkipReason::WrongFamily => "other address family than the source's",
            SkipReason::Outvoted => "outvoted: enough other services agreed on another address",
            SkipReason::LeaseExpired => "the lease is over",
            SkipReason::TemporaryLooking => "temporary-looking: another address of this host is its stable one (select = \"all\" publishes every one)",
            SkipReason::Unreachable => "the neighbour entry failed or is incomplete (the host does not answer for it)",
            SkipReason::OutsidePrefix => "outside the current prefix of the `from` source",
        })
    }
}

/// Judges an address by its value alone (the rules shared by every source kind).
pub fn judge_address(addr: &IpAddr, opts: &PolicyOptions) -> Verdict {
    match addr {
        IpAddr::V6(a) => judge_v6(a, opts),
        IpAddr::V4(a) => judge_v4(a, opts),
    }
}

fn judge_v6(a: &Ipv6Addr, opts: &PolicyOptions) -> Verdict {
    let seg0 = a.segments()[0];
    let skip = if a.is_unspecified() {
        Some(SkipReason::Unspecified)
    } else if a.is_loopback() {
        Some(SkipReason::Loopback)
    } else if a.is_multicast() {
        Some(SkipReason::Multicast)
    } else if seg0 & 0xffc0 == 0xfe80 {
        Some(SkipReason::LinkLocal)
    } else if seg0 & 0xffc0 == 0xfec0 {
        Some(SkipReason::NotGlobalScope)
    } else if a.to_ipv4_mapped().is_some() {
        Some(SkipReason::Unspecified)
    } else if seg0 & 0xfe00 == 0xfc00 && !opts.allow_ula {
        Some(SkipReason::Ula)
    } else {
        None
    };
    skip.map_or(Verdict::Selected, Verdict::Skipped)
}

fn judge_v4(a: &Ipv4Addr, opts: &PolicyOptions) -> Verdict {
    let o = a.octets();
    let skip = if a.is_unspecified() || o[0] == 0 || a.is_broadcast() {
        Some(SkipReason::Unspecified)
    } else if a.is_loopback() {
        Some(SkipReason::Loopback)
    } else if a.is_link_local() {
        Some(SkipReason::LinkLocal)
    } else if a.is_multicast() {
        Some(SkipReason::Multicast)
    } else if o[0] >= 240 {
        Some(SkipReason::Unspecified)
    } else if a.is_private() && !opts.allow_private {
        Some(SkipReason::Private)
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 && !opts.allow_private {
        Some(SkipReason::SharedCgnat)
    } else {
        None
    };
    skip.map_or(Verdict::Selected, Verdict::Skipped)
}

/// Judges one kernel address: its flags and scope first, then its value.
pub fn judge_kernel(k: &KernelAddr, opts: &PolicyOptions) -> Verdict {
    let by_value = judge_address(&k.addr, opts);
    // Value-based reasons for loopback / link-local are clearer than "not global scope".
    if let Verdict::Skipped(_) = by_value {
        return by_value;
    }
    let skip = if k.flags & IFA_F_DADFAILED != 0 {
        Some(SkipReason::DadFailed)
    } else if k.flags & IFA_F_TENTATIVE != 0 {
        Some(SkipReason::Tentative)
    } else if k.flags & IFA_F_DEPRECATED != 0 || k.preferred_lft == Some(0) {
        Some(SkipReason::Deprecated)
    } else if k.addr.is_ipv6() && k.flags & IFA_F_TEMPORARY != 0 && !opts.allow_temporary {
        Some(SkipReason::Temporary)
    } else if k.scope != Scope::Universe {
        Some(SkipReason::NotGlobalScope)
    } else {
        None
    };
    skip.map_or(Verdict::Selected, Verdict::Skipped)
}

/// Judges every kernel address, then applies `select`: with `best`, one address per family
/// stays selected — non-temporary over temporary, then a forever lifetime over a finite one,
/// then the lowest address. Remaining lifetimes are not compared: they count down and are
/// refreshed by every router advertisement, and comparing them would flip the record between
/// two prefixes (issue 8). [`keep_published`] then keeps the published address if eligible.
pub fn select_kernel(addrs: &[KernelAddr], opts: &PolicyOptions) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = addrs.iter().map(|k| judge_kernel(k, opts)).collect();
    if opts.select == Select::Best {
        for v6 in [true, false] {
            let best = addrs
                .iter()
                .enumerate()
                .filter(|(i, k)| verdicts[*i] == Verdict::Selected && k.addr.is_ipv6() == v6)
                .min_by(|(_, a), (_, b)| preference_key(a).cmp(&preference_key(b)))
                .map(|(i, _)| i);
            if let Some(best) = best {
                for (i, k) in addrs.iter().enumerate() {
                    if i != best && verdicts[i] == Verdict::Selected && k.addr.is_ipv6() == v6 {
                        verdicts[i] = Verdict::Skipped(SkipReason::NotBest);
                    }
                }
            }
        }
    }
    verdicts
}

/// Smaller is better: (temporary?, finite preferred lifetime?, address).
fn preference_key(k: &KernelAddr) -> (bool, bool, IpAddr) {
    let temporary = k.addr.is_ipv6() && k.flags & IFA_F_TEMPORARY != 0;
    (temporary, k.preferred_lft.is_some(), k.addr)
}

/// With `select = "best"` (one candidate per family selected, the other eligible ones
/// [`SkipReason::NotBest`]): when an eligible candidate is already `published` and the
/// selected one is not, the published one is selected instead, so a record keeps its address
/// while that address stays usable.
pub fn keep_published(candidates: &mut [super::Candidate], published: &super::AddrSet) {
    for v6 in [true, false] {
        let fam = |c: &super::Candidate| c.addr.is_ipv6() == v6;
        let selected: Vec<usize> = (0..candidates.len())
            .filter(|&i| fam(&candidates[i]) && candidates[i].verdict == Verdict::Selected)
            .collect();
        let [chosen] = selected.as_slice() else {
            continue;
        };
        if published.contains(&candidates[*chosen].addr) {
            continue;
        }
        let keep = (0..candidates.len())
            .filter(|&i| {
                fam(&candidates[i])
                    && candidates[i].verdict == Verdict::Skipped(SkipReason::NotBest)
                    && published.contains(&candidates[i].addr)
            })
            .min_by_key(|&i| candidates[i].addr);
        if let Some(keep) = keep {
            candidates[*chosen].verdict = Verdict::Skipped(SkipReason::NotBest);
            candidates[keep].verdict = Verdict::Selected;
            let c = &mut candidates[keep];
            c.detail = Some(match c.detail.take() {
                Some(d) => format!("{d}, kept: currently published"),
                None => "kept: currently published".to_owned(),
            });
        }
    }
}

/// Applies `select` to addresses judged by value only (static, HTTP, command sources): with
/// `best` the lowest selected address per family stays.
pub fn select_plain(addrs: &[IpAddr], opts: &PolicyOptions) -> Vec<Verdict> {
    let kernel: Vec<KernelAddr> = addrs
        .iter()
        .map(|a| KernelAddr {
            addr: *a,
            prefix_len: if a.is_ipv6() { 128 } else { 32 },
            ifname: String::new(),
            scope: Scope::Universe,
            flags: IFA_F_PERMANENT,
            preferred_lft: None,
            valid_lft: None,
        })
        .collect();
    select_kernel(&kernel, opts)
}

/// A short description of the kernel facts of an address, for `detect`.
pub fn describe_kernel(k: &KernelAddr) -> String {
    let mut parts = Vec::new();
    for (bit, name) in [
        (
            IFA_F_TEMPORARY,
            if k.addr.is_ipv6() {
                "temporary"
            } else {
                "secondary"
            },
        ),
        (IFA_F_OPTIMISTIC, "optimistic"),
        (IFA_F_DADFAILED, "dadfailed"),
        (IFA_F_DEPRECATED, "deprecated"),
        (IFA_F_TENTATIVE, "tentative"),
        (IFA_F_PERMANENT, "permanent"),
    ] {
        if k.flags & bit != 0 {
            parts.push(name.to_owned());
        }
    }
    let scope = match k.scope {
        Scope::Universe => "global".to_owned(),
        Scope::Site => "site".to_owned(),
        Scope::Link => "link".to_owned(),
        Scope::Host => "host".to_owned(),
        Scope::Other(n) => format!("scope-{n}"),
    };
    let lft = |l: Option<u32>| l.map_or("forever".to_owned(), |s| format!("{s}s"));
    format!(
        "/{} scope {} {}preferred {} valid {}",
        k.prefix_len,
        scope,
        if parts.is_empty() {
            String::new()
        } else {
            format!("{} ", parts.join(","))
        },
        lft(k.preferred_lft),
        lft(k.valid_lft)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(addr: &str, flags: u32, scope: Scope, pref: Option<u32>) -> KernelAddr {
        KernelAddr {
            addr: addr.parse().unwrap(),
            prefix_len: 64,
            ifname: "eth0".into(),
            scope,
            flags,
            preferred_lft: pref,
            valid_lft: pref,
        }
    }

    const U: Scope = Scope::Universe;

    #[test]
    fn every_rule_table() {
        let def = PolicyOptions::default();
        let allow_all = PolicyOptions {
            allow_temporary: true,
            allow_ula: true,
            allow_private: true,
            select: Select::All,
        };
        use SkipReason::*;
        let cases: Vec<(KernelAddr, PolicyOptions, Verdict)> = vec![
            (
                k("2001:db8::1", IFA_F_PERMANENT, U, None),
                def,
                Verdict::Selected,
            ),
            (k("2001:db8::2", 0, U, Some(3600)), def, Verdict::Selected),
            (
                k("2001:db8::3", IFA_F_TEMPORARY, U, Some(3600)),
                def,
                Verdict::Skipped(Temporary),
            ),
            (
                k("2001:db8::3", IFA_F_TEMPORARY, U, Some(3600)),
                allow_all,
                Verdict::Selected,
            ),
            (
                k("2001:db8::4", IFA_F_DEPRECATED, U, Some(0)),
                def,
                Verdict::Skipped(Deprecated),
            ),
            (
                k("2001:db8::4", 0, U, Some(0)),
                allow_all,
                Verdict::Skipped(Deprecated),
            ),
            (
                k("2001:db8::5", IFA_F_TENTATIVE, U, None),
                def,
                Verdict::Skipped(Tentative),
            ),
            (
                k("2001:db8::6", IFA_F_TENTATIVE | IFA_F_DADFAILED, U, None),
                def,
                Verdict::Skipped(DadFailed),
            ),
            (
                k("fd00::2", IFA_F_PERMANENT, U, None),
                def,
                Verdict::Skipped(Ula),
            ),
            (
                k("fc12::2", IFA_F_PERMANENT, U, None),
                def,
                Verdict::Skipped(Ula),
            ),
            (
                k("fd00::2", IFA_F_PERMANENT, U, None),
                allow_all,
                Verdict::Selected,
            ),
            (
                k("fe80::1", IFA_F_PERMANENT, Scope::Link, None),
                allow_all,
                Verdict::Skipped(LinkLocal),
            ),
            (
                k("::1", IFA_F_PERMANENT, Scope::Host, None),
                allow_all,
                Verdict::Skipped(Loopback),
            ),
            (
                k("ff02::1", 0, Scope::Link, None),
                allow_all,
                Verdict::Skipped(Multicast),
            ),
            (
                k("2001:db8::7", 0, Scope::Site, None),
                def,
                Verdict::Skipped(NotGlobalScope),
            ),
            (
                k("::ffff:192.0.2.1", 0, U, None),
                def,
                Verdict::Skipped(Unspecified),
            ),
            (
                k("192.0.2.1", IFA_F_PERMANENT, U, None),
                def,
                Verdict::Selected,
            ),
            (k("203.0.113.9", 0x01, U, None), def, Verdict::Selected), // IPv4 secondary is fine
            (
                k("127.0.0.1", 0, Scope::Host, None),
                allow_all,
                Verdict::Skipped(Loopback),
            ),
            (
                k("169.254.1.1", 0, Scope::Link, None),
                allow_all,
                Verdict::Skipped(LinkLocal),
            ),
            (k("10.1.2.3", 0, U, None), def, Verdict::Skipped(Private)),
            (k("172.16.0.1", 0, U, None), def, Verdict::Skipped(Private)),
            (k("192.168.1.1", 0, U, None), def, Verdict::Skipped(Private)),
            (k("192.168.1.1", 0, U, None), allow_all, Verdict::Selected),
            (
                k("100.64.0.1", 0, U, None),
                def,
                Verdict::Skipped(SharedCgnat),
            ),
            (
                k("100.127.255.1", 0, U, None),
                def,
                Verdict::Skipped(SharedCgnat),
            ),
            (k("100.128.0.1", 0, U, None), def, Verdict::Selected),
            (k("100.64.0.1", 0, U, None), allow_all, Verdict::Selected),
            (
                k("224.0.0.1", 0, U, None),
                allow_all,
                Verdict::Skipped(Multicast),
            ),
            (
                k("0.0.0.0", 0, U, None),
                allow_all,
                Verdict::Skipped(Unspecified),
            ),
        ];
        for (addr, opts, want) in cases {
            assert_eq!(
                judge_kernel(&addr, &opts),
                want,
                "{} flags {:#x}",
                addr.addr,
                addr.flags
            );
        }
    }

    #[test]
    fn best_prefers_non_temporary_then_forever_then_lowest() {
        let opts = PolicyOptions {
            allow_temporary: true,
            ..Default::default()
        };
        let cases: Vec<(Vec<KernelAddr>, usize)> = vec![
            // non-temporary beats a temporary with a longer lifetime
            (
                vec![
                    k("2001:db8::9", IFA_F_TEMPORARY, U, None),
                    k("2001:db8::a", 0, U, Some(10)),
                ],
                1,
            ),
            // See: issue 8 (stable choice). Remaining lifetimes count down and are refreshed by
            // router advertisements: they never decide, the lowest address does.
            (
                vec![
                    k("2001:db8::1", 0, U, Some(100)),
                    k("2001:db8::2", 0, U, Some(200)),
                ],
                0,
            ),
            (
                vec![
                    k("2001:db8::1", 0, U, Some(300)),
                    k("2001:db8::2", 0, U, Some(200)),
                ],
                0,
            ),
            // forever beats any finite lifetime
            (
                vec![
                    k("2001:db8::1", 0, U, Some(100)),
                    k("2001:db8::2", IFA_F_PERMANENT, U, None),
                ],
                1,
            ),
            // equal: lowest address, whatever the order
            (
                vec![k("2001:db8::2", 0, U, None), k("2001:db8::1", 0, U, None)],
                1,
            ),
            // a skipped address is never chosen
            (
                vec![
                    k("2001:db8::1", IFA_F_TENTATIVE, U, None),
                    k("2001:db8::9", 0, U, Some(5)),
                ],
                1,
            ),
        ];
        for (addrs, want) in cases {
            let v = select_kernel(&addrs, &opts);
            for (i, verdict) in v.iter().enumerate() {
                if i == want {
                    assert_eq!(*verdict, Verdict::Selected, "{addrs:?}");
                } else {
                    assert_ne!(*verdict, Verdict::Selected, "{addrs:?}");
                }
            }
        }
    }

    #[test]
    fn best_is_per_family_and_all_keeps_every_one() {
        let addrs = vec![
            k("2001:db8::1", 0, U, None),
            k("2001:db8::2", 0, U, None),
            k("192.0.2.1", 0, U, None),
            k("192.0.2.2", 0, U, None),
        ];
        let best = select_kernel(&addrs, &PolicyOptions::default());
        assert_eq!(
            best,
            vec![
                Verdict::Selected,
                Verdict::Skipped(SkipReason::NotBest),
                Verdict::Selected,
                Verdict::Skipped(SkipReason::NotBest)
            ]
        );
        let all = select_kernel(
            &addrs,
            &PolicyOptions {
                select: Select::All,
                ..Default::default()
            },
        );
        assert!(all.iter().all(|v| *v == Verdict::Selected));
    }

    #[test]
    fn describes_kernel_facts() {
        let a = k("2001:db8::3", IFA_F_TEMPORARY, U, Some(100));
        assert_eq!(
            describe_kernel(&a),
            "/64 scope global temporary preferred 100s valid 100s"
        );
    }

    /// See: issue 8 (stable choice). The published address stays selected while eligible;
    /// once it is not, the usual preference decides; `select = "all"` is left alone.
    #[test]
    fn keep_published_keeps_the_published_address_while_eligible() {
        use crate::addr::Candidate;
        let cand = |a: &str, v: Verdict| Candidate {
            addr: a.parse().unwrap(),
            origin: "eth0".into(),
            verdict: v,
            detail: None,
            lifetime: None,
        };
        let published: crate::record::AddrSet =
            ["2001:db8::9".parse().unwrap()].into_iter().collect();
        let mut c = vec![
            cand("2001:db8::1", Verdict::Selected),
            cand("2001:db8::9", Verdict::Skipped(SkipReason::NotBest)),
            cand("203.0.113.1", Verdict::Selected),
        ];
        keep_published(&mut c, &published);
        assert_eq!(c[0].verdict, Verdict::Skipped(SkipReason::NotBest));
        assert_eq!(c[1].verdict, Verdict::Selected);
        assert_eq!(c[1].detail.as_deref(), Some("kept: currently published"));
        assert_eq!(
            c[2].verdict,
            Verdict::Selected,
            "the other family is untouched"
        );
        // Not eligible (deprecated): the usual choice stands.
        let mut c = vec![
            cand("2001:db8::1", Verdict::Selected),
            cand("2001:db8::9", Verdict::Skipped(SkipReason::Deprecated)),
        ];
        keep_published(&mut c, &published);
        assert_eq!(c[0].verdict, Verdict::Selected);
        // select = "all": several selected, nothing to keep.
        let mut c = vec![
            cand("2001:db8::1", Verdict::Selected),
            cand("2001:db8::9", Verdict::Selected),
        ];
        keep_published(&mut c, &published);
        assert!(c.iter().all(|c| c.verdict == Verdict::Selected));
    }
}
