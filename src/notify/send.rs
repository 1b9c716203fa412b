//! The HTTP targets (webhook, ntfy, Telegram) and heartbeat pings: each request is built by a
//! pure function, then sent through the shared [`HttpClient`]. A target's secrets (its URL,
//! headers, token) are cut out of every error text before it is logged.

#[cfg(feature = "http")]
use std::time::Duration;

use super::heartbeat::PingRequest;
use super::message::{json_body, text, title};
use super::{Event, Notice, NtfySettings, TelegramSettings, WebhookMethod, WebhookSettings};
use crate::http::Method;
#[cfg(feature = "http")]
use crate::http::{HttpClient, Request};

/// An HTTP request to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutRequest {
    /// The method.
    pub method: Method,
    /// The full URL (may hold a secret).
    pub url: String,
    /// Headers (values may hold secrets).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a message was not delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    /// What happened, as a clause (secrets removed).
    pub message: String,
    /// Retrying cannot help (the target refused the request itself).
    pub permanent: bool,
}

impl DeliveryError {
    /// An HTTP target in a build without the `http` feature: permanent.
    #[cfg(not(feature = "http"))]
    pub fn without_http() -> DeliveryError {
        DeliveryError {
            message: "ddnsd was built without the http feature".to_owned(),
            permanent: true,
        }
    }
}

/// A webhook's request for `n`.
pub fn webhook_request(s: &WebhookSettings, n: &Notice, host: &str) -> OutRequest {
    let method = match s.method {
        WebhookMethod::Post => Method::Post,
        WebhookMethod::Put => Method::Put,
        WebhookMethod::Get => Method::Get,
    };
    let body = match (&s.body, s.method) {
        (_, WebhookMethod::Get) => Vec::new(),
        (Some(t), _) => t
            .render(n, host, s.content_type.contains("json"))
            .into_bytes(),
        (None, _) => json_body(n, host).into_bytes(),
    };
    let mut headers = Vec::new();
    if !body.is_empty() {
        headers.push(("Content-Type".to_owned(), s.content_type.clone()));
    }
    headers.extend(s.headers.expose().iter().cloned());
    OutRequest {
        method,
        url: s.url.expose().clone(),
        headers,
        body,
    }
}

/// An ntfy publish of `n` (the text as the message, a title, tags and priority as headers).
pub fn ntfy_request(s: &NtfySettings, n: &Notice, host: &str) -> OutRequest {
    let (tags, priority) = match n.event {
        Event::Changed => ("arrows_counterclockwise", "default"),
        Event::Failed => ("warning", "high"),
        Event::Recovered => ("white_check_mark", "default"),
    };
    let mut headers = vec![
        ("Title".to_owned(), title(n, host)),
        ("Tags".to_owned(), tags.to_owned()),
        ("Priority".to_owned(), priority.to_owned()),
    ];
    if let Some(t) = &s.token {
        headers.push(("Authorization".to_owned(), format!("Bearer {}", t.expose())));
    }
    OutRequest {
        method: Method::Post,
        url: s.url.clone(),
        headers,
        body: text(n).into_bytes(),
    }
}

/// A Telegram `sendMessage` of `n`.
pub fn telegram_request(s: &TelegramSettings, n: &Notice, host: &str) -> OutRequest {
    let body = serde_json::json!({
        "chat_id": s.chat_id,
        "text": format!("{}\n{}", title(n, host), text(n)),
        "disable_web_page_preview": true,
    });
    OutRequest {
        method: Method::Post,
        url: format!(
            "{}/bot{}/sendMessage",
            s.endpoint.trim_end_matches('/'),
            s.bot_token.expose()
        ),
        headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
        body: body.to_string().into_bytes(),
    }
}

/// A heartbeat ping as a request.
pub fn ping_request(p: &PingRequest) -> OutRequest {
    OutRequest {
        method: if p.post { Method::Post } else { Method::Get },
        url: p.url.clone(),
        headers: if p.body.is_empty() {
            Vec::new()
        } else {
            vec![(
                "Content-Type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            )]
        },
        body: p.body.clone().into_bytes(),
    }
}

/// How a target's answer is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Any 2xx status.
    Status,
    /// A 2xx status and a JSON body with `"ok": true` (Telegram).
    TelegramOk,
}

/// Sends `req`; `secrets` are removed from any error text.
#[cfg(feature = "http")]
pub async fn send(
    http: &HttpClient,
    req: &OutRequest,
    timeout: Duration,
    check: Check,
    secrets: &[&str],
) -> Result<(), DeliveryError> {
    let headers: Vec<(&str, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    let reply = http
        .send(Request {
            method: req.method,
            url: &req.url,
            headers: &headers,
            body: req.body.clone(),
            timeout,
        })
        .await
        .map_err(|e| DeliveryError {
            message: redact(&e.to_string(), secrets),
            permanent: matches!(e, crate::http::HttpError::BadUrl(_)),
        })?;
    judge(reply.status, &reply.body, check).map_err(|mut e| {
        e.message = redact(&e.message, secrets);
        e
    })
}

/// Judges a target's answer (pure).
pub fn judge(status: u16, body: &[u8], check: Check) -> Result<(), DeliveryError> {
    let said = || {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if check == Check::TelegramOk {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
                if let Some(d) = v["description"].as_str() {
                    return format!(": {d:?}");
                }
            }
        }
        if text.is_empty() {
            String::new()
        } else {
            let cut: String = text.chars().take(120).collect();
            format!(": {cut:?}")
        }
    };
    if !(200..300).contains(&status) {
        return Err(DeliveryError {
            message: format!("the target answered {status}{}", said()),
            // A request refused as such stays refused; rate limits and server errors pass.
            permanent: (400..500).contains(&status) && status != 408 && status != 429,
        });
    }
    if check == Check::TelegramOk {
        let ok = serde_json::from_slice::<serde_json::Value>(body)
            .map(|v| v["ok"] == serde_json::Value::Bool(true))
            .unwrap_or(false);
        if !ok {
            return Err(DeliveryError {
                message: format!("the Bot API did not say ok{}", said()),
                permanent: false,
            });
        }
    }
    Ok(())
}

/// `text` with every secret (of at least 4 characters) replaced by `***`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::notify::message::Template;
    use crate::record::{RecordKey, RecordType};
    use crate::secret::Secret;

    fn notice(event: Event) -> Notice {
        Notice {
            event,
            key: RecordKey {
                name: "h.example.test".parse().unwrap(),
                rtype: RecordType::Aaaa,
            },
            provider: "home".into(),
            addrs: ["2001:db8::2".parse().unwrap()].into_iter().collect(),
            was: None,
            status: "created".into(),
            failing_since: None,
            at: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn webhook_requests() {
        let mut s = WebhookSettings {
            url: Secret::new("http://127.0.0.1:1/hook/s3cret".into()),
            method: WebhookMethod::Post,
            headers: Secret::new(vec![("Authorization".into(), "Bearer tok".into())]),
            body: None,
            content_type: "application/json".into(),
        };
        let r = webhook_request(&s, &notice(Event::Changed), "vm");
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, "http://127.0.0.1:1/hook/s3cret");
        assert_eq!(
            r.headers,
            [
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("Authorization".to_owned(), "Bearer tok".to_owned())
            ]
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["event"], "changed");
        s.body = Some(Template::parse("{name} is {addrs}").unwrap());
        s.content_type = "text/plain".into();
        let r = webhook_request(&s, &notice(Event::Changed), "vm");
        assert_eq!(r.body, b"h.example.test is 2001:db8::2");
        s.method = WebhookMethod::Get;
        let r = webhook_request(&s, &notice(Event::Changed), "vm");
        assert!(r.body.is_empty());
        assert_eq!(r.headers.len(), 1, "no content type without a body");
    }

    #[test]
    fn ntfy_and_telegram_requests() {
        let s = NtfySettings {
            url: "http://127.0.0.1:1/ddnsd".into(),
            token: Some(Secret::new("tk_abc".into())),
        };
        let r = ntfy_request(&s, &notice(Event::Failed), "vm");
        assert_eq!(r.body, b"h.example.test AAAA 2001:db8::2  created");
        assert!(r.headers.contains(&("Priority".into(), "high".into())));
        assert!(r.headers.contains(&(
            "Title".into(),
            "ddnsd on vm: h.example.test AAAA failed".into()
        )));
        assert!(r
            .headers
            .contains(&("Authorization".into(), "Bearer tk_abc".into())));

        let s = TelegramSettings {
            bot_token: Secret::new("123:ABC".into()),
            chat_id: "-100200".into(),
            endpoint: "http://127.0.0.1:1/".into(),
        };
        let r = telegram_request(&s, &notice(Event::Changed), "vm");
        assert_eq!(r.url, "http://127.0.0.1:1/bot123:ABC/sendMessage");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["chat_id"], "-100200");
        assert_eq!(
            v["text"],
            "ddnsd on vm: h.example.test AAAA changed\nh.example.test AAAA 2001:db8::2  created"
        );
    }

    #[test]
    fn answers_table() {
        type Want = Result<(), (&'static str, bool)>;
        let cases: &[(u16, &str, Check, Want)] = &[
            (200, "", Check::Status, Ok(())),
            (204, "", Check::Status, Ok(())),
            (
                500,
                "oops",
                Check::Status,
                Err(("the target answered 500: \"oops\"", false)),
            ),
            (
                429,
                "",
                Check::Status,
                Err(("the target answered 429", false)),
            ),
            (
                404,
                "",
                Check::Status,
                Err(("the target answered 404", true)),
            ),
            (200, r#"{"ok":true,"result":{}}"#, Check::TelegramOk, Ok(())),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                Check::TelegramOk,
                Err((
                    "the target answered 400: \"Bad Request: chat not found\"",
                    true,
                )),
            ),
            (
                200,
                "<html>",
                Check::TelegramOk,
                Err(("the Bot API did not say ok: \"<html>\"", false)),
            ),
        ];
        for (status, body, check, want) in cases {
            let got = judge(*status, body.as_bytes(), *check);
            let got = got
                .as_ref()
                .map_err(|e| (e.message.as_str(), e.permanent))
                .copied();
            assert_eq!(got, *want, "{status} {body}");
        }
        assert_eq!(
            redact(
                "error sending request for url (http://x/bot123:ABC/sendMessage)",
                &["123:ABC", ""]
            ),
            "error sending request for url (http://x/bot***/sendMessage)"
        );
    }
}
