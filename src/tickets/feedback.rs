//! Customer feedback as the in-house side or a helpdesk reports it, checked.

use serde::{Deserialize, Serialize};

use super::TicketError;

/// The longest comment kept.
pub const MAX_COMMENT_CHARS: usize = 4_000;

/// Feedback as the in-house side reports it: at least one of `score` and `nps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"score": 2, "nps": 6, "comment": "Took three days to answer."}))]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// CSAT: 1 (very unhappy) to 5 (very happy).
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default)]
    pub score: Option<i32>,
    /// NPS: how likely the customer is to recommend, 0–10.
    #[schema(minimum = 0, maximum = 10)]
    #[serde(default)]
    pub nps: Option<i32>,
    /// The customer's words (up to 4,000 characters); kept with each answer given.
    #[serde(default)]
    pub comment: Option<String>,
}

impl FeedbackInput {
    /// Checks the ranges and the comment; the error names the field.
    pub fn check(&self) -> Result<(), TicketError> {
        let invalid = |field: &str, message: &str| TicketError::Invalid {
            field: field.into(),
            message: message.into(),
        };
        if self.score.is_none() && self.nps.is_none() {
            return Err(invalid("score", "give `score` (1–5), `nps` (0–10) or both"));
        }
        if self.score.is_some_and(|s| !(1..=5).contains(&s)) {
            return Err(invalid("score", "must be a whole number from 1 to 5"));
        }
        if self.nps.is_some_and(|s| !(0..=10).contains(&s)) {
            return Err(invalid("nps", "must be a whole number from 0 to 10"));
        }
        if self
            .comment
            .as_deref()
            .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
        {
            return Err(invalid(
                "comment",
                &format!("must be at most {MAX_COMMENT_CHARS} characters"),
            ));
        }
        Ok(())
    }

    /// The customer's words, trimmed; none when empty.
    pub fn comment(&self) -> Option<&str> {
        self.comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }
}
