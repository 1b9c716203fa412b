//! A DNS front on 127.0.0.1 (UDP and TCP on one port) that relays every message to a real
//! server and relays the server's reply back, counting messages by opcode — and, on UDP, can
//! first inject a forged reply carrying the request's ID and question, the way an attacker
//! who sees or guesses the ID would (issue 8: "a UDP front that injects a forged unsigned
//! REFUSED before forwarding to BIND"). Threads serve until the front is dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ddnsd::provider::sign::tsig::{find_tsig, sign_reply, TsigAlgorithm, TsigKey};
use ddnsd::record::Fqdn;
use ddnsd::secret::Secret;

/// What the front injects before the real reply (UDP only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forge {
    /// Nothing: a plain counting relay.
    Nothing,
    /// An unsigned REFUSED (no TSIG record at all).
    UnsignedRefused,
    /// A REFUSED signed with another secret under the right key name: the MAC is wrong.
    BadMac,
    /// NOTAUTH with an unsigned TSIG record saying BADKEY (MAC size 0), exactly how a server
    /// that does not know the key answers (RFC 8945 §5.3.2) — and how a forger can.
    UnsignedBadKey,
}

/// Counters, shared with the serving threads.
#[derive(Debug, Default)]
struct Counts {
    updates: AtomicUsize,
    queries: AtomicUsize,
    forged: AtomicUsize,
    tcp: AtomicUsize,
}

/// A running front; stops serving when dropped.
pub struct DnsFront {
    addr: SocketAddr,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
}

impl DnsFront {
    /// A front relaying to `backend` (or, with `backend = None`, answering nothing but its
    /// forgeries), injecting `forge` before each relayed UDP reply.
    pub fn start(backend: Option<SocketAddr>, forge: Forge) -> DnsFront {
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        {
            let (counts, stop) = (counts.clone(), stop.clone());
            thread::spawn(move || serve_udp(udp, backend, forge, &counts, &stop));
        }
        {
            let (counts, stop) = (counts.clone(), stop.clone());
            thread::spawn(move || serve_tcp(tcp, backend, &counts, &stop));
        }
        DnsFront { addr, counts, stop }
    }

    /// Where clients send (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// UPDATE messages received so far (UDP and TCP, retransmissions included).
    pub fn updates(&self) -> usize {
        self.counts.updates.load(Ordering::SeqCst)
    }

    /// Other messages (queries) received so far.
    pub fn queries(&self) -> usize {
        self.counts.queries.load(Ordering::SeqCst)
    }

    /// Forged replies sent so far.
    pub fn forged(&self) -> usize {
        self.counts.forged.load(Ordering::SeqCst)
    }

    /// Messages received over TCP so far.
    pub fn tcp_messages(&self) -> usize {
        self.counts.tcp.load(Ordering::SeqCst)
    }
}

impl Drop for DnsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn count(counts: &Counts, msg: &[u8]) {
    if msg.len() >= 12 && (msg[2] >> 3) & 0x0f == 5 {
        counts.updates.fetch_add(1, Ordering::SeqCst);
    } else {
        counts.queries.fetch_add(1, Ordering::SeqCst);
    }
}

fn serve_udp(
    udp: UdpSocket,
    backend: Option<SocketAddr>,
    forge: Forge,
    counts: &Arc<Counts>,
    stop: &AtomicBool,
) {
    let mut buf = [0u8; 65535];
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, client)) = udp.recv_from(&mut buf) else {
            continue;
        };
        let request = buf[..n].to_vec();
        count(counts, &request);
        if let Some(forged) = forged_reply(&request, forge) {
            // Sent before the request even reaches the server: it always arrives first.
            udp.send_to(&forged, client).unwrap();
            counts.forged.fetch_add(1, Ordering::SeqCst);
        }
        let Some(backend) = backend else { continue };
        let reply_to = udp.try_clone().unwrap();
        thread::spawn(move || {
            let up = UdpSocket::bind("127.0.0.1:0").unwrap();
            up.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            up.connect(backend).unwrap();
            up.send(&request).unwrap();
            let mut buf = [0u8; 65535];
            if let Ok(n) = up.recv(&mut buf) {
                let _ = reply_to.send_to(&buf[..n], client);
            }
        });
    }
}

fn serve_tcp(
    tcp: TcpListener,
    backend: Option<SocketAddr>,
    counts: &Arc<Counts>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        let conn = match tcp.accept() {
            Ok((c, _)) => c,
            Err(_) => {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let counts = counts.clone();
        thread::spawn(move || relay_tcp(conn, backend, &counts));
    }
}

/// Relays framed messages one by one between a client connection and the backend.
fn relay_tcp(mut conn: TcpStream, backend: Option<SocketAddr>, counts: &Counts) {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut up = backend.map(|b| TcpStream::connect(b).unwrap());
    loop {
        let Some(msg) = read_framed(&mut conn) else {
            return;
        };
        counts.tcp.fetch_add(1, Ordering::SeqCst);
        count(counts, &msg);
        let Some(up) = up.as_mut() else { continue };
        write_framed(up, &msg);
        let Some(reply) = read_framed(up) else { return };
        write_framed(&mut conn, &reply);
    }
}

fn read_framed(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg).ok()?;
    Some(msg)
}

fn write_framed(s: &mut TcpStream, msg: &[u8]) {
    let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(msg);
    let _ = s.write_all(&framed);
}

/// The forged reply to `request`: its ID, opcode and question (zone) section, QR set.
fn forged_reply(request: &[u8], forge: Forge) -> Option<Vec<u8>> {
    let rcode = match forge {
        Forge::Nothing => return None,
        Forge::UnsignedRefused | Forge::BadMac => 5,
        Forge::UnsignedBadKey => 9,
    };
    let question_end = question_end(request)?;
    let mut reply = request[..question_end].to_vec();
    reply[2] = 0x80 | (request[2] & 0x78); // QR, the request's opcode
    reply[3] = rcode;
    reply[4..12].copy_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    let request_tsig = find_tsig(request).ok().flatten();
    match forge {
        Forge::BadMac => {
            let t = request_tsig?;
            let wrong = TsigKey {
                name: Fqdn::parse_relaxed(&t.key_name).unwrap(),
                algorithm: TsigAlgorithm::HmacSha256,
                secret: Secret::new(b"a-forger-does-not-know-the-secret".to_vec()),
            };
            Some(sign_reply(&wrong, &t.mac, &reply, t.time_signed, 300, 0, &[]).unwrap())
        }
        Forge::UnsignedBadKey => {
            let t = request_tsig?;
            reply[11] = 1;
            let mut key = Vec::new();
            for label in t.key_name.split('.') {
                key.push(label.len() as u8);
                key.extend_from_slice(label.as_bytes());
            }
            key.push(0);
            let alg = b"\x0bhmac-sha256\x00";
            let mut rdata = alg.to_vec();
            rdata.extend_from_slice(&t.time_signed.to_be_bytes()[2..]);
            rdata.extend_from_slice(&300u16.to_be_bytes()); // fudge
            rdata.extend_from_slice(&0u16.to_be_bytes()); // MAC size 0
            rdata.extend_from_slice(&request[..2]); // original ID
            rdata.extend_from_slice(&17u16.to_be_bytes()); // BADKEY
            rdata.extend_from_slice(&0u16.to_be_bytes()); // other len
            reply.extend_from_slice(&key);
            reply.extend_from_slice(&[0, 250, 0, 255, 0, 0, 0, 0]); // TSIG ANY TTL 0
            reply.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            reply.extend_from_slice(&rdata);
            Some(reply)
        }
        _ => Some(reply),
    }
}

/// The end of the first question of a message whose names in the question are uncompressed.
fn question_end(msg: &[u8]) -> Option<usize> {
    let mut p = 12;
    loop {
        let len = usize::from(*msg.get(p)?);
        if len == 0 {
            return Some(p + 1 + 4).filter(|e| *e <= msg.len());
        }
        p += 1 + len;
    }
}
