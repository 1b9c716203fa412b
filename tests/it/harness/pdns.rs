//! A real PowerDNS Authoritative server (`pdns_server`, Debian `pdns-server` +
//! `pdns-backend-sqlite3`) on 127.0.0.1: DNS on one free port, the HTTP API on another, a
//! SQLite database made from the package's schema in a temp dir, zone and records created
//! with `pdnsutil` before start. Started in the foreground, killed on drop. It never calls out
//! (`security-poll-suffix=` empty). Optionally accepts DNS UPDATE signed with a TSIG key
//! (`dnsupdate=yes`, the key imported with pdnsutil and allowed by `TSIG-ALLOW-DNSUPDATE`).

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use tempfile::TempDir;

use super::dns::{udp_query, TestKey};
use super::free_port;

/// Where Debian's pdns-backend-sqlite3 puts its schema.
const SCHEMA: &str = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql";

/// What to serve.
#[derive(Clone, Debug)]
pub struct PdnsConfig {
    /// The zone apex, e.g. `example.test`.
    pub zone: String,
    /// Records: (relative name or `@`, type, ttl, content as pdnsutil takes it).
    pub records: Vec<(String, String, u32, String)>,
    /// The API key (`api-key`).
    pub api_key: String,
    /// Accept DNS UPDATE for the zone signed with this key.
    pub update_key: Option<TestKey>,
}

/// A running pdns_server; killed on drop.
pub struct PdnsServer {
    dns: SocketAddr,
    api: SocketAddr,
    zone: String,
    child: Child,
    log: PathBuf,
    // Dropped after the child is killed (field order).
    _dir: TempDir,
}

impl PdnsServer {
    /// Creates the database and zone, then starts the server and waits until it serves the
    /// zone's SOA and its API answers.
    pub fn start(cfg: &PdnsConfig) -> PdnsServer {
        let pdns_server = find("pdns_server");
        let pdnsutil = find("pdnsutil");
        let dir = tempfile::tempdir().expect("temp dir for pdns");
        let d = dir.path();
        let db = d.join("pdns.sqlite3");
        let schema = fs::read_to_string(SCHEMA).unwrap_or_else(|e| {
            panic!(
                "{SCHEMA}: {e}: run the project's test script, which installs pdns-backend-sqlite3"
            )
        });
        let st = Command::new(find("sqlite3"))
            .arg(&db)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write as _;
                c.stdin
                    .take()
                    .expect("stdin")
                    .write_all(schema.as_bytes())?;
                c.wait()
            })
            .expect("run sqlite3");
        assert!(st.success(), "sqlite3 could not create the pdns database");
        let (dns_port, api_port) = (free_port(), free_port());
        let conf = format!(
            "launch=gsqlite3\ngsqlite3-database={db}\nlocal-address=127.0.0.1\nlocal-port={dns_port}\n\
             socket-dir={d}\ndaemon=no\nguardian=no\ndisable-syslog=yes\nwrite-pid=no\n\
             security-poll-suffix=\ncache-ttl=0\nnegquery-cache-ttl=0\nquery-cache-ttl=0\n\
             api=yes\napi-key={key}\nwebserver=yes\nwebserver-address=127.0.0.1\n\
             webserver-port={api_port}\nwebserver-allow-from=127.0.0.0/8\nloglevel=6\n{update}",
            db = db.display(),
            d = d.display(),
            key = cfg.api_key,
            update = if cfg.update_key.is_some() {
                "dnsupdate=yes\nallow-dnsupdate-from=127.0.0.0/8\n"
            } else {
                ""
            },
        );
        fs::write(d.join("pdns.conf"), conf).unwrap();
        let util = |args: &[&str]| {
            let out = Command::new(&pdnsutil)
                .arg(format!("--config-dir={}", d.display()))
                .args(args)
                .output()
                .expect("run pdnsutil");
            assert!(
                out.status.success(),
                "pdnsutil {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ns = format!("ns1.{}", cfg.zone);
        util(&["create-zone", &cfg.zone, &ns]);
        util(&["add-record", &cfg.zone, "ns1", "A", "600", "127.0.0.1"]);
        for (name, rtype, ttl, content) in &cfg.records {
            util(&[
                "add-record",
                &cfg.zone,
                name,
                rtype,
                &ttl.to_string(),
                content,
            ]);
        }
        if let Some(k) = &cfg.update_key {
            util(&["import-tsig-key", &k.name, &k.algorithm, &k.secret_b64]);
            util(&["set-meta", &cfg.zone, "TSIG-ALLOW-DNSUPDATE", &k.name]);
            util(&["set-meta", &cfg.zone, "SOA-EDIT-DNSUPDATE", "INCREASE"]);
        }
        let log = d.join("pdns.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(pdns_server)
            .arg(format!("--config-dir={}", d.display()))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start pdns_server: {e}"));
        let mut server = PdnsServer {
            dns: SocketAddr::from(([127, 0, 0, 1], dns_port)),
            api: SocketAddr::from(([127, 0, 0, 1], api_port)),
            zone: cfg.zone.clone(),
            child,
            log,
            _dir: dir,
        };
        server.wait_ready(Duration::from_secs(15));
        server
    }

    fn wait_ready(&mut self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "pdns_server exited during start-up ({status}):\n{}",
                    self.log_text()
                );
            }
            let dns_ok = udp_query(
                self.dns,
                &self.zone,
                RecordType::SOA,
                Duration::from_millis(200),
            )
            .is_ok_and(|m| {
                m.metadata.response_code == ResponseCode::NoError && !m.answers.is_empty()
            });
            if dns_ok && TcpStream::connect(self.api).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "pdns_server did not serve {} within {limit:?}:\n{}",
            self.zone,
            self.log_text()
        );
    }

    /// The DNS address (UDP and TCP).
    pub fn dns(&self) -> SocketAddr {
        self.dns
    }

    /// The HTTP API's address.
    pub fn api(&self) -> SocketAddr {
        self.api
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for PdnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(name: &str) -> PathBuf {
    for d in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{name} is not installed: run the project's test script, which installs pdns-server, \
         pdns-backend-sqlite3 and sqlite3; these tests fail rather than skip without it"
    );
}
