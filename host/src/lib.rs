//! Crossdock keeps one eCommerce store (the source of truth) in sync with any number of
//! TikTok Shop stores. The flows are folders — `catalog/` (store → rules → channels) — next
//! to the machinery they share: `connectors/` (wasm plugins), `rules/` (Rhai), `queue/`,
//! `db/` and `model/`. `main.rs` only parses the command line and calls into here.

pub mod after_sale;
pub mod api;
pub mod app;
pub mod auth;
pub mod authorization;
pub mod catalog;
pub mod channel_rules;
pub mod cli;
pub mod config;
pub mod connections;
pub mod connectors;
pub mod db;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dispatch;
pub mod engine;
pub mod fulfillment;
pub mod model;
pub mod orders;
pub mod plugin_files;
pub mod queue;
pub mod rules;
#[cfg(feature = "demo")]
pub mod sandboxes;
pub mod secrets;
pub mod serve;
pub mod supervisor;
pub mod web;

pub use app::App;
