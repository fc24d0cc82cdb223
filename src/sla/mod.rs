//! Service levels: business-time arithmetic on a contract's calendar, and the targets that
//! apply to a ticket. Pure: no I/O, no clock; callers pass the instants.

pub mod calendar;

use chrono::{DateTime, Utc};

pub use calendar::{add_business_time, business_time_between};

use crate::contracts::{Sla, SlaTarget};
use crate::model::{Channel, Priority};

/// The target for a ticket: the one for its priority and channel, else the one for its
/// priority on every channel.
pub fn target_for(sla: &Sla, priority: Priority, channel: Channel) -> Option<&SlaTarget> {
    sla.targets
        .iter()
        .find(|t| t.priority == priority && t.channel == Some(channel))
        .or_else(|| {
            sla.targets
                .iter()
                .find(|t| t.priority == priority && t.channel.is_none())
        })
}

/// When a share's clocks fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueTimes {
    /// The first public reply is due.
    pub first_response: DateTime<Utc>,
    /// The ticket must be solved.
    pub resolution: DateTime<Utc>,
}

/// Due times of a ticket shared at `start`, in the contract's business time; `None` when no
/// target covers the ticket (or the calendar never opens).
pub fn due_times(
    sla: &Sla,
    priority: Priority,
    channel: Channel,
    start: DateTime<Utc>,
) -> Option<DueTimes> {
    let target = target_for(sla, priority, channel)?;
    let span = |d: std::time::Duration| chrono::Duration::from_std(d).ok();
    Some(DueTimes {
        first_response: add_business_time(&sla.calendar, start, span(target.first_response)?)?,
        resolution: add_business_time(&sla.calendar, start, span(target.resolution)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::parse_contract;

    #[test]
    fn channel_targets_win_over_generic_ones() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contracts/brightdesk-tier1-247.toml"
        ))
        .unwrap_or_default();
        let c = parse_contract("b.toml", &text).unwrap_or_else(|p| panic!("{p:?}"));
        let chat =
            target_for(&c.sla, Priority::Normal, Channel::Chat).map(|t| t.first_response.as_secs());
        let email = target_for(&c.sla, Priority::Normal, Channel::Email)
            .map(|t| t.first_response.as_secs());
        assert_eq!((chat, email), (Some(120), Some(7_200)));
        assert!(target_for(&c.sla, Priority::Urgent, Channel::Email).is_none());
        let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let due = due_times(&c.sla, Priority::Normal, Channel::Chat, start)
            .unwrap_or_else(|| panic!("covered"));
        assert_eq!(due.first_response - start, chrono::Duration::minutes(2));
        assert_eq!(due.resolution - start, chrono::Duration::hours(1));
    }
}
