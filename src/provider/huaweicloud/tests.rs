//! Unit tests of the Huawei Cloud DNS provider: the code table.

use super::codes::{meaning, Meaning};

/// The code table: permanent codes stop, the rest is retried.
#[test]
fn code_table() {
    use Meaning as M;
    for (code, message, want) in [
        ("APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail", M::Auth),
        ("APIGW.0301", "Incorrect IAM authentication information: ak AKX not exist", M::Auth),
        (
            "APIGW.0301",
            "Incorrect IAM authentication information: calc aksk signature fail:signature expired, signature time:20211217T064303Z,server time:20211217T065804Z",
            M::ClockSkew,
        ),
        ("DNS.0005", "Authentication required.", M::Auth),
        ("DNS.0013", "You do not have the permission to perform this operation using the API.", M::Forbidden),
        ("APIGW.0308", "The throttling threshold has been reached", M::RateLimited),
        ("DNS.0014", "Request forbidden by flow control.", M::RateLimited),
        ("DNS.0004", "No record sets found.", M::Gone),
        ("DNS.0335", "Duplicate recordset exists.", M::Exists),
        ("DNS.0312", "Attribute 'name' conflicts with Record Set", M::Exists),
        ("DNS.0002", "Invalid request.", M::Rejected),
        ("DNS.0001", "Internal error.", M::Transient),
        ("DNS.0000", "The system is busy. Try again later.", M::Transient),
        ("DNS.9999", "new", M::Transient),
    ] {
        assert_eq!(meaning(code, message), want, "{code} {message}");
    }
}
