//! Reservations, with the capacity rule enforced under a row lock on the
//! slot: every writer of a slot's load holds that lock, so `used + weight <=
//! capacity` holds however many customers reserve at the same moment.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::slot::{self, SlotView};
use crate::domain::{
    estimated_pending_orders, first_fit, slot_accepts, DomainError, MonthlyOrders,
    ReservableWindow, Weight,
};
use crate::schema::{reporter_hour_slots, reporter_reservations, users};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = reporter_reservations, check_for_backend(diesel::pg::Pg))]
pub struct Reservation {
    pub id: i64,
    pub user_id: i64,
    pub slot_id: i32,
    pub monthly_orders_estimate: i32,
    pub estimated_pending_orders: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub calculated_weight: i32,
    /// When the reservation got its current hour.
    pub slot_assigned_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReservationError {
    #[error(transparent)]
    Rule(#[from] DomainError),
    #[error("no such slot")]
    SlotNotFound,
    #[error("no reservation")]
    NotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ReservationChange {
    pub slot_id: Option<i32>,
    pub monthly_orders: Option<MonthlyOrders>,
}

pub fn find_for_user(conn: &mut PgConnection, user_id: i64) -> QueryResult<Option<Reservation>> {
    reporter_reservations::table
        .filter(reporter_reservations::user_id.eq(user_id))
        .select(Reservation::as_select())
        .first(conn)
        .optional()
}

/// Every reservation with its user's email and hour, for operators.
pub fn list_all(conn: &mut PgConnection) -> QueryResult<Vec<(Reservation, String, i32)>> {
    reporter_reservations::table
        .inner_join(users::table)
        .inner_join(reporter_hour_slots::table)
        .order((reporter_hour_slots::hour, reporter_reservations::id))
        .select((
            Reservation::as_select(),
            users::email,
            reporter_hour_slots::hour,
        ))
        .load(conn)
}

/// Reservations of one slot, heaviest first (the order ranges are served in).
pub fn list_for_slot(conn: &mut PgConnection, slot_id: i32) -> QueryResult<Vec<Reservation>> {
    reporter_reservations::table
        .filter(reporter_reservations::slot_id.eq(slot_id))
        .order((
            reporter_reservations::calculated_weight.desc(),
            reporter_reservations::id,
        ))
        .select(Reservation::as_select())
        .load(conn)
}

fn used_points(
    conn: &mut PgConnection,
    slot_id: i32,
    excluding_user: Option<i64>,
) -> QueryResult<i32> {
    let mut q = reporter_reservations::table
        .filter(reporter_reservations::slot_id.eq(slot_id))
        .into_boxed();
    if let Some(u) = excluding_user {
        q = q.filter(reporter_reservations::user_id.ne(u));
    }
    let sum: Option<i64> = q
        .select(diesel::dsl::sum(reporter_reservations::calculated_weight))
        .first(conn)?;
    Ok(sum.unwrap_or(0) as i32)
}

/// Locks `slot_id` and checks the window and the capacity rule for `weight`.
fn lock_and_check(
    conn: &mut PgConnection,
    slot_id: i32,
    weight: Weight,
    window: ReservableWindow,
    excluding_user: Option<i64>,
) -> Result<(), ReservationError> {
    let slot = slot::lock(conn, slot_id)?.ok_or(ReservationError::SlotNotFound)?;
    window.check(slot.hour)?;
    let used = used_points(conn, slot_id, excluding_user)?;
    if slot_accepts(used, weight, slot.capacity_points) {
        Ok(())
    } else {
        Err(DomainError::SlotFull.into())
    }
}

/// First-fit under locks: candidates come from a snapshot, then each is
/// locked and re-checked, so a slot that filled meanwhile is skipped.
fn first_fit_locked(
    conn: &mut PgConnection,
    weight: Weight,
    window: ReservableWindow,
) -> Result<i32, ReservationError> {
    let snapshot: Vec<_> = slot::list_with_usage(conn, true)?
        .iter()
        .map(SlotView::usage)
        .collect();
    let mut candidates = snapshot.clone();
    while let Some(pick) = first_fit(&candidates, weight, window) {
        match lock_and_check(conn, pick.slot_id, weight, window, None) {
            Ok(()) => return Ok(pick.slot_id),
            Err(ReservationError::Rule(DomainError::SlotFull)) => {
                candidates.retain(|s| s.slot_id != pick.slot_id)
            }
            Err(e) => return Err(e),
        }
    }
    Err(DomainError::NoSlotAvailable.into())
}

/// Creates the user's reservation (`slot_id: None` = first fit).
pub fn create(
    conn: &mut PgConnection,
    user_id: i64,
    slot_id: Option<i32>,
    monthly: MonthlyOrders,
    pending_factor: f64,
) -> Result<Reservation, ReservationError> {
    conn.transaction(|conn| {
        if find_for_user(conn, user_id)?.is_some() {
            return Err(DomainError::AlreadyReserved.into());
        }
        let window = slot::config_for_share(conn)?.window();
        let weight = Weight::from_monthly_orders(monthly);
        let slot_id = match slot_id {
            Some(id) => {
                lock_and_check(conn, id, weight, window, None)?;
                id
            }
            None => first_fit_locked(conn, weight, window)?,
        };
        // ON CONFLICT: a concurrent request of the same user that got here
        // first wins; this one becomes "already reserved", not a 500.
        let inserted = diesel::insert_into(reporter_reservations::table)
            .values((
                reporter_reservations::user_id.eq(user_id),
                reporter_reservations::slot_id.eq(slot_id),
                reporter_reservations::monthly_orders_estimate.eq(monthly.get()),
                reporter_reservations::calculated_weight.eq(weight.points()),
                reporter_reservations::estimated_pending_orders
                    .eq(estimated_pending_orders(monthly, pending_factor)),
            ))
            .on_conflict(reporter_reservations::user_id)
            .do_nothing()
            .returning(Reservation::as_returning())
            .get_result(conn)
            .optional()?;
        let reservation = inserted.ok_or(DomainError::AlreadyReserved)?;
        super::user::set_monthly_orders(conn, user_id, monthly.get())?;
        Ok(reservation)
    })
}

/// Moves and/or re-weighs the reservation atomically under the same rule.
pub fn change(
    conn: &mut PgConnection,
    user_id: i64,
    change: ReservationChange,
    pending_factor: f64,
) -> Result<Reservation, ReservationError> {
    conn.transaction(|conn| {
        let current = reporter_reservations::table
            .filter(reporter_reservations::user_id.eq(user_id))
            .for_update()
            .select(Reservation::as_select())
            .first(conn)
            .optional()?
            .ok_or(ReservationError::NotFound)?;
        let monthly = match change.monthly_orders {
            Some(m) => m,
            None => MonthlyOrders::new(current.monthly_orders_estimate.into())?,
        };
        let weight = Weight::from_monthly_orders(monthly);
        let target = change.slot_id.unwrap_or(current.slot_id);
        let window = slot::config_for_share(conn)?.window();
        // Excluding our own weight: staying in the same hour with a new
        // weight only needs room for the new weight.
        lock_and_check(conn, target, weight, window, Some(user_id))?;
        let updated = diesel::update(reporter_reservations::table.find(current.id))
            .set((
                reporter_reservations::slot_id.eq(target),
                reporter_reservations::monthly_orders_estimate.eq(monthly.get()),
                reporter_reservations::calculated_weight.eq(weight.points()),
                reporter_reservations::estimated_pending_orders
                    .eq(estimated_pending_orders(monthly, pending_factor)),
                reporter_reservations::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Reservation::as_returning())
            .get_result(conn)?;
        super::user::set_monthly_orders(conn, user_id, monthly.get())?;
        if target != current.slot_id {
            // The new hour's runs owe it from now on (see crate::schedule).
            return Ok(
                diesel::update(reporter_reservations::table.find(current.id))
                    .set(reporter_reservations::slot_assigned_at.eq(diesel::dsl::now))
                    .returning(Reservation::as_returning())
                    .get_result(conn)?,
            );
        }
        Ok(updated)
    })
}

pub fn delete(conn: &mut PgConnection, user_id: i64) -> Result<(), ReservationError> {
    let n = diesel::delete(
        reporter_reservations::table.filter(reporter_reservations::user_id.eq(user_id)),
    )
    .execute(conn)?;
    if n == 0 {
        Err(ReservationError::NotFound)
    } else {
        Ok(())
    }
}
