// @generated automatically by Diesel CLI.

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        user_id -> Int8,
        /// SHA-256 of the token; the token itself is shown once and never stored
        token_hash -> Bytea,
        name -> Text,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// One downloaded orders export of a customer's portal account
    reporter_export_batches (id) {
        id -> Int8,
        user_id -> Int8,
        run_user_id -> Nullable<Int8>,
        business_date -> Date,
        row_count -> Int4,
        exported_at -> Timestamptz,
        /// false for an export taken by a backfill of a past day: it shows a later day than its business date, so later compares skip it
        baseline -> Bool,
    }
}

diesel::table! {
    /// Snapshot of one order as the export showed it
    reporter_export_rows (batch_id, order_id) {
        batch_id -> Int8,
        order_id -> Int8,
        order_date -> Text,
        status -> Text,
        carrier -> Text,
        tracking_number -> Text,
        customer -> Text,
        city -> Text,
        total -> Nullable<Float8>,
    }
}

diesel::table! {
    reporter_hour_slots (id) {
        id -> Int4,
        /// Wall-clock hour (0-23) in REPORTER_TIMEZONE
        hour -> Int4,
        /// Legacy per-slot user limit, kept for old clients; capacity_points rules now
        max_users -> Int4,
        /// Sum of reservation weights this hour accepts
        capacity_points -> Int4,
    }
}

diesel::table! {
    /// Ledger of filed reports: an order is reported at most once per business day
    reporter_order_reports (id) {
        id -> Int8,
        user_id -> Int8,
        order_id -> Int8,
        business_date -> Date,
        run_user_id -> Nullable<Int8>,
        range_id -> Nullable<Int8>,
        ticket -> Text,
        outcome -> Text,
        status -> Text,
        carrier -> Text,
        tracking_number -> Text,
        reported_at -> Timestamptz,
    }
}

diesel::table! {
    /// Finished prunes: time, who, rows deleted per table (retention policy, docs/configuration.md)
    reporter_prune_runs (id) {
        id -> Int8,
        started_at -> Timestamptz,
        finished_at -> Timestamptz,
        by -> Text,
        tables -> Jsonb,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    reporter_ranges (id) {
        id -> Int8,
        run_user_id -> Int8,
        /// 1-based position in the run-user's ordered stuck-order list, inclusive
        range_start -> Int4,
        /// 1-based position, inclusive
        range_end -> Int4,
        status -> Text,
        locked_by -> Nullable<Text>,
        locked_at -> Nullable<Timestamptz>,
        completed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        /// Fencing token of the Redis range lock that owns the row; writes by older holders are refused
        fence -> Nullable<Int8>,
        attempts -> Int4,
        error -> Nullable<Text>,
        orders_reported -> Int4,
        /// A retried range is not taken again before this time
        available_at -> Nullable<Timestamptz>,
        /// Consecutive failed attempts without a single order reported; the range fails for good at the retry budget
        failures -> Int4,
        /// When the range was given its one extra attempt after its retry budget was spent (NULL: not yet)
        last_chance_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    reporter_reservations (id) {
        id -> Int8,
        user_id -> Int8,
        slot_id -> Int4,
        monthly_orders_estimate -> Int4,
        estimated_pending_orders -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        /// 1 (<=2000 orders/month), 2 (<=5000), 3 (more)
        calculated_weight -> Int4,
        /// When the reservation got its current hour: scheduled runs of instants before this do not include it
        slot_assigned_at -> Timestamptz,
    }
}

diesel::table! {
    reporter_run_users (id) {
        id -> Int8,
        run_id -> Int8,
        user_id -> Int8,
        download_compare_status -> Text,
        total_pending_orders -> Int4,
        total_ranges -> Int4,
        ranges_completed -> Int4,
        /// Friendly Spanish progress text shown to the customer
        progress_message -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        /// Reservation weight at run time; heavier customers' ranges go first
        weight -> Int4,
        download_attempts -> Int4,
        error -> Nullable<Text>,
        finished_at -> Nullable<Timestamptz>,
        /// Copy of the run's scheduled_at (set by trigger on insert), so a customer's runs are read newest first from one index
        scheduled_at -> Nullable<Timestamptz>,
        /// shadow: this customer's part checks every stuck order's page and files nothing (decided when the run is created); customers never see shadow parts
        report_mode -> Text,
    }
}

diesel::table! {
    reporter_runs (id) {
        id -> Int8,
        slot_id -> Int4,
        scheduled_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        status -> Text,
        created_at -> Timestamptz,
        /// Date of scheduled_at in REPORTER_TIMEZONE: the day D of the compare
        business_date -> Nullable<Date>,
        /// schedule (the reconciler), manual (trigger-slot) or backfill (reporterctl backfill)
        origin -> Text,
        /// Enqueued by the schedule more than the grace period after its hour began (caught up or backfilled)
        late_start -> Bool,
        /// Planner: browser-minutes the run was predicted to need when it was created (NULL: not predicted)
        predicted_browser_minutes -> Nullable<Float8>,
        /// Planner: wall-clock minutes the run was predicted to take when it was created (NULL: not predicted)
        predicted_duration_minutes -> Nullable<Float8>,
        /// finished_at - started_at in minutes, written when the run finishes (NULL: unfinished, or finished by code older than the planner)
        actual_duration_minutes -> Nullable<Float8>,
        /// live, or shadow: triggered as a rehearsal (reporterctl trigger-slot --shadow); every part of it is shadow
        report_mode -> Text,
    }
}

diesel::table! {
    /// Slot hours with reservations that fell out of the catch-up window without a run; one row each
    reporter_schedule_missed_hours (id) {
        id -> Int8,
        scheduled_at -> Timestamptz,
        business_date -> Date,
        hour -> Int4,
        reservations -> Int4,
        recorded_at -> Timestamptz,
        recorded_by -> Text,
    }
}

diesel::table! {
    /// A slot hour (or every hour when hour is NULL) is paused for instants in [paused_from, least(paused_until, resumed_at)): neither run nor counted missed
    reporter_schedule_pauses (id) {
        id -> Int8,
        hour -> Nullable<Int4>,
        paused_from -> Timestamptz,
        paused_until -> Nullable<Timestamptz>,
        resumed_at -> Nullable<Timestamptz>,
        note -> Text,
        created_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// The last successful reconcile of any beat (health and console read it)
    reporter_schedule_state (id) {
        id -> Int4,
        last_reconcile_at -> Nullable<Timestamptz>,
        last_reconcile_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// What a shadow run would have filed: one row per stuck order checked (would_report) or found already reported on the portal; never part of the ledger
    reporter_shadow_reports (id) {
        id -> Int8,
        run_user_id -> Int8,
        range_id -> Nullable<Int8>,
        user_id -> Int8,
        order_id -> Int8,
        business_date -> Date,
        outcome -> Text,
        ticket -> Text,
        status -> Text,
        carrier -> Text,
        tracking_number -> Text,
        checked_at -> Timestamptz,
    }
}

diesel::table! {
    /// Single row (id = 1) of slot-system settings
    reporter_slot_config (id) {
        id -> Int4,
        max_active_selenium -> Int4,
        estimated_pending_factor -> Float8,
        range_size -> Int4,
        updated_at -> Timestamptz,
        slot_capacity -> Int4,
        reporter_hour_start -> Int4,
        /// Exclusive: hours in [start, end) are reservable
        reporter_hour_end -> Int4,
    }
}

diesel::table! {
    reporter_stuck_orders (run_user_id, position) {
        run_user_id -> Int8,
        /// 1-based position; ranges cover [range_start, range_end] of it
        position -> Int4,
        order_id -> Int8,
        status -> Text,
        carrier -> Text,
        tracking_number -> Text,
        order_date -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        /// Login email, stored lower-case
        email -> Text,
        /// Argon2id PHC string
        password_hash -> Text,
        role -> Text,
        monthly_orders_estimate -> Int4,
        portal_email -> Nullable<Text>,
        /// Supplier portal password: version byte, 12-byte nonce, AES-256-GCM ciphertext
        portal_password_enc -> Nullable<Bytea>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        /// Overrides REPORTER_REPORT_MODE for this customer (NULL: the fleet's mode)
        reporter_report_mode -> Nullable<Text>,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(reporter_export_batches -> reporter_run_users (run_user_id));
diesel::joinable!(reporter_export_batches -> users (user_id));
diesel::joinable!(reporter_export_rows -> reporter_export_batches (batch_id));
diesel::joinable!(reporter_order_reports -> reporter_ranges (range_id));
diesel::joinable!(reporter_order_reports -> reporter_run_users (run_user_id));
diesel::joinable!(reporter_order_reports -> users (user_id));
diesel::joinable!(reporter_ranges -> reporter_run_users (run_user_id));
diesel::joinable!(reporter_reservations -> reporter_hour_slots (slot_id));
diesel::joinable!(reporter_reservations -> users (user_id));
diesel::joinable!(reporter_run_users -> reporter_runs (run_id));
diesel::joinable!(reporter_run_users -> users (user_id));
diesel::joinable!(reporter_runs -> reporter_hour_slots (slot_id));
diesel::joinable!(reporter_shadow_reports -> reporter_ranges (range_id));
diesel::joinable!(reporter_shadow_reports -> reporter_run_users (run_user_id));
diesel::joinable!(reporter_shadow_reports -> users (user_id));
diesel::joinable!(reporter_stuck_orders -> reporter_run_users (run_user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    reporter_export_batches,
    reporter_export_rows,
    reporter_hour_slots,
    reporter_order_reports,
    reporter_prune_runs,
    reporter_ranges,
    reporter_reservations,
    reporter_run_users,
    reporter_runs,
    reporter_schedule_missed_hours,
    reporter_schedule_pauses,
    reporter_schedule_state,
    reporter_shadow_reports,
    reporter_slot_config,
    reporter_stuck_orders,
    users,
);
