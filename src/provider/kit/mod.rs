//! Machinery the provider adapters share, kept apart from the one-file-per-kind adapters:
//! HTTP/JSON error mapping and in-call retries (`api`), the row-per-value plan of id-based
//! record APIs (`rows`), finding a record's zone among an account's domains (`zones`), the
//! cached OAuth bearer token of the providers that need one (`token`), and the DNS messages
//! of the rfc2136 provider (`dnsmsg`: UPDATE/query builders, reply checks).

#[cfg(feature = "http")]
pub mod api;
pub mod dnsmsg;
#[cfg(feature = "http")]
pub mod rows;
#[cfg(feature = "http")]
pub mod token;
#[cfg(feature = "http")]
pub mod zones;
