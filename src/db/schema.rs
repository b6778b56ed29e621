//! Portable table definitions shared by both backends (ids as BIGINT, times as UTC TIMESTAMP).

diesel::table! {
    provinces (code) {
        code -> Text,
        name -> Text,
        full_name -> Text,
        kind -> Text,
    }
}

diesel::table! {
    wards (code) {
        code -> Text,
        name -> Text,
        full_name -> Text,
        kind -> Text,
        province_code -> Text,
    }
}

diesel::table! {
    agencies (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        parent_id -> Nullable<BigInt>,
        tier -> Text,
        province_code -> Nullable<Text>,
        ward_code -> Nullable<Text>,
        created_at -> Timestamp,
        office_id -> Text,
        kind -> Text,
        department_key -> Nullable<Text>,
        address -> Text,
        phone -> Text,
        email -> Text,
        auto_assign -> Bool,
        office_hours -> Nullable<Text>,
    }
}

diesel::table! {
    fields (id) {
        id -> BigInt,
        name -> Text,
        slug -> Text,
    }
}

diesel::table! {
    target_groups (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    services (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        field_id -> BigInt,
        ministry_id -> BigInt,
        agency_id -> Nullable<BigInt>,
        procedure_type -> Text,
        decision_number -> Text,
        implementing_agency -> Text,
        competent_agency -> Text,
        documents_text -> Text,
        steps -> Text,
        requirements -> Text,
        result_code -> Text,
        result -> Text,
        related_procedures -> Text,
        source_url -> Text,
        online_level -> Integer,
        online_level_source -> Text,
        has_online -> Bool,
        active -> Bool,
        version -> Integer,
        seed_hash -> Text,
        updated_at -> Timestamp,
        published -> Bool,
    }
}

diesel::table! {
    service_implementing_levels (service_id, level) {
        service_id -> BigInt,
        level -> Text,
    }
}

diesel::table! {
    service_target_groups (service_id, target_group_id) {
        service_id -> BigInt,
        target_group_id -> BigInt,
    }
}

diesel::table! {
    service_channels (id) {
        id -> BigInt,
        service_id -> BigInt,
        position -> Integer,
        channel -> Text,
        processing_time -> Nullable<Double>,
        time_unit -> Nullable<Text>,
        time_unit_text -> Text,
        fee_vnd -> Nullable<BigInt>,
        fee_text -> Text,
    }
}

diesel::table! {
    service_documents (id) {
        id -> BigInt,
        service_id -> BigInt,
        position -> Integer,
        case_name -> Text,
        name -> Text,
        form_template -> Text,
        originals -> Nullable<Integer>,
        copies -> Nullable<Integer>,
    }
}

diesel::table! {
    service_legal_bases (id) {
        id -> BigInt,
        service_id -> BigInt,
        position -> Integer,
        title -> Text,
        number -> Text,
    }
}

diesel::table! {
    service_versions (id) {
        id -> BigInt,
        service_id -> BigInt,
        version -> Integer,
        snapshot -> Text,
        changed_by -> Nullable<BigInt>,
        changed_at -> Timestamp,
        note -> Text,
    }
}

diesel::table! {
    holidays (day) {
        day -> Date,
        name_vi -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    search_synonyms (id) {
        id -> BigInt,
        term -> Text,
        expansion -> Text,
    }
}

diesel::table! {
    app_state (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        email_verified_at -> Nullable<Timestamp>,
        full_name -> Text,
        phone -> Text,
        cccd -> Nullable<Text>,
        date_of_birth -> Nullable<Date>,
        province_code -> Nullable<Text>,
        ward_code -> Nullable<Text>,
        address -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    agency_members (user_id, agency_id) {
        user_id -> BigInt,
        agency_id -> BigInt,
        is_lead -> Bool,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> BigInt,
        mfa_ok -> Bool,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ip -> Text,
        user_agent -> Text,
    }
}

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        purpose -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (token_hash) {
        token_hash -> Text,
        public_id -> Text,
        user_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        to_address -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        event -> Text,
        subject -> Text,
        ip -> Text,
        detail -> Text,
    }
}

diesel::table! {
    login_failures (subject) {
        subject -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        window_start -> Timestamp,
        count -> Integer,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> BigInt,
        level -> Text,
        ministry_id -> Nullable<BigInt>,
        field_id -> Nullable<BigInt>,
        service_code -> Nullable<Text>,
        target -> Text,
        department_key -> Nullable<Text>,
        note -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    forms (id) {
        id -> BigInt,
        service_code -> Text,
        version -> Integer,
        definition -> Text,
        source -> Text,
        published -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    drafts (id) {
        id -> BigInt,
        public_id -> Text,
        user_id -> BigInt,
        service_id -> BigInt,
        level -> Text,
        province_code -> Nullable<Text>,
        ward_code -> Nullable<Text>,
        agency_id -> BigInt,
        rule_id -> Nullable<BigInt>,
        form_version -> Integer,
        answers -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        expires_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    dossiers (id) {
        id -> BigInt,
        code -> Text,
        draft_public_id -> Nullable<Text>,
        agency_id -> BigInt,
        service_id -> BigInt,
        service_version -> Integer,
        user_id -> Nullable<BigInt>,
        channel -> Text,
        status -> Integer,
        level -> Text,
        province_code -> Nullable<Text>,
        ward_code -> Nullable<Text>,
        rule_id -> Nullable<BigInt>,
        route_note -> Text,
        form_version -> Integer,
        form_definition -> Text,
        answers -> Text,
        applicant_name -> Text,
        applicant_cccd -> Text,
        applicant_phone -> Text,
        applicant_email -> Text,
        applicant_address -> Text,
        fee_vnd -> BigInt,
        time_limit -> Text,
        submitted_at -> Timestamp,
        clock_starts_at -> Timestamp,
        due_at -> Nullable<Timestamp>,
        lock_version -> Integer,
        updated_at -> Timestamp,
        stage -> Integer,
        assigned_to -> Nullable<BigInt>,
        applicant_key -> Text,
    }
}

diesel::table! {
    dossier_events (id) {
        id -> BigInt,
        dossier_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        from_status -> Nullable<Integer>,
        to_status -> Integer,
        note -> Text,
        internal -> Bool,
    }
}

diesel::table! {
    office_sequences (agency_id, day) {
        agency_id -> BigInt,
        day -> Date,
        last_value -> Integer,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        public_id -> Text,
        draft_id -> Nullable<BigInt>,
        dossier_id -> Nullable<BigInt>,
        owner_id -> BigInt,
        slot -> Text,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payments (id) {
        id -> BigInt,
        reference -> Text,
        draft_id -> Nullable<BigInt>,
        dossier_id -> Nullable<BigInt>,
        user_id -> BigInt,
        amount_vnd -> BigInt,
        status -> Text,
        gateway -> Text,
        gateway_txn -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        paid_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    payment_notifications (id) {
        id -> BigInt,
        reference -> Text,
        received_at -> Timestamp,
        outcome -> Text,
        payload -> Text,
    }
}

diesel::table! {
    consultations (id) {
        id -> BigInt,
        dossier_id -> BigInt,
        from_agency_id -> BigInt,
        to_agency_id -> BigInt,
        question -> Text,
        asked_by -> Nullable<BigInt>,
        asked_at -> Timestamp,
        answer -> Nullable<Text>,
        answered_by -> Nullable<BigInt>,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    office_keys (agency_id) {
        agency_id -> BigInt,
        public_key -> Text,
        sealed_secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    results (id) {
        id -> BigInt,
        dossier_id -> BigInt,
        agency_id -> BigInt,
        verify_code -> Text,
        file_name -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        signature -> Text,
        public_key -> Text,
        storage_key -> Text,
        generated -> Bool,
        decision -> Text,
        issued_by -> Nullable<BigInt>,
        issued_at -> Timestamp,
        downloaded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    form_snapshots (sha256) {
        sha256 -> Text,
        definition -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    office_stage_counts (agency_id, stage) {
        agency_id -> BigInt,
        stage -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    ratings (dossier_id) {
        dossier_id -> BigInt,
        user_id -> Nullable<BigInt>,
        scores -> Text,
        total -> Integer,
        comment -> Text,
        rated_at -> Timestamp,
    }
}

diesel::table! {
    dossier_stats (dossier_id) {
        dossier_id -> BigInt,
        agency_id -> BigInt,
        province_code -> Text,
        ministry_id -> BigInt,
        month -> Text,
        tally -> Text,
        watch_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    stat_cells (scope, scope_key, period) {
        scope -> Text,
        scope_key -> Text,
        period -> Text,
        received -> BigInt,
        online -> BigInt,
        counter -> BigInt,
        post -> BigInt,
        finished -> BigInt,
        withdrawn -> BigInt,
        on_time -> BigInt,
        late -> BigInt,
        overdue_now -> BigInt,
        days_sum -> BigInt,
        days_n -> BigInt,
        charged -> BigInt,
        paid_online -> BigInt,
        with_result -> BigInt,
        e_result -> BigInt,
        rated -> BigInt,
        negative -> BigInt,
        s1 -> BigInt,
        s2 -> BigInt,
        s3 -> BigInt,
        s4 -> BigInt,
        s5 -> BigInt,
        s6 -> BigInt,
        s7 -> BigInt,
        s8 -> BigInt,
        s9 -> BigInt,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        agency_id -> BigInt,
        url -> Text,
        secret -> Text,
        active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        dossier_id -> BigInt,
        event_id -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Text,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(wards -> provinces (province_code));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(services -> fields (field_id));
diesel::joinable!(service_channels -> services (service_id));
diesel::joinable!(service_documents -> services (service_id));
diesel::joinable!(service_legal_bases -> services (service_id));
diesel::joinable!(service_implementing_levels -> services (service_id));
diesel::joinable!(service_target_groups -> services (service_id));
diesel::joinable!(service_target_groups -> target_groups (target_group_id));
diesel::joinable!(agency_members -> users (user_id));
diesel::joinable!(agency_members -> agencies (agency_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(drafts -> services (service_id));
diesel::joinable!(drafts -> agencies (agency_id));
diesel::joinable!(dossiers -> services (service_id));
diesel::joinable!(dossiers -> agencies (agency_id));
diesel::joinable!(dossier_events -> dossiers (dossier_id));
diesel::joinable!(consultations -> dossiers (dossier_id));
diesel::joinable!(dossier_events -> users (actor_id));
diesel::joinable!(results -> dossiers (dossier_id));
diesel::joinable!(ratings -> dossiers (dossier_id));

diesel::allow_tables_to_appear_in_same_query!(
    provinces,
    wards,
    agencies,
    fields,
    target_groups,
    services,
    service_implementing_levels,
    service_target_groups,
    service_channels,
    service_documents,
    service_legal_bases,
    service_versions,
    holidays,
    search_synonyms,
    app_state,
    users,
    agency_members,
    sessions,
    account_tokens,
    recovery_codes,
    api_tokens,
    outbox,
    audit_log,
    login_failures,
    rate_limits,
    routing_rules,
    forms,
    drafts,
    dossiers,
    dossier_events,
    dossier_stats,
    stat_cells,
    webhooks,
    webhook_deliveries,
    office_sequences,
    attachments,
    payments,
    payment_notifications,
    consultations,
    office_keys,
    results,
    ratings,
    form_snapshots,
    office_stage_counts,
);
