//! The knowledge base: articles in `knowledge/*.md`, applied like contracts (a version per
//! changed text, identified by its sha256, every change audited), read by contractors as their
//! contracts grant (`[knowledge]` tags and article ids), searched by word forms, every read
//! audited.

pub mod markdown;
pub mod search;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::clock::{from_db, to_db};
use crate::contracts::{Applied, ContractSet, Locale, Problem};
use crate::db::schema::knowledge_articles;
use crate::db::{AnyConnection, DbError};
use crate::ledger::{self, Action, NewEntry};
pub use markdown::{Article, Audience, parse_article};

/// What can go wrong with articles.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// The folder cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Some files are not valid articles.
    #[error("{} problem(s) in the article files", .0.len())]
    Invalid(Vec<Problem>),
    /// A query is not one the search takes.
    #[error("{field}: {message}")]
    BadQuery {
        /// The parameter.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for KnowledgeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// One article file, checked.
#[derive(Clone, Debug)]
pub struct ArticleFile {
    /// The file's name (not its path).
    pub file_name: String,
    /// Hex sha256 of the file's text: the article's version identity.
    pub sha256: String,
    /// The parsed article.
    pub article: Article,
}

/// Reads and checks every `*.md` in `dir`, in name order; all problems of all files are
/// reported together, including ids used by more than one file. A missing folder holds no
/// articles.
pub fn load_dir(dir: &Path) -> Result<Vec<ArticleFile>, KnowledgeError> {
    let io = |e| KnowledgeError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut paths: Vec<_> = entries
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?
        .into_iter()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    let mut problems = Vec::new();
    let mut files: Vec<ArticleFile> = Vec::new();
    let mut first_file: std::collections::HashMap<String, String> = Default::default();
    for path in paths {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let problem = |key: String, message: String| Problem {
            file: file_name.clone(),
            key,
            message,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(problem("-".into(), format!("cannot read: {e}")));
                continue;
            }
        };
        match parse_article(&text) {
            Ok(article) => {
                if let Some(other) = first_file.get(&article.id) {
                    problems.push(problem(
                        "id".into(),
                        format!("`{}` is also the id in {other}", article.id),
                    ));
                } else {
                    first_file.insert(article.id.clone(), file_name.clone());
                }
                files.push(ArticleFile {
                    sha256: crate::crypto::sha256_hex(text.as_bytes()),
                    file_name,
                    article,
                });
            }
            Err((key, message)) => problems.push(problem(key, message)),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(KnowledgeError::Invalid(problems))
    }
}

/// Grants of the contracts that name articles no file holds: `contract: id` lines for
/// `knowledge check` to warn about (a typo grants nothing).
pub fn unknown_grants(contracts: &ContractSet, files: &[ArticleFile]) -> Vec<String> {
    let mut out = Vec::new();
    for file in contracts.in_rank_order() {
        for id in &file.contract.knowledge.articles {
            if !files.iter().any(|f| &f.article.id == id) {
                out.push(format!(
                    "{}: knowledge.articles: no article `{id}`",
                    file.contract.id
                ));
            }
        }
    }
    out
}

/// Stores each file whose text differs from the stored version (or whose article was
/// withdrawn) as a new version, withdraws every stored article whose file is gone, and audits
/// every change, in the caller's transaction.
pub fn apply(
    conn: &mut AnyConnection,
    files: &[ArticleFile],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Applied>, KnowledgeError> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let a = &f.article;
        let current: Option<(i32, String, Option<NaiveDateTime>)> = knowledge_articles::table
            .find(&a.id)
            .select((
                knowledge_articles::version,
                knowledge_articles::sha256,
                knowledge_articles::withdrawn_at,
            ))
            .first(conn)
            .optional()?;
        if let Some((version, sha, None)) = &current
            && *sha == f.sha256
        {
            out.push(Applied {
                id: a.id.clone(),
                version: *version,
                sha256: f.sha256.clone(),
                changed: false,
                withdrawn: false,
            });
            continue;
        }
        let version = current.as_ref().map_or(1, |c| c.0 + 1);
        let tags = serde_json::to_string(&a.tags).unwrap_or_else(|_| "[]".into());
        let row = (
            knowledge_articles::version.eq(version),
            knowledge_articles::sha256.eq(&f.sha256),
            knowledge_articles::file_name.eq(&f.file_name),
            knowledge_articles::title.eq(&a.title),
            knowledge_articles::language.eq(a.language.as_str()),
            knowledge_articles::tags.eq(&tags),
            knowledge_articles::audience.eq(a.audience.as_str()),
            knowledge_articles::markdown.eq(&a.markdown),
            knowledge_articles::html.eq(&a.html),
            knowledge_articles::plain.eq(&a.plain),
            knowledge_articles::applied_at.eq(to_db(now)),
            knowledge_articles::withdrawn_at.eq(None::<NaiveDateTime>),
        );
        if current.is_some() {
            diesel::update(knowledge_articles::table.find(&a.id))
                .set(row)
                .execute(conn)?;
        } else {
            diesel::insert_into(knowledge_articles::table)
                .values((knowledge_articles::id.eq(&a.id), row))
                .execute(conn)?;
        }
        search::index(conn, &a.id, &a.title, &a.plain)?;
        ledger::append(
            conn,
            now,
            NewEntry {
                actor,
                action: Action::KnowledgeApply,
                contract_id: None,
                ticket_id: None,
                details: json!({
                    "article": a.id,
                    "version": version,
                    "sha256": f.sha256,
                    "file": f.file_name,
                    "audience": a.audience.as_str(),
                    "previous_sha256": current.map(|(_, sha, _)| sha),
                }),
            },
        )?;
        out.push(Applied {
            id: a.id.clone(),
            version,
            sha256: f.sha256.clone(),
            changed: true,
            withdrawn: false,
        });
    }
    let in_force: Vec<(String, i32, String)> = knowledge_articles::table
        .filter(knowledge_articles::withdrawn_at.is_null())
        .select((
            knowledge_articles::id,
            knowledge_articles::version,
            knowledge_articles::sha256,
        ))
        .load(conn)?;
    let kept: std::collections::HashSet<&str> =
        files.iter().map(|f| f.article.id.as_str()).collect();
    for (id, version, sha256) in in_force {
        if kept.contains(id.as_str()) {
            continue;
        }
        diesel::update(knowledge_articles::table.find(&id))
            .set(knowledge_articles::withdrawn_at.eq(Some(to_db(now))))
            .execute(conn)?;
        search::unindex(conn, &id)?;
        ledger::append(
            conn,
            now,
            NewEntry {
                actor,
                action: Action::KnowledgeWithdraw,
                contract_id: None,
                ticket_id: None,
                details: json!({ "article": id, "version": version, "sha256": sha256 }),
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
    ledger::seal(conn)?;
    Ok(out)
}

/// An article as listed to a contractor.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ArticleSummary {
    /// Article id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `ru` or `en`.
    pub language: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Version in force.
    pub version: i32,
    /// When this version was applied.
    pub updated_at: DateTime<Utc>,
    /// The start of its plain text.
    pub excerpt: String,
}

/// A page of articles.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ArticleList {
    /// The articles granted to the caller, best match first for a search, else by title.
    pub articles: Vec<ArticleSummary>,
}

/// An article as a contractor reads it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ArticleView {
    /// Article id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `ru` or `en`.
    pub language: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Version in force.
    pub version: i32,
    /// Sha256 of the version's file.
    pub sha256: String,
    /// When this version was applied.
    pub updated_at: DateTime<Utc>,
    /// The contract under which the caller reads it.
    pub contract: String,
    /// The text as safe HTML (no raw HTML, scripts or remote images).
    pub html: String,
    /// The text as plain text.
    pub text: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = knowledge_articles)]
struct Stored {
    id: String,
    version: i32,
    sha256: String,
    title: String,
    language: String,
    tags: String,
    audience: String,
    html: String,
    plain: String,
    applied_at: NaiveDateTime,
}

impl Stored {
    fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    /// The first of `contractor`'s contracts in force that grants this article.
    fn granting_contract(
        &self,
        contracts: &ContractSet,
        contractor: &str,
        now: DateTime<Utc>,
    ) -> Option<String> {
        if self.audience != Audience::Contractors.as_str() {
            return None;
        }
        granting_contract(contracts, contractor, &self.id, &self.tags(), now)
    }

    fn summary(self) -> ArticleSummary {
        const EXCERPT_CHARS: usize = 200;
        let tags = self.tags();
        let excerpt: String = self.plain.chars().take(EXCERPT_CHARS).collect();
        ArticleSummary {
            tags,
            excerpt,
            id: self.id,
            title: self.title,
            language: self.language,
            version: self.version,
            updated_at: from_db(self.applied_at),
        }
    }
}

/// The first of `contractor`'s contracts in force (routing order) that grants the article with
/// this id and these tags, written for contractors.
fn granting_contract(
    contracts: &ContractSet,
    contractor: &str,
    article_id: &str,
    tags: &[String],
    now: DateTime<Utc>,
) -> Option<String> {
    contracts
        .in_rank_order()
        .filter(|f| f.contract.contractor == contractor)
        .filter(|f| f.contract.in_force(now).is_ok())
        .find(|f| f.contract.knowledge.covers(article_id, tags))
        .map(|f| f.contract.id.clone())
}

/// What a contractor asks of the knowledge base.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// Words to search for; none lists every granted article.
    pub query: Option<String>,
    /// Only articles in this language.
    pub language: Option<Locale>,
    /// Only articles with this tag.
    pub tag: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// The articles `contractor`'s contracts in force grant it, matching the request.
pub fn list(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    contractor: &str,
    request: &ListRequest,
    now: DateTime<Utc>,
) -> Result<ArticleList, KnowledgeError> {
    let language = request.language.map(Locale::as_str);
    let in_force = || {
        knowledge_articles::table
            .filter(knowledge_articles::withdrawn_at.is_null())
            .filter(knowledge_articles::audience.eq(Audience::Contractors.as_str()))
    };
    // Every candidate in order (by rank for a search, else by title), then the caller's page
    // of those it may read, chosen on ids and tags alone; only that page's text is loaded.
    let candidates: Vec<String> = match request.query.as_deref().map(str::trim) {
        Some(q) if !q.is_empty() => {
            if q.chars().count() > search::MAX_QUERY_CHARS {
                return Err(KnowledgeError::BadQuery {
                    field: "q".into(),
                    message: format!("must be at most {} characters", search::MAX_QUERY_CHARS),
                });
            }
            search::matching(conn, q)?
        }
        _ => in_force()
            .order((knowledge_articles::title, knowledge_articles::id))
            .select(knowledge_articles::id)
            .load(conn)?,
    };
    let labels: BTreeMap<String, (String, Vec<String>)> = in_force()
        .select((
            knowledge_articles::id,
            knowledge_articles::language,
            knowledge_articles::tags,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, lang, tags)| (id, (lang, serde_json::from_str(&tags).unwrap_or_default())))
        .collect();
    let page: Vec<String> = candidates
        .into_iter()
        .filter(|id| {
            labels.get(id).is_some_and(|(lang, tags)| {
                language.is_none_or(|l| lang == l)
                    && request.tag.as_ref().is_none_or(|t| tags.contains(t))
                    && granting_contract(contracts, contractor, id, tags, now).is_some()
            })
        })
        .take(usize::try_from(request.limit).unwrap_or(0))
        .collect();
    let mut rows: BTreeMap<String, Stored> = in_force()
        .filter(knowledge_articles::id.eq_any(&page))
        .select(Stored::as_select())
        .load::<Stored>(conn)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let articles = page
        .iter()
        .filter_map(|id| rows.remove(id))
        .map(Stored::summary)
        .collect();
    Ok(ArticleList { articles })
}

/// Article `id` if one of `contractor`'s contracts in force grants it; the read is audited
/// under that contract. An article it may not read is missing to it, as an unknown one is,
/// and the attempt is audited.
pub fn read(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    contractor: &str,
    actor: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<ArticleView>, KnowledgeError> {
    let stored: Option<Stored> = knowledge_articles::table
        .find(id)
        .filter(knowledge_articles::withdrawn_at.is_null())
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    let granted = stored.and_then(|s| {
        s.granting_contract(contracts, contractor, now)
            .map(|contract| (s, contract))
    });
    let Some((s, contract)) = granted else {
        ledger::append(
            conn,
            now,
            NewEntry {
                actor,
                action: Action::AccessDenied,
                contract_id: None,
                ticket_id: None,
                details: json!({
                    "contractor": contractor,
                    "attempt": "knowledge.read",
                    "article": id,
                }),
            },
        )?;
        return Ok(None);
    };
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::KnowledgeRead,
            contract_id: Some(&contract),
            ticket_id: None,
            details: json!({
                "article": s.id,
                "title": s.title,
                "version": s.version,
                "sha256": s.sha256,
            }),
        },
    )?;
    Ok(Some(ArticleView {
        tags: s.tags(),
        id: s.id,
        title: s.title,
        language: s.language,
        version: s.version,
        sha256: s.sha256,
        updated_at: from_db(s.applied_at),
        contract,
        html: s.html,
        text: s.plain,
    }))
}
