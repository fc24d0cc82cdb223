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
        open_shares -> Integer,
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
        first_response_due -> Nullable<Timestamp>,
        resolution_due -> Nullable<Timestamp>,
        first_response_at -> Nullable<Timestamp>,
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

diesel::joinable!(shares -> tickets (ticket_id));
diesel::joinable!(comments -> tickets (ticket_id));
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
);

diesel::table! {
    vault_tokens (contract_id, token) {
        contract_id -> Text,
        token -> Text,
        kind -> Text,
        lookup -> Text,
        ciphertext -> Text,
        created_at -> Timestamp,
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
