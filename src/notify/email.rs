//! `kind = "email"`: a plain-text mail over SMTP, through lettre with rustls (ring) — STARTTLS
//! on port 587 or implicit TLS on 465; certificates are verified against the system's trust
//! store, plus an optional `ca_file` for a private relay. Plain SMTP (`tls = "none"`) is only
//! accepted for a relay on this machine (checked by the config).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::send::DeliveryError;
use crate::secret::Secret;

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only for a relay on this machine.
    None,
}

impl Security {
    /// The port used when the config gives none.
    pub fn default_port(self) -> u16 {
        match self {
            Security::StartTls => 587,
            Security::Implicit => 465,
            Security::None => 25,
        }
    }
}

/// `kind = "email"`, checked.
#[derive(Clone, Debug)]
pub struct EmailSettings {
    /// The relay's host name (also the name its certificate must carry) or IP address.
    pub server: String,
    /// The relay's port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
    /// The login, if the relay wants one.
    pub username: Option<String>,
    /// The password (with `username`).
    pub password: Option<Secret<String>>,
    /// The sender.
    pub from: Mailbox,
    /// The recipients.
    pub to: Vec<Mailbox>,
    /// Extra trusted certificates (PEM), read from `ca_file`.
    pub ca_pem: Option<Vec<u8>>,
}

/// Sends one mail; `hello` is the name given in EHLO.
pub async fn send(
    s: &EmailSettings,
    hello: &str,
    subject: &str,
    body: &str,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    let failed = |what: &str, e: &dyn std::fmt::Display, permanent: bool| DeliveryError {
        message: format!("{what}: {e}"),
        permanent,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.server.clone())
        .port(s.port)
        .timeout(Some(timeout))
        .hello_name(ClientId::Domain(hello.to_owned()));
    if s.security != Security::None {
        // Err means a provider is already installed: fine either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut tls = TlsParameters::builder(s.server.clone());
        if let Some(pem) = &s.ca_pem {
            let cert =
                Certificate::from_pem(pem).map_err(|e| failed("cannot use ca_file", &e, true))?;
            tls = tls.add_root_certificate(cert);
        }
        let params = tls
            .build_rustls()
            .map_err(|e| failed("cannot set up TLS", &e, true))?;
        b = b.tls(match s.security {
            Security::Implicit => Tls::Wrapper(params),
            _ => Tls::Required(params),
        });
    } else {
        b = b.tls(Tls::None);
    }
    if let (Some(user), Some(pass)) = (&s.username, &s.password) {
        b = b.credentials(Credentials::new(user.clone(), pass.expose().clone()));
    }
    let mut m = Message::builder()
        .from(s.from.clone())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for to in &s.to {
        m = m.to(to.clone());
    }
    let mail = m
        .body(body.to_owned())
        .map_err(|e| failed("cannot build the mail", &e, true))?;
    b.build()
        .send(mail)
        .await
        .map(|_| ())
        .map_err(|e| failed("the relay refused or failed", &e, e.is_permanent()))
}
