//! The PostgreSQL engine: a store many hosts share (the only module that uses `postgres` and
//! `rustls`).

pub mod config;
pub mod connect;
pub mod doctor;
pub mod failures;
pub mod import;
pub mod log;
pub mod restore;
pub mod schema;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod verifier;
