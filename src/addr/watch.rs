//! Netlink multicast subscription → a stream of address and link change events, de-duplicated
//! by (address, flags) because every router advertisement re-announces SLAAC addresses with
//! fresh lifetimes only. No debounce and no timers: the daemon owns those.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

use futures::channel::mpsc::UnboundedReceiver;
use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::MulticastGroup;
use tokio::task::JoinHandle;

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
}

impl WatchEvent {
    /// The interface the event is about, when known.
    pub fn interface(&self) -> Option<&str> {
        match self {
            WatchEvent::Address { interface, .. } | WatchEvent::Link { interface, .. } => {
                interface.as_deref()
            }
        }
    }
}

/// A live subscription to RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_IFADDR and RTNLGRP_LINK.
///
/// [`Subscription::next`] returns `None` when the socket closed or the kernel dropped events
/// (ENOBUFS closes the connection in netlink-proto): the caller must subscribe again and
/// re-read everything, since events were lost.
pub struct Subscription {
    events: UnboundedReceiver<(
        NetlinkMessage<RouteNetlinkMessage>,
        rtnetlink::sys::SocketAddr,
    )>,
    task: JoinHandle<()>,
    names: HashMap<u32, String>,
    dedup: Dedup,
}

impl Subscription {
    /// Subscribes, then reads the interface names (subscribing first loses no event in
    /// between). Must run inside a tokio runtime.
    pub async fn open() -> io::Result<Subscription> {
        let (conn, _handle, events) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Ipv6Ifaddr,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Link,
        ])?;
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
            names,
            dedup: Dedup::default(),
        })
    }

    /// The next change that is not a repeat; `None` when the subscription is gone.
    pub async fn next(&mut self) -> Option<WatchEvent> {
        loop {
            let (msg, _) = self.events.next().await?;
            let NetlinkPayload::InnerMessage(inner) = msg.payload else {
                continue;
            };
            let event = match inner {
                RouteNetlinkMessage::NewAddress(m) => self.address(&m, false),
                RouteNetlinkMessage::DelAddress(m) => self.address(&m, true),
                RouteNetlinkMessage::NewLink(m) => self.link(&m, false),
                RouteNetlinkMessage::DelLink(m) => self.link(&m, true),
                _ => None,
            };
            if event.is_some() {
                return event;
            }
        }
    }

    fn address(&mut self, m: &AddressMessage, removed: bool) -> Option<WatchEvent> {
        let (mut address, mut local, mut flags) = (None, None, None);
        for attr in &m.attributes {
            match attr {
                AddressAttribute::Address(ip) => address = Some(*ip),
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Flags(f) => flags = Some(f.bits()),
                _ => {}
            }
        }
        let addr = match m.header.family {
            AddressFamily::Inet => local.or(address)?,
            AddressFamily::Inet6 => address?,
            _ => return None,
        };
        // The header byte holds only the low 8 bits; IFA_FLAGS has them all.
        let flags = flags.unwrap_or(u32::from(m.header.flags.bits()));
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

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Remembers the last flags of every (interface, address) and the last state of every link,
/// so repeats are dropped. Pure.
#[derive(Debug, Default)]
pub struct Dedup {
    addrs: HashMap<(u32, IpAddr), u32>,
    links: HashMap<u32, bool>,
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

    #[test]
    fn links_report_state_changes_only() {
        let mut d = Dedup::default();
        assert!(d.link(2, true));
        assert!(!d.link(2, true));
        assert!(d.link(2, false));
        assert!(d.link(2, true));
    }
}
