//! Pure planning: a record's desired RRset compared with what ddnsd last published
//! ([`plan`]), or with what a read of the live record found ([`against_live`]) → [`Action`].
//! No I/O, no clock, no logging.

use crate::record::{AddrSet, RrSet, Ttl};

/// What ddnsd remembers having published for one (name, type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remembered<'a> {
    /// The provider it was published to.
    pub provider: &'a str,
    /// The addresses published.
    pub addrs: &'a AddrSet,
    /// The TTL published.
    pub ttl: Ttl,
}

/// What a pass must do for one RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The live set already equals the desired one: no provider call.
    Unchanged,
    /// Nothing is known to be published: write the set.
    Create,
    /// A different set was published: replace it.
    Update {
        /// What was published before.
        was: AddrSet,
    },
}

/// Decides what to do for `desired`, given what was last published through `provider`.
/// A record moved to another provider, or remembered with no address (a write that was never
/// confirmed), counts as never published there.
pub fn plan(desired: &RrSet, provider: &str, remembered: Option<Remembered<'_>>) -> Action {
    match remembered {
        Some(r) if r.provider == provider && !r.addrs.is_empty() => {
            if r.addrs == &desired.addrs && r.ttl == desired.ttl {
                Action::Unchanged
            } else {
                Action::Update {
                    was: r.addrs.clone(),
                }
            }
        }
        _ => Action::Create,
    }
}

/// The steps an automatic TTL takes (seconds): as the lifetime counts down the TTL drops a
/// step at a time, so a shrinking lifetime costs a few writes, not one per pass.
pub const AUTO_TTL_STEPS: [u32; 11] =
    [30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400];

/// `ttl = "auto"` (issue 12): the cap, or the largest step not above the remaining preferred
/// lifetime if that is shorter (the smallest step when even that is too long: the address is
/// about to be replaced). The provider's minimum applies on top (`Provider::effective_ttl`).
pub fn auto_ttl(cap: Ttl, remaining: Option<u32>) -> Ttl {
    let Some(r) = remaining else { return cap };
    let step = AUTO_TTL_STEPS
        .iter()
        .rev()
        .find(|s| **s <= r)
        .copied()
        .unwrap_or(AUTO_TTL_STEPS[0]);
    Ttl(cap.0.min(step))
}

/// Decides what to do for `desired`, given the live RRset a read found (`live_ttl` is `None`
/// when the name has no record of this type): the live set is the truth, whatever the state
/// file remembers.
pub fn against_live(desired: &RrSet, live_addrs: &AddrSet, live_ttl: Option<Ttl>) -> Action {
    // A withdrawal (empty set) is done when nothing is live, whatever the TTL.
    if live_addrs == &desired.addrs && (live_ttl == Some(desired.ttl) || live_addrs.is_empty()) {
        Action::Unchanged
    } else if live_addrs.is_empty() {
        Action::Create
    } else {
        Action::Update {
            was: live_addrs.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordType;

    fn set(a: &[&str]) -> AddrSet {
        a.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn plan_table() {
        let desired = RrSet {
            name: "h.example.test".parse().unwrap(),
            rtype: RecordType::Aaaa,
            ttl: Ttl(300),
            addrs: set(&["2001:db8::1"]),
        };
        let same = set(&["2001:db8::1"]);
        let other = set(&["2001:db8::2"]);
        let cases: Vec<(Option<Remembered<'_>>, Action)> = vec![
            (None, Action::Create),
            (
                Some(Remembered {
                    provider: "p",
                    addrs: &same,
                    ttl: Ttl(300),
                }),
                Action::Unchanged,
            ),
            (
                Some(Remembered {
                    provider: "p",
                    addrs: &other,
                    ttl: Ttl(300),
                }),
                Action::Update { was: other.clone() },
            ),
            (
                Some(Remembered {
                    provider: "p",
                    addrs: &same,
                    ttl: Ttl(60),
                }),
                Action::Update { was: same.clone() },
            ),
            (
                Some(Remembered {
                    provider: "q",
                    addrs: &same,
                    ttl: Ttl(300),
                }),
                Action::Create,
            ),
        ];
        let empty = AddrSet::new();
        let cases = [
            cases,
            vec![(
                Some(Remembered {
                    provider: "p",
                    addrs: &empty,
                    ttl: Ttl(300),
                }),
                Action::Create,
            )],
        ]
        .concat();
        for (remembered, want) in cases {
            assert_eq!(
                plan(&desired, "p", remembered.clone()),
                want,
                "{remembered:?}"
            );
        }
    }

    #[test]
    fn auto_ttl_table() {
        let cases = [
            (300, None, 300),
            (300, Some(86_400), 300),
            (300, Some(301), 300),
            (300, Some(299), 120),
            (300, Some(119), 60),
            (300, Some(59), 30),
            (300, Some(1), 30),
            (3600, Some(5000), 3600),
            (3600, Some(3599), 1800),
            (20, Some(5000), 20),
        ];
        for (cap, remaining, want) in cases {
            assert_eq!(
                auto_ttl(Ttl(cap), remaining),
                Ttl(want),
                "{cap} {remaining:?}"
            );
        }
    }

    #[test]
    fn live_table() {
        let desired = RrSet {
            name: "h.example.test".parse().unwrap(),
            rtype: RecordType::Aaaa,
            ttl: Ttl(600),
            addrs: set(&["2001:db8::1"]),
        };
        let cases = [
            (set(&["2001:db8::1"]), Some(Ttl(600)), Action::Unchanged),
            // A TTL the provider raised is compared as the effective TTL the plan asked for.
            (
                set(&["2001:db8::1"]),
                Some(Ttl(300)),
                Action::Update {
                    was: set(&["2001:db8::1"]),
                },
            ),
            (set(&[]), None, Action::Create),
            (
                set(&["2001:db8::1", "2001:db8::9"]),
                Some(Ttl(600)),
                Action::Update {
                    was: set(&["2001:db8::1", "2001:db8::9"]),
                },
            ),
        ];
        for (live, ttl, want) in cases {
            assert_eq!(against_live(&desired, &live, ttl), want, "{live} {ttl:?}");
        }
    }
}
