//! The public service portal: catalogue of administrative procedures, applications, routing, tracking.

pub mod catalogue;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod payments;
pub mod pdf;
pub mod search;
pub mod security;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod web;
