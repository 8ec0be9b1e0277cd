//! `reporterctl portal check --email E`: the portal check of one customer's
//! account (see `reporter_worker::portal_check`), run here with a browser
//! lease of the fleet's semaphore. Files nothing; exits 1 on any miss.

use std::time::Duration;

use clap::Subcommand;
use reporter_core::browser_semaphore::BrowserSemaphore;
use reporter_core::config::Settings;
use reporter_worker::portal_check;

#[derive(Subcommand)]
pub enum PortalCommand {
    /// Log into a customer's portal account, check the export's columns and
    /// one order page's selectors (files nothing); non-zero on any miss.
    Check {
        /// The customer's email in the users table.
        #[arg(long)]
        email: String,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Seconds to wait for a free browser (MAX_ACTIVE_SELENIUM).
        #[arg(long, default_value_t = 120)]
        wait_secs: u64,
    },
}

/// Runs the command; `Ok(false)` when the check failed (a miss, a refused
/// login).
pub fn run(settings: &Settings, cmd: PortalCommand) -> anyhow::Result<bool> {
    let PortalCommand::Check {
        email,
        json,
        wait_secs,
    } = cmd;
    let mut db = super::connect(settings)?;
    let target = portal_check::target(&mut db, settings.credentials_cipher(), &email)
        .map_err(|e| super::Refused(e.to_string()))?;
    drop(db);
    let report = super::block_on(async {
        let redis = reporter_core::redis_conn::connect(settings.redis_url()).await?;
        let portal = portal_check::build_portal(settings, redis.clone())?;
        let sem = BrowserSemaphore::from_settings(redis, settings);
        let worker = format!("reporterctl-{}", std::process::id());
        let job = format!("portal-check:{}", target.email);
        if sem.in_use().await.unwrap_or(0) >= sem.limit() {
            eprintln!(
                "every browser place ({}) is taken; waiting up to {wait_secs} s for one…",
                sem.limit()
            );
        }
        let r = portal_check::check_with_lease(
            &sem,
            portal.as_ref(),
            settings,
            &worker,
            &job,
            &target,
            Duration::from_secs(wait_secs),
        )
        .await?;
        anyhow::Ok(r)
    })??;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(report.ok)
}
