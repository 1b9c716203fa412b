//! Netlink multicast subscription → a stream of address, link and neighbour change events,
//! de-duplicated by (address, flags) because every router advertisement re-announces SLAAC
//! addresses with fresh lifetimes only (neighbours: by whether the entry counts and its MAC,
//! because entries cycle REACHABLE → STALE → DELAY → PROBE all the time), ending with [`Lost`] when the kernel dropped events (issue 8): the
//! caller subscribes again and re-reads everything. No debounce and no timers: the daemon
//! owns those.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::IpAddr;

use futures::channel::mpsc::UnboundedReceiver;
use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::sys::AsyncSocket;
use rtnetlink::MulticastGroup;
use tokio::task::JoinHandle;

use super::ifa::{self, IfaFacts};
use super::neigh;

/// One change the kernel announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    /// An address appeared, changed its flags, or went away.
    Address {
        /// The interface's name, when known.
        interface: Option<String>,
        /// The address.
        addr: IpAddr,
        /// The full `IFA_F_*` flag set.
        flags: u32,
        /// True for RTM_DELADDR.
        removed: bool,
    },
    /// A link went up or down.
    Link {
        /// The interface's name, when known.
        interface: Option<String>,
        /// True when administratively up and running.
        up: bool,
    },
    /// A global IPv6 neighbour entry appeared, started or stopped counting, changed its MAC,
    /// or went away (issue 12).
    Neighbor {
        /// The interface's name, when known.
        interface: Option<String>,
        /// The neighbour's address.
        addr: std::net::Ipv6Addr,
        /// True when its state counts (REACHABLE, STALE, DELAY, PROBE, PERMANENT).
        counted: bool,
        /// True for RTM_DELNEIGH.
        removed: bool,
    },
}

impl WatchEvent {
    /// The interface the event is about, when known.
    pub fn interface(&self) -> Option<&str> {
        match self {
            WatchEvent::Address { interface, .. }
            | WatchEvent::Link { interface, .. }
            | WatchEvent::Neighbor { interface, .. } => interface.as_deref(),
        }
    }
}

/// Why a subscription ended. Events may have been lost either way, so the caller must drop the
/// subscription, open a new one and re-read every source (a full pass).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lost {
    /// The kernel dropped events because the socket's receive buffer was full (ENOBUFS,
    /// passed up by netlink-proto as an `NLMSG_OVERRUN` message).
    Overrun {
        /// The receive buffer's size in bytes as the kernel reported it, when known.
        buffer: Option<usize>,
    },
    /// The kernel reported an error on the subscription (errno).
    Kernel(i32),
    /// The netlink socket closed (a read failed or the connection task ended).
    Closed,
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lost::Overrun { buffer: Some(n) } => {
                write!(f, "the receive buffer ({n} bytes) overflowed")
            }
            Lost::Overrun { buffer: None } => f.write_str("the receive buffer overflowed"),
            Lost::Kernel(errno) => write!(
                f,
                "the kernel reported an error on the netlink socket: {}",
                io::Error::from_raw_os_error(*errno)
            ),
            Lost::Closed => f.write_str("the netlink socket closed"),
        }
    }
}

impl std::error::Error for Lost {}

/// The receive buffer a subscription asks for. A burst of address changes (a renumbering, a
/// flapping link with many addresses) must fit while the daemon is busy with a pass; an
/// overrun is recovered (see [`Lost::Overrun`]) but costs a full pass. The kernel caps the
/// request at `net.core.rmem_max` (SO_RCVBUF, not SO_RCVBUFFORCE: the administrator's limit
/// stands) and doubles it for its bookkeeping.
pub const RECEIVE_BUFFER: usize = 1 << 20;
// SO_RCVBUF takes a C int.
const _: () = assert!(RECEIVE_BUFFER <= libc::c_int::MAX as usize);

/// A live subscription to RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_IFADDR, RTNLGRP_LINK and
/// RTNLGRP_NEIGH.
///
/// [`Subscription::next`] returns [`Lost`] when the kernel dropped events or the socket
/// closed: the caller must subscribe again and re-read everything.
pub struct Subscription {
    events: UnboundedReceiver<(
        NetlinkMessage<RouteNetlinkMessage>,
        rtnetlink::sys::SocketAddr,
    )>,
    task: JoinHandle<()>,
    tracker: Tracker,
    buffer: Option<usize>,
    lost: Option<Lost>,
}

impl Subscription {
    /// Subscribes with a [`RECEIVE_BUFFER`]-sized receive buffer, then reads the interface
    /// names (subscribing first loses no event in between). Must run inside a tokio runtime.
    pub async fn open() -> io::Result<Subscription> {
        let (mut conn, _handle, events) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Ipv6Ifaddr,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Link,
            MulticastGroup::Neigh,
        ])?;
        let socket = conn.socket_mut().socket_mut();
        // The constant fits a C int (asserted at compile time above).
        let want = libc::c_int::try_from(RECEIVE_BUFFER).unwrap_or(libc::c_int::MAX);
        // A refusal is not worth going without events: the kernel's default buffer stays,
        // overruns are recovered all the same, and the size in force is what
        // `receive_buffer()` reports (the daemon logs it).
        let _ = socket.set_rx_buf_sz(want);
        let buffer = socket.get_rx_buf_sz().ok();
        let task = tokio::spawn(conn);
        let names = match link_names().await {
            Ok(n) => n,
            Err(e) => {
                task.abort();
                return Err(e);
            }
        };
        Ok(Subscription {
            events,
            task,
            tracker: Tracker::with_names(names),
            buffer,
            lost: None,
        })
    }

    /// The receive buffer's size in bytes as the kernel reports it (twice what was granted).
    pub fn receive_buffer(&self) -> Option<usize> {
        self.buffer
    }

    /// The next change that is not a repeat, or why events were lost. After a [`Lost`] the
    /// subscription is spent: every later call returns the same [`Lost`].
    pub async fn next(&mut self) -> Result<WatchEvent, Lost> {
        if let Some(lost) = &self.lost {
            return Err(lost.clone());
        }
        let lost = loop {
            let Some((msg, from)) = self.events.next().await else {
                break Lost::Closed;
            };
            // Only the kernel (port 0) announces changes; netlink-proto's own overrun
            // message carries port 0 too.
            if from.port_number() != 0 {
                continue;
            }
            match msg.payload {
                NetlinkPayload::InnerMessage(inner) => {
                    if let Some(event) = self.tracker.event(inner) {
                        return Ok(event);
                    }
                }
                NetlinkPayload::Overrun(_) => {
                    break Lost::Overrun {
                        buffer: self.buffer,
                    }
                }
                NetlinkPayload::Error(e) => match e.code.map(|c| c.get().saturating_neg()) {
                    Some(libc::ENOBUFS) => {
                        break Lost::Overrun {
                            buffer: self.buffer,
                        }
                    }
                    Some(errno) => break Lost::Kernel(errno),
                    // An acknowledgement: nothing was asked, nothing to do.
                    None => continue,
                },
                // Done and Noop carry no change (and a future payload kind neither).
                _ => continue,
            }
        };
        self.lost = Some(lost.clone());
        Err(lost)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Turns kernel messages into change events: keeps the interface names and drops repeats.
/// Pure (no I/O), so the whole message → event path can be fed arbitrary messages in tests.
#[derive(Debug, Default)]
pub struct Tracker {
    names: HashMap<u32, String>,
    dedup: Dedup,
}

impl Tracker {
    /// A tracker that knows these interface names (index → name).
    pub fn with_names(names: HashMap<u32, String>) -> Tracker {
        Tracker {
            names,
            dedup: Dedup::default(),
        }
    }

    /// The event one message announces, if it is news; `None` for repeats, other message
    /// kinds and messages that name no usable address.
    pub fn event(&mut self, msg: RouteNetlinkMessage) -> Option<WatchEvent> {
        match msg {
            RouteNetlinkMessage::NewAddress(m) => self.address(&m, false),
            RouteNetlinkMessage::DelAddress(m) => self.address(&m, true),
            RouteNetlinkMessage::NewLink(m) => self.link(&m, false),
            RouteNetlinkMessage::DelLink(m) => self.link(&m, true),
            RouteNetlinkMessage::NewNeighbour(m) => self.neighbor(&m, false),
            RouteNetlinkMessage::DelNeighbour(m) => self.neighbor(&m, true),
            _ => None,
        }
    }

    /// How many entries the tracker remembers (names, addresses, links): tests check that it
    /// never holds more than it was told.
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.names.len()
            + self.dedup.addrs.len()
            + self.dedup.links.len()
            + self.dedup.neighbors.len()
    }

    fn neighbor(&mut self, m: &NeighbourMessage, removed: bool) -> Option<WatchEvent> {
        let f = neigh::facts(m)?;
        // Link-local and multicast entries are never published: their churn wakes nothing.
        let seg0 = f.addr.segments()[0];
        if seg0 & 0xffc0 == 0xfe80 || f.addr.is_multicast() {
            return None;
        }
        let counted = !removed && f.counted();
        if !self
            .dedup
            .neighbor(f.ifindex, f.addr, counted, f.mac, removed)
        {
            return None;
        }
        Some(WatchEvent::Neighbor {
            interface: self.names.get(&f.ifindex).cloned(),
            addr: f.addr,
            counted,
            removed,
        })
    }

    fn address(&mut self, m: &AddressMessage, removed: bool) -> Option<WatchEvent> {
        let IfaFacts { addr, flags, .. } = ifa::facts(m)?;
        if !self.dedup.address(m.header.index, addr, flags, removed) {
            return None;
        }
        Some(WatchEvent::Address {
            interface: self.names.get(&m.header.index).cloned(),
            addr,
            flags,
            removed,
        })
    }

    fn link(&mut self, m: &LinkMessage, removed: bool) -> Option<WatchEvent> {
        let index = m.header.index;
        for attr in &m.attributes {
            if let LinkAttribute::IfName(n) = attr {
                self.names.insert(index, n.clone());
            }
        }
        let up = !removed && m.header.flags.contains(LinkFlags::Up | LinkFlags::Running);
        let interface = self.names.get(&index).cloned();
        if removed {
            self.names.remove(&index);
        }
        self.dedup
            .link(index, up)
            .then_some(WatchEvent::Link { interface, up })
    }
}

/// Remembers the last flags of every (interface, address) and the last state of every link,
/// so repeats are dropped. Pure.
#[derive(Debug, Default)]
pub struct Dedup {
    addrs: HashMap<(u32, IpAddr), u32>,
    links: HashMap<u32, bool>,
    neighbors: HashMap<(u32, std::net::Ipv6Addr), NeighborSeen>,
}

/// What the dedup remembers of a neighbour entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NeighborSeen {
    counted: bool,
    mac: Option<[u8; 6]>,
}

impl Dedup {
    /// True if this address event is news (new address, new flags, or removal of a known or
    /// unknown address).
    pub fn address(&mut self, index: u32, addr: IpAddr, flags: u32, removed: bool) -> bool {
        if removed {
            self.addrs.remove(&(index, addr));
            return true;
        }
        self.addrs.insert((index, addr), flags) != Some(flags)
    }

    /// True if the link's up/down state changed (or is first seen).
    pub fn link(&mut self, index: u32, up: bool) -> bool {
        self.links.insert(index, up) != Some(up)
    }

    /// True if this neighbour event is news: a new entry, one that started or stopped
    /// counting or changed its MAC, or a removal of a counted one. A MAC-less update (an
    /// entry going FAILED reports none) keeps the MAC known before.
    pub fn neighbor(
        &mut self,
        index: u32,
        addr: std::net::Ipv6Addr,
        counted: bool,
        mac: Option<[u8; 6]>,
        removed: bool,
    ) -> bool {
        if removed {
            return self
                .neighbors
                .remove(&(index, addr))
                .is_some_and(|was| was.counted);
        }
        let prev = self.neighbors.get(&(index, addr)).copied();
        let now = NeighborSeen {
            counted,
            mac: mac.or(prev.and_then(|p| p.mac)),
        };
        self.neighbors.insert((index, addr), now);
        match prev {
            None => counted,
            Some(p) => p != now,
        }
    }
}

async fn link_names() -> io::Result<HashMap<u32, String>> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    let task = tokio::spawn(conn);
    let mut names = HashMap::new();
    let mut links = handle.link().get().execute();
    let result = loop {
        match links.try_next().await {
            Ok(Some(link)) => {
                for attr in &link.attributes {
                    if let LinkAttribute::IfName(n) = attr {
                        names.insert(link.header.index, n.clone());
                    }
                }
            }
            Ok(None) => break Ok(names),
            Err(e) => break Err(io::Error::other(e.to_string())),
        }
    };
    task.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENTATIVE: u32 = 0x40;
    const PERMANENT: u32 = 0x80;

    #[test]
    fn repeats_are_dropped_and_flag_changes_kept() {
        let mut d = Dedup::default();
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(d.address(2, a, TENTATIVE | PERMANENT, false), "first sight");
        assert!(
            !d.address(2, a, TENTATIVE | PERMANENT, false),
            "router advertisement repeat"
        );
        assert!(d.address(2, a, PERMANENT, false), "dad finished");
        assert!(!d.address(2, a, PERMANENT, false));
        assert!(
            d.address(3, a, PERMANENT, false),
            "same address on another link"
        );
        assert!(d.address(2, a, PERMANENT, true), "removal");
        assert!(d.address(2, a, PERMANENT, false), "re-added after removal");
    }

    type Sent = (
        NetlinkMessage<RouteNetlinkMessage>,
        rtnetlink::sys::SocketAddr,
    );

    fn fake(
        buffer: Option<usize>,
    ) -> (futures::channel::mpsc::UnboundedSender<Sent>, Subscription) {
        let (tx, events) = futures::channel::mpsc::unbounded();
        let sub = Subscription {
            events,
            task: tokio::spawn(async {}),
            tracker: Tracker::with_names(HashMap::from([(2, "vt0".to_owned())])),
            buffer,
            lost: None,
        };
        (tx, sub)
    }

    fn kernel() -> rtnetlink::sys::SocketAddr {
        rtnetlink::sys::SocketAddr::new(0, 0)
    }

    fn new_address(addr: &str) -> NetlinkMessage<RouteNetlinkMessage> {
        let mut m = AddressMessage::default();
        m.header.family = netlink_packet_route::AddressFamily::Inet6;
        m.header.index = 2;
        m.attributes = vec![netlink_packet_route::address::AddressAttribute::Address(
            addr.parse().unwrap(),
        )];
        NetlinkMessage::from(RouteNetlinkMessage::NewAddress(m))
    }

    fn payload(p: NetlinkPayload<RouteNetlinkMessage>) -> NetlinkMessage<RouteNetlinkMessage> {
        NetlinkMessage::new(netlink_packet_core::NetlinkHeader::default(), p)
    }

    fn error(code: i32) -> NetlinkMessage<RouteNetlinkMessage> {
        let mut e = netlink_packet_core::ErrorMessage::default();
        e.code = std::num::NonZeroI32::new(code);
        payload(NetlinkPayload::Error(e))
    }

    #[tokio::test]
    async fn overruns_and_closes_end_the_subscription_and_stay_ended() {
        let event = |addr: &str| WatchEvent::Address {
            interface: Some("vt0".into()),
            addr: addr.parse().unwrap(),
            flags: 0,
            removed: false,
        };
        // (what arrives after one real event, what next() then reports)
        let cases = [
            (
                payload(NetlinkPayload::Overrun(Vec::new())),
                Lost::Overrun {
                    buffer: Some(2097152),
                },
            ),
            (
                error(-libc::ENOBUFS),
                Lost::Overrun {
                    buffer: Some(2097152),
                },
            ),
            (error(-libc::EPERM), Lost::Kernel(libc::EPERM)),
        ];
        for (bad, want) in cases {
            let (tx, mut sub) = fake(Some(2097152));
            tx.unbounded_send((new_address("2001:db8::1"), kernel()))
                .unwrap();
            // Ignored: an acknowledgement, Done/Noop, and a message from a user-space port.
            tx.unbounded_send((error(0), kernel())).unwrap();
            tx.unbounded_send((payload(NetlinkPayload::Noop), kernel()))
                .unwrap();
            tx.unbounded_send((
                new_address("2001:db8::66"),
                rtnetlink::sys::SocketAddr::new(4242, 0),
            ))
            .unwrap();
            tx.unbounded_send((bad, kernel())).unwrap();
            tx.unbounded_send((new_address("2001:db8::2"), kernel()))
                .unwrap();
            assert_eq!(sub.next().await, Ok(event("2001:db8::1")));
            assert_eq!(sub.next().await, Err(want.clone()));
            assert_eq!(sub.next().await, Err(want), "spent after a loss");
        }
        let (tx, mut sub) = fake(None);
        drop(tx);
        assert_eq!(sub.next().await, Err(Lost::Closed));
    }

    #[test]
    fn losses_say_what_happened() {
        let cases = [
            (
                Lost::Overrun {
                    buffer: Some(425984),
                },
                "the receive buffer (425984 bytes) overflowed",
            ),
            (
                Lost::Overrun { buffer: None },
                "the receive buffer overflowed",
            ),
            (
                Lost::Kernel(libc::EPERM),
                "the kernel reported an error on the netlink socket: Operation not permitted (os error 1)",
            ),
            (Lost::Closed, "the netlink socket closed"),
        ];
        for (lost, text) in cases {
            assert_eq!(lost.to_string(), text);
        }
    }

    /// See: issue 12. Entries cycling through the counted states wake nothing; appearing,
    /// failing, changing MAC and going away do.
    #[test]
    fn neighbours_report_counting_changes_only() {
        let mut d = Dedup::default();
        let a: std::net::Ipv6Addr = "2001:db8::7".parse().unwrap();
        let m1 = Some([2, 0, 0, 0, 0, 1]);
        let m2 = Some([2, 0, 0, 0, 0, 2]);
        assert!(
            !d.neighbor(3, a, false, None, false),
            "incomplete: not yet news"
        );
        assert!(d.neighbor(3, a, true, m1, false), "reachable");
        assert!(
            !d.neighbor(3, a, true, m1, false),
            "stale/delay/probe: same"
        );
        assert!(d.neighbor(3, a, false, None, false), "failed");
        assert!(d.neighbor(3, a, true, m1, false), "back");
        assert!(
            d.neighbor(3, a, true, m2, false),
            "another host took the address"
        );
        assert!(d.neighbor(3, a, true, m2, true), "deleted while counted");
        assert!(
            !d.neighbor(3, a, false, None, true),
            "deleting an unknown entry"
        );
    }

    #[test]
    fn links_report_state_changes_only() {
        let mut d = Dedup::default();
        assert!(d.link(2, true));
        assert!(!d.link(2, true));
        assert!(d.link(2, false));
        assert!(d.link(2, true));
    }
}
