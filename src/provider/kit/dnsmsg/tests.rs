//! Tables, vectors and properties for the DNS messages of the rfc2136 provider.

use super::*;
use crate::provider::sign::tsig::TsigAlgorithm;
use crate::secret::Secret;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn fqdn(s: &str) -> Fqdn {
    Fqdn::parse_relaxed(s).unwrap()
}

fn rrset(name: &str, rtype: RecordType, addrs: &[&str]) -> RrSet {
    RrSet {
        name: fqdn(name),
        rtype,
        ttl: Ttl(300),
        addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
    }
}

fn key() -> TsigKey {
    TsigKey {
        name: fqdn("ddnsd-key"),
        algorithm: TsigAlgorithm::HmacSha256,
        secret: Secret::new(b"secret-key-for-ddnsd-tests-32bytes!".to_vec()),
    }
}

fn server() -> SocketAddr {
    "127.0.0.1:5300".parse().unwrap()
}

/// The unsigned request of the providers doc §3.1, byte for byte.
#[test]
fn update_matches_the_doc_vector() {
    let msg = update_message(
        &fqdn("example.test"),
        &rrset("host.example.test", RecordType::Aaaa, &["2001:db8::1"]),
        0x1234,
    )
    .unwrap();
    assert_eq!(
        msg.to_vec().unwrap(),
        hex("123428000001000000020000076578616d706c650474657374000006000104686f7374c00c001c00ff000000000000c01e001c00010000012c001020010db8000000000000000000000001")
    );
    let signed = tsig::sign_request(&key(), &msg.to_vec().unwrap(), 1_700_000_000, 300).unwrap();
    assert_eq!(
        signed.mac,
        hex("199b849657b0594afdcdac8f3270baf79da0f67baeef15f9067a9a7285644e77")
    );
}

#[test]
fn update_builder_table() {
    // (rrset, expected update section as (class, type, ttl, rdata text))
    type UpdateRr = (DNSClass, DnsType, u32, String);
    let cases: Vec<(RrSet, Vec<UpdateRr>)> = vec![
        (
            rrset(
                "host.example.test",
                RecordType::A,
                &["192.0.2.2", "192.0.2.1"],
            ),
            vec![
                (DNSClass::ANY, DnsType::A, 0, String::new()),
                (DNSClass::IN, DnsType::A, 300, "192.0.2.1".into()),
                (DNSClass::IN, DnsType::A, 300, "192.0.2.2".into()),
            ],
        ),
        (
            rrset("host.example.test", RecordType::Aaaa, &[]),
            vec![(DNSClass::ANY, DnsType::AAAA, 0, String::new())],
        ),
        (
            // Addresses of the other family never leak into the set.
            rrset(
                "example.test",
                RecordType::Aaaa,
                &["2001:db8::5", "192.0.2.9"],
            ),
            vec![
                (DNSClass::ANY, DnsType::AAAA, 0, String::new()),
                (DNSClass::IN, DnsType::AAAA, 300, "2001:db8::5".into()),
            ],
        ),
    ];
    for (set, want) in cases {
        let msg = update_message(&fqdn("example.test"), &set, 7).unwrap();
        assert_eq!(msg.metadata.op_code, OpCode::Update);
        assert_eq!(msg.queries.len(), 1, "one zone entry");
        assert_eq!(msg.queries[0].query_type(), DnsType::SOA);
        assert_eq!(msg.queries[0].name().to_ascii(), "example.test.");
        assert!(msg.answers.is_empty(), "no prerequisites");
        let got: Vec<_> = msg
            .authorities
            .iter()
            .map(|r| {
                let data = match &r.data {
                    RData::A(a) => a.0.to_string(),
                    RData::AAAA(a) => a.0.to_string(),
                    _ => String::new(),
                };
                assert!(same_name(&r.name, &set.name));
                (r.dns_class, r.record_type(), r.ttl, data)
            })
            .collect();
        assert_eq!(got, want, "{}", set.key());
    }
    assert_eq!(
        update_message(
            &fqdn("example.test"),
            &rrset("host.other.test", RecordType::A, &[]),
            1
        )
        .unwrap_err()
        .to_string(),
        "host.other.test is not inside zone example.test"
    );
}

/// The update section as (owner, class, type, ttl, address) rows.
fn update_rows(msg: &Message) -> Vec<(String, DNSClass, DnsType, u32, String)> {
    msg.authorities
        .iter()
        .map(|r| {
            let data = match &r.data {
                RData::A(a) => a.0.to_string(),
                RData::AAAA(a) => a.0.to_string(),
                _ => String::new(),
            };
            (r.name.to_ascii(), r.dns_class, r.record_type(), r.ttl, data)
        })
        .collect()
}

/// See: issue 13 (item 3). Three RRsets of one zone → one UPDATE carrying each RRset's
/// delete and adds in order, the zone named once; byte for byte what one-per-RRset
/// messages would carry, concatenated.
#[test]
fn batch_of_one_zone_is_one_message_with_every_rrset_in_order() {
    let zone = fqdn("example.test");
    let sets = [
        rrset("a.example.test", RecordType::Aaaa, &["2001:db8::1"]),
        rrset("b.example.test", RecordType::A, &["192.0.2.2", "192.0.2.1"]),
        rrset("c.example.test", RecordType::Aaaa, &[]),
    ];
    let refs: Vec<&RrSet> = sets.iter().collect();
    let plan = batch_update_messages(&zone, &refs, MAX_UPDATE_LEN).unwrap();
    let (batches, refused) = (plan.updates, plan.refused);
    assert!(refused.is_empty());
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].sets, vec![0, 1, 2]);
    let msg = &batches[0].message;
    assert_eq!(msg.metadata.op_code, OpCode::Update);
    assert_eq!(msg.queries.len(), 1);
    assert_eq!(msg.queries[0].name().to_ascii(), "example.test.");
    assert!(msg.answers.is_empty(), "no prerequisites");
    let want: Vec<_> = sets
        .iter()
        .flat_map(|s| update_rows(&update_message(&zone, s, 0).unwrap()))
        .collect();
    assert_eq!(update_rows(msg), want);
    use DNSClass::{ANY, IN};
    assert_eq!(
        want.iter()
            .map(|(n, c, t, _, a)| (n.as_str(), *c, *t, a.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("a.example.test.", ANY, DnsType::AAAA, ""),
            ("a.example.test.", IN, DnsType::AAAA, "2001:db8::1"),
            ("b.example.test.", ANY, DnsType::A, ""),
            ("b.example.test.", IN, DnsType::A, "192.0.2.1"),
            ("b.example.test.", IN, DnsType::A, "192.0.2.2"),
            ("c.example.test.", ANY, DnsType::AAAA, ""),
        ]
    );
}

/// Split only at the size limit, at RRset boundaries; every message fits; an RRset that
/// cannot be built is handed back with its error and the others still go.
#[test]
fn batch_splits_at_the_size_limit_and_hands_back_bad_rrsets() {
    let zone = fqdn("example.test");
    let sets: Vec<RrSet> = (0..1000)
        .map(|i| {
            rrset(
                &format!("host-{i:04}.example.test"),
                RecordType::Aaaa,
                &["2001:db8::1", "2001:db8::2"],
            )
        })
        .chain([rrset("x.other.test", RecordType::A, &["192.0.2.1"])])
        .collect();
    let refs: Vec<&RrSet> = sets.iter().collect();
    for max_len in [MAX_UPDATE_LEN, 4096, 512, 100] {
        let plan = batch_update_messages(&zone, &refs, max_len).unwrap();
        let (batches, refused) = (plan.updates, plan.refused);
        assert_eq!(refused.len(), 1, "{max_len}");
        assert_eq!(refused[0].0, 1000);
        assert_eq!(
            refused[0].1.to_string(),
            "x.other.test is not inside zone example.test"
        );
        let carried: Vec<usize> = batches.iter().flat_map(|b| b.sets.clone()).collect();
        assert_eq!(
            carried,
            (0..1000).collect::<Vec<_>>(),
            "{max_len}: in order"
        );
        for b in &batches {
            let len = b.message.to_vec().unwrap().len();
            // The estimate never undercounts; a lone RRset may exceed a tiny limit.
            assert!(len <= max_len || b.sets.len() == 1, "{max_len}: {len}");
            let rows = update_rows(&b.message);
            assert_eq!(rows.len(), b.sets.len() * 3, "each RRset whole");
        }
        let n = batches.len();
        match max_len {
            // 1000 × (34 + 2 × 50) bytes at most: three TCP-sized messages.
            MAX_UPDATE_LEN => assert_eq!(n, 3),
            100 => assert_eq!(n, 1000, "one RRset per message"),
            _ => assert!(n > 1 && n < 1000, "{max_len}: {n}"),
        }
    }
    // A full message still has room for its TSIG (the longest: hmac-sha512).
    let batches = batch_update_messages(&zone, &refs, MAX_UPDATE_LEN)
        .unwrap()
        .updates;
    let sha512 = TsigKey {
        algorithm: tsig::TsigAlgorithm::HmacSha512,
        ..key()
    };
    for b in &batches {
        let wire = b.message.to_vec().unwrap();
        let signed = tsig::sign_request(&sha512, &wire, 1_700_000_000, 300).unwrap();
        assert!(signed.wire.len() <= 65535, "{}", signed.wire.len());
    }
}

fn sent<'a>(key: Option<&'a TsigKey>, mac: &'a [u8], signed_at: u64) -> Sent<'a> {
    Sent {
        server: server(),
        key,
        request_mac: mac,
        signed_at,
    }
}

/// An UPDATE reply header + echoed zone, RCODE `rcode`, no records.
fn reply(rcode: u8) -> Vec<u8> {
    let mut r = hex("1234a8000001000000000000076578616d706c6504746573740000060001");
    r[3] |= rcode;
    r
}

/// An unsigned TSIG record with `error` (how BIND and Knot send BADKEY / BADSIG).
fn with_unsigned_tsig(mut r: Vec<u8>, error: u16) -> Vec<u8> {
    r[11] = 1;
    r.extend(hex("0964646e73642d6b657900 00fa 00ff 00000000 001d 0b686d61632d73686132353600 0000 6553f100 012c 0000 1234"));
    r.extend(error.to_be_bytes());
    r.extend(hex("0000"));
    r
}

impl Verdict {
    /// The trusted result; panics on an untrusted reply.
    fn trusted(self) -> Result<CheckedReply, ProviderError> {
        match self {
            Verdict::Trusted(r) => r,
            Verdict::Untrusted(u) => panic!("untrusted: {u:?}"),
        }
    }

    /// The untrusted claim; panics on a trusted reply.
    fn untrusted(self) -> Untrusted {
        match self {
            Verdict::Untrusted(u) => u,
            Verdict::Trusted(r) => panic!("trusted: {r:?}"),
        }
    }
}

/// See: issue 8 (item 3). BADKEY / BADSIG come unsigned (RFC 8945 §5.3.2), so anyone can
/// send them: they are remembered in the server's words (the message and hint users know),
/// but as a transient claim, never Auth.
#[test]
fn unsigned_badkey_and_badsig_are_untrusted_claims_in_the_servers_words() {
    let k = key();
    let u = check_reply(
        &sent(Some(&k), &[1; 32], 1_700_000_000),
        &with_unsigned_tsig(reply(9), 17),
    )
    .untrusted();
    assert_eq!(u.why, Distrust::UnsignedTsigError);
    assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
    assert_eq!(
        u.claim.message,
        "127.0.0.1:5300 does not know tsig key ddnsd-key with algorithm hmac-sha256 (NOTAUTH, BADKEY)"
    );
    let hint = u.claim.hint().unwrap();
    assert!(
        hint.contains("tsig_name") && hint.contains("tsig_algorithm"),
        "{hint}"
    );

    let u = check_reply(
        &sent(Some(&k), &[1; 32], 1_700_000_000),
        &with_unsigned_tsig(reply(9), 16),
    )
    .untrusted();
    assert_eq!(u.why, Distrust::UnsignedTsigError);
    assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
    assert_eq!(
        u.claim.message,
        "127.0.0.1:5300 rejected the signature made with tsig key ddnsd-key (NOTAUTH, BADSIG)"
    );
    let hint = u.claim.hint().unwrap();
    assert!(
        hint.starts_with("wrong secret") && hint.contains("tsig_secret"),
        "{hint}"
    );
    // An unsigned TSIG record with any other error is just unsigned.
    let u = check_reply(
        &sent(Some(&k), &[1; 32], 1_700_000_000),
        &with_unsigned_tsig(reply(0), 0),
    )
    .untrusted();
    assert_eq!(u.why, Distrust::Unsigned);
    assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
}

#[test]
fn badtime_reply_is_clock_skew_with_measured_offset() {
    let k = key();
    let signed_at = 1_700_000_000;
    let req_mac = [9u8; 32];
    let server_time: u64 = 0x6b06145e;
    let r = tsig::sign_reply(
        &k,
        &req_mac,
        &reply(9),
        signed_at,
        300,
        18,
        &hex("00006b06145e"),
    )
    .unwrap();
    let e = check_reply(&sent(Some(&k), &req_mac, signed_at), &r)
        .trusted()
        .unwrap_err();
    let offset = (server_time - signed_at) as i64;
    assert_eq!(
        e.kind,
        ProviderErrorKind::ClockSkew {
            offset_secs: offset
        }
    );
    assert_eq!(
        e.message,
        format!("127.0.0.1:5300 rejected the signing time (NOTAUTH, BADTIME): clocks differ by {offset} s")
    );
    // A BADTIME reply signed over another request MAC does not verify: not trusted.
    let u = check_reply(&sent(Some(&k), &[0u8; 32], signed_at), &r).untrusted();
    assert_eq!(u.why, Distrust::FailedVerification);
    assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
}

/// See: issue 8 (item 3). With a key, only a verified reply is acted on — whatever its
/// RCODE; without one, every reply is.
#[test]
fn with_a_key_only_verified_replies_are_trusted() {
    let k = key();
    let mac = [5u8; 32];
    let now = 1_800_000_000;
    let good = tsig::sign_reply(&k, &mac, &reply(0), now + 2, 300, 0, &[]).unwrap();
    assert_eq!(
        check_reply(&sent(Some(&k), &mac, now), &good)
            .trusted()
            .unwrap()
            .rcode,
        0
    );
    let refused = tsig::sign_reply(&k, &mac, &reply(5), now, 300, 0, &[]).unwrap();
    assert_eq!(
        check_reply(&sent(Some(&k), &mac, now), &refused)
            .trusted()
            .unwrap()
            .rcode,
        5,
        "a signed REFUSED is the server's word"
    );

    let mut flipped = good.clone();
    flipped[3] = 0x05; // NOERROR → REFUSED under the same MAC
    let other_key = TsigKey {
        secret: Secret::new(b"a-forger-does-not-know-the-secret".to_vec()),
        ..key()
    };
    let renamed = TsigKey {
        name: fqdn("other-key"),
        ..key()
    };
    // (reply, why, message fragment)
    let cases: Vec<(Vec<u8>, Distrust, &str)> = vec![
        (reply(0), Distrust::Unsigned, "the reply from 127.0.0.1:5300 is not signed although the request was signed with key ddnsd-key; not trusting it"),
        (reply(5), Distrust::Unsigned, "the REFUSED reply from 127.0.0.1:5300 is not signed although the request was signed with key ddnsd-key; not trusting it"),
        (flipped, Distrust::FailedVerification, "the reply from 127.0.0.1:5300 failed tsig verification: the reply's MAC does not verify"),
        (
            tsig::sign_reply(&other_key, &mac, &reply(0), now, 300, 0, &[]).unwrap(),
            Distrust::FailedVerification,
            "the reply's MAC does not verify",
        ),
        (
            tsig::sign_reply(&renamed, &mac, &reply(0), now, 300, 0, &[]).unwrap(),
            Distrust::FailedVerification,
            "not the request's key",
        ),
        (good[..good.len() - 3].to_vec(), Distrust::Undecodable, "could not read the tsig record"),
        (good[..7].to_vec(), Distrust::Undecodable, "shorter than a dns header"),
    ];
    for (bytes, why, fragment) in cases {
        let rcode = (why == Distrust::Unsigned && bytes[3] != 0).then_some(bytes[3]);
        let u = check_reply(&sent(Some(&k), &mac, now), &bytes).untrusted();
        assert_eq!(u.rcode, rcode, "{}", u.claim.message);
        assert_eq!(u.why, why, "{}", u.claim.message);
        assert_eq!(u.claim.kind, ProviderErrorKind::Transient);
        assert!(u.claim.message.contains(fragment), "{}", u.claim.message);
    }

    let late = tsig::sign_reply(&k, &mac, &reply(0), now + 1000, 300, 0, &[]).unwrap();
    let e = check_reply(&sent(Some(&k), &mac, now), &late)
        .trusted()
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ClockSkew { offset_secs: 1000 });

    // Without a key nothing can be verified: every reply is taken as it comes.
    assert_eq!(
        check_reply(&sent(None, &[], now), &reply(0))
            .trusted()
            .unwrap()
            .rcode,
        0
    );
    assert_eq!(
        check_reply(&sent(None, &[], now), &reply(5))
            .trusted()
            .unwrap()
            .rcode,
        5
    );
    assert_eq!(
        check_reply(&sent(None, &[], now), &reply(0)[..5])
            .trusted()
            .unwrap_err()
            .kind,
        ProviderErrorKind::Protocol
    );
    // The strongest claim wins when only untrusted replies come.
    assert!(Distrust::UnsignedTsigError > Distrust::FailedVerification);
    assert!(Distrust::FailedVerification > Distrust::Unsigned);
    assert!(Distrust::Unsigned > Distrust::Undecodable);
}

#[test]
fn update_rcode_to_kind_table() {
    let zone = fqdn("example.test");
    let rkey = RecordKey {
        name: fqdn("host.example.test"),
        rtype: RecordType::Aaaa,
    };
    let kname = fqdn("ddnsd-key");
    let ctx = UpdateContext {
        server: server(),
        zone: &zone,
        key: &rkey,
        tsig_name: Some(&kname),
    };
    use ProviderErrorKind as K;
    let table: &[(u8, Option<K>, &str, &str)] = &[
        (0, None, "", ""),
        (
            1,
            Some(K::Rejected),
            "could not parse the update of host.example.test AAAA (FORMERR)",
            "",
        ),
        (
            2,
            Some(K::Transient),
            "127.0.0.1:5300 failed to apply the update of host.example.test AAAA (SERVFAIL)",
            "",
        ),
        (
            3,
            Some(K::Rejected),
            "(NXDOMAIN) although ddnsd sends none",
            "",
        ),
        (
            4,
            Some(K::Rejected),
            "does not implement dynamic updates (NOTIMP)",
            "enable dynamic updates",
        ),
        (
            5,
            Some(K::Forbidden),
            "127.0.0.1:5300 refused the update of host.example.test AAAA (REFUSED)",
            "update policy does not allow this name",
        ),
        (6, Some(K::Rejected), "(YXDOMAIN)", ""),
        (7, Some(K::Rejected), "(YXRRSET)", ""),
        (8, Some(K::Rejected), "(NXRRSET)", ""),
        (
            9,
            Some(K::ZoneNotFound),
            "127.0.0.1:5300 is not authoritative for zone example.test (NOTAUTH)",
            "check zone",
        ),
        (
            10,
            Some(K::Rejected),
            "host.example.test is outside zone example.test (NOTZONE)",
            "wrong zone",
        ),
        (15, Some(K::Protocol), "unexpected rcode 15", ""),
    ];
    for (rcode, kind, msg, hint) in table {
        let got = update_rcode_error(&ctx, *rcode);
        assert_eq!(
            got.as_ref().map(|e| e.kind.clone()),
            kind.clone(),
            "rcode {rcode}"
        );
        if let Some(e) = got {
            assert!(e.message.contains(msg), "rcode {rcode}: {}", e.message);
            assert!(
                e.hint().unwrap_or_default().contains(hint),
                "rcode {rcode}: {:?}",
                e.hint()
            );
            assert!(
                !e.message.starts_with(|c: char| c.is_ascii_uppercase()),
                "lower-case clause"
            );
            assert!(!e.message.ends_with('.'));
        }
    }
    let refused = update_rcode_error(&ctx, 5).unwrap();
    assert!(refused.hint().unwrap().contains("key ddnsd-key"));
}

#[test]
fn zone_from_soa_replies() {
    use hickory_proto::rr::rdata::SOA;
    let soa = |owner: &str| {
        Record::from_rdata(
            Name::from_ascii(owner).unwrap(),
            300,
            RData::SOA(SOA::new(
                Name::from_ascii("ns1.example.test.").unwrap(),
                Name::from_ascii("hostmaster.example.test.").unwrap(),
                1,
                3600,
                900,
                604800,
                300,
            )),
        )
    };
    let mut nx = Message::new(1, MessageType::Response, OpCode::Query);
    nx.add_authority(soa("example.test."));
    assert_eq!(
        zone_from_soa_reply(&nx, &fqdn("host.example.test")),
        Some(fqdn("example.test"))
    );
    let mut apex = Message::new(1, MessageType::Response, OpCode::Query);
    apex.add_answer(soa("example.test."));
    assert_eq!(
        zone_from_soa_reply(&apex, &fqdn("example.test")),
        Some(fqdn("example.test"))
    );
    let empty = Message::new(1, MessageType::Response, OpCode::Query);
    assert_eq!(
        zone_from_soa_reply(&empty, &fqdn("host.example.test")),
        None
    );
    // An SOA of an unrelated zone is ignored.
    let mut other = Message::new(1, MessageType::Response, OpCode::Query);
    other.add_authority(soa("other.test."));
    assert_eq!(
        zone_from_soa_reply(&other, &fqdn("host.example.test")),
        None
    );
}

/// `n` cases per property in CI; a long run sets `PROPTEST_CASES` (docs/design/testing.md).
fn cases(n: u32) -> proptest::test_runner::Config {
    let config = proptest::test_runner::Config::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        config
    } else {
        proptest::test_runner::Config { cases: n, ..config }
    }
}

use proptest::prelude::*;

/// True when byte `i` of a reply signed with the `ddnsd-key` / hmac-sha256 key lies in
/// the TSIG record's key name or algorithm name: the record is the last 82 bytes (owner
/// 11, fixed 10, algorithm 13, then 48 bytes of rdata).
fn case_blind(reply: &[u8], i: usize) -> bool {
    let start = reply.len() - 82;
    (start..start + 11).contains(&i) || (start + 21..start + 34).contains(&i)
}

/// A reply as a server signs it: `rcode`, the zone echoed, with `answers` A records.
fn signed(rcode: u8, answers: u16, mac: &[u8], at: u64) -> Vec<u8> {
    let mut m = Message::new(0x1234, MessageType::Response, OpCode::Update);
    m.metadata.response_code = hickory_proto::op::ResponseCode::from(0, rcode);
    let mut z = Query::new();
    z.set_name(Name::from_ascii("example.test.").unwrap())
        .set_query_type(DnsType::SOA);
    m.add_query(z);
    for i in 0..answers {
        m.add_answer(Record::from_rdata(
            Name::from_ascii("host.example.test.").unwrap(),
            300,
            RData::A(A(std::net::Ipv4Addr::from(u32::from(i)))),
        ));
    }
    tsig::sign_reply(&key(), mac, &m.to_vec().unwrap(), at, 300, 0, &[]).unwrap()
}

proptest! {
    #![proptest_config(cases(1000))]

    /// See: issue 8 (fuzzing). Arbitrary bytes, with and without a key: a verdict, never a
    /// panic; without a key a decoded message holds no more records than the bytes could.
    #[test]
    fn check_reply_takes_arbitrary_bytes_without_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let k = key();
        match check_reply(&sent(Some(&k), &[5; 32], 1_800_000_000), &bytes) {
            Verdict::Trusted(_) => prop_assert!(false, "unsigned bytes were trusted"),
            Verdict::Untrusted(u) => {
                prop_assert_eq!(u.claim.kind, ProviderErrorKind::Transient)
            }
        }
        if let Verdict::Trusted(Ok(r)) = check_reply(&sent(None, &[], 0), &bytes) {
            let m = &r.message;
            let records = m.queries.len() + m.answers.len() + m.authorities.len()
                + m.additionals.len();
            prop_assert!(records <= bytes.len() / 5);
        }
    }

    /// A verified reply with any byte changed past the ID, or cut short, is never trusted:
    /// it is skipped as a transient claim, whatever it says.
    #[test]
    fn damaged_signed_replies_are_never_trusted(
        rcode in 0u8..16,
        answers in 0u16..4,
        hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let k = key();
        let mac = [7u8; 32];
        let now = 1_800_000_000;
        let good = signed(rcode, answers, &mac, now);
        match check_reply(&sent(Some(&k), &mac, now), &good) {
            Verdict::Trusted(Ok(r)) => {
                prop_assert_eq!(r.rcode, rcode);
                prop_assert_eq!(r.message.answers.len(), usize::from(answers));
            }
            other => prop_assert!(false, "{other:?}"),
        }
        let mut bad = good.clone();
        for (at, value) in hits {
            let i = 2 + at.index(bad.len() - 2);
            // The TSIG's key and algorithm names are MACed in canonical (lower-case) form
            // (RFC 8945 §4.3.3), so their letters' case is not the signer's to fix.
            if !(case_blind(&good, i) && good[i].eq_ignore_ascii_case(&value)) {
                bad[i] = value;
            }
        }
        if bad != good {
            let trusted = matches!(
                check_reply(&sent(Some(&k), &mac, now), &bad),
                Verdict::Trusted(_)
            );
            prop_assert!(!trusted, "a damaged reply was trusted");
        }
        let short = &good[..cut.index(good.len())];
        let trusted = matches!(
            check_reply(&sent(Some(&k), &mac, now), short),
            Verdict::Trusted(_)
        );
        prop_assert!(!trusted, "a cut reply was trusted");
    }
}
