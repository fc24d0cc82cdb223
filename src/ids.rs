//! The ids the API names, parsed once at the edge. A path value that is not a well-formed id of
//! its kind names nothing (404); a body or query value that is not one is refused naming the
//! field. Past the edge the type says which id a value is, so a ticket id cannot be passed
//! where a report id is meant. Storage keeps plain integers and text; `From<i64>` wraps what
//! the database gives back.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// An id that is a positive integer: tickets, shares, reports.
macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        /// Wraps an id the database gave back (it assigned it, so it is well formed).
        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl $name {
            /// The id as stored.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                s.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map(Self)
                    .ok_or_else(|| format!("expected {} (a positive integer)", $what))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(PositiveVisitor($what)).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    )))
                    .minimum(Some(1))
                    .description(Some(concat!("A ", $what, ".")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

numeric_id!(
    /// A gateway ticket id.
    TicketId,
    "ticket id"
);
numeric_id!(
    /// A share id: one ticket's time with one contractor.
    ShareId,
    "share id"
);
numeric_id!(
    /// A stored report's id (one format of one run).
    ReportId,
    "report id"
);

/// Reads a positive integer from a number (JSON) or from text (a path or a query string).
struct PositiveVisitor(&'static str);

impl serde::de::Visitor<'_> for PositiveVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} (a positive integer)", self.0)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        if v > 0 {
            Ok(v)
        } else {
            Err(E::custom(format!(
                "expected a {} (a positive integer)",
                self.0
            )))
        }
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v)
            .map_err(|_| E::custom(format!("expected a {} (a positive integer)", self.0)))
            .and_then(|n| self.visit_i64(n))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
        v.parse::<i64>()
            .map_err(|_| E::custom(format!("expected a {} (a positive integer)", self.0)))
            .and_then(|n| self.visit_i64(n))
    }
}

/// An id that is text of a fixed syntax: contracts, events.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $valid:path, $pattern:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl $name {
            /// The id as owned text.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                if $valid(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(format!("expected {} (`{}`)", $what, $pattern))
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .description(Some(concat!($what, ".")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

text_id!(
    /// A contract id, as its file gives it: lower-case letters, digits, `-`, `_` or `.`, 1–64.
    ContractId,
    "a contract id",
    crate::model::is_identifier,
    "^[a-z0-9._-]{1,64}$"
);
text_id!(
    /// An event id: `evt_` and 24 hex digits.
    EventId,
    "an event id",
    is_event_id,
    "^evt_[0-9a-f]{24}$"
);

/// True for `evt_` followed by 24 lower-case hex digits, as the outbox makes them.
fn is_event_id(s: &str) -> bool {
    s.strip_prefix("evt_").is_some_and(|hex| {
        hex.len() == 24
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_integers_from_json_paths_and_queries() {
        assert_eq!("7".parse::<TicketId>(), Ok(TicketId(7)));
        for bad in ["0", "-3", "x", "", "7.0", "99999999999999999999"] {
            assert!(bad.parse::<TicketId>().is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::from_str::<ReportId>("12").ok(),
            Some(ReportId(12))
        );
        assert_eq!(
            serde_json::from_str::<ReportId>("\"12\"").ok(),
            Some(ReportId(12))
        );
        assert!(serde_json::from_str::<ShareId>("0").is_err());
        assert!(serde_json::from_str::<ShareId>("18446744073709551615").is_err());
        assert_eq!(
            serde_json::to_string(&TicketId(5)).ok().as_deref(),
            Some("5")
        );
    }

    #[test]
    fn contract_ids_have_the_contract_files_syntax() {
        assert_eq!(
            "acme-en".parse::<ContractId>().map(ContractId::into_string),
            Ok("acme-en".to_owned())
        );
        for bad in ["", "Acme", "a b", "a/b", &"x".repeat(65)] {
            assert!(bad.parse::<ContractId>().is_err(), "{bad}");
        }
        let Err(e) = serde_json::from_str::<ContractId>("\"../etc\"") else {
            panic!("a path was taken for a contract id");
        };
        assert!(e.to_string().contains("contract id"), "{e}");
    }

    #[test]
    fn event_ids_are_the_outboxs() {
        let made = format!("evt_{}", crate::random::random_hex(12));
        assert_eq!(made.parse::<EventId>().map(EventId::into_string), Ok(made));
        for bad in [
            "evt_",
            "evt_5F2C9A01D4E7B3A8C6F1E092",
            "5f2c9a01d4e7b3a8c6f1e092",
            "evt_5f2c9a01d4e7b3a8c6f1e09",
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad}");
        }
    }
}
