//! Unit tests of the Azure DNS provider: the code table, GUIDs, and a record set keeping its
//! other properties.

use serde_json::json;

use super::codes::*;
use super::records::*;
use super::settings::*;
use crate::record::RecordType;

/// The code table: permanent errors stop, the rest is retried.
#[test]
fn code_table() {
    use Meaning as M;
    for (status, code, token, want) in [
        (401, "InvalidAuthenticationToken", false, M::Auth),
        (401, "InvalidAuthenticationTokenTenant", false, M::Auth),
        (401, "ExpiredAuthenticationToken", false, M::Auth),
        (401, "AuthenticationFailed", false, M::Auth),
        (403, "AuthorizationFailed", false, M::Forbidden),
        (429, "SubscriptionRequestsThrottled", false, M::RateLimited),
        (429, "Whatever", false, M::RateLimited),
        (404, "ParentResourceNotFound", false, M::ZoneNotFound),
        (404, "ResourceGroupNotFound", false, M::ZoneNotFound),
        (404, "NotFound", false, M::Gone),
        (412, "PreconditionFailed", false, M::Conflict),
        (400, "BadRequest", false, M::Rejected),
        (409, "Conflict", false, M::Rejected),
        (500, "InternalServerError", false, M::Transient),
        (503, "ServiceUnavailable", false, M::Transient),
        (400, "SomethingNew", false, M::Transient),
        (401, "invalid_client", true, M::Auth),
        (400, "unauthorized_client", true, M::Auth),
        (400, "invalid_request", true, M::Auth),
        (503, "temporarily_unavailable", true, M::Transient),
        (429, "x", true, M::RateLimited),
    ] {
        assert_eq!(meaning(status, code, token), want, "{status} {code}");
    }
}

#[test]
fn guids() {
    assert!(is_guid("00000000-0000-0000-0000-00000000000a"));
    assert!(!is_guid("00000000-0000-0000-0000-00000000000"));
    assert!(!is_guid("my-tenant"));
}

#[test]
fn a_set_keeps_its_other_properties() {
    let v = json!({"etag": "e1", "properties": {"TTL": 300, "metadata": {"owner": "x"},
        "AAAARecords": [{"ipv6Address": "2001:db8::1"}], "fqdn": "home.example.com."}});
    let s = set_of(&v, None, RecordType::Aaaa, "op").unwrap();
    assert_eq!(s.etag.as_deref(), Some("e1"));
    assert_eq!(s.ttl, 300);
    assert_eq!(s.properties["metadata"], json!({"owner": "x"}));
    assert_eq!(s.addrs.len(), 1);
    let a = set_of(&v, Some("e2".into()), RecordType::A, "op").unwrap();
    assert!(a.addrs.is_empty());
    assert_eq!(a.etag.as_deref(), Some("e2"));
}
