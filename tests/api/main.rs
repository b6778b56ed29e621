//! Black-box tests of the portal over HTTP, against the real server and a real database.

#[path = "../common/mod.rs"]
mod common;

mod account_security;
mod accounts;
mod admin;
mod applications;
mod authz;
mod bad_input;
mod catalogue;
mod i18n_and_cache;
mod json_api;
mod open311;
mod open_data;
mod protocol;
mod scoreboard;
mod seed;
mod service_page;
mod storage_s3;
mod webhooks;
mod workspace;
