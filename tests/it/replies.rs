//! Property tests of the DNSPod adapters' reply handling (issue 8, fuzzing): a canned HTTP
//! server on 127.0.0.1 answers every request with generated replies — the APIs' own shapes
//! with fields dropped or replaced by arbitrary JSON, error envelopes with arbitrary codes,
//! odd statuses and headers, bodies cut short, and raw bytes that are not HTTP at all — while
//! `tencentcloud` and `dnspod` read and write a record.
//!
//! Whatever the server says: no panic; every call ends (a server cannot keep the adapter
//! paging forever); an address read back is one the server sent; an error message stays
//! within a fixed size plus what it quotes from the replies.

use std::collections::{BTreeSet, VecDeque};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ddnsd::clock::SystemClock;
use ddnsd::http::{Backoff, HttpClient, HttpSettings};
use ddnsd::provider::dnspod::DnspodLegacySettings;
use ddnsd::provider::tencentcloud::TencentCloudSettings;
use ddnsd::provider::{Configured, Provider, ProviderDeps, ProviderHints};
use ddnsd::record::{AddrSet, RecordKey, RecordType, RrSet, Ttl};
use ddnsd::secret::Secret;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

/// What the server sends for one request.
#[derive(Clone, Debug)]
enum Reply {
    /// A well-formed HTTP/1.1 response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// These bytes, then the connection is closed.
    Raw(Vec<u8>),
}

impl Reply {
    fn body(&self) -> &[u8] {
        match self {
            Reply::Http { body, .. } | Reply::Raw(body) => body,
        }
    }
}

/// Answers each request with the next scripted reply; the last one is repeated for as long
/// as the client keeps asking (a server stuck on one answer).
struct Canned {
    addr: SocketAddr,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Canned {
    fn start() -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let script: Arc<Mutex<VecDeque<Reply>>> = Arc::default();
        let s = script.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Canned { addr, script }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn load(&self, replies: &[Reply]) {
        *self.script.lock().unwrap() = replies.iter().cloned().collect();
    }
}

fn serve(mut conn: TcpStream, script: &Mutex<VecDeque<Reply>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    loop {
        // One request: the head, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + len);
        let reply = {
            let mut s = script.lock().unwrap();
            if s.len() > 1 {
                s.pop_front()
            } else {
                s.front().cloned()
            }
        };
        let Some(reply) = reply else { return };
        match reply {
            Reply::Raw(bytes) => {
                let _ = conn.write_all(&bytes);
                return;
            }
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (n, v) in headers {
                    out += &format!("{n}: {v}\r\n");
                }
                out += "\r\n";
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body);
                if conn.write_all(&bytes).is_err() {
                    return;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generators.

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        prop::sample::select(ADDRS).prop_map(|a| json!(a)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const ADDRS: &[&str] = &[
    "2001:db8::1",
    "2001:db8::2",
    "2001:DB8:0::3",
    "203.0.113.7",
    "::",
    "0.0.0.0",
    "fe80::1%eth0",
    "2001:db8::1 ",
    "not an address",
];

/// The API's own value for a field (most of the time), or arbitrary JSON, or nothing.
fn field(good: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => good.prop_map(Some),
        1 => any_json().prop_map(Some),
        1 => Just(None),
    ]
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    let mut m = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    }
    Value::Object(m)
}

fn name() -> impl Strategy<Value = Value> {
    prop::sample::select(&["home", "@", "www", "HOME", ""][..]).prop_map(|s| json!(s))
}

fn rtype() -> impl Strategy<Value = Value> {
    prop::sample::select(&["AAAA", "A", "TXT", "aaaa"][..]).prop_map(|s| json!(s))
}

fn line() -> impl Strategy<Value = Value> {
    prop::sample::select(&["默认", "default", "电信"][..]).prop_map(|s| json!(s))
}

fn total() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..5).prop_map(|n| json!(n)),
        Just(json!(1_000_000_000_000u64)),
        Just(json!(u64::MAX)),
    ]
}

/// API 3.0 error codes: documented permanent ones, throttling, auth, and unknown ones.
const V3_CODES: &[&str] = &[
    "AuthFailure.SignatureFailure",
    "AuthFailure.SignatureExpire",
    "AuthFailure.UnauthorizedOperation",
    "RequestLimitExceeded",
    "FailedOperation.FrequencyLimit",
    "InternalError",
    "InternalError.DbError",
    "ResourceNotFound.NoDataOfRecord",
    "InvalidParameter.RecordIdInvalid",
    "InvalidParameterValue.DomainNotExists",
    "LimitExceeded.RecordTtlLimit",
    "",
];

fn v3_record() -> impl Strategy<Value = Value> {
    (
        field(prop_oneof![
            (0u64..5000).prop_map(|n| json!(n)),
            Just(json!("77"))
        ]),
        field(prop::sample::select(ADDRS).prop_map(|a| json!(a))),
        field(name()),
        field(rtype()),
        field(line()),
        field(prop_oneof![
            Just(json!(600)),
            Just(json!(300)),
            Just(json!(1u64 << 40))
        ]),
    )
        .prop_map(|(id, value, name, rtype, line, ttl)| {
            object(vec![
                ("RecordId", id),
                ("Value", value),
                ("Name", name),
                ("Type", rtype),
                ("Line", line),
                ("TTL", ttl),
                ("Status", Some(json!("ENABLE"))),
            ])
        })
}

fn v3_body() -> impl Strategy<Value = Value> {
    let list = (
        field(prop::collection::vec(v3_record(), 0..4).prop_map(Value::Array)),
        field(total().prop_map(|t| json!({ "TotalCount": t }))),
    )
        .prop_map(|(list, count)| {
            object(vec![
                ("RecordList", list),
                ("RecordCountInfo", count),
                ("RequestId", Some(json!("r"))),
            ])
        });
    let error = (prop::sample::select(V3_CODES), any::<String>())
        .prop_map(|(c, m)| json!({"Error": {"Code": c, "Message": m}, "RequestId": "r"}));
    let write = field(prop_oneof![
        (0u64..5000).prop_map(|n| json!(n)),
        Just(json!("9"))
    ])
    .prop_map(|id| object(vec![("RecordId", id), ("RequestId", Some(json!("r")))]));
    prop_oneof![
        4 => list.prop_map(|r| json!({ "Response": r })),
        2 => error.prop_map(|r| json!({ "Response": r })),
        2 => write.prop_map(|r| json!({ "Response": r })),
        1 => any_json(),
    ]
}

/// Legacy status codes: success, "no records", login failure, throttling, unknown.
const LEGACY_CODES: &[&str] = &["1", "1", "10", "-1", "-2", "6", "8", "104", "22", "x", ""];

fn legacy_record() -> impl Strategy<Value = Value> {
    (
        field(prop_oneof![
            Just(json!("77")),
            (0u64..5000).prop_map(|n| json!(n))
        ]),
        field(prop::sample::select(ADDRS).prop_map(|a| json!(a))),
        field(name()),
        field(rtype()),
        field(line()),
        field(prop_oneof![
            Just(json!("600")),
            Just(json!(600)),
            Just(json!("-1"))
        ]),
    )
        .prop_map(|(id, value, name, rtype, line, ttl)| {
            object(vec![
                ("id", id),
                ("value", value),
                ("name", name),
                ("type", rtype),
                ("line", line),
                ("ttl", ttl),
            ])
        })
}

fn legacy_body() -> impl Strategy<Value = Value> {
    (
        field(
            (prop::sample::select(LEGACY_CODES), any::<String>())
                .prop_map(|(c, m)| json!({"code": c, "message": m})),
        ),
        field(prop::collection::vec(legacy_record(), 0..4).prop_map(Value::Array)),
        field(total().prop_map(|t| json!({ "record_total": t }))),
        field(Just(json!({"id": "9"}))),
    )
        .prop_map(|(status, records, info, record)| {
            object(vec![
                ("status", status),
                ("records", records),
                ("info", info),
                ("record", record),
            ])
        })
}

/// A reply around a generated body: mostly 200 with JSON, sometimes another status, odd
/// headers, a body cut short or with a byte changed, or raw bytes.
fn reply(body: impl Strategy<Value = Value>) -> impl Strategy<Value = Reply> {
    let headers = prop::collection::vec(
        prop_oneof![
            Just(("Retry-After".to_owned(), "1".to_owned())),
            Just(("Retry-After".to_owned(), "99999999999999999999".to_owned())),
            Just((
                "Date".to_owned(),
                "Wed, 21 Oct 2015 07:28:00 GMT".to_owned()
            )),
            Just(("Date".to_owned(), "yesterday".to_owned())),
            Just(("Content-Type".to_owned(), "text/html".to_owned())),
        ],
        0..3,
    );
    let damage = prop_oneof![
        6 => Just(None),
        1 => any::<prop::sample::Index>().prop_map(|i| Some((i, None))),
        1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Some((i, Some(b)))),
    ];
    let http = (
        prop_oneof![8 => Just(200u16), 1 => Just(429u16), 1 => Just(503u16), 1 => 100u16..600],
        headers,
        body,
        damage,
    )
        .prop_map(|(status, headers, body, damage)| {
            let mut body = serde_json::to_vec(&body).unwrap();
            match damage {
                Some((at, None)) => body.truncate(at.index(body.len() + 1)),
                Some((at, Some(b))) if !body.is_empty() => {
                    let i = at.index(body.len());
                    body[i] = b;
                }
                _ => {}
            }
            Reply::Http {
                status,
                headers,
                body,
            }
        });
    prop_oneof![
        12 => http,
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Reply::Raw),
    ]
}

// ---------------------------------------------------------------------------------------------
// The properties.

#[derive(Clone, Copy, Debug)]
enum Api {
    V3,
    Legacy,
}

fn provider(api: Api, server: &Canned) -> Arc<dyn Provider> {
    let deps = ProviderDeps {
        clock: Arc::new(SystemClock),
        http: HttpClient::new(&HttpSettings {
            connect_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(2),
            ..HttpSettings::default()
        }),
        // One attempt: a scripted reply is not retried into the next one.
        backoff: Backoff {
            attempts: 1,
            base: Duration::from_millis(1),
            max: Duration::from_millis(1),
        },
        timeout: Duration::from_secs(2),
    };
    let settings: Arc<dyn Configured> = match api {
        Api::V3 => Arc::new(TencentCloudSettings {
            secret_id: "AKIDfuzz".into(),
            secret_key: Secret::new("k".into()),
            zone: Some("example.com".parse().unwrap()),
            record_line: None,
            endpoint: server.endpoint(),
            region: None,
        }),
        Api::Legacy => Arc::new(DnspodLegacySettings {
            login_token: Secret::new("1,t".into()),
            zone: Some("example.com".parse().unwrap()),
            record_line: None,
            endpoint: server.endpoint(),
        }),
    };
    settings.build("fuzz", &deps)
}

/// Every address written anywhere in `bytes` (runs of hex digits, `:` and `.`).
fn addresses_in(bytes: &[u8]) -> BTreeSet<IpAddr> {
    let text = String::from_utf8_lossy(bytes);
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == ':' || c == '.'))
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Most bytes an error message adds to what it quotes from the replies.
const MESSAGE_OWN: usize = 512;

/// Runs `cases` scripts of up to four replies through `api`'s read and write.
fn fuzz(api: Api, body: impl Strategy<Value = Value> + 'static, cases: u32) {
    let server = Canned::start();
    let p = provider(api, &server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default()
    } else {
        Config {
            cases,
            ..Config::default()
        }
    };
    let script = (
        prop::collection::vec(reply(body), 1..5),
        any::<bool>(),
        prop::sample::subsequence(&["2001:db8::1", "2001:db8::2"][..], 1..=2),
    );
    let mut runner = TestRunner::new(config);
    runner
        .run(&script, |(replies, write, want)| {
            server.load(&replies);
            let served: usize = replies.iter().map(|r| r.body().len()).sum();
            let mut sent = BTreeSet::new();
            for r in &replies {
                sent.extend(addresses_in(r.body()));
            }
            let key = RecordKey {
                name: "home.example.com".parse().unwrap(),
                rtype: RecordType::Aaaa,
            };
            let result = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(20), async {
                    if write {
                        let desired = RrSet {
                            name: key.name.clone(),
                            rtype: key.rtype,
                            ttl: Ttl(600),
                            addrs: want.iter().map(|a| a.parse().unwrap()).collect::<AddrSet>(),
                        };
                        p.apply_rrset(&desired, &ProviderHints::default())
                            .await
                            .map(|_| AddrSet::new())
                    } else {
                        p.read_rrset(&key, &ProviderHints::default())
                            .await
                            .map(|live| live.addrs)
                    }
                })
                .await
            });
            let Ok(result) = result else {
                return Err(TestCaseError::fail(
                    "the call did not end within 20 s: the server kept it going",
                ));
            };
            match result {
                Ok(addrs) => {
                    for a in &addrs {
                        prop_assert!(sent.contains(a), "{a} was never sent");
                    }
                }
                Err(e) => {
                    let bound = MESSAGE_OWN + 6 * served;
                    prop_assert!(
                        e.message.len() <= bound,
                        "{} bytes of message for {served} bytes of replies: {}",
                        e.message.len(),
                        e.message
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn tencentcloud_survives_any_reply() {
    fuzz(Api::V3, v3_body(), 300);
}

#[test]
fn dnspod_legacy_survives_any_reply() {
    fuzz(Api::Legacy, legacy_body(), 300);
}

/// See: issue 8 (bounded input). A server that answers every page with more records and a
/// total it never reaches (or ignores the offset) must not keep the adapter paging forever:
/// each reply is capped, so their number must be too.
#[test]
fn endless_pages_end() {
    let page_v3 = json!({"Response": {
        "RecordCountInfo": {"TotalCount": 1_000_000_000_000u64},
        "RecordList": [{"RecordId": 1, "Value": "2001:db8::1", "Name": "home", "Type": "AAAA",
                        "Line": "默认", "TTL": 600}],
        "RequestId": "r"}});
    let page_legacy = json!({"status": {"code": "1", "message": "ok"},
        "info": {"record_total": "1000000000000"},
        "records": [{"id": "1", "value": "2001:db8::1", "name": "home", "type": "AAAA",
                     "line": "默认", "ttl": "600"}]});
    for (api, page, action) in [
        (Api::V3, page_v3, "DescribeRecordList"),
        (Api::Legacy, page_legacy, "Record.List"),
    ] {
        let server = Canned::start();
        server.load(&[Reply::Http {
            status: 200,
            headers: Vec::new(),
            body: serde_json::to_vec(&page).unwrap(),
        }]);
        let p = provider(api, &server);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let key = RecordKey {
            name: "home.example.com".parse().unwrap(),
            rtype: RecordType::Aaaa,
        };
        let got = rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(20),
                p.read_rrset(&key, &ProviderHints::default()),
            )
            .await
        });
        let err = got
            .unwrap_or_else(|_| panic!("{api:?}: still paging after 20 s"))
            .unwrap_err();
        assert_eq!(
            err.message,
            format!("{action}: unexpected reply: the listing goes on past 100 pages"),
            "{api:?}"
        );
    }
}
