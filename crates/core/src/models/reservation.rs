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
use crate::planner::{self, HourVerdict, OverBudget, Planning};
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
    /// `REPORTER_ADMISSION=time` and the hour's predicted browser time
    /// would pass its budget.
    #[error("hour over its browser-time budget")]
    OverTimeBudget(OverBudget),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ReservationChange {
    pub slot_id: Option<i32>,
    pub monthly_orders: Option<MonthlyOrders>,
}

/// A reservation written, with the planner's warning when its hour is now
/// predicted past its browser-time budget (`REPORTER_ADMISSION=points`).
#[derive(Debug, Clone)]
pub struct Admitted {
    pub reservation: Reservation,
    pub over_budget: Option<OverBudget>,
}

/// The planner's check of `slot_id` with the user in it, under the slot's
/// row lock (held by the caller's transaction since `lock_and_check`), so
/// two requests for one hour are judged one after the other: in `time` mode
/// the second sees the first.
fn admit(
    conn: &mut PgConnection,
    planner: Option<&Planning>,
    slot_id: i32,
    user_id: i64,
    monthly: MonthlyOrders,
) -> Result<Option<OverBudget>, ReservationError> {
    let Some(p) = planner else { return Ok(None) };
    match planner::verdict_with(conn, p, slot_id, user_id, monthly.get())? {
        HourVerdict::Within => Ok(None),
        HourVerdict::Over(o) if p.settings.admission == planner::Admission::Time => {
            Err(ReservationError::OverTimeBudget(o))
        }
        HourVerdict::Over(o) => Ok(Some(o)),
    }
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
/// In `time` admission mode an hour with room in points but not in browser
/// time is skipped too; if every hour with points was, the last refusal is
/// the answer (it says why, where `no_slot_available` would not).
fn first_fit_locked(
    conn: &mut PgConnection,
    weight: Weight,
    window: ReservableWindow,
    planner: Option<(&Planning, i64, MonthlyOrders)>,
) -> Result<i32, ReservationError> {
    let snapshot: Vec<_> = slot::list_with_usage(conn, true)?
        .iter()
        .map(SlotView::usage)
        .collect();
    let mut candidates = snapshot.clone();
    let mut over_time = None;
    while let Some(pick) = first_fit(&candidates, weight, window) {
        let checked =
            lock_and_check(conn, pick.slot_id, weight, window, None).and_then(|()| match planner {
                Some((ps, user_id, monthly))
                    if ps.settings.admission == planner::Admission::Time =>
                {
                    admit(conn, Some(ps), pick.slot_id, user_id, monthly).map(|_| ())
                }
                _ => Ok(()),
            });
        match checked {
            Ok(()) => return Ok(pick.slot_id),
            Err(ReservationError::Rule(DomainError::SlotFull)) => {
                candidates.retain(|s| s.slot_id != pick.slot_id)
            }
            Err(ReservationError::OverTimeBudget(o)) => {
                over_time = Some(o);
                candidates.retain(|s| s.slot_id != pick.slot_id)
            }
            Err(e) => return Err(e),
        }
    }
    Err(over_time.map_or(
        DomainError::NoSlotAvailable.into(),
        ReservationError::OverTimeBudget,
    ))
}

/// Creates the user's reservation (`slot_id: None` = first fit), without
/// the planner (scripts, tests, seeds).
pub fn create(
    conn: &mut PgConnection,
    user_id: i64,
    slot_id: Option<i32>,
    monthly: MonthlyOrders,
    pending_factor: f64,
) -> Result<Reservation, ReservationError> {
    create_with(conn, user_id, slot_id, monthly, pending_factor, None).map(|a| a.reservation)
}

/// Creates the user's reservation, with the planner's browser-time check
/// (see [`Admitted`]).
pub fn create_planned(
    conn: &mut PgConnection,
    user_id: i64,
    slot_id: Option<i32>,
    monthly: MonthlyOrders,
    planner: &Planning,
) -> Result<Admitted, ReservationError> {
    let factor = planner.settings.pending_factor;
    create_with(conn, user_id, slot_id, monthly, factor, Some(planner))
}

fn create_with(
    conn: &mut PgConnection,
    user_id: i64,
    slot_id: Option<i32>,
    monthly: MonthlyOrders,
    pending_factor: f64,
    planner: Option<&Planning>,
) -> Result<Admitted, ReservationError> {
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
            None => first_fit_locked(conn, weight, window, planner.map(|p| (p, user_id, monthly)))?,
        };
        let over_budget = admit(conn, planner, slot_id, user_id, monthly)?;
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
        Ok(Admitted {
            reservation,
            over_budget,
        })
    })
}

/// Moves and/or re-weighs the reservation atomically under the same rule,
/// without the planner.
pub fn change(
    conn: &mut PgConnection,
    user_id: i64,
    change: ReservationChange,
    pending_factor: f64,
) -> Result<Reservation, ReservationError> {
    change_with(conn, user_id, change, pending_factor, None).map(|a| a.reservation)
}

/// Moves and/or re-weighs the reservation, with the planner's browser-time
/// check (see [`Admitted`]).
pub fn change_planned(
    conn: &mut PgConnection,
    user_id: i64,
    change: ReservationChange,
    planner: &Planning,
) -> Result<Admitted, ReservationError> {
    change_with(
        conn,
        user_id,
        change,
        planner.settings.pending_factor,
        Some(planner),
    )
}

fn change_with(
    conn: &mut PgConnection,
    user_id: i64,
    change: ReservationChange,
    pending_factor: f64,
    planner: Option<&Planning>,
) -> Result<Admitted, ReservationError> {
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
        let over_budget = admit(conn, planner, target, user_id, monthly)?;
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
            return Ok(Admitted {
                reservation: diesel::update(reporter_reservations::table.find(current.id))
                    .set(reporter_reservations::slot_assigned_at.eq(diesel::dsl::now))
                    .returning(Reservation::as_returning())
                    .get_result(conn)?,
                over_budget,
            });
        }
        Ok(Admitted {
            reservation: updated,
            over_budget,
        })
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
