//! Contracts: the files in `contracts/` that say what each contractor may receive and see.
//!
//! A file is parsed and checked ([`load_dir`]), stored with its sha256 and a version history
//! ([`apply`]), and served to routing and projection from an in-memory [`ContractSet`].

pub mod capacity;
pub mod duration;
pub mod model;
mod parse;
pub mod schedule;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

pub use model::*;
pub use parse::{Problem, from_toml, parse_contract};

use crate::clock::to_db;
use crate::db::schema::{contract_versions, contracts};
use crate::db::{AnyConnection, DbError};
use crate::ledger::{self, Action, NewEntry};

/// What can go wrong with contracts.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The contracts folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// One or more files are invalid.
    #[error("{} problem(s) in contract files:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
    /// No contract has this id.
    #[error("no contract `{0}`")]
    NotFound(String),
    /// A stored contract body no longer parses (the file format changed under it).
    #[error("stored contract `{0}` does not parse any more")]
    Corrupt(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ContractError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// A checked contract together with the file it came from.
#[derive(Clone, Debug)]
pub struct ContractFile {
    /// The file's name (not its path).
    pub file_name: String,
    /// The file's exact text.
    pub body: String,
    /// Hex sha256 of the text: the contract's version identity.
    pub sha256: String,
    /// The parsed contract.
    pub contract: Arc<Contract>,
}

/// Hex sha256 of a text.
pub fn sha256_hex(text: &str) -> String {
    crate::crypto::sha256_hex(text.as_bytes())
}

/// Reads and checks every `*.toml` in `dir`, in name order. All problems of all files are
/// reported together, including ids used by more than one file.
pub fn load_dir(dir: &Path) -> Result<Vec<ContractFile>, ContractError> {
    let io = |e| ContractError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?
        .into_iter()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let body = match std::fs::read_to_string(&path) {
            Ok(body) => body,
            Err(e) => {
                problems.push(Problem {
                    file: file_name,
                    key: "-".into(),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        match parse_contract(&file_name, &body) {
            Ok(contract) => files.push(ContractFile {
                sha256: sha256_hex(&body),
                file_name,
                body,
                contract: Arc::new(contract),
            }),
            Err(mut p) => problems.append(&mut p),
        }
    }
    let mut first_file: BTreeMap<&str, &str> = BTreeMap::new();
    for f in &files {
        if let Some(other) = first_file.insert(&f.contract.id, &f.file_name) {
            problems.push(Problem {
                file: f.file_name.clone(),
                key: "id".into(),
                message: format!("`{}` is also the id in {other}", f.contract.id),
            });
        }
    }
    for f in &files {
        if let Some(target) = f.contract.overflow.escalates_to.as_deref()
            && !first_file.contains_key(target)
        {
            problems.push(Problem {
                file: f.file_name.clone(),
                key: "overflow.escalates_to".into(),
                message: format!("`{target}` is not the id of a contract in this directory"),
            });
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(ContractError::Invalid(problems))
    }
}

/// What applying one file did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// The contract id.
    pub id: String,
    /// The version now in force.
    pub version: i32,
    /// Its sha256.
    pub sha256: String,
    /// False when the stored version already had this sha256.
    pub changed: bool,
    /// True when the contract's file was gone, so the contract was withdrawn.
    pub withdrawn: bool,
}

impl Applied {
    /// What applying did, in a word: `applied`, `withdrawn` or `unchanged`.
    pub fn outcome(&self) -> &'static str {
        match (self.changed, self.withdrawn) {
            (_, true) => "withdrawn",
            (true, false) => "applied",
            (false, false) => "unchanged",
        }
    }
}

/// Stores each file whose text differs from the stored version (or whose contract was
/// withdrawn) as a new version, keeps the history, withdraws every stored contract whose file
/// is gone, and audits every change, all in the caller's transaction. A withdrawn contract is
/// out of force at once; recalling its shares is the caller's next step.
pub fn apply(
    conn: &mut AnyConnection,
    files: &[ContractFile],
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Applied>> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let id = f.contract.id.as_str();
        let current: Option<(i32, String, Option<chrono::NaiveDateTime>)> = contracts::table
            .find(id)
            .select((
                contracts::version,
                contracts::sha256,
                contracts::withdrawn_at,
            ))
            .first(conn)
            .optional()?;
        let version = match &current {
            Some((version, sha, None)) if *sha == f.sha256 => {
                out.push(Applied {
                    id: id.to_owned(),
                    version: *version,
                    sha256: f.sha256.clone(),
                    changed: false,
                    withdrawn: false,
                });
                continue;
            }
            Some((version, _, _)) => {
                diesel::update(contracts::table.find(id))
                    .set((
                        contracts::contractor.eq(&f.contract.contractor),
                        contracts::version.eq(version + 1),
                        contracts::sha256.eq(&f.sha256),
                        contracts::file_name.eq(&f.file_name),
                        contracts::body.eq(&f.body),
                        contracts::applied_at.eq(to_db(now)),
                        contracts::withdrawn_at.eq(None::<chrono::NaiveDateTime>),
                        contracts::ended_at.eq(None::<chrono::NaiveDateTime>),
                    ))
                    .execute(conn)?;
                version + 1
            }
            None => {
                diesel::insert_into(contracts::table)
                    .values((
                        contracts::id.eq(id),
                        contracts::contractor.eq(&f.contract.contractor),
                        contracts::version.eq(1),
                        contracts::sha256.eq(&f.sha256),
                        contracts::file_name.eq(&f.file_name),
                        contracts::body.eq(&f.body),
                        contracts::applied_at.eq(to_db(now)),
                    ))
                    .execute(conn)?;
                capacity::create_stripes(conn, id)?;
                1
            }
        };
        diesel::insert_into(contract_versions::table)
            .values((
                contract_versions::contract_id.eq(id),
                contract_versions::version.eq(version),
                contract_versions::sha256.eq(&f.sha256),
                contract_versions::body.eq(&f.body),
                contract_versions::applied_at.eq(to_db(now)),
                contract_versions::applied_by.eq(actor),
            ))
            .execute(conn)?;
        ledger::append(
            conn,
            now,
            NewEntry {
                actor,
                action: Action::ContractApply,
                contract_id: Some(id),
                ticket_id: None,
                details: serde_json::json!({
                    "version": version,
                    "sha256": f.sha256,
                    "file": f.file_name,
                    "reinstated": current.as_ref().is_some_and(|c| c.2.is_some()),
                    "previous_sha256": current.map(|(_, sha, _)| sha),
                }),
            },
        )?;
        out.push(Applied {
            id: id.to_owned(),
            version,
            sha256: f.sha256.clone(),
            changed: true,
            withdrawn: false,
        });
    }
    out.extend(withdraw_missing(conn, files, actor, now)?);
    // Contract versions are rare and often stored by a short-lived CLI: chain them at once
    // rather than waiting for a delivery worker.
    ledger::seal(conn)?;
    Ok(out)
}

/// Withdraws every stored contract in force whose file is not among `files`, audited.
fn withdraw_missing(
    conn: &mut AnyConnection,
    files: &[ContractFile],
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Applied>> {
    let present: Vec<&str> = files.iter().map(|f| f.contract.id.as_str()).collect();
    let gone: Vec<(String, i32, String)> = contracts::table
        .filter(contracts::withdrawn_at.is_null())
        .filter(contracts::id.ne_all(&present))
        .select((contracts::id, contracts::version, contracts::sha256))
        .load(conn)?;
    let mut out = Vec::with_capacity(gone.len());
    for (id, version, sha256) in gone {
        diesel::update(contracts::table.find(&id))
            .set(contracts::withdrawn_at.eq(to_db(now)))
            .execute(conn)?;
        ledger::append(
            conn,
            now,
            NewEntry {
                actor,
                action: Action::ContractWithdraw,
                contract_id: Some(&id),
                ticket_id: None,
                details: serde_json::json!({
                    "version": version,
                    "sha256": sha256,
                    "reason": "file_removed",
                }),
            },
        )?;
        out.push(Applied {
            id,
            version,
            sha256,
            changed: true,
            withdrawn: true,
        });
    }
    Ok(out)
}

/// The withdrawn contracts as last stored, parsed; one that no longer parses is left out
/// (logged), since it can only serve to deliver its last events.
pub fn withdrawn_files(conn: &mut AnyConnection) -> QueryResult<Vec<ContractFile>> {
    let rows: Vec<(String, String, String)> = contracts::table
        .filter(contracts::withdrawn_at.is_not_null())
        .select((contracts::file_name, contracts::body, contracts::sha256))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(file_name, body, sha256)| match parse_contract(&file_name, &body) {
            Ok(contract) => Some(ContractFile {
                file_name,
                body,
                sha256,
                contract: Arc::new(contract),
            }),
            Err(problems) => {
                tracing::warn!(file = %file_name, problems = problems.len(), "a withdrawn contract no longer parses; its last events cannot be delivered");
                None
            }
        })
        .collect())
}

/// How many stored contracts are not withdrawn.
pub fn in_force_count(conn: &mut AnyConnection) -> QueryResult<i64> {
    contracts::table
        .filter(contracts::withdrawn_at.is_null())
        .count()
        .get_result(conn)
}

/// The contracts withdrawn (their files removed), by id.
pub fn withdrawn(conn: &mut AnyConnection) -> QueryResult<Vec<String>> {
    contracts::table
        .filter(contracts::withdrawn_at.is_not_null())
        .select(contracts::id)
        .load(conn)
}

/// Switches a contract's manual overflow on or off, audited with the operator's reason.
/// Returns whether the switch was on before.
pub fn set_manual_overflow(
    conn: &mut AnyConnection,
    id: &str,
    on: bool,
    actor: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, ContractError> {
    let before: bool = contracts::table
        .find(id)
        .select(contracts::manual_overflow)
        .first(conn)
        .optional()?
        .ok_or_else(|| ContractError::NotFound(id.to_owned()))?;
    diesel::update(contracts::table.find(id))
        .set(contracts::manual_overflow.eq(on))
        .execute(conn)?;
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::OverflowSwitch,
            contract_id: Some(id),
            ticket_id: None,
            // An operator's reason ("Black Friday surge") is operational metadata, not customer data.
            details: serde_json::json!({ "on": on, "was_on": before, "reason": reason }),
        },
    )?;
    Ok(before)
}

/// A stored version of a contract.
#[derive(Clone, Debug, Queryable, serde::Serialize)]
pub struct StoredVersion {
    /// The version number.
    pub version: i32,
    /// Its sha256.
    pub sha256: String,
    /// When it was applied (UTC).
    pub applied_at: chrono::NaiveDateTime,
    /// Who applied it.
    pub applied_by: String,
}

/// The version history of one contract, oldest first.
pub fn history(conn: &mut AnyConnection, id: &str) -> QueryResult<Vec<StoredVersion>> {
    contract_versions::table
        .filter(contract_versions::contract_id.eq(id))
        .order(contract_versions::version.asc())
        .select((
            contract_versions::version,
            contract_versions::sha256,
            contract_versions::applied_at,
            contract_versions::applied_by,
        ))
        .load(conn)
}

/// The contracts in force, in routing order (rank, then id).
#[derive(Clone, Debug, Default)]
pub struct ContractSet {
    contracts: Vec<ContractFile>,
    /// Withdrawn contracts, as last stored: never used to route, show or change anything,
    /// only to deliver the events of their end (the recalls) to their contractors.
    former: Vec<ContractFile>,
}

impl ContractSet {
    /// A set of the given files, ordered by rank then id.
    pub fn new(mut contracts: Vec<ContractFile>) -> Self {
        contracts.sort_by(|a, b| {
            (a.contract.overflow.rank, &a.contract.id)
                .cmp(&(b.contract.overflow.rank, &b.contract.id))
        });
        Self {
            contracts,
            former: Vec::new(),
        }
    }

    /// The set, knowing these withdrawn contracts' endpoints.
    pub fn with_former(mut self, former: Vec<ContractFile>) -> Self {
        self.former = former;
        self
    }

    /// Where the contractor of contract `id` takes its webhooks: a contract of the set, or a
    /// withdrawn one (whose last events still reach it).
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.get(id)
            .or_else(|| self.former.iter().find(|c| c.contract.id == id))
            .and_then(|f| f.contract.endpoint.as_ref())
    }

    /// The contracts whose contractor takes webhooks ([`ContractSet::endpoint`] answers for
    /// them): those of the set and the withdrawn ones with an `[endpoint]`.
    pub fn endpoint_contracts(&self) -> impl Iterator<Item = &str> {
        self.contracts
            .iter()
            .chain(&self.former)
            .filter(|f| f.contract.endpoint.is_some())
            .map(|f| f.contract.id.as_str())
    }

    /// The versions of the set, in a few bytes: the sha256 of every file, in routing order.
    /// It changes when any contract of the set does.
    pub fn versions(&self) -> String {
        self.contracts
            .iter()
            .map(|f| &f.sha256[..16])
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Every contract in routing order.
    pub fn in_rank_order(&self) -> impl Iterator<Item = &ContractFile> {
        self.contracts.iter()
    }

    /// The contract with this id.
    pub fn get(&self, id: &str) -> Option<&ContractFile> {
        self.contracts.iter().find(|c| c.contract.id == id)
    }

    /// The contract with this id if it is in force at `now`: what every contractor action
    /// needs (a contract that left force grants nothing, fail closed).
    pub fn in_force(&self, id: &str, now: DateTime<Utc>) -> Option<&ContractFile> {
        self.get(id).filter(|f| f.contract.in_force(now).is_ok())
    }
}

/// The live contract set, swapped whole when contracts are applied.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    current: Arc<RwLock<Arc<ContractSet>>>,
}

impl Registry {
    /// A registry holding `set`.
    pub fn new(set: ContractSet) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(set))),
        }
    }

    /// The set in force now.
    pub fn current(&self) -> Arc<ContractSet> {
        self.current
            .read()
            .map(|g| Arc::clone(&g))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Replaces the set.
    pub fn replace(&self, set: ContractSet) {
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        *guard = Arc::new(set);
    }
}

/// A contract in force as operators and the console see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ContractOverview {
    /// Contract id.
    pub id: String,
    /// Its contractor.
    pub contractor: String,
    /// Display name.
    pub display_name: String,
    /// The file it came from.
    pub file: String,
    /// sha256 of the file.
    pub sha256: String,
    /// Stored version number.
    pub version: Option<i32>,
    /// First day in force.
    pub valid_from: chrono::NaiveDate,
    /// Last day in force.
    pub valid_until: Option<chrono::NaiveDate>,
    /// Routing rank.
    pub rank: i32,
    /// How overflow is switched on.
    pub overflow_mode: OverflowMode,
    /// The manual switch.
    pub manual_overflow: Option<bool>,
    /// Open shares now.
    pub open_shares: Option<i32>,
    /// Capacity.
    pub max_open: u32,
}

/// Every contract in force: `{"items": [...]}`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ContractList {
    /// The contracts, in routing order.
    pub items: Vec<ContractOverview>,
}

/// Every contract in force, in routing order, with its stored version, manual switch and open
/// shares: what operators and the console show.
pub fn overview(conn: &mut AnyConnection, set: &ContractSet) -> QueryResult<Vec<ContractOverview>> {
    let rows: Vec<(String, i32, bool)> = contracts::table
        .select((
            contracts::id,
            contracts::version,
            contracts::manual_overflow,
        ))
        .load(conn)?;
    let open = capacity::open_by_contract(conn)?;
    Ok(set
        .in_rank_order()
        .map(|f| {
            let c = &f.contract;
            let stored = rows.iter().find(|r| r.0 == c.id);
            ContractOverview {
                id: c.id.clone(),
                contractor: c.contractor.clone(),
                display_name: c.display_name.clone(),
                file: f.file_name.clone(),
                sha256: f.sha256.clone(),
                version: stored.map(|r| r.1),
                valid_from: c.valid_from,
                valid_until: c.valid_until,
                rank: c.overflow.rank,
                overflow_mode: c.overflow.mode,
                manual_overflow: stored.map(|r| r.2),
                open_shares: stored.map(|_| open.get(&c.id).copied().unwrap_or(0)),
                max_open: c.overflow.max_open,
            }
        })
        .collect())
}
