//! The machine-readable report: `runway.report/v1`, documented in
//! `docs/report-schema.md` and `docs/report.schema.json`.

use runway_core::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\":\"the report could not be serialised: {e}\"}}"));
    s.push('\n');
    s
}
