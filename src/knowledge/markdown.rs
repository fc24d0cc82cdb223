//! An article file: TOML front matter between `+++` lines, then Markdown; rendered to HTML that
//! is safe to put in a page (no raw HTML, no script links, no remote images) and to plain text.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use serde::Deserialize;

use crate::contracts::Locale;
use crate::model::{IDENTIFIER_RULE, is_identifier};

/// Who an article is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Contractors whose contract grants it may read it.
    Contractors,
    /// The in-house team only: never shown to a contractor, whatever its contract says.
    Internal,
}

impl Audience {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contractors => "contractors",
            Self::Internal => "internal",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    title: String,
    language: Locale,
    #[serde(default)]
    tags: Vec<String>,
    audience: Audience,
}

/// A parsed article.
#[derive(Clone, Debug, PartialEq)]
pub struct Article {
    /// Stable id, unique across files; contracts grant articles by it.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The language it is written in (and searched in).
    pub language: Locale,
    /// Tags contracts grant articles by.
    pub tags: Vec<String>,
    /// Who may read it.
    pub audience: Audience,
    /// The Markdown after the front matter.
    pub markdown: String,
    /// The Markdown rendered to safe HTML.
    pub html: String,
    /// The Markdown as plain text.
    pub plain: String,
}

/// Parses an article file; the error says what is wrong, with the key where there is one.
pub fn parse_article(text: &str) -> Result<Article, (String, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let missing = || {
        (
            "-".to_owned(),
            "must start with front matter between `+++` lines (id, title, language, tags, \
             audience)"
                .to_owned(),
        )
    };
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or_else(missing)?;
    let end = rest
        .match_indices("+++")
        .find(|(at, _)| *at == 0 || rest[..*at].ends_with('\n'))
        .map(|(at, _)| at)
        .ok_or_else(missing)?;
    let front: FrontMatter = crate::contracts::from_toml(&rest[..end])?;
    if !is_identifier(&front.id) {
        return Err(("id".into(), format!("must be {IDENTIFIER_RULE}")));
    }
    if front.title.trim().is_empty() {
        return Err(("title".into(), "must not be empty".into()));
    }
    if let Some(bad) = front.tags.iter().find(|t| !is_identifier(t)) {
        return Err(("tags".into(), format!("`{bad}` must be {IDENTIFIER_RULE}")));
    }
    let body = rest[end + 3..].trim_start_matches(['\r', '\n']);
    if body.trim().is_empty() {
        return Err((
            "-".into(),
            "the article has no text after its front matter".into(),
        ));
    }
    Ok(Article {
        id: front.id,
        title: front.title.trim().to_owned(),
        language: front.language,
        tags: front.tags,
        audience: front.audience,
        markdown: body.to_owned(),
        html: to_safe_html(body),
        plain: to_plain_text(body),
    })
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Whether a link target may be followed from a contractor's page: web and mail links, and
/// relative ones; never `javascript:`, `data:` or any other scheme.
fn is_safe_link(url: &str) -> bool {
    let url = url.trim();
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (Some(colon), Some(path)) if path < colon => true,
        (Some(colon), _) => {
            let scheme = url[..colon].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        (None, _) => true,
    }
}

/// Markdown to HTML a page can include as it is: raw HTML in the text is shown as text,
/// links with another scheme than http(s)/mailto lose their target (the words stay), and
/// images become their description (a remote image would tell its server who reads what).
pub fn to_safe_html(markdown: &str) -> String {
    let mut dropped_link = false;
    let events = Parser::new_ext(markdown, options()).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. }) if !is_safe_link(dest_url) => {
            dropped_link = true;
            None
        }
        Event::End(TagEnd::Link) if dropped_link => {
            dropped_link = false;
            None
        }
        Event::Start(Tag::Image { .. }) => Some(Event::Text(CowStr::Borrowed("["))),
        Event::End(TagEnd::Image) => Some(Event::Text(CowStr::Borrowed("]"))),
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// Markdown to plain text: the words, a line per paragraph, heading and list item.
pub fn to_plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => out.push_str("- "),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead,
            ) if !out.ends_with('\n') => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push('\t'),
            _ => {}
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "+++\nid = \"refund-policy\"\ntitle = \"Возврат средств\"\n\
        language = \"ru\"\ntags = [\"billing\"]\naudience = \"contractors\"\n+++\n\n\
        # Как оформить возврат\n\nСрок — **10 дней**.\n";

    fn err(text: &str) -> (String, String) {
        match parse_article(text) {
            Ok(a) => panic!("taken: {a:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn front_matter_and_body_are_read() {
        let a = parse_article(ARTICLE).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(a.id, "refund-policy");
        assert_eq!(a.language, Locale::Ru);
        assert_eq!(a.tags, ["billing"]);
        assert_eq!(a.audience, Audience::Contractors);
        assert!(a.markdown.starts_with("# Как"));
        assert_eq!(
            a.html,
            "<h1>Как оформить возврат</h1>\n<p>Срок — <strong>10 дней</strong>.</p>\n"
        );
        assert_eq!(a.plain, "Как оформить возврат\nСрок — 10 дней.");
    }

    #[test]
    fn bad_front_matter_names_the_key() {
        let no_front = err("# Title\n\ntext");
        assert!(no_front.1.contains("front matter"), "{no_front:?}");
        let bad_audience = ARTICLE.replace("\"contractors\"", "\"everyone\"");
        let refused = err(&bad_audience);
        assert_eq!(refused.0, "audience", "{refused:?}");
        assert!(refused.1.contains("unknown variant"), "{refused:?}");
        let bad_id = ARTICLE.replace("refund-policy", "Refund Policy");
        assert_eq!(err(&bad_id).0, "id");
        let unknown = ARTICLE.replace("audience", "owner = \"x\"\naudience");
        assert!(err(&unknown).1.contains("owner"));
        let empty = ARTICLE
            .split("+++\n\n")
            .next()
            .unwrap_or_default()
            .to_owned()
            + "+++\n";
        assert!(err(&empty).1.contains("no text"));
    }

    #[test]
    fn html_is_safe_to_include() {
        let html = to_safe_html(
            "<script>alert(1)</script>\n\nSee [docs](https://example.com/a?b=1&c=\"x\") or \
             [this](javascript:alert(1)) or [that]( JavaScript:alert(1)) \
             <img src=x onerror=alert(1)> ![logo](https://tracker.example/p.png)\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.to_lowercase().contains("javascript:alert"), "{html}");
        assert!(html.contains("<a href=\"https://example.com/a?b=1&amp;c=%22x%22\">docs</a>"));
        assert!(
            html.contains(" this "),
            "the words of a dropped link stay: {html}"
        );
        assert!(html.contains("[logo]"), "{html}");
        assert!(!html.contains("tracker.example"), "{html}");
    }

    #[test]
    fn links_are_judged_by_their_scheme() {
        for ok in [
            "https://x.ru",
            "HTTP://x",
            "mailto:a@b.ru",
            "/kb/a",
            "#part",
            "a/b:c",
        ] {
            assert!(is_safe_link(ok), "{ok}");
        }
        for bad in [
            "javascript:x",
            "data:text/html,x",
            "vbscript:x",
            " file:/etc",
        ] {
            assert!(!is_safe_link(bad), "{bad}");
        }
    }
}
