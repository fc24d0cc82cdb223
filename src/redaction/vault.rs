//! Keys and the token vault.
//!
//! One master key (`BRIDGE_VAULT_KEY`, 32 bytes as 64 hex characters, or generated into the
//! data folder with mode 0600) derives, per contract, the key for `hash` actions and the key
//! that makes vault look-ups; token values are sealed with AES-256-GCM under the master key,
//! bound to their contract and token as associated data.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;

use crate::clock::to_db;
use crate::db::schema::{contracts, vault_numbers, vault_tokens};
use crate::db::{AnyConnection, Db, DbError};

/// What can go wrong with keys or the vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key is missing, malformed or unreadable.
    #[error("vault key: {0}")]
    Key(String),
    /// Sealing or opening a value failed.
    #[error("vault crypto failed")]
    Crypto,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// Reserving token numbers in a transaction of their own failed.
    #[error(transparent)]
    Numbers(#[from] DbError),
}

/// The master key, and where new token numbers come from.
#[derive(Clone)]
pub struct VaultKeys {
    master: [u8; 32],
    numbers: Option<Arc<NumberBlocks>>,
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKeys(..)")
    }
}

/// Token numbers reserved per contract and kind in blocks, each block in a transaction of its
/// own on `db`: a share that tokenises a new value then holds no lock for its number, so
/// shares of one contract commit in parallel on PostgreSQL. Numbers of a block still unused
/// when the process stops are never given: numbers can have gaps, never repeats.
pub struct NumberBlocks {
    db: Db,
    free: Mutex<HashMap<(String, String), RangeInclusive<i64>>>,
}

/// Numbers reserved at a time.
const NUMBER_BLOCK: i64 = 64;

impl NumberBlocks {
    /// Blocks reserved on `db` (its own connections, not the caller's transaction).
    pub fn new(db: Db) -> Self {
        Self {
            db,
            free: Mutex::new(HashMap::new()),
        }
    }

    fn next(&self, contract_id: &str, kind: &str) -> Result<i64, VaultError> {
        let key = (contract_id.to_owned(), kind.to_owned());
        let taken = |free: &mut HashMap<_, RangeInclusive<i64>>| free.get_mut(&key)?.next();
        if let Some(n) = taken(&mut self.free.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(n);
        }
        let last = self.db.write(|c| {
            reserve_numbers(c, contract_id, kind, NUMBER_BLOCK).map_err(DbError::from)
        })?;
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        free.insert(key.clone(), last - NUMBER_BLOCK + 1..=last);
        Ok(taken(&mut free).unwrap_or(last))
    }
}

/// Moves the counter of `contract_id`'s `kind` tokens on by `count`; returns the last number
/// reserved.
fn reserve_numbers(
    conn: &mut AnyConnection,
    contract_id: &str,
    kind: &str,
    count: i64,
) -> QueryResult<i64> {
    let upsert = diesel::insert_into(vault_numbers::table)
        .values((
            vault_numbers::contract_id.eq(contract_id),
            vault_numbers::kind.eq(kind),
            vault_numbers::last.eq(count),
        ))
        .on_conflict((vault_numbers::contract_id, vault_numbers::kind))
        .do_update()
        .set(vault_numbers::last.eq(vault_numbers::last + count))
        .returning(vault_numbers::last);
    // Upserts are backend-specific in diesel.
    match conn {
        AnyConnection::Postgresql(pg) => upsert.get_result(pg),
        AnyConnection::Sqlite(lite) => upsert.get_result(lite),
    }
}

impl VaultKeys {
    /// New token numbers from `blocks` instead of the contract's lock (for PostgreSQL, where
    /// writers run in parallel; SQLite has one writer and needs neither).
    pub fn with_number_blocks(mut self, blocks: NumberBlocks) -> Self {
        self.numbers = Some(Arc::new(blocks));
        self
    }

    /// Keys from 32 raw bytes.
    pub fn from_bytes(master: [u8; 32]) -> Self {
        Self {
            master,
            numbers: None,
        }
    }

    /// From `BRIDGE_VAULT_KEY` (64 hex characters) if given, else `<data_dir>/vault-key`,
    /// created with a fresh random key (mode 0600) on first use.
    pub fn load(env_key: Option<&str>, data_dir: &Path) -> Result<Self, VaultError> {
        let parse = |text: &str| -> Result<Self, VaultError> {
            let bytes = hex::decode(text.trim())
                .map_err(|_| VaultError::Key("must be 64 hex characters".into()))?;
            let master: [u8; 32] = bytes
                .try_into()
                .map_err(|_| VaultError::Key("must be 32 bytes (64 hex characters)".into()))?;
            Ok(Self::from_bytes(master))
        };
        if let Some(key) = env_key.filter(|k| !k.is_empty()) {
            return parse(key);
        }
        parse(&crate::secrets::load_or_create(data_dir, "vault-key").map_err(VaultError::Key)?)
    }

    fn derived(&self, purpose: &str, contract_id: &str) -> hmac::Key {
        let master = hmac::Key::new(hmac::HMAC_SHA256, &self.master);
        let tag = hmac::sign(&master, format!("{purpose}\0{contract_id}").as_bytes());
        hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref())
    }

    /// A keyed hash of `value`, stable per contract: equal values give equal hashes, and
    /// another contract's hashes cannot be compared with these.
    pub fn keyed_hash(&self, contract_id: &str, value: &str) -> String {
        hex::encode(hmac::sign(&self.derived("hash", contract_id), value.as_bytes()).as_ref())
    }

    /// The keyed look-up of `value` of `kind` in `contract_id`'s vault: how the vault finds a
    /// value's token without decrypting anything, and how a data subject's tokens are found.
    pub fn lookup(&self, contract_id: &str, kind: &str, value: &str) -> String {
        let data = format!("{kind}\0{value}");
        hex::encode(hmac::sign(&self.derived("lookup", contract_id), data.as_bytes()).as_ref())
    }

    /// The keyed look-up of one of a person's identifiers (`email`, `phone`, `name` and its
    /// canonical form) in the gateway's own subject index: the same for every ticket, unlike
    /// a contract's look-ups, and useless without the master key.
    pub fn subject_key(&self, kind: &str, canonical: &str) -> String {
        let data = format!("{kind}\0{canonical}");
        hex::encode(hmac::sign(&self.derived("subject", ""), data.as_bytes()).as_ref())
    }

    fn cipher(&self) -> Result<LessSafeKey, VaultError> {
        UnboundKey::new(&AES_256_GCM, &self.master)
            .map(LessSafeKey::new)
            .map_err(|_| VaultError::Crypto)
    }

    fn seal(&self, contract_id: &str, token: &str, value: &str) -> Result<String, VaultError> {
        let mut nonce = [0_u8; NONCE_LEN];
        crate::random::fill(&mut nonce).map_err(|_| VaultError::Crypto)?;
        let mut data = value.as_bytes().to_vec();
        let aad = format!("{contract_id}\0{token}");
        self.cipher()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            .map_err(|_| VaultError::Crypto)?;
        Ok(format!("{}:{}", hex::encode(nonce), hex::encode(data)))
    }

    fn open(&self, contract_id: &str, token: &str, sealed: &str) -> Result<String, VaultError> {
        let (nonce, data) = sealed.split_once(':').ok_or(VaultError::Crypto)?;
        let nonce: [u8; NONCE_LEN] = hex::decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(VaultError::Crypto)?;
        let mut data = hex::decode(data).map_err(|_| VaultError::Crypto)?;
        let aad = format!("{contract_id}\0{token}");
        let plain = self
            .cipher()?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            .map_err(|_| VaultError::Crypto)?;
        String::from_utf8(plain.to_vec()).map_err(|_| VaultError::Crypto)
    }
}

/// The vault of one contract, used inside the caller's transaction. Tokens look like
/// `[EMAIL_1]`: the kind and a number counted per contract and kind.
pub struct Vault<'c> {
    conn: &'c mut AnyConnection,
    keys: &'c VaultKeys,
    contract_id: &'c str,
    now: DateTime<Utc>,
    issued: HashMap<(String, String), String>,
    locked: bool,
}

impl<'c> Vault<'c> {
    /// The vault of `contract_id`, on `conn`.
    pub fn new(
        conn: &'c mut AnyConnection,
        keys: &'c VaultKeys,
        contract_id: &'c str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            conn,
            keys,
            contract_id,
            now,
            issued: HashMap::new(),
            locked: false,
        }
    }

    /// The keys (for keyed hashes).
    pub fn keys(&self) -> &VaultKeys {
        self.keys
    }

    /// The contract this vault serves.
    pub fn contract_id(&self) -> &str {
        self.contract_id
    }

    /// Every token this vault has handed out so far (through [`Vault::token_for`]).
    pub fn tokens_handed_out(&self) -> std::collections::BTreeSet<String> {
        self.issued.values().cloned().collect()
    }

    /// The token for `value` of `kind` (`EMAIL`, `PHONE`, …), creating it on first use.
    pub fn token_for(&mut self, kind: &str, value: &str) -> Result<String, VaultError> {
        let cache_key = (kind.to_owned(), value.to_owned());
        if let Some(token) = self.issued.get(&cache_key) {
            return Ok(token.clone());
        }
        let lookup = self.keys.lookup(self.contract_id, kind, value);
        let token = match self.existing(kind, &lookup)? {
            Some(token) => token,
            None => self.issue(kind, &lookup, value)?,
        };
        self.issued.insert(cache_key, token.clone());
        Ok(token)
    }

    /// The token already issued for the value with this `lookup`, its last use brought up to
    /// date (retention counts from it; a day's precision keeps the write rare).
    fn existing(&mut self, kind: &str, lookup: &str) -> Result<Option<String>, VaultError> {
        let found: Option<(String, Option<NaiveDateTime>)> = vault_tokens::table
            .filter(vault_tokens::contract_id.eq(self.contract_id))
            .filter(vault_tokens::kind.eq(kind))
            .filter(vault_tokens::lookup.eq(lookup))
            .select((vault_tokens::token, vault_tokens::last_used_at))
            .get_result(self.conn)
            .optional()?;
        let Some((token, last_used)) = found else {
            return Ok(None);
        };
        let now = to_db(self.now);
        if last_used.is_none_or(|at| at < now - chrono::Duration::days(1)) {
            diesel::update(vault_tokens::table.find((self.contract_id, &token)))
                .set(vault_tokens::last_used_at.eq(now))
                .execute(self.conn)?;
        }
        Ok(Some(token))
    }

    /// Numbers and stores a token for a value the contract has not seen. The number comes from
    /// a reserved block when the vault has them; otherwise it is taken under the contract
    /// row's lock, held until commit (one lock per contract whatever the kinds, so two
    /// projections never wait for each other in a cycle). Values already tokenised (the common
    /// case) take neither. A number is never given twice, even when its value was erased by
    /// retention.
    fn issue(&mut self, kind: &str, lookup: &str, value: &str) -> Result<String, VaultError> {
        let number = match self.keys.numbers.clone() {
            Some(blocks) => blocks.next(self.contract_id, kind)?,
            None => {
                if !self.locked {
                    diesel::update(contracts::table.find(self.contract_id))
                        .set(contracts::version.eq(contracts::version))
                        .execute(self.conn)?;
                    self.locked = true;
                    // Another projection may have stored this value while we waited.
                    if let Some(token) = self.existing(kind, lookup)? {
                        return Ok(token);
                    }
                }
                reserve_numbers(self.conn, self.contract_id, kind, 1)?
            }
        };
        let token = format!("[{kind}_{number}]");
        let sealed = self.keys.seal(self.contract_id, &token, value)?;
        let insert = diesel::insert_into(vault_tokens::table)
            .values((
                vault_tokens::contract_id.eq(self.contract_id),
                vault_tokens::token.eq(&token),
                vault_tokens::kind.eq(kind),
                vault_tokens::lookup.eq(lookup),
                vault_tokens::ciphertext.eq(&sealed),
                vault_tokens::created_at.eq(to_db(self.now)),
                vault_tokens::last_used_at.eq(to_db(self.now)),
            ))
            .on_conflict((
                vault_tokens::contract_id,
                vault_tokens::kind,
                vault_tokens::lookup,
            ))
            .do_nothing();
        // Without the lock, a parallel projection may store the same value first: its token
        // stands (PostgreSQL waits for that transaction before deciding), this number is
        // simply not used.
        let stored = match self.conn {
            AnyConnection::Postgresql(pg) => insert.execute(pg)?,
            AnyConnection::Sqlite(lite) => insert.execute(lite)?,
        };
        if stored == 1 {
            return Ok(token);
        }
        self.existing(kind, lookup)?
            .ok_or_else(|| VaultError::Db(diesel::result::Error::NotFound))
    }

    /// The real value behind one of this contract's tokens, or `None` for a token it never
    /// issued (made up, or another contract's).
    pub fn value_of(&mut self, token: &str) -> Result<Option<String>, VaultError> {
        let sealed: Option<String> = vault_tokens::table
            .filter(vault_tokens::contract_id.eq(self.contract_id))
            .filter(vault_tokens::token.eq(token))
            // A purged token is one the vault no longer knows.
            .filter(vault_tokens::purged_at.is_null())
            .select(vault_tokens::ciphertext)
            .get_result(self.conn)
            .optional()?;
        sealed
            .map(|s| self.keys.open(self.contract_id, token, &s))
            .transpose()
    }

    /// Which of `tokens` this contract ever issued (for any value, purged or not), asked in
    /// batches.
    pub fn issued_among(
        &mut self,
        tokens: &[&str],
    ) -> Result<std::collections::HashSet<String>, VaultError> {
        let mut issued = std::collections::HashSet::new();
        for batch in tokens.chunks(500) {
            let found: Vec<String> = vault_tokens::table
                .filter(vault_tokens::contract_id.eq(self.contract_id))
                .filter(vault_tokens::token.eq_any(batch))
                .select(vault_tokens::token)
                .load(self.conn)?;
            issued.extend(found);
        }
        Ok(issued)
    }
}

/// Erases the values of `contract_id`'s tokens not used since `cutoff`: the ciphertext goes,
/// the look-up key is replaced (so the same value gets a new token next time), and the row
/// stays, so its number is never issued again. Returns how many were purged.
pub fn purge_unused(
    conn: &mut AnyConnection,
    contract_id: &str,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        vault_tokens::table
            .filter(vault_tokens::contract_id.eq(contract_id))
            .filter(vault_tokens::last_used_at.lt(to_db(cutoff)))
            .filter(vault_tokens::purged_at.is_null()),
    )
    .set((
        vault_tokens::ciphertext.eq(""),
        vault_tokens::lookup
            .eq(diesel::dsl::sql::<diesel::sql_types::Text>("'purged:'")
                .concat(vault_tokens::token)),
        vault_tokens::purged_at.eq(to_db(now)),
    ))
    .execute(conn)
}

/// Erases the values of `tokens` of `contract_id` (a data subject's erasure): as a purge, and
/// for good, whatever their last use. Returns how many still had a value.
pub fn erase(
    conn: &mut AnyConnection,
    contract_id: &str,
    tokens: &[String],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut erased = 0;
    for batch in tokens.chunks(500) {
        erased += diesel::update(
            vault_tokens::table
                .filter(vault_tokens::contract_id.eq(contract_id))
                .filter(vault_tokens::token.eq_any(batch))
                .filter(vault_tokens::purged_at.is_null()),
        )
        .set((
            vault_tokens::ciphertext.eq(""),
            vault_tokens::lookup.eq(diesel::dsl::sql::<diesel::sql_types::Text>("'erased:'")
                .concat(vault_tokens::token)),
            vault_tokens::purged_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    }
    Ok(erased)
}

/// The tokens of `contract_id` whose values have these look-ups (kind, [`VaultKeys::lookup`]),
/// with their kind, values still held. Asked per kind, so that each look-up uses the vault's
/// unique index whole.
pub fn tokens_by_lookup(
    conn: &mut AnyConnection,
    contract_id: &str,
    lookups: &[(&str, String)],
) -> QueryResult<Vec<(String, String)>> {
    let mut by_kind: HashMap<&str, Vec<&str>> = HashMap::new();
    for (kind, lookup) in lookups {
        by_kind.entry(kind).or_default().push(lookup);
    }
    let mut found = Vec::new();
    for (kind, lookups) in by_kind {
        for batch in lookups.chunks(500) {
            found.extend(
                vault_tokens::table
                    .filter(vault_tokens::contract_id.eq(contract_id))
                    .filter(vault_tokens::kind.eq(kind))
                    .filter(vault_tokens::lookup.eq_any(batch))
                    .filter(vault_tokens::purged_at.is_null())
                    .select((vault_tokens::token, vault_tokens::kind))
                    .load::<(String, String)>(conn)?,
            );
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_binding() {
        let keys = VaultKeys::from_bytes([3; 32]);
        let sealed = keys
            .seal("c1", "[EMAIL_1]", "ivan@example.ru")
            .unwrap_or_default();
        assert!(!sealed.contains("ivan"));
        assert_eq!(
            keys.open("c1", "[EMAIL_1]", &sealed).ok(),
            Some("ivan@example.ru".to_owned())
        );
        assert!(
            keys.open("c2", "[EMAIL_1]", &sealed).is_err(),
            "another contract cannot open it"
        );
        assert!(
            keys.open("c1", "[EMAIL_2]", &sealed).is_err(),
            "nor another token"
        );
        let other = VaultKeys::from_bytes([4; 32]);
        assert!(other.open("c1", "[EMAIL_1]", &sealed).is_err());
    }

    #[test]
    fn keyed_hashes_are_stable_per_contract() {
        let keys = VaultKeys::from_bytes([3; 32]);
        assert_eq!(keys.keyed_hash("c1", "x"), keys.keyed_hash("c1", "x"));
        assert_ne!(keys.keyed_hash("c1", "x"), keys.keyed_hash("c2", "x"));
        assert_ne!(
            keys.keyed_hash("c1", "x"),
            VaultKeys::from_bytes([4; 32]).keyed_hash("c1", "x")
        );
    }
}
