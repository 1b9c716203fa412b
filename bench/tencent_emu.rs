//! The Tencent Cloud DNSPod emulator of the integration tests as a standalone server for
//! `bench/peers.sh`, which compares the API calls ddnsd and another client make per change.
//!
//! The emulator itself is `tests/it/harness/dnspod_emu.rs`, compiled in here unchanged
//! (`#[path]`), so the bench measures against exactly the API behaviour the tests pin down
//! (with the shared `emu_http.rs` it uses; every TC3 signature verified, real error bodies, call counts per action) and no second copy
//! can drift from it.
//!
//! Usage: `tencent_emu SECRET_ID SECRET_KEY DOMAIN...` (bench code, not shipped; built by
//! `cargo build --release --example tencent_emu`). Prints `endpoint http://127.0.0.1:PORT`,
//! then on every SIGUSR1 one line `calls ACTION=N ACTION=N … total=N` (the calls since the
//! previous SIGUSR1) and runs until SIGTERM/SIGINT.
#![allow(clippy::print_stdout)]

#[allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]
#[path = "../tests/it/harness/dnspod_emu.rs"]
mod dnspod_emu;

// The HTTP server the emulators share (dnspod_emu reaches it as `super::emu_http`).
#[allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]
#[path = "../tests/it/harness/emu_http.rs"]
mod emu_http;

use std::io::{self, Write};

use tokio::signal::unix::{signal, SignalKind};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [id, key, domains @ ..] = &args[..] else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: tencent_emu SECRET_ID SECRET_KEY DOMAIN...",
        ));
    };
    let emu = dnspod_emu::DnspodEmu::start();
    {
        let mut st = emu.state();
        st.keys.insert(id.clone(), key.clone());
        for d in domains {
            st.add_domain(d);
        }
        st.calls.clear();
    }
    let mut out = io::stdout().lock();
    writeln!(out, "endpoint {}", emu.endpoint())?;
    out.flush()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        loop {
            tokio::select! {
                _ = usr1.recv() => {
                    let calls = std::mem::take(&mut emu.state().calls);
                    let total: u32 = calls.values().sum();
                    let list: Vec<String> = calls.iter().map(|(a, n)| format!("{a}={n}")).collect();
                    writeln!(out, "calls {} total={total}", list.join(" "))?;
                    out.flush()?;
                }
                _ = term.recv() => break,
                _ = int.recv() => break,
            }
        }
        Ok(())
    })
}
