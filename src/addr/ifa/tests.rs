//! Compiled only under #[cfg(test)] (declared so in addr/ifa.rs).
//! Table cases for the IFA extraction, then property tests (issue 8, fuzzing) that feed
//! arbitrary bytes and arbitrary attribute combinations through the whole path a kernel
//! message takes: the datagram framing (`rtnl::frames`) → `ifa::facts` → the dump's `kernel_addr` and the
//! policy's verdict, and the watch's `Tracker`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DefaultNla, NetlinkMessage, Parseable};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, CacheInfo,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use proptest::prelude::*;

use super::*;
use crate::addr::netlink::{judge, kernel_addr};
use crate::addr::policy::{PolicyOptions, Select};
use crate::addr::rtnl::{self, Frame, Kernel};
use crate::addr::watch::{Tracker, WatchEvent};

const PERMANENT: u32 = 0x80;
const TENTATIVE: u32 = 0x40;
const NOPREFIXROUTE: u32 = 0x200;
const MANAGETEMPADDR: u32 = 0x100;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn msg(family: AddressFamily, header_flags: u8, attrs: Vec<AddressAttribute>) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = family;
    m.header.prefix_len = 64;
    m.header.flags = AddressHeaderFlags::from_bits_retain(header_flags);
    m.header.index = 2;
    m.attributes = attrs;
    m
}

fn cache(preferred: u32, valid: u32) -> AddressAttribute {
    let mut c = CacheInfo::default();
    c.ifa_preferred = preferred;
    c.ifa_valid = valid;
    AddressAttribute::CacheInfo(c)
}

fn flags(bits: u32) -> AddressAttribute {
    AddressAttribute::Flags(AddressFlags::from_bits_retain(bits))
}

#[test]
fn facts_prefer_the_local_side_and_the_full_flag_set() {
    use AddressAttribute::{Address, Local};
    use AddressFamily::{Inet, Inet6};
    // (case, message (family, 8-bit header flags, attributes), expected address, expected flags)
    let cases: Vec<(&str, AddressMessage, &str, u32)> = vec![
        (
            "ipv6, address only (the usual case)",
            msg(Inet6, 0x80, vec![Address(ip("2001:db8::1"))]),
            "2001:db8::1",
            PERMANENT,
        ),
        (
            "ipv6, local only",
            msg(Inet6, 0x80, vec![Local(ip("2001:db8::1"))]),
            "2001:db8::1",
            PERMANENT,
        ),
        (
            "ipv6 point-to-point: address is the peer, local is ours",
            msg(
                Inet6,
                0x80,
                vec![Address(ip("2001:db8::2")), Local(ip("2001:db8::1"))],
            ),
            "2001:db8::1",
            PERMANENT,
        ),
        (
            "ipv6 point-to-point, local announced first",
            msg(
                Inet6,
                0x80,
                vec![Local(ip("2001:db8::1")), Address(ip("2001:db8::2"))],
            ),
            "2001:db8::1",
            PERMANENT,
        ),
        (
            "ipv4, both equal (broadcast link)",
            msg(
                Inet,
                0x80,
                vec![Address(ip("192.0.2.1")), Local(ip("192.0.2.1"))],
            ),
            "192.0.2.1",
            PERMANENT,
        ),
        (
            "ipv4 point-to-point: address is the peer, local is ours",
            msg(
                Inet,
                0x80,
                vec![Address(ip("192.0.2.2")), Local(ip("192.0.2.1"))],
            ),
            "192.0.2.1",
            PERMANENT,
        ),
        (
            "ipv4, address only",
            msg(Inet, 0, vec![Address(ip("192.0.2.1"))]),
            "192.0.2.1",
            0,
        ),
        (
            "IFA_FLAGS wins over the header byte (bits above 0xff exist only there)",
            msg(
                Inet6,
                0x80,
                vec![
                    Address(ip("2001:db8::1")),
                    flags(PERMANENT | NOPREFIXROUTE | MANAGETEMPADDR),
                ],
            ),
            "2001:db8::1",
            PERMANENT | NOPREFIXROUTE | MANAGETEMPADDR,
        ),
        (
            "IFA_FLAGS wins even when it has fewer bits (the header byte is then ignored)",
            msg(
                Inet6,
                0x80 | 0x40,
                vec![Address(ip("2001:db8::1")), flags(PERMANENT)],
            ),
            "2001:db8::1",
            PERMANENT,
        ),
        (
            "no IFA_FLAGS: the 8-bit header flags",
            msg(Inet6, 0x80 | 0x40, vec![Address(ip("2001:db8::1"))]),
            "2001:db8::1",
            PERMANENT | TENTATIVE,
        ),
    ];
    for (case, m, want_addr, want_flags) in cases {
        let got = facts(&m).unwrap_or_else(|| panic!("{case}: None"));
        assert_eq!(got.addr, ip(want_addr), "{case}");
        assert_eq!(got.flags, want_flags, "{case}");
    }
}

#[test]
fn facts_refuse_messages_they_cannot_trust() {
    use AddressAttribute::{Address, Label, Local};
    use AddressFamily::{Inet, Inet6};
    let cases: Vec<(&str, AddressFamily, Vec<AddressAttribute>)> = vec![
        (
            "no address at all",
            Inet6,
            vec![Label("vt0".into()), flags(PERMANENT)],
        ),
        (
            "ipv4 header, ipv6 address",
            Inet,
            vec![Address(ip("2001:db8::1"))],
        ),
        (
            "ipv6 header, ipv4 address",
            Inet6,
            vec![Address(ip("192.0.2.1"))],
        ),
        (
            // Falling back to IFA_ADDRESS here would publish a point-to-point peer.
            "local of the wrong family, address right",
            Inet6,
            vec![Local(ip("192.0.2.1")), Address(ip("2001:db8::2"))],
        ),
        (
            "another family",
            AddressFamily::Unspec,
            vec![Address(ip("2001:db8::1"))],
        ),
        (
            "another family",
            AddressFamily::Packet,
            vec![Address(ip("192.0.2.1"))],
        ),
    ];
    for (case, family, attrs) in cases {
        assert_eq!(facts(&msg(family, 0x80, attrs)), None, "{case}");
    }
}

#[test]
fn lifetimes_come_from_cacheinfo_with_infinity_as_forever() {
    let a = AddressAttribute::Address(ip("2001:db8::1"));
    let cases = [
        ("no cacheinfo", vec![a.clone()], None, None),
        (
            "forever",
            vec![a.clone(), cache(u32::MAX, u32::MAX)],
            None,
            None,
        ),
        (
            "counting down",
            vec![a.clone(), cache(300, 600)],
            Some(300),
            Some(600),
        ),
        (
            "deprecated",
            vec![a.clone(), cache(0, 600)],
            Some(0),
            Some(600),
        ),
    ];
    for (case, attrs, preferred, valid) in cases {
        let got = facts(&msg(AddressFamily::Inet6, 0x80, attrs)).unwrap();
        assert_eq!(
            (got.preferred_lft, got.valid_lft),
            (preferred, valid),
            "{case}"
        );
    }
}

#[test]
fn dump_and_watch_agree_on_a_point_to_point_address() {
    let m = msg(
        AddressFamily::Inet6,
        0x80,
        vec![
            AddressAttribute::Address(ip("2001:db8::2")),
            AddressAttribute::Local(ip("2001:db8::1")),
        ],
    );
    let names = HashMap::from([(2, "vt0".to_owned())]);
    let dumped = kernel_addr(&m, &names).unwrap();
    assert_eq!(
        (dumped.addr, dumped.ifname.as_str()),
        (ip("2001:db8::1"), "vt0")
    );
    let mut t = Tracker::with_names(names);
    assert_eq!(
        t.event(Kernel::NewAddress(m.clone())),
        Some(WatchEvent::Address {
            interface: Some("vt0".into()),
            addr: ip("2001:db8::1"),
            flags: PERMANENT,
            removed: false,
        })
    );
    assert_eq!(t.event(Kernel::NewAddress(m.clone())), None, "repeat");
    assert_eq!(
        t.event(Kernel::DelAddress(m)),
        Some(WatchEvent::Address {
            interface: Some("vt0".into()),
            addr: ip("2001:db8::1"),
            flags: PERMANENT,
            removed: true,
        })
    );
}

// ---- property tests -------------------------------------------------------------------------

/// The longest `detail` text a kernel address can produce: every flag name, a three-digit
/// scope number and two ten-digit lifetimes fit well within this.
const MAX_DETAIL: usize = 160;

/// Everything a received datagram goes through; panics (failing the property) on any
/// unbounded or inconsistent output.
fn pipeline(bytes: &[u8], tracker: &mut Tracker) {
    // What the watch does with each datagram.
    for f in rtnl::frames(bytes) {
        let Ok(rtnl::Framed {
            frame: Frame::Message(inner),
            ..
        }) = f
        else {
            continue;
        };
        judge_message(&inner);
        if let Some(WatchEvent::Address { addr, .. }) = tracker.event(inner.clone()) {
            assert!(mentions(&inner, addr), "event address not in the message");
        }
    }
    // The address payload alone, as a dump reply's body.
    if let Ok(m) = AddressMessage::parse(bytes) {
        judge_message(&Kernel::NewAddress(m));
    }
}

fn judge_message(inner: &Kernel) {
    let (Kernel::NewAddress(m) | Kernel::DelAddress(m)) = inner else {
        return;
    };
    let Some(k) = kernel_addr(m, &HashMap::new()) else {
        return;
    };
    assert!(mentions(inner, k.addr), "kernel_addr invented an address");
    assert!(k.ifname.len() <= "if4294967295".len(), "{}", k.ifname);
    for select in [Select::Best, Select::All] {
        let opts = PolicyOptions {
            select,
            ..PolicyOptions::default()
        };
        let d = judge("fuzz", std::slice::from_ref(&k), &opts);
        assert_eq!(d.candidates.len(), 1);
        let detail = d.candidates[0].detail.as_deref().unwrap_or("");
        assert!(detail.len() <= MAX_DETAIL, "{detail:?}");
    }
}

/// True if `addr` is the message's IFA_LOCAL or IFA_ADDRESS.
fn mentions(inner: &Kernel, addr: IpAddr) -> bool {
    let (Kernel::NewAddress(m) | Kernel::DelAddress(m)) = inner else {
        return false;
    };
    m.attributes.iter().any(
        |a| matches!(a, AddressAttribute::Address(x) | AddressAttribute::Local(x) if *x == addr),
    )
}

fn serialize(m: &RouteNetlinkMessage) -> Vec<u8> {
    let mut nl = NetlinkMessage::from(m.clone());
    nl.finalize();
    let mut buf = vec![0; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn any_attr() -> impl Strategy<Value = AddressAttribute> {
    prop_oneof![
        4 => any_ip().prop_map(AddressAttribute::Address),
        4 => any_ip().prop_map(AddressAttribute::Local),
        2 => any::<u32>().prop_map(flags),
        2 => (any::<u32>(), any::<u32>()).prop_map(|(p, v)| cache(p, v)),
        1 => "[a-z0-9:.]{0,15}".prop_map(AddressAttribute::Label),
        1 => any::<[u8; 4]>().prop_map(|o| AddressAttribute::Broadcast(Ipv4Addr::from(o))),
        1 => any::<[u8; 16]>().prop_map(|o| AddressAttribute::Anycast(Ipv6Addr::from(o))),
        1 => any::<[u8; 16]>().prop_map(|o| AddressAttribute::Multicast(Ipv6Addr::from(o))),
        1 => any::<u32>().prop_map(AddressAttribute::RoutePriority),
        // Kinds the crate does not know (12 and up) come back as Other.
        1 => (12u16..0x3fff, proptest::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(k, v)| AddressAttribute::Other(DefaultNla::new(k, v))),
    ]
}

fn any_family() -> impl Strategy<Value = AddressFamily> {
    prop_oneof![
        4 => Just(AddressFamily::Inet6),
        4 => Just(AddressFamily::Inet),
        1 => any::<u8>().prop_map(AddressFamily::from),
    ]
}

prop_compose! {
    fn any_address_message()(
        family in any_family(),
        prefix_len in any::<u8>(),
        header_flags in any::<u8>(),
        scope in any::<u8>(),
        index in any::<u32>(),
        attributes in proptest::collection::vec(any_attr(), 0..8),
    ) -> AddressMessage {
        let mut m = msg(family, header_flags, attributes);
        m.header.prefix_len = prefix_len;
        m.header.scope = scope.into();
        m.header.index = index;
        m
    }
}

/// What `facts` must say, written independently: the last IFA_LOCAL, else the last
/// IFA_ADDRESS, of the header's family; the last IFA_FLAGS, else the header byte.
fn model(m: &AddressMessage) -> Option<(IpAddr, u32)> {
    let last = |want_local: bool| {
        m.attributes.iter().rev().find_map(|a| match a {
            AddressAttribute::Local(x) if want_local => Some(*x),
            AddressAttribute::Address(x) if !want_local => Some(*x),
            _ => None,
        })
    };
    let addr = last(true).or_else(|| last(false))?;
    let family_ok = match m.header.family {
        AddressFamily::Inet => addr.is_ipv4(),
        AddressFamily::Inet6 => addr.is_ipv6(),
        _ => false,
    };
    let flags = m
        .attributes
        .iter()
        .rev()
        .find_map(|a| match a {
            AddressAttribute::Flags(f) => Some(f.bits()),
            _ => None,
        })
        .unwrap_or(u32::from(m.header.flags.bits()));
    family_ok.then_some((addr, flags))
}

/// `n` cases per property in CI (a few seconds in all); a long run sets proptest's own
/// `PROPTEST_CASES` instead (command and result in docs/design/testing.md).
fn cases(n: u32) -> ProptestConfig {
    let config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        config
    } else {
        ProptestConfig { cases: n, ..config }
    }
}

proptest! {
    #![proptest_config(cases(2000))]

    /// Arbitrary datagrams: no panic, and nothing comes out that the bytes did not say.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        pipeline(&bytes, &mut Tracker::default());
    }

    /// Arbitrary bytes behind a well-formed RTM_NEWADDR/RTM_DELADDR header, so the parser
    /// gets past the first length checks and into the attributes.
    #[test]
    fn arbitrary_address_payloads_never_panic(
        del in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let len = u32::try_from(16 + payload.len()).unwrap();
        let mut bytes = len.to_ne_bytes().to_vec();
        bytes.extend_from_slice(&(if del { 21u16 } else { 20u16 }).to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend_from_slice(&payload);
        pipeline(&bytes, &mut Tracker::default());
    }

    /// Arbitrary attribute combinations survive the round trip through the wire format, and
    /// the helper picks exactly what the model says (local side, full flags, family checked).
    #[test]
    fn arbitrary_attributes_are_read_as_the_model_says(m in any_address_message()) {
        let bytes = serialize(&RouteNetlinkMessage::NewAddress(m.clone()));
        let framed: Vec<_> = rtnl::frames(&bytes).collect();
        let parsed = match framed.as_slice() {
            [Ok(rtnl::Framed { frame: Frame::Message(Kernel::NewAddress(p)), .. })] => p.clone(),
            other => panic!("round trip failed: {other:?}"),
        };
        let got = facts(&parsed).map(|f| (f.addr, f.flags));
        prop_assert_eq!(got, model(&m));
        pipeline(&bytes, &mut Tracker::default());
    }

    /// Well-formed messages cut short or with bytes overwritten: no panic anywhere.
    #[test]
    fn damaged_messages_never_panic(
        m in any_address_message(),
        del in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
    ) {
        let inner = if del {
            RouteNetlinkMessage::DelAddress(m)
        } else {
            RouteNetlinkMessage::NewAddress(m)
        };
        let mut bytes = serialize(&inner);
        for (at, value) in hits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let mut tracker = Tracker::default();
        pipeline(&bytes, &mut tracker);
        let keep = cut.index(bytes.len() + 1);
        pipeline(&bytes[..keep], &mut tracker);
    }
}

proptest! {
    // Each case is a whole stream: fewer cases keep this within a second.
    #![proptest_config(cases(150))]

    /// A long stream of arbitrary messages through one tracker: its memory is bounded by
    /// what was announced (one entry per distinct interface/address), never more.
    #[test]
    fn tracker_state_stays_bounded(
        msgs in proptest::collection::vec((any_address_message(), any::<bool>()), 0..40),
    ) {
        let mut tracker = Tracker::default();
        let mut events = 0usize;
        for (m, del) in &msgs {
            let inner = if *del {
                Kernel::DelAddress(m.clone())
            } else {
                Kernel::NewAddress(m.clone())
            };
            events += usize::from(tracker.event(inner).is_some());
        }
        prop_assert!(events <= msgs.len());
        prop_assert!(tracker.remembered() <= msgs.len());
    }
}
