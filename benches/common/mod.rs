//! What the benchmarks share: a SQLite file, and a scratch PostgreSQL database when
//! `BRIDGE_BENCH_POSTGRES_URL` names a server.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// Runs `bench(label, url)` on a fresh SQLite file, then on a scratch PostgreSQL database
/// (created and dropped here) when `BRIDGE_BENCH_POSTGRES_URL` is set.
pub fn on_each_backend(mut bench: impl FnMut(&str, &str)) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    bench(
        "sqlite",
        &format!("sqlite://{}/bench.db", dir.path().display()),
    );
    if let Ok(admin_url) = std::env::var("BRIDGE_BENCH_POSTGRES_URL") {
        let name = format!("bridge_bench_{}", msp_bridge::random::random_hex(6));
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| panic!("{e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        bench("postgres", &format!("{base}/{name}"));
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}
