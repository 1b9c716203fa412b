//! One DNS exchange on the wire, shared by the `dns` address source and the rfc2136 provider:
//! send a request over UDP (retransmitted within the timeout), ask again over TCP when the
//! reply is truncated (RFC 1035 §4.2.1), keep only replies that answer *this* request (same
//! ID, QR set), and read at most [`limits::MAX_REPLY`](crate::limits::MAX_REPLY) bytes.
//!
//! Knows nothing about providers, sources or TSIG: the caller builds the request bytes and
//! judges each matching reply ([`Sieve`]) — a reply it cannot trust is skipped and the exchange
//! keeps listening for the real one until the timeout. I/O only; the matching rules are pure
//! functions tested below.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

use crate::limits::MAX_REPLY;

/// Length of a DNS header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// One request to send.
#[derive(Clone, Copy, Debug)]
pub struct Exchange<'a> {
    /// Where to send it; the local socket is bound to the wildcard address of its family.
    pub server: SocketAddr,
    /// The complete request (signed, if it is to be signed), ID in its first two bytes.
    pub request: &'a [u8],
    /// Time allowed for the UDP phase, and again for the TCP phase if one is needed.
    pub timeout: Duration,
    /// How many times the request is sent over UDP within `timeout` (at least once).
    pub udp_sends: u32,
}

/// What the caller makes of a reply that matches the request.
#[derive(Debug)]
pub enum Sieve<T> {
    /// This is the answer: the exchange ends with it.
    Take(T),
    /// Not trustworthy (unsigned, failed verification, undecodable): keep listening.
    Skip,
}

/// One step of an exchange, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Binding the UDP socket.
    UdpBind,
    /// Connecting the UDP socket to the server.
    UdpConnect,
    /// Sending over UDP.
    UdpSend,
    /// Receiving over UDP.
    UdpReceive,
    /// Opening the TCP connection.
    TcpConnect,
    /// Sending over TCP.
    TcpSend,
    /// Receiving over TCP.
    TcpReceive,
}

impl Step {
    /// How the step is named in messages, e.g. `udp send`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::UdpBind => "udp bind",
            Step::UdpConnect => "udp connect",
            Step::UdpSend => "udp send",
            Step::UdpReceive => "udp receive",
            Step::TcpConnect => "tcp connect",
            Step::TcpSend => "tcp send",
            Step::TcpReceive => "tcp receive",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an exchange gave no reply.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Nothing shows the server received the request: a socket could not be set up, the
    /// first send failed, or the connection was refused (ICMP port unreachable, TCP reset).
    #[error("{step} failed: {error}")]
    Unreachable {
        /// Where it failed.
        step: Step,
        /// The OS error.
        error: io::Error,
    },
    /// The TCP connection did not open within the timeout.
    #[error("tcp connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The request went out but no acceptable reply came within the timeout: the server may
    /// have acted on it. `skipped` counts matching replies the caller refused.
    #[error("no reply within {waited:?}")]
    NoReply {
        /// The time waited.
        waited: Duration,
        /// Matching replies the caller skipped.
        skipped: usize,
    },
    /// The TCP connection broke after the request was sent.
    #[error("{step} failed: {error}")]
    Broken {
        /// Where it failed.
        step: Step,
        /// The OS error.
        error: io::Error,
    },
    /// The request is longer than a DNS message over TCP may be (65535 bytes).
    #[error("the request is {0} bytes, longer than a dns message may be")]
    Oversized(usize),
}

/// Sends `ex.request` and returns what `judge` takes from the first acceptable reply.
///
/// Replies with another ID or without the QR bit are dropped without asking `judge` (the UDP
/// socket is connected, so the kernel already drops datagrams from other addresses). A
/// matching reply with TC set ends the UDP phase: the request is sent again over TCP with the
/// two-byte length prefix of RFC 1035 §4.2.2.
pub async fn exchange<T>(
    ex: &Exchange<'_>,
    mut judge: impl FnMut(&[u8]) -> Sieve<T>,
) -> Result<T, ExchangeError> {
    if ex.request.len() > usize::from(u16::MAX) {
        return Err(ExchangeError::Oversized(ex.request.len()));
    }
    let mut skipped = 0;
    match udp(ex, &mut judge, &mut skipped).await? {
        Udp::Answer(t) => Ok(t),
        Udp::Truncated => {
            tracing::debug!(server = %ex.server, "reply truncated, asking again over tcp");
            tcp(ex, &mut judge, &mut skipped).await
        }
    }
}

/// The ID of a message (its first two bytes), if it has a full header.
pub fn message_id(msg: &[u8]) -> Option<u16> {
    (msg.len() >= HEADER_LEN).then(|| u16::from_be_bytes([msg[0], msg[1]]))
}

/// True when `reply` answers `request`: a full header, the same ID, and QR set.
pub fn answers(request: &[u8], reply: &[u8]) -> bool {
    match (message_id(request), message_id(reply)) {
        (Some(q), Some(r)) => q == r && reply[2] & 0x80 != 0,
        _ => false,
    }
}

/// True when the reply's TC bit is set (the caller checked it has a full header).
fn truncated(reply: &[u8]) -> bool {
    reply.len() >= HEADER_LEN && reply[2] & 0x02 != 0
}

/// The outcome of the UDP phase.
enum Udp<T> {
    Answer(T),
    Truncated,
}

async fn udp<T>(
    ex: &Exchange<'_>,
    judge: &mut impl FnMut(&[u8]) -> Sieve<T>,
    skipped: &mut usize,
) -> Result<Udp<T>, ExchangeError> {
    let unreachable = |step| move |error| ExchangeError::Unreachable { step, error };
    let sock = UdpSocket::bind(wildcard(ex.server))
        .await
        .map_err(unreachable(Step::UdpBind))?;
    sock.connect(ex.server)
        .await
        .map_err(unreachable(Step::UdpConnect))?;
    let sends = ex.udp_sends.max(1);
    let started = Instant::now();
    let deadline = started + ex.timeout;
    let per_send = ex.timeout / sends;
    let mut sent = false;
    let mut buf = vec![0u8; MAX_REPLY];
    for _ in 0..sends {
        match sock.send(ex.request).await {
            Ok(_) => sent = true,
            Err(error) if !sent => {
                return Err(ExchangeError::Unreachable {
                    step: Step::UdpSend,
                    error,
                })
            }
            // A later send failing changes nothing: the first one went out.
            Err(_) => {}
        }
        let send_deadline = (Instant::now() + per_send).min(deadline);
        loop {
            match tokio::time::timeout_at(send_deadline, sock.recv(&mut buf)).await {
                Err(_) => break,
                // ICMP port unreachable: nothing listens there, so nothing was acted on.
                Ok(Err(error)) if error.kind() == io::ErrorKind::ConnectionRefused => {
                    return Err(ExchangeError::Unreachable {
                        step: Step::UdpReceive,
                        error,
                    })
                }
                Ok(Err(_)) => break,
                Ok(Ok(n)) => {
                    let reply = &buf[..n];
                    if !answers(ex.request, reply) {
                        continue;
                    }
                    if truncated(reply) {
                        return Ok(Udp::Truncated);
                    }
                    match judge(reply) {
                        Sieve::Take(t) => return Ok(Udp::Answer(t)),
                        Sieve::Skip => *skipped += 1,
                    }
                }
            }
        }
    }
    Err(ExchangeError::NoReply {
        waited: started.elapsed(),
        skipped: *skipped,
    })
}

async fn tcp<T>(
    ex: &Exchange<'_>,
    judge: &mut impl FnMut(&[u8]) -> Sieve<T>,
    skipped: &mut usize,
) -> Result<T, ExchangeError> {
    let mut stream = match tokio::time::timeout(ex.timeout, TcpStream::connect(ex.server)).await {
        Err(_) => return Err(ExchangeError::ConnectTimeout(ex.timeout)),
        Ok(Err(error)) => {
            return Err(ExchangeError::Unreachable {
                step: Step::TcpConnect,
                error,
            })
        }
        Ok(Ok(s)) => s,
    };
    // invariant: `exchange` refused requests longer than u16::MAX.
    let len = u16::try_from(ex.request.len()).unwrap_or(u16::MAX);
    let mut framed = Vec::with_capacity(ex.request.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(ex.request);
    let started = Instant::now();
    let conversation = async {
        stream
            .write_all(&framed)
            .await
            .map_err(|error| (Step::TcpSend, error))?;
        loop {
            let mut lenb = [0u8; 2];
            stream
                .read_exact(&mut lenb)
                .await
                .map_err(|error| (Step::TcpReceive, error))?;
            // At most 65535 bytes: below the cap every reply is held to.
            let n = usize::from(u16::from_be_bytes(lenb)).min(MAX_REPLY);
            let mut reply = vec![0u8; n];
            stream
                .read_exact(&mut reply)
                .await
                .map_err(|error| (Step::TcpReceive, error))?;
            if !answers(ex.request, &reply) {
                continue;
            }
            match judge(&reply) {
                Sieve::Take(t) => return Ok(t),
                Sieve::Skip => *skipped += 1,
            }
        }
    };
    match tokio::time::timeout(ex.timeout, conversation).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err((step, error))) => Err(ExchangeError::Broken { step, error }),
        Err(_) => Err(ExchangeError::NoReply {
            waited: started.elapsed(),
            skipped: *skipped,
        }),
    }
}

/// The wildcard address of `server`'s family, port 0.
fn wildcard(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_answers_only_its_request() {
        let request = [0x12, 0x34, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        let mut reply = request;
        reply[2] |= 0x80;
        assert!(answers(&request, &reply));
        let mut other_id = reply;
        other_id[1] = 0x35;
        assert!(!answers(&request, &other_id));
        // The request itself (QR clear) echoed back is not an answer.
        assert!(!answers(&request, &request));
        assert!(!answers(&request, &reply[..11]));
        assert!(!truncated(&reply));
        reply[2] |= 0x02;
        assert!(truncated(&reply));
    }
}
