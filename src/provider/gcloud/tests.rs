//! Unit tests of the gcloud provider (code table, key parsing, settings, hints).

use super::codes::*;
use super::records::*;
use super::settings::*;
use super::*;
use serde_json::json;

/// The code table: permanent errors stop, the rest is retried.
#[test]
fn code_table() {
    use Meaning as M;
    let token = Some("");
    let api = None;
    for (status, reason, endpoint, want) in [
        (401, "authError", api, M::Auth),
        (403, "forbidden", api, M::Forbidden),
        (403, "insufficientPermissions", api, M::Forbidden),
        (403, "accessNotConfigured", api, M::Forbidden),
        (403, "rateLimitExceeded", api, M::RateLimited),
        (429, "rateLimitExceeded", api, M::RateLimited),
        (429, "", api, M::RateLimited),
        (403, "quotaExceeded", api, M::Rejected),
        (404, "notFound", api, M::ZoneNotFound),
        (409, "alreadyExists", api, M::Conflict),
        (412, "conditionNotMet", api, M::Conflict),
        (400, "invalid", api, M::Rejected),
        (500, "backendError", api, M::Transient),
        (503, "", api, M::Transient),
        (418, "new", api, M::Transient),
        (400, "invalid_grant", token, M::Auth),
        (
            400,
            "invalid_grant",
            Some("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."),
            M::ClockSkew,
        ),
        (401, "invalid_client", token, M::Auth),
        (400, "invalid_scope", token, M::Auth),
        (500, "internal_failure", token, M::Transient),
        (503, "temporarily_unavailable", token, M::Transient),
        (429, "rate_limit", token, M::RateLimited),
    ] {
        assert_eq!(meaning(status, reason, endpoint), want, "{status} {reason}");
    }
}

const PEM: &str = include_str!("../../../tests/fixtures/gcloud/test-key.pem");

#[test]
fn key_files() {
    let good = json!({"type": "service_account", "project_id": "p1", "private_key_id": "k1",
        "private_key": PEM, "client_email": "a@p1.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token"})
    .to_string();
    let a = ServiceAccount::from_json(&good).unwrap();
    assert_eq!(a.client_email, "a@p1.iam.gserviceaccount.com");
    assert_eq!(a.project_id.as_deref(), Some("p1"));
    assert!(!format!("{a:?}").contains("PRIVATE"));
    for (text, why) in [
        ("{", "is not JSON (line 1, column 1)"),
        ("{}", "has no \"type\": it is not a service account's JSON key"),
        (
            r#"{"type":"authorized_user"}"#,
            "is a \"authorized_user\" credential, not a service account's key (type \"service_account\")",
        ),
        (r#"{"type":"service_account"}"#, "has no \"client_email\""),
        (
            r#"{"type":"service_account","client_email":"x","private_key":"x"}"#,
            "private_key is not a PEM \"PRIVATE KEY\" block",
        ),
    ] {
        assert_eq!(ServiceAccount::from_json(text).unwrap_err(), why, "{text}");
    }
}

#[test]
fn hinted_sets() {
    let mut h = ProviderHints::default();
    assert_eq!(hinted_set(&h, "z"), None);
    h.0.insert(HINT_MANAGED_ZONE.into(), "z".into());
    h.0.insert(HINT_RRDATAS.into(), String::new());
    assert_eq!(hinted_set(&h, "z"), Some(None));
    assert_eq!(hinted_set(&h, "other"), None);
    h.0.insert(HINT_RRDATAS.into(), "2001:db8::1,2001:db8::2".into());
    h.0.insert(HINT_TTL.into(), "300".into());
    assert_eq!(
        hinted_set(&h, "z"),
        Some(Some(LiveSet {
            ttl: 300,
            rrdatas: vec!["2001:db8::1".into(), "2001:db8::2".into()]
        }))
    );
}
