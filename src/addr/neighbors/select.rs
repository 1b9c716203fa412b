//! Pure selection for `neighbors` sources: a host's neighbour entries, the current prefixes
//! and what earlier runs saw → one [`Candidate`] per entry with its verdict and the reason.
//!
//! The stable address among several of one host: the one whose interface ID is the MAC's
//! modified EUI-64, if present; else the one seen first (per [`NeighborHistory`], kept in the
//! state file) among those the host still answers for. Temporary addresses rotate (RFC 8981),
//! so each is seen after the stable one and is reported `temporary-looking`.

use std::net::{IpAddr, Ipv6Addr};

use crate::addr::policy::{judge_address, PolicyOptions, Select, SkipReason, Verdict};
use crate::addr::prefix::eui64;
use crate::addr::Candidate;
use crate::record::NeighborHistory;

use super::super::leases::mac_str;
use super::super::neigh::NeighFacts;

/// One prefix the `from` source selected this pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// The network (host bits zero).
    pub net: Ipv6Addr,
    /// Its length.
    pub len: u8,
    /// Its remaining preferred lifetime, if finite.
    pub lifetime: Option<u32>,
}

impl Prefix {
    /// The prefix of `addr` with `len` bits.
    pub fn of(addr: Ipv6Addr, len: u8, lifetime: Option<u32>) -> Prefix {
        Prefix {
            net: Ipv6Addr::from(u128::from(addr) & mask(len)),
            len,
            lifetime,
        }
    }

    /// True if `addr` lies inside.
    pub fn contains(&self, addr: &Ipv6Addr) -> bool {
        u128::from(*addr) & mask(self.len) == u128::from(self.net)
    }

    /// The address with this prefix and `addr`'s host bits.
    pub fn with_host_of(&self, addr: &Ipv6Addr) -> Ipv6Addr {
        Ipv6Addr::from(u128::from(self.net) | (u128::from(*addr) & !mask(self.len)))
    }
}

fn mask(len: u8) -> u128 {
    match len {
        0 => 0,
        l if l >= 128 => u128::MAX,
        l => u128::MAX << (128 - u32::from(l)),
    }
}

/// How one source judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// `best` (one stable address) or `all`.
    pub select: Select,
    /// ULA and the like.
    pub policy: PolicyOptions,
}

/// Judges the entries of the host's MACs (pure). Records every eligible entry in `history`
/// first (seen at `now`, Unix milliseconds), then chooses. Addresses first seen at the same
/// moment as the chosen one are `not-best`, so the published one of them is kept
/// ([`crate::addr::policy::keep_published`]). `entries` must already be those of the host's MACs on
/// the source's interface.
pub fn judge(
    entries: &[NeighFacts],
    prefixes: &[Prefix],
    history: &mut NeighborHistory,
    rules: Rules,
    now: u64,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut eligible: Vec<(usize, String, Ipv6Addr)> = Vec::new();
    for e in entries {
        let mac = e.mac.map(|m| mac_str(&m)).unwrap_or_default();
        let addr = IpAddr::V6(e.addr);
        let prefix = prefixes.iter().find(|p| p.contains(&e.addr));
        let mut detail = format!("mac {mac}, {}", state_name(e.state));
        let verdict = match judge_address(&addr, &rules.policy) {
            Verdict::Skipped(r) => Verdict::Skipped(r),
            Verdict::Selected if !e.counted() => Verdict::Skipped(SkipReason::Unreachable),
            Verdict::Selected if prefix.is_none() => {
                let list: Vec<String> = prefixes
                    .iter()
                    .map(|p| format!("{}/{}", p.net, p.len))
                    .collect();
                detail.push_str(&format!(
                    ", prefix now {}",
                    if list.is_empty() {
                        "none".to_owned()
                    } else {
                        list.join(" ")
                    }
                ));
                Verdict::Skipped(SkipReason::OutsidePrefix)
            }
            Verdict::Selected => {
                history.saw(&mac, e.addr, now);
                eligible.push((out.len(), mac.clone(), e.addr));
                Verdict::Selected
            }
        };
        out.push(Candidate {
            addr,
            origin: "neighbour".to_owned(),
            verdict,
            detail: Some(detail),
            lifetime: prefix
                .and_then(|p| p.lifetime)
                .filter(|_| verdict == Verdict::Selected),
        });
    }
    for (i, mac, addr) in &eligible {
        let seen = history.first_seen(mac, addr).unwrap_or(now);
        if let Some(d) = out[*i].detail.as_mut() {
            d.push_str(&format!(
                ", first seen {} ago",
                age(now.saturating_sub(seen) / 1000)
            ));
        }
    }
    if rules.select == Select::All {
        return out;
    }
    // One stable address per prefix (a host on two LAN prefixes has one in each).
    for p in prefixes {
        let here: Vec<&(usize, String, Ipv6Addr)> =
            eligible.iter().filter(|(_, _, a)| p.contains(a)).collect();
        let eui = here.iter().find(|(_, mac, a)| {
            super::super::prefix::parse_mac(mac).is_some_and(|m| u128::from(*a) as u64 == eui64(&m))
        });
        let first =
            |e: &&&(usize, String, Ipv6Addr)| (history.first_seen(&e.1, &e.2).unwrap_or(now), e.2);
        let chosen = match eui {
            Some(e) => Some((*e, true)),
            None => here.iter().min_by_key(first).map(|e| (*e, false)),
        };
        let Some(((ci, cmac, caddr), by_eui)) = chosen else {
            continue;
        };
        if by_eui {
            if let Some(d) = out[*ci].detail.as_mut() {
                d.push_str(", EUI-64 of its MAC");
            }
        }
        let chosen_seen = history.first_seen(cmac, caddr).unwrap_or(now);
        for (i, mac, addr) in &here {
            if i == ci {
                continue;
            }
            let seen = history.first_seen(mac, addr).unwrap_or(now);
            let tie = !by_eui && seen == chosen_seen;
            out[*i].verdict = Verdict::Skipped(if tie {
                SkipReason::NotBest
            } else {
                SkipReason::TemporaryLooking
            });
            out[*i].lifetime = None;
            let why = if by_eui {
                format!("the EUI-64 address {caddr} is preferred")
            } else if tie {
                format!("first seen together with {caddr}")
            } else {
                format!(
                    "seen {} after {caddr}",
                    age(seen.saturating_sub(chosen_seen) / 1000)
                )
            };
            if let Some(d) = out[*i].detail.as_mut() {
                d.push_str(&format!(", {why}"));
            }
        }
    }
    out
}

/// `45s`, `12m`, `3h`, `2d`.
pub fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn state_name(state: u16) -> String {
    let names = [
        (0x01, "incomplete"),
        (0x02, "reachable"),
        (0x04, "stale"),
        (0x08, "delay"),
        (0x10, "probe"),
        (0x20, "failed"),
        (0x40, "noarp"),
        (0x80, "permanent"),
    ];
    let s: Vec<&str> = names
        .iter()
        .filter(|(b, _)| state & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if s.is_empty() {
        "none".to_owned()
    } else {
        s.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    const REACHABLE: u16 = 0x02;
    const STALE: u16 = 0x04;
    const FAILED: u16 = 0x20;

    fn e(addr: &str, state: u16) -> NeighFacts {
        NeighFacts {
            ifindex: 2,
            addr: addr.parse().unwrap(),
            mac: Some(MAC),
            state,
        }
    }

    fn p(net: &str, lifetime: Option<u32>) -> Prefix {
        Prefix::of(net.parse().unwrap(), 64, lifetime)
    }

    fn rules(select: Select) -> Rules {
        Rules {
            select,
            policy: PolicyOptions::default(),
        }
    }

    fn verdicts(c: &[Candidate]) -> Vec<(String, String)> {
        c.iter()
            .map(|c| {
                let v = match c.verdict {
                    Verdict::Selected => "selected".to_owned(),
                    Verdict::Skipped(r) => r.code().to_owned(),
                };
                (c.addr.to_string(), v)
            })
            .collect()
    }

    #[test]
    fn states_prefix_and_scope_table() {
        let mut h = NeighborHistory::default();
        let got = judge(
            &[
                e("2001:db8:1::10", REACHABLE),
                e("2001:db8:1::11", FAILED),
                e("2001:db8:1::12", 0x01),
                e("2001:db8:9::10", STALE),
                e("fe80::1", REACHABLE),
                e("fd00::1", REACHABLE),
            ],
            &[p("2001:db8:1::", Some(3000))],
            &mut h,
            rules(Select::All),
            1_000_000,
        );
        assert_eq!(
            verdicts(&got),
            [
                ("2001:db8:1::10".to_owned(), "selected".to_owned()),
                ("2001:db8:1::11".to_owned(), "unreachable".to_owned()),
                ("2001:db8:1::12".to_owned(), "unreachable".to_owned()),
                ("2001:db8:9::10".to_owned(), "outside-prefix".to_owned()),
                ("fe80::1".to_owned(), "link-local".to_owned()),
                ("fd00::1".to_owned(), "ula".to_owned()),
            ]
        );
        assert_eq!(got[0].lifetime, Some(3000));
        assert_eq!(got[1].lifetime, None);
        assert_eq!(
            got[0].detail.as_deref(),
            Some("mac 52:54:00:12:34:56, reachable, first seen 0s ago")
        );
        assert_eq!(
            got[3].detail.as_deref(),
            Some("mac 52:54:00:12:34:56, stale, prefix now 2001:db8:1::/64")
        );
        // Only eligible entries are remembered.
        assert_eq!(h.of("52:54:00:12:34:56").len(), 1);
    }

    #[test]
    fn the_eui64_address_wins_over_one_seen_earlier() {
        let mut h = NeighborHistory::default();
        h.saw(
            "52:54:00:12:34:56",
            "2001:db8:1::abcd".parse().unwrap(),
            10_000,
        );
        let got = judge(
            &[
                e("2001:db8:1::abcd", REACHABLE),
                e("2001:db8:1:0:5054:ff:fe12:3456", STALE),
            ],
            &[p("2001:db8:1::", None)],
            &mut h,
            rules(Select::Best),
            7_210_000,
        );
        assert_eq!(verdicts(&got)[0].1, "temporary-looking");
        assert_eq!(verdicts(&got)[1].1, "selected");
        assert_eq!(
            got[0].detail.as_deref(),
            Some("mac 52:54:00:12:34:56, reachable, first seen 2h ago, the EUI-64 address 2001:db8:1:0:5054:ff:fe12:3456 is preferred")
        );
        assert!(got[1]
            .detail
            .as_deref()
            .unwrap()
            .ends_with("EUI-64 of its MAC"));
    }

    /// See: issue 12. Without an EUI-64 address the one seen first stays chosen however the
    /// temporary ones rotate, also after a restart (the history comes from the state file).
    #[test]
    fn the_address_seen_first_is_chosen_and_temporaries_say_so() {
        let mut h = NeighborHistory::default();
        let stable = "2001:db8:1::5eed";
        let prefixes = [p("2001:db8:1::", None)];
        judge(
            &[e(stable, REACHABLE)],
            &prefixes,
            &mut h,
            rules(Select::Best),
            0,
        );
        // A day later a temporary address shows up, and is reachable while the stable one is
        // stale: the stable one stays.
        let day = 86_400_000;
        let got = judge(
            &[e("2001:db8:1::1111", REACHABLE), e(stable, STALE)],
            &prefixes,
            &mut h,
            rules(Select::Best),
            day,
        );
        assert_eq!(
            verdicts(&got),
            [
                (
                    "2001:db8:1::1111".to_owned(),
                    "temporary-looking".to_owned()
                ),
                (stable.to_owned(), "selected".to_owned())
            ]
        );
        assert_eq!(
            got[0].detail.as_deref(),
            Some("mac 52:54:00:12:34:56, reachable, first seen 0s ago, seen 24h after 2001:db8:1::5eed")
        );
        // Restart: the history went through the state file; the next temporary (lower address,
        // seen "now") still loses.
        let text = serde_json::to_string(&h).unwrap();
        let mut h2: NeighborHistory = serde_json::from_str(&text).unwrap();
        let got = judge(
            &[e("2001:db8:1::1", REACHABLE), e(stable, STALE)],
            &prefixes,
            &mut h2,
            rules(Select::Best),
            2 * day,
        );
        assert_eq!(verdicts(&got)[1].1, "selected");
        // The stable address gone (failed): the temporary is all there is.
        let got = judge(
            &[e("2001:db8:1::1", REACHABLE), e(stable, FAILED)],
            &prefixes,
            &mut h2,
            rules(Select::Best),
            2 * day,
        );
        assert_eq!(verdicts(&got)[0].1, "selected");
        assert_eq!(verdicts(&got)[1].1, "unreachable");
    }

    #[test]
    fn one_choice_per_prefix_and_helpers() {
        let mut h = NeighborHistory::default();
        let got = judge(
            &[e("2001:db8:1::1", STALE), e("2001:db8:2::1", STALE)],
            &[p("2001:db8:1::", None), p("2001:db8:2::", None)],
            &mut h,
            rules(Select::Best),
            0,
        );
        assert!(got.iter().all(|c| c.verdict == Verdict::Selected));
        // Seen at the same moment: nothing tells them apart; the other is `not-best`, so the
        // published one is kept (keep_published) instead of a flip to the lower address.
        let mut h = NeighborHistory::default();
        let got = judge(
            &[e("2001:db8:1::9", STALE), e("2001:db8:1::2", STALE)],
            &[p("2001:db8:1::", None)],
            &mut h,
            rules(Select::Best),
            5,
        );
        assert_eq!(
            verdicts(&got),
            [
                ("2001:db8:1::9".to_owned(), "not-best".to_owned()),
                ("2001:db8:1::2".to_owned(), "selected".to_owned())
            ]
        );
        assert!(got[0]
            .detail
            .as_deref()
            .unwrap()
            .ends_with("first seen together with 2001:db8:1::2"));
        let pre = Prefix::of("2001:db8:3::99".parse().unwrap(), 64, None);
        assert_eq!(
            pre.with_host_of(&"2001:db8:1::5054:ff:fe12:3456".parse().unwrap())
                .to_string(),
            "2001:db8:3:0:5054:ff:fe12:3456"
        );
        assert_eq!(
            [age(5), age(600), age(7200), age(3 * 86_400)],
            ["5s", "10m", "2h", "3d"]
        );
    }
}
