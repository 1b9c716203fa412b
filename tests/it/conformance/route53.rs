//! Fixture for `route53`: a real moto_server behind the counting, fault-injecting proxy of
//! `harness/route53_moto.rs`. moto cannot be given a chosen secret, and every secret here must
//! contain the marker, so this fixture runs moto without IAM and the proxy checks every
//! request's SigV4 signature with the marker key (`tests/it/route53.rs` runs moto with IAM,
//! where moto checks the POSTs with botocore). The zone is not configured: the provider finds
//! the hosted zone by name (`example.org` exists too). A change is a whole-RRset replace.

use std::sync::Arc;

use ddnsd::provider::route53::Route53Settings;
use ddnsd::provider::Configured;
use ddnsd::secret::Secret;

use super::{tally_of, Creds, Fault, Fixture, Kind, Op, Seed, Tally, MARKER, TTL};
use crate::harness::route53_moto::{self, Route53Lab};

const KEY_ID: &str = "AKIACONFORMANCE00001";

/// moto and its proxy, seeded with the battery's records.
pub struct Route53 {
    lab: Route53Lab,
}

fn fqdn(zone: &str, rel: &str) -> String {
    if rel == "@" {
        zone.to_owned()
    } else {
        format!("{rel}.{zone}")
    }
}

/// Starts moto with the seed (TXT values quoted, as Route 53 requires).
pub fn start(seed: &Seed) -> Route53 {
    let rows: Vec<(String, &str, Vec<String>)> = seed
        .records
        .iter()
        .map(|r| {
            let values = r
                .values
                .iter()
                .map(|v| {
                    if r.rtype == "TXT" {
                        format!("\"{v}\"")
                    } else {
                        (*v).to_owned()
                    }
                })
                .collect();
            (fqdn(seed.zone, r.name), r.rtype, values)
        })
        .collect();
    let values: Vec<Vec<&str>> = rows
        .iter()
        .map(|(_, _, v)| v.iter().map(String::as_str).collect())
        .collect();
    let seeds: Vec<route53_moto::Seed<'_>> = rows
        .iter()
        .zip(&values)
        .map(|((name, rtype, _), v)| (seed.zone, name.as_str(), *rtype, TTL, v.as_slice()))
        .collect();
    let lab = Route53Lab::start_with_key(
        &["example.org", seed.zone],
        &seeds,
        (KEY_ID.to_owned(), MARKER.to_owned()),
    );
    lab.state().refused.push(fqdn(seed.zone, seed.refused));
    Route53 { lab }
}

impl Fixture for Route53 {
    fn label(&self) -> String {
        "route53/moto".into()
    }

    fn settings(&self, creds: Creds) -> Arc<dyn Configured> {
        let secret = match creds {
            Creds::Good => MARKER.to_owned(),
            Creds::Bad => format!("{MARKER}-wrong"),
        };
        Arc::new(Route53Settings {
            access_key_id: KEY_ID.to_owned(),
            secret_access_key: Secret::new(secret),
            hosted_zone_id: None,
            zone: None,
            endpoint: self.lab.endpoint(),
        })
    }

    fn auth_hint(&self) -> &'static [&'static str] {
        &[
            "access_key_id",
            "secret_access_key",
            "route53:ChangeResourceRecordSets",
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![MARKER.to_owned(), format!("AWS4{MARKER}")]
    }

    fn live(&self, name: &str, rtype: &str) -> Vec<String> {
        let full = fqdn(super::ZONE, name);
        self.lab
            .set(super::ZONE, &full, rtype)
            .map(|s| {
                s.values
                    .into_iter()
                    .map(|v| v.trim_matches('"').to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn tally(&self) -> Tally {
        tally_of(&self.lab.state().calls, |action| {
            Some(match action {
                "ListHostedZonesByName" | "ListResourceRecordSets" | "GetHostedZone" => Kind::Read,
                "ChangeResourceRecordSets" => Kind::Replace,
                _ => return None,
            })
        })
    }

    fn reset(&self) {
        let mut st = self.lab.state();
        st.calls.clear();
        st.faults.clear();
        st.faulted.clear();
        st.changes.clear();
    }

    fn inject(&self, fault: Fault, op: Op, times: u32) {
        let fault = match fault {
            Fault::ServerError => route53_moto::Fault::Status(503),
            Fault::Timeout => route53_moto::Fault::Timeout,
            Fault::RateLimit { retry_after } => {
                route53_moto::Fault::Throttling(Some(retry_after.as_secs().max(1)))
            }
            Fault::Malformed => route53_moto::Fault::Malformed,
            Fault::Truncated => route53_moto::Fault::Truncated,
        };
        let target = match op {
            Op::Read => route53_moto::Target::Reads,
            Op::Write => route53_moto::Target::Writes,
        };
        for _ in 0..times {
            self.lab.inject_on(target.clone(), fault.clone());
        }
    }

    fn faulted(&self) -> Vec<String> {
        self.lab.state().faulted.clone()
    }
}
