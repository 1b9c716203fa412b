//! Telling people what happened, off the publishing path: `[[notify]]` targets (webhook, ntfy,
//! Telegram, e-mail) told when a record changes, starts failing or recovers, and the
//! `[heartbeat]` ping of every pass (Healthchecks.io and Uptime Kuma push styles).
//!
//! Layout: this file (the settings the config builds), `events.rs` (which notices a pass
//! gives: pure, once per failure until recovery), `message.rs` (every text sent or logged:
//! pure), `heartbeat.rs` (ping URLs and bodies: pure), `send.rs` (HTTP targets: request
//! building is pure, sending goes through [`crate::http`]), `email.rs` (SMTP through lettre
//! with rustls), and `queue.rs` (one bounded queue and worker per target, with retries).
//!
//! May not: block or fail a pass. A pass hands notices to [`queue::Outbox::offer`], which never
//! waits; a full queue drops the message with a warning.

#[cfg(feature = "email")]
pub mod email;
pub mod events;
pub mod heartbeat;
pub mod message;
pub mod queue;
pub mod send;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use crate::reconcile::RunReport;
use crate::secret::Secret;

pub use events::{Notice, Tracker};

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// A record was written with new addresses.
    Changed,
    /// A record started failing (said once until it recovers).
    Failed,
    /// A record that was failing is current again.
    Recovered,
}

impl Event {
    /// Every event, in the order the config documents them.
    pub const ALL: [Event; 3] = [Event::Changed, Event::Failed, Event::Recovered];

    /// The name used in `on = [...]` and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Changed => "changed",
            Event::Failed => "failed",
            Event::Recovered => "recovered",
        }
    }

    /// Parses a name used in `on = [...]`.
    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[notify]]` entry, checked.
#[derive(Clone, Debug)]
pub struct NotifySettings {
    /// How logs and errors name it: `notify #1 (webhook)`.
    pub label: String,
    /// The events it is told about.
    pub on: BTreeSet<Event>,
    /// Time allowed for one delivery attempt.
    pub timeout: Duration,
    /// Where it goes.
    pub target: Target,
}

/// Where a notification goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// An HTTP request of the user's design.
    Webhook(WebhookSettings),
    /// An ntfy topic.
    Ntfy(NtfySettings),
    /// A Telegram chat, through a bot.
    Telegram(TelegramSettings),
    /// E-mail over SMTP.
    #[cfg(feature = "email")]
    Email(email::EmailSettings),
}

impl Target {
    /// The kind's name as written in the config.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Webhook(_) => "webhook",
            Target::Ntfy(_) => "ntfy",
            Target::Telegram(_) => "telegram",
            #[cfg(feature = "email")]
            Target::Email(_) => "email",
        }
    }
}

/// The HTTP method of a webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookMethod {
    /// POST (the default).
    Post,
    /// PUT.
    Put,
    /// GET (no body is sent).
    Get,
}

/// `kind = "webhook"`.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// The URL (a secret: chat webhooks carry their token in it).
    pub url: Secret<String>,
    /// The method.
    pub method: WebhookMethod,
    /// Extra headers (a secret: they often carry a token).
    pub headers: Secret<Vec<(String, String)>>,
    /// The body template; `None` sends the notice as a JSON object.
    pub body: Option<message::Template>,
    /// The `Content-Type` of the body.
    pub content_type: String,
}

/// `kind = "ntfy"`.
#[derive(Clone, Debug)]
pub struct NtfySettings {
    /// The topic URL, e.g. `https://ntfy.sh/my-topic`.
    pub url: String,
    /// An access token, sent as `Authorization: Bearer …`.
    pub token: Option<Secret<String>>,
}

/// `kind = "telegram"`.
#[derive(Clone, Debug)]
pub struct TelegramSettings {
    /// The bot's token from @BotFather.
    pub bot_token: Secret<String>,
    /// The chat to write to (a number, or `@channelname`).
    pub chat_id: String,
    /// The Bot API's base URL.
    pub endpoint: String,
}

/// The default Bot API base URL.
pub const TELEGRAM_ENDPOINT: &str = "https://api.telegram.org";

/// The default time allowed for one delivery attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Every target with its worker: what a pass hands its results to. Never waits.
#[derive(Debug, Default)]
pub struct Dispatch {
    tracker: Tracker,
    notifiers: Vec<(BTreeSet<Event>, queue::Outbox)>,
    heartbeat: Option<queue::Outbox>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Dispatch {
    /// Starts one worker per target (inside a tokio runtime). `host` names this machine in
    /// messages (and in SMTP's EHLO).
    pub fn start(
        notify: &[NotifySettings],
        heartbeat: Option<&heartbeat::HeartbeatSettings>,
        http: &crate::http::HttpClient,
        host: &str,
    ) -> Dispatch {
        let mut d = Dispatch::default();
        for n in notify {
            let courier = Arc::new(NotifyCourier {
                settings: n.clone(),
                #[cfg(feature = "http")]
                http: http.clone(),
                host: host.to_owned(),
            });
            let (out, worker) = queue::Outbox::start(courier, queue::CAPACITY, queue::RETRY);
            d.notifiers.push((n.on.clone(), out));
            d.workers.push(worker);
        }
        // Without the `http` feature nothing here sends over HTTP, and the config refuses
        // `[heartbeat]`, so there is none.
        #[cfg(not(feature = "http"))]
        let _ = (http, heartbeat);
        #[cfg(feature = "http")]
        if let Some(h) = heartbeat {
            let courier = Arc::new(PingCourier {
                settings: h.clone(),
                http: http.clone(),
            });
            let (out, worker) = queue::Outbox::start(courier, queue::CAPACITY, queue::RETRY);
            d.heartbeat = Some(out);
            d.workers.push(worker);
        }
        d
    }

    /// A pass started: the heartbeat's "start" ping.
    pub fn pass_started(&mut self) {
        if let Some(h) = &self.heartbeat {
            h.offer(queue::Item::Ping(heartbeat::Ping::Start));
        }
    }

    /// A pass ended at `at` after `took`: its notices and the heartbeat's result ping.
    pub fn pass_finished(&mut self, report: &RunReport, took: Duration, at: SystemTime) {
        for notice in self.tracker.observe(report, at) {
            for (on, out) in &self.notifiers {
                if on.contains(&notice.event) {
                    out.offer(queue::Item::Notice(notice.clone()));
                }
            }
        }
        if let Some(h) = &self.heartbeat {
            h.offer(queue::Item::Ping(ping_after(report, took)));
        }
    }

    /// Closes the queues and waits up to `within` for them to drain (`run --once`).
    pub async fn finish(self, within: Duration) {
        let Dispatch {
            notifiers,
            heartbeat,
            workers,
            ..
        } = self;
        drop(notifiers);
        drop(heartbeat);
        let all = futures::future::join_all(workers);
        let _ = tokio::time::timeout(within, all).await;
    }
}

/// The heartbeat's result ping of a pass: `Fail` with the failing records' lines when any
/// record failed or the state file could not be used, else `Success`.
pub fn ping_after(report: &RunReport, took: Duration) -> heartbeat::Ping {
    let summary = crate::report::summary(report);
    if report.has_failures() {
        let mut failing: Vec<String> = report
            .records
            .iter()
            .filter(|r| r.status.is_failure())
            .map(crate::report::record_line)
            .collect();
        if let Some(e) = &report.state_error {
            failing.push(format!("state file: {e}"));
        }
        heartbeat::Ping::Fail {
            body: message::heartbeat_body(&summary, &failing),
            took,
        }
    } else {
        heartbeat::Ping::Success {
            body: message::heartbeat_body(&summary, &[]),
            took,
        }
    }
}

struct NotifyCourier {
    settings: NotifySettings,
    #[cfg(feature = "http")]
    http: crate::http::HttpClient,
    host: String,
}

impl queue::Deliver for NotifyCourier {
    fn label(&self) -> &str {
        &self.settings.label
    }

    fn timeout(&self) -> Duration {
        self.settings.timeout + Duration::from_secs(5)
    }

    fn deliver<'a>(
        &'a self,
        item: &'a queue::Item,
    ) -> BoxFuture<'a, Result<(), send::DeliveryError>> {
        Box::pin(async move {
            let queue::Item::Notice(n) = item else {
                return Ok(());
            };
            let t = self.settings.timeout;
            let host = &self.host;
            match &self.settings.target {
                #[cfg(feature = "http")]
                Target::Webhook(w) => {
                    let mut secrets: Vec<&str> = vec![w.url.expose()];
                    secrets.extend(w.headers.expose().iter().map(|(_, v)| v.as_str()));
                    let req = send::webhook_request(w, n, host);
                    send::send(&self.http, &req, t, send::Check::Status, &secrets).await
                }
                #[cfg(feature = "http")]
                Target::Ntfy(s) => {
                    let token = s.token.as_ref().map(|t| t.expose().as_str());
                    let req = send::ntfy_request(s, n, host);
                    send::send(
                        &self.http,
                        &req,
                        t,
                        send::Check::Status,
                        &token.into_iter().collect::<Vec<_>>(),
                    )
                    .await
                }
                #[cfg(feature = "http")]
                Target::Telegram(s) => {
                    let req = send::telegram_request(s, n, host);
                    send::send(
                        &self.http,
                        &req,
                        t,
                        send::Check::TelegramOk,
                        &[s.bot_token.expose()],
                    )
                    .await
                }
                // The config refuses these kinds in a build without `http`; should one be
                // built anyway (a library caller), it fails for good with the reason.
                #[cfg(not(feature = "http"))]
                Target::Webhook(_) | Target::Ntfy(_) | Target::Telegram(_) => {
                    let _ = (t, host, n);
                    Err(send::DeliveryError::without_http())
                }
                #[cfg(feature = "email")]
                Target::Email(e) => {
                    email::send(e, host, &message::title(n, host), &message::text(n), t).await
                }
            }
        })
    }
}

#[cfg(feature = "http")]
struct PingCourier {
    settings: heartbeat::HeartbeatSettings,
    http: crate::http::HttpClient,
}

#[cfg(feature = "http")]
impl queue::Deliver for PingCourier {
    fn label(&self) -> &str {
        "heartbeat"
    }

    fn timeout(&self) -> Duration {
        self.settings.timeout + Duration::from_secs(5)
    }

    fn deliver<'a>(
        &'a self,
        item: &'a queue::Item,
    ) -> BoxFuture<'a, Result<(), send::DeliveryError>> {
        Box::pin(async move {
            let queue::Item::Ping(p) = item else {
                return Ok(());
            };
            let url = self.settings.url.expose();
            let Some(req) = heartbeat::request(self.settings.style, url, p) else {
                return Ok(());
            };
            let req = send::ping_request(&req);
            let secrets = [req.url.as_str(), url.as_str()];
            send::send(
                &self.http,
                &req,
                self.settings.timeout,
                send::Check::Status,
                &secrets,
            )
            .await
        })
    }
}

/// The daemon tells the dispatch about every pass.
impl crate::daemon::observe::Observer for Dispatch {
    fn pass_started(&mut self, _causes: &str) {
        Dispatch::pass_started(self);
    }

    fn pass_finished(&mut self, end: &crate::daemon::observe::PassEnd<'_>) {
        let took = end.finished.saturating_duration_since(end.started);
        Dispatch::pass_finished(self, end.report, took, SystemTime::now());
    }
}
