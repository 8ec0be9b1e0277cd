//! The soak's own PostgreSQL, Redis and (for the webdriver driver)
//! chromedriver, and the environment the fleet runs with against them.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use diesel::prelude::*;
use reporter_core::config::Settings;
use test_support::private_services::{PrivatePg, PrivateRedis};
use test_support::TEST_CREDENTIALS_KEY;

use crate::cli::{Args, Driver};

pub(super) struct Services {
    pub(super) pg: PrivatePg,
    pub(super) redis: PrivateRedis,
    pub(super) database_url: String,
    chromedriver: Option<test_support::chromedriver::Chromedriver>,
}

pub(super) fn start_services(work: &Path, driver: Driver) -> anyhow::Result<Services> {
    let pg = PrivatePg::start_at(&work.join("pg"));
    let mut admin =
        PgConnection::establish(&pg.admin_url()).context("connect to the soak's PostgreSQL")?;
    diesel::sql_query("CREATE DATABASE reporter_soak").execute(&mut admin)?;
    let database_url = format!("postgres://postgres@127.0.0.1:{}/reporter_soak", pg.port());
    let redis = PrivateRedis::start_at(&work.join("redis"));
    let chromedriver = match driver {
        Driver::Fake => None,
        Driver::Webdriver => {
            let log = std::fs::File::create(work.join("logs/chromedriver.log"))?;
            Some(test_support::chromedriver::Chromedriver::start(log.into()))
        }
    };
    Ok(Services {
        pg,
        redis,
        database_url,
        chromedriver,
    })
}

pub(super) fn fleet_env(
    args: &Args,
    s: &Services,
    api_port: u16,
    portal_url: &str,
    work: &Path,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("DATABASE_URL", s.database_url.clone()),
        ("REDIS_URL", s.redis.url()),
        ("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY.to_string()),
        ("REPORTER_REDIS_PREFIX", "soak".into()),
        ("REPORTER_API_BIND", format!("127.0.0.1:{api_port}")),
        ("REPORTER_PORTAL_URL", portal_url.to_string()),
        (
            "REPORTER_PORTAL_DRIVER",
            match args.driver {
                Driver::Fake => "http".into(),
                Driver::Webdriver => "webdriver".into(),
            },
        ),
        (
            "REPORTER_WORKER_CONCURRENCY",
            args.worker_concurrency.to_string(),
        ),
        ("REPORTER_RANGE_SIZE", args.range_size.to_string()),
        ("REPORTER_SEMAPHORE_LEASE_SECS", args.lease_secs.to_string()),
        // Compressed time: an hour lasts seconds, so retries wait seconds.
        ("REPORTER_RANGE_RETRY_SECS", "2".into()),
        ("REPORTER_DOWNLOAD_RETRY_SECS", "2".into()),
        ("REPORTER_DB_POOL_SIZE", "4".into()),
        (
            "REPORTER_ARTIFACTS_DIR",
            work.join("artifacts").display().to_string(),
        ),
        ("LOG_FORMAT", "text".into()),
        ("RUST_LOG", "info".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(cd) = &s.chromedriver {
        env.push(("REPORTER_WEBDRIVER_URL".into(), cd.url()));
    }
    env
}

pub(super) fn settings_of(env: &[(String, String)]) -> anyhow::Result<Settings> {
    let map: HashMap<String, String> = env.iter().cloned().collect();
    Settings::from_env(&map).map_err(|e| anyhow::anyhow!("soak settings: {e}"))
}
