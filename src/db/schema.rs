//! Diesel table definitions, shared by both backends (portable column types only).

diesel::table! {
    contracts (id) {
        id -> Text,
        contractor -> Text,
        version -> Integer,
        sha256 -> Text,
        file_name -> Text,
        body -> Text,
        applied_at -> Timestamp,
        manual_overflow -> Bool,
        attainment_alert_since -> Nullable<Timestamp>,
        withdrawn_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    contract_versions (contract_id, version) {
        contract_id -> Text,
        version -> Integer,
        sha256 -> Text,
        body -> Text,
        applied_at -> Timestamp,
        applied_by -> Text,
    }
}

diesel::table! {
    tickets (id) {
        id -> BigInt,
        source -> Text,
        external_id -> Text,
        subject -> Text,
        description -> Text,
        requester_name -> Nullable<Text>,
        requester_email -> Nullable<Text>,
        requester_phone -> Nullable<Text>,
        channel -> Text,
        priority -> Text,
        category -> Nullable<Text>,
        language -> Nullable<Text>,
        tags -> Text,
        custom_fields -> Text,
        status -> Text,
        routing -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        escalated_at -> Nullable<Timestamp>,
        escalation -> Nullable<Text>,
        fingerprint -> Nullable<Text>,
    }
}

diesel::table! {
    shares (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        contract_id -> Text,
        contract_version -> Integer,
        contractor -> Text,
        state -> Text,
        handback_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        first_response_at -> Nullable<Timestamp>,
        capacity_stripe -> Nullable<Integer>,
        recall_cause -> Nullable<Text>,
        keep_in_house -> Bool,
        escalate_to -> Nullable<Text>,
        escalated_from -> Nullable<BigInt>,
        reopened_count -> Integer,
        reopened_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_pending (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        contract_id -> Nullable<Text>,
        ticket_id -> Nullable<BigInt>,
        details -> Text,
    }
}

diesel::table! {
    vault_numbers (contract_id, kind) {
        contract_id -> Text,
        kind -> Text,
        last -> BigInt,
    }
}

diesel::table! {
    capacity_stripes (contract_id, stripe) {
        contract_id -> Text,
        stripe -> Integer,
        open_shares -> Integer,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        share_id -> Nullable<BigInt>,
        origin -> Text,
        dedupe_key -> Text,
        author -> Text,
        body -> Text,
        public -> Bool,
        created_at -> Timestamp,
        written_body -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        contract_id -> Nullable<Text>,
        ticket_id -> Nullable<BigInt>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    ledger_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        revoked_at -> Timestamp,
        reason -> Text,
    }
}

diesel::table! {
    sla_clocks (id) {
        id -> BigInt,
        share_id -> BigInt,
        ticket_id -> BigInt,
        contract_id -> Text,
        kind -> Text,
        target_secs -> BigInt,
        started_at -> Timestamp,
        warn_at -> Timestamp,
        due_at -> Timestamp,
        paused_at -> Nullable<Timestamp>,
        warned_at -> Nullable<Timestamp>,
        breached_at -> Nullable<Timestamp>,
        stopped_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        elapsed_secs -> Nullable<BigInt>,
    }
}

diesel::table! {
    feedback (share_id, kind) {
        share_id -> BigInt,
        kind -> Text,
        ticket_id -> BigInt,
        contract_id -> Text,
        score -> Integer,
        comment -> Nullable<Text>,
        source -> Text,
        rated_at -> Timestamp,
    }
}

diesel::joinable!(shares -> tickets (ticket_id));
diesel::joinable!(sla_clocks -> shares (share_id));
diesel::joinable!(comments -> tickets (ticket_id));
diesel::joinable!(capacity_stripes -> contracts (contract_id));
diesel::allow_tables_to_appear_in_same_query!(
    contracts,
    contract_versions,
    tickets,
    shares,
    comments,
    audit_log,
    ledger_head,
    revoked_tokens,
    vault_tokens,
    queue_reports,
    sla_clocks,
    feedback,
    outbox_events,
    outbox_head,
    idempotency_keys,
    reports,
    capacity_stripes,
    audit_pending,
    vault_numbers,
);

diesel::table! {
    vault_tokens (contract_id, token) {
        contract_id -> Text,
        token -> Text,
        kind -> Text,
        lookup -> Text,
        ciphertext -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    queue_reports (id) {
        id -> Integer,
        depth -> BigInt,
        reported_at -> Timestamp,
        reported_by -> Text,
    }
}

diesel::table! {
    outbox_events (id) {
        id -> BigInt,
        seq -> BigInt,
        event_id -> Text,
        audience -> Text,
        contract_id -> Nullable<Text>,
        destination -> Text,
        ticket_id -> Nullable<BigInt>,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        retry_until -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        position -> Nullable<BigInt>,
    }
}

diesel::table! {
    outbox_head (id) {
        id -> Integer,
        seq -> BigInt,
        position -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_digest -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        scope -> Text,
        period_from -> Timestamp,
        period_to -> Timestamp,
        format -> Text,
        locale -> Text,
        trigger -> Text,
        requested_by -> Text,
        content -> Text,
        sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    console_sessions (id_hash) {
        id_hash -> Text,
        sub -> Text,
        role -> Text,
        token_jti -> Text,
        csrf -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    connector_cursors (connector) {
        connector -> Text,
        position -> BigInt,
        write_position -> BigInt,
        last_change_at -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        last_failure_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        failures -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    connector_writes (connector, event_id) {
        connector -> Text,
        event_id -> Text,
        state -> Text,
        attempted_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        comment_key -> Nullable<Text>,
        share_id -> Nullable<BigInt>,
        origin -> Text,
        dedupe_key -> Text,
        file_name -> Text,
        media_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        written_sha256 -> Nullable<Text>,
        written_size -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attachment_contents (sha256) {
        sha256 -> Text,
        content -> Binary,
    }
}

diesel::table! {
    knowledge_articles (id) {
        id -> Text,
        version -> Integer,
        sha256 -> Text,
        file_name -> Text,
        title -> Text,
        language -> Text,
        tags -> Text,
        audience -> Text,
        markdown -> Text,
        html -> Text,
        plain -> Text,
        applied_at -> Timestamp,
        withdrawn_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    quality_alerts (contract_id, metric) {
        contract_id -> Text,
        metric -> Text,
        since -> Timestamp,
    }
}

diesel::table! {
    reply_approvals (id) {
        id -> BigInt,
        share_id -> BigInt,
        ticket_id -> BigInt,
        contract_id -> Text,
        author -> Text,
        request -> Text,
        state -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        comment_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    subject_keys (key, ticket_id) {
        key -> Text,
        ticket_id -> BigInt,
        kind -> Text,
    }
}

diesel::table! {
    subject_backfill (id) {
        id -> Integer,
        up_to -> BigInt,
    }
}

diesel::table! {
    disclosed_tokens (contract_id, token, ticket_id) {
        contract_id -> Text,
        token -> Text,
        ticket_id -> BigInt,
        first_at -> Timestamp,
    }
}

diesel::table! {
    erasures (id) {
        id -> BigInt,
        requested_at -> Timestamp,
        requested_by -> Text,
        reason -> Text,
        selectors -> Text,
        tickets -> Text,
        tokens_erased -> BigInt,
        fields_struck -> BigInt,
    }
}

diesel::table! {
    erasure_notices (id) {
        id -> BigInt,
        erasure_id -> BigInt,
        contract_id -> Text,
        contractor -> Text,
        tickets -> Text,
        tokens -> Text,
        sent_at -> Timestamp,
        due_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        escalated_at -> Nullable<Timestamp>,
    }
}
