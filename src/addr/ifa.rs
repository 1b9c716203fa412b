//! One kernel address message (RTM_NEWADDR / RTM_DELADDR) → the facts ddnsd acts on: this
//! host's side of the address, its full flag set and its lifetimes. Pure; the one place that
//! reads `IFA_*` attributes, shared by the dump (`netlink.rs`) and the watch (`watch.rs`) so
//! both always agree on which address a message is about.

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::AddressFamily;

/// What one address message says about one of this host's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfaFacts {
    /// This host's side of the address: `IFA_LOCAL` when present, else `IFA_ADDRESS`.
    pub addr: IpAddr,
    /// The full `IFA_F_*` set: the 32-bit `IFA_FLAGS` attribute when present, else the 8-bit
    /// header field.
    pub flags: u32,
    /// Preferred lifetime in seconds; `None` = forever (or not reported).
    pub preferred_lft: Option<u32>,
    /// Valid lifetime in seconds; `None` = forever (or not reported).
    pub valid_lft: Option<u32>,
}

/// Reads the facts of one address message; `None` for families other than IPv4/IPv6, for a
/// message naming no address, and for one whose address contradicts its header's family.
///
/// Linux's `include/uapi/linux/if_addr.h` says why `IFA_LOCAL` wins:
/// > IFA_ADDRESS is prefix address, rather than local interface address. It makes no
/// > difference for normally configured broadcast interfaces, but for point-to-point
/// > IFA_ADDRESS is DESTINATION address, local address is supplied in IFA_LOCAL attribute.
/// >
/// > IFA_FLAGS is a u32 attribute that extends the u8 field ifa_flags. If present, the value
/// > from struct ifaddrmsg will be ignored.
///
/// This holds for IPv6 too: `ip addr add 2001:db8::1 peer 2001:db8::2` reports the peer in
/// `IFA_ADDRESS` and `2001:db8::1` in `IFA_LOCAL`.
pub fn facts(msg: &AddressMessage) -> Option<IfaFacts> {
    let (mut address, mut local, mut flags, mut cache) = (None, None, None, None);
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Flags(f) => flags = Some(f.bits()),
            AddressAttribute::CacheInfo(c) => cache = Some((c.ifa_preferred, c.ifa_valid)),
            _ => {}
        }
    }
    let addr = local.or(address)?;
    // A message whose address is of the other family is not a kernel message we understand:
    // acting on it could publish a value from the wrong record type.
    match (msg.header.family, addr) {
        (AddressFamily::Inet, IpAddr::V4(_)) | (AddressFamily::Inet6, IpAddr::V6(_)) => {}
        _ => return None,
    }
    // INFINITY_LIFE_TIME (0xFFFFFFFF) means forever.
    let lifetime = |v: u32| (v != u32::MAX).then_some(v);
    let (preferred_lft, valid_lft) =
        cache.map_or((None, None), |(p, v)| (lifetime(p), lifetime(v)));
    Some(IfaFacts {
        addr,
        flags: flags.unwrap_or(u32::from(msg.header.flags.bits())),
        preferred_lft,
        valid_lft,
    })
}

#[cfg(test)]
mod tests;
