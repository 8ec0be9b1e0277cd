//! Simulator of the supplier portal described in `shared/portal-contract.md`.
//!
//! Start it in-process with [`spawn`] (port 0 picks a free port) or run the
//! `portal-sim` binary. Same seed and accounts give the same orders and the
//! same status changes on every `POST /_sim/advance-day`.

mod accounts_file;
mod alt;
pub mod cli;
mod config;
mod data;
mod error;
mod export;
mod html;
mod layout;
mod model;
mod routes;
mod server;
mod state;

pub use accounts_file::load_accounts;
pub use alt::{
    EXPORT_HEADERS as ALT_EXPORT_HEADERS, EXPORT_SHEET_NAME as ALT_EXPORT_SHEET_NAME,
    PAGE_SIZE as ALT_PAGE_SIZE,
};
pub use config::{AccountSpec, Layout, SimConfig, DEFAULT_EXPORT_DELAY, DEFAULT_SESSION_TTL};
pub use error::SimError;
pub use export::{
    CONTENT_TYPE as XLSX_CONTENT_TYPE, HEADERS as EXPORT_HEADERS, SHEET_NAME as EXPORT_SHEET_NAME,
};
pub use routes::SESSION_COOKIE;
pub use server::{spawn, RunningSim};
