use std::io::IsTerminal;

use clap::Subcommand;
use reporter_core::browser_semaphore::BrowserSemaphore;
use reporter_core::config::Settings;

#[derive(Subcommand)]
pub enum SemaphoreAction {
    /// Clear every lease (asks for confirmation on a terminal; `--yes` skips it).
    Reset {
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(settings: &Settings, action: Option<SemaphoreAction>) -> anyhow::Result<()> {
    super::block_on(async {
        let conn = reporter_core::redis_conn::connect(settings.redis_url()).await?;
        let sem = BrowserSemaphore::from_settings(conn, settings);
        match action {
            None => {
                let holders = sem.holders().await?;
                println!(
                    "browser leases in use: {}/{}",
                    holders.len(),
                    settings.max_active_selenium
                );
                for h in holders {
                    println!(
                        "  {}  worker={} job={} since={} expires={} session={}",
                        h.lease_id,
                        h.worker,
                        h.job,
                        h.since.format("%H:%M:%S"),
                        h.expires_at.format("%H:%M:%S"),
                        h.webdriver_session.unwrap_or_else(|| "-".into())
                    );
                }
            }
            Some(SemaphoreAction::Reset { yes }) => {
                if !yes {
                    anyhow::ensure!(
                        std::io::stdin().is_terminal(),
                        "refusing to reset without --yes when not on a terminal"
                    );
                    eprint!("Clear all {} browser leases? Running jobs will lose theirs and stop. [y/N] ", sem.in_use().await?);
                    let mut answer = String::new();
                    std::io::stdin().read_line(&mut answer)?;
                    anyhow::ensure!(answer.trim().eq_ignore_ascii_case("y"), "aborted");
                }
                sem.reset().await?;
                println!("semaphore reset");
            }
        }
        anyhow::Ok(())
    })?
}
