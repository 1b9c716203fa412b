//! The fault matrix (issue 8): one table of faults, each injected against a real BIND or the
//! DNSPod emulator while `ddnsd` runs as a process — `run --once`, or the daemon where the
//! fault needs time to play out.
//!
//! Every row checks the same things, whatever its fault:
//! - the managed records are served right, or left exactly as they were (**lost** otherwise);
//! - the foreign records seeded next to them are untouched (**foreign touched**);
//! - the state file, when there is one, parses as a whole and holds no secret;
//! - no output of any process, at `--log-level trace`, holds the marker secret (**secrets**);
//! - nothing panicked and no process died of a signal it was not sent (**panics**);
//! - every exit code is the documented one (0 success, 1 some record failed, 2 config).
//!
//! The test prints the tally (`faults: N rows, 0 lost, 0 foreign touched, 0 secrets,
//! 0 panics, …`) and fails unless every count is zero. A row is a function in [`ROWS`].
//! `FAULTS_ONLY=TEXT` runs the rows whose description contains TEXT; `FAULTS_KILL_RUNS=N`
//! sets how often the kill -9 row kills (default 30).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::process::ExitStatusExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ddnsd::state::State;
use hickory_proto::rr::RecordType as DnsType;

use crate::harness::dns::{BindServer, DnsServer, TestKey, TestZone, KEY_NAME};
use crate::harness::dnsfront::{DnsFront, Forge};
use crate::harness::dnspod_emu::{DnspodEmu, Fault, Target};
use crate::harness::netns::Netns;
use crate::harness::{ddnsd, free_port};

/// The secret every row configures: an API key as it is, a TSIG secret in base64.
const MARKER: &str = "MARKER-faults-5e0c1f-SECRET-32byte";
/// A second secret, configured where the fault is a wrong key.
const WRONG: &str = "MARKER-faults-wrong-9a4b7d-SECRET!!";
/// The variable every row hands the secret in (`*_env`).
const SECRET_ENV: &str = "FAULTS_SECRET";

/// Old and new addresses of the managed records.
const OLD: &str = "2001:db8::aa";
const A1: &str = "2001:db8::1";
const A2: &str = "2001:db8::2";

/// One row of the matrix.
struct Row {
    /// What is injected, against what.
    fault: &'static str,
    /// Runs the row, reporting every finding to the context.
    run: fn(&mut Ctx),
}

const ROWS: &[Row] = &[
    Row {
        fault: "5xx (DNSPod: 503 on every attempt of the write, then healthy)",
        run: server_errors,
    },
    Row {
        fault: "timeout (BIND behind a relay that loses the UPDATE's reply)",
        run: lost_reply,
    },
    Row {
        fault: "429 + Retry-After 1 s (DNSPod: honoured within the call)",
        run: retry_after_short,
    },
    Row {
        fault: "429 + Retry-After 60 s (DNSPod: provider paused, every record says so)",
        run: retry_after_long,
    },
    Row {
        fault: "malformed body (DNSPod API 3.0: HTML instead of JSON)",
        run: malformed_body,
    },
    Row {
        fault: "truncated body (DNSPod legacy API: JSON cut short)",
        run: truncated_body,
    },
    Row {
        fault: "forged reply (BIND behind a front forging REFUSED, unsigned and bad-MAC)",
        run: forged_replies,
    },
    Row {
        fault: "wrong key (BIND: TSIG secret)",
        run: wrong_tsig_secret,
    },
    Row {
        fault: "wrong key (DNSPod: SecretKey)",
        run: wrong_api_key,
    },
    Row {
        fault: "clock skew (DNSPod's clock 1 h ahead)",
        run: clock_skew,
    },
    Row {
        fault: "server down then up (daemon; BIND behind a relay whose port is closed)",
        run: server_down_then_up,
    },
    Row {
        fault:
            "kill -9 during state saves (run --once publishing 12 records, killed again and again)",
        run: kill_during_saves,
    },
    Row {
        fault: "disk full (state directory on a small tmpfs, filled up)",
        run: disk_full,
    },
    Row {
        fault: "read-only state directory (tmpfs remounted read-only)",
        run: read_only_state_dir,
    },
    Row {
        fault: "record deleted behind our back (daemon; verify pass repairs it)",
        run: deleted_behind_our_back,
    },
    Row {
        fault: "netlink overrun (daemon in a namespace, flood while stopped)",
        run: netlink_overrun,
    },
    Row {
        fault: "corrupt state file (moved aside once, records right)",
        run: corrupt_state_file,
    },
    Row {
        fault: "state file of a newer ddnsd (refused, left as it is)",
        run: newer_state_file,
    },
    Row {
        fault: "runaway command source (prints without end; capped, killed)",
        run: runaway_command,
    },
    Row {
        fault: "config path naming a device (-c /dev/zero: capped, exit 2)",
        run: config_is_a_device,
    },
    Row {
        fault: "config error next to an inline secret (exit 2, nothing called)",
        run: config_error,
    },
];

#[test]
fn fault_matrix() {
    let only = std::env::var("FAULTS_ONLY").ok();
    let mut tally = Tally::default();
    for row in ROWS {
        if only.as_deref().is_some_and(|o| !row.fault.contains(o)) {
            continue;
        }
        let started = Instant::now();
        let mut ctx = Ctx::new();
        let run = row.run;
        if let Err(p) = std::panic::catch_unwind(AssertUnwindSafe(|| run(&mut ctx))) {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            ctx.fail(Issue::Other, format!("the row itself panicked: {msg}"));
        }
        eprintln!(
            "faults: {:<75} {} finding(s), {} ms",
            row.fault,
            ctx.issues.len(),
            started.elapsed().as_millis()
        );
        tally.add(row.fault, ctx.issues);
    }
    let line = tally.line();
    println!("{line}");
    assert!(tally.clean(), "{line}\n{}", tally.details());
}

// ---------------------------------------------------------------------------------------------
// The rows.

fn server_errors(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    e.seed("home", OLD);
    let before = e.foreign();
    let cfg = ctx.config(&e.provider(), &["home.example.com"], &[A1], "");
    // Three attempts within the call, all answered 503: the write fails, transiently.
    for _ in 0..3 {
        e.emu.inject_on(Target::Writes, Fault::Status(503));
    }
    let out = ctx.once(&cfg, MARKER, 1);
    ctx.check(
        out.stdout
            == format!(
                "home.example.com AAAA {A1}  failed: ModifyRecord: server error (http 503)\n"
            ),
        format!("failure line: {:?}", out.stdout),
    );
    ctx.served("after the 503s", e.values("home"), &[OLD]);
    ctx.state_parses();
    let out = ctx.once(&cfg, MARKER, 0);
    ctx.check(out.stdout.ends_with("  created\n"), out.stdout.clone());
    ctx.served("once healthy", e.values("home"), &[A1]);
    ctx.foreign(&before, &e.foreign());
    ctx.state_has("home.example.com", &[A1]);
}

fn lost_reply(ctx: &mut Ctx) {
    let b = Bind::start();
    let before = b.foreign();
    let mut relay = Relay::new(b.server.addr());
    relay.up();
    relay.lose_replies(true);
    let provider = b.provider(relay.addr(), "1s");
    let cfg = ctx.config(&provider, &["host.example.test"], &[A1], "");
    let serial = b.server.soa_serial();
    let out = ctx.once(&cfg, &b64(MARKER), 1);
    ctx.check(
        out.stdout
            .contains("failed: could not confirm update of host.example.test AAAA"),
        format!("unconfirmed line: {:?}", out.stdout),
    );
    // The UPDATE reached BIND: the record is right although ddnsd could not know.
    ctx.served("after the lost reply", b.aaaa("host.example.test"), &[A1]);
    let state = ctx.state_parses();
    ctx.check(
        state
            .as_ref()
            .is_some_and(|s| s.records.values().all(|e| e.unconfirmed)),
        format!("the state marks the write unconfirmed: {state:?}"),
    );
    // The next run reads the live record, finds it right and writes nothing.
    relay.lose_replies(false);
    let serial_after = b.server.soa_serial();
    ctx.check(serial_after > serial, "the lost UPDATE was applied".into());
    let out = ctx.once(&cfg, &b64(MARKER), 0);
    ctx.check(
        out.stdout == format!("host.example.test AAAA {A1}  unchanged\n"),
        format!("read back: {:?}", out.stdout),
    );
    ctx.check(
        b.server.soa_serial() == serial_after,
        "no second UPDATE after the read-back".into(),
    );
    ctx.foreign(&before, &b.foreign());
    ctx.state_has("host.example.test", &[A1]);
}

fn retry_after_short(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    let before = e.foreign();
    let cfg = ctx.config(&e.provider(), &["home.example.com"], &[A1], "");
    e.emu.inject_on(Target::Writes, Fault::TooManyRequests(1));
    let t0 = Instant::now();
    let out = ctx.once(&cfg, MARKER, 0);
    let took = t0.elapsed();
    ctx.check(out.stdout.ends_with("  created\n"), out.stdout.clone());
    ctx.served("after the retry", e.values("home"), &[A1]);
    let st = e.emu.state();
    ctx.check(
        st.count("CreateRecord") == 2 && st.faulted == ["CreateRecord"],
        format!("one 429, one retry: {:?} {:?}", st.calls, st.faulted),
    );
    ctx.check(
        took >= Duration::from_secs(1),
        format!("the retry waited for Retry-After (the run took {took:?})"),
    );
    drop(st);
    ctx.foreign(&before, &e.foreign());
    ctx.state_has("home.example.com", &[A1]);
}

fn retry_after_long(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    let before = e.foreign();
    let names = ["home.example.com", "second.example.com"];
    let cfg = ctx.config(&e.provider(), &names, &[A1], "");
    e.emu.inject_on(Target::Writes, Fault::TooManyRequests(60));
    let out = ctx.once(&cfg, MARKER, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    ctx.check(
        lines.len() == 2
            && lines[0]
                == format!(
                    "home.example.com AAAA {A1}  failed: CreateRecord: rate limited (http 429)"
                )
            && lines[1].starts_with(&format!(
                "second.example.com AAAA {A1}  failed: provider p paused until "
            ))
            && lines[1].ends_with(" (CreateRecord: rate limited (http 429))"),
        format!("every record says why: {:?}", out.stdout),
    );
    ctx.check(
        e.emu.state().count("CreateRecord") == 1,
        "a Retry-After beyond the retry cap is not retried within the call".into(),
    );
    ctx.served("while rate limited", e.values("home"), &[]);
    ctx.served("while rate limited", e.values("second"), &[]);
    ctx.state_parses();
    let out = ctx.once(&cfg, MARKER, 0);
    ctx.check(out.stdout.matches("  created\n").count() == 2, out.stdout);
    ctx.served("after the pause", e.values("home"), &[A1]);
    ctx.served("after the pause", e.values("second"), &[A1]);
    ctx.foreign(&before, &e.foreign());
    ctx.state_has("second.example.com", &[A1]);
}

fn malformed_body(ctx: &mut Ctx) {
    bad_body(ctx, Api::V3, Fault::Malformed);
}

fn truncated_body(ctx: &mut Ctx) {
    bad_body(ctx, Api::Legacy, Fault::Truncated);
}

/// The first read answers `fault`: a protocol error, not retried, the record untouched; the
/// next run publishes.
fn bad_body(ctx: &mut Ctx, api: Api, fault: Fault) {
    let e = Emu::start(api);
    e.seed("home", OLD);
    let before = e.foreign();
    let cfg = ctx.config(&e.provider(), &["home.example.com"], &[A1], "");
    e.emu.inject_on(Target::Reads, fault);
    let out = ctx.once(&cfg, MARKER, 1);
    let first = e.emu.state().faulted.clone();
    ctx.check(
        first.len() == 1
            && out.stdout.starts_with(&format!(
                "home.example.com AAAA {A1}  failed: {}: the reply is not valid json (",
                first[0]
            )),
        format!("protocol error line: {:?} (faulted {first:?})", out.stdout),
    );
    ctx.served("after the bad body", e.values("home"), &[OLD]);
    ctx.state_parses();
    let out = ctx.once(&cfg, MARKER, 0);
    ctx.check(out.stdout.ends_with("  created\n"), out.stdout);
    ctx.served("next run", e.values("home"), &[A1]);
    ctx.foreign(&before, &e.foreign());
    ctx.state_has("home.example.com", &[A1]);
}

/// A front injects a forged REFUSED before BIND's real reply to every message: unsigned,
/// then signed with another secret under the right key name. ddnsd must ignore both and act
/// on the real, signed reply.
fn forged_replies(ctx: &mut Ctx) {
    let b = Bind::start();
    let before = b.foreign();
    for (forge, addr, line) in [
        (Forge::UnsignedRefused, A1, "created"),
        (Forge::BadMac, A2, "updated (was 2001:db8::1)"),
    ] {
        let front = DnsFront::start(Some(b.server.addr()), forge);
        let cfg = ctx.config(
            &b.provider(front.addr(), "2s"),
            &["host.example.test"],
            &[addr],
            "",
        );
        let out = ctx.once(&cfg, &b64(MARKER), 0);
        ctx.check(
            out.stdout == format!("host.example.test AAAA {addr}  {line}\n"),
            format!("{forge:?}: {:?}", out.stdout),
        );
        ctx.check(
            front.forged() > 0 && front.updates() > 0,
            format!("{forge:?}: the front forged nothing"),
        );
        ctx.served(&format!("{forge:?}"), b.aaaa("host.example.test"), &[addr]);
    }
    ctx.foreign(&before, &b.foreign());
    ctx.state_has("host.example.test", &[A2]);
}

fn wrong_tsig_secret(ctx: &mut Ctx) {
    let b = Bind::start();
    let before = b.foreign();
    let serial = b.server.soa_serial();
    let cfg = ctx.config(
        &b.provider(b.server.addr(), "2s"),
        &["host.example.test"],
        &[A1],
        "",
    );
    let out = ctx.once(&cfg, &b64(WRONG), 1);
    ctx.check(
        out.stdout.contains("failed: ") && out.stdout.contains("(NOTAUTH, BADSIG)"),
        format!("badsig line: {:?}", out.stdout),
    );
    ctx.check(
        out.stderr.contains("  hint: wrong secret: tsig_secret"),
        format!("hint: {:?}", out.stderr),
    );
    ctx.served("with the wrong key", b.aaaa("host.example.test"), &[]);
    ctx.check(b.server.soa_serial() == serial, "zone unchanged".into());
    ctx.state_parses();
    // The right key publishes.
    ctx.once(&cfg, &b64(MARKER), 0);
    ctx.served("with the right key", b.aaaa("host.example.test"), &[A1]);
    ctx.foreign(&before, &b.foreign());
    ctx.state_has("host.example.test", &[A1]);
}

fn wrong_api_key(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    e.seed("home", OLD);
    let before = e.foreign();
    let cfg = ctx.config(&e.provider(), &["home.example.com"], &[A1], "");
    let out = ctx.once(&cfg, WRONG, 1);
    ctx.check(
        out.stdout
            .contains("failed: DescribeDomainList failed: AuthFailure.SignatureFailure"),
        format!("auth line: {:?}", out.stdout),
    );
    let calls = e.emu.state().calls.clone();
    ctx.check(
        calls.values().sum::<u32>() == 1,
        format!("credentials rejected once, not retried: {calls:?}"),
    );
    ctx.served("with the wrong key", e.values("home"), &[OLD]);
    ctx.state_parses();
    ctx.once(&cfg, MARKER, 0);
    ctx.served("with the right key", e.values("home"), &[A1]);
    ctx.foreign(&before, &e.foreign());
    ctx.state_has("home.example.com", &[A1]);
}

fn clock_skew(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    e.seed("home", OLD);
    let before = e.foreign();
    e.emu.state().clock_offset = 3600;
    let cfg = ctx.config(&e.provider(), &["home.example.com"], &[A1], "");
    let out = ctx.once(&cfg, MARKER, 1);
    ctx.check(
        out.stdout
            .contains("the provider rejected the request time as expired"),
        format!("skew line: {:?}", out.stdout),
    );
    // The measured offset, from the emulator's Date header (a second either way).
    ctx.check(
        ["59m59s", "1h0m0s", "1h0m1s"].iter().any(|d| {
            out.stderr.contains(&format!(
                "this machine's clock is {d} behind the provider's"
            ))
        }),
        format!("skew hint: {:?}", out.stderr),
    );
    ctx.served("while skewed", e.values("home"), &[OLD]);
    ctx.state_parses();
    e.emu.state().clock_offset = 0;
    ctx.once(&cfg, MARKER, 0);
    ctx.served("clocks agree", e.values("home"), &[A1]);
    ctx.foreign(&before, &e.foreign());
    ctx.state_has("home.example.com", &[A1]);
}

fn server_down_then_up(ctx: &mut Ctx) {
    let b = Bind::start();
    let before = b.foreign();
    // The relay's port stays closed until the daemon has failed at least once.
    let mut relay = Relay::new(b.server.addr());
    let cfg = ctx.config(
        &b.provider(relay.addr(), "1s"),
        &["host.example.test"],
        &[A1],
        "",
    );
    let mut d = Daemon::spawn(ctx, &cfg, &b64(MARKER));
    let failed = wait_for(Duration::from_secs(10), || {
        d.log().contains("could not reach")
    });
    ctx.check(
        failed,
        format!("the daemon saw the server down:\n{}", d.log()),
    );
    ctx.served("while down", b.aaaa("host.example.test"), &[]);
    relay.up();
    let back = wait_for(Duration::from_secs(40), || {
        b.aaaa("host.example.test") == [A1]
    });
    if !back {
        ctx.fail(
            Issue::Lost,
            format!(
                "not published within 40 s of the server coming back:\n{}",
                d.log()
            ),
        );
    }
    d.stop(ctx);
    ctx.foreign(&before, &b.foreign());
    ctx.state_has("host.example.test", &[A1]);
}

/// `run --once` publishing 12 records, killed with SIGKILL again and again: half of the runs
/// at a random moment of the pass, half the instant the state's temp file appears (so the kill
/// lands inside the save: while writing, syncing or renaming).
fn kill_during_saves(ctx: &mut Ctx) {
    // `FAULTS_KILL_RUNS` makes a longer soak (docs/design/testing.md).
    let runs: usize = std::env::var("FAULTS_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let e = Emu::start(Api::V3);
    let before = e.foreign();
    let names: Vec<String> = (0..12).map(|i| format!("h{i}.example.com")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let final_cfg = ctx.config_named("final.toml", &e.provider(), &names, &[A1], "");
    let dir = ctx.state_file().parent().unwrap().to_path_buf();
    ctx.once(&final_cfg, MARKER, 0);
    // Every run publishes a new address, so every run writes all records and saves.
    let configs: Vec<PathBuf> = (0..=runs)
        .map(|i| {
            let addr = format!("2001:db8::{:x}", 0x100 + i);
            ctx.config_named(&format!("{i}.toml"), &e.provider(), &names, &[&addr], "")
        })
        .collect();
    // How long such a run takes, unkilled.
    let t0 = Instant::now();
    ctx.once(&configs[runs], MARKER, 0);
    let full = t0.elapsed();
    let (mut killed, mut in_save, mut before_rename, mut finished) = (0, 0, 0, 0);
    for (i, config) in configs.iter().take(runs).enumerate() {
        let mut child = Proc::spawn(
            ctx,
            ctx.cmd(&["run", "--once", "-c", path_str(config)], MARKER),
        );
        let temp = dir.join(format!(".state.json.tmp.{}", child.child.id()));
        if i % 2 == 0 {
            std::thread::sleep(full.mul_f64(1.1 * rand::random::<f64>()));
            child.kill9();
        } else {
            let start = Instant::now();
            while !child.exited() && start.elapsed() < full * 20 {
                if temp.exists() {
                    child.kill9();
                    in_save += 1;
                    break;
                }
            }
        }
        let out = child.wait();
        if out.signal == Some(9) {
            killed += 1;
            before_rename += usize::from(temp.exists());
        } else {
            finished += 1;
            ctx.exit(&out, 0, "an unkilled run");
        }
        ctx.scan(&format!("run {i}"), &out.stdout);
        ctx.scan(&format!("run {i}"), &out.stderr);
        ctx.check(
            !out.stderr.contains("is not valid"),
            format!("run {i} found a damaged state file: {}", out.stderr),
        );
        ctx.state_parses_allowing_temp();
        ctx.check(
            !dir.join("state.json.corrupt").exists(),
            "a state file was moved aside as corrupt".into(),
        );
    }
    eprintln!(
        "faults: kill -9: {runs} runs of {} records, a whole run {} ms: {killed} killed \
         ({in_save} the instant their temp file appeared; {before_rename} kills left the temp \
         file behind, i.e. landed before the rename), {finished} finished first",
        names.len(),
        full.as_millis()
    );
    ctx.check(in_save > 0, "no kill landed during a save".into());
    // A last, unkilled run: every record right, the state whole, no temp file left over.
    let out = ctx.once(&final_cfg, MARKER, 0);
    ctx.check(!out.stderr.contains("is not valid"), out.stderr.clone());
    for n in &names {
        let host = n.trim_end_matches(".example.com");
        ctx.served(&format!("{n} at the end"), e.values(host), &[A1]);
    }
    let state = ctx.state_parses();
    let right = state.as_ref().is_some_and(|s| {
        s.records.len() == names.len() && s.records.values().all(|e| e.addrs.to_string() == A1)
    });
    ctx.check(right, format!("the final state has every record at {A1}"));
    ctx.foreign(&before, &e.foreign());
}

fn disk_full(ctx: &mut Ctx) {
    let b = Bind::start();
    let before = b.foreign();
    let fs = Tmpfs::mount(&ctx.dir.path().join("state"), "size=256k");
    let state = ctx.state_file();
    let provider = b.provider(b.server.addr(), "2s");
    let names = ["host.example.test", "second.example.test"];
    let cfg1 = ctx.config_named("1.toml", &provider, &names, &[A1], "");
    ctx.once(&cfg1, &b64(MARKER), 0);
    let saved = std::fs::read(&state).unwrap_or_default();
    fs.fill();
    let cfg2 = ctx.config_named("2.toml", &provider, &names, &[A2], "");
    let out = ctx.once(&cfg2, &b64(MARKER), 1);
    ctx.check(
        out.stdout.matches("  updated (was 2001:db8::1)\n").count() == 2,
        format!(
            "published although the state cannot be saved: {:?}",
            out.stdout
        ),
    );
    ctx.check(
        out.stderr.contains(&format!(
            "error: state file {}: No space left on device (os error 28)\n  hint: make sure the directory of",
            state.display()
        )),
        format!("state error: {:?}", out.stderr),
    );
    for n in names {
        ctx.served("with the disk full", b.aaaa(n), &[A2]);
    }
    ctx.check(
        std::fs::read(&state).unwrap_or_default() == saved,
        "the state file is the last one saved".into(),
    );
    ctx.state_parses();
    fs.unfill();
    ctx.once(&cfg2, &b64(MARKER), 0);
    ctx.state_has("second.example.test", &[A2]);
    ctx.foreign(&before, &b.foreign());
}

fn read_only_state_dir(ctx: &mut Ctx) {
    let b = Bind::start();
    let before = b.foreign();
    let fs = Tmpfs::mount(&ctx.dir.path().join("state"), "size=1m");
    let state = ctx.state_file();
    let provider = b.provider(b.server.addr(), "2s");
    let cfg1 = ctx.config_named("1.toml", &provider, &["host.example.test"], &[A1], "");
    ctx.once(&cfg1, &b64(MARKER), 0);
    let saved = std::fs::read(&state).unwrap_or_default();
    fs.remount("ro");
    let cfg2 = ctx.config_named("2.toml", &provider, &["host.example.test"], &[A2], "");
    let out = ctx.once(&cfg2, &b64(MARKER), 1);
    ctx.check(
        out.stdout == format!("host.example.test AAAA {A2}  updated (was {A1})\n"),
        format!(
            "published although the state cannot be saved: {:?}",
            out.stdout
        ),
    );
    ctx.check(
        out.stderr.contains(&format!(
            "error: state file {}: Read-only file system (os error 30)\n  hint: make sure the directory of",
            state.display()
        )),
        format!("state error: {:?}", out.stderr),
    );
    ctx.served("read-only", b.aaaa("host.example.test"), &[A2]);
    ctx.check(
        std::fs::read(&state).unwrap_or_default() == saved,
        "the state file is the last one saved".into(),
    );
    ctx.state_parses();
    fs.remount("rw");
    ctx.once(&cfg2, &b64(MARKER), 0);
    ctx.state_has("host.example.test", &[A2]);
    ctx.foreign(&before, &b.foreign());
}

fn deleted_behind_our_back(ctx: &mut Ctx) {
    let b = Bind::start();
    let before = b.foreign();
    let cfg = ctx.config(
        &b.provider(b.server.addr(), "2s"),
        &["host.example.test"],
        &[A1],
        "verify_interval = \"2s\"\n",
    );
    let mut d = Daemon::spawn(ctx, &cfg, &b64(MARKER));
    let up = wait_for(Duration::from_secs(10), || {
        b.aaaa("host.example.test") == [A1]
    });
    ctx.check(up, format!("published at start-up:\n{}", d.log()));
    // Someone else deletes it, with their own tool.
    b.nsupdate("update delete host.example.test AAAA");
    ctx.check(
        b.aaaa("host.example.test").is_empty(),
        "nsupdate deleted the record".into(),
    );
    let repaired = wait_for(Duration::from_secs(15), || {
        b.aaaa("host.example.test") == [A1]
    });
    if !repaired {
        ctx.fail(
            Issue::Lost,
            format!(
                "the deleted record was not repaired within 15 s:\n{}",
                d.log()
            ),
        );
    }
    d.stop(ctx);
    ctx.foreign(&before, &b.foreign());
    ctx.state_has("host.example.test", &[A1]);
}

/// Add+remove pairs on a link no source watches; 12,000 events overflow even the largest
/// receive buffer the daemon asks for (see daemon_bind.rs, `lost_netlink_events_…`).
const FLOOD_PAIRS: usize = 6000;

fn netlink_overrun(ctx: &mut Ctx) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let ns = Netns::new();
    ns.add6("vt0", "2001:db8:1::1/64", &["nodad"]);
    ns.within(|| {
        let b = Bind::start();
        let before = b.foreign();
        let provider = b.provider(b.server.addr(), "2s");
        let cfg = ctx.config_with_source(
            &provider,
            &["host.example.test"],
            "kind = \"interface\"\ninterface = \"vt0\"\n",
            "debounce = \"300ms\"\n",
        );
        let mut d = Daemon::spawn(ctx, &cfg, &b64(MARKER));
        let up = wait_for(Duration::from_secs(10), || {
            b.aaaa("host.example.test") == ["2001:db8:1::1"]
        });
        ctx.check(up, format!("published at start-up:\n{}", d.log()));
        let pid = Pid::from_raw(d.proc.child.id() as i32);
        kill(pid, Signal::SIGSTOP).unwrap();
        let mut flood = String::new();
        for i in 0..FLOOD_PAIRS {
            flood += &format!("address add 2001:db8:ff::{i:x}/128 dev vt1 nodad\n");
            flood += &format!("address del 2001:db8:ff::{i:x}/128 dev vt1\n");
        }
        let mut prev = "2001:db8:1::1/64".to_owned();
        for i in 1..=100u32 {
            let next = format!("2001:db8:2::{i:x}/64");
            flood += &format!("address add {next} dev vt0 nodad\n");
            flood += &format!("address del {prev} dev vt0\n");
            prev = next;
        }
        ns.batch(&flood);
        kill(pid, Signal::SIGCONT).unwrap();
        let last = wait_for(Duration::from_secs(15), || {
            b.aaaa("host.example.test") == ["2001:db8:2::64"]
        });
        if !last {
            ctx.fail(
                Issue::Lost,
                format!(
                    "the last address was not published after the overrun: {:?}",
                    b.aaaa("host.example.test")
                ),
            );
        }
        ctx.check(
            d.log().contains("netlink events were lost"),
            "the overrun was noticed (and the test caused one)".into(),
        );
        d.stop(ctx);
        ctx.foreign(&before, &b.foreign());
        ctx.state_has("host.example.test", &["2001:db8:2::64"]);
    });
}

fn corrupt_state_file(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    let before = e.foreign();
    let cfg = ctx.config(&e.provider(), &["home.example.com"], &[A1], "");
    let state = ctx.state_file();
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(
        &state,
        "{\"version\": 1, \"records\": {\"home.example.com/AAAA\": {\"prov",
    )
    .unwrap();
    let out = ctx.once(&cfg, MARKER, 0);
    let aside = state.with_extension("json.corrupt");
    ctx.check(
        out.stderr.contains(&format!(
            "warning: state file {} is not valid (EOF while parsing a string at line 1 column 58); moved it to {} and starting afresh\n",
            state.display(),
            aside.display()
        )),
        format!("corrupt warning: {:?}", out.stderr),
    );
    ctx.served("after a corrupt state", e.values("home"), &[A1]);
    ctx.state_has("home.example.com", &[A1]);
    let out = ctx.once(&cfg, MARKER, 0);
    ctx.check(
        out.stdout == format!("home.example.com AAAA {A1}  unchanged\n")
            && !out.stderr.contains("not valid"),
        format!("moved aside exactly once: {out:?}"),
    );
    ctx.check(aside.exists(), "the bad file is kept for the user".into());
    ctx.foreign(&before, &e.foreign());
}

fn newer_state_file(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    let before = e.foreign();
    let cfg = ctx.config(&e.provider(), &["home.example.com"], &[A1], "");
    let state = ctx.state_file();
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    let text = "{\"version\": 9, \"records\": {}, \"from_the_future\": true}\n";
    std::fs::write(&state, text).unwrap();
    let out = ctx.once(&cfg, MARKER, 1);
    ctx.check(
        out.stderr.contains(&format!(
            "error: state file {} was written by a newer ddnsd (format version 9; this one reads up to 1); not touching it\n",
            state.display()
        )),
        format!("newer-state error: {:?}", out.stderr),
    );
    ctx.served("with a newer state file", e.values("home"), &[A1]);
    ctx.check(
        std::fs::read_to_string(&state).unwrap_or_default() == text,
        "the newer file is left as it is".into(),
    );
    ctx.foreign(&before, &e.foreign());
}

fn runaway_command(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    e.seed("home", OLD);
    let before = e.foreign();
    let cfg = ctx.config_with_source(
        &e.provider(),
        &["home.example.com"],
        "kind = \"command\"\ncommand = [\"yes\", \"2001:db8::1\"]\ntimeout = \"60s\"\n",
        "",
    );
    let out = ctx.once(&cfg, MARKER, 1);
    ctx.check(
        out.stdout == "home.example.com AAAA   failed: source fixed failed; record left as it is\n"
            || out
                .stdout
                .contains("failed: source fixed failed; record left as it is"),
        format!("record line: {:?}", out.stdout),
    );
    ctx.check(
        out.stderr.contains(
            "error: source fixed: command yes 2001:db8::1: printed more than 64 KiB on stdout; killed\n",
        ),
        format!("source error: {:?}", out.stderr),
    );
    ctx.check(
        e.emu.state().total_calls() == 0,
        "no provider call without an address".into(),
    );
    ctx.served("after the runaway command", e.values("home"), &[OLD]);
    ctx.state_parses();
    ctx.foreign(&before, &e.foreign());
}

fn config_is_a_device(ctx: &mut Ctx) {
    for args in [
        vec!["check", "-c", "/dev/zero"],
        vec!["run", "--once", "-c", "/dev/zero"],
    ] {
        let out = ctx.finish(ctx.cmd(&args, MARKER), 2, &args.join(" "));
        ctx.check(
            out.stderr.ends_with(
                "error: config file /dev/zero is longer than 4 MiB\n  hint: check the path given with -c or $DDNSD_CONFIG: it names something that is not a config file\n",
            ),
            format!("{}: {:?}", args.join(" "), out.stderr),
        );
    }
}

fn config_error(ctx: &mut Ctx) {
    let e = Emu::start(Api::V3);
    let before = e.foreign();
    let provider = format!(
        "kind = \"tencentcloud\"\nsecret_id = \"{SECRET_ID}\"\nsecret_key = \"{MARKER}\"\nsecret_kye = \"{MARKER}\"\nendpoint = \"{}\"\n",
        e.emu.endpoint()
    );
    let cfg = ctx.config(&provider, &["home.example.com"], &[A1], "");
    for cmd in [vec!["check", "-c"], vec!["run", "--once", "-c"]] {
        let mut args = cmd.clone();
        args.push(path_str(&cfg));
        let out = ctx.finish(ctx.cmd(&args, MARKER), 2, &args.join(" "));
        ctx.check(
            out.stderr.contains(&format!("{}:", cfg.display()))
                && out.stderr.contains("secret_kye"),
            format!("placed diagnostic: {:?}", out.stderr),
        );
    }
    ctx.check(
        e.emu.state().total_calls() == 0,
        "a bad config calls nothing".into(),
    );
    ctx.served("bad config", e.values("home"), &[]);
    ctx.foreign(&before, &e.foreign());
}

// ---------------------------------------------------------------------------------------------
// What every row reports to.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Issue {
    /// A managed record ended neither right nor untouched.
    Lost,
    /// A record ddnsd does not manage changed.
    Foreign,
    /// A secret showed up in an output or the state file.
    Secret,
    /// A panic, or a death by a signal nobody sent.
    Panic,
    /// An exit code other than the documented one.
    Exit,
    /// A state file that does not parse, or a temp file left behind.
    State,
    /// A wrong message or a row that could not run.
    Other,
}

#[derive(Default)]
struct Tally {
    rows: usize,
    counts: BTreeMap<Issue, usize>,
    found: Vec<String>,
}

impl Tally {
    fn add(&mut self, fault: &str, issues: Vec<(Issue, String)>) {
        self.rows += 1;
        for (kind, what) in issues {
            *self.counts.entry(kind).or_default() += 1;
            self.found.push(format!("[{fault}] {kind:?}: {what}"));
        }
    }

    fn count(&self, kind: Issue) -> usize {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    fn line(&self) -> String {
        format!(
            "faults: {} rows, {} lost, {} foreign touched, {} secrets, {} panics, {} wrong exit codes, {} bad state files, {} other",
            self.rows,
            self.count(Issue::Lost),
            self.count(Issue::Foreign),
            self.count(Issue::Secret),
            self.count(Issue::Panic),
            self.count(Issue::Exit),
            self.count(Issue::State),
            self.count(Issue::Other),
        )
    }

    fn clean(&self) -> bool {
        self.counts.values().all(|&n| n == 0)
    }

    fn details(&self) -> String {
        self.found.join("\n")
    }
}

/// One row's temp dir and findings.
struct Ctx {
    dir: tempfile::TempDir,
    issues: Vec<(Issue, String)>,
}

/// What a finished process said.
#[derive(Debug)]
struct Out {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ctx {
    fn new() -> Ctx {
        Ctx {
            dir: tempfile::tempdir().unwrap(),
            issues: Vec::new(),
        }
    }

    fn fail(&mut self, kind: Issue, what: String) {
        self.issues.push((kind, what));
    }

    fn check(&mut self, ok: bool, what: String) {
        if !ok {
            self.fail(Issue::Other, what);
        }
    }

    /// Where every row keeps its state.
    fn state_file(&self) -> PathBuf {
        self.dir.path().join("state/state.json")
    }

    /// A config publishing `names` (AAAA) from a static source of `addrs` through `provider`.
    fn config(&self, provider: &str, names: &[&str], addrs: &[&str], daemon: &str) -> PathBuf {
        self.config_named("ddnsd.toml", provider, names, addrs, daemon)
    }

    fn config_named(
        &self,
        file: &str,
        provider: &str,
        names: &[&str],
        addrs: &[&str],
        daemon: &str,
    ) -> PathBuf {
        let list: Vec<String> = addrs.iter().map(|a| format!("{a:?}")).collect();
        let source = format!("kind = \"static\"\naddresses = [{}]\n", list.join(", "));
        self.write_config(file, provider, names, &source, daemon)
    }

    fn config_with_source(
        &self,
        provider: &str,
        names: &[&str],
        source: &str,
        daemon: &str,
    ) -> PathBuf {
        self.write_config("ddnsd.toml", provider, names, source, daemon)
    }

    fn write_config(
        &self,
        file: &str,
        provider: &str,
        names: &[&str],
        source: &str,
        daemon: &str,
    ) -> PathBuf {
        let mut text = format!(
            "[daemon]\nstate_file = \"{}\"\n{daemon}\n[sources.fixed]\n{source}\n[providers.p]\n{provider}\n",
            self.state_file().display()
        );
        for n in names {
            text += &format!(
                "[[records]]\nname = \"{n}\"\nprovider = \"p\"\nsources = [\"fixed\"]\nttl = 300\n\n"
            );
        }
        let path = self.dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `ddnsd --log-level trace ARGS…` with `secret` in [`SECRET_ENV`].
    fn cmd(&self, args: &[&str], secret: &str) -> Command {
        let mut c = ddnsd();
        c.args(["--log-level", "trace"])
            .args(args)
            .env(SECRET_ENV, secret)
            .current_dir(self.dir.path());
        c
    }

    /// `run --once -c CONFIG`, expecting exit code `want`.
    fn once(&mut self, config: &Path, secret: &str, want: i32) -> Out {
        let c = self.cmd(&["run", "--once", "-c", path_str(config)], secret);
        self.finish(c, want, "run --once")
    }

    /// Runs `c` to its end and checks its outputs and exit code.
    fn finish(&mut self, mut c: Command, want: i32, what: &str) -> Out {
        let o = c.output().unwrap();
        let out = Out {
            code: o.status.code(),
            signal: o.status.signal(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        self.scan(what, &out.stdout);
        self.scan(what, &out.stderr);
        self.exit(&out, want, what);
        out
    }

    /// Checks an exit: no signal, and the code wanted.
    fn exit(&mut self, out: &Out, want: i32, what: &str) {
        if let Some(sig) = out.signal {
            self.fail(
                Issue::Panic,
                format!("{what} died of signal {sig}: {out:?}"),
            );
        } else if out.code != Some(want) {
            self.fail(
                Issue::Exit,
                format!("{what} exited {:?}, not {want}: {out:?}", out.code),
            );
        }
    }

    /// Looks for secrets and panics in an output.
    fn scan(&mut self, what: &str, text: &str) {
        for m in markers() {
            if text.contains(&m) {
                self.fail(Issue::Secret, format!("{what} printed a secret:\n{text}"));
            }
        }
        if text.contains("panicked") {
            self.fail(Issue::Panic, format!("{what} panicked:\n{text}"));
        }
    }

    /// The state file, if there is one: it must parse, hold no secret, and have no temp file
    /// beside it.
    fn state_parses(&mut self) -> Option<State> {
        let dir = self.state_file().parent().unwrap().to_path_buf();
        let left = temp_files(&dir);
        if !left.is_empty() {
            self.fail(Issue::State, format!("temp files left behind: {left:?}"));
        }
        self.state_parses_allowing_temp()
    }

    fn state_parses_allowing_temp(&mut self) -> Option<State> {
        let path = self.state_file();
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.fail(Issue::State, format!("cannot read {}: {e}", path.display()));
                return None;
            }
        };
        let text = String::from_utf8_lossy(&text).into_owned();
        for m in markers() {
            if text.contains(&m) {
                self.fail(
                    Issue::Secret,
                    format!("the state file holds a secret:\n{text}"),
                );
            }
        }
        match State::from_json(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                self.fail(
                    Issue::State,
                    format!("the state file does not parse ({e}):\n{text}"),
                );
                None
            }
        }
    }

    /// The state parses and remembers `name` AAAA as `addrs`.
    fn state_has(&mut self, name: &str, addrs: &[&str]) {
        let state = self.state_parses();
        let got = state
            .as_ref()
            .and_then(|s| s.records.get(&format!("{name}/AAAA")))
            .map(|e| e.addrs.to_string());
        if got.as_deref() != Some(addrs.join(", ").as_str())
            && got.as_deref() != Some(&addrs.join(" "))
        {
            self.fail(
                Issue::State,
                format!("the state remembers {name} AAAA as {got:?}, not {addrs:?}"),
            );
        }
    }

    /// The served values of a managed record, as `want`.
    fn served(&mut self, when: &str, got: Vec<String>, want: &[&str]) {
        let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        if got != want {
            self.fail(
                Issue::Lost,
                format!("{when}: served {got:?}, want {want:?}"),
            );
        }
    }

    /// The foreign records, unchanged.
    fn foreign(&mut self, before: &[String], after: &[String]) {
        if before != after {
            self.fail(
                Issue::Foreign,
                format!("foreign records changed:\nbefore {before:#?}\nafter {after:#?}"),
            );
        }
    }
}

fn markers() -> [String; 4] {
    [MARKER.to_owned(), b64(MARKER), WRONG.to_owned(), b64(WRONG)]
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The state's temp files in `dir` (`.state.json.tmp.PID`).
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".state.json.tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `ok` every 20 ms for up to `limit`.
fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ok()
}

// ---------------------------------------------------------------------------------------------
// Processes.

/// A ddnsd process writing its outputs to files; killed on drop.
struct Proc {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Proc {
    fn spawn(ctx: &Ctx, mut c: Command) -> Proc {
        let n: u64 = rand::random();
        let stdout = ctx.dir.path().join(format!("out.{n:x}"));
        let stderr = ctx.dir.path().join(format!("err.{n:x}"));
        let child = c
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Proc {
            child,
            stdout,
            stderr,
        }
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
    }

    fn wait(&mut self) -> Out {
        let status = self.child.wait().unwrap();
        Out {
            code: status.code(),
            signal: status.signal(),
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ddnsd --log-level trace run -c CONFIG` (the daemon).
struct Daemon {
    proc: Proc,
}

impl Daemon {
    fn spawn(ctx: &Ctx, config: &Path, secret: &str) -> Daemon {
        Daemon {
            proc: Proc::spawn(ctx, ctx.cmd(&["run", "-c", path_str(config)], secret)),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.proc.stderr).unwrap_or_default()
    }

    /// SIGTERM; the daemon must exit 0 within 6 s.
    fn stop(&mut self, ctx: &mut Ctx) {
        use nix::sys::signal::{kill, Signal};
        let pid = nix::unistd::Pid::from_raw(self.proc.child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let gone = wait_for(Duration::from_secs(6), || self.proc.exited());
        if !gone {
            ctx.fail(
                Issue::Other,
                "the daemon did not exit within 6 s of SIGTERM".into(),
            );
        }
        let out = self.proc.wait();
        ctx.scan("the daemon", &out.stdout);
        ctx.scan("the daemon", &out.stderr);
        ctx.exit(&out, 0, "the daemon after SIGTERM");
    }
}

// ---------------------------------------------------------------------------------------------
// BIND.

/// BIND serving `example.test`, updatable with a TSIG key whose secret is [`MARKER`], with
/// foreign names and types seeded next to the managed ones.
struct Bind {
    server: DnsServer,
}

/// Foreign (name, type) pairs seeded in the BIND zone.
const BIND_FOREIGN: &[(&str, DnsType)] = &[
    ("other.example.test", DnsType::A),
    ("host.example.test", DnsType::A),
    ("host.example.test", DnsType::TXT),
    ("foreign.example.test", DnsType::AAAA),
    ("second.example.test", DnsType::A),
];

impl Bind {
    fn start() -> Bind {
        let mut zone = TestZone::example();
        zone.extra
            .push_str("host IN A 192.0.2.1\nforeign IN AAAA 2001:db8::f0\nsecond IN A 192.0.2.2\n");
        let key = TestKey {
            secret_b64: b64(MARKER),
            ..TestKey::default()
        };
        Bind {
            server: BindServer::start(&zone, &key),
        }
    }

    /// The `[providers.p]` body for BIND at `server`.
    fn provider(&self, server: SocketAddr, timeout: &str) -> String {
        format!(
            "kind = \"rfc2136\"\nserver = \"{server}\"\nzone = \"example.test\"\ntsig_name = \"{KEY_NAME}\"\ntsig_algorithm = \"hmac-sha256\"\ntsig_secret_env = \"{SECRET_ENV}\"\ntimeout = \"{timeout}\"\n"
        )
    }

    fn aaaa(&self, name: &str) -> Vec<String> {
        self.server
            .addresses(name, DnsType::AAAA)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn foreign(&self) -> Vec<String> {
        BIND_FOREIGN
            .iter()
            .map(|(name, t)| {
                let values = match t {
                    DnsType::TXT => self.server.txt(name),
                    t => self
                        .server
                        .addresses(name, *t)
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                };
                format!("{name} {t} {values:?}")
            })
            .collect()
    }

    /// Sends `line` as a signed UPDATE with BIND's own `nsupdate`.
    fn nsupdate(&self, line: &str) {
        let a = self.server.addr();
        let mut child = Command::new("nsupdate")
            .args(["-y", &format!("hmac-sha256:{KEY_NAME}:{}", b64(MARKER))])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nsupdate (bind9-dnsutils, installed by scripts/test)");
        let script = format!(
            "server {} {}\nzone example.test\n{line}\nsend\n",
            a.ip(),
            a.port()
        );
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "nsupdate failed: {out:?}");
    }
}

/// A UDP relay in front of a DNS server, on a port of its own: it forwards, loses the
/// server's replies (the request was applied, the answer never came), or is down (its port
/// closed, so the client gets "connection refused") and comes back on the same port.
struct Relay {
    port: u16,
    backend: SocketAddr,
    lose: Arc<AtomicU8>,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Relay {
    /// A relay for `backend`, down until [`Relay::up`].
    fn new(backend: SocketAddr) -> Relay {
        Relay {
            port: free_port(),
            backend,
            lose: Arc::new(AtomicU8::new(0)),
            running: None,
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn lose_replies(&self, lose: bool) {
        self.lose.store(u8::from(lose), Ordering::SeqCst);
    }

    fn up(&mut self) {
        let mut tries = 0;
        let sock = loop {
            match UdpSocket::bind(self.addr()) {
                Ok(s) => break s,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("cannot bind the relay at {}: {e}", self.addr()),
            }
        };
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (s, lose, backend) = (stop.clone(), self.lose.clone(), self.backend);
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 65535];
            while !s.load(Ordering::SeqCst) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(up) = UdpSocket::bind("127.0.0.1:0") else {
                    continue;
                };
                let _ = up.set_read_timeout(Some(Duration::from_secs(2)));
                if up.send_to(&buf[..n], backend).is_err() {
                    continue;
                }
                let mut reply = [0u8; 65535];
                if let Ok(m) = up.recv(&mut reply) {
                    if lose.load(Ordering::SeqCst) == 0 {
                        let _ = sock.send_to(&reply[..m], peer);
                    }
                }
            }
        });
        self.running = Some((stop, thread));
    }

    fn down(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.down();
    }
}

// ---------------------------------------------------------------------------------------------
// The DNSPod emulator.

const ZONE: &str = "example.com";
const SECRET_ID: &str = "AKIDfaults000000000000000000000000";
const TOKEN_ID: &str = "420000";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    /// `kind = "tencentcloud"`.
    V3,
    /// `kind = "dnspod"` (the legacy token API).
    Legacy,
}

/// The emulator with the key [`MARKER`], two domains and foreign records seeded.
struct Emu {
    emu: DnspodEmu,
    api: Api,
}

impl Emu {
    fn start(api: Api) -> Emu {
        let emu = DnspodEmu::start();
        {
            let mut st = emu.state();
            st.keys.insert(SECRET_ID.into(), MARKER.into());
            st.login_tokens.push(format!("{TOKEN_ID},{MARKER}"));
            st.add_domain("example.org");
            st.add_domain(ZONE);
            st.add_record(ZONE, "www", "AAAA", "2001:db8::f1", 600);
            st.add_record(ZONE, "home", "A", "192.0.2.1", 600);
            st.add_record(ZONE, "@", "AAAA", "2001:db8::f2", 600);
            st.add_record(ZONE, "second", "TXT", "keep me", 600);
            st.add_record("example.org", "home", "AAAA", "2001:db8::f3", 600);
        }
        Emu { emu, api }
    }

    /// The `[providers.p]` body.
    fn provider(&self) -> String {
        match self.api {
            Api::V3 => format!(
                "kind = \"tencentcloud\"\nsecret_id = \"{SECRET_ID}\"\nsecret_key_env = \"{SECRET_ENV}\"\nendpoint = \"{}\"\n",
                self.emu.endpoint()
            ),
            Api::Legacy => format!(
                "kind = \"dnspod\"\ntoken_id = \"{TOKEN_ID}\"\ntoken_env = \"{SECRET_ENV}\"\nendpoint = \"{}\"\n",
                self.emu.endpoint()
            ),
        }
    }

    /// A managed record that exists before ddnsd runs.
    fn seed(&self, host: &str, value: &str) {
        self.emu.state().add_record(ZONE, host, "AAAA", value, 600);
    }

    /// The AAAA values of `host` in the zone, sorted.
    fn values(&self, host: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .emu
            .state()
            .rrset(ZONE, host, "AAAA")
            .into_iter()
            .map(|r| r.value)
            .collect();
        v.sort();
        v
    }

    /// Every record ddnsd does not manage (managed: AAAA of a host other than `@` and `www`
    /// in the zone), with its id, so a delete-and-recreate counts as touched.
    fn foreign(&self) -> Vec<String> {
        let st = self.emu.state();
        let mut out = Vec::new();
        for domain in ["example.org", ZONE] {
            for r in st.records(domain) {
                let managed =
                    domain == ZONE && r.rtype == "AAAA" && r.name != "@" && r.name != "www";
                if !managed {
                    out.push(format!("{domain} {r:?}"));
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// A small tmpfs for the state directory.

/// A tmpfs mounted by the test (root), lazily unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, options: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        sh(Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "ddnsd-faults"])
            .arg(dir));
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }

    fn remount(&self, mode: &str) {
        sh(Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.dir));
    }

    /// Fills the file system: a file grows until the device is full.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.dir.join("filler")).unwrap();
        let chunk = [0u8; 4096];
        loop {
            match f.write_all(&chunk) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        let _ = f.sync_all();
    }

    fn unfill(&self) {
        std::fs::remove_file(self.dir.join("filler")).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn sh(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{c:?} failed: {out:?}");
}
