//! `[status]`, `[heartbeat]` and `[[notify]]` → the status server's, the heartbeat's and the
//! notifiers' settings (issue 11). Secrets (URLs with tokens, headers, bot tokens, SMTP
//! passwords) go through the one secret resolver; a secret's value is never quoted in a
//! problem.

#[cfg(any(feature = "http", feature = "email"))]
use std::collections::BTreeSet;
#[cfg(any(feature = "http", feature = "email"))]
use std::ops::Range;
#[cfg(feature = "status")]
use std::path::PathBuf;
#[cfg(any(feature = "http", feature = "email"))]
use std::time::Duration;

use toml::de::DeValue;
use toml::Spanned;

#[cfg(any(feature = "http", feature = "email", feature = "status"))]
use super::raw;
use super::Builder;
#[cfg(any(feature = "http", feature = "email"))]
use super::MAX_WAIT;
use crate::config::diag::Diag;
#[cfg(any(feature = "http", feature = "email"))]
use crate::config::diag::{suggest, Quote};
use crate::config::Origin;
#[cfg(any(feature = "http", feature = "email"))]
use crate::fields::SecretFields;
#[cfg(any(feature = "http", feature = "email"))]
use crate::fields::Text;
#[cfg(feature = "email")]
use crate::notify::email::{EmailSettings, Security};
use crate::notify::heartbeat::HeartbeatSettings;
#[cfg(feature = "http")]
use crate::notify::heartbeat::Style;
#[cfg(feature = "http")]
use crate::notify::message::{Template, FIELDS};
use crate::notify::NotifySettings;
#[cfg(any(feature = "http", feature = "email"))]
use crate::notify::Target;
#[cfg(any(feature = "http", feature = "email"))]
use crate::notify::{Event, DEFAULT_TIMEOUT};
#[cfg(feature = "http")]
use crate::notify::{
    NtfySettings, TelegramSettings, WebhookMethod, WebhookSettings, TELEGRAM_ENDPOINT,
};
#[cfg(feature = "http")]
use crate::secret::Secret;
use crate::status::StatusSettings;

const NOTIFY_KINDS: &[&str] = &[
    #[cfg(feature = "http")]
    "webhook",
    #[cfg(feature = "http")]
    "ntfy",
    #[cfg(feature = "http")]
    "telegram",
    "email",
];

/// Notification kinds this build leaves out, with the cargo feature that has each.
const NOTIFY_LEFT_OUT: &[(&str, &str)] = &[
    #[cfg(not(feature = "http"))]
    ("webhook", "http"),
    #[cfg(not(feature = "http"))]
    ("ntfy", "http"),
    #[cfg(not(feature = "http"))]
    ("telegram", "http"),
];
#[cfg(feature = "http")]
const STYLES: &[&str] = &["healthchecks", "uptime-kuma"];

impl Builder<'_> {
    /// `[status]`; `None` when it has problems.
    pub(super) fn status(
        &mut self,
        v: Option<&Spanned<DeValue<'_>>>,
        _origin: &Origin,
    ) -> Option<Option<StatusSettings>> {
        let Some(v) = v else { return Some(None) };
        #[cfg(not(feature = "status"))]
        {
            self.push(
                Diag::new(
                    v.span(),
                    "[status] is not available: ddnsd was built without the status feature",
                )
                .hint("use a build with the default features (cargo feature `status`), or remove [status]"),
            );
            None
        }
        #[cfg(feature = "status")]
        self.status_table(v)
    }

    /// `[status]` present: its settings; `None` when it has problems.
    #[cfg(feature = "status")]
    fn status_table(&mut self, v: &Spanned<DeValue<'_>>) -> Option<Option<StatusSettings>> {
        let r: raw::RawStatus = self.take(v, "[status]")?;
        if r.listen.is_none() && r.socket.is_none() {
            self.push(
                Diag::new(v.span(), "[status] needs `listen` or `socket`").hint(
                    "listen = \"127.0.0.1:9753\" serves HTTP on loopback; socket = \"/run/ddnsd/status.sock\" serves a Unix socket",
                ),
            );
            return None;
        }
        let allow_remote = r.allow_remote.unwrap_or(false);
        let mut ok = true;
        let listen = match &r.listen {
            None => None,
            Some(t) => match crate::fields::socket_addr(t.get_ref(), 9753) {
                Ok(a) if !a.ip().is_loopback() && !allow_remote => {
                    self.push(
                        Diag::new(t.span(), format!("listen {a} can be reached from other hosts"))
                            .hint("the status server has no authentication: keep it on 127.0.0.1, or add allow_remote = true to serve it there anyway (behind a firewall or a reverse proxy)"),
                    );
                    ok = false;
                    None
                }
                Ok(a) => {
                    if !a.ip().is_loopback() {
                        self.warnings.push(
                            Diag::new(
                                t.span(),
                                format!("the status server on {a} can be reached from other hosts; it shows record names, addresses and errors to anyone who asks"),
                            )
                            .hint("restrict who may connect with a firewall, or listen on 127.0.0.1 behind a reverse proxy"),
                        );
                    }
                    Some(a)
                }
                Err(m) => {
                    self.push(Diag::new(t.span(), format!("listen {m}")).hint(
                        "write an address and port, e.g. \"127.0.0.1:9753\" or \"[::1]:9753\"",
                    ));
                    ok = false;
                    None
                }
            },
        };
        let socket = match &r.socket {
            None => None,
            Some(t) => match crate::config::secret::expand_vars(t.get_ref(), self.env) {
                Ok(p) if p.starts_with('/') => Some(PathBuf::from(p)),
                Ok(_) => {
                    self.push(
                        Diag::new(
                            t.span(),
                            format!("socket {:?} is not an absolute path", t.get_ref()),
                        )
                        .hint("e.g. \"/run/ddnsd/status.sock\""),
                    );
                    ok = false;
                    None
                }
                Err(m) => {
                    self.push(Diag::new(t.span(), m));
                    ok = false;
                    None
                }
            },
        };
        ok.then_some(Some(StatusSettings {
            listen,
            socket,
            allow_remote,
        }))
    }

    /// `[heartbeat]`; `None` when it has problems.
    pub(super) fn heartbeat(
        &mut self,
        v: Option<&Spanned<DeValue<'_>>>,
    ) -> Option<Option<HeartbeatSettings>> {
        let Some(v) = v else { return Some(None) };
        #[cfg(not(feature = "http"))]
        {
            self.push(
                Diag::new(
                    v.span(),
                    "[heartbeat] is not available: ddnsd was built without the http feature",
                )
                .hint("use a build with the default features (cargo feature `http`), or remove [heartbeat]"),
            );
            None
        }
        #[cfg(feature = "http")]
        self.heartbeat_table(v)
    }

    /// `[heartbeat]` present: its settings; `None` when it has problems.
    #[cfg(feature = "http")]
    fn heartbeat_table(&mut self, v: &Spanned<DeValue<'_>>) -> Option<Option<HeartbeatSettings>> {
        let r: raw::RawHeartbeat = self.take(v, "[heartbeat]")?;
        let fields = SecretFields {
            name: "url",
            inline: &r.url,
            file: &r.url_file,
            env: &r.url_env,
        };
        let url = self
            .secret(fields, v.span())
            .and_then(|u| self.secret_url(u, &fields, "url of [heartbeat]"));
        let style = match &r.style {
            None => Some(Style::Healthchecks),
            Some(s) => match s.get_ref().as_str() {
                "healthchecks" => Some(Style::Healthchecks),
                "uptime-kuma" => Some(Style::UptimeKuma),
                other => {
                    let hint = suggest(
                        other,
                        STYLES,
                        Quote::Value,
                        "use \"healthchecks\" or \"uptime-kuma\"".to_owned(),
                    );
                    self.push(Diag::new(s.span(), format!("unknown style {other:?}")).hint(hint));
                    None
                }
            },
        };
        let timeout = self.duration(&r.timeout, DEFAULT_TIMEOUT, MAX_WAIT, "timeout");
        Some(Some(HeartbeatSettings {
            url: url?,
            style: style?,
            timeout: timeout?,
        }))
    }

    /// `[[notify]]` entries (those with problems are left out; the problems fail the build).
    pub(super) fn notify(&mut self, v: Option<&Spanned<DeValue<'_>>>) -> Vec<NotifySettings> {
        let mut out = Vec::new();
        let Some(v) = v else { return out };
        let DeValue::Array(items) = v.get_ref() else {
            self.push(Diag::new(
                v.span(),
                "`notify` must be an array of tables ([[notify]])",
            ));
            return out;
        };
        for (i, item) in items.iter().enumerate() {
            let place = format!("[[notify]] #{}", i + 1);
            let Some(kind) = self.kind(item, &place, NOTIFY_KINDS, NOTIFY_LEFT_OUT) else {
                continue;
            };
            let span = item.span();
            let built = match kind.as_str() {
                #[cfg(feature = "http")]
                "webhook" => self
                    .take::<raw::RawWebhookNotify>(item, &place)
                    .and_then(|r| self.webhook(r, span)),
                #[cfg(feature = "http")]
                "ntfy" => self
                    .take::<raw::RawNtfyNotify>(item, &place)
                    .and_then(|r| self.ntfy(r)),
                #[cfg(feature = "http")]
                "telegram" => self
                    .take::<raw::RawTelegramNotify>(item, &place)
                    .and_then(|r| self.telegram(r, span)),
                #[cfg(feature = "email")]
                _ => self
                    .take::<raw::RawEmailNotify>(item, &place)
                    .and_then(|r| self.email(r, span)),
                #[cfg(not(feature = "email"))]
                _ => {
                    self.push(
                        Diag::new(
                            span,
                            format!("{place}: kind \"email\" is not in this build of ddnsd"),
                        )
                        .hint("build ddnsd with its default features (the `email` feature)"),
                    );
                    None
                }
            };
            if let Some((on, timeout, target)) = built {
                out.push(NotifySettings {
                    label: format!("notify #{} ({kind})", i + 1),
                    on,
                    timeout,
                    target,
                });
            }
        }
        out
    }

    /// `on` and `timeout`, common to every kind.
    #[cfg(any(feature = "http", feature = "email"))]
    fn common(
        &mut self,
        on: &Option<Spanned<Vec<Text>>>,
        timeout: &Option<Text>,
    ) -> Option<(BTreeSet<Event>, Duration)> {
        let timeout = self.duration(timeout, DEFAULT_TIMEOUT, MAX_WAIT, "timeout");
        let events = match on {
            None => Some(Event::ALL.into_iter().collect()),
            Some(list) if list.get_ref().is_empty() => {
                self.push(
                    Diag::new(list.span(), "`on` is empty")
                        .hint("omit `on` to be told about every event"),
                );
                None
            }
            Some(list) => {
                let mut set = BTreeSet::new();
                let mut ok = true;
                let names: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
                for t in list.get_ref() {
                    match Event::parse(t.get_ref()) {
                        Some(e) => {
                            set.insert(e);
                        }
                        None => {
                            let hint = suggest(
                                t.get_ref(),
                                &names,
                                Quote::Value,
                                "use \"changed\", \"failed\" or \"recovered\"".to_owned(),
                            );
                            self.push(
                                Diag::new(
                                    t.span(),
                                    format!("unknown event {:?} in `on`", t.get_ref()),
                                )
                                .hint(hint),
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(set)
            }
        };
        Some((events?, timeout?))
    }

    #[cfg(feature = "http")]
    fn webhook(
        &mut self,
        r: raw::RawWebhookNotify,
        table: Range<usize>,
    ) -> Option<(BTreeSet<Event>, Duration, Target)> {
        let common = self.common(&r.on, &r.timeout);
        let fields = SecretFields {
            name: "url",
            inline: &r.url,
            file: &r.url_file,
            env: &r.url_env,
        };
        let url = self
            .secret(fields, table.clone())
            .and_then(|u| self.secret_url(u, &fields, "url"));
        let method = match &r.method {
            None => Some(WebhookMethod::Post),
            Some(m) => match m.get_ref().to_ascii_uppercase().as_str() {
                "POST" => Some(WebhookMethod::Post),
                "PUT" => Some(WebhookMethod::Put),
                "GET" => Some(WebhookMethod::Get),
                _ => {
                    self.push(
                        Diag::new(m.span(), format!("unknown method {:?}", m.get_ref()))
                            .hint("use \"POST\", \"PUT\" or \"GET\""),
                    );
                    None
                }
            },
        };
        let headers = self.headers(&r, table);
        let body = match &r.body {
            None => Some(None),
            Some(b) => match Template::parse(b.get_ref()) {
                Ok(t) => Some(Some(t)),
                Err(m) => {
                    let known: Vec<String> = FIELDS.iter().map(|f| format!("{{{f}}}")).collect();
                    self.push(
                        Diag::new(b.span(), format!("body: {m}"))
                            .hint(format!("placeholders: {}", known.join(", "))),
                    );
                    None
                }
            },
        };
        let content_type = match (&r.content_type, &r.body) {
            (Some(c), _) => c.get_ref().clone(),
            (None, Some(b)) if !b.get_ref().trim_start().starts_with('{') => {
                "text/plain; charset=utf-8".to_owned()
            }
            _ => "application/json".to_owned(),
        };
        let (on, timeout) = common?;
        Some((
            on,
            timeout,
            Target::Webhook(WebhookSettings {
                url: url?,
                method: method?,
                headers: headers?,
                body: body?,
                content_type,
            }),
        ))
    }

    /// `headers` (a table), `headers_file` or `headers_env` (`Name: value` lines): at most one.
    #[cfg(feature = "http")]
    fn headers(
        &mut self,
        r: &raw::RawWebhookNotify,
        table: Range<usize>,
    ) -> Option<Secret<Vec<(String, String)>>> {
        let given: Vec<(&str, Range<usize>)> = [
            ("headers", r.headers.as_ref().map(Spanned::span)),
            ("headers_file", r.headers_file.as_ref().map(Spanned::span)),
            ("headers_env", r.headers_env.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        .collect();
        if let [_, (second, span), ..] = given.as_slice() {
            let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
            self.push(
                Diag::new(
                    span.clone(),
                    format!(
                        "headers are given {} ways ({})",
                        given.len(),
                        names.join(", ")
                    ),
                )
                .hint(format!("keep exactly one; remove {second}")),
            );
            return None;
        }
        let (pairs, span): (Vec<(String, String)>, Range<usize>) = if let Some(h) = &r.headers {
            let pairs = h
                .get_ref()
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect();
            (pairs, h.span())
        } else if r.headers_file.is_some() || r.headers_env.is_some() {
            let fields = SecretFields {
                name: "headers",
                inline: &None,
                file: &r.headers_file,
                env: &r.headers_env,
            };
            let span = fields.span().unwrap_or(table.clone());
            let text = self.secret(fields, table)?;
            let mut pairs = Vec::new();
            for (n, line) in text.expose().lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match line.split_once(':') {
                    Some((k, v)) => pairs.push((k.trim().to_owned(), v.trim().to_owned())),
                    None => {
                        self.push(
                            Diag::new(
                                span.clone(),
                                format!("line {} of the headers is not `Name: value`", n + 1),
                            )
                            .hint("write one header per line, e.g. Authorization: Bearer …"),
                        );
                        return None;
                    }
                }
            }
            (pairs, span)
        } else {
            return Some(Secret::new(Vec::new()));
        };
        let mut ok = true;
        for (k, v) in &pairs {
            if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
                self.push(Diag::new(
                    span.clone(),
                    format!("{k:?} is not a valid header name"),
                ));
                ok = false;
            } else if reqwest::header::HeaderValue::from_str(v).is_err() {
                // The value may be a secret: name the header, never the value.
                self.push(Diag::new(
                    span.clone(),
                    format!("the value of header {k} is not a valid header value"),
                ));
                ok = false;
            }
        }
        ok.then(|| Secret::new(pairs))
    }

    #[cfg(feature = "http")]
    fn ntfy(&mut self, r: raw::RawNtfyNotify) -> Option<(BTreeSet<Event>, Duration, Target)> {
        let common = self.common(&r.on, &r.timeout);
        let url = self.plain_url(&r.url, "url");
        let fields = SecretFields {
            name: "token",
            inline: &r.token,
            file: &r.token_file,
            env: &r.token_env,
        };
        let token = if fields.given() {
            Some(Some(self.secret(fields, r.url.span())?))
        } else {
            Some(None)
        };
        let (on, timeout) = common?;
        Some((
            on,
            timeout,
            Target::Ntfy(NtfySettings {
                url: url?,
                token: token?,
            }),
        ))
    }

    #[cfg(feature = "http")]
    fn telegram(
        &mut self,
        r: raw::RawTelegramNotify,
        table: Range<usize>,
    ) -> Option<(BTreeSet<Event>, Duration, Target)> {
        let common = self.common(&r.on, &r.timeout);
        let fields = SecretFields {
            name: "bot_token",
            inline: &r.bot_token,
            file: &r.bot_token_file,
            env: &r.bot_token_env,
        };
        let token = self.secret(fields, table);
        let token = token.filter(|t| {
            let ok = !t.expose().contains(['/', '?', '#', ' ']);
            if !ok {
                self.push(
                    Diag::new(
                        fields.span().unwrap_or_default(),
                        "bot_token is not a bot token",
                    )
                    .hint("copy the token @BotFather gave, e.g. 123456:ABC-DEF…"),
                );
            }
            ok
        });
        let chat_id = match r.chat_id.get_ref() {
            raw::RawChatId::Number(n) => Some(n.to_string()),
            raw::RawChatId::Name(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            raw::RawChatId::Name(_) => {
                self.push(Diag::new(r.chat_id.span(), "chat_id is empty"));
                None
            }
        };
        let endpoint = match &r.endpoint {
            None => Some(TELEGRAM_ENDPOINT.to_owned()),
            Some(e) => self
                .plain_url(e, "endpoint")
                .map(|u| u.trim_end_matches('/').to_owned()),
        };
        let (on, timeout) = common?;
        Some((
            on,
            timeout,
            Target::Telegram(TelegramSettings {
                bot_token: token?,
                chat_id: chat_id?,
                endpoint: endpoint?,
            }),
        ))
    }

    #[cfg(feature = "email")]
    fn email(
        &mut self,
        r: raw::RawEmailNotify,
        table: Range<usize>,
    ) -> Option<(BTreeSet<Event>, Duration, Target)> {
        let common = self.common(&r.on, &r.timeout);
        let mut ok = true;
        let server = r.server.get_ref().trim().to_owned();
        if server.is_empty()
            || server.contains(['/', ' ', ':']) && server.parse::<std::net::IpAddr>().is_err()
        {
            self.push(
                Diag::new(r.server.span(), format!("server {:?} is not a host name or IP address", r.server.get_ref()))
                    .hint("write the relay's name as its certificate has it, e.g. \"smtp.example.com\"; the port goes in `port`"),
            );
            ok = false;
        }
        let security = match &r.tls {
            None => Some(Security::StartTls),
            Some(t) => match t.get_ref().as_str() {
                "starttls" => Some(Security::StartTls),
                "implicit" => Some(Security::Implicit),
                "none" => {
                    let local = server == "localhost"
                        || server
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback());
                    if local {
                        Some(Security::None)
                    } else {
                        self.push(
                            Diag::new(t.span(), format!("tls = \"none\" would send the mail and password to {server} unencrypted"))
                                .hint("use \"starttls\" (port 587) or \"implicit\" (port 465); \"none\" is only for a relay on this machine"),
                        );
                        None
                    }
                }
                other => {
                    let hint = suggest(
                        other,
                        &["starttls", "implicit", "none"],
                        Quote::Value,
                        "use \"starttls\" (port 587), \"implicit\" (port 465) or \"none\" (a relay on this machine)".to_owned(),
                    );
                    self.push(Diag::new(t.span(), format!("unknown tls {other:?}")).hint(hint));
                    None
                }
            },
        };
        let port = match (&r.port, security) {
            (Some(p), _) => match u16::try_from(*p.get_ref()) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    self.push(Diag::new(
                        p.span(),
                        format!("port {} is out of range", p.get_ref()),
                    ));
                    None
                }
            },
            (None, Some(s)) => Some(s.default_port()),
            (None, None) => None,
        };
        let fields = SecretFields {
            name: "password",
            inline: &r.password,
            file: &r.password_file,
            env: &r.password_env,
        };
        let password = match (&r.username, fields.given()) {
            (Some(_), true) => self.secret(fields, table.clone()).map(Some),
            (None, false) => Some(None),
            (Some(u), false) => {
                self.push(
                    Diag::new(u.span(), "username is given without a password")
                        .hint("add password, password_file or password_env"),
                );
                None
            }
            (None, true) => {
                self.push(
                    Diag::new(
                        fields.span().unwrap_or(table.clone()),
                        "a password is given without a username",
                    )
                    .hint("add username, or remove the password"),
                );
                None
            }
        };
        let from = match r.from.get_ref().parse::<lettre::message::Mailbox>() {
            Ok(m) => Some(m),
            Err(e) => {
                self.push(
                    Diag::new(
                        r.from.span(),
                        format!("from {:?} is not a mail address: {e}", r.from.get_ref()),
                    )
                    .hint("e.g. \"ddnsd <ddnsd@example.com>\""),
                );
                None
            }
        };
        let mut to = Vec::new();
        if r.to.get_ref().is_empty() {
            self.push(Diag::new(r.to.span(), "`to` is empty").hint("name at least one recipient"));
            ok = false;
        }
        for t in r.to.get_ref() {
            match t.get_ref().parse::<lettre::message::Mailbox>() {
                Ok(m) => to.push(m),
                Err(e) => {
                    self.push(Diag::new(
                        t.span(),
                        format!("to {:?} is not a mail address: {e}", t.get_ref()),
                    ));
                    ok = false;
                }
            }
        }
        let ca_pem = match &r.ca_file {
            None => Some(None),
            Some(f) => match std::fs::read(f.get_ref()) {
                Ok(pem)
                    if String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") =>
                {
                    Some(Some(pem))
                }
                Ok(_) => {
                    self.push(
                        Diag::new(f.span(), format!("ca_file {:?} holds no PEM certificate", f.get_ref()))
                            .hint("give the relay's CA certificate in PEM form (-----BEGIN CERTIFICATE-----)"),
                    );
                    None
                }
                Err(e) => {
                    self.push(Diag::new(
                        f.span(),
                        format!("cannot read ca_file {:?}: {e}", f.get_ref()),
                    ));
                    None
                }
            },
        };
        let (on, timeout) = common?;
        if !ok {
            return None;
        }
        Some((
            on,
            timeout,
            Target::Email(EmailSettings {
                server,
                port: port?,
                security: security?,
                username: r.username.map(Spanned::into_inner),
                password: password?,
                from: from?,
                to,
                ca_pem: ca_pem?,
            }),
        ))
    }

    /// Checks a secret URL is http(s), without ever quoting it.
    #[cfg(feature = "http")]
    fn secret_url(
        &mut self,
        url: Secret<String>,
        fields: &SecretFields<'_>,
        what: &str,
    ) -> Option<Secret<String>> {
        if is_http_url(url.expose()) {
            Some(url)
        } else {
            self.push(
                Diag::new(
                    fields.span().unwrap_or_default(),
                    format!("{what} is not an http(s) URL"),
                )
                .hint("write the full URL, e.g. \"https://hc-ping.com/…\""),
            );
            None
        }
    }

    #[cfg(feature = "http")]
    fn plain_url(&mut self, t: &Text, what: &str) -> Option<String> {
        if is_http_url(t.get_ref()) {
            Some(t.get_ref().clone())
        } else {
            self.push(Diag::new(
                t.span(),
                format!("{what} {:?} is not an http(s) URL", t.get_ref()),
            ));
            None
        }
    }
}

#[cfg(feature = "http")]
fn is_http_url(s: &str) -> bool {
    reqwest::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}
