//! Full-text search of articles by word forms, in Russian and English.
//!
//! PostgreSQL searches a generated `tsvector` in the article's own configuration (`russian` or
//! `english`). SQLite's FTS5 has no Russian stemmer, so the gateway stems words itself with the
//! same Snowball algorithms those configurations use (Cyrillic words with the Russian one,
//! Latin-script words with the English one), stores the stems in `knowledge_search` and stems
//! the query the same way: `возврата`, `возвратом` and `возврат` are one word on both.
//! A query matches an article holding every word of it that is not a stop word.

use diesel::prelude::*;
use diesel::sql_types::Text;
use rust_stemmers::{Algorithm, Stemmer};

use crate::db::AnyConnection;

/// The longest query taken.
pub const MAX_QUERY_CHARS: usize = 200;

/// Words too common to search by, dropped from queries as PostgreSQL's configurations drop
/// them (their Snowball stop-word lists, abridged to the words that appear in questions).
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    // Russian
    "и", "в", "во", "не", "что", "он", "на", "я", "с", "со", "как", "а", "то", "все", "она", "так",
    "его", "но", "да", "ты", "к", "у", "же", "вы", "за", "бы", "по", "только", "ее", "мне", "было",
    "вот", "от", "меня", "еще", "нет", "о", "из", "ему", "теперь", "когда", "даже", "ну", "вдруг",
    "ли", "если", "уже", "или", "ни", "быть", "был", "него", "до", "вас", "нибудь", "опять", "уж",
    "вам", "ведь", "там", "потом", "себя", "ничего", "ей", "может", "они", "тут", "где", "есть",
    "надо", "ней", "для", "мы", "тебя", "их", "чем", "была", "сам", "чтоб", "без", "будто", "чего",
    "раз", "тоже", "себе", "под", "будет", "ж", "тогда", "кто", "этот", "того", "потому", "этого",
    "какой", "совсем", "ним", "здесь", "этом", "один", "почти", "мой", "тем", "чтобы", "нее",
    "сейчас", "были", "куда", "зачем", "всех", "никогда", "можно", "при", "наконец", "два", "об",
    "другой", "хоть", "после", "над", "больше", "тот", "через", "эти", "нас", "про", "всего",
    "них", "какая", "много", "разве", "три", "эту", "моя", "впрочем", "хорошо", "свою", "этой",
    "перед", "иногда", "лучше", "чуть", "том", "нельзя", "такой", "им", "более", "всегда",
    "конечно", "всю", "между",
    // English
    "i", "me", "my", "myself", "we", "our", "ours", "you", "your", "he", "him", "his", "she",
    "her", "it", "its", "they", "them", "their", "what", "which", "who", "whom", "this", "that",
    "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has",
    "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or",
    "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against",
    "between", "into", "through", "during", "before", "after", "above", "below", "to", "from",
    "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once",
    "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more",
    "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than",
    "too", "very", "s", "t", "can", "will", "just", "don", "should", "now",
];

fn is_cyrillic(word: &str) -> bool {
    word.chars()
        .any(|c| matches!(c, '\u{0400}'..='\u{04FF}' | '\u{0500}'..='\u{052F}'))
}

/// The words of a text, lower-cased, `ё` read as `е` (as Russian is usually typed).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('ё', "е"))
}

/// Stems words, each with its script's stemmer.
struct Stems {
    russian: Stemmer,
    english: Stemmer,
}

impl Stems {
    fn new() -> Self {
        Self {
            russian: Stemmer::create(Algorithm::Russian),
            english: Stemmer::create(Algorithm::English),
        }
    }

    fn stem(&self, word: &str) -> String {
        if is_cyrillic(word) {
            self.russian.stem(word).into_owned()
        } else {
            self.english.stem(word).into_owned()
        }
    }

    /// Every word of `text`, stemmed, space-separated: what FTS5 indexes.
    fn of_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for w in words(text) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&self.stem(&w));
        }
        out
    }
}

/// The stems a query must all match (stop words and repeats dropped), in order.
pub fn query_stems(query: &str) -> Vec<String> {
    let stems = Stems::new();
    let mut out: Vec<String> = Vec::new();
    for w in words(query).filter(|w| !STOP_WORDS.contains(&w.as_str())) {
        let s = stems.stem(&w);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Replaces the article's row in SQLite's search index (PostgreSQL's is a generated column).
/// The index row shares the article row's `rowid`, so that it is found without a scan.
pub fn index(
    conn: &mut AnyConnection,
    article_id: &str,
    title: &str,
    plain: &str,
) -> QueryResult<()> {
    let AnyConnection::Sqlite(sqlite) = conn else {
        return Ok(());
    };
    unindex_sqlite(sqlite, article_id)?;
    let stems = Stems::new();
    diesel::sql_query(
        "INSERT INTO knowledge_search (rowid, article_id, title_stems, body_stems) \
         SELECT rowid, id, ?, ? FROM knowledge_articles WHERE id = ?",
    )
    .bind::<Text, _>(stems.of_text(title))
    .bind::<Text, _>(stems.of_text(plain))
    .bind::<Text, _>(article_id)
    .execute(sqlite)?;
    Ok(())
}

/// Removes a withdrawn article from SQLite's search index.
pub fn unindex(conn: &mut AnyConnection, article_id: &str) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(sqlite) => unindex_sqlite(sqlite, article_id),
        AnyConnection::Postgresql(_) => Ok(()),
    }
}

fn unindex_sqlite(conn: &mut diesel::SqliteConnection, article_id: &str) -> QueryResult<()> {
    diesel::sql_query(
        "DELETE FROM knowledge_search \
         WHERE rowid = (SELECT rowid FROM knowledge_articles WHERE id = ?)",
    )
    .bind::<Text, _>(article_id)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Ids of every article in force matching `query`, best first. A query of stop words only
/// matches nothing.
pub fn matching(conn: &mut AnyConnection, query: &str) -> QueryResult<Vec<String>> {
    let hits: Vec<Hit> = match conn {
        AnyConnection::Sqlite(sqlite) => {
            let stems = query_stems(query);
            if stems.is_empty() {
                return Ok(Vec::new());
            }
            // Each stem quoted, so that nothing in it is read as FTS5 syntax.
            let expression = stems
                .iter()
                .map(|s| format!("\"{}\"", s.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" AND ");
            diesel::sql_query(
                "SELECT article_id AS id FROM knowledge_search \
                 WHERE knowledge_search MATCH ? \
                 ORDER BY bm25(knowledge_search, 0.0, 5.0, 1.0), article_id",
            )
            .bind::<Text, _>(expression)
            .load(sqlite)?
        }
        AnyConnection::Postgresql(pg) => diesel::sql_query(
            "SELECT id FROM knowledge_articles, \
                 plainto_tsquery('russian', $1) AS ru, plainto_tsquery('english', $1) AS en \
             WHERE withdrawn_at IS NULL AND (search @@ ru OR search @@ en) \
             ORDER BY greatest(ts_rank(search, ru), ts_rank(search, en)) DESC, id",
        )
        .bind::<Text, _>(query)
        .load(pg)?,
    };
    Ok(hits.into_iter().map(|h| h.id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_word_forms_share_a_stem() {
        let stems = Stems::new();
        let forms: Vec<String> = ["возврат", "возврата", "возвратом", "Возврату"]
            .iter()
            .map(|w| stems.of_text(w))
            .collect();
        assert!(forms.iter().all(|f| *f == forms[0]), "{forms:?}");
        assert_eq!(stems.of_text("refunds refunded"), "refund refund");
        assert_eq!(stems.of_text("ёлка"), stems.of_text("елка"));
    }

    #[test]
    fn queries_drop_stop_words_and_repeats() {
        assert_eq!(query_stems("Как оформить возврат?"), ["оформ", "возврат"]);
        assert_eq!(
            query_stems("how do I get a refund, refunds"),
            ["get", "refund"]
        );
        assert!(query_stems("и в на").is_empty());
        assert_eq!(query_stems("\"возврат\" OR NEAR(*)"), ["возврат", "near"]);
    }
}
