//! BIND (`named -g`) and Knot (`knotd`) on 127.0.0.1 and a free port, configured in a temp dir
//! with one zone and one TSIG key, started in the foreground and killed on drop.
//!
//! Start-up waits until the server answers the zone's SOA (BIND dumps core when signalled while
//! still loading). Missing binaries fail the test with a pointer to the test script.

use std::fmt;
use std::fs;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tempfile::TempDir;

use super::free_port;

/// The test key's name.
pub const KEY_NAME: &str = "ddnsd-key";
/// The test key's secret, base64 (= ASCII "secret-key-for-ddnsd-tests-32bytes!").
pub const KEY_SECRET_B64: &str = "c2VjcmV0LWtleS1mb3ItZGRuc2QtdGVzdHMtMzJieXRlcyE=";
/// The test key's secret, decoded.
pub const KEY_SECRET: &[u8] = b"secret-key-for-ddnsd-tests-32bytes!";

/// A TSIG key as the server is configured with it.
#[derive(Clone, Debug)]
pub struct TestKey {
    /// Key name.
    pub name: String,
    /// `hmac-sha256` etc.
    pub algorithm: String,
    /// Base64 secret.
    pub secret_b64: String,
}

impl Default for TestKey {
    fn default() -> Self {
        TestKey {
            name: KEY_NAME.to_owned(),
            algorithm: "hmac-sha256".to_owned(),
            secret_b64: KEY_SECRET_B64.to_owned(),
        }
    }
}

/// The zone a server serves: apex plus extra zone-file lines (relative names).
#[derive(Clone, Debug)]
pub struct TestZone {
    /// Apex without trailing dot, e.g. `example.test`.
    pub apex: String,
    /// Extra zone-file lines after SOA, NS and `ns1 A`.
    pub extra: String,
    /// Relative names the test key may not update (BIND: an update-policy `deny` rule first,
    /// REFUSED; Knot: a `deny` ACL on the owner name first, NOTAUTH/BADKEY — but Knot 3.2
    /// denies only an UPDATE whose owners are ALL listed, so one that also names an allowed
    /// name gets through; use `allow_update` with Knot).
    pub deny_update: Vec<String>,
    /// Knot only: when not empty, the key may update only these relative names (`@` = the
    /// apex); an UPDATE naming any other owner is denied as a whole.
    pub allow_update: Vec<String>,
}

impl TestZone {
    /// `example.test` with `other A 192.0.2.50` and `host TXT "keep me"` pre-seeded, so tests
    /// can check that other names and types are left alone.
    pub fn example() -> TestZone {
        TestZone {
            apex: "example.test".to_owned(),
            extra: "other IN A 192.0.2.50\nhost IN TXT \"keep me\"\n".to_owned(),
            deny_update: Vec::new(),
            allow_update: Vec::new(),
        }
    }

    fn file(&self) -> String {
        format!(
            "$ORIGIN {apex}.\n$TTL 300\n@ IN SOA ns1.{apex}. hostmaster.{apex}. 1 3600 900 604800 300\n  IN NS ns1.{apex}.\nns1 IN A 127.0.0.1\n{extra}",
            apex = self.apex,
            extra = self.extra
        )
    }
}

/// Which server software.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    /// ISC BIND 9 (`named`).
    Bind,
    /// Knot DNS (`knotd`).
    Knot,
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerKind::Bind => "bind",
            ServerKind::Knot => "knot",
        })
    }
}

/// A running authoritative server; killed on drop.
pub struct DnsServer {
    kind: ServerKind,
    addr: SocketAddr,
    zone: TestZone,
    child: Child,
    log: PathBuf,
    // Dropped after the child is killed (field order).
    _dir: TempDir,
}

/// Starts BIND.
pub struct BindServer;

impl BindServer {
    /// Starts `named -g` serving `zone`, updatable with `key`, on a free port.
    pub fn start(zone: &TestZone, key: &TestKey) -> DnsServer {
        // The first matching rule decides (BIND ARM, "update-policy"): the zone's refused
        // names first.
        let deny: String = zone
            .deny_update
            .iter()
            .map(|n| format!("deny {} name {n}.{}. ANY; ", key.name, zone.apex))
            .collect();
        BindServer::start_with_policy(zone, key, &format!("{deny}grant {} zonesub ANY;", key.name))
    }

    /// Like [`BindServer::start`], with `policy` as the zone's `update-policy` rules (e.g.
    /// `grant KEY name allowed.example.test AAAA;` to refuse every other name).
    pub fn start_with_policy(zone: &TestZone, key: &TestKey, policy: &str) -> DnsServer {
        let named = find_binary("named", "bind9");
        let dir = tempfile::tempdir().expect("create a temp dir for named");
        let d = dir.path();
        let port = free_port();
        fs::write(d.join(format!("{}.zone", zone.apex)), zone.file()).unwrap();
        let conf = format!(
            r#"key "{kname}" {{ algorithm {alg}; secret "{secret}"; }};
options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    allow-query {{ any; }};
    notify no;
}};
controls {{ }};
zone "{apex}" {{
    type primary;
    file "{d}/{apex}.zone";
    journal "{d}/{apex}.zone.jnl";
    update-policy {{ {policy} }};
}};
"#,
            kname = key.name,
            alg = key.algorithm,
            secret = key.secret_b64,
            d = d.display(),
            apex = zone.apex,
        );
        let conf_path = d.join("named.conf");
        fs::write(&conf_path, conf).unwrap();
        let mut cmd = Command::new(named);
        cmd.arg("-g")
            .arg("-c")
            .arg(&conf_path)
            .arg("-u")
            .arg("root");
        DnsServer::spawn(ServerKind::Bind, cmd, dir, port, zone)
    }
}

/// Starts Knot.
pub struct KnotServer;

impl KnotServer {
    /// Starts `knotd` (foreground) serving `zone`, updatable with `key`, on a free port.
    pub fn start(zone: &TestZone, key: &TestKey) -> DnsServer {
        let knotd = find_binary("knotd", "knot");
        let dir = tempfile::tempdir().expect("create a temp dir for knotd");
        let d = dir.path();
        let port = free_port();
        // Without its database directory Knot answers every update with SERVFAIL.
        fs::create_dir_all(d.join("db")).unwrap();
        fs::write(d.join(format!("{}.zone", zone.apex)), zone.file()).unwrap();
        let conf = format!(
            r#"server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
log:
  - target: stderr
    any: info
database:
    storage: "{d}/db"
key:
  - id: {kname}
    algorithm: {alg}
    secret: {secret}
acl:
  - id: ddnsd_query
    key: {kname}
    action: query
{deny_acl}  - id: ddnsd_update
    key: {kname}
    action: update
{allow_owners}template:
  - id: default
    storage: "{d}"
    file: "%s.zone"
zone:
  - domain: {apex}
    acl: [ddnsd_query, {deny_ids}ddnsd_update]
"#,
            kname = key.name,
            alg = key.algorithm,
            secret = key.secret_b64,
            d = d.display(),
            apex = zone.apex,
            // ACLs are checked in order; the first that matches decides (Knot 3.2 reference,
            // "acl section"). The key may also query, in a rule of its own before any deny
            // rule (Knot 3.2 applies a key's deny rule to its queries too): ddnsd signs its
            // reads (verify, zone discovery) with the key, and Knot answers a signed query
            // whose key no `query` ACL allows with NOTAUTH/BADKEY.
            deny_acl = zone
                .deny_update
                .iter()
                .enumerate()
                .map(|(i, n)| format!("  - id: deny{i}\n    key: {kname}\n    action: update\n    update-owner: name\n    update-owner-match: equal\n    update-owner-name: [{n}.{apex}.]\n    deny: on\n", kname = key.name, apex = zone.apex))
                .collect::<String>(),
            deny_ids = (0..zone.deny_update.len()).map(|i| format!("deny{i}, ")).collect::<String>(),
            allow_owners = if zone.allow_update.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = zone
                    .allow_update
                    .iter()
                    .map(|n| if n == "@" { format!("{}.", zone.apex) } else { format!("{n}.{}.", zone.apex) })
                    .collect();
                format!("    update-owner: name\n    update-owner-match: equal\n    update-owner-name: [{}]\n", names.join(", "))
            },
        );
        let conf_path = d.join("knot.conf");
        fs::write(&conf_path, conf).unwrap();
        let mut cmd = Command::new(knotd);
        cmd.arg("-c").arg(&conf_path);
        DnsServer::spawn(ServerKind::Knot, cmd, dir, port, zone)
    }
}

impl DnsServer {
    fn spawn(
        kind: ServerKind,
        mut cmd: Command,
        dir: TempDir,
        port: u16,
        zone: &TestZone,
    ) -> DnsServer {
        let log = dir.path().join("server.log");
        let out = fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {kind}: {e}"));
        let mut server = DnsServer {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            zone: zone.clone(),
            child,
            log,
            _dir: dir,
        };
        server.wait_ready(Duration::from_secs(10));
        server
    }

    /// Waits until the zone's SOA is served, or panics with the server's log.
    fn wait_ready(&mut self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited during start-up ({status}):\n{}",
                    self.kind,
                    self.log_text()
                );
            }
            if let Ok(m) = self.try_query(
                &self.zone.apex.clone(),
                RecordType::SOA,
                Duration::from_millis(200),
            ) {
                if m.metadata.response_code == ResponseCode::NoError && !m.answers.is_empty() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} did not serve the SOA of {} within {limit:?}:\n{}",
            self.kind,
            self.zone.apex,
            self.log_text()
        );
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The zone apex.
    pub fn apex(&self) -> &str {
        &self.zone.apex
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The served addresses of (name, A|AAAA), sorted.
    pub fn addresses(&self, name: &str, rtype: RecordType) -> Vec<IpAddr> {
        let m = self.query(name, rtype);
        let mut v: Vec<IpAddr> = m
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) if rtype == RecordType::A => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) if rtype == RecordType::AAAA => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    /// The served values of (name, type) as text, sorted: addresses, TXT strings (joined,
    /// unquoted), NS target names (without the trailing dot).
    pub fn values(&self, name: &str, rtype: RecordType) -> Vec<String> {
        query_values(self.addr, name, rtype)
    }

    /// The served TXT strings of `name`, sorted.
    pub fn txt(&self, name: &str) -> Vec<String> {
        let m = self.query(name, RecordType::TXT);
        let mut v: Vec<String> = m
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(t) => Some(t.to_string()),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    /// The TTLs of (name, type) as served.
    pub fn ttls(&self, name: &str, rtype: RecordType) -> Vec<u32> {
        self.query(name, rtype)
            .answers
            .iter()
            .filter(|r| r.record_type() == rtype)
            .map(|r| r.ttl)
            .collect()
    }

    /// The zone's SOA serial.
    pub fn soa_serial(&self) -> u32 {
        let m = self.query(&self.zone.apex.clone(), RecordType::SOA);
        m.answers
            .iter()
            .find_map(|r| match &r.data {
                RData::SOA(s) => Some(s.serial),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{} served no SOA for {}", self.kind, self.zone.apex))
    }

    /// An unsigned query over UDP; panics on no reply within 2 s.
    pub fn query(&self, name: &str, rtype: RecordType) -> Message {
        self.try_query(name, rtype, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("query {name} {rtype} to {}: {e}", self.kind))
    }

    fn try_query(
        &self,
        name: &str,
        rtype: RecordType,
        timeout: Duration,
    ) -> Result<Message, String> {
        udp_query(self.addr, name, rtype, timeout)
    }
}

/// The values of (name, type) served at `server` (an unsigned UDP query; panics without a
/// reply within 2 s): addresses, TXT strings (joined, unquoted), NS names without the
/// trailing dot; sorted.
pub fn query_values(server: SocketAddr, name: &str, rtype: RecordType) -> Vec<String> {
    let m = udp_query(server, name, rtype, Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("query {name} {rtype} at {server}: {e}"));
    let owner = |n: &Name| {
        n.to_ascii()
            .trim_end_matches('.')
            .eq_ignore_ascii_case(name.trim_end_matches('.'))
    };
    let mut v: Vec<String> = m
        .answers
        .iter()
        // Only the name's own records: a CNAME's target answers too.
        .filter(|r| r.record_type() == rtype && owner(&r.name))
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.to_string()),
            RData::AAAA(a) => Some(a.0.to_string()),
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            ),
            RData::NS(n) => Some(n.0.to_ascii().trim_end_matches('.').to_owned()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// One unsigned query over UDP, waiting `timeout` for the reply with the same ID.
pub fn udp_query(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Message, String> {
    let id: u16 = rand::random();
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    let qname =
        Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).map_err(|e| e.to_string())?;
    msg.add_query(Query::query(qname, rtype));
    let wire = msg.to_vec().map_err(|e| e.to_string())?;
    let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    sock.connect(server).map_err(|e| e.to_string())?;
    sock.send(&wire).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 65535];
    loop {
        let n = sock.recv(&mut buf).map_err(|e| e.to_string())?;
        let reply = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
        if reply.metadata.id == id {
            return Ok(reply);
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        // SIGKILL: the server answered its SOA, so it is past loading; and SIGKILL never dumps
        // core.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of `name` in PATH or the sbin directories, or a panic saying how to install it.
fn find_binary(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(
        ["/usr/sbin", "/usr/local/sbin", "/sbin"]
            .iter()
            .map(PathBuf::from),
    );
    for d in dirs {
        let p = d.join(name);
        if is_executable(&p) {
            return p;
        }
    }
    panic!(
        "{name} is not installed: run the project's test script, which installs it \
         (apt-get install {package}); these tests fail rather than skip without it"
    );
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
