//! Small local servers for address sources: an HTTP echo service (on the harness's one HTTP
//! server, stopped on drop) and a DNS "whoami" responder (UDP + TCP on one port, serving on
//! its own threads until the test ends).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::thread;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode};
use hickory_proto::rr::rdata::{A, AAAA, TXT};
use hickory_proto::rr::{RData, Record, RecordType};

use super::emu_http::{EmuReply, EmuServer, Outcome};

/// How an echo server answers every request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with this body.
    Body(&'static str),
    /// This status with this body.
    Status(u16, &'static str),
    /// Wait this long, then 200 with this body.
    Slow(Duration, &'static str),
}

/// Serves `reply` on `listener` (bound by the caller, e.g. inside a namespace) until dropped.
pub fn echo(listener: TcpListener, reply: Reply) -> EmuServer {
    EmuServer::serve(listener, move |_| {
        let reply = reply.clone();
        async move {
            let (status, body) = match reply {
                Reply::Body(b) => (200, b),
                Reply::Status(s, b) => (s, b),
                Reply::Slow(d, b) => {
                    tokio::time::sleep(d).await;
                    (200, b)
                }
            };
            Outcome::Reply(EmuReply::new(status, "text/plain", body))
        }
    })
}

/// An echo server on a fresh port of `ip` (127.0.0.1 or ::1), until dropped.
pub fn echo_on(ip: &str, reply: Reply) -> EmuServer {
    echo(TcpListener::bind((ip, 0)).unwrap(), reply)
}

/// A DNS responder on `ip` answering every question with `answer` (A, AAAA or TXT by the
/// question's type). With `truncate_udp`, UDP replies carry only the TC bit, so the client
/// must ask again over TCP. Returns the port (the same for UDP and TCP).
pub fn whoami(ip: &str, answer: &'static str, truncate_udp: bool) -> SocketAddr {
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind((ip, 0)).unwrap();
        if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()) {
            break (udp, tcp);
        }
    };
    let addr = udp.local_addr().unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                continue;
            };
            let reply = respond(&buf[..n], answer, truncate_udp);
            let _ = udp.send_to(&reply, peer);
        }
    });
    thread::spawn(move || {
        for conn in tcp.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut len = [0u8; 2];
            if conn.read_exact(&mut len).is_err() {
                continue;
            }
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            if conn.read_exact(&mut q).is_err() {
                continue;
            }
            let reply = respond(&q, answer, false);
            let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&reply);
            let _ = conn.write_all(&framed);
        }
    });
    addr
}

fn respond(query: &[u8], answer: &str, truncated: bool) -> Vec<u8> {
    let q = Message::from_vec(query).unwrap();
    let mut m = Message::new(q.metadata.id, MessageType::Response, OpCode::Query);
    let question = q.queries[0].clone();
    m.metadata.truncation = truncated;
    if !truncated {
        let rdata = match question.query_type() {
            RecordType::A => RData::A(A(answer.parse().unwrap())),
            RecordType::AAAA => RData::AAAA(AAAA(answer.parse().unwrap())),
            _ => RData::TXT(TXT::new(vec![answer.to_owned()])),
        };
        let mut rec = Record::from_rdata(question.name().clone(), 0, rdata);
        rec.dns_class = question.query_class();
        m.add_answer(rec);
    }
    m.add_query(question);
    m.to_vec().unwrap()
}
