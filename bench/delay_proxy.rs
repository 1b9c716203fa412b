//! A DNS front that adds round-trip time (for `bench/scale.sh`; `netem` is not available on
//! these kernels): listens on UDP and TCP at LISTEN, forwards to UPSTREAM, and delays every
//! datagram and every TCP chunk by half of RTT_MS in each direction.
//!
//! A TCP connection also pays the handshake a real path would: the kernel completes the
//! client's handshake at once, so the first bytes the client sends are held until one full
//! round trip after the connection was accepted (SYN → SYN-ACK → ACK), then delayed by the
//! one-way time like all later bytes. A new connection therefore costs 2 × RTT until its first
//! reply, as it would to a server RTT away.
//!
//! Counts what it forwards and prints the counts on SIGUSR1 (then starts counting again from
//! zero) and at exit (SIGINT/SIGTERM, or after `--for SECONDS`): `udp requests N, tcp
//! connections N, tcp messages N` (a TCP message = one length-prefixed DNS message from the
//! client).
//!
//! Usage: `delay_proxy LISTEN UPSTREAM RTT_MS [--for SECONDS]` (IP literals only). Bench code,
//! not shipped: built by `cargo build --release --example delay_proxy`.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, Mutex};
use tokio::time::{sleep_until, Instant};

#[derive(Default)]
struct Counts {
    udp: AtomicU64,
    tcp_conns: AtomicU64,
    tcp_msgs: AtomicU64,
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: delay_proxy LISTEN UPSTREAM RTT_MS [--for SECONDS]",
        )
    };
    let listen: SocketAddr = args.get(1).and_then(|a| a.parse().ok()).ok_or_else(usage)?;
    let upstream: SocketAddr = args.get(2).and_then(|a| a.parse().ok()).ok_or_else(usage)?;
    let rtt = Duration::from_millis(args.get(3).and_then(|a| a.parse().ok()).ok_or_else(usage)?);
    let limit = match (args.get(4).map(String::as_str), args.get(5)) {
        (Some("--for"), Some(s)) => Some(Duration::from_secs(s.parse().map_err(|_| usage())?)),
        (None, _) => None,
        _ => return Err(usage()),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let counts = Arc::new(Counts::default());
        let udp = UdpSocket::bind(listen).await?;
        let tcp = TcpListener::bind(listen).await?;
        tokio::spawn(serve_udp(udp, upstream, rtt / 2, counts.clone()));
        tokio::spawn(serve_tcp(tcp, upstream, rtt, counts.clone()));
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut usr1 = signal(SignalKind::user_defined1())?;
        let mut stop = std::pin::pin!(async {
            match limit {
                Some(l) => tokio::time::sleep(l).await,
                None => std::future::pending().await,
            }
        });
        loop {
            tokio::select! {
                _ = int.recv() => break,
                _ = term.recv() => break,
                () = &mut stop => break,
                _ = usr1.recv() => report(&counts),
            }
        }
        report(&counts);
        Ok(())
    })
}

/// Prints the counts and starts again from zero.
fn report(counts: &Counts) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "udp requests {}, tcp connections {}, tcp messages {}",
        counts.udp.swap(0, Ordering::Relaxed),
        counts.tcp_conns.swap(0, Ordering::Relaxed),
        counts.tcp_msgs.swap(0, Ordering::Relaxed)
    );
    let _ = out.flush();
}

/// Each client address gets its own upstream socket, so replies find their way back.
async fn serve_udp(front: UdpSocket, upstream: SocketAddr, one_way: Duration, counts: Arc<Counts>) {
    let front = Arc::new(front);
    let clients: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
    let mut buf = vec![0u8; 65535];
    loop {
        let Ok((n, client)) = front.recv_from(&mut buf).await else {
            continue;
        };
        counts.udp.fetch_add(1, Ordering::Relaxed);
        let due = Instant::now() + one_way;
        let datagram = buf[..n].to_vec();
        let back = {
            let mut map = clients.lock().await;
            match map.get(&client) {
                Some(s) => s.clone(),
                None => {
                    let Ok(s) = UdpSocket::bind(wildcard(upstream)).await else {
                        continue;
                    };
                    if s.connect(upstream).await.is_err() {
                        continue;
                    }
                    let s = Arc::new(s);
                    map.insert(client, s.clone());
                    tokio::spawn(udp_replies(s.clone(), front.clone(), client, one_way));
                    s
                }
            }
        };
        tokio::spawn(async move {
            sleep_until(due).await;
            let _ = back.send(&datagram).await;
        });
    }
}

async fn udp_replies(
    up: Arc<UdpSocket>,
    front: Arc<UdpSocket>,
    client: SocketAddr,
    one_way: Duration,
) {
    let mut buf = vec![0u8; 65535];
    while let Ok(n) = up.recv(&mut buf).await {
        let due = Instant::now() + one_way;
        let datagram = buf[..n].to_vec();
        let front = front.clone();
        tokio::spawn(async move {
            sleep_until(due).await;
            let _ = front.send_to(&datagram, client).await;
        });
    }
}

async fn serve_tcp(
    listener: TcpListener,
    upstream: SocketAddr,
    rtt: Duration,
    counts: Arc<Counts>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        counts.tcp_conns.fetch_add(1, Ordering::Relaxed);
        let counts = counts.clone();
        tokio::spawn(async move {
            let accepted = Instant::now();
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            let one_way = rtt / 2;
            // Client → server: nothing leaves before the emulated handshake is over.
            let up = pipe(cr, sw, one_way, accepted + rtt, Some(counts));
            let down = pipe(sr, cw, one_way, accepted, None);
            let _ = tokio::join!(up, down);
        });
    }
}

/// Copies `from` to `to`, each chunk delayed by `one_way` and none before `not_before`; counts
/// length-prefixed DNS messages when `counts` is given.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    one_way: Duration,
    not_before: Instant,
    counts: Option<Arc<Counts>>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 65536];
    // Bytes still needed to finish the current message, and a partial length prefix.
    let mut remaining = 0usize;
    let mut prefix: Vec<u8> = Vec::new();
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if let Some(c) = &counts {
            let mut i = 0;
            while i < n {
                if remaining > 0 {
                    let take = remaining.min(n - i);
                    remaining -= take;
                    i += take;
                    continue;
                }
                prefix.push(buf[i]);
                i += 1;
                if prefix.len() == 2 {
                    remaining = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
                    prefix.clear();
                    c.tcp_msgs.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let due = (Instant::now() + one_way).max(not_before + one_way);
        if tx.send((due, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

fn wildcard(to: SocketAddr) -> SocketAddr {
    match to {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    }
}
