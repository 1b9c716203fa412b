//! `kind = "interface"`: the kernel's interface addresses, read over rtnetlink (the socket is
//! `rtnl.rs`; events are in `watch.rs`).

use std::collections::HashMap;

use futures::future::BoxFuture;
use netlink_packet_route::address::{AddressMessage, AddressScope};

use super::ifa::{self, IfaFacts};
use super::policy::{describe_kernel, select_kernel, KernelAddr, PolicyOptions, Scope};
use super::rtnl;
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
    let failed = |e: std::io::Error| SourceError::Netlink(e.to_string());
    let names = rtnl::link_names().await.map_err(failed)?;
    let addrs = rtnl::addresses().await.map_err(failed)?;
    Ok(addrs
        .iter()
        .filter_map(|m| kernel_addr(m, &names))
        .collect())
}

async fn link_exists(name: &str) -> Result<bool, SourceError> {
    let names = rtnl::link_names()
        .await
        .map_err(|e| SourceError::Netlink(e.to_string()))?;
    Ok(names.values().any(|n| n == name))
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
