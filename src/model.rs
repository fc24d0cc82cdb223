//! The shared vocabulary of tickets and contracts, parsed once at the edge.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable lower-case name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        // Written by hand: the derive does not see a `rename` that a macro passes in.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().map(|v| v.as_str())))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(
                        "unknown value `{other}`, expected one of: {}",
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // How a stored name becomes the value (`#[diesel(deserialize_as = String)]` on a row's
        // field): a name the database should never hold fails the read.
        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }
    };
}

vocabulary! {
    /// How the customer reached support.
    Channel {
        /// E-mail.
        Email => "email",
        /// Live chat.
        Chat => "chat",
        /// Phone call.
        Phone => "phone",
        /// Web form.
        Web => "web",
        /// Social networks and messengers.
        Social => "social",
        /// Created through an API.
        Api => "api",
    }
}

vocabulary! {
    /// Ticket priority, in the common helpdesk vocabulary.
    Priority {
        /// Low.
        Low => "low",
        /// Normal.
        Normal => "normal",
        /// High.
        High => "high",
        /// Urgent: the in-house top tier's by default.
        Urgent => "urgent",
    }
}

vocabulary! {
    /// The in-house helpdesk's status of a ticket.
    TicketStatus {
        /// Not yet looked at.
        New => "new",
        /// Being worked on.
        Open => "open",
        /// Waiting for the customer.
        Pending => "pending",
        /// Waiting for a third party.
        OnHold => "on_hold",
        /// Answered; may be reopened.
        Solved => "solved",
        /// Finished for good.
        Closed => "closed",
    }
}

impl TicketStatus {
    /// True for statuses after which a ticket needs no more work.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Solved | Self::Closed)
    }

    /// True while the ticket waits for an agent (it counts in the in-house queue).
    pub fn awaits_agent(self) -> bool {
        matches!(self, Self::New | Self::Open)
    }

    /// The names of the statuses in which a ticket waits for an agent, for queries.
    pub fn awaiting_agent_names() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|s| s.awaits_agent())
            .map(|s| s.as_str())
            .collect()
    }
}

vocabulary! {
    /// Where a share stands.
    ShareState {
        /// The contractor is working on it.
        Open => "open",
        /// The contractor waits for the customer.
        Pending => "pending",
        /// The contractor solved it.
        Solved => "solved",
        /// The contractor gave it back.
        HandedBack => "handed_back",
        /// The in-house side took it back.
        Recalled => "recalled",
    }
}

impl ShareState {
    /// True while the contractor may see and work the ticket.
    pub fn is_visible_to_contractor(self) -> bool {
        matches!(self, Self::Open | Self::Pending | Self::Solved)
    }

    /// The names of the states in which the contractor sees the ticket, for queries.
    pub fn visible_names() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|s| s.is_visible_to_contractor())
            .map(|s| s.as_str())
            .collect()
    }

    /// True while the share takes one of the contract's `max_open` places.
    pub fn holds_capacity(self) -> bool {
        matches!(self, Self::Open | Self::Pending)
    }
}

vocabulary! {
    /// Where an outbox event stands on its way to its receiver.
    DeliveryState {
        /// Waiting to be sent, or to be retried.
        Pending => "pending",
        /// The receiver took it.
        Delivered => "delivered",
        /// Given up on after the retry window: waits for a replay.
        Dead => "dead",
        /// Not sent: nobody receives it (no webhook configured for its audience).
        Skipped => "skipped",
    }
}

vocabulary! {
    /// What an event (a webhook, an entry of the in-house feed) tells.
    EventType {
        /// A ticket was shared with a contractor.
        TicketShared => "ticket.shared",
        /// A shared ticket changed in-house (the contractor gets a fresh projection).
        TicketUpdated => "ticket.updated",
        /// The contractor replied or wrote a note.
        ShareReplied => "share.replied",
        /// A contractor's free-text reply waits for in-house approval.
        ReplyAwaitingApproval => "share.reply_awaiting_approval",
        /// The in-house side rejected a contractor's waiting reply.
        ReplyRejected => "share.reply_rejected",
        /// The contractor changed the share's status.
        ShareStatus => "share.status",
        /// The contractor handed the ticket back.
        ShareHandedBack => "share.handed_back",
        /// The ticket was taken back from the contractor.
        ShareRecalled => "share.recalled",
        /// An SLA clock reached its warning point.
        SlaWarning => "sla.warning",
        /// An SLA clock ran out.
        SlaBreach => "sla.breach",
        /// A breach was escalated in-house.
        SlaEscalated => "sla.escalated",
        /// A running clock moved to a new target (the ticket's priority or channel changed).
        SlaRetargeted => "sla.retargeted",
        /// The contractor's contract ended: its tickets were taken back and it must delete
        /// every copy it holds.
        ContractEnded => "contract.ended",
        /// A contract's SLA attainment, CSAT, NPS or first-contact resolution fell below its
        /// floor.
        QualityAlert => "quality.alert",
        /// It is back at or above the floor.
        QualityRestored => "quality.restored",
        /// The contractor must erase a data subject's data (the tickets and tokens listed)
        /// and acknowledge it.
        SubjectEraseRequested => "subject.erase_requested",
        /// A data subject's data was erased in the gateway: the helpdesk should erase its own.
        SubjectErased => "subject.erased",
        /// A contractor did not acknowledge an erasure in time.
        SubjectEraseOverdue => "subject.erase_overdue",
    }
}

vocabulary! {
    /// What routing decided for a ticket.
    RoutingOutcome {
        /// Shared with a contractor now.
        Shared => "shared",
        /// Kept in-house (no contract fits, or none has room).
        Kept => "kept",
        /// Already with a contractor: the change reaches it there.
        AlreadyShared => "already_shared",
    }
}

vocabulary! {
    /// The SLA clocks a share runs.
    ClockKind {
        /// Until the contractor's first public reply.
        FirstResponse => "first_response",
        /// Until the contractor answers a later customer message.
        NextResponse => "next_response",
        /// Until the contractor solves the ticket.
        Resolution => "resolution",
    }
}

vocabulary! {
    /// How a stopped SLA clock ended.
    ClockOutcome {
        /// Stopped in time.
        Met => "met",
        /// Stopped after its due time.
        Breached => "breached",
        /// The share ended (hand-back, recall) before the clock was stopped in time or late.
        Cancelled => "cancelled",
    }
}

vocabulary! {
    /// Where an SLA clock stands, as both sides see it.
    ClockState {
        /// Counting.
        Running => "running",
        /// Stopped for a while (a waiting status); its due time moves on.
        Paused => "paused",
        /// Stopped in time.
        Met => "met",
        /// Past its due time (stopped late, or still running).
        Breached => "breached",
        /// The share ended before the clock was stopped.
        Cancelled => "cancelled",
    }
}

vocabulary! {
    /// Who wrote a comment.
    CommentOrigin {
        /// The in-house side (the customer or the company's agents), from the helpdesk.
        Inhouse => "inhouse",
        /// The contractor, replying under its share.
        Contractor => "contractor",
    }
}

vocabulary! {
    /// Which side an event goes to.
    AudienceKind {
        /// The in-house helpdesk.
        Inhouse => "inhouse",
        /// The contractor of one contract.
        Contractor => "contractor",
    }
}

vocabulary! {
    /// Why a share was taken back. The contractor is told this code, never the in-house reason
    /// text (which can say anything about the customer).
    RecallCause {
        /// An in-house operator took it back (to work it in-house: the drain leaves it alone).
        Operator => "operator",
        /// An SLA breach, under a contract whose `on_breach` recalls.
        SlaBreach => "sla_breach",
        /// The contract was withdrawn (its file removed).
        ContractWithdrawn => "contract_withdrawn",
        /// The contract is not in force (its `valid_until` passed, or `valid_from` not reached).
        ContractNotInForce => "contract_not_in_force",
        /// The ticket changed and no longer fits the contract's scope (priority, channel,
        /// category, language, tags).
        OutOfScope => "out_of_scope",
    }
}

/// What [`is_identifier`] asks, in words, for error messages.
pub const IDENTIFIER_RULE: &str = "lower-case letters, digits, `-`, `_` or `.` (1–64)";

/// True for a lower-case identifier of letters, digits, `-`, `_` and `.`, 1–64 characters long.
pub fn is_identifier(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(*p));
        }
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(*c));
        }
        let err = "sms".parse::<Channel>().err().unwrap_or_default();
        assert!(err.contains("`sms`") && err.contains("email"), "{err}");
    }

    /// JSON, text and the OpenAPI schema spell every value the same way.
    #[test]
    fn the_query_lists_follow_the_predicates() {
        assert_eq!(ShareState::visible_names(), ["open", "pending", "solved"]);
        assert_eq!(TicketStatus::awaiting_agent_names(), ["new", "open"]);
        assert_eq!(
            ClockKind::try_from("resolution".to_owned()),
            Ok(ClockKind::Resolution)
        );
        assert!(ShareState::try_from("lost".to_owned()).is_err());
    }

    #[test]
    fn json_and_text_agree() {
        fn agree<T: serde::Serialize + utoipa::PartialSchema>(
            all: &[T],
            text: impl Fn(&T) -> &str,
        ) {
            let schema = serde_json::to_value(T::schema()).unwrap_or_default();
            for value in all {
                let json = serde_json::to_value(value).unwrap_or_default();
                assert_eq!(json, serde_json::json!(text(value)));
                assert!(
                    schema["enum"].as_array().is_some_and(|e| e.contains(&json)),
                    "{json} not in {schema}"
                );
            }
        }
        agree(Channel::ALL, |v| v.as_str());
        agree(Priority::ALL, |v| v.as_str());
        agree(TicketStatus::ALL, |v| v.as_str());
        agree(ShareState::ALL, |v| v.as_str());
        agree(DeliveryState::ALL, |v| v.as_str());
        agree(EventType::ALL, |v| v.as_str());
        agree(RoutingOutcome::ALL, |v| v.as_str());
        agree(ClockKind::ALL, |v| v.as_str());
        agree(ClockState::ALL, |v| v.as_str());
        agree(CommentOrigin::ALL, |v| v.as_str());
        agree(AudienceKind::ALL, |v| v.as_str());
        agree(RecallCause::ALL, |v| v.as_str());
        let shared: EventType =
            serde_json::from_str("\"ticket.shared\"").unwrap_or(EventType::SlaBreach);
        assert_eq!(shared, EventType::TicketShared);
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("ru-peak-2026.v1"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("Upper"));
        assert!(!is_identifier("space here"));
        assert!(!is_identifier(&"a".repeat(65)));
    }
}
