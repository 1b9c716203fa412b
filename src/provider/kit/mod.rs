//! Machinery the provider adapters share, kept apart from the one-file-per-kind adapters:
//! HTTP/JSON error mapping and in-call retries (`api`), the row-per-value plan of id-based
//! record APIs (`rows`), and finding a record's zone among an account's domains (`zones`).

pub mod api;
pub mod rows;
pub mod zones;
