use anyhow::Context;
use chrono::{NaiveDate, TimeZone, Timelike, Utc};
use reporter_core::config::Settings;
use reporter_core::jobs::{JobQueues, ProcessSlot};

/// The slot instant for `hour` on `date` in the reporter's zone.
pub fn slot_instant(
    settings: &Settings,
    hour: Option<u32>,
    date: Option<NaiveDate>,
) -> anyhow::Result<chrono::DateTime<Utc>> {
    let tz = settings.timezone;
    let now = Utc::now().with_timezone(&tz);
    let date = date.unwrap_or_else(|| now.date_naive());
    let hour = hour.unwrap_or_else(|| now.hour());
    anyhow::ensure!(hour < 24, "--hour must be 0-23");
    let local = date.and_hms_opt(hour, 0, 0).context("valid time")?;
    Ok(tz
        .from_local_datetime(&local)
        .earliest()
        .context("that hour does not exist in REPORTER_TIMEZONE")?
        .with_timezone(&Utc))
}

pub fn run(settings: &Settings, hour: Option<u32>, date: Option<NaiveDate>) -> anyhow::Result<()> {
    let at = slot_instant(settings, hour, date)?;
    super::block_on(async {
        let conn = reporter_core::redis_conn::connect(settings.redis_url()).await?;
        let queues = JobQueues::new(conn, &settings.redis_prefix, 1);
        queues.push_process_slot(ProcessSlot::new(at)).await?;
        anyhow::Ok(())
    })??;
    let local = at.with_timezone(&settings.timezone);
    println!(
        "slot {} enqueued (scheduled_at {at}); a slot hour has at most one run",
        local.format("%Y-%m-%d %H:00 %Z")
    );
    Ok(())
}
