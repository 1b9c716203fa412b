//! Unit tests of the dyndns2 provider: URLs, answer parsing, the answer table, the settings and
//! the acknowledged hints.

use std::net::IpAddr;
use std::path::Path;

use super::*;
use crate::http::HttpResponse;

fn set(v: &[&str]) -> AddrSet {
    v.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect()
}

fn reply(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        date: None,
        retry_after: None,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn urls_put_each_family_where_the_service_wants_it() {
    let plain = Dialect::default();
    let one6 = set(&["2001:db8::1"]);
    let one4 = set(&["192.0.2.1"]);
    // AAAA goes in myip: the thing ddclient 3.10 gets wrong.
    assert_eq!(
        update_url(
            "https://dynupdate.no-ip.com/nic/update",
            &plain,
            "home.ddns.net",
            Family::Ipv6,
            &one6
        ),
        "https://dynupdate.no-ip.com/nic/update?hostname=home.ddns.net&myip=2001:db8::1"
    );
    assert_eq!(
        update_url(
            "https://x.test/nic/update",
            &plain,
            "h.x.test",
            Family::Ipv4,
            &one4
        ),
        "https://x.test/nic/update?hostname=h.x.test&myip=192.0.2.1"
    );
    let dynu = Preset::Dynu.dialect();
    assert_eq!(
        update_url(
            Preset::Dynu.server(),
            &dynu,
            "h.dynu.net",
            Family::Ipv6,
            &one6
        ),
        "https://api.dynu.com/nic/update?hostname=h.dynu.net&myipv6=2001:db8::1&myip=no"
    );
    assert_eq!(
        update_url(
            Preset::Dynu.server(),
            &dynu,
            "h.dynu.net",
            Family::Ipv4,
            &one4
        ),
        "https://api.dynu.com/nic/update?hostname=h.dynu.net&myip=192.0.2.1&myipv6=no"
    );
    let desec = Preset::Desec.dialect();
    assert_eq!(
        update_url(Preset::Desec.server(), &desec, "h.dedyn.io", Family::Ipv6, &set(&["2001:db8::2", "2001:db8::1"])),
        "https://update.dedyn.io/?hostname=h.dedyn.io&myipv6=2001:db8::1,2001:db8::2&myipv4=preserve"
    );
    // An existing query is extended; odd characters in an override are encoded.
    assert_eq!(
        update_url(
            "http://127.0.0.1:8245/nic/update?system=dyndns",
            &plain,
            "grp@1",
            Family::Ipv4,
            &one4
        ),
        "http://127.0.0.1:8245/nic/update?system=dyndns&hostname=grp%401&myip=192.0.2.1"
    );
    // Same parameter for both families: a keep value is never sent.
    let odd = Dialect {
        keep_other: Some("no".into()),
        ..Dialect::default()
    };
    assert_eq!(
        update_url("https://x.test/u", &odd, "h.x.test", Family::Ipv6, &one6),
        "https://x.test/u?hostname=h.x.test&myip=2001:db8::1"
    );
}

#[test]
fn parses_answers() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(
        parse_answer("good 192.0.2.1\n"),
        Answer::Good(vec![ip("192.0.2.1")])
    );
    assert_eq!(parse_answer("good"), Answer::Good(vec![]));
    assert_eq!(
        parse_answer("nochg 192.0.2.1,2001:db8::1"),
        Answer::NoChange(vec![ip("192.0.2.1"), ip("2001:db8::1")])
    );
    assert_eq!(
        parse_answer("\r\n badauth\r\n"),
        Answer::Code(Code::BadAuth)
    );
    assert_eq!(parse_answer("911"), Answer::Code(Code::Outage));
    assert_eq!(parse_answer("!donator"), Answer::Code(Code::NotDonator));
    assert_eq!(parse_answer("<html>"), Answer::Unknown("<html>".into()));
    assert_eq!(parse_answer(""), Answer::Unknown(String::new()));
}

fn ctx<'a>(sent: &'a AddrSet, dialect: &'a Dialect, family: Family) -> Context<'a> {
    Context {
        service: "dyn.test",
        provider: "home",
        hostname: "h.example.com",
        family,
        sent,
        dialect,
        password: "pw-secret",
    }
}

/// Every answer's kind, message and hint; and which are worth a retry within the call.
#[test]
fn judges_every_answer() {
    use ProviderErrorKind as K;
    let d = Dialect::default();
    let sent = set(&["2001:db8::1"]);
    let c = ctx(&sent, &d, Family::Ipv6);
    let reload = "nothing more is sent to this service until the config is reloaded (`systemctl reload ddnsd`)";
    assert_eq!(
        judge(&reply(200, "good 2001:db8::1"), &c).unwrap(),
        Ack::Updated
    );
    assert_eq!(judge(&reply(200, "good"), &c).unwrap(), Ack::Updated);
    assert_eq!(
        judge(&reply(200, "nochg 2001:db8::1\n"), &c).unwrap(),
        Ack::Unchanged
    );
    let half = K::RateLimited {
        retry_after: Some(OUTAGE_PAUSE),
    };
    // (status, body, kind, message, hint, retried within the call)
    type Case<'a> = (u16, &'a str, K, &'a str, Option<String>, bool);
    let cases: Vec<Case> = vec![
        (200, "badauth", K::Auth, "dyn.test rejected the username or password (badauth)", Some(format!("check username and password of [providers.home]; {reload}")), false),
        (401, "badauth", K::Auth, "dyn.test rejected the username or password (badauth)", Some(format!("check username and password of [providers.home]; {reload}")), false),
        (200, "abuse", K::Auth, "dyn.test blocked updates of h.example.com for abuse (abuse)", Some(format!("log in to the service's website to lift the block; {reload}")), false),
        (200, "badagent", K::Auth, "dyn.test refused this client (badagent)", Some(format!("the service blocks ddnsd's requests; please report it to ddnsd; {reload}")), false),
        (200, "good 127.0.0.1", K::Protocol, "dyn.test answered \"good 127.0.0.1\", not the address sent (2001:db8::1)", Some("the service may not read IPv6 addresses from \"myip\"; set ipv6_param in [providers.home] (e.g. \"myipv6\") or use a preset".into()), false),
        (200, "!donator", K::Forbidden, "dyn.test refused the update of h.example.com: it needs a paid feature (!donator)", Some("the account's plan does not allow this update (e.g. this host or IPv6); upgrade it or remove the record".into()), false),
        (200, "notfqdn", K::Rejected, "dyn.test says h.example.com is not a fully qualified host name (notfqdn)", Some("set hostname in [providers.home] to the full name the service knows, e.g. \"home.example.com\"".into()), false),
        (200, "nohost", K::Rejected, "dyn.test has no host h.example.com in this account (nohost)", Some("create the host at the service, or set hostname in [providers.home] to the name it has there".into()), false),
        (200, "numhost", K::Rejected, "dyn.test refused h.example.com as too many hosts or addresses (numhost)", Some("publish one address per family to this service (multiple_addresses = false in [providers.home])".into()), false),
        (200, "badsys", K::Rejected, "dyn.test rejected the request's system parameter (badsys)", Some("server in [providers.home] must be the service's update URL without extra parameters".into()), false),
        (200, "dnserr", K::Transient, "dyn.test had a dns error on its side (dnserr)", None, false),
        (200, "911", half.clone(), "dyn.test reported an outage or maintenance (911)", Some("ddnsd waits 30m0s before sending to this service again, as the protocol asks".into()), false),
        (503, "911", half, "dyn.test reported an outage or maintenance (911)", Some("ddnsd waits 30m0s before sending to this service again, as the protocol asks".into()), false),
        (200, "good 198.51.100.7", K::Protocol, "dyn.test answered \"good 198.51.100.7\", not the address sent (2001:db8::1)", Some("the service may not read IPv6 addresses from \"myip\"; set ipv6_param in [providers.home] (e.g. \"myipv6\") or use a preset".into()), false),
        (200, "hello world", K::Protocol, "dyn.test answered \"hello world\", which is not a dyndns2 answer", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
        (200, "", K::Protocol, "dyn.test answered nothing, which is not a dyndns2 answer", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
        (200, "echo pw-secret", K::Protocol, "dyn.test answered a line holding the password (not shown), which is not a dyndns2 answer", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
        (401, "Unauthorized", K::Auth, "dyn.test rejected the username or password (http 401)", Some(format!("check username and password of [providers.home]; {reload}")), false),
        (403, "", K::Forbidden, "dyn.test refused the update of h.example.com (http 403)", Some("the credentials may not update this host; check them on the service's website".into()), false),
        (404, "Not Found", K::Rejected, "dyn.test has no host h.example.com (http 404)", Some("create the host at the service, or set hostname in [providers.home] to the name it has there".into()), false),
        (400, "", K::Rejected, "dyn.test rejected the update of h.example.com (http 400)", Some("check server, username and hostname of [providers.home]".into()), false),
        (429, "", K::RateLimited { retry_after: None }, "dyn.test is rate limiting updates (http 429)", None, true),
        (502, "<html>", K::Transient, "dyn.test failed (http 502)", None, true),
        (302, "", K::Protocol, "dyn.test answered with http status 302", Some("server in [providers.home] must be the service's dyndns2 update URL (e.g. https://…/nic/update)".into()), false),
    ];
    for (status, body, kind, message, hint, retry) in cases {
        let f = judge(&reply(status, body), &c).unwrap_err();
        assert_eq!(f.error.kind, kind, "{status} {body:?}");
        assert_eq!(f.error.message, message, "{status} {body:?}");
        assert_eq!(f.error.hint, hint, "{status} {body:?}");
        assert_eq!(f.retry_in_call, retry, "{status} {body:?}");
    }
    // Asking for 127.0.0.1 and getting it is fine; asking for another IPv4 address and
    // getting 127.0.0.1 means the client is blocked.
    let lo = set(&["127.0.0.1"]);
    let c4 = ctx(&lo, &d, Family::Ipv4);
    assert_eq!(
        judge(&reply(200, "good 127.0.0.1"), &c4).unwrap(),
        Ack::Updated
    );
    let v4 = set(&["192.0.2.1"]);
    let c4 = ctx(&v4, &d, Family::Ipv4);
    let f = judge(&reply(200, "good 127.0.0.1"), &c4).unwrap_err();
    assert_eq!(f.error.kind, K::Auth);
    assert_eq!(
        f.error.message,
        "dyn.test ignored the update and answered \"good 127.0.0.1\" (the service blocks this client)"
    );
    assert_eq!(
        f.error.hint.as_deref(),
        Some(format!("check the account on the service's website; {reload}").as_str())
    );
    let f = judge(&reply(200, "nochg 198.51.100.9"), &c4).unwrap_err();
    assert_eq!(f.error.kind, K::Protocol);
    assert_eq!(
        f.error.hint.as_deref(),
        Some("the service did not take the address from \"myip\"; check ipv4_param in [providers.home]")
    );
    // A longer Retry-After with 911 is honoured.
    let mut r = reply(200, "911");
    r.retry_after = Some(Duration::from_secs(7200));
    let f = judge(&r, &c).unwrap_err();
    assert_eq!(
        f.error.kind,
        K::RateLimited {
            retry_after: Some(Duration::from_secs(7200))
        }
    );
}

fn build(text: &str) -> Result<Dyndns2Settings, String> {
    let env = |v: &str| match v {
        "PW" | "NOIP_PASSWORD" => Some("pw-from-env".to_owned()),
        _ => None,
    };
    let full = format!(
        "{text}\n[sources.s]\nkind = \"static\"\naddresses = [\"2001:db8::1\"]\n\n[[records]]\nname = \"h.example.com\"\nprovider = \"p\"\nsources = [\"s\"]\n"
    );
    match crate::config::from_text(&full, Path::new("t.toml"), &env) {
        Ok(c) => Ok(c.providers["p"].get::<Dyndns2Settings>().unwrap().clone()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn presets_fill_in_server_and_dialect_and_keys_override_them() {
    let s = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"desec\"\nusername = \"h.dedyn.io\"\npassword_env = \"PW\"\n").unwrap();
    assert_eq!(s.server, "https://update.dedyn.io/");
    assert_eq!(s.dialect, Preset::Desec.dialect());
    assert_eq!(s.password.expose(), "pw-from-env");
    assert_eq!(s.preset, Some(Preset::Desec));
    let s = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"nsupdate.info\"\nserver = \"https://ddns.example.net/nic/update\"\nusername = \"h.example.com\"\npassword = \"x\"\nipv6_param = \"myipv6\"\nmultiple_addresses = true\n").unwrap();
    assert_eq!(s.server, "https://ddns.example.net/nic/update");
    assert_eq!(s.dialect.ipv6_param, "myipv6");
    assert!(s.dialect.multiple_addresses);
    let s = build("[providers.p]\nkind = \"dyndns2\"\nserver = \"http://127.0.0.1:8245/nic/update\"\nusername = \"u\"\npassword = \"x\"\nhostname = \"home.ddns.net\"\nzone = \"example.com\"\n").unwrap();
    assert_eq!(s.dialect, Dialect::default());
    assert_eq!(s.hostname.as_deref(), Some("home.ddns.net"));
    assert_eq!(s.zone.unwrap().as_str(), "example.com");
    for p in Preset::ALL {
        assert!(update_url(
            p.server(),
            &p.dialect(),
            "h",
            Family::Ipv4,
            &set(&["192.0.2.1"])
        )
        .starts_with("https://"));
    }
}

#[test]
fn the_example_block_builds() {
    let example = KIND.example.replace("[providers.noip]", "[providers.p]");
    let s = build(&example).unwrap();
    assert_eq!(s.preset, Some(Preset::NoIp));
    assert_eq!(s.server, "https://dynupdate.no-ip.com/nic/update");
    assert_eq!(s.username, "you@example.com");
    assert_eq!(s.dialect, Dialect::default());
}

#[test]
fn config_mistakes_are_placed_and_hinted() {
    let e = build("[providers.p]\nkind = \"dyndns2\"\npassword = \"x\"\n").unwrap_err();
    assert!(e.contains("server is missing\n  hint: give the service's update URL, e.g. server = \"https://dynupdate.no-ip.com/nic/update\", or a preset (noip, dynu, desec, nsupdate.info)"), "{e}");
    assert!(
        e.contains("username is missing\n  hint: give the account name"),
        "{e}"
    );
    let e = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"duckdns\"\nusername = \"u\"\npassword = \"x\"\n").unwrap_err();
    assert!(e.contains("t.toml:3:10: unknown preset \"duckdns\"\n  hint: DuckDNS does not speak dyndns2; use kind = \"duckdns\" with its account token (see the README, \"DuckDNS\")"), "{e}");
    let e = build("[providers.p]\nkind = \"dyndns2\"\nserver = \"https://u:pw@x.test/nic/update\"\nusername = \"u\"\npassword = \"x\"\n").unwrap_err();
    assert!(
        e.contains("t.toml:3:10: server holds credentials\n  hint: remove them from the URL"),
        "{e}"
    );
    assert!(!e.contains(":pw@"), "{e}");
    let e = build("[providers.p]\nkind = \"dyndns2\"\nserver = \"ftp://x.test/\"\nusername = \"a:b\"\npassword = \"x\"\nipv6_param = \"my ip\"\nkeep_other = \"no\"\nhostname = \"a,b\"\n").unwrap_err();
    for want in [
        "t.toml:3:10: server \"ftp://x.test/\" is not an http(s) URL",
        "t.toml:4:12: username contains ':', which HTTP Basic auth cannot carry",
        "t.toml:6:14: ipv6_param \"my ip\" is not a query parameter name",
        "t.toml:8:12: hostname \"a,b\" is not a single host name",
    ] {
        assert!(e.contains(want), "{want}\n{e}");
    }
    let e = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"noip\"\nusername = \"u\"\npassword = \"x\"\nkeep_other = \"no\"\n").unwrap_err();
    assert!(e.contains("t.toml:6:14: keep_other needs ipv4_param and ipv6_param to differ (both are \"myip\")\n  hint: set ipv6_param"), "{e}");
    let e = build("[providers.p]\nkind = \"dyndns2\"\npreset = \"noip\"\nusername = \"u\"\n")
        .unwrap_err();
    assert!(e.contains("password is missing"), "{e}");
}

#[test]
fn acknowledged_hints_round_trip_and_stay_with_their_host() {
    let rr = RrSet {
        name: "h.example.com".parse().unwrap(),
        rtype: crate::record::RecordType::Aaaa,
        ttl: Ttl(300),
        addrs: set(&["2001:db8::1", "2001:db8::2"]),
    };
    let h = acknowledged_hints("h.example.com", &rr);
    assert_eq!(h.0[HINT_PUBLISHED], "2001:db8::1,2001:db8::2");
    let live = acknowledged(&h, Some("h.example.com"), &rr.key());
    assert_eq!((live.addrs, live.ttl), (rr.addrs.clone(), Some(Ttl(300))));
    // Another host name in the settings: nothing is known.
    assert!(acknowledged(&h, Some("other.ddns.net"), &rr.key())
        .addrs
        .is_empty());
    // Hints of the other family (or garbage) are not believed.
    let a = RecordKey {
        name: rr.name.clone(),
        rtype: crate::record::RecordType::A,
    };
    assert!(acknowledged(&h, Some("h.example.com"), &a).addrs.is_empty());
    assert_eq!(acknowledged(&ProviderHints::default(), None, &a).ttl, None);
}

#[test]
fn basic_auth_is_rfc7617() {
    // RFC 7617 §2's example.
    assert_eq!(
        basic_auth("Aladdin", "open sesame"),
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
}
