//! One DNS exchange on the wire, shared by the `dns` address source and the rfc2136 provider:
//! send a request over UDP (retransmitted within the timeout), ask again over TCP when the
//! reply is truncated (RFC 1035 §4.2.1) — or at once when the request is too long for UDP — keep only replies that answer *this* request (same
//! ID, opcode and question, QR set), and read at most [`limits::MAX_REPLY`](crate::limits::MAX_REPLY) bytes.
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

/// The longest request sent over UDP. RFC 1035 §4.2.1: "Messages carried by UDP are restricted
/// to 512 bytes (not counting the IP or UDP headers)"; ddnsd sends no EDNS, so a longer request
/// (a batch of UPDATEs) goes over TCP from the start.
pub const MAX_UDP_REQUEST: usize = 512;

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
    /// The request reached the server, then the exchange broke: the TCP connection failed
    /// after the request was sent, or could not be opened after a truncated UDP reply.
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
/// Replies that do not [`answer`](answers) the request (another ID, opcode or question, QR
/// clear) are dropped without asking `judge` (the UDP socket is connected, so the kernel
/// already drops datagrams from other addresses). A
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
    if ex.request.len() > MAX_UDP_REQUEST {
        return tcp(ex, &mut judge, &mut skipped).await;
    }
    match udp(ex, &mut judge, &mut skipped).await? {
        Udp::Answer(t) => Ok(t),
        Udp::Truncated => {
            tracing::debug!(server = %ex.server, "reply truncated, asking again over tcp");
            // The server answered over UDP, so it has the request: if TCP then fails, the
            // request may have been acted on (`Broken`), unlike a server never reached.
            tcp(ex, &mut judge, &mut skipped)
                .await
                .map_err(|e| match e {
                    ExchangeError::Unreachable { step, error } => {
                        ExchangeError::Broken { step, error }
                    }
                    ExchangeError::ConnectTimeout(d) => ExchangeError::Broken {
                        step: Step::TcpConnect,
                        error: io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("timed out after {d:?}"),
                        ),
                    },
                    other => other,
                })
        }
    }
}

/// The ID of a message (its first two bytes), if it has a full header.
pub fn message_id(msg: &[u8]) -> Option<u16> {
    (msg.len() >= HEADER_LEN).then(|| u16::from_be_bytes([msg[0], msg[1]]))
}

/// True when `reply` answers `request`: a full header, the same ID and opcode, QR set, and
/// the request's question (for an UPDATE: its zone section) echoed, letters in any case.
///
/// An empty question section is accepted too: RFC 2136 §3.8 lets an UPDATE response carry
/// zero counts ("placing zeros (0) in these count fields and not including any part of the
/// original update"), and a FORMERR reply may have none. Anything else is a reply to some
/// other question — stray, stale, or forged by someone who guessed the ID — and is dropped.
pub fn answers(request: &[u8], reply: &[u8]) -> bool {
    let (Some(q), Some(r)) = (message_id(request), message_id(reply)) else {
        return false;
    };
    if q != r || reply[2] & 0x80 == 0 || (reply[2] ^ request[2]) & 0x78 != 0 {
        return false;
    }
    if reply[4..6] == [0, 0] {
        return true;
    }
    match (questions(request), questions(reply)) {
        (Some((n, a)), Some((m, b))) => n == m && a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// The question section of `msg`: its count and its entries' bytes, if every name in it is
/// uncompressed and it lies within the message. The first name of a message has nothing
/// before it to point to, so a well-formed question is never compressed.
pub fn questions(msg: &[u8]) -> Option<(u16, &[u8])> {
    let count = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    let mut p = HEADER_LEN;
    for _ in 0..count {
        loop {
            let len = usize::from(*msg.get(p)?);
            p += 1;
            match len {
                0 => break,
                1..=63 => p += len,
                // A pointer or a reserved label type.
                _ => return None,
            }
        }
        p += 4;
    }
    Some((count, msg.get(HEADER_LEN..p)?))
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
    // Room for any UDP reply, but not zeroed: only the bytes a reply fills are ever touched,
    // so an exchange costs a page or two of memory rather than 64 KiB (issue 13).
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_REPLY);
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
            buf.clear();
            match tokio::time::timeout_at(send_deadline, sock.recv_buf(&mut buf)).await {
                Err(_) => break,
                // ICMP port unreachable: nothing listens there, so nothing was acted on.
                Ok(Err(error)) if error.kind() == io::ErrorKind::ConnectionRefused => {
                    return Err(ExchangeError::Unreachable {
                        step: Step::UdpReceive,
                        error,
                    })
                }
                Ok(Err(_)) => break,
                Ok(Ok(_)) => {
                    let reply = buf.as_slice();
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

    /// `example.test. SOA IN` as a zone / question entry.
    const ZONE: &[u8] = b"\x07example\x04test\x00\x00\x06\x00\x01";

    fn message(id: u16, flags: [u8; 2], qd: u16, question: &[u8]) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&flags);
        m.extend_from_slice(&qd.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 0, 1]);
        m.extend_from_slice(question);
        m
    }

    #[test]
    fn a_reply_answers_only_its_request() {
        let request = message(0x1234, [0x28, 0], 1, ZONE);
        let reply = |id, flags, qd, q: &[u8]| message(id, flags, qd, q);
        let mut shouted = ZONE.to_vec();
        shouted[1..8].copy_from_slice(b"EXAMPLE");
        let mut other_zone = ZONE.to_vec();
        other_zone[1] = b'f';
        let mut other_type = ZONE.to_vec();
        other_type[15] = 28;
        // (reply, answers?)
        let cases: Vec<(Vec<u8>, bool)> = vec![
            (reply(0x1234, [0xa8, 0x05], 1, ZONE), true),
            (reply(0x1234, [0xa8, 0x00], 1, &shouted), true),
            // RFC 2136 §3.8: a response may carry no sections at all.
            (reply(0x1234, [0xa8, 0x05], 0, b""), true),
            (reply(0x1235, [0xa8, 0x05], 1, ZONE), false),
            // The request itself echoed back (QR clear).
            (reply(0x1234, [0x28, 0x00], 1, ZONE), false),
            // Another opcode (QUERY).
            (reply(0x1234, [0x80, 0x05], 1, ZONE), false),
            (reply(0x1234, [0xa8, 0x05], 1, &other_zone), false),
            (reply(0x1234, [0xa8, 0x05], 1, &other_type), false),
            (reply(0x1234, [0xa8, 0x05], 2, ZONE), false),
            (reply(0x1234, [0xa8, 0x05], 1, &ZONE[..10]), false),
            // A compressed question name.
            (
                reply(0x1234, [0xa8, 0x05], 1, b"\xc0\x0c\x00\x06\x00\x01"),
                false,
            ),
            (reply(0x1234, [0xa8, 0x05], 1, ZONE)[..11].to_vec(), false),
        ];
        for (i, (r, want)) in cases.iter().enumerate() {
            assert_eq!(answers(&request, r), *want, "case {i}: {r:02x?}");
        }
        let mut tc = reply(0x1234, [0xaa, 0x00], 1, ZONE);
        assert!(truncated(&tc));
        tc[2] = 0xa8;
        assert!(!truncated(&tc));
    }

    use proptest::prelude::*;

    /// `n` cases per property in CI; a long run sets `PROPTEST_CASES` (docs/design/testing.md).
    fn cases(n: u32) -> proptest::test_runner::Config {
        let config = proptest::test_runner::Config::default();
        if std::env::var_os("PROPTEST_CASES").is_some() {
            config
        } else {
            proptest::test_runner::Config { cases: n, ..config }
        }
    }

    proptest! {
        #![proptest_config(cases(2000))]

        /// See: issue 8 (fuzzing). Arbitrary request and reply bytes: a yes or no, never a
        /// panic; a question section is always a slice of the message after its header.
        #[test]
        fn matching_takes_arbitrary_bytes_without_panic(
            a in proptest::collection::vec(any::<u8>(), 0..300),
            b in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let _ = answers(&a, &b);
            if let Some((_, q)) = questions(&b) {
                prop_assert!(q.len() + HEADER_LEN <= b.len());
            }
        }

        /// Changing any byte of the echoed question, other than a letter's case, makes the
        /// reply answer another question.
        #[test]
        fn a_changed_question_is_another_question(
            at in any::<prop::sample::Index>(),
            value in any::<u8>(),
        ) {
            let request = message(0x1234, [0x28, 0], 1, ZONE);
            let mut reply = message(0x1234, [0xa8, 0x05], 1, ZONE);
            prop_assert!(answers(&request, &reply));
            let i = HEADER_LEN + at.index(ZONE.len());
            let was = reply[i];
            reply[i] = value;
            if !was.eq_ignore_ascii_case(&value) {
                prop_assert!(!answers(&request, &reply));
            }
        }
    }
}
