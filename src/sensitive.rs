//! A wrapper for personal data, so that it cannot end up in a log line by accident.

use serde::{Deserialize, Serialize};

/// Personal data: `Debug` and `Display` print a placeholder, never the value.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive<T>(pub T);

impl<T> Sensitive<T> {
    /// The value, for code that is about to redact or store it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value, consuming the wrapper.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[sensitive]")
    }
}

impl<T> std::fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[sensitive]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Sensitive("ivan@example.com".to_owned());
        assert_eq!(format!("{s:?} {s}"), "[sensitive] [sensitive]");
        assert_eq!(s.expose(), "ivan@example.com");
    }
}
