//! Pure domain types and rules: no I/O.

pub mod account;
pub mod admin;
pub mod audit;
pub mod calendar;
pub mod cccd;
pub mod dossier;
pub mod fees;
pub mod form_builder;
pub mod form_schema;
pub mod indicators;
pub mod level;
pub mod lifecycle;
pub mod login;
pub mod open311;
pub mod procedure;
pub mod rating;
pub mod retry;
pub mod routing;
pub mod scoreboard;
pub mod status;
pub mod webhook;
