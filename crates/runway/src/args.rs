//! Flag values more than one command takes, and the parser that lists them.

/// A value parser for a [`clap::ValueEnum`] that lists the values in `--help`
/// and the completions, and says `` `--suite`: unknown suite `quick`: use smoke, full or conformance ``
/// for anything else.
#[derive(Clone)]
pub struct Choice<T>(std::marker::PhantomData<T>);

impl<T> Choice<T> {
    pub fn new() -> Self {
        Choice(std::marker::PhantomData)
    }
}

impl<T> Default for Choice<T> {
    fn default() -> Self {
        Choice::new()
    }
}

impl<T: clap::ValueEnum + Clone + Send + Sync + 'static> clap::builder::TypedValueParser
    for Choice<T>
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        if let Ok(v) = T::from_str(&text, false) {
            return Ok(v);
        }
        let flag = arg.and_then(clap::Arg::get_long).unwrap_or("value");
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_owned())
            .collect();
        let list = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        let message = format!("`--{flag}`: unknown {flag} `{text}`: use {list}");
        Err(
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, message)
                .format(&mut cmd.clone()),
        )
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value()),
        ))
    }
}

/// `--format` of `verify` and `demo`: how the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Grouped by stage, with hints and evidence under each problem.
    Human,
    /// `runway.report/v1`.
    Json,
    /// JUnit XML for CI test reports.
    Junit,
    /// GitHub Actions annotations and a step summary.
    Github,
}

impl From<ReportFormat> for runway_verify::report::Format {
    fn from(f: ReportFormat) -> Self {
        use runway_verify::report::Format;
        match f {
            ReportFormat::Human => Format::Human,
            ReportFormat::Json => Format::Json,
            ReportFormat::Junit => Format::Junit,
            ReportFormat::Github => Format::Github,
        }
    }
}

/// `--suite`: which checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SuiteArg {
    /// Health, auth boundary, handshake, tools and smoke calls: for every deploy.
    Smoke,
    /// Everything: adds headers, CORS, Origin, JSON-RPC errors, load and rate limits.
    Full,
    /// The MCP protocol rules, SHOULD-level warnings as failures.
    Conformance,
}

impl From<SuiteArg> for runway_verify::Suite {
    fn from(s: SuiteArg) -> Self {
        match s {
            SuiteArg::Smoke => runway_verify::Suite::Smoke,
            SuiteArg::Full => runway_verify::Suite::Full,
            SuiteArg::Conformance => runway_verify::Suite::Conformance,
        }
    }
}

/// `--era`: which MCP era to verify on a server that speaks both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EraArg {
    /// Discover first, then fall back to `initialize`, as a current client does.
    Auto,
    /// The `initialize` (session-era) path.
    Session,
    /// The stateless era (`server/discover`) only.
    Stateless,
}

impl From<EraArg> for runway_verify::EraChoice {
    fn from(e: EraArg) -> Self {
        match e {
            EraArg::Auto => runway_verify::EraChoice::Auto,
            EraArg::Session => runway_verify::EraChoice::Session,
            EraArg::Stateless => runway_verify::EraChoice::Stateless,
        }
    }
}

/// `--format` of `runway release`: text for people, JSON for scripts.
#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum ReleaseFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PackageArg {
    /// The monorepo package (`[[release.packages]]` `name`) to work on.
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
}
