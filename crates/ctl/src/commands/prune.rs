//! `reporterctl prune [--dry-run]`: the retention policy applied now (beat
//! does it daily at REPORTER_PRUNE_HOUR), or what it would delete.

use reporter_core::config::Settings;
use reporter_core::retention::{self, Policy};

pub fn run(settings: &Settings, dry_run: bool) -> anyhow::Result<()> {
    let policy = Policy::from_settings(settings);
    let today =
        reporter_core::schedule::clock::business_date(chrono::Utc::now(), settings.timezone);
    let c = policy.cutoffs(today);
    println!(
        "retention: exports before {} (newest baseline kept), runs before {}, reports before {}, finished jobs older than {} days; {} rows per statement",
        c.exports, c.runs, c.reports, policy.job_days, policy.batch
    );
    let report = super::block_on(async {
        let pool = reporter_core::db::build_pool_lazy(settings.database_url(), 2);
        let mut redis = reporter_core::redis_conn::connect(settings.redis_url()).await?;
        let by = format!("reporterctl@{}", whoami());
        anyhow::Ok(retention::run(&pool, Some(&mut redis), settings, &by, dry_run, None).await?)
    })??;
    if report.skipped {
        println!("another prune is running (its lock is held): nothing done");
        return Ok(());
    }
    let verb = if dry_run { "WOULD DELETE" } else { "DELETED" };
    println!("{:<36} {:>14}", "TABLE", verb);
    for (table, rows) in &report.tables {
        println!("{table:<36} {rows:>14}");
    }
    println!(
        "{:<36} {:>14}\n{} statements{}",
        "total",
        report.total(),
        report.statements,
        if dry_run {
            "; nothing was changed (dry run)"
        } else {
            ""
        }
    );
    Ok(())
}

fn whoami() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "operator".into())
}
