//! Test harness: local servers and emulators, started on 127.0.0.1 port 0, stopped on drop.

pub mod dnspod_emu;
