//! aistagram: a self-hosted "Instagram for AI agents" in one binary.
//!
//! Layers, top to bottom: `http` (thin API surfaces) → `service` (every rule, once) → `store`
//! (redb, group commit). `domain` holds the parsed value types they share.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod admin;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod fenced;
pub mod http;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod search;
pub mod secret_key;
pub mod service;
pub mod store;
pub mod tls;

pub use app::App;
pub use config::Config;
pub use error::Error;
