//! Routing: which contract, if any, a ticket goes to, and why.
//!
//! [`evaluate`] is pure: it looks at the ticket, each contract and that contract's live state
//! (manual switch, open shares) and says for every contract whether it could take the ticket.
//! The caller then reserves capacity with the first eligible one inside its transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::contracts::{Contract, OverflowMode};
use crate::model::{Channel, Priority};

/// What routing needs to know about a ticket.
#[derive(Debug, Clone)]
pub struct RoutableTicket<'a> {
    /// Channel.
    pub channel: Channel,
    /// Priority.
    pub priority: Priority,
    /// Category, lower-case.
    pub category: Option<&'a str>,
    /// Language, lower-case.
    pub language: Option<&'a str>,
    /// Tags, lower-case.
    pub tags: &'a [String],
    /// The helpdesk's custom fields, as sent.
    pub custom_fields: &'a serde_json::Map<String, serde_json::Value>,
    /// A stable key of the ticket (source and external id), for `share_percent`.
    pub key: &'a str,
}

/// A contract's live state, read in the routing transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveState {
    /// The manual overflow switch.
    pub manual_on: bool,
    /// Shares holding capacity now.
    pub open_shares: i32,
    /// This contractor handed the ticket back, or it was recalled from it, before.
    pub returned_before: bool,
    /// Shares made under the contract in the last hour.
    pub shared_last_hour: i64,
    /// The in-house queue depth (the same for every contract).
    pub queue_depth: i64,
}

/// Categories that never leave the house unless a contract names them in its scope.
pub const REGULATED_CATEGORIES: &[&str] = &[
    "medical",
    "health",
    "finance",
    "legal",
    "insurance",
    "minors",
];

/// The ticket's stable bucket 0–99 for `share_percent`: the same ticket always gets the same
/// answer, across requests and replicas.
pub fn share_bucket(key: &str) -> u8 {
    // FNV-1a: tiny, stable across versions and platforms (unlike std's hasher).
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % 100) as u8
}

/// One contract's verdict on a ticket.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Consideration {
    /// The contract.
    pub contract: String,
    /// Its contractor.
    pub contractor: String,
    /// Whether it could take the ticket.
    pub eligible: bool,
    /// Why, in words.
    pub reason: String,
}

/// Routing order: by `rank`; among equal ranks the contract with the most spare places first
/// (so equal partners share the load); then by id, so the order is stable.
pub fn in_routing_order<'c>(
    candidates: impl IntoIterator<Item = (&'c Contract, LiveState)>,
) -> Vec<(&'c Contract, LiveState)> {
    let mut ordered: Vec<_> = candidates.into_iter().collect();
    ordered.sort_by_key(|(c, live)| {
        let spare = i64::from(c.overflow.max_open) - i64::from(live.open_shares);
        (c.overflow.rank, std::cmp::Reverse(spare), c.id.clone())
    });
    ordered
}

/// Checks every contract, in the order given (routing order), against the ticket at `now`.
pub fn evaluate<'c>(
    ticket: &RoutableTicket<'_>,
    contracts: impl IntoIterator<Item = (&'c Contract, LiveState)>,
    now: DateTime<Utc>,
) -> Vec<Consideration> {
    contracts
        .into_iter()
        .map(|(contract, live)| {
            let verdict = contract
                .in_force(now)
                .and_then(|()| scope_matches(contract, ticket))
                .and_then(|()| not_returned(live))
                .and_then(|()| within_share_percent(contract, ticket))
                .and_then(|()| open_for(contract, ticket.channel, now))
                .and_then(|()| overflow_trigger(contract, live, now))
                .and_then(|trigger| has_room(contract, live).map(|()| trigger));
            consideration(contract, live, verdict)
        })
        .collect()
}

/// The L2 contract's verdict on a ticket an L1 contractor hands up to it: the contract named
/// it, so its overflow trigger and `share_percent` are not asked (an L2 agency with overflow
/// `off` takes escalations only); it must be in force, the ticket in its scope and not one
/// it gave up before, its calendar open for the channel, and room left.
pub fn evaluate_escalation(
    ticket: &RoutableTicket<'_>,
    contract: &Contract,
    live: LiveState,
    now: DateTime<Utc>,
) -> Consideration {
    let verdict = contract
        .in_force(now)
        .and_then(|()| scope_matches(contract, ticket))
        .and_then(|()| not_returned(live))
        .and_then(|()| open_for(contract, ticket.channel, now))
        .and_then(|()| has_room(contract, live));
    consideration(contract, live, verdict.map(|()| "an escalation".to_owned()))
}

fn not_returned(live: LiveState) -> Result<(), String> {
    if live.returned_before {
        Err("the ticket came back from this contractor before".to_owned())
    } else {
        Ok(())
    }
}

/// A contract's verdict: the trigger that holds (in words), or why it cannot take the ticket.
fn consideration(
    contract: &Contract,
    live: LiveState,
    verdict: Result<String, String>,
) -> Consideration {
    let (eligible, reason) = match verdict {
        Ok(trigger) => (
            true,
            format!(
                "in scope, {trigger}, room for more ({} of {} open)",
                live.open_shares, contract.overflow.max_open
            ),
        ),
        Err(why) => (false, why),
    };
    Consideration {
        contract: contract.id.clone(),
        contractor: contract.contractor.clone(),
        eligible,
        reason,
    }
}

/// Whether the ticket is still within the contract's scope (channel, priority, category,
/// language, regulated categories, tags): what a shared ticket is checked against when it
/// changes. Room and overflow are not asked again: a share keeps its place.
pub fn still_fits(contract: &Contract, ticket: &RoutableTicket<'_>) -> Result<(), String> {
    scope_matches(contract, ticket)
}

fn scope_matches(c: &Contract, t: &RoutableTicket<'_>) -> Result<(), String> {
    let s = &c.scope;
    if !s.channels.contains(&t.channel) {
        return Err(format!("channel {} is not in scope", t.channel));
    }
    if !s.priorities.contains(&t.priority) {
        return Err(format!("priority {} is not in scope", t.priority));
    }
    if !s.categories.is_empty() {
        match t.category {
            Some(cat) if s.categories.iter().any(|x| x == cat) => {}
            Some(cat) => return Err(format!("category {cat} is not in scope")),
            None => return Err("the ticket has no category and the scope lists categories".into()),
        }
    }
    if !s.languages.is_empty() {
        match t.language {
            Some(lang) if s.languages.iter().any(|x| x == lang) => {}
            Some(lang) => return Err(format!("language {lang} is not in scope")),
            None => return Err("the ticket has no language and the scope lists languages".into()),
        }
    }
    if let Some(cat) = t.category.filter(|c| REGULATED_CATEGORIES.contains(c))
        && !s.categories.iter().any(|x| x == cat)
    {
        return Err(format!(
            "category {cat} is regulated and the contract does not name it"
        ));
    }
    if let Some(tag) = t.tags.iter().find(|tag| s.exclude_tags.contains(tag)) {
        return Err(format!("tag {tag} is excluded"));
    }
    for (name, allowed) in &s.custom_fields {
        let value = match t.custom_fields.get(name) {
            Some(serde_json::Value::String(text)) => text.trim().to_lowercase(),
            Some(serde_json::Value::Null) | None => {
                return Err(format!(
                    "custom field {name} is not set and the scope lists values"
                ));
            }
            Some(other) => other.to_string(),
        };
        if !allowed.contains(&value) {
            return Err(format!("custom field {name} = {value} is not in scope"));
        }
    }
    if !s.include_tags.is_empty() && !t.tags.iter().any(|tag| s.include_tags.contains(tag)) {
        return Err(format!(
            "needs one of the tags {}",
            s.include_tags.join(", ")
        ));
    }
    Ok(())
}

/// Whether the contract takes a new ticket of `channel` now: while its calendar is open, or
/// outside its hours for the channels it accepts then (`accept_outside_hours`); otherwise
/// when it opens, in words (`closed until 09:00 MSK`).
fn open_for(c: &Contract, channel: Channel, now: DateTime<Utc>) -> Result<(), String> {
    if c.overflow.accept_outside_hours.contains(&channel) {
        return Ok(());
    }
    let calendar = &c.sla.calendar;
    match crate::sla::next_opening(calendar, now) {
        Some(opens) if opens <= now => Ok(()),
        Some(opens) => {
            let local = opens.with_timezone(&calendar.timezone);
            // Within a day the hour says it; further off, the weekday too.
            let format = if opens - now < chrono::Duration::hours(24) {
                "%H:%M %Z"
            } else {
                "%a %H:%M %Z"
            };
            Err(format!(
                "closed until {} (a {channel} is not sent to a closed agency)",
                local.format(format)
            ))
        }
        None => Err("closed: its calendar never opens".into()),
    }
}

/// Whether the contract could take a ticket now, whatever the ticket: in force, a trigger on,
/// room left. The backlog drain asks this before reading the backlog.
pub fn can_take_more(contract: &Contract, live: LiveState, now: DateTime<Utc>) -> bool {
    contract.in_force(now).is_ok()
        && overflow_trigger(contract, live, now).is_ok()
        && has_room(contract, live).is_ok()
}

/// Whether the contract could take a ticket handed up to it now: in force, room left (no
/// trigger is asked of an escalation).
pub fn can_take_escalation(contract: &Contract, live: LiveState, now: DateTime<Utc>) -> bool {
    contract.in_force(now).is_ok() && has_room(contract, live).is_ok()
}

/// Which trigger holds, in words, or why none does.
fn overflow_trigger(c: &Contract, live: LiveState, now: DateTime<Utc>) -> Result<String, String> {
    let o = &c.overflow;
    if o.mode == OverflowMode::Off {
        return Err("overflow is off".into());
    }
    if o.mode == OverflowMode::Always {
        return Ok("overflow always on".into());
    }
    if o.mode == OverflowMode::Manual && live.manual_on {
        return Ok("overflow switched on manually".into());
    }
    if o.mode == OverflowMode::Threshold
        && let Some(limit) = o
            .queue_depth_above
            .filter(|l| live.queue_depth > i64::from(*l))
    {
        return Ok(format!(
            "in-house queue at {}, above {limit}",
            live.queue_depth
        ));
    }
    let local = now.with_timezone(&c.timezone).naive_local();
    if let Some(w) = o
        .peak_windows
        .iter()
        .find(|w| w.from <= local && local < w.until)
    {
        return Ok(format!("inside peak window \"{}\"", w.label));
    }
    Err(match o.mode {
        OverflowMode::Manual => "overflow is switched off and no peak window is open".into(),
        _ => format!(
            "no peak window is open and the in-house queue ({}) is not above {}",
            live.queue_depth,
            o.queue_depth_above.unwrap_or_default()
        ),
    })
}

fn has_room(c: &Contract, live: LiveState) -> Result<(), String> {
    if i64::from(live.open_shares) >= i64::from(c.overflow.max_open) {
        return Err(format!(
            "at capacity ({} of {} open)",
            live.open_shares, c.overflow.max_open
        ));
    }
    match c.overflow.max_new_per_hour {
        Some(cap) if live.shared_last_hour >= i64::from(cap) => Err(format!(
            "hourly cap reached ({} of {} new in the last hour)",
            live.shared_last_hour, cap
        )),
        _ => Ok(()),
    }
}

fn within_share_percent(c: &Contract, t: &RoutableTicket<'_>) -> Result<(), String> {
    let bucket = share_bucket(t.key);
    if bucket < c.overflow.share_percent {
        Ok(())
    } else {
        Err(format!(
            "outside the contract's {} % share (bucket {bucket})",
            c.overflow.share_percent
        ))
    }
}

#[cfg(test)]
mod tests;
