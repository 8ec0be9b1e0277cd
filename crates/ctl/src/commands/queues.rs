use reporter_core::config::Settings;

pub fn run(settings: &Settings) -> anyhow::Result<()> {
    let stats = super::block_on(async {
        let mut conn = reporter_core::redis_conn::connect(settings.redis_url()).await?;
        anyhow::Ok(reporter_core::jobs::queue_stats(&mut conn, &settings.redis_prefix).await?)
    })??;
    println!(
        "{:<18} {:>8} {:>10} {:>10} {:>6}",
        "QUEUE", "WAITING", "SCHEDULED", "IN-FLIGHT", "DEAD"
    );
    for q in stats {
        println!(
            "{:<18} {:>8} {:>10} {:>10} {:>6}",
            q.queue, q.waiting, q.scheduled, q.in_flight, q.dead
        );
    }
    Ok(())
}
