//! Fills the router's neighbour table after a renumbering (issue 12): an ICMPv6 echo request
//! to the all-nodes group `ff02::1` on the LAN, sent from the router's address in the new
//! prefix, makes every host answer — and before answering, resolve the router's new address
//! with a neighbour solicitation from its own address in that prefix, which the kernel turns
//! into a neighbour entry. Echoes to the addresses a host is expected to have (its EUI-64 and
//! the interface IDs it had before) make the kernel solicit those directly.
//!
//! Echo needs a raw ICMPv6 socket (CAP_NET_RAW) or an ICMP datagram socket (allowed by
//! `net.ipv4.ping_group_range`); without either, UDP datagrams to the discard port of the
//! expected addresses still make the kernel solicit them (the multicast echo is then left
//! out: hosts answer no UDP sent to a group). The message building is pure; the sending is
//! best effort (the table also fills as hosts talk).

use std::io;
use std::net::{Ipv6Addr, SocketAddrV6};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// The all-nodes link-local multicast group.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// An ICMPv6 echo request (RFC 4443 §4.1): type 128, code 0, checksum left 0 (the kernel
/// fills it in for ICMPv6 sockets, RFC 3542 §3.1), identifier, sequence number, 8 bytes of
/// data.
pub fn echo_request(id: u16, seq: u16) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[0] = 128;
    m[4..6].copy_from_slice(&id.to_be_bytes());
    m[6..8].copy_from_slice(&seq.to_be_bytes());
    m[8..16].copy_from_slice(b"ddnsd-nd");
    m
}

/// How the probes went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// ICMPv6 echo over a raw socket.
    Raw,
    /// ICMPv6 echo over a datagram ("ping") socket.
    Ping,
    /// UDP to the discard port of the expected addresses only.
    Udp,
}

/// Sends the probes on interface `ifindex` from `source` (the router's address in the new
/// prefix): an echo to [`ALL_NODES`] (with `multicast`) and one to each of `targets`.
/// Returns how they went out.
pub fn send(
    ifindex: u32,
    source: Ipv6Addr,
    multicast: bool,
    targets: &[Ipv6Addr],
) -> io::Result<Method> {
    let icmp = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))
        .map(|s| (s, Method::Raw))
        .or_else(|_| {
            Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::ICMPV6))
                .map(|s| (s, Method::Ping))
        });
    match icmp {
        Ok((sock, method)) => {
            sock.bind(&SockAddr::from(SocketAddrV6::new(source, 0, 0, 0)))?;
            sock.set_multicast_if_v6(ifindex)?;
            let id = std::process::id() as u16;
            if multicast {
                let group = SocketAddrV6::new(ALL_NODES, 0, 0, ifindex);
                sock.send_to(&echo_request(id, 0), &SockAddr::from(group))?;
            }
            for (i, t) in targets.iter().enumerate() {
                let to = SocketAddrV6::new(*t, 0, 0, 0);
                // One unanswered target must not stop the others.
                let _ = sock.send_to(&echo_request(id, i as u16 + 1), &SockAddr::from(to));
            }
            Ok(method)
        }
        Err(_) => {
            let sock = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
            sock.bind(&SockAddr::from(SocketAddrV6::new(source, 0, 0, 0)))?;
            for t in targets {
                let _ = sock.send_to(b"", &SockAddr::from(SocketAddrV6::new(*t, 9, 0, 0)));
            }
            Ok(Method::Udp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_layout() {
        let m = echo_request(0x1234, 7);
        assert_eq!(&m[..8], &[128, 0, 0, 0, 0x12, 0x34, 0, 7]);
        assert_eq!(&m[8..], b"ddnsd-nd");
    }
}
