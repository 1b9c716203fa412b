//! The kinds that publish another host of the LAN: `leases` (its address in a DHCP lease file)
//! and `neighbors` (its address in the neighbour table, under a prefix taken from another
//! source), with the lease-format and MAC readers they share.

use std::ops::Range;

use crate::addr::leases::{HostKey, LeaseFormat, LeasesSettings};
use crate::addr::neighbors::{NeighborHost, NeighborsSettings};
use crate::addr::policy::{PolicyOptions, Select};
use crate::addr::SourceSettings;
use crate::config::build::Builder;
use crate::config::diag::Diag;
use crate::config::raw;
use crate::fields::Text;

impl Builder<'_> {
    fn lease_format(&mut self, f: &Option<Text>) -> Option<LeaseFormat> {
        match f.as_ref().map(|t| (t, t.get_ref().as_str())) {
            None | Some((_, "odhcpd")) => Some(LeaseFormat::Odhcpd),
            Some((_, "dnsmasq")) => Some(LeaseFormat::Dnsmasq),
            Some((t, other)) => {
                self.push(
                    Diag::new(t.span(), format!("unknown lease file format {other:?}"))
                        .hint("use \"odhcpd\" (OpenWrt) or \"dnsmasq\""),
                );
                None
            }
        }
    }

    fn mac(&mut self, m: &Text) -> Option<[u8; 6]> {
        let mac = crate::addr::prefix::parse_mac(m.get_ref().trim());
        if mac.is_none() {
            self.push(
                Diag::new(
                    m.span(),
                    format!("mac {:?} is not a MAC address", m.get_ref()),
                )
                .hint("write six hex bytes, e.g. \"aa:bb:cc:dd:ee:ff\""),
            );
        }
        mac
    }

    pub(super) fn leases(
        &mut self,
        r: raw::RawLeasesSource,
        table: Range<usize>,
        place: &str,
    ) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let format = self.lease_format(&r.format);
        let given = [r.hostname.is_some(), r.duid.is_some(), r.mac.is_some()];
        let host = match (&r.hostname, &r.duid, &r.mac) {
            _ if given.iter().filter(|g| **g).count() > 1 => {
                self.push(
                    Diag::new(
                        table,
                        format!("give one of `hostname`, `duid` or `mac` in {place}"),
                    )
                    .hint("each leases source publishes one host"),
                );
                None
            }
            (Some(h), _, _) if h.get_ref().trim().is_empty() => {
                self.push(Diag::new(h.span(), "`hostname` is empty"));
                None
            }
            (Some(h), _, _) => Some(HostKey::Hostname(h.get_ref().trim().to_owned())),
            (_, Some(d), _) => match crate::addr::leases::parse_duid(d.get_ref()) {
                Some(d) => Some(HostKey::Duid(d)),
                None => {
                    self.push(
                        Diag::new(d.span(), format!("duid {:?} is not hex bytes", d.get_ref()))
                            .hint("write it as the lease file shows it, e.g. \"00:01:00:01:2b:1a:2c:3d:52:54:00:12:34:56\""),
                    );
                    None
                }
            },
            (_, _, Some(m)) => self.mac(m).map(HostKey::Mac),
            (None, None, None) => {
                self.push(
                    Diag::new(
                        table,
                        format!("{place} needs `hostname`, `duid` or `mac` (which host)"),
                    )
                    .hint("e.g. hostname = \"nas\" as the host sends it in its DHCP request"),
                );
                None
            }
        };
        Some(SourceSettings::Leases(LeasesSettings {
            file: std::path::PathBuf::from(r.file.get_ref()),
            format: format?,
            host: host?,
            family: family?,
            policy: PolicyOptions {
                allow_ula: r.allow_ula.unwrap_or(false),
                allow_private: r.allow_private.unwrap_or(false),
                select: Select::All,
                ..PolicyOptions::default()
            },
        }))
    }

    pub(super) fn neighbors(
        &mut self,
        name: &str,
        r: raw::RawNeighborsSource,
        table: Range<usize>,
        place: &str,
    ) -> Option<SourceSettings> {
        self.prefix_from.push((name.to_owned(), r.from.clone()));
        let select = self.select(&r.select);
        let format = self.lease_format(&r.leases_format);
        let prefix_length = match &r.prefix_length {
            None => Some(crate::addr::prefix::DEFAULT_PREFIX_LENGTH),
            Some(l) => match u8::try_from(*l.get_ref()) {
                Ok(v) if (1..=128).contains(&v) => Some(v),
                _ => {
                    self.push(
                        Diag::new(
                            l.span(),
                            format!("prefix_length {} is out of range", l.get_ref()),
                        )
                        .hint("use 1 to 128; 64 for a LAN"),
                    );
                    None
                }
            },
        };
        let i = r.interface.get_ref();
        if i.is_empty() || i.len() > 15 || i.contains(['/', ' ']) {
            self.push(Diag::new(
                r.interface.span(),
                format!("{i:?} is not a valid interface name"),
            ));
            return None;
        }
        let host = match (&r.mac, &r.hostname, &r.leases) {
            (Some(_), Some(h), _) => {
                self.push(
                    Diag::new(
                        h.span(),
                        format!("give either `mac` or `hostname` in {place}, not both"),
                    )
                    .hint("`hostname` is looked up in `leases` to find the MAC"),
                );
                None
            }
            (Some(m), None, _) => self.mac(m).map(NeighborHost::Mac),
            (None, Some(h), Some(file)) => Some(NeighborHost::Hostname {
                name: h.get_ref().trim().to_owned(),
                leases: std::path::PathBuf::from(file.get_ref()),
                format: format?,
            }),
            (None, Some(h), None) => {
                self.push(
                    Diag::new(h.span(), format!("`hostname` in {place} needs `leases`, the lease file naming the host"))
                        .hint("e.g. leases = \"/tmp/hosts/odhcpd\" (OpenWrt) or \"/var/lib/misc/dnsmasq.leases\" with leases_format = \"dnsmasq\""),
                );
                None
            }
            (None, None, _) => {
                self.push(
                    Diag::new(
                        table,
                        format!("{place} needs `mac` or `hostname` (which host)"),
                    )
                    .hint("e.g. mac = \"aa:bb:cc:dd:ee:ff\""),
                );
                None
            }
        };
        Some(SourceSettings::Neighbors(NeighborsSettings {
            interface: i.clone(),
            from: r.from.get_ref().clone(),
            prefix_length: prefix_length?,
            host: host?,
            select: select?,
            policy: PolicyOptions {
                allow_ula: r.allow_ula.unwrap_or(false),
                ..PolicyOptions::default()
            },
            probe: r.probe.unwrap_or(true),
        }))
    }
}
