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
    /// List a user's tokens (never their value): id, name, created, expires, state.
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke a user's tokens: one (`--id N`, from `token list`) or all (`--all`).
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        id: Option<i64>,
        #[arg(long)]
        all: bool,
    },
    /// Delete revoked and expired tokens (the beat does this once a day).
    Prune,
}

pub fn run(settings: &Settings, cmd: TokenCommand) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    let find_user = |conn: &mut _, email: &str| {
        user::find_by_email(conn, email)?.with_context(|| format!("no user {email}"))
    };
    match cmd {
        TokenCommand::Create { email, name, days } => {
            let u = find_user(&mut conn, &email)?;
            let expires = days.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            let t = token::issue(&mut conn, u.id, &name, expires)?;
            println!("{t}");
        }
        TokenCommand::List { email } => {
            let u = find_user(&mut conn, &email)?;
            let now = chrono::Utc::now();
            let ttl = settings.token_ttl();
            println!("id\tname\tcreated\texpires\tstate");
            for t in token::list_for_user(&mut conn, u.id)? {
                let expiry = t.effective_expiry(ttl);
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if expiry.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "live"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.name,
                    t.created_at.format("%Y-%m-%d %H:%M UTC"),
                    expiry.map_or("never".into(), |e| e
                        .format("%Y-%m-%d %H:%M UTC")
                        .to_string()),
                );
            }
        }
        TokenCommand::Revoke { email, id, all } => {
            let u = find_user(&mut conn, &email)?;
            let n = token::revoke_for_user(&mut conn, u.id, if all { None } else { id })?;
            if n == 0 && id.is_some() {
                return Err(super::Refused(format!(
                    "no live token {} of {email}",
                    id.unwrap_or_default()
                ))
                .into());
            }
            // API replicas may keep accepting it for up to 5 s (identity cache).
            println!("revoked {n} token(s) of {email}");
        }
        TokenCommand::Prune => {
            let n = token::prune(&mut conn, chrono::Utc::now(), settings.token_ttl())?;
            println!("deleted {n} revoked or expired token(s)");
        }
    }
    Ok(())
}
