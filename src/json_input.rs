//! JSON from outside: read into typed values, with problems that name the field at fault and
//! never repeat what was sent (it may be personal data), and text that both databases can
//! store.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// What is wrong with a piece of JSON input, said without its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct InputProblem {
    /// A stable code: `malformed_json`, `missing_field`, `unknown_field`, `unknown_value`,
    /// `wrong_type` or `invalid_field`.
    pub code: &'static str,
    /// The field at fault (`requester.email`, `comments[0].body`), or `body` for the whole.
    pub field: String,
    /// What is wrong, in words, naming the field.
    pub detail: String,
}

impl InputProblem {
    /// A problem with `field`, described by `detail` (which is prefixed with the field).
    pub fn at(code: &'static str, field: impl Into<String>, detail: &str) -> Self {
        let field = printable(&field.into());
        let field = if field.is_empty() || field == "." {
            "body".to_owned()
        } else {
            field
        };
        Self {
            code,
            detail: format!("{field}: {detail}"),
            field,
        }
    }

    /// True when the input is not JSON at all.
    pub fn is_malformed(&self) -> bool {
        self.code == "malformed_json"
    }
}

/// Reads `T` from a JSON document: one value, nothing after it, no NUL character in any
/// string or key (PostgreSQL cannot store one in text, and no ticket needs one: the same
/// refusal on both databases, naming the field).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, InputProblem> {
    // A NUL can only arrive escaped (raw control characters are not JSON); look closer only
    // when the escape is there, so the common case costs one scan.
    if escapes_nul(body) {
        let value: Value = read(body)?;
        if let Some(field) = nul_at(&value, String::new()) {
            return Err(InputProblem::at(
                "invalid_field",
                field,
                "contains a NUL character (\\u0000), which no text field may hold",
            ));
        }
    }
    read(body)
}

/// Reads `T` from a JSON value already parsed (a helpdesk payload mapped to our form).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, InputProblem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        describe(&path, &e.into_inner())
    })
}

fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, InputProblem> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        describe(&path, &e.into_inner())
    })?;
    de.end().map_err(|e| describe(".", &e))?;
    Ok(value)
}

/// A reason someone gives (an overflow switch, a recall, a hand-back), trimmed: 1 to
/// `max_chars` characters, counted as characters (a Russian letter is two bytes).
pub fn reason(value: &str, max_chars: usize) -> Result<&str, InputProblem> {
    let reason = value.trim();
    if reason.is_empty() || reason.chars().count() > max_chars {
        return Err(InputProblem::at(
            "invalid_field",
            "reason",
            &format!("say why, in 1–{max_chars} characters"),
        ));
    }
    Ok(reason)
}

/// Whether the text holds `\u0000`: a scan for backslashes, which ticket text rarely has.
fn escapes_nul(body: &[u8]) -> bool {
    body.split(|b| *b == b'\\')
        .skip(1)
        .any(|rest| rest.starts_with(b"u0000"))
}

/// The path of the first string or key holding a NUL.
fn nul_at(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_at(v, here)
            }
        }),
        _ => None,
    }
}

/// Field names come from the input too: control characters in them are shown escaped, so a
/// problem (or a log line quoting it) never carries a raw newline or escape sequence.
fn printable(name: &str) -> String {
    if name.chars().any(char::is_control) {
        name.escape_debug().to_string()
    } else {
        name.to_owned()
    }
}

/// Turns serde's error at `path` into a problem. serde quotes the offending value in "invalid
/// type/value" and "unknown variant" messages; it may be personal data, so only what was
/// expected is kept.
pub fn describe(path: &str, e: &serde_json::Error) -> InputProblem {
    use serde_json::error::Category;
    // serde's message ends with " at line L column C"; the field path says more.
    let full = e.to_string();
    let message = full.split(" at line ").next().unwrap_or(&full);
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => InputProblem {
            code: "malformed_json",
            field: "body".into(),
            detail: format!(
                "the body is not valid JSON: {message} (line {}, column {})",
                e.line(),
                e.column()
            ),
        },
        Category::Data => described(path, message),
    }
}

/// A problem from a serde data error's `message` at `path`, whatever the format (JSON, a
/// query string, a form): what was expected is kept, the value sent is not.
pub fn described(path: &str, message: &str) -> InputProblem {
    let expected = message
        .split_once(", expected")
        .map(|(_, e)| e.trim())
        .unwrap_or("");
    if message.starts_with("missing field") {
        let named = message.split('`').nth(1).unwrap_or_default();
        InputProblem::at("missing_field", join_path(path, named), "is required")
    } else if message.starts_with("unknown field") {
        // A JSON path already ends at the unknown key; a query or form names it here.
        let named = message.split('`').nth(1).unwrap_or_default();
        let field = if path.ends_with(named) {
            path.to_owned()
        } else {
            join_path(path, named)
        };
        InputProblem::at("unknown_field", field, "is not a known field")
    } else if message.starts_with("unknown variant") {
        let detail = format!("unknown value, expected {expected}");
        InputProblem::at("unknown_value", path, &detail)
    } else if message.starts_with("invalid type") {
        let detail = format!("wrong type, expected {expected}");
        InputProblem::at("wrong_type", path, &detail)
    } else if message.starts_with("invalid value") || message.starts_with("invalid length") {
        let detail = format!("invalid value, expected {expected}");
        InputProblem::at("invalid_field", path, &detail)
    } else {
        InputProblem::at("invalid_field", path, "invalid value")
    }
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_counted_in_characters() {
        assert_eq!(reason("  пик сезона \n", 20), Ok("пик сезона"));
        // 500 Cyrillic letters are 1,000 bytes: still within a 500-character limit.
        let long = "я".repeat(500);
        assert_eq!(reason(&long, 500), Ok(long.as_str()));
        let Err(too_long) = reason(&"я".repeat(501), 500) else {
            panic!("501 characters passed a 500-character limit");
        };
        assert_eq!(
            (too_long.code, too_long.field.as_str()),
            ("invalid_field", "reason")
        );
        assert!(too_long.detail.contains("1–500"), "{}", too_long.detail);
        assert!(reason(" \t ", 500).is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Ticket {
        subject: String,
        tags: Option<Vec<String>>,
        priority: Option<Priority>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Priority {
        Low,
    }

    fn problem(body: &str) -> InputProblem {
        parse::<Ticket>(body.as_bytes())
            .err()
            .unwrap_or(InputProblem {
                code: "none",
                field: String::new(),
                detail: String::new(),
            })
    }

    #[test]
    fn a_nul_is_refused_naming_its_field() {
        let p = problem(r#"{"subject": "a\u0000b"}"#);
        assert_eq!((p.code, p.field.as_str()), ("invalid_field", "subject"));
        let p = problem(r#"{"subject": "x", "tags": ["ok", "\u0000"]}"#);
        assert_eq!(p.field, "tags[1]");
        // An escaped backslash before `u0000` is not a NUL.
        assert!(parse::<Ticket>(br#"{"subject": "C:\\u0000"}"#).is_ok());
    }

    #[test]
    fn problems_never_repeat_the_value() {
        let p = problem(r#"{"subject": "x", "priority": "card 4111 1111 1111 1111"}"#);
        assert_eq!((p.code, p.field.as_str()), ("unknown_value", "priority"));
        assert!(!p.detail.contains("4111"), "{}", p.detail);
        let p = problem(r#"{"subject": 4111111111111111}"#);
        assert_eq!(p.code, "wrong_type");
        assert!(!p.detail.contains("4111"), "{}", p.detail);
    }

    #[test]
    fn control_characters_in_a_field_name_are_escaped() {
        let p = problem("{\"subject\": \"x\", \"a\\n2026-01-01 INFO forged\\u001b[31m\": 1}");
        assert_eq!(p.code, "unknown_field");
        assert!(!p.field.chars().any(char::is_control), "{:?}", p.field);
        assert!(!p.detail.chars().any(char::is_control), "{:?}", p.detail);
    }
}
