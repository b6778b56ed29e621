//! Pure domain types and rules: no I/O.

pub mod account;
pub mod audit;
pub mod cccd;
pub mod level;
pub mod login;
pub mod procedure;
