//! Test harness: real servers, namespaces and emulators, each cleaned up on Drop.
#![allow(dead_code)]

pub mod alidns_emu;
pub mod azure_emu;
pub mod baidu_emu;
pub mod capture;
pub mod cloudflare_emu;
pub mod desec_emu;
pub mod digitalocean_emu;
pub mod dns;
pub mod dnsfront;
pub mod dnspod_emu;
pub mod dnsproxy;
pub mod duckdns_emu;
pub mod dyndns2_server;
pub mod dynv6_emu;
pub mod emu_http;
pub mod gandi_emu;
pub mod gcloud_emu;
pub mod godaddy_emu;
pub mod hetzner_emu;
pub mod httpfront;
pub mod huawei_emu;
pub mod lan;
pub mod namecheap_emu;
pub mod netns;
pub mod overlay;
pub mod pdns;
pub mod porkbun_emu;
pub mod records;
pub mod route53_moto;
pub mod sdk;
pub mod servers;
pub mod volc_emu;
pub mod webhook_server;

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, Output};

/// The ddnsd binary built for these tests.
pub fn ddnsd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ddnsd"));
    c.env_remove("DDNSD_CONFIG").env("RUST_BACKTRACE", "0");
    c
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn output(mut c: Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Writes a file and returns its path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

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
