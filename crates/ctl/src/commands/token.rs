use anyhow::Context;
use clap::Subcommand;
use reporter_core::config::Settings;
use reporter_core::models::{token, user};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; it is printed once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Expire after this many days (default: never).
        #[arg(long)]
        days: Option<i64>,
    },
}

pub fn run(settings: &Settings, cmd: TokenCommand) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    match cmd {
        TokenCommand::Create { email, name, days } => {
            let u = user::find_by_email(&mut conn, &email)?
                .with_context(|| format!("no user {email}"))?;
            let expires = days.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            let t = token::issue(&mut conn, u.id, &name, expires)?;
            println!("{t}");
        }
    }
    Ok(())
}
