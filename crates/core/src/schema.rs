// The diesel view of the tables in `migrations/`, kept by hand in step with
// them: `schema_rs_matches_the_migrated_database` (crates/ctl/tests/migrate.rs)
// compares every table and column here with a freshly migrated database.

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        monthly_orders_estimate -> Int4,
        portal_email -> Nullable<Text>,
        portal_password_enc -> Nullable<Bytea>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        user_id -> Int8,
        token_hash -> Bytea,
        name -> Text,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    reporter_slot_config (id) {
        id -> Int4,
        max_active_selenium -> Int4,
        estimated_pending_factor -> Float8,
        range_size -> Int4,
        updated_at -> Timestamptz,
        slot_capacity -> Int4,
        reporter_hour_start -> Int4,
        reporter_hour_end -> Int4,
    }
}

diesel::table! {
    reporter_hour_slots (id) {
        id -> Int4,
        hour -> Int4,
        max_users -> Int4,
        capacity_points -> Int4,
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
        calculated_weight -> Int4,
        slot_assigned_at -> Timestamptz,
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
        business_date -> Nullable<Date>,
        origin -> Text,
        late_start -> Bool,
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
        progress_message -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        weight -> Int4,
        download_attempts -> Int4,
        error -> Nullable<Text>,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    reporter_ranges (id) {
        id -> Int8,
        run_user_id -> Int8,
        range_start -> Int4,
        range_end -> Int4,
        status -> Text,
        locked_by -> Nullable<Text>,
        locked_at -> Nullable<Timestamptz>,
        completed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        fence -> Nullable<Int8>,
        attempts -> Int4,
        error -> Nullable<Text>,
        orders_reported -> Int4,
        available_at -> Nullable<Timestamptz>,
        failures -> Int4,
        last_chance_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    reporter_export_batches (id) {
        id -> Int8,
        user_id -> Int8,
        run_user_id -> Nullable<Int8>,
        business_date -> Date,
        row_count -> Int4,
        exported_at -> Timestamptz,
        baseline -> Bool,
    }
}

diesel::table! {
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
    reporter_stuck_orders (run_user_id, position) {
        run_user_id -> Int8,
        position -> Int4,
        order_id -> Int8,
        status -> Text,
        carrier -> Text,
        tracking_number -> Text,
        order_date -> Text,
    }
}

diesel::table! {
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
    reporter_schedule_state (id) {
        id -> Int4,
        last_reconcile_at -> Nullable<Timestamptz>,
        last_reconcile_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamptz>,
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

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(reporter_reservations -> users (user_id));
diesel::joinable!(reporter_reservations -> reporter_hour_slots (slot_id));
diesel::joinable!(reporter_runs -> reporter_hour_slots (slot_id));
diesel::joinable!(reporter_run_users -> reporter_runs (run_id));
diesel::joinable!(reporter_run_users -> users (user_id));
diesel::joinable!(reporter_ranges -> reporter_run_users (run_user_id));
diesel::joinable!(reporter_export_batches -> users (user_id));
diesel::joinable!(reporter_export_rows -> reporter_export_batches (batch_id));
diesel::joinable!(reporter_stuck_orders -> reporter_run_users (run_user_id));
diesel::joinable!(reporter_order_reports -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    api_tokens,
    reporter_slot_config,
    reporter_hour_slots,
    reporter_reservations,
    reporter_runs,
    reporter_run_users,
    reporter_ranges,
    reporter_export_batches,
    reporter_export_rows,
    reporter_stuck_orders,
    reporter_order_reports,
    reporter_schedule_missed_hours,
    reporter_schedule_pauses,
    reporter_schedule_state,
    reporter_prune_runs,
);
