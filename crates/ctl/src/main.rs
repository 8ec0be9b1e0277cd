//! `reporterctl`: the operator CLI. It talks to PostgreSQL and Redis
//! directly with the same settings as the services.

mod commands;

use clap::{Parser, Subcommand};
use reporter_core::config::Settings;

#[derive(Parser)]
#[command(
    name = "reporterctl",
    version,
    about = "Operate Reporter: migrations, users, tokens, slots, checks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending database migrations (safe to run from several processes).
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Show the reservable hours: used/capacity points and users.
    Slots {
        /// Show all 24 hours, not only the reporter window.
        #[arg(long)]
        all: bool,
        /// Show the planner's table instead: predicted against available
        /// browser-minutes per hour, with each hour's customers.
        #[arg(long, conflicts_with = "all")]
        plan: bool,
    },
    /// Pre-deploy check: config valid, DB reachable, no pending migrations, Redis reachable.
    Check,
    /// Liveness of a worker or beat in the same container: its heartbeat
    /// file is fresh (no dependency checked; exit 1 when stale or missing).
    Alive {
        /// The heartbeat file; default REPORTER_HEARTBEAT_FILE.
        #[arg(long, env = "REPORTER_HEARTBEAT_FILE")]
        file: std::path::PathBuf,
        /// Oldest acceptable heartbeat, in seconds.
        #[arg(long, default_value_t = 120)]
        max_age: u64,
    },
    /// Run a slot now (idempotent like beat's job: one run per slot hour).
    TriggerSlot {
        /// Hour (0-23) in REPORTER_TIMEZONE; default: the current hour.
        #[arg(long)]
        hour: Option<u32>,
        /// Business date YYYY-MM-DD; default: today in REPORTER_TIMEZONE.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// A rehearsal: do everything but submit (every stuck order is
        /// recorded as would_report); a run of its own, never seen by
        /// customers.
        #[arg(long)]
        shadow: bool,
    },
    /// The schedule: last reconcile, pauses, the next 24 hours, missed hours.
    Schedule {
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<commands::schedule::ScheduleAction>,
    },
    /// Run the owed hours of a past day that have no run (missed, or lost
    /// to an outage), marked as backfill. One hour with `--hour`.
    Backfill {
        /// Business date YYYY-MM-DD in REPORTER_TIMEZONE.
        #[arg(long)]
        date: chrono::NaiveDate,
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
        hour: Option<u8>,
    },
    /// Drive the schedule by hand (tests, soaks, drills).
    #[command(subcommand)]
    Beat(commands::schedule::BeatAction),
    /// Each queue's waiting, scheduled, in-flight and dead jobs.
    Queues,
    /// Recent runs with their users' progress.
    Runs {
        #[arg(long, default_value_t = 10)]
        last: i64,
    },
    /// One run with every user's progress and its ranges.
    Run { id: i64 },
    /// Apply the retention policy now (beat does it daily at
    /// REPORTER_PRUNE_HOUR): old exports, runs, reports and finished jobs.
    Prune {
        /// Print what would be deleted per table; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The supplier portal: check a customer's account against the profile.
    #[command(subcommand)]
    Portal(commands::portal::PortalCommand),
    /// Browser semaphore holders (worker, job, since) against the limit.
    Semaphore {
        #[command(subcommand)]
        action: Option<commands::semaphore::SemaphoreAction>,
    },
}

/// `reporterctl runs | head` closes the pipe early. Rust ignores SIGPIPE,
/// so `println!` panics on the closed stdout: end quietly instead, with the
/// status a shell tool killed by SIGPIPE has (128 + 13).
fn exit_quietly_when_stdout_closes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() {
    exit_quietly_when_stdout_closes();
    let cli = Cli::parse();
    // Liveness must not depend on the rest of the configuration.
    if let Command::Alive { file, max_age } = &cli.command {
        std::process::exit(commands::alive::run(file, *max_age));
    }
    let settings = Settings::load_or_exit();
    reporter_core::telemetry::init_stderr(settings.log_json);
    let result = match cli.command {
        Command::Migrate => commands::migrate::run(&settings),
        Command::User(c) => commands::user::run(&settings, c),
        Command::Token(c) => commands::token::run(&settings, c),
        Command::Slots { plan: true, .. } => commands::slots::run_plan(&settings),
        Command::Slots { all, .. } => commands::slots::run(&settings, all),
        Command::Check => commands::check::run(&settings),
        Command::Alive { .. } => unreachable!("handled before the settings load"),
        Command::TriggerSlot { hour, date, shadow } => {
            commands::trigger::run(&settings, hour, date, shadow)
        }
        Command::Schedule { json, action } => match action {
            None => commands::schedule::show(&settings, json),
            Some(a) => commands::schedule::run(&settings, a),
        },
        Command::Backfill { date, hour } => commands::schedule::backfill(&settings, date, hour),
        Command::Beat(a) => commands::schedule::beat(&settings, a),
        Command::Queues => commands::queues::run(&settings),
        Command::Runs { last } => commands::runs::list(&settings, last),
        Command::Run { id } => commands::runs::show(&settings, id),
        Command::Prune { dry_run } => commands::prune::run(&settings, dry_run),
        Command::Semaphore { action } => commands::semaphore::run(&settings, action),
        Command::Portal(c) => match commands::portal::run(&settings, c) {
            Ok(false) => std::process::exit(1),
            other => other.map(|_| ()),
        },
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        let refused = e.downcast_ref::<commands::Refused>().is_some();
        std::process::exit(if refused { 2 } else { 1 });
    }
}
