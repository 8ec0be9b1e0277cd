//! Times the compare step, `pipeline::store_and_compare`, for one big export
//! against a database that holds a year of history (`scripts/bench-growth.sh`
//! generates it and calls this).
//!
//! Picks the customer with the most monthly orders, builds an export of
//! `--orders` orders from their newest baseline export of an earlier day
//! (about 5 % unchanged and non-terminal: stuck), and for each repetition
//! creates a run and run-user for today and calls the real
//! `store_and_compare` (store the batch, load the previous one, compare,
//! store the stuck list and its ranges, in one transaction). Prints every
//! duration and the median, then deletes what it created.
//!
//!   DATABASE_URL=postgres://... cargo run --release -p reporter-core \
//!     --example bench_compare -- [--orders 10000] [--reps 5]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Integer, Nullable, Text};
use reporter_core::domain::OrderSnapshot;
use reporter_core::models::pipeline;

#[derive(QueryableByName)]
struct Customer {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Integer)]
    slot_id: i32,
    #[diesel(sql_type = Integer)]
    weight: i32,
    #[diesel(sql_type = Date)]
    today: chrono::NaiveDate,
    #[diesel(sql_type = BigInt)]
    ledger_rows: i64,
    #[diesel(sql_type = BigInt)]
    ledger_days: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    order_id: i64,
    #[diesel(sql_type = Text)]
    order_date: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    carrier: String,
    #[diesel(sql_type = Text)]
    tracking_number: String,
    #[diesel(sql_type = Text)]
    customer: String,
    #[diesel(sql_type = Text)]
    city: String,
    #[diesel(sql_type = Nullable<Double>)]
    total: Option<f64>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} needs a number"))
        })
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let orders = arg("--orders", 10_000);
    let reps = arg("--reps", 5).max(1);
    let range_size = arg("--range-size", 100).max(1);
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is required")?;
    let tz = std::env::var("REPORTER_TIMEZONE").unwrap_or_else(|_| "America/Bogota".into());
    let mut conn = PgConnection::establish(&url)?;

    let c: Customer = diesel::sql_query(
        "SELECT u.id AS user_id, u.email, r.slot_id, r.calculated_weight AS weight,
                (now() AT TIME ZONE $1)::date AS today,
                (SELECT count(*) FROM reporter_order_reports o WHERE o.user_id = u.id) AS ledger_rows,
                (SELECT count(DISTINCT business_date) FROM reporter_order_reports o WHERE o.user_id = u.id) AS ledger_days
           FROM users u JOIN reporter_reservations r ON r.user_id = u.id
          ORDER BY u.monthly_orders_estimate DESC, u.id LIMIT 1",
    )
    .bind::<Text, _>(&tz)
    .get_result(&mut conn)?;
    let previous: Vec<Row> = diesel::sql_query(
        "SELECT order_id, order_date, status, carrier, tracking_number, customer, city, total
           FROM reporter_export_rows WHERE batch_id =
                (SELECT id FROM reporter_export_batches
                  WHERE user_id = $1 AND baseline AND business_date < $2
                  ORDER BY business_date DESC, id DESC LIMIT 1)
          ORDER BY order_id",
    )
    .bind::<BigInt, _>(c.user_id)
    .bind::<Date, _>(c.today)
    .load(&mut conn)?;
    if previous.is_empty() {
        return Err(format!("{} has no baseline export before {}", c.email, c.today).into());
    }

    // Today's export: a day's worth of the oldest orders leave the window,
    // as many new ones arrive; every 20th order keeps its status (stuck
    // when non-terminal), every other order moves on.
    let shift = (previous.len() / 30).max(1);
    let max_id = previous.iter().map(|r| r.order_id).max().unwrap_or(0);
    let mut export: Vec<OrderSnapshot> = previous
        .iter()
        .skip(shift)
        .enumerate()
        .map(|(i, r)| OrderSnapshot {
            order_id: r.order_id,
            order_date: r.order_date.clone(),
            status: if i % 20 == 0 {
                r.status.clone()
            } else if r.status == "EN_REPARTO" {
                "ENTREGADO".into()
            } else {
                "EN_REPARTO".into()
            },
            carrier: r.carrier.clone(),
            tracking_number: r.tracking_number.clone(),
            customer: r.customer.clone(),
            city: r.city.clone(),
            total: r.total,
        })
        .collect();
    let mut next = max_id;
    while export.len() < orders {
        next += 1;
        export.push(OrderSnapshot {
            order_id: next,
            order_date: c.today.to_string(),
            status: "GUIA_GENERADA".into(),
            carrier: "Servientrega".into(),
            tracking_number: format!("TRK{next:012}"),
            customer: format!("Cliente {}", next % 997),
            city: "Bogotá".into(),
            total: Some(100_000.0),
        });
    }
    export.truncate(orders);

    println!(
        "customer {} (user {}): ledger {} rows over {} days; previous export {} rows; today's export {} rows",
        c.email,
        c.user_id,
        c.ledger_rows,
        c.ledger_days,
        previous.len(),
        export.len()
    );

    let mut runs = Vec::new();
    let mut times: Vec<Duration> = Vec::new();
    let result = time_reps(
        &mut conn, &c, &export, reps, range_size, &mut runs, &mut times,
    );

    // Clean up whatever was created, even after an error.
    if !runs.is_empty() {
        diesel::sql_query(
            "DELETE FROM reporter_export_batches WHERE run_user_id IN
               (SELECT id FROM reporter_run_users WHERE run_id = ANY($1))",
        )
        .bind::<diesel::sql_types::Array<BigInt>, _>(&runs)
        .execute(&mut conn)?;
        diesel::sql_query("DELETE FROM reporter_runs WHERE id = ANY($1)")
            .bind::<diesel::sql_types::Array<BigInt>, _>(&runs)
            .execute(&mut conn)?;
    }
    result?;

    times.sort();
    let median = times[times.len() / 2];
    println!(
        "store_and_compare median of {}: {:.1} ms (min {:.1}, max {:.1})",
        times.len(),
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Each repetition: a run and run-user for today, then the timed
/// `store_and_compare`. Created run ids go to `runs` (for the clean-up).
fn time_reps(
    conn: &mut PgConnection,
    c: &Customer,
    export: &[OrderSnapshot],
    reps: usize,
    range_size: usize,
    runs: &mut Vec<i64>,
    times: &mut Vec<Duration>,
) -> Result<(), Box<dyn std::error::Error>> {
    for rep in 0..reps {
        let run: Id = diesel::sql_query(
            "INSERT INTO reporter_runs (slot_id, scheduled_at, business_date, status, started_at, origin)
             VALUES ($1, date_trunc('hour', now()) + make_interval(secs => $2 + 0.001 * (random() * 1000)::int),
                     $3, 'running', now(), 'manual')
             RETURNING id",
        )
        .bind::<Integer, _>(c.slot_id)
        .bind::<Double, _>(rep as f64 + 1.0)
        .bind::<Date, _>(c.today)
        .get_result(conn)?;
        runs.push(run.id);
        let ru: Id = diesel::sql_query(
            "INSERT INTO reporter_run_users (run_id, user_id, weight, download_compare_status)
             VALUES ($1, $2, $3, 'running') RETURNING id",
        )
        .bind::<BigInt, _>(run.id)
        .bind::<BigInt, _>(c.user_id)
        .bind::<Integer, _>(c.weight)
        .get_result(conn)?;
        let (run_user, _) = pipeline::load_run_user(conn, ru.id)?.ok_or("run-user vanished")?;
        let clock = Instant::now();
        let outcome =
            pipeline::store_and_compare(conn, &run_user, c.today, export, range_size, true)?;
        let took = clock.elapsed();
        println!(
            "rep {}: {:>7.1} ms  (baseline found: {}, stuck {}, ranges {})",
            rep + 1,
            took.as_secs_f64() * 1000.0,
            outcome.had_baseline,
            outcome.stuck,
            outcome.range_ids.len()
        );
        times.push(took);
    }
    Ok(())
}
