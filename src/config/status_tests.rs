//! Compiled only under #[cfg(test)] (declared so in config/mod.rs).
//! `[status]`, `[heartbeat]` and `[[notify]]` (issue 11): built values and exact diagnostics.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::notify::heartbeat::Style;
use crate::notify::{Event, Target, WebhookMethod};

fn env(name: &str) -> Option<String> {
    match name {
        "HOOK_HEADERS" => Some("Authorization: Bearer h3ader\nX-Team: ops\n".into()),
        "BOT" => Some("123456:ABC-bot".into()),
        "SMTP_PASS" => Some("p4ss".into()),
        "PING_URL" => Some("https://hc-ping.com/6a3c".into()),
        _ => None,
    }
}

fn problems(text: &str) -> String {
    match from_text(text, Path::new("t.toml"), &env) {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const GOOD: &str = r#"
[status]
listen = "127.0.0.1:9753"
socket = "/run/ddnsd/status.sock"

[heartbeat]
url_env = "PING_URL"

[[notify]]
kind = "webhook"
url = "https://chat.example/hooks/abc"
headers_env = "HOOK_HEADERS"
body = '{"text": "{message}"}'

[[notify]]
kind = "ntfy"
url = "https://ntfy.example/ddnsd"
on = ["failed", "recovered"]

[[notify]]
kind = "telegram"
bot_token_env = "BOT"
chat_id = -1001234

[[notify]]
kind = "email"
server = "smtp.example.com"
username = "ddnsd"
password_env = "SMTP_PASS"
from = "ddnsd <ddnsd@example.com>"
to = ["ops@example.com"]
timeout = "30s"
"#;

#[test]
fn status_heartbeat_and_notify_build() {
    let c = from_text(GOOD, Path::new("t.toml"), &env).unwrap();
    let s = c.status.unwrap();
    assert_eq!(s.listen, Some("127.0.0.1:9753".parse().unwrap()));
    assert_eq!(
        s.socket.as_deref(),
        Some(Path::new("/run/ddnsd/status.sock"))
    );
    assert!(!s.allow_remote && !s.remote());
    let h = c.heartbeat.unwrap();
    assert_eq!(
        (h.style, h.timeout),
        (Style::Healthchecks, Duration::from_secs(10))
    );
    assert_eq!(h.url.expose(), "https://hc-ping.com/6a3c");
    assert!(!format!("{h:?}").contains("6a3c"), "secret in Debug");
    assert_eq!(
        c.secret_env,
        ["BOT", "HOOK_HEADERS", "PING_URL", "SMTP_PASS"]
    );
    assert_eq!(c.notify.len(), 4);
    let labels: Vec<&str> = c.notify.iter().map(|n| n.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "notify #1 (webhook)",
            "notify #2 (ntfy)",
            "notify #3 (telegram)",
            "notify #4 (email)"
        ]
    );
    let Target::Webhook(w) = &c.notify[0].target else {
        panic!()
    };
    assert_eq!(w.method, WebhookMethod::Post);
    assert_eq!(w.content_type, "application/json");
    assert_eq!(
        w.headers.expose(),
        &[
            ("Authorization".to_owned(), "Bearer h3ader".to_owned()),
            ("X-Team".to_owned(), "ops".to_owned())
        ]
    );
    assert!(!format!("{w:?}").contains("h3ader"), "secret in Debug");
    assert_eq!(c.notify[0].on.len(), 3);
    assert_eq!(
        c.notify[1].on.iter().copied().collect::<Vec<_>>(),
        [Event::Failed, Event::Recovered]
    );
    let Target::Telegram(t) = &c.notify[2].target else {
        panic!()
    };
    assert_eq!(t.chat_id, "-1001234");
    assert_eq!(t.endpoint, "https://api.telegram.org");
    let Target::Email(e) = &c.notify[3].target else {
        panic!()
    };
    assert_eq!((e.port, e.server.as_str()), (587, "smtp.example.com"));
    assert_eq!(c.notify[3].timeout, Duration::from_secs(30));
    assert_eq!(e.to[0].email.to_string(), "ops@example.com");
}

#[test]
fn a_remote_listen_needs_allow_remote_and_warns() {
    let text = "[status]\nlisten = \"0.0.0.0:9753\"\nallow_remote = true\n";
    let c = from_text(text, Path::new("t.toml"), &env).unwrap();
    assert!(c.status.as_ref().unwrap().remote());
    assert_eq!(
        crate::report::config_warnings(&c),
        "t.toml:2:10: warning: the status server on 0.0.0.0:9753 can be reached from other hosts; it shows record names, addresses and errors to anyone who asks\n  hint: restrict who may connect with a firewall, or listen on 127.0.0.1 behind a reverse proxy\n"
    );
}

#[test]
fn diagnostics_table() {
    let cases: &[(&str, &str)] = &[
        ("[status]\n", "t.toml:1:1: [status] needs `listen` or `socket`\n  hint: listen = \"127.0.0.1:9753\" serves HTTP on loopback; socket = \"/run/ddnsd/status.sock\" serves a Unix socket"),
        ("[status]\nlisten = \"0.0.0.0:9753\"\n", "t.toml:2:10: listen 0.0.0.0:9753 can be reached from other hosts\n  hint: the status server has no authentication: keep it on 127.0.0.1, or add allow_remote = true to serve it there anyway (behind a firewall or a reverse proxy)"),
        ("[status]\nlisten = \"localhost:80\"\n", "t.toml:2:10: listen \"localhost:80\" is not an IP address with an optional port\n  hint: write an address and port, e.g. \"127.0.0.1:9753\" or \"[::1]:9753\""),
        ("[status]\nsocket = \"status.sock\"\nallow_remot = true\n", "t.toml:2:10: socket \"status.sock\" is not an absolute path\n  hint: e.g. \"/run/ddnsd/status.sock\"\nt.toml:3:1: unknown key `allow_remot` in [status]\n  hint: did you mean `allow_remote`?"),
        ("[heartbeat]\nstyle = \"kuma\"\n", "t.toml:1:1: url is missing\n  hint: give exactly one of url, url_file (a path) or url_env (an environment variable name)\nt.toml:2:9: unknown style \"kuma\"\n  hint: use \"healthchecks\" or \"uptime-kuma\""),
        ("[heartbeat]\nurl = \"ftp://s3cret-check\"\n", "t.toml:2:7: url of [heartbeat] is not an http(s) URL\n  hint: write the full URL, e.g. \"https://hc-ping.com/…\""),
        ("[[notify]]\nkind = \"slack\"\n", "t.toml:2:8: unknown kind \"slack\" in [[notify]] #1\n  hint: known kinds: webhook, ntfy, telegram, email"),
        ("notify = 1\n", "t.toml:1:10: `notify` must be an array of tables ([[notify]])"),
        (
            "[[notify]]\nkind = \"webhook\"\nurl = \"https://x.example/\"\non = [\"change\", \"failed\"]\nbody = \"{nmae}\"\nmethod = \"DELETE\"\n",
            "t.toml:4:7: unknown event \"change\" in `on`\n  hint: did you mean \"changed\"?\nt.toml:5:8: body: unknown placeholder \"{nmae}\"\n  hint: placeholders: {event}, {name}, {type}, {addrs}, {was}, {provider}, {status}, {message}, {title}, {host}, {at}\nt.toml:6:10: unknown method \"DELETE\"\n  hint: use \"POST\", \"PUT\" or \"GET\"",
        ),
        (
            "[[notify]]\nkind = \"webhook\"\nurl = \"https://x.example/\"\nheaders = { Authorization = \"Bearer x\" }\nheaders_env = \"HOOK_HEADERS\"\n",
            "t.toml:5:15: headers are given 2 ways (headers, headers_env)\n  hint: keep exactly one; remove headers_env",
        ),
        (
            "[[notify]]\nkind = \"webhook\"\nurl = \"https://x.example/\"\nheaders = { \"Bad Name\" = \"v\" }\non = []\n",
            "t.toml:4:11: \"Bad Name\" is not a valid header name\nt.toml:5:6: `on` is empty\n  hint: omit `on` to be told about every event",
        ),
        ("[[notify]]\nkind = \"telegram\"\nchat_id = \"\"\n", "t.toml:1:1: bot_token is missing\n  hint: give exactly one of bot_token, bot_token_file (a path) or bot_token_env (an environment variable name)\nt.toml:3:11: chat_id is empty"),
        ("[[notify]]\nkind = \"ntfy\"\nurl = \"ntfy.sh/topic\"\n", "t.toml:3:7: url \"ntfy.sh/topic\" is not an http(s) URL"),
        (
            "[[notify]]\nkind = \"email\"\nserver = \"smtp.example.com\"\ntls = \"none\"\nusername = \"u\"\nfrom = \"not an address\"\nto = []\n",
            "t.toml:4:7: tls = \"none\" would send the mail and password to smtp.example.com unencrypted\n  hint: use \"starttls\" (port 587) or \"implicit\" (port 465); \"none\" is only for a relay on this machine\nt.toml:5:12: username is given without a password\n  hint: add password, password_file or password_env\nt.toml:6:8: from \"not an address\" is not a mail address: Invalid input\n  hint: e.g. \"ddnsd <ddnsd@example.com>\"\nt.toml:7:6: `to` is empty\n  hint: name at least one recipient",
        ),
        (
            "[[notify]]\nkind = \"email\"\nserver = \"127.0.0.1\"\ntls = \"startls\"\npassword = \"x\"\nfrom = \"a@example.com\"\nto = [\"b@\"]\nport = 70000\n",
            "t.toml:4:7: unknown tls \"startls\"\n  hint: did you mean \"starttls\"?\nt.toml:5:12: a password is given without a username\n  hint: add username, or remove the password\nt.toml:7:7: to \"b@\" is not a mail address: Invalid input\nt.toml:8:8: port 70000 is out of range",
        ),
    ];
    for (text, want) in cases {
        let p = problems(text);
        assert_eq!(p, *want, "config:\n{text}");
        assert!(!p.contains("s3cret"), "a secret was quoted: {p}");
    }
}
