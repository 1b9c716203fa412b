//! `kind = "interface"`: the kernel's interface addresses, read over rtnetlink. The only file
//! that speaks rtnetlink for address dumps (events are in `watch.rs`).

use std::collections::HashMap;

use futures::future::BoxFuture;
use futures::TryStreamExt;
use netlink_packet_route::address::{AddressMessage, AddressScope};
use netlink_packet_route::link::LinkAttribute;

use super::ifa::{self, IfaFacts};
use super::policy::{describe_kernel, select_kernel, KernelAddr, PolicyOptions, Scope};
use super::{Candidate, Detection, Source, SourceError};
use crate::record::Family;

/// Settings of an interface source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceSettings {
    /// Interface name; `None` for every interface.
    pub interface: Option<String>,
    /// The family this source yields.
    pub family: Family,
    /// Selection options.
    pub policy: PolicyOptions,
}

/// Reads one family's addresses of one interface (or all) from the kernel.
#[derive(Debug)]
pub struct InterfaceSource {
    name: String,
    settings: InterfaceSettings,
}

impl InterfaceSource {
    /// An interface source named `name`.
    pub fn new(name: String, settings: InterfaceSettings) -> InterfaceSource {
        InterfaceSource { name, settings }
    }

    async fn detect_now(&self) -> Result<Detection, SourceError> {
        let all = dump_addresses().await?;
        if let Some(ifname) = &self.settings.interface {
            if !all.iter().any(|k| &k.ifname == ifname) && !link_exists(ifname).await? {
                return Err(SourceError::NoSuchInterface(ifname.clone()));
            }
        }
        let mine: Vec<KernelAddr> = all
            .into_iter()
            .filter(|k| Family::of(&k.addr) == self.settings.family)
            .filter(|k| {
                self.settings
                    .interface
                    .as_ref()
                    .is_none_or(|i| &k.ifname == i)
            })
            .collect();
        Ok(judge(&self.name, &mine, &self.settings.policy))
    }
}

/// Builds the detection of kernel addresses: pure, so tests can feed it kernel facts.
pub fn judge(source: &str, addrs: &[KernelAddr], policy: &PolicyOptions) -> Detection {
    let verdicts = select_kernel(addrs, policy);
    Detection {
        source: source.to_owned(),
        candidates: addrs
            .iter()
            .zip(verdicts)
            .map(|(k, verdict)| Candidate {
                addr: k.addr,
                origin: k.ifname.clone(),
                verdict,
                detail: Some(describe_kernel(k)),
                lifetime: k.preferred_lft,
            })
            .collect(),
    }
}

impl Source for InterfaceSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn families(&self) -> Vec<Family> {
        vec![self.settings.family]
    }

    fn watched_interfaces(&self) -> Option<Vec<String>> {
        Some(self.settings.interface.iter().cloned().collect())
    }

    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        Box::pin(self.detect_now())
    }
}

/// Every address of every interface, with names resolved.
pub async fn dump_addresses() -> Result<Vec<KernelAddr>, SourceError> {
    let (conn, handle, _) =
        rtnetlink::new_connection().map_err(|e| SourceError::Netlink(e.to_string()))?;
    let task = tokio::spawn(conn);
    let result = async {
        let mut names = HashMap::new();
        let mut links = handle.link().get().execute();
        while let Some(link) = links
            .try_next()
            .await
            .map_err(|e| SourceError::Netlink(e.to_string()))?
        {
            for attr in &link.attributes {
                if let LinkAttribute::IfName(n) = attr {
                    names.insert(link.header.index, n.clone());
                }
            }
        }
        let mut out = Vec::new();
        let mut addrs = handle.address().get().execute();
        while let Some(msg) = addrs
            .try_next()
            .await
            .map_err(|e| SourceError::Netlink(e.to_string()))?
        {
            if let Some(k) = kernel_addr(&msg, &names) {
                out.push(k);
            }
        }
        Ok(out)
    }
    .await;
    task.abort();
    result
}

async fn link_exists(name: &str) -> Result<bool, SourceError> {
    let (conn, handle, _) =
        rtnetlink::new_connection().map_err(|e| SourceError::Netlink(e.to_string()))?;
    let task = tokio::spawn(conn);
    let found = handle
        .link()
        .get()
        .match_name(name.to_owned())
        .execute()
        .try_next()
        .await;
    task.abort();
    // The kernel answers ENODEV for an unknown name: that is "no", not a failure.
    Ok(matches!(found, Ok(Some(_))))
}

/// Converts one RTM_NEWADDR message into kernel facts; `None` for families other than IPv4/6
/// and for messages that name no usable address (see [`ifa::facts`]).
pub fn kernel_addr(msg: &AddressMessage, names: &HashMap<u32, String>) -> Option<KernelAddr> {
    let IfaFacts {
        addr,
        flags,
        preferred_lft,
        valid_lft,
    } = ifa::facts(msg)?;
    Some(KernelAddr {
        addr,
        prefix_len: msg.header.prefix_len,
        ifname: names
            .get(&msg.header.index)
            .cloned()
            .unwrap_or_else(|| format!("if{}", msg.header.index)),
        scope: match msg.header.scope {
            AddressScope::Universe => Scope::Universe,
            AddressScope::Site => Scope::Site,
            AddressScope::Link => Scope::Link,
            AddressScope::Host => Scope::Host,
            AddressScope::Nowhere => Scope::Other(255),
            AddressScope::Other(n) => Scope::Other(n),
            _ => Scope::Other(255),
        },
        flags,
        preferred_lft,
        valid_lft,
    })
}
