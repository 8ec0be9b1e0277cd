use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::domain::{hour_label, ReservableWindow, SlotUsage};
use crate::schema::{reporter_hour_slots, reporter_slot_config};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = reporter_slot_config, check_for_backend(diesel::pg::Pg))]
pub struct SlotConfig {
    #[serde(skip)]
    pub id: i32,
    pub max_active_selenium: i32,
    pub estimated_pending_factor: f64,
    pub range_size: i32,
    pub updated_at: DateTime<Utc>,
    pub slot_capacity: i32,
    pub reporter_hour_start: i32,
    pub reporter_hour_end: i32,
}

impl SlotConfig {
    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: valid"
    )]
    pub fn window(&self) -> ReservableWindow {
        // The columns' CHECKs keep them in range; a start >= end written by
        // hand would make nothing reservable, which is the safe reading.
        ReservableWindow::new(self.reporter_hour_start, self.reporter_hour_end)
            .unwrap_or_else(|_| ReservableWindow::new(0, 1).expect("valid"))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = reporter_hour_slots, check_for_backend(diesel::pg::Pg))]
pub struct HourSlot {
    pub id: i32,
    pub hour: i32,
    pub max_users: i32,
    pub capacity_points: i32,
}

/// A slot as customers see it: load and room left.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlotView {
    pub id: i32,
    pub hour: i32,
    pub used_points: i32,
    pub capacity_points: i32,
    /// Legacy: the old per-slot user limit.
    pub max_users: i32,
    /// Legacy: reservations in this hour.
    pub current_users: i64,
}

impl SlotView {
    pub fn hour_label(&self) -> String {
        hour_label(self.hour)
    }

    pub fn available(&self) -> i32 {
        (self.capacity_points - self.used_points).max(0)
    }

    pub fn usage(&self) -> SlotUsage {
        SlotUsage {
            slot_id: self.id,
            hour: self.hour,
            used_points: self.used_points,
            capacity_points: self.capacity_points,
        }
    }
}

pub fn config(conn: &mut PgConnection) -> QueryResult<SlotConfig> {
    reporter_slot_config::table
        .find(1)
        .select(SlotConfig::as_select())
        .first(conn)
}

/// The config, share-locked until the transaction ends: reservations read
/// the window this way, so an admin narrowing it ([`update_config`] locks
/// the row for update) waits for them, or they for it; neither can slip a
/// reservation outside the new window.
pub fn config_for_share(conn: &mut PgConnection) -> QueryResult<SlotConfig> {
    reporter_slot_config::table
        .find(1)
        .for_share()
        .select(SlotConfig::as_select())
        .first(conn)
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Narrowing the window would leave reservations in hours that no
    /// longer run: the schedule would skip them silently.
    #[error("reservations in hours outside the new window: {hours:?}")]
    ReservationsOutsideWindow { hours: Vec<i32> },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Slots with their load; `window_only` limits them to the reservable window
/// (read from the config row in the same statement). Written with the DSL
/// rather than raw SQL so diesel caches it as a prepared statement: this is
/// the hottest query of the API.
pub fn list_with_usage(conn: &mut PgConnection, window_only: bool) -> QueryResult<Vec<SlotView>> {
    use crate::schema::reporter_reservations as r;
    use diesel::dsl::{count, sum};
    use reporter_hour_slots as s;
    use reporter_slot_config as c;

    let mut q = s::table
        .left_join(r::table)
        .group_by((s::id, s::hour, s::capacity_points, s::max_users))
        .select((
            s::id,
            s::hour,
            s::capacity_points,
            s::max_users,
            sum(r::calculated_weight.nullable()),
            count(r::id.nullable()),
        ))
        .order(s::hour)
        .into_boxed();
    if window_only {
        let start = c::table
            .find(1)
            .select(c::reporter_hour_start)
            .single_value();
        let end = c::table.find(1).select(c::reporter_hour_end).single_value();
        q = q.filter(s::hour.nullable().ge(start).and(s::hour.nullable().lt(end)));
    }
    let rows: Vec<(i32, i32, i32, i32, Option<i64>, i64)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, hour, capacity_points, max_users, used, current_users)| SlotView {
                id,
                hour,
                used_points: used.unwrap_or(0) as i32,
                capacity_points,
                max_users,
                current_users,
            },
        )
        .collect())
}

pub fn find_by_hour(conn: &mut PgConnection, hour: i32) -> QueryResult<Option<HourSlot>> {
    reporter_hour_slots::table
        .filter(reporter_hour_slots::hour.eq(hour))
        .select(HourSlot::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut PgConnection, id: i32) -> QueryResult<Option<HourSlot>> {
    reporter_hour_slots::table
        .find(id)
        .select(HourSlot::as_select())
        .first(conn)
        .optional()
}

/// Locks the slot row for the rest of the transaction: the point where
/// concurrent reservations for one hour queue up.
pub fn lock(conn: &mut PgConnection, id: i32) -> QueryResult<Option<HourSlot>> {
    reporter_hour_slots::table
        .find(id)
        .for_update()
        .select(HourSlot::as_select())
        .first(conn)
        .optional()
}

/// Changes to the slot config an admin may make. `slot_capacity` also sets
/// every slot's capacity, so "capacity 8" means what it says.
#[derive(Debug, Default, Clone)]
pub struct ConfigChange {
    pub slot_capacity: Option<i32>,
    pub reporter_hour_start: Option<i32>,
    pub reporter_hour_end: Option<i32>,
}

/// Refuses a window that leaves reservations outside it (nothing changed).
pub fn update_config(
    conn: &mut PgConnection,
    change: &ConfigChange,
) -> Result<SlotConfig, ConfigError> {
    use crate::schema::reporter_reservations as r;
    conn.transaction(|conn| {
        let current = reporter_slot_config::table
            .find(1)
            .for_update()
            .select(SlotConfig::as_select())
            .first(conn)?;
        let start = change
            .reporter_hour_start
            .unwrap_or(current.reporter_hour_start);
        let end = change
            .reporter_hour_end
            .unwrap_or(current.reporter_hour_end);
        let mut outside: Vec<i32> = r::table
            .inner_join(reporter_hour_slots::table)
            .filter(
                reporter_hour_slots::hour
                    .lt(start)
                    .or(reporter_hour_slots::hour.ge(end)),
            )
            .select(reporter_hour_slots::hour)
            .load(conn)?;
        outside.sort_unstable();
        outside.dedup();
        if !outside.is_empty() {
            return Err(ConfigError::ReservationsOutsideWindow { hours: outside });
        }
        let cap = change.slot_capacity.unwrap_or(current.slot_capacity);
        diesel::update(reporter_slot_config::table.find(1))
            .set((
                reporter_slot_config::slot_capacity.eq(cap),
                reporter_slot_config::reporter_hour_start.eq(change
                    .reporter_hour_start
                    .unwrap_or(current.reporter_hour_start)),
                reporter_slot_config::reporter_hour_end.eq(change
                    .reporter_hour_end
                    .unwrap_or(current.reporter_hour_end)),
                reporter_slot_config::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        if change.slot_capacity.is_some() {
            diesel::update(reporter_hour_slots::table)
                .set(reporter_hour_slots::capacity_points.eq(cap))
                .execute(conn)?;
        }
        Ok(reporter_slot_config::table
            .find(1)
            .select(SlotConfig::as_select())
            .first(conn)?)
    })
}

/// Mirrors the process settings into the legacy config columns, so SQL and
/// dashboards that read them see the values actually in force.
pub fn sync_process_settings(
    conn: &mut PgConnection,
    s: &crate::config::Settings,
) -> QueryResult<usize> {
    diesel::update(reporter_slot_config::table.find(1))
        .set((
            reporter_slot_config::max_active_selenium.eq(s.max_active_selenium as i32),
            reporter_slot_config::estimated_pending_factor.eq(s.estimated_pending_factor),
            reporter_slot_config::range_size.eq(s.range_size as i32),
        ))
        .execute(conn)
}

pub fn update_slot(
    conn: &mut PgConnection,
    id: i32,
    capacity: Option<i32>,
    max_users: Option<i32>,
) -> QueryResult<Option<HourSlot>> {
    conn.transaction(|conn| {
        let Some(slot) = lock(conn, id)? else {
            return Ok(None);
        };
        diesel::update(reporter_hour_slots::table.find(id))
            .set((
                reporter_hour_slots::capacity_points.eq(capacity.unwrap_or(slot.capacity_points)),
                reporter_hour_slots::max_users.eq(max_users.unwrap_or(slot.max_users)),
            ))
            .execute(conn)?;
        find(conn, id)
    })
}
