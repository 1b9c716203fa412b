//! Netlink multicast subscription → a stream of address, link and neighbour change events,
//! de-duplicated by (address, flags) because every router advertisement re-announces SLAAC
//! addresses with fresh lifetimes only (neighbours: by whether the entry counts and its MAC,
//! because entries cycle REACHABLE → STALE → DELAY → PROBE all the time), ending with [`Lost`] when the kernel dropped events (issue 8): the
//! caller subscribes again and re-reads everything. No debounce and no timers: the daemon
//! owns those.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::IpAddr;

use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::neighbour::NeighbourMessage;

use super::ifa::{self, IfaFacts};
use super::neigh;
use super::rtnl::{self, Frame, Kernel, Link, Rtnl};

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
    /// The kernel dropped events because the socket's receive buffer was full (a read failed
    /// with ENOBUFS, or an `NLMSG_OVERRUN` message).
    Overrun {
        /// The receive buffer's size in bytes as the kernel reported it, when known.
        buffer: Option<usize>,
    },
    /// The kernel reported an error on the subscription (errno).
    Kernel(i32),
    /// Reading the netlink socket failed; why.
    Failed(String),
    /// The netlink socket closed.
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
            Lost::Failed(why) => write!(f, "reading the netlink socket failed: {why}"),
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
    feed: Feed,
    /// The messages of the last datagram not handed out yet.
    pending: VecDeque<Frame>,
    tracker: Tracker,
    buffer: Option<usize>,
    lost: Option<Lost>,
}

/// Where datagrams come from: the kernel, or in tests a list of (datagram, sender port).
enum Feed {
    Socket(Rtnl),
    #[cfg(test)]
    Fake {
        queue: VecDeque<io::Result<(Vec<u8>, u32)>>,
        current: Vec<u8>,
    },
}

impl Feed {
    /// The next datagram and its sender's port; `None` when there will be none.
    async fn recv(&mut self) -> Option<io::Result<(&[u8], u32)>> {
        match self {
            Feed::Socket(s) => Some(s.recv().await),
            #[cfg(test)]
            Feed::Fake { queue, current } => Some(queue.pop_front()?.map(|(bytes, port)| {
                *current = bytes;
                (current.as_slice(), port)
            })),
        }
    }
}

impl Subscription {
    /// Subscribes with a [`RECEIVE_BUFFER`]-sized receive buffer, then reads the interface
    /// names (subscribing first loses no event in between). Must run inside a tokio runtime.
    pub async fn open() -> io::Result<Subscription> {
        let socket = Rtnl::open()?;
        socket.join(&[
            rtnl::group::IPV6_IFADDR,
            rtnl::group::IPV4_IFADDR,
            rtnl::group::LINK,
            rtnl::group::NEIGH,
        ])?;
        // The constant fits a C int (asserted at compile time above).
        let want = libc::c_int::try_from(RECEIVE_BUFFER).unwrap_or(libc::c_int::MAX);
        // A refusal is not worth going without events: the kernel's default buffer stays,
        // overruns are recovered all the same, and the size in force is what
        // `receive_buffer()` reports (the daemon logs it).
        let _ = socket.socket().set_rx_buf_sz(want);
        let buffer = socket.socket().get_rx_buf_sz().ok();
        let names = rtnl::link_names().await?;
        Ok(Subscription {
            feed: Feed::Socket(socket),
            pending: VecDeque::new(),
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
        let lost = 'read: loop {
            while let Some(frame) = self.pending.pop_front() {
                match frame {
                    Frame::Message(k) => {
                        if let Some(event) = self.tracker.event(k) {
                            return Ok(event);
                        }
                    }
                    Frame::Overrun | Frame::Error(libc::ENOBUFS) => {
                        break 'read Lost::Overrun {
                            buffer: self.buffer,
                        }
                    }
                    // 0: an acknowledgement; nothing was asked, nothing to do.
                    Frame::Error(0) => {}
                    Frame::Error(errno) => break 'read Lost::Kernel(errno),
                    Frame::Unreadable(why) => {
                        tracing::warn!("ignored a kernel event that could not be read: {why}")
                    }
                    // Done, Noop and kinds ddnsd does not read carry no change.
                    Frame::Done(_) | Frame::Ignored => {}
                }
            }
            let (datagram, port) = match self.feed.recv().await {
                None => break Lost::Closed,
                Some(Ok(d)) => d,
                Some(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    break Lost::Overrun {
                        buffer: self.buffer,
                    }
                }
                Some(Err(e)) => break Lost::Failed(e.to_string()),
            };
            // Only the kernel (port 0) announces changes.
            if port != 0 {
                continue;
            }
            for f in rtnl::frames(datagram) {
                match f {
                    Ok(f) => self.pending.push_back(f.frame),
                    Err(e) => {
                        tracing::warn!("ignored the rest of a kernel datagram: {e}");
                        break;
                    }
                }
            }
        };
        self.lost = Some(lost.clone());
        Err(lost)
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

    /// The event one message announces, if it is news; `None` for repeats and messages that
    /// name no usable address.
    pub fn event(&mut self, msg: Kernel) -> Option<WatchEvent> {
        match msg {
            Kernel::NewAddress(m) => self.address(&m, false),
            Kernel::DelAddress(m) => self.address(&m, true),
            Kernel::NewLink(l) => self.link(l, false),
            Kernel::DelLink(l) => self.link(l, true),
            Kernel::NewNeighbour(m) => self.neighbor(&m, false),
            Kernel::DelNeighbour(m) => self.neighbor(&m, true),
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

    fn link(&mut self, l: Link, removed: bool) -> Option<WatchEvent> {
        let index = l.index;
        let up = !removed && l.up();
        if let Some(n) = l.name {
            self.names.insert(index, n);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
    use netlink_packet_route::RouteNetlinkMessage;

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

    type Sent = io::Result<(Vec<u8>, u32)>;

    fn fake(buffer: Option<usize>, datagrams: Vec<Sent>) -> Subscription {
        Subscription {
            feed: Feed::Fake {
                queue: datagrams.into(),
                current: Vec::new(),
            },
            pending: VecDeque::new(),
            tracker: Tracker::with_names(HashMap::from([(2, "vt0".to_owned())])),
            buffer,
            lost: None,
        }
    }

    /// Serialised by netlink-packet-core, the reference for the bytes the kernel sends.
    fn bytes(m: NetlinkMessage<RouteNetlinkMessage>) -> Vec<u8> {
        let mut m = m;
        m.finalize();
        let mut buf = vec![0; m.buffer_len()];
        m.serialize(&mut buf);
        buf
    }

    fn from_kernel(m: NetlinkMessage<RouteNetlinkMessage>) -> Sent {
        Ok((bytes(m), 0))
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
        let overrun = Lost::Overrun {
            buffer: Some(2097152),
        };
        // (what arrives after one real event, what next() then reports)
        let cases: Vec<(Sent, Lost)> = vec![
            (
                from_kernel(payload(NetlinkPayload::Overrun(Vec::new()))),
                overrun.clone(),
            ),
            (from_kernel(error(-libc::ENOBUFS)), overrun.clone()),
            // How the kernel really reports a dropped event: the read fails.
            (
                Err(io::Error::from_raw_os_error(libc::ENOBUFS)),
                overrun.clone(),
            ),
            (from_kernel(error(-libc::EPERM)), Lost::Kernel(libc::EPERM)),
            (
                Err(io::Error::from_raw_os_error(libc::EBADF)),
                Lost::Failed(io::Error::from_raw_os_error(libc::EBADF).to_string()),
            ),
        ];
        for (bad, want) in cases {
            let mut sub = fake(
                Some(2097152),
                vec![
                    from_kernel(new_address("2001:db8::1")),
                    // Ignored: an acknowledgement, Noop, and a message from a user-space port.
                    from_kernel(error(0)),
                    from_kernel(payload(NetlinkPayload::Noop)),
                    Ok((bytes(new_address("2001:db8::66")), 4242)),
                    bad,
                    from_kernel(new_address("2001:db8::2")),
                ],
            );
            assert_eq!(sub.next().await, Ok(event("2001:db8::1")));
            assert_eq!(sub.next().await, Err(want.clone()));
            assert_eq!(sub.next().await, Err(want), "spent after a loss");
        }
        let mut sub = fake(None, Vec::new());
        assert_eq!(sub.next().await, Err(Lost::Closed));
    }

    /// Several messages in one datagram are all read, in order; a datagram whose framing
    /// breaks part-way keeps what came before the break.
    #[tokio::test]
    async fn every_message_of_a_datagram_is_read() {
        let mut two = bytes(new_address("2001:db8::1"));
        two.extend(bytes(new_address("2001:db8::2")));
        let mut broken = bytes(new_address("2001:db8::3"));
        broken.extend_from_slice(&[0xff, 0xff, 0, 0, 20, 0]);
        let mut sub = fake(
            None,
            vec![
                Ok((two, 0)),
                Ok((broken, 0)),
                from_kernel(new_address("2001:db8::4")),
            ],
        );
        for want in ["2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4"] {
            let Ok(WatchEvent::Address { addr, .. }) = sub.next().await else {
                panic!("no event for {want}");
            };
            assert_eq!(addr.to_string(), want);
        }
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
            (
                Lost::Failed("Bad file descriptor (os error 9)".into()),
                "reading the netlink socket failed: Bad file descriptor (os error 9)",
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
