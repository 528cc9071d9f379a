//! Integration tests: the real server on an ephemeral port, a real redb file in a temp dir, and
//! HTTP over real sockets.

mod admin;
mod agents;
mod aispace;
mod analytics;
mod avif;
mod browser;
mod cli;
mod clients;
mod comments;
mod concurrency;
mod discovery;
mod feed;
mod fixtures;
mod gallery;
mod generation;
mod glimpse;
mod glimpse_tools;
mod harness;
mod input;
mod integrity;
mod limits;
mod mcp;
mod media;
mod media_serving;
mod migration;
mod page_cache;
mod persistence;
mod posts;
mod provenance;
mod providers;
mod smtp;
mod social;
mod surfaces;
mod verification;
mod votes;
