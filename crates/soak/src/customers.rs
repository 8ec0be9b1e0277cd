//! The soak's customers: seeded monthly volumes (so every weight occurs),
//! a portal account each, and a reservation spread over the window's hours
//! through the same capacity rule the API enforces.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::Rng;
use reporter_core::config::Settings;
use reporter_core::domain::MonthlyOrders;
use reporter_core::models::{reservation, slot, token, user};
use reporter_core::schema::{reporter_hour_slots, reporter_reservations};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub user_id: i64,
    pub email: String,
    pub portal_email: String,
    pub monthly_orders: i32,
    /// Orders the portal account starts with.
    pub portal_orders: usize,
    pub weight: i32,
    pub hour: u8,
}

/// Monthly volumes from a few hundred to 10,000: half light (weight 1),
/// a third medium (2), the rest heavy (3).
fn monthly_volume(rng: &mut StdRng) -> i32 {
    let roll: f64 = rng.gen();
    if roll < 0.5 {
        rng.gen_range(200..=2000)
    } else if roll < 0.8 {
        rng.gen_range(2001..=5000)
    } else {
        rng.gen_range(5001..=10_000)
    }
}

/// An account's export holds the orders still in flight plus recent ones:
/// about a twelfth of a month's volume.
fn portal_orders(monthly: i32) -> usize {
    (monthly as usize / 12).max(20)
}

/// Creates `n` customers with reservations in `hours` (round robin, an hour
/// that is full by capacity is skipped; if every hour is full the slots get
/// more capacity, which the soak reports). Reservations are dated
/// `assigned_at` so the schedule owes them every soak hour.
pub fn create(
    conn: &mut PgConnection,
    settings: &Settings,
    rng: &mut StdRng,
    n: usize,
    hours: &[u8],
    assigned_at: DateTime<Utc>,
) -> anyhow::Result<(Vec<Customer>, Option<i32>)> {
    let cipher = settings.credentials_cipher();
    let mut customers = Vec::with_capacity(n);
    let mut raised_capacity = None;
    for i in 0..n {
        let monthly = monthly_volume(rng);
        let email = format!("soak{i:03}@cliente.test");
        let portal_email = format!("soak{i:03}@portal.test");
        let u = user::insert(
            conn,
            &user::NewUser {
                email: &email,
                password_hash: "!soak-customers-do-not-log-in",
                role: "user",
                monthly_orders_estimate: monthly,
            },
        )?;
        user::set_portal_credentials(
            conn,
            u.id,
            &portal_email,
            &cipher.encrypt(&portal_password(i)),
        )?;
        let m = MonthlyOrders::new(i64::from(monthly)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut placed = None;
        for attempt in 0..(hours.len() * 2) {
            let hour = hours[(i + attempt) % hours.len()];
            let slot_id = slot::find_by_hour(conn, i32::from(hour))?
                .with_context(|| format!("no slot for hour {hour}"))?
                .id;
            match reservation::create(conn, u.id, Some(slot_id), m, 0.08) {
                Ok(r) => {
                    placed = Some((hour, r.calculated_weight));
                    break;
                }
                Err(_) if attempt + 1 == hours.len() => {
                    // Every hour is full: more capacity everywhere, then go on.
                    let cap = raised_capacity.unwrap_or(6) + 3;
                    diesel::update(reporter_hour_slots::table)
                        .set(reporter_hour_slots::capacity_points.eq(cap))
                        .execute(conn)?;
                    raised_capacity = Some(cap);
                }
                Err(_) => {}
            }
        }
        let (hour, weight) =
            placed.with_context(|| format!("customer {i} found no hour with capacity"))?;
        customers.push(Customer {
            user_id: u.id,
            email,
            portal_email,
            monthly_orders: monthly,
            portal_orders: portal_orders(monthly),
            weight,
            hour,
        });
    }
    diesel::update(reporter_reservations::table)
        .set((
            reporter_reservations::slot_assigned_at.eq(assigned_at),
            reporter_reservations::created_at.eq(assigned_at),
        ))
        .execute(conn)?;
    Ok((customers, raised_capacity))
}

pub fn portal_password(i: usize) -> String {
    format!("clave-soak-{i:03}")
}

/// The simulator's accounts file for these customers.
pub fn write_accounts_file(path: &Path, customers: &[Customer]) -> anyhow::Result<()> {
    let list: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            serde_json::json!({
                "email": c.portal_email,
                "password": portal_password(i),
                "orders": c.portal_orders,
            })
        })
        .collect();
    std::fs::write(path, serde_json::to_vec_pretty(&list)?)?;
    Ok(())
}

/// A token of the first customer, for sampling the customer API.
pub fn api_token(conn: &mut PgConnection, user_id: i64) -> anyhow::Result<String> {
    Ok(token::issue(conn, user_id, "soak-sampler", None)?)
}
