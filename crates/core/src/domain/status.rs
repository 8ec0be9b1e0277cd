//! The states a run, a customer's part in it (its download-compare) and a
//! range go through, as their text columns store them, and the one
//! definition of what a customer's part in a run came to.
//!
//! The columns stay `TEXT` with a `CHECK` (migration 000002): an enum type
//! would need a table rewrite to gain a value, and old code must keep
//! reading the rows during a rollback.

use std::io::Write;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

/// A text-mapped state: its variants with their stored names, `as_str`,
/// `parse`, `Display`, serde and diesel `Text` in both directions.
macro_rules! stored_state {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize,
            AsExpression, FromSqlRow, utoipa::ToSchema,
        )]
        #[diesel(sql_type = Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // `pad`, so `{:<9}` in the CLI's tables lines up.
                f.pad(self.as_str())
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = std::str::from_utf8(bytes.as_bytes())?;
                $name::parse(text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " {:?}"), text).into()
                })
            }
        }
    };
}

stored_state! {
    /// `reporter_runs.status`.
    RunStatus {
        /// Created, its jobs not started yet.
        Pending = "pending",
        Running = "running",
        /// Every customer's part ended and none failed for good.
        Completed = "completed",
        /// Some customer's download or some range failed for good.
        Failed = "failed",
    }
}

stored_state! {
    /// `reporter_run_users.download_compare_status`: the customer's login,
    /// export download and comparison.
    DownloadStatus {
        Pending = "pending",
        Running = "running",
        Completed = "completed",
        /// Out of attempts: no ranges follow.
        Failed = "failed",
    }
}

stored_state! {
    /// `reporter_ranges.status`.
    RangeStatus {
        Pending = "pending",
        /// Taken by a worker (fenced), its browser not yet filing.
        Locked = "locked",
        Processing = "processing",
        Completed = "completed",
        /// Out of attempts; its screenshot is in the console.
        Failed = "failed",
    }
}

stored_state! {
    /// `reporter_runs.report_mode`, `reporter_run_users.report_mode` and a
    /// customer's override (`users.reporter_report_mode`): whether reports
    /// are filed, or only rehearsed (docs/portal.md, "Onboarding a real
    /// portal").
    ReportMode {
        /// Files a report for every stuck order.
        Live = "live",
        /// Does everything short of submitting: opens every stuck order's
        /// page, checks its report form and records `would_report`.
        Shadow = "shadow",
    }
}

impl ReportMode {
    /// A customer's part of a run: shadow when the run is (a run triggered
    /// as a rehearsal files nothing for anyone); otherwise the customer's
    /// own mode, else the fleet's (`REPORTER_REPORT_MODE`).
    pub fn of_part(run: ReportMode, customer: Option<ReportMode>, fleet: ReportMode) -> ReportMode {
        if run == ReportMode::Shadow || customer.unwrap_or(fleet) == ReportMode::Shadow {
            ReportMode::Shadow
        } else {
            ReportMode::Live
        }
    }
}

impl RangeStatus {
    /// Completed or failed: no worker will touch it again.
    pub fn is_final(self) -> bool {
        matches!(self, RangeStatus::Completed | RangeStatus::Failed)
    }
}

/// What a customer's part in a run came to, as the customer's page, the
/// API and `reporterctl` show it. The only definition: the final progress
/// message (`models::pipeline::runs::settle_run_user`) follows the same
/// rule (a failed range makes it "with failures").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunUserResult {
    /// The run has not started and the download has not begun.
    Waiting,
    Running,
    /// Every range ended and none failed (orders the portal no longer
    /// listed as stuck, or already reported that day, are not failures).
    Completed,
    /// Every range ended and at least one failed for good.
    CompletedWithFailures,
    /// The download-compare failed for good: nothing was filed.
    Failed,
}

/// The facts [`RunUserResult::of`] decides on.
#[derive(Debug, Clone, Copy)]
pub struct RunUserFacts {
    pub download: DownloadStatus,
    /// The run-user's `finished_at` is set (all its ranges ended).
    pub finished: bool,
    pub total_ranges: i32,
    pub failed_ranges: i64,
    /// The run's `started_at` is set.
    pub run_started: bool,
}

impl RunUserResult {
    pub fn of(f: RunUserFacts) -> Self {
        match f.download {
            DownloadStatus::Failed => RunUserResult::Failed,
            _ if f.finished || (f.download == DownloadStatus::Completed && f.total_ranges == 0) => {
                if f.failed_ranges > 0 {
                    RunUserResult::CompletedWithFailures
                } else {
                    RunUserResult::Completed
                }
            }
            DownloadStatus::Pending if !f.run_started => RunUserResult::Waiting,
            _ => RunUserResult::Running,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunUserResult::Waiting => "waiting",
            RunUserResult::Running => "running",
            RunUserResult::Completed => "completed",
            RunUserResult::CompletedWithFailures => "completed_with_failures",
            RunUserResult::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shadow_run_is_shadow_for_everyone_else_the_customer_overrides_the_fleet() {
        use ReportMode::{Live, Shadow};
        for customer in [None, Some(Live), Some(Shadow)] {
            for fleet in [Live, Shadow] {
                assert_eq!(ReportMode::of_part(Shadow, customer, fleet), Shadow);
            }
        }
        assert_eq!(ReportMode::of_part(Live, None, Live), Live);
        assert_eq!(ReportMode::of_part(Live, None, Shadow), Shadow);
        assert_eq!(ReportMode::of_part(Live, Some(Shadow), Live), Shadow);
        assert_eq!(ReportMode::of_part(Live, Some(Live), Shadow), Live);
        for m in ReportMode::ALL {
            assert_eq!(ReportMode::parse(m.as_str()), Some(*m));
        }
    }

    #[test]
    fn every_state_reads_back_what_it_stores() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(*s));
        }
        for s in DownloadStatus::ALL {
            assert_eq!(DownloadStatus::parse(s.as_str()), Some(*s));
        }
        for s in RangeStatus::ALL {
            assert_eq!(RangeStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(RangeStatus::parse("done"), None);
        assert_eq!(
            serde_json::to_string(&RangeStatus::Processing).unwrap(),
            "\"processing\""
        );
    }

    fn facts(download: DownloadStatus) -> RunUserFacts {
        RunUserFacts {
            download,
            finished: false,
            total_ranges: 3,
            failed_ranges: 0,
            run_started: true,
        }
    }

    #[test]
    fn a_result_follows_the_download_and_the_failed_ranges() {
        use DownloadStatus as D;
        use RunUserResult as R;
        let waiting = RunUserFacts {
            run_started: false,
            ..facts(D::Pending)
        };
        assert_eq!(R::of(waiting), R::Waiting);
        assert_eq!(R::of(facts(D::Pending)), R::Running, "retrying a download");
        assert_eq!(R::of(facts(D::Running)), R::Running);
        assert_eq!(R::of(facts(D::Completed)), R::Running, "ranges still open");
        assert_eq!(R::of(facts(D::Failed)), R::Failed);
        let finished = RunUserFacts {
            finished: true,
            ..facts(D::Completed)
        };
        assert_eq!(R::of(finished), R::Completed);
        let failed_range = RunUserFacts {
            failed_ranges: 1,
            ..finished
        };
        assert_eq!(R::of(failed_range), R::CompletedWithFailures);
        let nothing_stuck = RunUserFacts {
            total_ranges: 0,
            ..facts(D::Completed)
        };
        assert_eq!(R::of(nothing_stuck), R::Completed);
    }
}
