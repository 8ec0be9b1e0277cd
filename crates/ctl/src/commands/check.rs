use reporter_core::config::Settings;
use reporter_core::{checks, db};

/// Each check prints one line; any failure makes the command exit non-zero
/// with every reason listed, so a deploy script can show them all at once.
pub fn run(settings: &Settings) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    println!("ok   config valid");

    match super::connect(settings) {
        Ok(mut conn) => {
            println!("ok   database reachable");
            match db::pending_migrations(&mut conn) {
                Ok(p) if p.is_empty() => println!("ok   no pending migrations"),
                Ok(p) => problems.push(format!(
                    "pending migrations: {} (run `reporterctl migrate`)",
                    p.join(", ")
                )),
                Err(e) => problems.push(format!("cannot read migration state: {e}")),
            }
        }
        Err(e) => problems.push(format!("database unreachable: {e:#}")),
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let redis = rt.block_on(async {
        let mut conn = reporter_core::redis_conn::connect(settings.redis_url())
            .await
            .map_err(|e| e.to_string())?;
        let p = checks::probe_redis(&mut conn).await;
        p.error.map_or(Ok(()), Err)
    });
    match redis {
        Ok(()) => println!("ok   redis reachable"),
        Err(e) => problems.push(format!("redis unreachable: {e}")),
    }

    if problems.is_empty() {
        return Ok(());
    }
    for p in &problems {
        println!("FAIL {p}");
    }
    anyhow::bail!("{} check(s) failed", problems.len())
}
