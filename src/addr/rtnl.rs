//! The rtnetlink socket ddnsd reads the kernel through: dump requests (links, addresses,
//! neighbours) and multicast membership, on netlink-sys's socket driven by tokio's `AsyncFd`,
//! and the framing of received datagrams into the few message kinds ddnsd acts on.
//!
//! Why not the `rtnetlink` crate: its connection decodes every datagram as any rtnetlink
//! message (routes, rules, traffic control, every link attribute and its nested details),
//! which linked ~400 KiB of parsers into a daemon that reads addresses, neighbours and link
//! names only (issue 13; measured in docs/design/performance.md, "Size"). Addresses and
//! neighbours still go through netlink-packet-route's parsers; a link message is read for its
//! header and `IFLA_IFNAME` alone.

use std::collections::HashMap;
use std::io;

use netlink_packet_core::{DecodeError, NetlinkBuffer, NlasIterator, Parseable};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{LinkFlags, LinkHeader};
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};
use tokio::io::unix::AsyncFd;

// <linux/netlink.h>
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const NLM_F_REQUEST: u16 = 0x01;
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLM_F_DUMP: u16 = 0x300;
const HEADER_LEN: usize = 16;

// <linux/rtnetlink.h>
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;

/// `RTNLGRP_*` multicast groups (<linux/rtnetlink.h>).
pub mod group {
    /// Link changes.
    pub const LINK: u32 = 1;
    /// Neighbour table changes.
    pub const NEIGH: u32 = 3;
    /// IPv4 address changes.
    pub const IPV4_IFADDR: u32 = 5;
    /// IPv6 address changes.
    pub const IPV6_IFADDR: u32 = 9;
}

// <linux/if_link.h>: `struct ifinfomsg` is 16 bytes, then attributes.
const IFLA_IFNAME: u16 = 3;
const IFINFOMSG_LEN: usize = 16;
// `struct ifaddrmsg` (8 bytes) and `struct ndmsg` (12 bytes, family first).
const IFADDRMSG_LEN: usize = 8;
const NDMSG_LEN: usize = 12;
const AF_INET6: u8 = 10;

/// The largest datagram read at once. The kernel sizes a dump's datagrams to the reader's
/// buffer but never above 32 KiB (`netlink_dump`); events are a few hundred bytes. A larger
/// datagram is reported as an error, never silently cut.
const DATAGRAM: usize = 64 * 1024;

/// One kernel message ddnsd acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// RTM_NEWADDR.
    NewAddress(AddressMessage),
    /// RTM_DELADDR.
    DelAddress(AddressMessage),
    /// RTM_NEWLINK.
    NewLink(Link),
    /// RTM_DELLINK.
    DelLink(Link),
    /// RTM_NEWNEIGH.
    NewNeighbour(NeighbourMessage),
    /// RTM_DELNEIGH.
    DelNeighbour(NeighbourMessage),
}

/// What ddnsd reads of a link message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The interface index.
    pub index: u32,
    /// `IFF_*` flags.
    pub flags: LinkFlags,
    /// `IFLA_IFNAME`, when the message carries it.
    pub name: Option<String>,
}

impl Link {
    /// True when administratively up and running.
    pub fn up(&self) -> bool {
        self.flags.contains(LinkFlags::Up | LinkFlags::Running)
    }
}

/// What one netlink message of a datagram is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message ddnsd acts on.
    Message(Kernel),
    /// A message of a kind ddnsd does not read (routes, rules, NLMSG_NOOP, …).
    Ignored,
    /// A message of a kind ddnsd reads whose body could not be parsed; what was wrong.
    Unreadable(String),
    /// NLMSG_DONE, the end of a dump: 0, or the positive errno the dump failed with.
    Done(i32),
    /// NLMSG_ERROR: 0 for an acknowledgement, else the positive errno.
    Error(i32),
    /// NLMSG_OVERRUN: the kernel dropped messages.
    Overrun,
}

/// One message of a datagram with the header fields its reader needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Framed {
    /// `nlmsg_seq`: which request a dump reply answers (0 for events).
    pub seq: u32,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// The message.
    pub frame: Frame,
}

/// Splits a datagram into its messages. A message whose length field is impossible ends the
/// datagram with an error: nothing after it can be trusted. A message whose body cannot be
/// parsed is [`Frame::Unreadable`] and the messages after it are still read.
pub fn frames(datagram: &[u8]) -> Frames<'_> {
    Frames { rest: datagram }
}

/// The iterator of [`frames`].
#[derive(Debug)]
pub struct Frames<'a> {
    rest: &'a [u8],
}

impl Iterator for Frames<'_> {
    type Item = Result<Framed, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let buf = match NetlinkBuffer::new_checked(self.rest) {
            Ok(b) => b,
            Err(e) => {
                self.rest = &[];
                return Some(Err(e));
            }
        };
        // new_checked proved HEADER_LEN <= length <= rest.len(). Messages are padded to four
        // bytes; the last one of a datagram may come without its padding.
        let len = buf.length() as usize;
        let framed = Framed {
            seq: buf.sequence_number(),
            flags: buf.flags(),
            frame: parse(buf.message_type(), &self.rest[HEADER_LEN..len]),
        };
        self.rest = self.rest.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some(Ok(framed))
    }
}

/// Reads one message body by its type.
fn parse(message_type: u16, body: &[u8]) -> Frame {
    let read = |r: Result<Kernel, DecodeError>| match r {
        Ok(k) => Frame::Message(k),
        Err(e) => Frame::Unreadable(e.to_string()),
    };
    match message_type {
        NLMSG_NOOP => Frame::Ignored,
        NLMSG_DONE => Frame::Done(errno(body).unwrap_or(0)),
        // An error message always carries its code; one that does not is unreadable rather
        // than mistaken for an acknowledgement.
        NLMSG_ERROR => match errno(body) {
            Some(e) => Frame::Error(e),
            None => Frame::Unreadable("an error message without its code".to_owned()),
        },
        NLMSG_OVERRUN => Frame::Overrun,
        RTM_NEWADDR => read(AddressMessage::parse(body).map(Kernel::NewAddress)),
        RTM_DELADDR => read(AddressMessage::parse(body).map(Kernel::DelAddress)),
        RTM_NEWLINK => read(link(body).map(Kernel::NewLink)),
        RTM_DELLINK => read(link(body).map(Kernel::DelLink)),
        RTM_NEWNEIGH => read(NeighbourMessage::parse(body).map(Kernel::NewNeighbour)),
        RTM_DELNEIGH => read(NeighbourMessage::parse(body).map(Kernel::DelNeighbour)),
        _ => Frame::Ignored,
    }
}

/// The leading `int` of an error or done message as a positive errno (the kernel sends it
/// negated); `None` when the body is too short to hold one.
fn errno(body: &[u8]) -> Option<i32> {
    let code: [u8; 4] = body.get(..4)?.try_into().ok()?;
    Some(i32::from_ne_bytes(code).saturating_neg())
}

/// A link message's header and name; every other attribute is skipped unread.
fn link(body: &[u8]) -> Result<Link, DecodeError> {
    let header = LinkHeader::parse(body)?;
    let mut name = None;
    for nla in NlasIterator::new(body.get(IFINFOMSG_LEN..).unwrap_or_default()) {
        let nla = nla?;
        if nla.kind() == IFLA_IFNAME {
            // A C string: up to the first NUL. Interface names are ASCII in practice; anything
            // else is shown, not trusted, so a lossy conversion is enough.
            let v = nla.value();
            let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
            name = Some(String::from_utf8_lossy(&v[..end]).into_owned());
        }
    }
    Ok(Link {
        index: header.index,
        flags: header.flags,
        name,
    })
}

/// A request message: header then body.
fn request(message_type: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let len = HEADER_LEN + body.len();
    let mut m = Vec::with_capacity(len);
    // Bodies are fixed-size headers of at most 16 bytes.
    m.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    m.extend_from_slice(&message_type.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    // Port 0: the kernel fills in the sender.
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(body);
    m
}

/// A route netlink socket.
#[derive(Debug)]
pub struct Rtnl {
    fd: AsyncFd<Socket>,
    buf: Vec<u8>,
    seq: u32,
}

impl Rtnl {
    /// Opens and binds a socket (the kernel picks its port). Must run inside a tokio runtime.
    pub fn open() -> io::Result<Rtnl> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.set_non_blocking(true)?;
        // Deprecated because a caller could close or replace the descriptor behind the
        // reactor's back (tokio#8587); here the AsyncFd owns the socket outright and is its
        // only user, which is the condition for soundness (netlink-sys's TokioSocket does the
        // same). `register` is the same call marked unsafe, and this crate has no unsafe code.
        #[allow(deprecated)]
        let fd = AsyncFd::new(socket)?;
        Ok(Rtnl {
            fd,
            buf: Vec::new(),
            seq: 0,
        })
    }

    /// The socket, for options.
    pub fn socket(&self) -> &Socket {
        self.fd.get_ref()
    }

    /// Joins multicast groups (see [`group`]).
    pub fn join(&self, groups: &[u32]) -> io::Result<()> {
        groups
            .iter()
            .try_for_each(|g| self.fd.get_ref().add_membership(*g))
    }

    /// Reads one datagram: its bytes and the sender's port (0 = the kernel). ENOBUFS (the
    /// kernel dropped messages for want of buffer) comes back as that error.
    pub async fn recv(&mut self) -> io::Result<(&[u8], u32)> {
        let Rtnl { fd, buf, .. } = self;
        buf.clear();
        buf.reserve(DATAGRAM);
        loop {
            let mut ready = fd.readable().await?;
            // MSG_TRUNC: the kernel returns the datagram's real length, so a cut is seen.
            match ready.try_io(|s| s.get_ref().recv_from(buf, libc::MSG_TRUNC)) {
                Ok(Ok((n, from))) if n <= buf.len() => return Ok((buf, from.port_number())),
                Ok(Ok((n, _))) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "a netlink datagram of {n} bytes exceeded the {DATAGRAM}-byte buffer"
                        ),
                    ))
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    async fn send(&self, message: &[u8]) -> io::Result<()> {
        let kernel = SocketAddr::new(0, 0);
        loop {
            let mut ready = self.fd.writable().await?;
            match ready.try_io(|s| s.get_ref().send_to(message, &kernel, 0)) {
                Ok(r) => return r.map(|_| ()),
                Err(_would_block) => continue,
            }
        }
    }

    /// Sends a dump request and collects the messages of its reply. A dump the kernel marks
    /// inconsistent (its table changed meanwhile) is asked again, up to three times.
    pub async fn dump(&mut self, message_type: u16, body: &[u8]) -> io::Result<Vec<Kernel>> {
        for _ in 0..3 {
            self.seq = self.seq.wrapping_add(1);
            let seq = self.seq;
            self.send(&request(
                message_type,
                NLM_F_REQUEST | NLM_F_DUMP,
                seq,
                body,
            ))
            .await?;
            let mut out = Vec::new();
            let mut interrupted = false;
            'reply: loop {
                let (datagram, port) = self.recv().await?;
                if port != 0 {
                    continue;
                }
                for f in frames(datagram) {
                    let f = f.map_err(|e| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("the kernel's netlink reply could not be read: {e}"),
                        )
                    })?;
                    // A late reply to an earlier request is not this dump's.
                    if f.seq != seq {
                        continue;
                    }
                    interrupted |= f.flags & NLM_F_DUMP_INTR != 0;
                    match f.frame {
                        Frame::Message(k) => out.push(k),
                        Frame::Done(0) | Frame::Error(0) => break 'reply,
                        Frame::Done(e) | Frame::Error(e) => {
                            return Err(io::Error::from_raw_os_error(e))
                        }
                        Frame::Overrun => return Err(io::Error::from_raw_os_error(libc::ENOBUFS)),
                        Frame::Unreadable(why) => {
                            tracing::warn!("ignored a kernel message that could not be read: {why}")
                        }
                        Frame::Ignored => {}
                    }
                }
            }
            if !interrupted {
                return Ok(out);
            }
        }
        Err(io::Error::other(
            "the kernel's tables kept changing during three netlink dumps in a row; try again",
        ))
    }
}

/// Every link: index, flags and name.
pub async fn links() -> io::Result<Vec<Link>> {
    let got = Rtnl::open()?.dump(RTM_GETLINK, &[0; IFINFOMSG_LEN]).await?;
    Ok(got
        .into_iter()
        .filter_map(|k| match k {
            Kernel::NewLink(l) => Some(l),
            _ => None,
        })
        .collect())
}

/// Interface index → name, for every link.
pub async fn link_names() -> io::Result<HashMap<u32, String>> {
    Ok(links()
        .await?
        .into_iter()
        .filter_map(|l| Some((l.index, l.name?)))
        .collect())
}

/// Every address of every interface.
pub async fn addresses() -> io::Result<Vec<AddressMessage>> {
    let got = Rtnl::open()?.dump(RTM_GETADDR, &[0; IFADDRMSG_LEN]).await?;
    Ok(got
        .into_iter()
        .filter_map(|k| match k {
            Kernel::NewAddress(m) => Some(m),
            _ => None,
        })
        .collect())
}

/// The IPv6 neighbour table of every interface.
pub async fn neighbours_v6() -> io::Result<Vec<NeighbourMessage>> {
    let mut body = [0; NDMSG_LEN];
    body[0] = AF_INET6;
    let got = Rtnl::open()?.dump(RTM_GETNEIGH, &body).await?;
    Ok(got
        .into_iter()
        .filter_map(|k| match k {
            Kernel::NewNeighbour(m) => Some(m),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests;
