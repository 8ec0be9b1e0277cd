use reporter_core::config::Settings;
use reporter_core::db;

pub fn run(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    let applied = db::run_migrations_locked(&mut conn)?;
    reporter_core::models::slot::sync_process_settings(&mut conn, settings)?;
    if applied.is_empty() {
        println!("migrations: nothing to apply");
    }
    for m in applied {
        println!("applied {m}");
    }
    Ok(())
}
