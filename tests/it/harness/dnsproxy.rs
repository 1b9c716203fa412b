//! A DNS fault proxy: a UDP + TCP forwarder on 127.0.0.1 (one port for both) placed between ddnsd and
//! a real DNS server. It counts the messages it forwards (queries and UPDATEs apart) and can
//! serve faults instead of the server's reply: a SERVFAIL (signed with the server's TSIG key,
//! as the server itself would sign it), a dropped reply, a reply corrupted after its header, a
//! reply cut short, or a delayed reply. Every request is still forwarded unless the fault is a
//! SERVFAIL, so a dropped or damaged reply leaves the server's state changed, as a lost packet
//! would. Threads stop when the front is dropped.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ddnsd::provider::sign::tsig::{self, TsigKey};

/// What the front serves instead of the server's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontFault {
    /// Answer SERVFAIL without forwarding (TSIG-signed when the front has the key).
    ServFail,
    /// Forward, then drop the reply.
    Drop,
    /// Forward, then replace everything after the reply's header with junk.
    Corrupt,
    /// Forward, then cut the reply a few bytes after its header.
    Truncate,
    /// Forward, then hold the reply this long.
    Delay(Duration),
}

/// Which messages a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Any message.
    Any,
    /// Queries (opcode QUERY).
    Queries,
    /// Dynamic updates (opcode UPDATE).
    Updates,
}

/// Counters and queued faults; lock with [`DnsProxy::state`].
#[derive(Debug, Default)]
pub struct FrontState {
    /// Queries received.
    pub queries: u32,
    /// UPDATE messages received.
    pub updates: u32,
    /// Faults to serve, each to the first message it hits.
    pub faults: VecDeque<(Target, FrontFault)>,
    /// `query` / `update` for every message that got a fault, in order.
    pub faulted: Vec<String>,
}

/// A running proxy; stops on drop.
pub struct DnsProxy {
    addr: SocketAddr,
    state: Arc<Mutex<FrontState>>,
    stop: Arc<AtomicBool>,
}

const OPCODE_UPDATE: u8 = 5;

impl DnsProxy {
    /// Starts a front forwarding to `upstream`; `key` signs the SERVFAILs it makes up.
    pub fn start(upstream: SocketAddr, key: Option<TsigKey>) -> DnsProxy {
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp on 127.0.0.1:0");
            if let Ok(tcp) = TcpListener::bind(udp.local_addr().expect("udp addr")) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("udp addr");
        let state = Arc::new(Mutex::new(FrontState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let key = Arc::new(key);
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("udp read timeout");
        {
            let (state, stop, key) = (state.clone(), stop.clone(), key.clone());
            thread::spawn(move || {
                let mut buf = vec![0u8; 65535];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                        continue;
                    };
                    let request = buf[..n].to_vec();
                    let (state, key) = (state.clone(), key.clone());
                    let Ok(reply_sock) = udp.try_clone() else {
                        continue;
                    };
                    thread::spawn(move || {
                        if let Some(reply) =
                            handle(&request, &state, &key, |m| forward_udp(upstream, m))
                        {
                            let _ = reply_sock.send_to(&reply, peer);
                        }
                    });
                }
            });
        }
        tcp.set_nonblocking(true).expect("nonblocking listener");
        {
            let (state, stop) = (state.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let conn = match tcp.accept() {
                        Ok((c, _)) => c,
                        Err(_) => {
                            thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                    };
                    let (state, key) = (state.clone(), key.clone());
                    thread::spawn(move || serve_tcp(conn, upstream, &state, &key));
                }
            });
        }
        DnsProxy { addr, state, stop }
    }

    /// Where ddnsd should send its messages.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Locks the counters and faults.
    pub fn state(&self) -> MutexGuard<'_, FrontState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `fault` for the next message `target` hits.
    pub fn inject(&self, target: Target, fault: FrontFault) {
        self.state().faults.push_back((target, fault));
    }

    /// Forgets counters, queued faults and faulted messages.
    pub fn reset(&self) {
        *self.state() = FrontState::default();
    }
}

impl Drop for DnsProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Counts `request`, serves a queued fault or forwards it with `forward`; returns the reply to
/// send back (`None`: send nothing).
fn handle(
    request: &[u8],
    state: &Mutex<FrontState>,
    key: &Option<TsigKey>,
    forward: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    if request.len() < 12 {
        return None;
    }
    let update = (request[2] >> 3) & 0x0f == OPCODE_UPDATE;
    let fault = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        if update {
            st.updates += 1;
        } else {
            st.queries += 1;
        }
        let pos = st.faults.iter().position(|(t, _)| match t {
            Target::Any => true,
            Target::Queries => !update,
            Target::Updates => update,
        });
        let fault = pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
        if fault.is_some() {
            st.faulted
                .push(if update { "update" } else { "query" }.to_owned());
        }
        fault
    };
    if fault == Some(FrontFault::ServFail) {
        return servfail(request, key.as_ref());
    }
    let mut reply = forward(request)?;
    match fault {
        Some(FrontFault::Drop) => return None,
        Some(FrontFault::Corrupt) => {
            for b in reply.iter_mut().skip(12) {
                *b = 0xff;
            }
        }
        Some(FrontFault::Truncate) => reply.truncate(reply.len().min(17)),
        Some(FrontFault::Delay(d)) => thread::sleep(d),
        Some(FrontFault::ServFail) | None => {}
    }
    Some(reply)
}

/// A SERVFAIL reply to `request`: its header with QR and RCODE 2, its first question (the
/// zone section of an UPDATE), signed with `key` over the request's MAC (RFC 8945 §4.3.3)
/// when the request was signed.
fn servfail(request: &[u8], key: Option<&TsigKey>) -> Option<Vec<u8>> {
    let mut end = 12;
    while *request.get(end)? != 0 {
        end += 1 + usize::from(request[end]);
    }
    end += 1 + 4;
    let question = request.get(12..end)?;
    let mut reply = Vec::with_capacity(end);
    reply.extend_from_slice(&request[0..2]);
    // QR, the request's opcode and RD; RCODE SERVFAIL.
    reply.push(0x80 | (request[2] & 0x79));
    reply.push(0x02);
    reply.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    reply.extend_from_slice(question);
    let (Some(key), Ok(Some(t))) = (key, tsig::find_tsig(request)) else {
        return Some(reply);
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    tsig::sign_reply(key, &t.mac, &reply, now, t.fudge, 0, &[]).ok()
}

fn forward_udp(upstream: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    sock.connect(upstream).ok()?;
    sock.send(request).ok()?;
    let mut buf = vec![0u8; 65535];
    let n = sock.recv(&mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn serve_tcp(
    mut conn: TcpStream,
    upstream: SocketAddr,
    state: &Mutex<FrontState>,
    key: &Option<TsigKey>,
) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    loop {
        let Some(request) = read_framed(&mut conn) else {
            return;
        };
        let Some(reply) = handle(&request, state, key, |m| forward_tcp(upstream, m)) else {
            // A dropped reply over TCP: close, as a server that went away would.
            return;
        };
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if conn.write_all(&framed).is_err() {
            return;
        }
    }
}

fn forward_tcp(upstream: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut framed = (request.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(request);
    s.write_all(&framed).ok()?;
    read_framed(&mut s)
}

fn read_framed(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg).ok()?;
    Some(msg)
}
