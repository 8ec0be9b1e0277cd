#![doc = include_str!("../README.md")]

pub mod browser_semaphore;
pub mod checks;
pub mod config;
pub mod credentials;
pub mod db;
pub mod domain;
pub mod fleet;
pub mod jobs;
pub mod models;
pub mod password;
pub mod progress;
pub mod range_lock;
pub mod redis_conn;
pub mod schema;
pub mod telemetry;
pub mod tokens;
