//! Service levels: business-time arithmetic on a contract's calendar, and the targets that
//! apply to a ticket. Pure: no I/O, no clock; callers pass the instants.

pub mod calendar;

use chrono::{DateTime, Duration, Utc};

pub use calendar::{add_business_time, business_time_between, next_opening};

use crate::contracts::{Calendar, Sla, SlaTarget};
use crate::model::{Channel, ClockKind, Priority};

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

/// When one clock warns and falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockPlan {
    /// The target, in business time.
    pub target: Duration,
    /// When the warning is due (`warn_at_percent` of the target).
    pub warn_at: DateTime<Utc>,
    /// When the clock breaches if still running.
    pub due_at: DateTime<Utc>,
}

/// How long a `kind` clock runs under `target`; `None` when the target has no such clock.
pub fn span(target: &SlaTarget, kind: ClockKind) -> Option<Duration> {
    let span = match kind {
        ClockKind::FirstResponse => target.first_response,
        ClockKind::NextResponse => target.next_response?,
        ClockKind::Resolution => target.resolution,
    };
    Duration::from_std(span).ok()
}

/// The plan of a `kind` clock started at `start` under `target`; `None` when the target has no
/// such clock (no `next_response`) or the calendar never opens.
pub fn plan(
    sla: &Sla,
    target: &SlaTarget,
    kind: ClockKind,
    start: DateTime<Utc>,
) -> Option<ClockPlan> {
    let target = span(target, kind)?;
    let warn = target * i32::from(sla.warn_at_percent) / 100;
    Some(ClockPlan {
        target,
        warn_at: add_business_time(&sla.calendar, start, warn)?,
        due_at: add_business_time(&sla.calendar, start, target)?,
    })
}

/// `at` moved later by the business time a pause from `paused_at` to `resumed_at` took, so the
/// business time left before `at` is what it was when the pause began.
pub fn shifted(
    cal: &Calendar,
    at: DateTime<Utc>,
    paused_at: DateTime<Utc>,
    resumed_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    add_business_time(cal, at, business_time_between(cal, paused_at, resumed_at))
}

/// Business time a clock ran (pauses excluded) when stopped at `stopped_at`, from its target
/// and its (pause-shifted) due time.
pub fn elapsed(
    cal: &Calendar,
    target: Duration,
    due_at: DateTime<Utc>,
    stopped_at: DateTime<Utc>,
) -> Duration {
    if stopped_at <= due_at {
        target - business_time_between(cal, stopped_at, due_at)
    } else {
        target + business_time_between(cal, due_at, stopped_at)
    }
}

/// A running clock's warning and due times under a new target, keeping the business time it
/// has already run: measured at `at` (now, or when its pause began) from its current target
/// and due time. A clock that has already run longer than a new (shorter) target falls due at
/// `at`; a warning it is past falls at `at` too.
pub fn retargeted(
    sla: &Sla,
    old_target: Duration,
    due_at: DateTime<Utc>,
    new_target: Duration,
    at: DateTime<Utc>,
) -> Option<ClockPlan> {
    let cal = &sla.calendar;
    let ran = elapsed(cal, old_target, due_at, at);
    let from_now = |span: Duration| {
        if span > Duration::zero() {
            add_business_time(cal, at, span)
        } else {
            Some(at)
        }
    };
    let warn = new_target * i32::from(sla.warn_at_percent) / 100;
    Some(ClockPlan {
        target: new_target,
        warn_at: from_now(warn - ran)?,
        due_at: from_now(new_target - ran)?,
    })
}

/// The nearest-rank percentile `p` (1–100) of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p.clamp(1, 100)) * sorted.len() as u64).div_ceil(100);
    sorted
        .get(usize::try_from(rank).ok()?.saturating_sub(1))
        .copied()
}

/// Met clocks as a percentage of decided ones (met + breached), to one decimal; `None` when
/// nothing was decided.
pub fn attainment_percent(met: u64, breached: u64) -> Option<f64> {
    let decided = met + breached;
    (decided > 0).then(|| (met as f64 * 1000.0 / decided as f64).round() / 10.0)
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
        let target = target_for(&c.sla, Priority::Normal, Channel::Chat)
            .unwrap_or_else(|| panic!("covered"));
        let first = plan(&c.sla, target, ClockKind::FirstResponse, start);
        let resolution = plan(&c.sla, target, ClockKind::Resolution, start);
        assert_eq!(first.map(|p| p.due_at - start), Some(Duration::minutes(2)));
        // warn_at_percent = 75 of 2 minutes.
        assert_eq!(
            first.map(|p| p.warn_at - start),
            Some(Duration::seconds(90))
        );
        assert_eq!(
            resolution.map(|p| p.due_at - start),
            Some(Duration::hours(1))
        );
        let low =
            target_for(&c.sla, Priority::Low, Channel::Email).unwrap_or_else(|| panic!("low"));
        assert!(plan(&c.sla, low, ClockKind::NextResponse, start).is_none());
    }

    /// A clock moved to a new target keeps the business time it ran, on the contract's own
    /// calendar (Moscow, weekdays 08:00–22:00): overnight does not count.
    #[test]
    fn a_retargeted_clock_keeps_the_business_time_it_ran() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contracts/severnaya-peak-overflow.toml"
        ))
        .unwrap_or_default();
        let c = parse_contract("s.toml", &text).unwrap_or_else(|p| panic!("{p:?}"));
        let utc = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        // Started Monday 21:00 Moscow (18:00 UTC) with a 2 h target: due Tuesday 09:00 Moscow.
        let start = utc("2026-06-01T18:00:00Z");
        let due = add_business_time(&c.sla.calendar, start, Duration::hours(2))
            .unwrap_or_else(|| panic!("opens"));
        assert_eq!(due, utc("2026-06-02T06:00:00Z"));
        // At Tuesday 08:30 Moscow it has run 1 h 30 min (21:00–22:00 and 08:00–08:30).
        let at = utc("2026-06-02T05:30:00Z");
        let longer = retargeted(&c.sla, Duration::hours(2), due, Duration::hours(4), at);
        assert_eq!(longer.map(|p| p.due_at), Some(utc("2026-06-02T08:00:00Z")));
        // warn_at_percent = 80 of 4 h is 3 h 12 min: 1 h 42 min after 08:30 Moscow.
        assert_eq!(longer.map(|p| p.warn_at), Some(utc("2026-06-02T07:12:00Z")));
        // A target shorter than what it ran falls due at once.
        let shorter = retargeted(&c.sla, Duration::hours(2), due, Duration::hours(1), at);
        assert_eq!(shorter.map(|p| (p.due_at, p.warn_at)), Some((at, at)));
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&values, 50), Some(5));
        assert_eq!(percentile(&values, 90), Some(9));
        assert_eq!(percentile(&values, 100), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(attainment_percent(2, 1), Some(66.7));
        assert_eq!(attainment_percent(0, 0), None);
    }
}
