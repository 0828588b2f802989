//! A small, tolerant reader of the Prometheus text exposition format.
//!
//! Tolerant of what real exporters emit (OpenMetrics `# EOF` and `# UNIT`,
//! timestamps, blank lines, unknown comments, `+Inf`/`NaN`), strict about what
//! a scraper would reject: a sample line that does not parse is reported with
//! its line number, so the check can say exactly where `/metrics` is broken.

use std::collections::BTreeMap;

/// One sample: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A line that a scraper would reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// Everything read from one exposition.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    /// `# TYPE` declarations: family name to type.
    pub types: BTreeMap<String, String>,
    pub errors: Vec<LineError>,
}

impl Exposition {
    /// True when `series` is exposed, either as a sample name or as a declared
    /// family (`foo` covers `foo_bucket`, `foo_sum`, `foo_count`, `foo_total`).
    pub fn has_series(&self, series: &str) -> bool {
        if self.types.contains_key(series) {
            return true;
        }
        self.samples.iter().any(|s| {
            s.name == series
                || s.name.strip_prefix(series).is_some_and(|rest| {
                    matches!(rest, "_bucket" | "_sum" | "_count" | "_total" | "_created")
                })
        })
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Reads `text`. Never fails as a whole: bad lines land in [`Exposition::errors`].
pub fn parse(text: &str) -> Exposition {
    let mut out = Exposition::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if words.next() == Some("TYPE")
                && let (Some(name), Some(kind)) = (words.next(), words.next())
            {
                out.types.insert(name.to_owned(), kind.to_owned());
            }
            continue;
        }
        match parse_sample(line) {
            Ok(s) => out.samples.push(s),
            Err(message) => out.errors.push(LineError {
                line: i + 1,
                message,
            }),
        }
    }
    out
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let mut chars = line.char_indices().peekable();
    let end_of_name = loop {
        match chars.peek() {
            Some(&(0, c)) if !is_name_start(c) => {
                return Err(format!("a metric name cannot start with `{c}`"));
            }
            Some(&(i, c)) if !is_name_char(c) => break i,
            Some(_) => {
                chars.next();
            }
            None => break line.len(),
        }
    };
    let name = line[..end_of_name].to_owned();
    let mut rest = &line[end_of_name..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, remaining) = parse_labels(after)?;
        labels = parsed;
        rest = remaining;
    }
    let mut fields = rest.split_whitespace();
    let value = fields
        .next()
        .ok_or_else(|| format!("`{name}` has no value"))?;
    let value = parse_value(value).ok_or_else(|| format!("`{value}` is not a number"))?;
    if let Some(ts) = fields.next()
        && ts.parse::<f64>().is_err()
    {
        return Err(format!("`{ts}` is not a timestamp"));
    }
    if let Some(extra) = fields.next() {
        // OpenMetrics exemplars start with `#`; anything else is junk.
        if !extra.starts_with('#') {
            return Err(format!("unexpected `{extra}` after the value"));
        }
    }
    Ok(Sample {
        name,
        labels,
        value,
    })
}

fn parse_value(v: &str) -> Option<f64> {
    match v {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => v.parse().ok(),
    }
}

/// Parses `a="x",b="y"}` and returns the labels and what follows the `}`.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| "a label has no `=`".to_owned())?;
        let key = rest[..eq].trim();
        if key.is_empty()
            || !key.chars().next().is_some_and(is_name_start)
            || !key.chars().all(is_name_char)
        {
            return Err(format!("`{key}` is not a label name"));
        }
        rest = rest[eq + 1..].trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of label `{key}` is not quoted"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(format!("the value of label `{key}` is not closed")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("the value of label `{key}` is not closed")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.insert(key.to_owned(), value);
        rest = rest[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("labels must be separated by `,` and closed by `}`".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"# HELP mcp_requests_total Requests by method.
# TYPE mcp_requests_total counter
mcp_requests_total{method="tools/call"} 12
mcp_requests_total{method="initialize",note="a \"quoted\", value"} 3 1700000000000
# TYPE mcp_request_duration_seconds histogram
mcp_request_duration_seconds_bucket{le="0.1"} 4
mcp_request_duration_seconds_bucket{le="+Inf"} 5
mcp_request_duration_seconds_sum 0.3
mcp_request_duration_seconds_count 5
process_start_time_seconds 1.7e9

weird_but_valid{} NaN
# EOF
"#;

    #[test]
    fn reads_counters_histograms_escapes_and_timestamps() {
        let e = parse(GOOD);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(e.samples.len(), 8);
        assert_eq!(e.samples[1].labels["note"], "a \"quoted\", value");
        assert_eq!(e.samples[3].labels["le"], "+Inf");
        assert_eq!(e.samples[3].value, 5.0);
        assert!(e.has_series("mcp_requests_total"));
        assert!(e.has_series("mcp_request_duration_seconds"));
        assert!(e.has_series("process_start_time_seconds"));
        assert!(!e.has_series("mcp_request"));
        assert_eq!(e.types["mcp_request_duration_seconds"], "histogram");
    }

    #[test]
    fn family_names_match_their_suffixed_samples_without_type_lines() {
        let e = parse("http_seconds_bucket{le=\"1\"} 1\nhttp_seconds_count 1\n");
        assert!(e.has_series("http_seconds"));
        assert!(!e.has_series("http"));
    }

    #[test]
    fn bad_lines_are_reported_with_line_numbers() {
        let e = parse("ok 1\n<html>oops</html>\nx{a=\"1\" 2\ny notanumber\nz{a=b} 1\n");
        let lines: Vec<usize> = e.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5]);
        assert_eq!(e.samples.len(), 1);
        assert!(e.errors[2].message.contains("notanumber"));
    }
}
