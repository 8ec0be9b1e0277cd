use reporter_core::config::Settings;
use reporter_core::{checks, db};

/// Each check prints one line; any failure makes the command exit non-zero
/// with every reason listed, so a deploy script can show them all at once.
pub fn run(settings: &Settings) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    println!("ok   config valid");

    // The portal profile the workers will load (a bad key or value names
    // itself), and what the configured driver needs of it.
    let profile = settings.portal_profile.as_deref();
    match portal_profile_problem(settings) {
        // The file is mounted where the workers run; a container without it
        // (the deploy's migrate service) leaves the check to them.
        _ if profile.is_some_and(|p| !std::path::Path::new(p).exists()) => println!(
            "skip portal profile {}: not in this container (the workers check it when they start)",
            profile.unwrap_or_default()
        ),
        None => println!(
            "ok   portal profile {} valid",
            profile.unwrap_or("(built-in portal-sim)")
        ),
        Some(e) => problems.push(e),
    }

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

/// Why the workers would refuse the portal profile at start, if they would.
fn portal_profile_problem(settings: &Settings) -> Option<String> {
    use reporter_worker::portal::http::HttpPortalOptions;
    use reporter_worker::portal::webdriver::WebDriverOptions;
    let checked = match settings.portal_driver.as_str() {
        "http" => HttpPortalOptions::from_settings(settings).map(|_| ()),
        _ => WebDriverOptions::from_settings(settings).map(|_| ()),
    };
    checked.err()
}
