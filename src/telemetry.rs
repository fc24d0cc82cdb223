//! Logs (tracing) and Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use tracing_subscriber::EnvFilter;

/// Starts structured logging: `RUST_LOG` filters (default `info`), `BRIDGE_LOG_FORMAT=json`
/// switches to JSON lines. Log lines carry ids, never ticket bodies or tokens. Every line is
/// one line: control characters that came from input (a newline in an unknown JSON key, an
/// escape sequence in a path) are written escaped, so nobody can forge a line or drive the
/// reader's terminal; colours are off for the same reason.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("BRIDGE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(|| OneLine(std::io::stderr()));
    // A second initialisation (tests) is harmless: keep the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// A log writer that keeps each event on one line. The formatter hands it one whole event
/// (ending in a newline) per write; anything else that could break or colour the line is
/// written escaped.
struct OneLine<W>(W);

impl<W: std::io::Write> std::io::Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(one_line(buf).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Characters that could forge or hide a line: C0 and C1 controls (newline, carriage return,
/// escape…), DEL, Unicode line and paragraph separators, and bidirectional overrides.
fn breaks_a_line(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `event` as one line: its final newline kept, every other line-breaking character escaped.
fn one_line(event: &[u8]) -> std::borrow::Cow<'_, str> {
    let text = String::from_utf8_lossy(event);
    let (body, end) = match text.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (text.as_ref(), ""),
    };
    if !body.chars().any(breaks_a_line) {
        return text;
    }
    let mut out = String::with_capacity(body.len() + 16);
    for c in body.chars() {
        if breaks_a_line(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push_str(end);
    std::borrow::Cow::Owned(out)
}

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: String,
    /// Route pattern, not the raw path (bounded cardinality, no ids).
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// Labels of a route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route pattern.
    pub route: String,
}

/// Labels of a contract.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ContractLabels {
    /// Contract id.
    pub contract: String,
}

/// Labels of a helpdesk connection.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectorLabels {
    /// Connection id.
    pub connector: String,
}

/// The gateway's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency by route.
    pub latency: Family<RouteLabels, Histogram>,
    /// Tickets accepted from the in-house side.
    pub tickets_ingested: Counter,
    /// Tickets shared, by contract.
    pub tickets_shared: Family<ContractLabels, Counter>,
    /// SLA warnings recorded, by contract.
    pub sla_warnings: Family<ContractLabels, Counter>,
    /// SLA breaches recorded, by contract.
    pub sla_breaches: Family<ContractLabels, Counter>,
    /// Shares holding a place, by contract.
    pub open_shares: Family<ContractLabels, Gauge>,
    /// Running SLA clocks, by contract.
    pub clocks_running: Family<ContractLabels, Gauge>,
    /// Paused SLA clocks, by contract.
    pub clocks_paused: Family<ContractLabels, Gauge>,
    /// SLA clocks past due and not stopped, by contract.
    pub clocks_overdue: Family<ContractLabels, Gauge>,
    /// Attainment over the contract's rolling window, percent (absent until a clock is decided).
    pub attainment: Family<ContractLabels, Gauge<f64, AtomicU64>>,
    /// 1 while a contract's rolling attainment is below its floor.
    pub below_floor: Family<ContractLabels, Gauge>,
    /// Backlog drain passes run on this replica.
    pub drain_passes: Counter,
    /// Connector rounds that worked, by connection.
    pub connector_rounds: Family<ConnectorLabels, Counter>,
    /// Helpdesk changes read, by connection.
    pub connector_changes: Family<ConnectorLabels, Counter>,
    /// Connector rounds that failed, by connection.
    pub connector_failures: Family<ConnectorLabels, Counter>,
    /// When a connection's last round worked (Unix seconds).
    pub connector_last_success: Family<ConnectorLabels, Gauge>,
    /// How far behind the helpdesk a connection reads: the age of the newest change it took
    /// in while more were waiting, 0 once caught up (seconds).
    pub connector_lag: Family<ConnectorLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("bridge");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let tickets_ingested = Counter::default();
        let tickets_shared = Family::<ContractLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests handled", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "tickets_ingested",
            "Tickets accepted from the in-house side",
            tickets_ingested.clone(),
        );
        registry.register(
            "tickets_shared",
            "Tickets shared with a contractor",
            tickets_shared.clone(),
        );
        let sla_warnings = Family::<ContractLabels, Counter>::default();
        let sla_breaches = Family::<ContractLabels, Counter>::default();
        let open_shares = Family::<ContractLabels, Gauge>::default();
        let clocks_running = Family::<ContractLabels, Gauge>::default();
        let clocks_paused = Family::<ContractLabels, Gauge>::default();
        let clocks_overdue = Family::<ContractLabels, Gauge>::default();
        let attainment = Family::<ContractLabels, Gauge<f64, AtomicU64>>::default();
        let below_floor = Family::<ContractLabels, Gauge>::default();
        registry.register(
            "sla_warnings",
            "SLA warnings recorded",
            sla_warnings.clone(),
        );
        registry.register(
            "sla_breaches",
            "SLA breaches recorded",
            sla_breaches.clone(),
        );
        registry.register(
            "open_shares",
            "Shares holding one of the contract's places",
            open_shares.clone(),
        );
        registry.register(
            "sla_clocks_running",
            "SLA clocks running",
            clocks_running.clone(),
        );
        registry.register(
            "sla_clocks_paused",
            "SLA clocks paused",
            clocks_paused.clone(),
        );
        registry.register(
            "sla_clocks_overdue",
            "SLA clocks past their due time and not stopped",
            clocks_overdue.clone(),
        );
        registry.register(
            "sla_attainment_percent",
            "SLA attainment over the contract's rolling window",
            attainment.clone(),
        );
        registry.register(
            "sla_below_floor",
            "1 while rolling attainment is below the contract's floor",
            below_floor.clone(),
        );
        let drain_passes = Counter::default();
        registry.register(
            "drain_passes",
            "Backlog drain passes run (on its interval or woken by a freed place)",
            drain_passes.clone(),
        );
        let connector_rounds = Family::<ConnectorLabels, Counter>::default();
        let connector_changes = Family::<ConnectorLabels, Counter>::default();
        let connector_failures = Family::<ConnectorLabels, Counter>::default();
        let connector_last_success = Family::<ConnectorLabels, Gauge>::default();
        let connector_lag = Family::<ConnectorLabels, Gauge>::default();
        registry.register(
            "connector_rounds",
            "Helpdesk connector rounds that worked",
            connector_rounds.clone(),
        );
        registry.register(
            "connector_changes",
            "Helpdesk changes read by a connector",
            connector_changes.clone(),
        );
        registry.register(
            "connector_failures",
            "Helpdesk connector rounds that failed",
            connector_failures.clone(),
        );
        registry.register(
            "connector_last_success_timestamp_seconds",
            "When a connector's last round worked",
            connector_last_success.clone(),
        );
        registry.register(
            "connector_lag_seconds",
            "Age of the newest helpdesk change a connector took in while more were waiting; 0 once caught up",
            connector_lag.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            tickets_ingested,
            tickets_shared,
            sla_warnings,
            sla_breaches,
            open_shares,
            clocks_running,
            clocks_paused,
            clocks_overdue,
            attainment,
            below_floor,
            drain_passes,
            connector_rounds,
            connector_changes,
            connector_failures,
            connector_last_success,
            connector_lag,
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_log_event_stays_one_line() {
        let plain = "2026-11-30T10:00:00Z INFO ok field=1\n";
        assert_eq!(one_line(plain.as_bytes()), plain);
        let forged = "2026-11-30T10:00:00Z WARN unknown field x\n2026-11-30T10:00:01Z INFO FORGED admin token issued \u{1b}[31mred\u{1b}[0m\r\u{2028}\u{202e}\n";
        let line = one_line(forged.as_bytes());
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(line.ends_with('\n'));
        assert!(!line.contains('\u{1b}') && !line.contains('\r'), "{line}");
        assert!(
            !line.contains('\u{2028}') && !line.contains('\u{202e}'),
            "{line}"
        );
        assert!(
            line.contains("x\\n2026-11-30T10:00:01Z INFO FORGED"),
            "{line}"
        );
        // Tabs and non-ASCII text are left alone.
        let russian = "2026 INFO Заявка\tпринята\n";
        assert_eq!(one_line(russian.as_bytes()), russian);
    }
}
