use anyhow::{bail, Context};
use clap::Subcommand;
use reporter_core::config::Settings;
use reporter_core::domain::{MonthlyOrders, ReportMode};
use reporter_core::models::user::{self, NewUser};
use reporter_core::models::Role;
use reporter_core::password::{generate_password, hash_password};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin when piped; otherwise
    /// one is generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        admin: bool,
        #[arg(long, default_value_t = 0)]
        monthly_orders: i64,
    },
    /// Set the supplier-portal login of a user; the portal password is read from stdin.
    SetPortalCredentials {
        #[arg(long)]
        email: String,
        #[arg(long)]
        portal_email: String,
    },
    /// Whether a customer's runs file reports: `live`, `shadow` (a
    /// rehearsal: every stuck order is checked and recorded as
    /// would_report, nothing is filed) or `fleet` (follow
    /// REPORTER_REPORT_MODE). From the next run they are in.
    Mode {
        #[arg(long)]
        email: String,
        #[arg(value_parser = ["live", "shadow", "fleet"])]
        mode: String,
    },
}

pub fn run(settings: &Settings, cmd: UserCommand) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    match cmd {
        UserCommand::Create {
            email,
            admin,
            monthly_orders,
        } => {
            let monthly = MonthlyOrders::new(monthly_orders)
                .map_err(|e| anyhow::anyhow!("--monthly-orders: {e}"))?;
            let email = user::normalize_email(&email);
            if !email.contains('@') {
                bail!("--email {email:?} is not an email address");
            }
            let (password, generated) = match super::read_stdin_secret()? {
                Some(p) => (p, false),
                None => (generate_password(), true),
            };
            let role = if admin { Role::Admin } else { Role::User };
            let hash = hash_password(&password);
            let u = user::insert(
                &mut conn,
                &NewUser {
                    email: &email,
                    password_hash: &hash,
                    role: role.as_str(),
                    monthly_orders_estimate: monthly.get(),
                },
            )
            .with_context(|| format!("create user {email} (does it exist already?)"))?;
            println!("created user id={} email={} role={}", u.id, u.email, u.role);
            if generated {
                println!("password: {password}");
                println!("(shown once; it is stored only as a hash)");
            }
        }
        UserCommand::SetPortalCredentials {
            email,
            portal_email,
        } => {
            let u = user::find_by_email(&mut conn, &email)?
                .with_context(|| format!("no user {email}"))?;
            let Some(pw) = super::read_stdin_secret()? else {
                bail!("pipe the portal password on stdin, e.g. `printf %s \"$PW\" | reporterctl user set-portal-credentials ...`")
            };
            let enc = settings.credentials_cipher().encrypt(&pw);
            user::set_portal_credentials(&mut conn, u.id, &portal_email, &enc)?;
            println!(
                "portal credentials set for {} (portal account {portal_email})",
                u.email
            );
        }
        UserCommand::Mode { email, mode } => {
            let u = user::find_by_email(&mut conn, &email)?
                .with_context(|| format!("no user {email}"))?;
            let own = ReportMode::parse(&mode);
            user::set_report_mode(&mut conn, u.id, own)?;
            let effective = own.unwrap_or(settings.report_mode);
            println!(
                "{}: report mode {mode} (from their next run: {effective})",
                u.email
            );
        }
    }
    Ok(())
}
