//! The kinds read on this machine without a server: `interface` (netlink), `static` (the
//! addresses as written) and `command` (a program's output, with the environment it may see).

use std::net::IpAddr;

use toml::Spanned;

use super::value_policy;
use crate::addr::command::CommandSettings;
use crate::addr::fixed::StaticSettings;
use crate::addr::netlink::InterfaceSettings;
use crate::addr::policy::{PolicyOptions, Select};
use crate::addr::SourceSettings;
use crate::config::build::{Builder, MAX_WAIT};
use crate::config::diag::Diag;
use crate::config::raw;
use crate::secret::Secret;

impl Builder<'_> {
    pub(super) fn interface(&mut self, r: raw::RawInterfaceSource) -> Option<SourceSettings> {
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

    pub(super) fn fixed(&mut self, r: raw::RawStaticSource, place: &str) -> Option<SourceSettings> {
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
    pub(super) fn command(
        &mut self,
        r: raw::RawCommandSource,
        place: &str,
    ) -> Option<SourceSettings> {
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
}
