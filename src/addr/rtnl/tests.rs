//! Compiled only under #[cfg(test)] (declared so in addr/rtnl.rs).
//! The framing against netlink-packet-core's serialiser (the reference for the kernel's bytes),
//! the request layout, and one live dump of this host's loopback link.

use netlink_packet_core::{
    DoneMessage, ErrorMessage, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute};
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::*;

fn bytes(m: NetlinkMessage<RouteNetlinkMessage>) -> Vec<u8> {
    let mut m = m;
    m.finalize();
    let mut buf = vec![0; m.buffer_len()];
    m.serialize(&mut buf);
    buf
}

fn inner(m: RouteNetlinkMessage) -> Vec<u8> {
    bytes(NetlinkMessage::from(m))
}

fn control(p: NetlinkPayload<RouteNetlinkMessage>) -> Vec<u8> {
    bytes(NetlinkMessage::new(NetlinkHeader::default(), p))
}

fn link_msg(index: u32, up: bool, name: Option<&str>) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    if up {
        m.header.flags = LinkFlags::Up | LinkFlags::Running;
    }
    // Attributes ddnsd skips come first, so the name is found behind them.
    m.attributes = vec![LinkAttribute::Mtu(1500), LinkAttribute::TxQueueLen(1000)];
    if let Some(n) = name {
        m.attributes.push(LinkAttribute::IfName(n.to_owned()));
    }
    m
}

fn only(datagram: &[u8]) -> Frame {
    let got: Vec<_> = frames(datagram).collect();
    match got.as_slice() {
        [Ok(f)] => f.frame.clone(),
        other => panic!("expected one message, got {other:?}"),
    }
}

#[test]
fn each_kind_is_framed_as_what_it_is() {
    let mut addr = AddressMessage::default();
    addr.header.family = AddressFamily::Inet6;
    addr.header.index = 2;
    addr.attributes = vec![AddressAttribute::Address("2001:db8::1".parse().unwrap())];
    let mut neigh = NeighbourMessage::default();
    neigh.header.family = AddressFamily::Inet6;
    neigh.header.ifindex = 3;
    neigh.attributes = vec![NeighbourAttribute::Destination(NeighbourAddress::Inet6(
        "2001:db8::7".parse().unwrap(),
    ))];
    let mut err = ErrorMessage::default();
    err.code = std::num::NonZeroI32::new(-libc::ENODEV);
    let mut done = DoneMessage::default();
    done.code = -libc::EINTR;
    let cases: Vec<(&str, Vec<u8>, Frame)> = vec![
        (
            "new address",
            inner(RouteNetlinkMessage::NewAddress(addr.clone())),
            Frame::Message(Kernel::NewAddress(addr.clone())),
        ),
        (
            "deleted address",
            inner(RouteNetlinkMessage::DelAddress(addr.clone())),
            Frame::Message(Kernel::DelAddress(addr)),
        ),
        (
            "new link, name behind other attributes",
            inner(RouteNetlinkMessage::NewLink(link_msg(
                2,
                true,
                Some("wan0"),
            ))),
            Frame::Message(Kernel::NewLink(Link {
                index: 2,
                flags: LinkFlags::Up | LinkFlags::Running,
                name: Some("wan0".into()),
            })),
        ),
        (
            "deleted link without a name",
            inner(RouteNetlinkMessage::DelLink(link_msg(7, false, None))),
            Frame::Message(Kernel::DelLink(Link {
                index: 7,
                flags: LinkFlags::empty(),
                name: None,
            })),
        ),
        (
            "new neighbour",
            inner(RouteNetlinkMessage::NewNeighbour(neigh.clone())),
            Frame::Message(Kernel::NewNeighbour(neigh.clone())),
        ),
        (
            "deleted neighbour",
            inner(RouteNetlinkMessage::DelNeighbour(neigh.clone())),
            Frame::Message(Kernel::DelNeighbour(neigh)),
        ),
        (
            "a route: not read",
            inner(RouteNetlinkMessage::NewRoute(RouteMessage::default())),
            Frame::Ignored,
        ),
        ("noop", control(NetlinkPayload::Noop), Frame::Ignored),
        (
            "error",
            control(NetlinkPayload::Error(err)),
            Frame::Error(libc::ENODEV),
        ),
        (
            "acknowledgement",
            control(NetlinkPayload::Error(ErrorMessage::default())),
            Frame::Error(0),
        ),
        (
            "end of a failed dump",
            control(NetlinkPayload::Done(done)),
            Frame::Done(libc::EINTR),
        ),
        (
            "end of a dump",
            control(NetlinkPayload::Done(DoneMessage::default())),
            Frame::Done(0),
        ),
        (
            "overrun",
            control(NetlinkPayload::Overrun(Vec::new())),
            Frame::Overrun,
        ),
    ];
    for (what, datagram, want) in cases {
        assert_eq!(only(&datagram), want, "{what}");
    }
}

#[test]
fn a_link_name_is_read_up_to_its_nul() {
    let mut m = link_msg(4, false, None);
    m.attributes.push(LinkAttribute::IfName("br-lan".into()));
    let b = inner(RouteNetlinkMessage::NewLink(m));
    let Frame::Message(Kernel::NewLink(l)) = only(&b) else {
        panic!("not a link");
    };
    assert_eq!(l.name.as_deref(), Some("br-lan"));
    assert!(!l.up());
}

#[test]
fn messages_after_a_bad_body_are_still_read_and_bad_framing_ends_the_datagram() {
    let good = inner(RouteNetlinkMessage::NewLink(link_msg(2, true, Some("a"))));
    // An RTM_NEWADDR whose body is shorter than an ifaddrmsg.
    let mut short = 20u32.to_ne_bytes().to_vec();
    short.extend_from_slice(&RTM_NEWADDR.to_ne_bytes());
    short.extend_from_slice(&[0; 10]);
    short.extend_from_slice(&[1, 2, 3, 4]);
    let mut datagram = short.clone();
    datagram.extend_from_slice(&good);
    // A length field pointing past the end.
    datagram.extend_from_slice(&900u32.to_ne_bytes());
    datagram.extend_from_slice(&[0; 12]);
    let got: Vec<_> = frames(&datagram).collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(matches!(
        &got[0],
        Ok(Framed {
            frame: Frame::Unreadable(_),
            ..
        })
    ));
    assert!(matches!(
        &got[1],
        Ok(Framed {
            frame: Frame::Message(Kernel::NewLink(_)),
            ..
        })
    ));
    assert!(got[2].is_err());
    // An error message too short to hold its code is not taken for an acknowledgement.
    let mut bare = 16u32.to_ne_bytes().to_vec();
    bare.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
    bare.extend_from_slice(&[0; 10]);
    assert!(matches!(only(&bare), Frame::Unreadable(_)));
    assert_eq!(frames(&[]).count(), 0);
}

#[test]
fn the_last_message_may_come_without_its_padding() {
    let mut b = inner(RouteNetlinkMessage::NewLink(link_msg(
        2,
        true,
        Some("eth0"),
    )));
    // "eth0\0" is five bytes: the serialiser padded the attribute (and the message) to eight.
    let len = u32::from_ne_bytes(b[..4].try_into().unwrap()) as usize;
    b.truncate(len - 3);
    b[..4].copy_from_slice(&u32::try_from(len - 3).unwrap().to_ne_bytes());
    let Frame::Message(Kernel::NewLink(l)) = only(&b) else {
        panic!("not a link");
    };
    assert_eq!(l.name.as_deref(), Some("eth0"));
}

#[test]
fn a_dump_request_is_a_header_and_its_body() {
    let r = request(
        RTM_GETNEIGH,
        NLM_F_REQUEST | NLM_F_DUMP,
        7,
        &[AF_INET6, 0, 0, 0],
    );
    let parsed = NetlinkBuffer::new_checked(&r[..]).unwrap();
    assert_eq!(parsed.length(), 20);
    assert_eq!(parsed.message_type(), RTM_GETNEIGH);
    assert_eq!(parsed.flags(), 0x301);
    assert_eq!(parsed.sequence_number(), 7);
    assert_eq!(parsed.port_number(), 0);
    assert_eq!(parsed.payload(), &[AF_INET6, 0, 0, 0]);
}

/// The kernel answers the dumps: every Linux host has `lo` with 127.0.0.1 and ::1 (unless
/// IPv6 is off, so only the IPv4 address is required).
#[tokio::test]
async fn this_hosts_loopback_is_dumped() {
    let links = links().await.unwrap();
    let lo = links
        .iter()
        .find(|l| l.name.as_deref() == Some("lo"))
        .expect("lo in the link dump");
    assert_eq!(
        link_names()
            .await
            .unwrap()
            .get(&lo.index)
            .map(String::as_str),
        Some("lo")
    );
    let addrs = addresses().await.unwrap();
    assert!(
        addrs.iter().any(|m| m.header.index == lo.index
            && m.attributes.iter().any(|a| matches!(
                a,
                AddressAttribute::Address(ip) | AddressAttribute::Local(ip)
                    if *ip == std::net::IpAddr::from([127, 0, 0, 1])
            ))),
        "127.0.0.1 on lo: {addrs:?}"
    );
    // The neighbour table may be empty; the dump must still end cleanly.
    neighbours_v6().await.unwrap();
}
