//! Writing records: the plan of writes (PATCH, POST, DELETE) that makes the live records
//! equal the desired set, the PATCH bodies, and carrying the writes out (one call, or
//! transactional batches).

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::codes::Failure;
use super::wire::record_of;
use super::{Cloudflare, Record, Zone, AUTO_TTL, BATCH_MAX};
use crate::http::Method;
use crate::provider::kit::api;
use crate::provider::kit::rows::{self, Row, RowOp};
use crate::record::RrSet;

impl Cloudflare {
    /// Carries out `ops` on the records of `desired` in `zone` (one call for one write, a
    /// transactional batch for more, at most [`BATCH_MAX`] writes a call so the reply stays
    /// small); returns the records as they are afterwards.
    pub(super) async fn write(
        &self,
        zone: &Zone,
        desired: &RrSet,
        live: &[Record],
        ops: &[Op],
    ) -> Result<Vec<Record>, Failure> {
        let mut after: Vec<Record> = live.to_vec();
        for chunk in ops.chunks(BATCH_MAX) {
            match chunk {
                [op] => self.write_one(zone, desired, op, &mut after).await?,
                _ => self.write_batch(zone, desired, chunk, &mut after).await?,
            }
        }
        Ok(after)
    }

    async fn write_one(
        &self,
        zone: &Zone,
        desired: &RrSet,
        op: &Op,
        after: &mut Vec<Record>,
    ) -> Result<(), Failure> {
        let base = format!("/zones/{}/dns_records", zone.id);
        match op {
            Op::Patch { id, body } => {
                let action = "PatchDnsRecord";
                let path = format!("{base}/{id}");
                let (result, _) = self
                    .call(action, Method::Patch, &path, &[], Some(body))
                    .await?;
                replace(after, written(&result, desired, action)?);
            }
            Op::Post { body } => {
                let action = "CreateDnsRecord";
                let (result, _) = self
                    .call(action, Method::Post, &base, &[], Some(body))
                    .await?;
                after.push(written(&result, desired, action)?);
            }
            Op::Delete { id } => {
                let path = format!("{base}/{id}");
                match self
                    .call("DeleteDnsRecord", Method::Delete, &path, &[], None)
                    .await
                {
                    // Already gone: what was wanted.
                    Ok(_) | Err(Failure::Gone) => {}
                    Err(e) => return Err(e),
                }
                after.retain(|r| r.id != *id);
            }
        }
        Ok(())
    }

    async fn write_batch(
        &self,
        zone: &Zone,
        desired: &RrSet,
        ops: &[Op],
        after: &mut Vec<Record>,
    ) -> Result<(), Failure> {
        let mut deletes = Vec::new();
        let mut patches = Vec::new();
        let mut posts = Vec::new();
        for op in ops {
            match op {
                Op::Delete { id } => deletes.push(json!({ "id": id })),
                Op::Patch { id, body } => {
                    let mut b = body.clone();
                    if let Some(o) = b.as_object_mut() {
                        o.insert("id".into(), json!(id));
                    }
                    patches.push(b);
                }
                Op::Post { body } => posts.push(body.clone()),
            }
        }
        let mut batch = Map::new();
        for (key, list) in [("deletes", deletes), ("patches", patches), ("posts", posts)] {
            if !list.is_empty() {
                batch.insert(key.into(), Value::Array(list));
            }
        }
        let action = "BatchDnsRecords";
        let path = format!("/zones/{}/dns_records/batch", zone.id);
        let (result, _) = self
            .call(
                action,
                Method::Post,
                &path,
                &[],
                Some(&Value::Object(batch)),
            )
            .await?;
        for op in ops {
            if let Op::Delete { id } = op {
                after.retain(|r| r.id != *id);
            }
        }
        for key in ["patches", "posts"] {
            let list = match result.get(key) {
                Some(Value::Array(a)) => a.as_slice(),
                None | Some(Value::Null) => &[],
                Some(_) => {
                    return Err(api::protocol(action, &format!("{key:?} is not an array")).into())
                }
            };
            let sent = ops
                .iter()
                .filter(|op| {
                    matches!(
                        (key, op),
                        ("patches", Op::Patch { .. }) | ("posts", Op::Post { .. })
                    )
                })
                .count();
            if list.len() != sent {
                return Err(api::protocol(
                    action,
                    &format!("{} {key} in the reply for {sent} sent", list.len()),
                )
                .into());
            }
            for item in list {
                let rec = written(item, desired, action)?;
                if key == "patches" {
                    replace(after, rec);
                } else {
                    after.push(rec);
                }
            }
        }
        Ok(())
    }

    /// The writes that make `live` equal `desired`, with this provider's `proxied` and
    /// `comment` settings.
    pub(super) fn plan(&self, live: &[Record], desired: &RrSet) -> Vec<Op> {
        let ttl = self.ttl(desired.ttl);
        // A proxied record's TTL is automatic and not ours to change: plan as if it matched.
        let rows: Vec<Row> = live
            .iter()
            .map(|r| Row {
                id: Some(r.id.clone()),
                value: r.content,
                ttl: if r.proxied { ttl } else { r.ttl },
            })
            .collect();
        let find = |id: &str| live.iter().find(|r| r.id == id);
        // New records take the proxy status and comment of the name's existing records.
        let inherit = live.first();
        let mut ops = Vec::new();
        let mut touched: Vec<&str> = Vec::new();
        for op in rows::plan_rows(&rows, &desired.addrs, ttl) {
            match op {
                RowOp::Modify { id, value, ttl } => {
                    let Some(rec) = find(&id) else { continue };
                    touched.push(&rec.id);
                    ops.push(Op::Patch {
                        id: rec.id.clone(),
                        body: self.patch_body(rec, Some(value), ttl),
                    });
                }
                RowOp::Create { value, ttl } => {
                    let proxied = self
                        .settings
                        .proxied
                        .or(inherit.map(|r| r.proxied))
                        .unwrap_or(false);
                    let comment = self
                        .settings
                        .comment
                        .clone()
                        .or_else(|| inherit.and_then(|r| r.comment.clone()));
                    let mut body = json!({
                        "type": desired.rtype.as_str(),
                        "name": desired.name.as_str(),
                        "content": value.to_string(),
                        "ttl": if proxied { AUTO_TTL } else { ttl },
                        "proxied": proxied,
                    });
                    if let (Some(c), Some(o)) = (comment, body.as_object_mut()) {
                        o.insert("comment".into(), json!(c));
                    }
                    ops.push(Op::Post { body });
                }
                RowOp::Delete { id, .. } => {
                    touched.push(find(&id).map_or("", |r| r.id.as_str()));
                    ops.push(Op::Delete { id });
                }
            }
        }
        // Records that stay as they are but differ from a configured proxy status or comment.
        for rec in live {
            if touched.contains(&rec.id.as_str()) || !desired.addrs.contains(&rec.content) {
                continue;
            }
            let proxied_differs = self.settings.proxied.is_some_and(|p| p != rec.proxied);
            let comment_differs = self
                .settings
                .comment
                .as_ref()
                .is_some_and(|c| rec.comment.as_ref() != Some(c));
            if proxied_differs || comment_differs {
                ops.push(Op::Patch {
                    id: rec.id.clone(),
                    body: self.patch_body(rec, None, ttl),
                });
            }
        }
        ops
    }

    /// A PATCH body: the new content (if any), the TTL unless the record is (or becomes)
    /// proxied, and the configured proxy status and comment; fields not sent are kept.
    fn patch_body(&self, rec: &Record, content: Option<IpAddr>, ttl: u32) -> Value {
        let mut o = Map::new();
        if let Some(c) = content.filter(|c| *c != rec.content) {
            o.insert("content".into(), json!(c.to_string()));
        }
        let proxied = self.settings.proxied.unwrap_or(rec.proxied);
        if let Some(p) = self.settings.proxied {
            o.insert("proxied".into(), json!(p));
        }
        if proxied {
            if !rec.proxied {
                o.insert("ttl".into(), json!(AUTO_TTL));
            }
        } else if rec.proxied || rec.ttl != ttl {
            o.insert("ttl".into(), json!(ttl));
        }
        if let Some(c) = &self.settings.comment {
            o.insert("comment".into(), json!(c));
        }
        Value::Object(o)
    }
}

/// One write to Cloudflare.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Op {
    Patch { id: String, body: Value },
    Post { body: Value },
    Delete { id: String },
}

fn replace(list: &mut Vec<Record>, rec: Record) {
    match list.iter_mut().find(|r| r.id == rec.id) {
        Some(slot) => *slot = rec,
        None => list.push(rec),
    }
}

/// The record a write returned, checked to be of the managed name and type.
fn written(item: &Value, desired: &RrSet, action: &str) -> Result<Record, Failure> {
    match record_of(item, &desired.name, desired.rtype, action)? {
        Some(r) => Ok(r),
        None => Err(api::protocol(action, "the written record has another name or type").into()),
    }
}
