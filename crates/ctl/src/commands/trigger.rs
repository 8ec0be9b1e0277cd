use anyhow::Context;
use chrono::{NaiveDate, Utc};
use reporter_core::config::Settings;
use reporter_core::domain::Hour;
use reporter_core::jobs::{JobQueues, ProcessSlot, ShadowSlot};
use reporter_core::schedule::clock;

/// The slot instant for `hour` on `date` in the reporter's zone.
pub fn slot_instant(
    settings: &Settings,
    hour: Option<u32>,
    date: Option<NaiveDate>,
) -> anyhow::Result<chrono::DateTime<Utc>> {
    let tz = settings.timezone;
    let now = Utc::now();
    let date = date.unwrap_or_else(|| clock::business_date(now, tz));
    let hour = match hour {
        Some(h) => Hour::new(i64::from(h)).map_err(|_| anyhow::anyhow!("--hour must be 0-23"))?,
        None => Hour::new(i64::from(clock::local_hour(now, tz)))?,
    };
    clock::slot_instant(tz, date, hour.get())
        .context("that hour does not exist in REPORTER_TIMEZONE")
}

pub fn run(
    settings: &Settings,
    hour: Option<u32>,
    date: Option<NaiveDate>,
    shadow: bool,
) -> anyhow::Result<()> {
    let at = slot_instant(settings, hour, date)?;
    let shadow_job = shadow.then(|| ShadowSlot::new(at, Utc::now()));
    super::block_on(async {
        let conn = reporter_core::redis_conn::connect(settings.redis_url()).await?;
        let queues = JobQueues::new(conn, &settings.redis_prefix, 1);
        match &shadow_job {
            Some(job) => queues.push(job.clone()).await?,
            None => queues.push(ProcessSlot::new(at)).await?,
        }
        anyhow::Ok(())
    })??;
    let local = at.with_timezone(&settings.timezone);
    match shadow_job {
        Some(job) => println!(
            "shadow run of slot {} enqueued (stored at {}): nothing will be filed",
            local.format("%Y-%m-%d %H:00 %Z"),
            job.scheduled_at()
        ),
        None => println!(
            "slot {} enqueued (scheduled_at {at}); a slot hour has at most one run",
            local.format("%Y-%m-%d %H:00 %Z")
        ),
    }
    Ok(())
}
