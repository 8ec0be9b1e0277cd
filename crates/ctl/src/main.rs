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
    },
    /// Pre-deploy check: config valid, DB reachable, no pending migrations, Redis reachable.
    Check,
}

fn main() {
    let cli = Cli::parse();
    let settings = Settings::load_or_exit();
    reporter_core::telemetry::init(settings.log_json);
    let result = match cli.command {
        Command::Migrate => commands::migrate::run(&settings),
        Command::User(c) => commands::user::run(&settings, c),
        Command::Token(c) => commands::token::run(&settings, c),
        Command::Slots { all } => commands::slots::run(&settings, all),
        Command::Check => commands::check::run(&settings),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
