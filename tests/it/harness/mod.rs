//! Test harness: free ports, temp dirs, and real servers started in the foreground and killed
//! on drop.

pub mod dns;

use std::net::{TcpListener, UdpSocket};

/// A port on 127.0.0.1 that is free for both UDP and TCP right now (bound, read, closed).
pub fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a udp socket on 127.0.0.1:0");
        let port = udp.local_addr().expect("udp local addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("could not find a port free for both udp and tcp on 127.0.0.1");
}
