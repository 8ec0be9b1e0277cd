//! Redis connections with timeouts fit for a job system: redis-rs defaults
//! (500 ms reply) turn a busy moment into a fatal stream error (apalis-redis#76).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub async fn connect(url: &str) -> redis::RedisResult<ConnectionManager> {
    let cfg = ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_connection_timeout(Some(Duration::from_secs(5)));
    redis::Client::open(url)?
        .get_connection_manager_with_config(cfg)
        .await
}
