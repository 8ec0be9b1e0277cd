use reporter_core::config::Settings;
use reporter_core::models::slot;

pub fn run(settings: &Settings, all: bool) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    let cfg = slot::config(&mut conn)?;
    let slots = slot::list_with_usage(&mut conn, !all)?;
    println!(
        "window {} (zone {})",
        cfg.window().describe(),
        settings.timezone.name()
    );
    println!(
        "{:<6} {:>4} {:>8} {:>9} {:>6}",
        "HOUR", "ID", "USED", "CAPACITY", "USERS"
    );
    for s in slots {
        let mark = if s.available() == 0 { "  full" } else { "" };
        println!(
            "{:<6} {:>4} {:>8} {:>9} {:>6}{mark}",
            s.hour_label(),
            s.id,
            s.used_points,
            s.capacity_points,
            s.current_users
        );
    }
    Ok(())
}
