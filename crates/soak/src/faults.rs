//! The fault schedule: which fault hits which hour of which day, drawn from
//! a seed so a failing soak can be replayed exactly.

use std::collections::BTreeSet;
use std::fmt;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Intensity {
    None,
    Default,
    Heavy,
}

impl Intensity {
    /// Faults per simulated day: at least enough for every kind to occur
    /// once over the days that have stuck orders (all but the first).
    fn per_day(self, days: u32) -> usize {
        let every_kind = FaultKind::ALL
            .len()
            .div_ceil(days.saturating_sub(1).max(1) as usize);
        match self {
            Intensity::None => 0,
            Intensity::Default => every_kind.max(3),
            Intensity::Heavy => every_kind.max(6),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// SIGKILL a worker while a range is being reported, start a new one.
    WorkerKill,
    /// SIGSTOP a worker past its browser lease, then SIGCONT it.
    WorkerPause,
    /// SIGTERM-and-replace every worker, one by one, mid-run.
    RollingDeploy,
    /// Stop the soak's Redis (it flushes its AOF) mid-run and start it again.
    RedisRestart,
    /// `pg_ctl stop -m fast` on the soak's cluster mid-run, then start.
    PostgresRestart,
    /// A beat is killed before the hour and nothing reconciles that hour;
    /// the next hour's reconcile catches it up (a late start), and the beat
    /// is started again.
    BeatOutage,
    /// A share of the portal's pages answer 500 for the hour.
    PortalErrors,
    /// The portal's pages take longer for the hour.
    PortalSlow,
    /// One customer's portal account answers "Cuenta bloqueada" all day.
    BlockedAccount,
}

impl FaultKind {
    pub const ALL: [FaultKind; 9] = [
        FaultKind::WorkerKill,
        FaultKind::WorkerPause,
        FaultKind::RollingDeploy,
        FaultKind::RedisRestart,
        FaultKind::PostgresRestart,
        FaultKind::BeatOutage,
        FaultKind::PortalErrors,
        FaultKind::PortalSlow,
        FaultKind::BlockedAccount,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FaultKind::WorkerKill => "worker SIGKILL",
            FaultKind::WorkerPause => "worker SIGSTOP past lease",
            FaultKind::RollingDeploy => "rolling worker restart",
            FaultKind::RedisRestart => "Redis restart",
            FaultKind::PostgresRestart => "PostgreSQL restart",
            FaultKind::BeatOutage => "beat down for an hour",
            FaultKind::PortalErrors => "portal 5xx burst",
            FaultKind::PortalSlow => "portal slow pages",
            FaultKind::BlockedAccount => "account blocked for the day",
        }
    }

    /// Faults that must hit a run in progress to mean anything.
    pub fn mid_run(self) -> bool {
        matches!(
            self,
            FaultKind::WorkerKill
                | FaultKind::WorkerPause
                | FaultKind::RollingDeploy
                | FaultKind::RedisRestart
                | FaultKind::PostgresRestart
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One planned fault. `customer` is the blocked account's index.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedFault {
    pub day: u32,
    pub hour: u8,
    pub kind: FaultKind,
    pub customer: Option<usize>,
}

/// Plans `intensity.per_day(days)` faults a day on distinct busy hours (hours
/// with reservations), cycling through every kind in a seeded order so a
/// short soak still meets each of them. A beat outage never takes the
/// window's last busy hour: its catch-up needs a later hour that day.
pub fn plan(
    rng: &mut StdRng,
    intensity: Intensity,
    days: u32,
    busy_hours: &[u8],
    customers: usize,
) -> Vec<PlannedFault> {
    let per_day = intensity.per_day(days).min(busy_hours.len());
    let mut kinds: Vec<FaultKind> = Vec::new();
    let mut out = Vec::new();
    for day in 1..=days {
        // Day 1 only makes the baseline exports: nothing is stuck, so there
        // is nothing for a mid-run fault to interrupt.
        if day == 1 {
            continue;
        }
        let mut hours: Vec<u8> = busy_hours.to_vec();
        hours.shuffle(rng);
        let mut used = BTreeSet::new();
        for _ in 0..per_day {
            if kinds.is_empty() {
                kinds = FaultKind::ALL.to_vec();
                kinds.shuffle(rng);
            }
            let kind = kinds.pop().expect("refilled above");
            let last = *busy_hours.iter().max().expect("busy hours");
            let Some(hour) = hours
                .iter()
                .copied()
                .find(|h| !(used.contains(h) || kind == FaultKind::BeatOutage && *h == last))
            else {
                continue;
            };
            used.insert(hour);
            let customer =
                (kind == FaultKind::BlockedAccount).then(|| rng.gen_range(0..customers.max(1)));
            out.push(PlannedFault {
                day,
                hour,
                kind,
                customer,
            });
        }
    }
    out.sort_by_key(|f| (f.day, f.hour));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_short_default_soak_meets_every_kind_and_the_same_seed_plans_the_same() {
        let hours = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
        let a = plan(
            &mut StdRng::seed_from_u64(7),
            Intensity::Default,
            3,
            &hours,
            8,
        );
        let b = plan(
            &mut StdRng::seed_from_u64(7),
            Intensity::Default,
            3,
            &hours,
            8,
        );
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let kinds: BTreeSet<_> = a.iter().map(|f| f.kind).collect();
        assert_eq!(kinds.len(), FaultKind::ALL.len(), "{a:?}");
        assert!(a.iter().all(|f| f.day >= 2));
        for day in 2..=3 {
            let hours: Vec<_> = a.iter().filter(|f| f.day == day).map(|f| f.hour).collect();
            let distinct: BTreeSet<_> = hours.iter().collect();
            assert_eq!(hours.len(), distinct.len(), "one fault per hour");
        }
        assert!(a
            .iter()
            .filter(|f| f.kind == FaultKind::BeatOutage)
            .all(|f| f.hour != 17));
        assert!(plan(
            &mut StdRng::seed_from_u64(7),
            Intensity::None,
            30,
            &hours,
            8
        )
        .is_empty());
    }
}
