//! `reporterctl schedule`, `schedule pause|resume`, `backfill` and
//! `beat reconcile --at`: the schedule as operators (and the soak harness)
//! drive it. Same reconciler as beat; see reporter_core::schedule.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use clap::Subcommand;
use reporter_core::config::Settings;
use reporter_core::domain::Hour;
use reporter_core::jobs::JobQueues;
use reporter_core::schedule::{store, ScheduleError, Scheduler};

use super::Refused;

#[derive(Subcommand)]
pub enum ScheduleAction {
    /// Pause one hour (or every hour) from now: its runs are neither made
    /// nor counted missed while paused, even after the pause ends.
    Pause {
        /// Hour 0-23 in REPORTER_TIMEZONE; default: every hour.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
        hour: Option<u8>,
        /// End of the pause: RFC 3339 (`2026-12-24T00:00:00Z`) or local
        /// `YYYY-MM-DDTHH:MM`; default: until `schedule resume`.
        #[arg(long)]
        until: Option<String>,
        /// Why (shown in the console and `schedule`).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// End the pauses in force now: of one hour, or every pause.
    Resume {
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
        hour: Option<u8>,
    },
}

#[derive(Subcommand)]
pub enum BeatAction {
    /// One reconcile as beat does it, at a simulated instant (RFC 3339 or
    /// local `YYYY-MM-DDTHH:MM`): enqueues due hours, records missed ones,
    /// prints the report as JSON. Never counts as beat's last reconcile.
    Reconcile {
        #[arg(long)]
        at: String,
    },
}

fn scheduler(settings: &Settings) -> Scheduler {
    Scheduler {
        pool: reporter_core::db::build_pool_lazy(settings.database_url(), 2),
        tz: settings.timezone,
        catch_up: settings.beat_catch_up,
        by: actor(),
    }
}

/// Who is acting, as recorded on pauses and missed hours.
fn actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    format!("reporterctl@{user}")
}

/// RFC 3339, or a wall-clock `YYYY-MM-DDTHH:MM[:SS]` (or with a space) in
/// the reporter's zone.
pub fn parse_instant(s: &str, tz: Tz) -> Result<DateTime<Utc>, Refused> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .ok_or_else(|| {
        Refused(format!(
            "{s:?} is not a time: use RFC 3339 (2026-12-01T14:00:00Z) or local YYYY-MM-DDTHH:MM"
        ))
    })?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| Refused(format!("{s} does not exist in {} (DST change)", tz.name())))
}

async fn queues(settings: &Settings) -> anyhow::Result<JobQueues> {
    let conn = reporter_core::redis_conn::connect(settings.redis_url()).await?;
    Ok(JobQueues::new(conn, &settings.redis_prefix, 1))
}

/// `reporterctl schedule [--json]`
pub fn show(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let s = scheduler(settings);
    let o = super::block_on(s.overview(Utc::now()))??;
    if json {
        println!("{}", serde_json::to_string_pretty(&o)?);
        return Ok(());
    }
    let tz = settings.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    println!(
        "zone {} · window {} · catch-up {}",
        o.timezone, o.window, o.catch_up
    );
    match (&o.state.last_reconcile_at, o.seconds_since_reconcile) {
        (Some(at), Some(secs)) => println!(
            "last reconcile: {} ({secs} s ago) by {}",
            local(*at),
            o.state.last_reconcile_by.as_deref().unwrap_or("?")
        ),
        _ => println!("last reconcile: never (no beat has run against this database)"),
    }
    if let (Some(e), Some(at)) = (&o.state.last_error, o.state.last_error_at) {
        println!("last error: {} at {}", e, local(at));
    }
    println!("pauses:");
    if o.pauses.is_empty() {
        println!("  none");
    }
    for p in &o.pauses {
        println!(
            "  #{} {} from {} until {}{}",
            p.id,
            p.hour.map_or("every hour".into(), |h| format!("{h:02}:00")),
            local(p.paused_from),
            p.as_pause().until.map_or("resumed".into(), local),
            if p.note.is_empty() {
                String::new()
            } else {
                format!(" · {}", p.note)
            }
        );
    }
    println!("next 24 hours:");
    if o.upcoming.is_empty() {
        println!("  no reserved hour");
    }
    for u in &o.upcoming {
        println!(
            "  {} {} reservation(s){}",
            local(u.scheduled_at),
            u.reservations,
            if u.paused { " · paused" } else { "" }
        );
    }
    println!("missed (last 7 days):");
    if o.missed.is_empty() {
        println!("  none");
    }
    for m in &o.missed {
        println!(
            "  {} {:02}:00 · {} reservation(s) · recorded {} by {}{}",
            m.business_date,
            m.hour,
            m.reservations,
            local(m.recorded_at),
            m.recorded_by,
            m.run_id
                .map_or(String::new(), |r| format!(" · backfilled as run {r}"))
        );
    }
    Ok(())
}

pub fn run(settings: &Settings, action: ScheduleAction) -> anyhow::Result<()> {
    let now = Utc::now();
    let by = actor();
    let mut conn = super::connect(settings)?;
    match action {
        ScheduleAction::Pause { hour, until, note } => {
            let until = until
                .map(|u| parse_instant(&u, settings.timezone))
                .transpose()?;
            if let Some(u) = until {
                if u <= now {
                    return Err(Refused(format!("--until {u} is not in the future")).into());
                }
            }
            let p = store::pause(&mut conn, hour, now, until, &note, &by)?;
            println!(
                "paused {} from now until {} (pause #{})",
                hour.map_or("every hour".into(), |h| format!("{h:02}:00")),
                until.map_or("`reporterctl schedule resume`".into(), |u| u
                    .with_timezone(&settings.timezone)
                    .format("%Y-%m-%d %H:%M %Z")
                    .to_string()),
                p.id
            );
        }
        ScheduleAction::Resume { hour } => {
            let n = store::resume(&mut conn, hour, now)?;
            if n == 0 {
                println!(
                    "no pause in force{}",
                    hour.map_or(String::new(), |h| format!(" for {h:02}:00"))
                );
            } else {
                println!("resumed {n} pause(s); hours whose time fell inside them stay skipped");
            }
        }
    }
    Ok(())
}

/// `reporterctl backfill --date D [--hour H]`
pub fn backfill(settings: &Settings, date: NaiveDate, hour: Option<u8>) -> anyhow::Result<()> {
    let hour = hour
        .map(|h| Hour::new(i64::from(h)))
        .transpose()
        .map_err(|e| Refused(e.to_string()))?;
    let s = scheduler(settings);
    let done = super::block_on(async {
        let q = queues(settings).await?;
        match s.backfill(&q, date, hour, Utc::now()).await {
            Err(ScheduleError::Refused(r)) => Err(anyhow::Error::from(Refused(r.to_string()))),
            other => Ok(other?),
        }
    })??;
    if done.is_empty() {
        println!("nothing to backfill on {date}: every owed hour has a run (or was paused)");
    }
    for d in done {
        println!(
            "backfill of {} {:02}:00 enqueued ({} reservation(s)); its run is marked backfill",
            d.occurrence.business_date, d.occurrence.hour, d.reservations
        );
    }
    Ok(())
}

/// `reporterctl beat reconcile --at T`
pub fn beat(settings: &Settings, action: BeatAction) -> anyhow::Result<()> {
    let BeatAction::Reconcile { at } = action;
    let at = parse_instant(&at, settings.timezone)?;
    let s = scheduler(settings);
    let report = super::block_on(async {
        let q = queues(settings).await.ok();
        s.reconcile_once(q.as_ref(), at, false).await
    })??;
    println!("{}", serde_json::to_string_pretty(&report)?);
    anyhow::ensure!(
        report.failed.is_empty(),
        "{} due hour(s) could not be enqueued: {}",
        report.failed.len(),
        report.errors.join("; ")
    );
    Ok(())
}
