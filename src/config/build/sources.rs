//! `[sources.NAME]` tables → source settings, one method per kind, and the check that every
//! `prefix` source's `from` names an IPv6 source without a cycle.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;

use toml::de::DeValue;
use toml::Spanned;

use super::{raw, Builder, Named, MAX_WAIT};
use crate::addr::command::CommandSettings;
use crate::addr::dns::{DnsQuery, DnsSourceSettings, Preset, QueryClass, QueryType, PRESETS};
use crate::addr::fixed::StaticSettings;
#[cfg(feature = "http")]
use crate::addr::http::{default_urls, HttpSourceSettings};
use crate::addr::leases::{HostKey, LeaseFormat, LeasesSettings};
use crate::addr::neighbors::{NeighborHost, NeighborsSettings};
use crate::addr::netlink::InterfaceSettings;
use crate::addr::policy::{PolicyOptions, Select};
use crate::addr::prefix::{HostPart, PrefixProblem, PrefixSettings};
use crate::addr::SourceSettings;
use crate::config::diag::{suggest, Diag, Quote};
use crate::fields::{self, Text};
use crate::record::Family;
use crate::secret::Secret;

const SOURCE_KINDS: &[&str] = &[
    "interface",
    "static",
    #[cfg(feature = "http")]
    "http",
    "dns",
    "command",
    "prefix",
    "leases",
    "neighbors",
];

/// Source kinds this build leaves out, with the cargo feature that has each.
const SOURCE_LEFT_OUT: &[(&str, &str)] = &[
    #[cfg(not(feature = "http"))]
    ("http", "http"),
];

impl Builder<'_> {
    pub(super) fn sources(&mut self, v: Option<&Spanned<DeValue<'_>>>) -> Named<SourceSettings> {
        let mut out = Named::new();
        let Some(v) = v else { return out };
        let DeValue::Table(t) = v.get_ref() else {
            self.push(Diag::new(
                v.span(),
                "`sources` must be a table of [sources.NAME] tables",
            ));
            return out;
        };
        for (name, value) in t.iter() {
            let name = name.get_ref().to_string();
            let place = format!("[sources.{name}]");
            let built = match self
                .kind(value, &place, SOURCE_KINDS, SOURCE_LEFT_OUT)
                .as_deref()
            {
                Some("interface") => self
                    .take::<raw::RawInterfaceSource>(value, &place)
                    .and_then(|r| self.interface(r)),
                Some("static") => self
                    .take::<raw::RawStaticSource>(value, &place)
                    .and_then(|r| self.fixed(r, &place)),
                #[cfg(feature = "http")]
                Some("http") => self
                    .take::<raw::RawHttpSource>(value, &place)
                    .and_then(|r| self.http(r, &place)),
                Some("dns") => self
                    .take::<raw::RawDnsSource>(value, &place)
                    .and_then(|r| self.dns(r)),
                Some("command") => self
                    .take::<raw::RawCommandSource>(value, &place)
                    .and_then(|r| self.command(r, &place)),
                Some("prefix") => self
                    .take::<raw::RawPrefixSource>(value, &place)
                    .and_then(|r| self.prefix(&name, r, value.span(), &place)),
                Some("leases") => self
                    .take::<raw::RawLeasesSource>(value, &place)
                    .and_then(|r| self.leases(r, value.span(), &place)),
                Some("neighbors") => self
                    .take::<raw::RawNeighborsSource>(value, &place)
                    .and_then(|r| self.neighbors(&name, r, value.span(), &place)),
                _ => None,
            };
            out.insert(name, built);
        }
        out
    }

    fn family(&mut self, family: &Option<Text>) -> Option<Family> {
        match family {
            None => Some(Family::Ipv6),
            Some(f) => match f.get_ref().as_str() {
                "ipv6" => Some(Family::Ipv6),
                "ipv4" => Some(Family::Ipv4),
                other => {
                    self.push(
                        Diag::new(f.span(), format!("unknown family {other:?}"))
                            .hint("use \"ipv6\" or \"ipv4\""),
                    );
                    None
                }
            },
        }
    }

    fn select(&mut self, select: &Option<Text>) -> Option<Select> {
        match select {
            None => Some(Select::Best),
            Some(s) => match s.get_ref().as_str() {
                "best" => Some(Select::Best),
                "all" => Some(Select::All),
                other => {
                    self.push(
                        Diag::new(s.span(), format!("unknown select {other:?}"))
                            .hint("use \"best\" (one address) or \"all\""),
                    );
                    None
                }
            },
        }
    }

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

    fn leases(
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

    fn neighbors(
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

    fn interface(&mut self, r: raw::RawInterfaceSource) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let select = match &r.select {
            None => Some(Select::Best),
            Some(s) => match s.get_ref().as_str() {
                "best" => Some(Select::Best),
                "all" => Some(Select::All),
                other => {
                    self.push(
                        Diag::new(s.span(), format!("unknown select {other:?}"))
                            .hint("use \"best\" (one address) or \"all\""),
                    );
                    None
                }
            },
        };
        if let Some(i) = &r.interface {
            if i.get_ref().is_empty() || i.get_ref().len() > 15 || i.get_ref().contains(['/', ' '])
            {
                self.push(
                    Diag::new(
                        i.span(),
                        format!("{:?} is not a valid interface name", i.get_ref()),
                    )
                    .hint("omit `interface` to use every interface"),
                );
                return None;
            }
        }
        Some(SourceSettings::Interface(InterfaceSettings {
            interface: r.interface.map(Spanned::into_inner),
            family: family?,
            policy: PolicyOptions {
                allow_temporary: r.allow_temporary.unwrap_or(false),
                allow_ula: r.allow_ula.unwrap_or(false),
                allow_private: r.allow_private.unwrap_or(false),
                select: select?,
            },
        }))
    }

    fn fixed(&mut self, r: raw::RawStaticSource, place: &str) -> Option<SourceSettings> {
        let mut addresses = Vec::new();
        let mut ok = true;
        for a in r.addresses.get_ref() {
            match a.get_ref().trim().parse::<IpAddr>() {
                Ok(ip) => addresses.push(ip),
                Err(_) => {
                    self.push(Diag::new(
                        a.span(),
                        format!("{:?} is not an IP address", a.get_ref()),
                    ));
                    ok = false;
                }
            }
        }
        if ok && addresses.is_empty() {
            self.push(Diag::new(
                r.addresses.span(),
                format!("`addresses` in {place} is empty"),
            ));
            ok = false;
        }
        ok.then_some(SourceSettings::Static(StaticSettings { addresses }))
    }

    #[cfg(feature = "http")]
    fn http(&mut self, r: raw::RawHttpSource, place: &str) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(
            &r.timeout,
            crate::addr::http::DEFAULT_TIMEOUT,
            MAX_WAIT,
            "timeout",
        );
        let mut ok = true;
        let urls = match &r.urls {
            None => family.map(default_urls).unwrap_or_default(),
            Some(list) => {
                if list.get_ref().is_empty() {
                    self.push(
                        Diag::new(list.span(), format!("`urls` in {place} is empty"))
                            .hint("omit `urls` to use the built-in echo services"),
                    );
                    ok = false;
                }
                for u in list.get_ref() {
                    let valid = reqwest::Url::parse(u.get_ref())
                        .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.has_host());
                    if !valid {
                        self.push(Diag::new(
                            u.span(),
                            format!("url {:?} is not an http(s) URL", u.get_ref()),
                        ));
                        ok = false;
                    }
                }
                list.get_ref().iter().map(|u| u.get_ref().clone()).collect()
            }
        };
        let consensus = match &r.consensus {
            None => None,
            Some(c) => match usize::try_from(*c.get_ref()) {
                Ok(n) if n >= 1 && n <= urls.len() => Some(n),
                _ => {
                    self.push(
                        Diag::new(
                            c.span(),
                            format!(
                                "consensus {} is out of range: there are {} urls",
                                c.get_ref(),
                                urls.len()
                            ),
                        )
                        .hint("use a number from 1 to the number of urls (2 is a good choice)"),
                    );
                    ok = false;
                    None
                }
            },
        };
        Some(SourceSettings::Http(HttpSourceSettings {
            family: family.filter(|_| ok)?,
            urls,
            consensus,
            timeout: timeout?,
            policy: value_policy(r.allow_ula, r.allow_private),
        }))
    }

    fn dns(&mut self, r: raw::RawDnsSource) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(
            &r.timeout,
            crate::addr::dns::DEFAULT_TIMEOUT,
            MAX_WAIT,
            "timeout",
        );
        let mut ok = true;
        let preset = match &r.query {
            None => None,
            Some(q) => match Preset::parse(q.get_ref()) {
                Some(p) => Some(p),
                None => {
                    let hint = suggest(
                        q.get_ref(),
                        PRESETS,
                        Quote::Value,
                        "use \"opendns\", \"cloudflare\" or \"google\", or give name and type"
                            .to_owned(),
                    );
                    self.push(
                        Diag::new(q.span(), format!("unknown query {:?}", q.get_ref())).hint(hint),
                    );
                    ok = false;
                    None
                }
            },
        };
        if let (Some(_), Some(n)) = (&r.query, &r.name) {
            self.push(
                Diag::new(n.span(), "give either `query` or `name`, not both").hint(
                    "`query` picks a preset; `name`, `type` and `class` spell the question out",
                ),
            );
            ok = false;
        }
        if r.name.is_none() {
            for (key, v) in [("type", &r.rtype), ("class", &r.class)] {
                if let Some(v) = v {
                    self.push(Diag::new(
                        v.span(),
                        format!("`{key}` is only used with `name`"),
                    ));
                    ok = false;
                }
            }
        }
        let rtype = match &r.rtype {
            None => None,
            Some(t) => match t.get_ref().to_ascii_uppercase().as_str() {
                "A" => Some(QueryType::A),
                "AAAA" => Some(QueryType::Aaaa),
                "TXT" => Some(QueryType::Txt),
                _ => {
                    self.push(
                        Diag::new(t.span(), format!("unknown type {:?}", t.get_ref()))
                            .hint("use \"A\", \"AAAA\" or \"TXT\""),
                    );
                    ok = false;
                    None
                }
            },
        };
        let class = match &r.class {
            None => QueryClass::In,
            Some(c) => match c.get_ref().to_ascii_uppercase().as_str() {
                "IN" => QueryClass::In,
                "CH" => QueryClass::Ch,
                _ => {
                    self.push(
                        Diag::new(c.span(), format!("unknown class {:?}", c.get_ref()))
                            .hint("use \"IN\" or \"CH\""),
                    );
                    ok = false;
                    QueryClass::In
                }
            },
        };
        let family = family?;
        if let (Some(t), Some(rt)) = (&r.rtype, rtype) {
            let answers = match rt {
                QueryType::A => Some(Family::Ipv4),
                QueryType::Aaaa => Some(Family::Ipv6),
                QueryType::Txt => None,
            };
            if answers.is_some_and(|a| a != family) {
                self.push(
                    Diag::new(
                        t.span(),
                        format!(
                            "type {} answers with an address of the other family than {family}",
                            t.get_ref()
                        ),
                    )
                    .hint("use AAAA for ipv6 and A for ipv4"),
                );
                ok = false;
            }
        }
        let query = match (&r.name, preset) {
            (Some(n), _) => {
                let mut name = n.get_ref().trim().to_owned();
                if !name.ends_with('.') {
                    name.push('.');
                }
                if hickory_proto::rr::Name::from_ascii(&name).is_err() || name == "." {
                    self.push(Diag::new(
                        n.span(),
                        format!("{:?} is not a valid dns name", n.get_ref()),
                    ));
                    ok = false;
                }
                DnsQuery {
                    name,
                    rtype: rtype.unwrap_or(match family {
                        Family::Ipv6 => QueryType::Aaaa,
                        Family::Ipv4 => QueryType::A,
                    }),
                    class,
                }
            }
            (None, p) => p.unwrap_or(Preset::Cloudflare).query(family),
        };
        let resolver = match (&r.resolver, &r.name, preset) {
            (Some(t), _, _) => match fields::socket_addr(t.get_ref(), 53) {
                Ok(sa) if Family::of(&sa.ip()) != family => {
                    self.push(
                        Diag::new(
                            t.span(),
                            format!(
                                "resolver {sa} is an {} address but family is {family}",
                                Family::of(&sa.ip())
                            ),
                        )
                        .hint("the query goes out over the source's family: give a resolver of that family"),
                    );
                    None
                }
                Ok(sa) => Some(sa),
                Err(m) => {
                    self.push(Diag::new(t.span(), format!("resolver {m}")).hint(
                        "write an address, e.g. \"192.0.2.53\", \"192.0.2.53:5353\" or \"[2001:db8::53]:53\"",
                    ));
                    None
                }
            },
            (None, Some(n), _) => {
                self.push(
                    Diag::new(n.span(), "`name` needs a `resolver` to ask")
                        .hint("add resolver = \"IP[:PORT]\""),
                );
                None
            }
            (None, None, p) => Some(p.unwrap_or(Preset::Cloudflare).resolver(family)),
        };
        Some(SourceSettings::Dns(DnsSourceSettings {
            family,
            resolver: resolver.filter(|_| ok)?,
            query,
            timeout: timeout?,
            policy: value_policy(r.allow_ula, r.allow_private),
        }))
    }

    fn command(&mut self, r: raw::RawCommandSource, place: &str) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(
            &r.timeout,
            crate::addr::command::DEFAULT_TIMEOUT,
            MAX_WAIT,
            "timeout",
        );
        let argv: Vec<String> = r
            .command
            .get_ref()
            .iter()
            .map(|a| a.get_ref().clone())
            .collect();
        if argv.first().is_none_or(|p| p.trim().is_empty()) {
            self.push(
                Diag::new(r.command.span(), format!("`command` in {place} has no program"))
                    .hint("write the program and its arguments, e.g. [\"/usr/local/bin/myip\", \"-6\"] (no shell unless you write \"sh\", \"-c\")"),
            );
            return None;
        }
        let mut policy = value_policy(r.allow_ula, r.allow_private);
        policy.select = Select::All;
        // The command sees only these (issue 8): its environment is captured here, where the
        // config reads the environment anyway, and nothing else of ddnsd's is passed on.
        let mut env = Vec::new();
        let listed = r
            .env
            .as_ref()
            .map(|l| l.get_ref().as_slice())
            .unwrap_or(&[]);
        let mut ok = true;
        for v in listed {
            let name = v.get_ref();
            if name.is_empty() || name.contains(['=', '\0']) {
                self.push(Diag::new(
                    v.span(),
                    format!("{name:?} is not an environment variable name"),
                ));
                ok = false;
            }
        }
        for name in ["PATH", "HOME", "LANG"]
            .into_iter()
            .chain(listed.iter().map(|v| v.get_ref().as_str()))
        {
            let value = (self.env)(name).or_else(|| {
                (name == "PATH").then(|| {
                    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()
                })
            });
            if let Some(value) = value {
                env.push((name.to_owned(), Secret::new(value)));
            }
        }
        Some(SourceSettings::Command(CommandSettings {
            family: family?,
            command: argv,
            timeout: timeout?,
            policy,
            env: env.into_iter().filter(|_| ok).collect::<Vec<_>>(),
        }))
        .filter(|_| ok)
    }

    fn prefix(
        &mut self,
        name: &str,
        r: raw::RawPrefixSource,
        table: Range<usize>,
        place: &str,
    ) -> Option<SourceSettings> {
        self.prefix_from.push((name.to_owned(), r.from.clone()));
        let mut ok = true;
        let prefix_length = match &r.prefix_length {
            None => Some(crate::addr::prefix::DEFAULT_PREFIX_LENGTH),
            Some(l) => match u8::try_from(*l.get_ref()) {
                Ok(v) if (1..=64).contains(&v) => Some(v),
                _ => {
                    self.push(
                        Diag::new(l.span(), format!("prefix_length {} is out of range", l.get_ref()))
                            .hint("use 1 to 64 (the host part needs the last 64 bits); 64 when the interface has a /64"),
                    );
                    None
                }
            },
        };
        let subnet_id = match &r.subnet_id {
            None => Some(0),
            Some(v) => u64::try_from(*v.get_ref()).ok().or_else(|| {
                self.push(Diag::new(
                    v.span(),
                    format!("subnet_id {} is negative", v.get_ref()),
                ));
                None
            }),
        };
        let host = match (&r.suffix, &r.mac) {
            (Some(_), Some(m)) => {
                self.push(
                    Diag::new(
                        m.span(),
                        format!("give either `suffix` or `mac` in {place}, not both"),
                    )
                    .hint(
                        "`suffix` is the host part as written; `mac` derives it (modified EUI-64)",
                    ),
                );
                None
            }
            (None, None) => {
                self.push(
                    Diag::new(
                        table,
                        format!("{place} needs `suffix` or `mac` (the host part)"),
                    )
                    .hint("e.g. suffix = \"::1234:5678:9abc:def0\" or mac = \"aa:bb:cc:dd:ee:ff\""),
                );
                None
            }
            (Some(s), None) => {
                match s.get_ref().trim().parse::<std::net::Ipv6Addr>() {
                    Ok(a) => Some(HostPart::Suffix(a)),
                    Err(_) => {
                        self.push(
                        Diag::new(s.span(), format!("suffix {:?} is not an IPv6 address", s.get_ref()))
                            .hint("write the host part with leading ::, e.g. \"::1234:5678:9abc:def0\""),
                    );
                        None
                    }
                }
            }
            (None, Some(m)) => match crate::addr::prefix::parse_mac(m.get_ref().trim()) {
                Some(mac) => Some(HostPart::Mac(mac)),
                None => {
                    self.push(
                        Diag::new(
                            m.span(),
                            format!("mac {:?} is not a MAC address", m.get_ref()),
                        )
                        .hint("write six hex bytes, e.g. \"aa:bb:cc:dd:ee:ff\""),
                    );
                    None
                }
            },
        };
        if let (Some(len), Some(subnet), Some(host)) = (prefix_length, subnet_id, &host) {
            if let Err(p) = crate::addr::prefix::check(len, subnet, host) {
                let at = match p {
                    PrefixProblem::SuffixInPrefix { .. } | PrefixProblem::SuffixInSubnet { .. } => {
                        r.suffix.as_ref().map(Spanned::span)
                    }
                    PrefixProblem::SubnetTooLarge { .. } => r.subnet_id.as_ref().map(Spanned::span),
                    PrefixProblem::PrefixTooLong(_) => r.prefix_length.as_ref().map(Spanned::span),
                };
                self.push(Diag {
                    span: at,
                    message: p.to_string(),
                    hint: None,
                });
                ok = false;
            }
        }
        let policy = PolicyOptions {
            allow_ula: r.allow_ula.unwrap_or(false),
            select: Select::All,
            ..PolicyOptions::default()
        };
        Some(SourceSettings::Prefix(PrefixSettings {
            from: r.from.get_ref().clone(),
            prefix_length: prefix_length?,
            subnet_id: subnet_id?,
            host: host.filter(|_| ok)?,
            policy,
        }))
    }

    /// Every prefix source's `from` must name a defined IPv6 source, without a cycle.
    pub(super) fn check_prefix_sources(&mut self, sources: &Named<SourceSettings>) {
        let known: Vec<&str> = sources.keys().map(String::as_str).collect();
        let froms: BTreeMap<String, String> = self
            .prefix_from
            .iter()
            .map(|(n, f)| (n.clone(), f.get_ref().clone()))
            .collect();
        for (name, from) in std::mem::take(&mut self.prefix_from) {
            let f = from.get_ref();
            match sources.get(f) {
                None => {
                    let others: Vec<&str> = known.iter().copied().filter(|k| *k != name).collect();
                    let otherwise = if others.is_empty() {
                        format!("add a [sources.{f}] table (usually kind = \"interface\")")
                    } else {
                        format!("defined sources: {}", others.join(", "))
                    };
                    let hint = suggest(f, &others, Quote::Value, otherwise);
                    self.push(
                        Diag::new(
                            from.span(),
                            format!("[sources.{name}] takes its prefix from source {f:?}, which is not defined"),
                        )
                        .hint(hint),
                    );
                }
                Some(Some(s)) if s.families() != [Family::Ipv6] => {
                    self.push(
                        Diag::new(
                            from.span(),
                            format!("[sources.{name}] takes its prefix from source {f:?}, which is not an ipv6 source"),
                        )
                        .hint("name a source with family = \"ipv6\" (usually an interface)"),
                    );
                }
                _ => {
                    let mut chain = vec![name.clone()];
                    let mut cur = f.clone();
                    while let Some(next) = froms.get(&cur) {
                        chain.push(cur.clone());
                        if cur == name {
                            self.push(
                                Diag::new(
                                    from.span(),
                                    format!("prefix sources take their prefix from each other in a cycle: {}", chain.join(" → ")),
                                )
                                .hint("one source in the chain must take its prefix from an interface source"),
                            );
                            break;
                        }
                        if chain.len() > froms.len() + 1 {
                            break;
                        }
                        cur = next.clone();
                    }
                }
            }
        }
    }
}

/// The options of sources judged by value only (echo, DNS, command): every passing address.
fn value_policy(allow_ula: Option<bool>, allow_private: Option<bool>) -> PolicyOptions {
    PolicyOptions {
        allow_temporary: false,
        allow_ula: allow_ula.unwrap_or(false),
        allow_private: allow_private.unwrap_or(false),
        select: Select::All,
    }
}
