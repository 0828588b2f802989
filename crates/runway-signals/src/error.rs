//! Why a source could not be built or read. The messages are the ones the
//! watch and the monitor print; the variants let a caller tell them apart.

use runway_config::token::TokenError;
use runway_verify::http::FetchError;

/// An exposition a scraper would reject: numbers from half a page would
/// mislead, so one bad line makes the whole scrape an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} of the exposition does not parse: {message}{}", all_bad(*bad_lines))]
pub struct ParseError {
    /// The first bad line (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
    /// How many lines are bad in all.
    pub bad_lines: usize,
}

fn all_bad(n: usize) -> String {
    if n > 1 {
        format!(" ({n} bad lines in all)")
    } else {
        String::new()
    }
}

/// One scrape of a `/metrics` endpoint that gave nothing to read.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// The request could not be built.
    #[error("{0}")]
    Request(String),
    /// No answer (refused, timed out, cut off).
    #[error("{url}: {source}")]
    Fetch {
        url: url::Url,
        #[source]
        source: FetchError,
    },
    /// An answer other than 2xx.
    #[error("{url} answered HTTP {status}")]
    Status { url: url::Url, status: u16 },
    /// More than the byte bound, or a body that ended early.
    #[error("{url} sent more than {max_bytes} bytes or stopped mid-body")]
    TooLarge { url: url::Url, max_bytes: usize },
    /// The exposition does not parse.
    #[error("{url}: {source}")]
    Parse {
        url: url::Url,
        #[source]
        source: ParseError,
    },
}

/// An `[analysis]` table whose sources cannot be built; each names its setting.
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("`analysis.metrics.url` `{url}` is not a URL: {source}")]
    MetricsUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error(
        "the `metrics` conditions need `analysis.metrics.url` (the environment has no URL to derive it from)"
    )]
    NoMetricsUrl,
    #[error("the `prometheus` conditions need `[analysis.prometheus]` with its `url`")]
    NoPrometheus,
    #[error("`analysis.prometheus.url` `{url}` is not a URL: {source}")]
    PrometheusUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    /// The Prometheus token's variable is unset or its file unreadable.
    #[error(transparent)]
    Token(#[from] TokenError),
}
