//! One kernel neighbour message (RTM_NEWNEIGH / RTM_DELNEIGH) → the facts a `neighbors`
//! source acts on, and the neighbour table dump (RTM_GETNEIGH). The one place that reads
//! `NDA_*` attributes, shared by the dump here and the watch (`watch.rs`), so both agree on
//! which entries count.

use std::net::Ipv6Addr;

use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::AddressFamily;

use super::{rtnl, SourceError};

/// `NUD_*` states that mean the host answers (or answered recently) for the address:
/// REACHABLE, STALE, DELAY, PROBE and PERMANENT. FAILED and INCOMPLETE do not count.
pub const COUNTED: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x80;

/// What one neighbour message says about one IPv6 neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighFacts {
    /// The interface index.
    pub ifindex: u32,
    /// The neighbour's address.
    pub addr: Ipv6Addr,
    /// Its link-layer address, when the entry has one.
    pub mac: Option<[u8; 6]>,
    /// The `NUD_*` state bits.
    pub state: u16,
}

impl NeighFacts {
    /// True when the state counts (see [`COUNTED`]).
    pub fn counted(&self) -> bool {
        self.state & COUNTED != 0
    }
}

/// Reads the facts of one neighbour message; `None` for other families, for a message
/// naming no destination, and for one whose destination contradicts its header's family.
pub fn facts(msg: &NeighbourMessage) -> Option<NeighFacts> {
    if msg.header.family != AddressFamily::Inet6 {
        return None;
    }
    let (mut addr, mut mac) = (None, None);
    for attr in &msg.attributes {
        match attr {
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => addr = Some(*a),
            NeighbourAttribute::LinkLayerAddress(l) => mac = <[u8; 6]>::try_from(l.as_slice()).ok(),
            _ => {}
        }
    }
    Some(NeighFacts {
        ifindex: msg.header.ifindex,
        addr: addr?,
        mac,
        state: u16::from(msg.header.state),
    })
}

/// The IPv6 neighbour table of interface `ifindex`.
pub async fn dump(ifindex: u32) -> Result<Vec<NeighFacts>, SourceError> {
    let all = rtnl::neighbours_v6()
        .await
        .map_err(|e| SourceError::Netlink(e.to_string()))?;
    Ok(all
        .iter()
        .filter_map(facts)
        .filter(|f| f.ifindex == ifindex)
        .collect())
}

/// The index of interface `name`, or [`SourceError::NoSuchInterface`].
pub async fn link_index(name: &str) -> Result<u32, SourceError> {
    let links = rtnl::links()
        .await
        .map_err(|e| SourceError::Netlink(e.to_string()))?;
    links
        .iter()
        .find(|l| l.name.as_deref() == Some(name))
        .map(|l| l.index)
        .ok_or_else(|| SourceError::NoSuchInterface(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::neighbour::NeighbourState;

    fn msg(
        family: AddressFamily,
        state: NeighbourState,
        attrs: Vec<NeighbourAttribute>,
    ) -> NeighbourMessage {
        let mut m = NeighbourMessage::default();
        m.header.family = family;
        m.header.ifindex = 3;
        m.header.state = state;
        m.attributes = attrs;
        m
    }

    #[test]
    fn facts_table() {
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst = NeighbourAttribute::Destination(NeighbourAddress::Inet6(a));
        let ll = NeighbourAttribute::LinkLayerAddress(vec![0x52, 0x54, 0, 1, 2, 3]);
        let counted = [
            (NeighbourState::Reachable, true),
            (NeighbourState::Stale, true),
            (NeighbourState::Delay, true),
            (NeighbourState::Probe, true),
            (NeighbourState::Permanent, true),
            (NeighbourState::Failed, false),
            (NeighbourState::Incomplete, false),
            (NeighbourState::Noarp, false),
        ];
        for (state, want) in counted {
            let f = facts(&msg(
                AddressFamily::Inet6,
                state,
                vec![dst.clone(), ll.clone()],
            ))
            .unwrap();
            assert_eq!(f.counted(), want, "{state:?}");
            assert_eq!(f.mac, Some([0x52, 0x54, 0, 1, 2, 3]));
            assert_eq!((f.ifindex, f.addr), (3, a));
        }
        // No link-layer address (INCOMPLETE/FAILED entries), other families, no destination.
        let f = facts(&msg(
            AddressFamily::Inet6,
            NeighbourState::Failed,
            vec![dst.clone()],
        ))
        .unwrap();
        assert_eq!(f.mac, None);
        assert_eq!(
            facts(&msg(
                AddressFamily::Inet,
                NeighbourState::Reachable,
                vec![dst.clone()]
            )),
            None
        );
        assert_eq!(
            facts(&msg(
                AddressFamily::Inet6,
                NeighbourState::Reachable,
                vec![ll.clone()]
            )),
            None
        );
        let v4 =
            NeighbourAttribute::Destination(NeighbourAddress::Inet("192.0.2.1".parse().unwrap()));
        assert_eq!(
            facts(&msg(
                AddressFamily::Inet6,
                NeighbourState::Reachable,
                vec![v4]
            )),
            None
        );
        // A link-layer address that is not 6 bytes (InfiniBand) is no MAC.
        let long = NeighbourAttribute::LinkLayerAddress(vec![1; 20]);
        assert_eq!(
            facts(&msg(
                AddressFamily::Inet6,
                NeighbourState::Stale,
                vec![dst, long]
            ))
            .unwrap()
            .mac,
            None
        );
    }
}
