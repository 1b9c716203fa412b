//! Raw TOML → [`Config`] ("parse, don't validate"): collects every problem in the file as a
//! [`Diag`] with its span, so `ddnsd check` lists every mistake at once.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::raw::{self, fields_of, Text};
use super::secret::{resolve, SecretFields};
use super::{duration, Config, DaemonSettings, Origin, DEFAULT_STATE_FILE};
use crate::addr::command::CommandSettings;
use crate::addr::dns::{DnsQuery, DnsSourceSettings, Preset, QueryClass, QueryType, PRESETS};
use crate::addr::fixed::StaticSettings;
use crate::addr::http::{default_urls, HttpSourceSettings};
use crate::addr::netlink::InterfaceSettings;
use crate::addr::policy::{PolicyOptions, Select};
use crate::addr::prefix::{HostPart, PrefixProblem, PrefixSettings};
use crate::addr::SourceSettings;
use crate::provider::dnspod::TencentCloudSettings;
use crate::provider::dnspod_legacy::DnspodLegacySettings;
use crate::provider::rfc2136::Rfc2136Settings;
use crate::provider::tsig::{TsigAlgorithm, TsigKey};
use crate::provider::ProviderSettings;
use crate::record::{Family, Fqdn, RecordSpec, Ttl};
use crate::secret::Secret;

/// One problem, placed by byte span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    /// Where (byte range in the file), if known.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

impl Diag {
    /// A problem at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Diag {
        Diag {
            span: Some(span),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Diag {
        self.hint = Some(hint.into());
        self
    }
}

const TOP_KEYS: &[&str] = &["daemon", "sources", "providers", "records"];
const SOURCE_KINDS: &[&str] = &["interface", "static", "http", "dns", "command", "prefix"];
const PROVIDER_KINDS: &[&str] = &["rfc2136", "tencentcloud", "dnspod", "dry-run"];

/// The default daemon timings (each equals a value a user could write).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_VERIFY: Duration = Duration::from_secs(3600);
const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(500);
const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks config text. `env` looks up environment variables (for `*_env` secrets, `${VAR}`
/// in paths and `$STATE_DIRECTORY`).
pub fn build(
    text: &str,
    origin: Origin,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<Diag>> {
    let mut b = Builder {
        env,
        diags: Vec::new(),
        prefix_from: Vec::new(),
    };
    let (root, parse_errors) = DeTable::parse_recoverable(text);
    for e in parse_errors {
        b.diags.push(Diag {
            span: e.span(),
            message: format!("invalid TOML: {}", e.message().trim_end()),
            hint: None,
        });
    }
    if !b.diags.is_empty() {
        return Err(b.diags);
    }
    let root = root.into_inner();
    for (key, _) in root.iter() {
        if !TOP_KEYS.contains(&key.get_ref().as_ref()) {
            b.unknown_key(key, TOP_KEYS, "at the top level");
        }
    }
    let daemon = b.daemon(root.get("daemon"), &origin);
    let sources = b.sources(root.get("sources"));
    b.check_prefix_sources(&sources);
    let providers = b.providers(root.get("providers"));
    let records = b.records(root.get("records"), &sources, &providers);
    match (b.diags.is_empty(), daemon) {
        (true, Some(daemon)) => Ok(Config {
            origin,
            daemon,
            sources: sources
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
            providers: providers
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
            records,
        }),
        _ => Err(b.diags),
    }
}

struct Builder<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    diags: Vec<Diag>,
    /// (prefix source name, its `from`), checked once every source is built.
    prefix_from: Vec<(String, Text)>,
}

/// Sources/providers by name; `None` for an entry that had problems (so references to it are
/// not reported a second time).
type Named<T> = BTreeMap<String, Option<T>>;

impl Builder<'_> {
    fn push(&mut self, d: Diag) {
        self.diags.push(d);
    }

    fn unknown_key(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        known: &[&str],
        place: &str,
    ) {
        let k = key.get_ref().as_ref();
        let d = Diag::new(key.span(), format!("unknown key `{k}` {place}"));
        self.push(match did_you_mean(k, known) {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!("known keys here: {}", known.join(", "))),
        });
    }

    /// Deserializes a table into `T` after reporting (and dropping) every unknown key, so one
    /// typo does not hide the other problems of the same table.
    fn take<T: DeserializeOwned>(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        place: &str,
    ) -> Option<T> {
        let DeValue::Table(table) = value.get_ref() else {
            self.push(Diag::new(value.span(), format!("{place} must be a table")));
            return None;
        };
        let known = fields_of::<T>();
        let mut clean = table.clone();
        for (key, _) in table.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                self.unknown_key(key, known, &format!("in {place}"));
                clean.remove(key.get_ref().as_ref());
            }
        }
        // serde stops at the first bad value; drop the key it was in and try again, so a
        // wrong type in one key does not hide problems in the others.
        let mut dropped: Vec<String> = Vec::new();
        loop {
            let v = Spanned::new(value.span(), DeValue::Table(clean.clone()));
            let e = match T::deserialize(v.into_deserializer()) {
                // With keys dropped the value is incomplete, but the problems are recorded
                // (so the build fails) and its other fields can still be cross-checked.
                Ok(t) => return Some(t),
                Err(e) => e,
            };
            let message = e.message().trim_end().to_owned();
            if dropped
                .iter()
                .any(|k| message == format!("missing field `{k}`"))
            {
                return None;
            }
            let culprit = e.span().and_then(|span| {
                clean
                    .iter()
                    .find(|(_, v)| v.span().start <= span.start && span.end <= v.span().end)
                    .map(|(k, _)| k.get_ref().to_string())
            });
            match culprit {
                Some(key) => {
                    self.push(Diag {
                        span: e.span(),
                        message: format!("{key}: {message} in {place}"),
                        hint: None,
                    });
                    clean.remove(key.as_str());
                    dropped.push(key);
                }
                None => {
                    self.push(Diag {
                        span: e.span().or(Some(value.span())),
                        message: format!("{message} in {place}"),
                        hint: None,
                    });
                    return None;
                }
            }
        }
    }

    fn duration(&mut self, v: &Option<Text>, default: Duration, name: &str) -> Duration {
        match v {
            None => default,
            Some(t) => match duration::parse(t.get_ref()) {
                Ok(d) if d.is_zero() => {
                    self.push(Diag::new(
                        t.span(),
                        format!("{name} must be longer than zero"),
                    ));
                    default
                }
                Ok(d) => d,
                Err(m) => {
                    self.push(Diag::new(t.span(), format!("{name}: {m}")));
                    default
                }
            },
        }
    }

    fn daemon(
        &mut self,
        v: Option<&Spanned<DeValue<'_>>>,
        origin: &Origin,
    ) -> Option<DaemonSettings> {
        let raw: raw::RawDaemon = match v {
            Some(v) => self.take(v, "[daemon]")?,
            None => raw::RawDaemon::default(),
        };
        let state_file = match (&raw.state_file, origin) {
            (Some(p), _) => match super::secret::expand_vars(p.get_ref(), self.env) {
                Ok(s) if !s.is_empty() => Some(PathBuf::from(s)),
                Ok(_) => {
                    self.push(Diag::new(p.span(), "state_file is empty"));
                    None
                }
                Err(m) => {
                    self.push(Diag::new(p.span(), m));
                    None
                }
            },
            (None, Origin::Embedded) => None,
            // systemd's StateDirectory= sets $STATE_DIRECTORY; use it when the config is silent.
            (None, Origin::File(_)) => Some(
                match (self.env)("STATE_DIRECTORY").filter(|s| !s.is_empty()) {
                    Some(dir) => {
                        PathBuf::from(dir.split(':').next().unwrap_or(&dir)).join("state.json")
                    }
                    None => PathBuf::from(DEFAULT_STATE_FILE),
                },
            ),
        };
        Some(DaemonSettings {
            interval: self.duration(&raw.interval, DEFAULT_INTERVAL, "interval"),
            verify_interval: self.duration(&raw.verify_interval, DEFAULT_VERIFY, "verify_interval"),
            debounce: self.duration(&raw.debounce, DEFAULT_DEBOUNCE, "debounce"),
            state_file,
        })
    }

    /// Reads `kind` of a `[sources.x]` / `[providers.x]` table and checks it is known.
    fn kind(&mut self, v: &Spanned<DeValue<'_>>, place: &str, kinds: &[&str]) -> Option<String> {
        let DeValue::Table(t) = v.get_ref() else {
            self.push(Diag::new(v.span(), format!("{place} must be a table")));
            return None;
        };
        let Some(kind) = t.get("kind") else {
            self.push(
                Diag::new(v.span(), format!("{place} has no `kind`"))
                    .hint(format!("add kind = \"…\", one of: {}", kinds.join(", "))),
            );
            return None;
        };
        let Some(k) = kind.get_ref().as_str() else {
            self.push(Diag::new(
                kind.span(),
                format!("`kind` in {place} must be a string"),
            ));
            return None;
        };
        if !kinds.contains(&k) {
            let d = Diag::new(kind.span(), format!("unknown kind {k:?} in {place}"));
            self.push(match did_you_mean(k, kinds) {
                Some(s) => d.hint(format!("did you mean \"{s}\"?")),
                None => d.hint(format!("known kinds: {}", kinds.join(", "))),
            });
            return None;
        }
        Some(k.to_owned())
    }

    fn sources(&mut self, v: Option<&Spanned<DeValue<'_>>>) -> Named<SourceSettings> {
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
            let built = match self.kind(value, &place, SOURCE_KINDS).as_deref() {
                Some("interface") => self
                    .take::<raw::RawInterfaceSource>(value, &place)
                    .and_then(|r| self.interface(r)),
                Some("static") => self
                    .take::<raw::RawStaticSource>(value, &place)
                    .and_then(|r| self.fixed(r, &place)),
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

    fn http(&mut self, r: raw::RawHttpSource, place: &str) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(&r.timeout, crate::addr::http::DEFAULT_TIMEOUT, "timeout");
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
            timeout,
            policy: value_policy(r.allow_ula, r.allow_private),
        }))
    }

    fn dns(&mut self, r: raw::RawDnsSource) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(&r.timeout, crate::addr::dns::DEFAULT_TIMEOUT, "timeout");
        let mut ok = true;
        let preset = match &r.query {
            None => None,
            Some(q) => match Preset::parse(q.get_ref()) {
                Some(p) => Some(p),
                None => {
                    let d = Diag::new(q.span(), format!("unknown query {:?}", q.get_ref()));
                    self.push(match did_you_mean(q.get_ref(), PRESETS) {
                        Some(s) => d.hint(format!("did you mean \"{s}\"?")),
                        None => d.hint(
                            "use \"opendns\", \"cloudflare\" or \"google\", or give name and type",
                        ),
                    });
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
            (Some(t), _, _) => match parse_server(t.get_ref()) {
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
                    self.push(Diag::new(t.span(), m.replace("server", "resolver")).hint(
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
            timeout,
            policy: value_policy(r.allow_ula, r.allow_private),
        }))
    }

    fn command(&mut self, r: raw::RawCommandSource, place: &str) -> Option<SourceSettings> {
        let family = self.family(&r.family);
        let timeout = self.duration(&r.timeout, crate::addr::command::DEFAULT_TIMEOUT, "timeout");
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
        Some(SourceSettings::Command(CommandSettings {
            family: family?,
            command: argv,
            timeout,
            policy,
        }))
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
    fn check_prefix_sources(&mut self, sources: &Named<SourceSettings>) {
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
                    let d = Diag::new(
                        from.span(),
                        format!("[sources.{name}] takes its prefix from source {f:?}, which is not defined"),
                    );
                    let others: Vec<&str> = known.iter().copied().filter(|k| *k != name).collect();
                    self.push(match did_you_mean(f, &others) {
                        Some(k) => d.hint(format!("did you mean \"{k}\"?")),
                        None if others.is_empty() => d.hint(format!(
                            "add a [sources.{f}] table (usually kind = \"interface\")"
                        )),
                        None => d.hint(format!("defined sources: {}", others.join(", "))),
                    });
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

    fn providers(&mut self, v: Option<&Spanned<DeValue<'_>>>) -> Named<ProviderSettings> {
        let mut out = Named::new();
        let Some(v) = v else { return out };
        let DeValue::Table(t) = v.get_ref() else {
            self.push(Diag::new(
                v.span(),
                "`providers` must be a table of [providers.NAME] tables",
            ));
            return out;
        };
        for (name, value) in t.iter() {
            let name = name.get_ref().to_string();
            let place = format!("[providers.{name}]");
            let span = value.span();
            let built = match self.kind(value, &place, PROVIDER_KINDS).as_deref() {
                Some("dry-run") => self
                    .take::<raw::RawDryRun>(value, &place)
                    .map(|_| ProviderSettings::DryRun),
                Some("rfc2136") => self
                    .take::<raw::RawRfc2136>(value, &place)
                    .and_then(|r| self.rfc2136(r, span)),
                Some("tencentcloud") => self
                    .take::<raw::RawTencentCloud>(value, &place)
                    .and_then(|r| self.tencentcloud(r, span)),
                Some("dnspod") => self
                    .take::<raw::RawDnspod>(value, &place)
                    .and_then(|r| self.dnspod(r, span)),
                _ => None,
            };
            out.insert(name, built);
        }
        out
    }

    fn zone(&mut self, z: &Option<Text>) -> Result<Option<Fqdn>, ()> {
        match z {
            None => Ok(None),
            Some(t) => Fqdn::parse_relaxed(t.get_ref()).map(Some).map_err(|e| {
                self.push(Diag::new(t.span(), format!("zone: {e}")));
            }),
        }
    }

    fn secret(&mut self, f: SecretFields<'_>, table: Range<usize>) -> Option<Secret<String>> {
        resolve(&f, table, self.env).map_err(|d| self.push(d)).ok()
    }

    fn endpoint(&mut self, e: &Option<Text>, default: &str) -> Option<String> {
        match e {
            None => Some(default.to_owned()),
            Some(t) => {
                let s = t.get_ref().trim_end_matches('/');
                if s.starts_with("https://") || s.starts_with("http://") {
                    Some(s.to_owned())
                } else {
                    self.push(Diag::new(
                        t.span(),
                        format!("endpoint {:?} is not an http(s) URL", t.get_ref()),
                    ));
                    None
                }
            }
        }
    }

    fn rfc2136(&mut self, r: raw::RawRfc2136, span: Range<usize>) -> Option<ProviderSettings> {
        let server = parse_server(r.server.get_ref()).map_err(|m| {
            self.push(Diag::new(r.server.span(), m).hint("write an address, e.g. \"192.0.2.53\", \"192.0.2.53:5353\" or \"[2001:db8::53]:53\""))
        });
        let zone = self.zone(&r.zone);
        let timeout = self.duration(&r.timeout, DEFAULT_DNS_TIMEOUT, "timeout");
        let secret_fields = SecretFields {
            name: "tsig_secret",
            inline: &r.tsig_secret,
            file: &r.tsig_secret_file,
            env: &r.tsig_secret_env,
        };
        let tsig = match &r.tsig_name {
            None if secret_fields.given() => {
                self.push(
                    Diag::new(
                        span.clone(),
                        "a TSIG secret is given but tsig_name is missing",
                    )
                    .hint("add tsig_name = \"…\" with the key's name as the server knows it"),
                );
                Err(())
            }
            None => Ok(None),
            Some(n) => {
                let name = Fqdn::parse_relaxed(n.get_ref())
                    .map_err(|e| self.push(Diag::new(n.span(), format!("tsig_name: {e}"))));
                let algorithm = match &r.tsig_algorithm {
                    None => Ok(TsigAlgorithm::HmacSha256),
                    Some(a) => TsigAlgorithm::parse(a.get_ref()).ok_or_else(|| {
                        self.push(
                            Diag::new(
                                a.span(),
                                format!("unsupported tsig_algorithm {:?}", a.get_ref()),
                            )
                            .hint("use \"hmac-sha256\" or \"hmac-sha512\""),
                        )
                    }),
                };
                let secret = self.secret(secret_fields, span).and_then(|s| {
                    match base64::engine::general_purpose::STANDARD.decode(s.expose().as_bytes()) {
                        Ok(bytes) if !bytes.is_empty() => Some(Secret::new(bytes)),
                        _ => {
                            // Point at whichever form was used; never quote the value.
                            let at = [&r.tsig_secret, &r.tsig_secret_file, &r.tsig_secret_env]
                                .into_iter()
                                .flatten()
                                .next()
                                .map_or(0..0, |t| t.span());
                            self.push(Diag::new(at, "tsig_secret is not valid base64").hint(
                                "use the secret exactly as in the server's key statement (tsig-keygen / keymgr print it)",
                            ));
                            None
                        }
                    }
                });
                match (name, algorithm, secret) {
                    (Ok(name), Ok(algorithm), Some(secret)) => Ok(Some(TsigKey {
                        name,
                        algorithm,
                        secret,
                    })),
                    _ => Err(()),
                }
            }
        };
        Some(ProviderSettings::Rfc2136(Rfc2136Settings {
            server: server.ok()?,
            zone: zone.ok()?,
            tsig: tsig.ok()?,
            timeout,
        }))
    }

    fn tencentcloud(
        &mut self,
        r: raw::RawTencentCloud,
        span: Range<usize>,
    ) -> Option<ProviderSettings> {
        let secret_id = self.secret(
            SecretFields {
                name: "secret_id",
                inline: &r.secret_id,
                file: &r.secret_id_file,
                env: &r.secret_id_env,
            },
            span.clone(),
        );
        let secret_key = self.secret(
            SecretFields {
                name: "secret_key",
                inline: &r.secret_key,
                file: &r.secret_key_file,
                env: &r.secret_key_env,
            },
            span,
        );
        let zone = self.zone(&r.zone);
        let endpoint = self.endpoint(&r.endpoint, "https://dnspod.tencentcloudapi.com");
        Some(ProviderSettings::TencentCloud(TencentCloudSettings {
            // The SecretId is an identifier (it appears in every request); only the key is secret.
            secret_id: secret_id?.expose().clone(),
            secret_key: secret_key?,
            zone: zone.ok()?,
            record_line: r.record_line.map(Spanned::into_inner),
            endpoint: endpoint?,
            region: r.region.map(Spanned::into_inner),
        }))
    }

    fn dnspod(&mut self, r: raw::RawDnspod, span: Range<usize>) -> Option<ProviderSettings> {
        let token_id = self.secret(
            SecretFields {
                name: "token_id",
                inline: &r.token_id,
                file: &r.token_id_file,
                env: &r.token_id_env,
            },
            span.clone(),
        );
        let token = self.secret(
            SecretFields {
                name: "token",
                inline: &r.token,
                file: &r.token_file,
                env: &r.token_env,
            },
            span,
        );
        let zone = self.zone(&r.zone);
        let endpoint = self.endpoint(&r.endpoint, "https://dnsapi.cn");
        Some(ProviderSettings::DnspodLegacy(DnspodLegacySettings {
            // The API takes them joined: `login_token=ID,TOKEN`.
            login_token: Secret::new(format!("{},{}", token_id?.expose(), token?.expose())),
            zone: zone.ok()?,
            record_line: r.record_line.map(Spanned::into_inner),
            endpoint: endpoint?,
        }))
    }

    fn records(
        &mut self,
        v: Option<&Spanned<DeValue<'_>>>,
        sources: &Named<SourceSettings>,
        providers: &Named<ProviderSettings>,
    ) -> Vec<RecordSpec> {
        let mut out = Vec::new();
        let Some(v) = v else { return out };
        let DeValue::Array(items) = v.get_ref() else {
            self.push(Diag::new(
                v.span(),
                "`records` must be an array of tables ([[records]])",
            ));
            return out;
        };
        let mut seen: BTreeMap<(Fqdn, Family), usize> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let place = format!("[[records]] #{}", i + 1);
            let Some(r) = self.take::<raw::RawRecord>(item, &place) else {
                continue;
            };
            let name = match r.name.get_ref().parse::<Fqdn>() {
                Ok(n) => Some(n),
                Err(e) => {
                    self.push(Diag::new(r.name.span(), format!("record name: {e}")));
                    None
                }
            };
            let provider = r.provider.get_ref();
            if !providers.contains_key(provider) {
                let known: Vec<&str> = providers.keys().map(String::as_str).collect();
                let d = Diag::new(
                    r.provider.span(),
                    format!("record names provider {provider:?}, which is not defined"),
                );
                self.push(match did_you_mean(provider, &known) {
                    Some(s) => d.hint(format!("did you mean \"{s}\"?")),
                    None if known.is_empty() => {
                        d.hint(format!("add a [providers.{provider}] table"))
                    }
                    None => d.hint(format!("defined providers: {}", known.join(", "))),
                });
            }
            let known_sources: Vec<&str> = sources.keys().map(String::as_str).collect();
            if r.sources.get_ref().is_empty() {
                self.push(
                    Diag::new(r.sources.span(), "`sources` is empty")
                        .hint("name at least one [sources.NAME]"),
                );
            }
            let mut families = BTreeSet::new();
            for s in r.sources.get_ref() {
                match sources.get(s.get_ref()) {
                    Some(Some(settings)) => families.extend(settings.families()),
                    Some(None) => {}
                    None => {
                        let d = Diag::new(
                            s.span(),
                            format!(
                                "record names source {:?}, which is not defined",
                                s.get_ref()
                            ),
                        );
                        self.push(match did_you_mean(s.get_ref(), &known_sources) {
                            Some(k) => d.hint(format!("did you mean \"{k}\"?")),
                            None if known_sources.is_empty() => {
                                d.hint(format!("add a [sources.{}] table", s.get_ref()))
                            }
                            None => {
                                d.hint(format!("defined sources: {}", known_sources.join(", ")))
                            }
                        });
                    }
                }
            }
            let ttl = match &r.ttl {
                None => Some(Ttl::DEFAULT),
                Some(t) => match u32::try_from(*t.get_ref()) {
                    Ok(v) if v >= 1 => Some(Ttl(v)),
                    _ => {
                        self.push(
                            Diag::new(t.span(), format!("ttl {} is out of range", t.get_ref()))
                                .hint("use seconds, 1 to 2147483647 (e.g. 300)"),
                        );
                        None
                    }
                },
            };
            if let Some(n) = &name {
                for f in &families {
                    if let Some(first) = seen.insert((n.clone(), *f), i + 1) {
                        self.push(
                            Diag::new(
                                r.name.span(),
                                format!(
                                    "{n} {} is also managed by [[records]] #{first}",
                                    f.record_type()
                                ),
                            )
                            .hint("list every source of one name in a single [[records]] entry"),
                        );
                    }
                }
            }
            if let (Some(name), Some(ttl)) = (name, ttl) {
                out.push(RecordSpec {
                    name,
                    provider: provider.to_owned(),
                    sources: r
                        .sources
                        .get_ref()
                        .iter()
                        .map(|s| s.get_ref().clone())
                        .collect(),
                    ttl,
                });
            }
        }
        out
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

/// `IP`, `IP:PORT` or `[IPv6]:PORT`; port 53 when omitted.
fn parse_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(format!(
        "server {s:?} is not an IP address with an optional port"
    ))
}

/// The known word closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}
