//! Rendering reports. HTML comes from handlebars templates in strict mode: a missing field or
//! label is an error, not an empty cell. Templates ship in the binary (`templates/reports/`)
//! and can be overridden from a directory; every template is rendered once for each locale
//! when loaded, so a broken one stops the gateway at start-up instead of failing the 3 a.m.
//! run. JSON is the data itself; CSV is a fixed, machine-readable layout of the disclosure rows
//! written directly (a monthly report can hold half a million of them).

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::{Value, json};

use super::ReportError;
use super::data::ReportData;
use crate::contracts::{Locale, ReportFormat};

const DEFAULT_HTML: &str = include_str!("../../templates/reports/default.html.hbs");
const LABELS_EN: &str = include_str!("../../templates/reports/en.json");
const LABELS_RU: &str = include_str!("../../templates/reports/ru.json");
const SUBJECT_HTML: &str = include_str!("../../templates/reports/subject-access.hbs");

/// The loaded templates and labels.
#[derive(Debug)]
pub struct Renderer {
    html: Handlebars<'static>,
    /// The data subject access report (built in).
    subject: Handlebars<'static>,
    en: Value,
    ru: Value,
}

impl Renderer {
    /// The built-in template, overridden or joined by `<dir>/reports/<name>.html.hbs`, and the
    /// labels, overridden by `en.json` / `ru.json` there. Each template is test-rendered for
    /// both locales.
    pub fn load(dir: Option<&Path>) -> Result<Self, ReportError> {
        let mut html = registry();
        let mut labels = [LABELS_EN.to_owned(), LABELS_RU.to_owned()];
        add(&mut html, "default", DEFAULT_HTML)?;
        if let Some(dir) = dir.map(|d| d.join("reports")).filter(|d| d.is_dir()) {
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| ReportError::Template(format!("{}: {e}", dir.display())))?;
            for entry in entries.flatten() {
                let path = entry.path();
                let file = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let read = || {
                    std::fs::read_to_string(&path)
                        .map_err(|e| ReportError::Template(format!("{}: {e}", path.display())))
                };
                if let Some(name) = file.strip_suffix(".html.hbs") {
                    add(&mut html, name, &read()?)?;
                } else if file == "en.json" {
                    labels[0] = read()?;
                } else if file == "ru.json" {
                    labels[1] = read()?;
                }
            }
        }
        let parse = |text: &str, which: &str| {
            serde_json::from_str::<Value>(text)
                .map_err(|e| ReportError::Template(format!("{which}.json: {e}")))
        };
        let [en, ru] = labels;
        let mut subject = registry();
        add(&mut subject, "subject", SUBJECT_HTML)?;
        let renderer = Self {
            html,
            subject,
            en: parse(&en, "en")?,
            ru: parse(&ru, "ru")?,
        };
        renderer.check()?;
        Ok(renderer)
    }

    /// Renders every template with sample data in both locales.
    fn check(&self) -> Result<(), ReportError> {
        let sample = super::data::sample();
        for locale in [Locale::En, Locale::Ru] {
            for name in self.html.get_templates().keys() {
                self.render(&sample, ReportFormat::Html, locale, name)?;
            }
        }
        Ok(())
    }

    /// True when `name` names an HTML template.
    pub fn has_template(&self, name: &str) -> bool {
        self.html.has_template(name)
    }

    /// Renders `data` in `format` and `locale` with template `name` (JSON needs none).
    pub fn render(
        &self,
        data: &ReportData,
        format: ReportFormat,
        locale: Locale,
        name: &str,
    ) -> Result<String, ReportError> {
        match format {
            ReportFormat::Json => {
                return serde_json::to_string_pretty(data)
                    .map(|mut text| {
                        text.push('\n');
                        text
                    })
                    .map_err(|e| ReportError::Template(e.to_string()));
            }
            ReportFormat::Csv => return Ok(disclosure_csv(data)),
            ReportFormat::FiguresCsv => return Ok(figures_csv(data)),
            ReportFormat::Html => {}
        }
        let labels = match locale {
            Locale::En => &self.en,
            Locale::Ru => &self.ru,
        };
        let context = json!({
            "report": data,
            "t": labels,
            "locale": locale.as_str(),
        });
        self.html
            .render(name, &context)
            .map_err(|e| ReportError::Template(format!("{name} ({format:?}): {e}")))
    }
}

impl Renderer {
    /// Renders a data subject's access report (`GET /api/v1/subjects/disclosures` as HTML)
    /// with the labels of `locale`.
    pub fn render_subject(
        &self,
        report: &impl serde::Serialize,
        locale: Locale,
    ) -> Result<String, ReportError> {
        let labels = match locale {
            Locale::En => &self.en,
            Locale::Ru => &self.ru,
        };
        let context = json!({ "report": report, "t": labels, "locale": locale.as_str() });
        self.subject
            .render("subject", &context)
            .map_err(|e| ReportError::Template(format!("subject: {e}")))
    }
}

fn add(reg: &mut Handlebars<'static>, name: &str, text: &str) -> Result<(), ReportError> {
    reg.register_template_string(name, text)
        .map_err(|e| ReportError::Template(format!("{name}: {e}")))
}

fn registry() -> Handlebars<'static> {
    let mut reg = Handlebars::new();
    reg.set_strict_mode(true);
    reg.register_helper("date", localized("date", date_text));
    reg.register_helper("day", localized("day", day_text));
    reg.register_helper("number", localized("number", number_text));
    reg.register_helper("percent", localized("percent", percent_text));
    reg.register_helper("decimal", localized("decimal", decimal_text));
    reg.register_helper("duration", localized("duration", duration_text));
    reg.register_helper("chart", Box::new(chart_helper));
    reg
}

fn is_ru(ctx: &Context) -> bool {
    ctx.data()["locale"] == "ru"
}

fn param<'a>(h: &'a Helper<'_>, name: &'static str) -> Result<&'a Value, RenderError> {
    h.param(0)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex(name, 0).into())
}

fn invalid(helper: &'static str, value: &Value) -> RenderError {
    RenderErrorReason::Other(format!("{helper}: cannot format {value}")).into()
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn format_date(date: NaiveDate, ru: bool) -> String {
    use chrono::Datelike;
    if ru {
        date.format("%d.%m.%Y").to_string()
    } else {
        let month = MONTHS_EN[date.month0() as usize];
        format!("{} {month} {}", date.day(), date.year())
    }
}

fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A helper that formats its one parameter for the page's locale with `format` (`None`: the
/// value cannot be shown, which strict rendering reports as an error).
fn localized(
    name: &'static str,
    format: fn(&Value, bool) -> Option<String>,
) -> Box<dyn handlebars::HelperDef + Send + Sync> {
    Box::new(
        move |h: &Helper<'_>,
              _: &Handlebars<'_>,
              ctx: &Context,
              _: &mut RenderContext<'_, '_>,
              out: &mut dyn Output|
              -> HelperResult {
            let value = param(h, name)?;
            let text = format(value, is_ru(ctx)).ok_or_else(|| invalid(name, value))?;
            out.write(&text)?;
            Ok(())
        },
    )
}

/// An instant, as its date and UTC time.
fn date_text(value: &Value, ru: bool) -> Option<String> {
    let at = timestamp(value)?;
    Some(format!(
        "{} {} UTC",
        format_date(at.date_naive(), ru),
        at.format("%H:%M")
    ))
}

/// A calendar date (`YYYY-MM-DD`).
fn day_text(value: &Value, ru: bool) -> Option<String> {
    let date = value.as_str()?.parse::<NaiveDate>().ok()?;
    Some(format_date(date, ru))
}

/// Groups digits by three: `1,234,567` in English, `1 234 567` (narrow no-break spaces) in
/// Russian.
fn group_digits(n: u64, ru: bool) -> String {
    let digits = n.to_string();
    let separator = if ru { '\u{202f}' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

fn number_text(value: &Value, ru: bool) -> Option<String> {
    value.as_u64().map(|n| group_digits(n, ru))
}

/// A percentage with one decimal; a dash when there is none (null).
fn percent_text(value: &Value, ru: bool) -> Option<String> {
    let number = decimal_text(value, ru)?;
    Some(match (value.is_null(), ru) {
        (true, _) => number,
        (false, true) => format!("{number}\u{a0}%"),
        (false, false) => format!("{number}%"),
    })
}

/// A number with one decimal (a comma in Russian, a true minus sign); a dash for null.
fn decimal_text(value: &Value, ru: bool) -> Option<String> {
    if value.is_null() {
        return Some("—".to_owned());
    }
    let text = format!("{:.1}", value.as_f64()?);
    Some(if ru {
        text.replace('.', ",").replace('-', "\u{2212}")
    } else {
        text.replace('-', "\u{2212}")
    })
}

/// Seconds as hours and minutes; a dash when there are none (null).
fn duration_text(value: &Value, ru: bool) -> Option<String> {
    if value.is_null() {
        return Some("—".to_owned());
    }
    let secs = value.as_i64()?;
    let (hours, minutes) = (secs / 3600, secs % 3600 / 60);
    Some(if ru {
        format!("{hours}\u{a0}ч {minutes:02}\u{a0}мин")
    } else {
        format!("{hours} h {minutes:02} min")
    })
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, and with a
/// leading `'` when a spreadsheet would take it for a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The disclosure rows as CSV, header first.
fn disclosure_csv(data: &ReportData) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64 + data.disclosures.len() * 160);
    out.push_str(CSV_HEADER);
    for row in &data.disclosures {
        let version = row
            .contract_version
            .map(|v| v.to_string())
            .unwrap_or_default();
        let at = row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            row.seq,
            at,
            csv_field(&row.action),
            csv_field(&row.actor),
            csv_field(&row.contract),
            row.ticket,
            version,
            csv_field(&row.fields),
            csv_field(&row.personal_data),
        );
    }
    out
}

/// One row of figures per contract, header first: the numbers of the report's `sla` entries
/// with the contract's macro replies and article reads. Numbers are written the same in every
/// locale (a dot for decimals, nothing for none), so that spreadsheets read them as numbers.
fn figures_csv(data: &ReportData) -> String {
    use std::fmt::Write;
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let secs = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = String::from(FIGURES_CSV_HEADER);
    for f in &data.sla {
        let macro_replies: u64 = data
            .macros
            .iter()
            .filter(|m| m.contract == f.contract)
            .map(|m| m.uses)
            .sum();
        let articles_read: u64 = data
            .knowledge
            .iter()
            .filter(|k| k.contract == f.contract)
            .map(|k| k.reads)
            .sum();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&f.contract),
            f.shared,
            f.solved,
            secs(f.first_response.median_seconds),
            secs(f.first_response.p90_seconds),
            secs(f.resolution.median_seconds),
            secs(f.resolution.p90_seconds),
            opt(f.attainment.percent),
            opt(f.first_contact_resolution.percent),
            opt(f.reopened.percent),
            opt(f.handed_back.percent),
            opt(f.recalled.percent),
            f.csat.ratings,
            opt(f.csat.average),
            opt(f.csat.satisfied_percent),
            f.nps.responses,
            opt(f.nps.score),
            opt(f.one_touch_resolution.percent),
            macro_replies,
            articles_read,
        );
    }
    out
}

/// The figures CSV's columns; fixed, like [`CSV_HEADER`].
pub const FIGURES_CSV_HEADER: &str = "contract,shared,solved,first_response_median_seconds,\
first_response_p90_seconds,resolution_median_seconds,resolution_p90_seconds,attainment_percent,\
first_contact_resolution_percent,reopened_percent,handed_back_percent,recalled_percent,\
csat_ratings,csat_average,csat_satisfied_percent,nps_responses,nps_score,\
one_touch_resolution_percent,macro_replies,articles_read\n";

/// The CSV columns; fixed, so that spreadsheets and scripts can rely on them.
pub const CSV_HEADER: &str =
    "seq,at,action,actor,contract,ticket,contract_version,fields,personal_data\n";

/// An inline SVG of the daily series: a bar per day for tickets shared, and a line for SLA
/// attainment (0–100 %). Printable, no script.
fn chart_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let value = param(h, "chart")?;
    let days = value.as_array().ok_or_else(|| invalid("chart", value))?;
    let (width, height, top) = (720.0_f64, 160.0_f64, 10.0_f64);
    let count = days.len().max(1) as f64;
    let step = width / count;
    let max = days
        .iter()
        .filter_map(|d| d["shared"].as_u64())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut svg = format!(
        "<svg id=\"chart\" role=\"img\" viewBox=\"0 0 {width} {}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">",
        height + 20.0
    );
    let mut line = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let x = i as f64 * step;
        let shared = day["shared"].as_u64().unwrap_or(0) as f64;
        let bar = (height - top) * shared / max;
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bar:.1}\" fill=\"#8fb3e0\"/>",
            x + step * 0.15,
            height - bar,
            step * 0.7
        ));
        if let Some(p) = day["attainment_percent"].as_f64() {
            line.push(format!(
                "{:.1},{:.1}",
                x + step / 2.0,
                height - (height - top) * p / 100.0
            ));
        }
    }
    if line.len() > 1 {
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#176b2c\" stroke-width=\"2\"/>",
            line.join(" ")
        ));
    }
    svg.push_str(&format!(
        "<text x=\"0\" y=\"{}\">0</text><text x=\"0\" y=\"{top}\">{}</text></svg>",
        height + 14.0,
        max as u64
    ));
    out.write(&svg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_per_locale() {
        assert_eq!(group_digits(1_234_567, false), "1,234,567");
        assert_eq!(group_digits(1_234_567, true), "1\u{202f}234\u{202f}567");
        assert_eq!(group_digits(999, false), "999");
        assert_eq!(group_digits(0, true), "0");
    }

    #[test]
    fn percentages_and_durations_read_as_each_locale_writes_them() {
        assert_eq!(percent_text(&json!(98.54), false).as_deref(), Some("98.5%"));
        assert_eq!(
            percent_text(&json!(98.54), true).as_deref(),
            Some("98,5\u{a0}%")
        );
        assert_eq!(percent_text(&Value::Null, true).as_deref(), Some("—"));
        assert_eq!(
            decimal_text(&json!(-12.5), true).as_deref(),
            Some("\u{2212}12,5")
        );
        assert_eq!(decimal_text(&json!(4), false).as_deref(), Some("4.0"));
        assert_eq!(percent_text(&json!("x"), false), None);
        assert_eq!(
            duration_text(&json!(7_500), false).as_deref(),
            Some("2 h 05 min")
        );
        assert_eq!(
            duration_text(&json!(7_500), true).as_deref(),
            Some("2\u{a0}ч 05\u{a0}мин")
        );
        assert_eq!(number_text(&json!(-1), false), None);
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }

    #[test]
    fn dates_read_as_each_locale_writes_them() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        assert_eq!(format_date(date, false), "24 Nov 2026");
        assert_eq!(format_date(date, true), "24.11.2026");
    }

    #[test]
    fn a_broken_template_is_refused_when_loaded() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let reports = dir.path().join("reports");
        std::fs::create_dir_all(&reports).unwrap_or_else(|e| panic!("{e}"));
        // Unclosed block.
        std::fs::write(reports.join("default.html.hbs"), "{{#if report.scope}}open")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = Renderer::load(Some(dir.path())).map(|_| ()).err();
        assert!(err.is_some_and(|e| e.to_string().contains("default")));
        // Well-formed, but it names a field that does not exist: strict mode refuses it.
        std::fs::write(reports.join("default.html.hbs"), "{{report.no_such_field}}")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = Renderer::load(Some(dir.path())).map(|_| ()).err();
        assert!(err.is_some_and(|e| e.to_string().contains("no_such_field")));
        // A label missing from a locale is caught too.
        std::fs::write(reports.join("default.html.hbs"), "{{t.no_such_label}}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(Renderer::load(Some(dir.path())).is_err());
        // And the built-in templates load.
        assert!(Renderer::load(None).is_ok());
    }
}
