//! One simulated day: each hour of the window reconciled at its instant with
//! its fault fired and its runs settled, then every customer-day judged.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reporter_core::schedule::slot_instant;

use super::ctl::reconcile;
use super::strike::{event, strike};
use super::watch::{connect_retrying, settle, wait_mid_run};
use super::Soak;
use crate::faults::FaultKind;
use crate::fleet::{rss_kib, Role};
use crate::samples::quantile;
use crate::sim;
use crate::verdict::{self, DayInput, DayVerdict};

impl Soak {
    /// Simulated day `day` (from 1), its verdict added to the days.
    pub(super) async fn day(&mut self, day: u32) -> anyhow::Result<()> {
        let Soak {
            ref args,
            ref started,
            first_day,
            ref settings,
            ref hours,
            ref customers,
            ref sim,
            ref plan,
            ref mut fleet,
            ref mut services,
            ref mut watch,
            ref day_now,
            ref samples,
            ref mut truth,
            ref mut days,
            ref mut diffs,
            ref mut events,
            ref mut memory,
            ref mut dup_before,
            ..
        } = *self;
        let tz = settings.timezone;
        let hour_deadline = Duration::from_secs(args.hour_deadline_secs);
        let day_started = Instant::now();
        day_now.store(day, Ordering::Relaxed);
        let date = first_day + chrono::Duration::days(i64::from(day - 1));
        let mut today = Vec::with_capacity(customers.len());
        for c in customers {
            today.push(sim.orders(&c.portal_email).await?);
        }
        truth.insert(date, today);
        let blocked: BTreeSet<usize> = plan
            .iter()
            .filter(|f| f.day == day && f.kind == FaultKind::BlockedAccount)
            .filter_map(|f| f.customer)
            .collect();
        if !blocked.is_empty() {
            let emails: Vec<String> = blocked
                .iter()
                .map(|i| customers[*i].portal_email.clone())
                .collect();
            sim.set_blocked(&emails).await?;
            for f in plan
                .iter()
                .filter(|f| f.day == day && f.kind == FaultKind::BlockedAccount)
            {
                let email = f.customer.map(|i| customers[i].portal_email.clone());
                events.push(event(
                    f,
                    started,
                    email.unwrap_or_default(),
                    false,
                    "blocked from the start of the day".into(),
                ));
            }
        }
        let mut verdict = DayVerdict {
            day,
            date: Some(date),
            ..Default::default()
        };
        let mut beat_down: Option<String> = None;
        let mut pending_hours: Vec<DateTime<Utc>> = Vec::new();
        let mut overdue: Vec<DateTime<Utc>> = Vec::new();
        let last_hour = *hours.last().expect("window hours");
        for &hour in hours {
            let Some(at) = slot_instant(tz, date, hour) else {
                continue;
            };
            let fault = plan
                .iter()
                .find(|f| f.day == day && f.hour == hour && f.kind != FaultKind::BlockedAccount);
            // Faults that shape the whole hour start before its reconcile.
            let mut skip_reconcile = false;
            if let Some(f) = fault {
                match f.kind {
                    FaultKind::PortalErrors => {
                        sim.set_error_rate(0.2).await?;
                        events.push(event(
                            f,
                            started,
                            "portal-sim".into(),
                            false,
                            "20% of pages answer 500".into(),
                        ));
                    }
                    FaultKind::PortalSlow => {
                        sim.set_latency_ms(args.portal_latency_ms + 300).await?;
                        events.push(event(
                            f,
                            started,
                            "portal-sim".into(),
                            false,
                            "every page takes 300 ms more".into(),
                        ));
                    }
                    FaultKind::BeatOutage => {
                        fleet.kill("beat-1");
                        beat_down = Some("beat-1".into());
                        skip_reconcile = true;
                        events.push(event(
                            f,
                            started,
                            "beat-1".into(),
                            false,
                            "SIGKILL; no reconcile this hour".into(),
                        ));
                    }
                    _ => {}
                }
            }
            if !skip_reconcile {
                let enqueued = reconcile(fleet, at).await?;
                pending_hours.extend(enqueued);
            }
            if let Some(f) = fault.filter(|f| f.kind.mid_run()) {
                let (mid_run, holder) = wait_mid_run(watch, at).await;
                let e = strike(f, fleet, services, holder, args.lease_secs)?;
                events.push(event(f, started, e.0, mid_run, e.1));
            }
            if !pending_hours.is_empty() {
                if !settle(watch, &pending_hours, hour_deadline).await {
                    verdict.hours_past_deadline.push(hour);
                    eprintln!(
                        "soak: day {day} hour {hour}: runs did not settle within {hour_deadline:?}"
                    );
                    // Judged at the end of the day; later hours wait only
                    // for their own runs.
                    overdue.append(&mut pending_hours);
                }
                pending_hours.clear();
            }
            if let Some(f) = fault {
                match f.kind {
                    FaultKind::PortalErrors => sim.set_error_rate(0.0).await?,
                    FaultKind::PortalSlow => sim.set_latency_ms(args.portal_latency_ms).await?,
                    _ => {}
                }
            }
            if hour != last_hour {
                if let Some(slot) = beat_down.take() {
                    // Back for the next hour, whose reconcile catches up.
                    fleet.start(Role::Beat, &slot)?;
                }
            }
        }
        // Beat keeps reconciling after the window's last hour: anything the
        // day still owes is caught up now.
        if let Some(at) = slot_instant(tz, date, last_hour + 1) {
            pending_hours.extend(reconcile(fleet, at).await?);
        }
        if let Some(slot) = beat_down.take() {
            fleet.start(Role::Beat, &slot)?;
        }
        if !pending_hours.is_empty() && !settle(watch, &pending_hours, hour_deadline).await {
            verdict.hours_past_deadline.push(last_hour + 1);
        }
        // One more chance for overdue hours before the portal's day moves
        // on (after that their reports would land on the wrong day).
        if !overdue.is_empty() {
            settle(watch, &overdue, hour_deadline).await;
        }
        if !blocked.is_empty() {
            sim.set_blocked(&[]).await?;
        }
        let mut conn = connect_retrying(&services.database_url).await?;
        verdict.tally.runs_not_finished = verdict::unfinished_runs(&mut conn, date)?;
        let reports = sim.reports().await?;
        let filed = sim::reports_of_day(&reports, date);
        diffs.extend(verdict::judge_day(
            &mut conn,
            &DayInput {
                day,
                date,
                customers,
                truth,
                filed: &filed,
                blocked: &blocked,
            },
            &mut verdict,
        )?);
        let stats = sim.stats().await?;
        verdict.tally.duplicate_reports += stats.counters.duplicate_reports - *dup_before;
        *dup_before = stats.counters.duplicate_reports;
        verdict.db_bytes = verdict::database_bytes(&mut conn)?;
        drop(conn);
        for (slot, p) in &fleet.procs {
            let kib = rss_kib(p.pid()).unwrap_or(0);
            verdict.rss_kib.insert(slot.clone(), kib);
        }
        verdict
            .rss_kib
            .insert("portal-sim".into(), rss_kib(sim.pid()).unwrap_or(0));
        if let Some(pid) = services.redis.pid() {
            verdict
                .rss_kib
                .insert("redis".into(), rss_kib(pid).unwrap_or(0));
        }
        if let Some(pid) = services.pg.pid() {
            verdict
                .rss_kib
                .insert("postgres (postmaster)".into(), rss_kib(pid).unwrap_or(0));
        }
        for (slot, kib) in &verdict.rss_kib {
            let series = memory.entry(slot.clone()).or_default();
            series.resize(day as usize - 1, 0.0);
            series.push(*kib as f64 / 1024.0);
        }
        {
            let s = samples.lock().expect("samples lock");
            let api = s.api_of(Some(day));
            verdict.api_p50_ms = quantile(&api, 0.5);
            verdict.api_p99_ms = quantile(&api, 0.99);
            verdict.api_samples = api.len();
            verdict.api_errors = s.errors_of(Some(day));
            verdict.max_portal_sessions = s.max_sessions(Some(day));
        }
        verdict.wall_secs = day_started.elapsed().as_secs_f64();
        print_day(&verdict);
        days.push(verdict);
        sim.advance_day().await?;
        Ok(())
    }
}

fn print_day(d: &DayVerdict) {
    eprintln!("soak: {}  ({:.1} s)", d.row(), d.wall_secs);
    for m in &d.missed_detail {
        eprintln!("soak:   missed {m}");
    }
}
