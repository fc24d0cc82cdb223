//! Any reply text: re-hydration never panics, leaves text without tokens unchanged, and turns
//! only the tokens given for the ticket into values (never one the contract issued elsewhere).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use msp_bridge::db::{Db, DbError};
use msp_bridge::redaction::rehydrate::rehydrate;
use msp_bridge::redaction::{Vault, VaultKeys};

fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("bridge-fuzz-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}", path.display())).unwrap_or_else(|e| panic!("{e}"));
        db.migrate().unwrap_or_else(|e| panic!("{e}"));
        db
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let keys = VaultKeys::from_bytes([5; 32]);
    let now = chrono::Utc::now();
    let result = db().dry_run(|conn| {
        let mut vault = Vault::new(conn, &keys, "fuzz", now);
        let issued = vault.token_for("EMAIL", "ivan@example.ru").map_err(|e| DbError::Task(e.to_string()))?;
        let elsewhere = vault.token_for("EMAIL", "maria@example.ru").map_err(|e| DbError::Task(e.to_string()))?;
        let given = std::collections::BTreeSet::from([issued.clone()]);
        let (out, stats) = rehydrate(text, &mut vault, &given).map_err(|e| DbError::Task(e.to_string()))?;
        let mentions = text.matches(issued.as_str()).count();
        assert!(stats.replaced >= mentions.min(1) || mentions == 0);
        assert!(!out.contains("maria@example.ru") || text.contains("maria@example.ru"), "{elsewhere} was turned back");
        if !text.contains('[') {
            assert_eq!(out, text);
        }
        Ok::<_, DbError>(())
    });
    assert!(result.is_ok(), "{result:?}");
});
