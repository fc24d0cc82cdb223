//! Keys and the token vault.
//!
//! One master key (`BRIDGE_VAULT_KEY`, 32 bytes as 64 hex characters, or generated into the
//! data folder with mode 0600) derives, per contract, the key for `hash` actions and the key
//! that makes vault look-ups; token values are sealed with AES-256-GCM under the master key,
//! bound to their contract and token as associated data.

use std::collections::HashMap;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::clock::to_db;
use crate::db::AnyConnection;
use crate::db::schema::{contracts, vault_numbers, vault_tokens};

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
}

/// The master key.
#[derive(Clone)]
pub struct VaultKeys {
    master: [u8; 32],
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKeys(..)")
    }
}

impl VaultKeys {
    /// Keys from 32 raw bytes.
    pub fn from_bytes(master: [u8; 32]) -> Self {
        Self { master }
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
            Ok(Self { master })
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

    fn lookup(&self, contract_id: &str, kind: &str, value: &str) -> String {
        let data = format!("{kind}\0{value}");
        hex::encode(hmac::sign(&self.derived("lookup", contract_id), data.as_bytes()).as_ref())
    }

    fn cipher(&self) -> Result<LessSafeKey, VaultError> {
        UnboundKey::new(&AES_256_GCM, &self.master)
            .map(LessSafeKey::new)
            .map_err(|_| VaultError::Crypto)
    }

    fn seal(&self, contract_id: &str, token: &str, value: &str) -> Result<String, VaultError> {
        let mut nonce = [0_u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| VaultError::Crypto)?;
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
            .first(self.conn)
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

    /// Numbers and stores a token for a value the contract has not seen. Numbers are taken
    /// under the contract row's lock, held until commit: one lock per contract, whatever the
    /// kinds, so two projections never wait for each other in a cycle; values already
    /// tokenised (the common case) take no lock at all. A number is never given twice, even
    /// when its value was erased by retention.
    fn issue(&mut self, kind: &str, lookup: &str, value: &str) -> Result<String, VaultError> {
        if !self.locked {
            diesel::update(contracts::table.find(self.contract_id))
                .set(contracts::version.eq(contracts::version))
                .execute(self.conn)?;
            self.locked = true;
            // Another projection may have stored this value while we waited for the lock.
            if let Some(token) = self.existing(kind, lookup)? {
                return Ok(token);
            }
        }
        let numbers = vault_numbers::table.find((self.contract_id, kind));
        let number: Option<i64> = diesel::update(numbers)
            .set(vault_numbers::last.eq(vault_numbers::last + 1))
            .returning(vault_numbers::last)
            .get_result(self.conn)
            .optional()?;
        let number = match number {
            Some(n) => n,
            None => {
                diesel::insert_into(vault_numbers::table)
                    .values((
                        vault_numbers::contract_id.eq(self.contract_id),
                        vault_numbers::kind.eq(kind),
                        vault_numbers::last.eq(1),
                    ))
                    .execute(self.conn)?;
                1
            }
        };
        let token = format!("[{kind}_{number}]");
        let sealed = self.keys.seal(self.contract_id, &token, value)?;
        diesel::insert_into(vault_tokens::table)
            .values((
                vault_tokens::contract_id.eq(self.contract_id),
                vault_tokens::token.eq(&token),
                vault_tokens::kind.eq(kind),
                vault_tokens::lookup.eq(lookup),
                vault_tokens::ciphertext.eq(&sealed),
                vault_tokens::created_at.eq(to_db(self.now)),
                vault_tokens::last_used_at.eq(to_db(self.now)),
            ))
            .execute(self.conn)?;
        Ok(token)
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
            .first(self.conn)
            .optional()?;
        sealed
            .map(|s| self.keys.open(self.contract_id, token, &s))
            .transpose()
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
