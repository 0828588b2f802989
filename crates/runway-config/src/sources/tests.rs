use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn selectors_match_like_promql() {
    let s =
        Selector::parse(r#"http_requests_total{code=~"5..", path="/mcp",mcp_method!=""}"#).unwrap();
    assert_eq!(s.name, "http_requests_total");
    assert_eq!(s.matchers.len(), 3);
    let l = labels(&[("code", "503"), ("path", "/mcp"), ("mcp_method", "x")]);
    assert!(s.matches("http_requests_total", &l));
    // Anchored: `5..` does not match `5000`.
    let l = labels(&[("code", "5000"), ("path", "/mcp"), ("mcp_method", "x")]);
    assert!(!s.matches("http_requests_total", &l));
    assert!(!s.matches("other_total", &labels(&[("code", "503")])));
    let bare = Selector::parse("up").unwrap();
    assert!(bare.matches("up", &BTreeMap::new()));
    let not = Selector::parse(r#"x{a!~"1|2"}"#).unwrap();
    assert!(not.matches("x", &labels(&[("a", "3")])));
    assert!(!not.matches("x", &labels(&[("a", "2")])));
    // An absent label is the empty string.
    assert!(not.matches("x", &BTreeMap::new()));
    assert_eq!(
        s.to_string(),
        r#"http_requests_total{code=~"5..", path="/mcp",mcp_method!=""}"#
    );
}

/// dynamic-mcp exports `dynamic_mcp_http_auth_denied_total` and
/// `..._success_total`: the attempts are both, summed by a name matcher.
#[test]
fn a_name_matcher_selects_several_metrics() {
    let s =
        Selector::parse(r#"{__name__=~"dynamic_mcp_http_auth_(denied|success)_total"}"#).unwrap();
    assert!(s.matches("dynamic_mcp_http_auth_denied_total", &BTreeMap::new()));
    assert!(s.matches("dynamic_mcp_http_auth_success_total", &BTreeMap::new()));
    assert!(!s.matches("dynamic_mcp_http_sessions_created_total", &BTreeMap::new()));
    let with_label = Selector::parse(r#"x_total{__name__!="x_total", a="1"}"#).unwrap();
    assert!(!with_label.matches("x_total", &labels(&[("a", "1")])));
    // Some name is needed: `{code="5"}` alone selects nothing PromQL allows.
    assert!(Selector::parse(r#"{code="5"}"#).is_err());
}

#[test]
fn bad_selectors_say_what_is_wrong() {
    for (text, needle) in [
        ("{code=\"5\"}", "metric name"),
        ("x{code=5}", "double quotes"),
        ("x{code=\"5}", "not closed"),
        ("x{code~\"5\"}", "needs `=`"),
        ("x{code=~\"(\"}", "not a regular expression"),
        ("rate(x[5m])", "belong in a `prometheus` query"),
        ("x{a=\"1\" b=\"2\"}", "separated by `,`"),
    ] {
        let e = Selector::parse(text).unwrap_err().to_string();
        assert!(e.contains(needle), "{text}: {e}");
    }
}

fn parse(text: &str) -> Result<crate::Config, String> {
    crate::Config::parse(text, std::path::Path::new("runway.toml")).map_err(|e| e.to_string())
}

const SEEDS: &str = r#"
[environments.p]
url = "http://127.0.0.1:9/mcp"

[environments.p.analysis]
interval = "10s"
bake = "10m"

[environments.p.analysis.metrics]
timeout = "2s"

[environments.p.analysis.prometheus]
url = "http://127.0.0.1:9090"
consecutive_error_limit = 2

[[environments.p.analysis.conditions]]
name = "auth denied"
numerator = 'reference_mcp_http_auth_denied_total{reason="invalid_token"}'
denominator = 'http_requests_total{path="/mcp"}'
max = 0.10

[[environments.p.analysis.conditions]]
name = "p95"
histogram = 'http_request_duration_seconds{path="/mcp"}'
max = 2.0
baseline_factor = 1.5

[[environments.p.analysis.conditions]]
name = "error rate"
source = "prometheus"
query = 'sum(rate(http_requests_total{code=~"5..",version="{version}"}[1m]))'
max = 0.05
"#;

#[test]
fn the_seeds_triggers_parse() {
    let c = parse(SEEDS).unwrap();
    let a = c.environments["p"].analysis.as_ref().unwrap();
    assert_eq!(a.conditions.len(), 3);
    assert_eq!(a.conditions[0].source(), SourceKind::Metrics);
    assert_eq!(a.conditions[1].quantile(), 0.95);
    assert_eq!(a.conditions[2].source(), SourceKind::Prometheus);
    assert_eq!(a.prometheus.as_ref().unwrap().consecutive_error_limit(), 2);
    assert_eq!(
        a.metrics.as_ref().unwrap().timeout(),
        Duration::from_secs(2)
    );
}

#[test]
fn bad_conditions_are_refused_at_their_line() {
    let bad_selector = SEEDS.replace(r#"{path="/mcp"}'"#, r#"{path=/mcp}'"#);
    let e = parse(&bad_selector).unwrap_err();
    assert!(
        e.contains("runway.toml:") && e.contains("double quotes"),
        "{e}"
    );
    for (from, to, needle) in [
        ("max = 0.10\n", "\n", "sets no bound"),
        (
            "name = \"p95\"",
            "name = \"auth denied\"",
            "two conditions are named",
        ),
        (
            "histogram = 'http_request_duration_seconds{path=\"/mcp\"}'",
            "source = \"metrics\"\nquery = 'x'",
            "`query` is for",
        ),
        (
            "source = \"prometheus\"\n",
            "source = \"metrics\"\n",
            "`query` is for",
        ),
        ("baseline_factor = 1.5", "baseline_factor = 0", "above 0"),
        ("baseline_factor = 1.5", "quantile = 1.5", "exclusive"),
        (
            "max = 2.0",
            "max = 2.0\nnumerator = 'x'\ndenominator = 'y'",
            "exactly one",
        ),
        ("max = 0.10", "max = 0.10\nmin = 0.5", "is above `max`"),
    ] {
        assert!(SEEDS.contains(from), "{from}");
        let e = parse(&SEEDS.replacen(from, to, 1)).unwrap_err();
        assert!(e.contains(needle), "{from} -> {to}: {e}");
    }
    let no_prom = SEEDS.replace(
        "[environments.p.analysis.prometheus]\nurl = \"http://127.0.0.1:9090\"\nconsecutive_error_limit = 2\n",
        "",
    );
    let e = parse(&no_prom).unwrap_err();
    assert!(e.contains("`[analysis.prometheus]`"), "{e}");
}

const LOGS: &str = r#"
[environments.p]
url = "http://127.0.0.1:9/mcp"

[environments.p.logs]
format = "json"
fields = ["timestamp", "level", "correlation_id", "message"]

[[environments.p.analysis.conditions]]
name = "errors in logs"
source = "logs"
max_per_minute = 10
baseline_factor = 2.0

[[environments.p.analysis.conditions]]
name = "timeouts"
pattern = 'timed out|deadline exceeded'
max_per_minute = 0
"#;

#[test]
fn logs_conditions_and_the_logs_policy_parse() {
    let c = parse(LOGS).unwrap();
    let e = &c.environments["p"];
    let a = e.analysis.as_ref().unwrap();
    assert_eq!(a.conditions[0].source(), SourceKind::Logs);
    assert!(a.conditions[0].pattern.is_none());
    // `pattern` alone says `logs`.
    assert_eq!(a.conditions[1].source(), SourceKind::Logs);
    assert!(
        a.conditions[1]
            .pattern
            .as_ref()
            .unwrap()
            .is_match("upstream timed out")
    );
    let l = e.logs.as_ref().unwrap();
    assert_eq!(l.fields().len(), 4);
    assert_eq!(l.lines(), 200);
    assert_eq!(
        LogsPolicyConfig::default().fields(),
        ["timestamp", "level", "message"]
    );
    for (from, to, needle) in [
        ("max_per_minute = 10\n", "max = 10\n", "not `max`/`min`"),
        ("max_per_minute = 0\n", "\n", "sets no bound"),
        (
            "pattern = 'timed out|deadline exceeded'",
            "pattern = 'timed (out'",
            "not a regular expression",
        ),
        (
            "pattern = 'timed out|deadline exceeded'",
            "pattern = 'x'\nsource = \"metrics\"\nincrease = 'x_total'",
            "`pattern` is for",
        ),
        (
            "max_per_minute = 10\n",
            "max_per_minute = 10\nwindow = \"1m\"\n",
            "do not apply",
        ),
        ("format = \"json\"", "format = \"xml\"", "json"),
        (
            "fields = [\"timestamp\", \"level\", \"correlation_id\", \"message\"]",
            "fields = []",
            "`fields` is empty",
        ),
        (
            "format = \"json\"",
            "format = \"json\"\nlines = 20000",
            "more than the 10000",
        ),
    ] {
        assert!(LOGS.contains(from), "{from}");
        let e = parse(&LOGS.replacen(from, to, 1)).unwrap_err();
        assert!(e.contains(needle), "{from} -> {to}: {e}");
    }
}

const RESOURCES: &str = r#"
[environments.p]
url = "http://127.0.0.1:9/mcp"

[environments.p.deploy]
target = "process"
command = ["serve"]

[[environments.p.analysis.conditions]]
name = "memory"
memory_max_ratio = 0.8
memory_limit_mb = 512

[[environments.p.analysis.conditions]]
name = "cpu"
source = "resources"
cpu_max_ratio = 0.7
"#;

/// Hostaway: memory > 80%, CPU < 70%.
#[test]
fn resources_conditions_parse_and_bad_ones_are_refused() {
    let c = parse(RESOURCES).unwrap();
    let a = c.environments["p"].analysis.as_ref().unwrap();
    assert_eq!(a.conditions[0].source(), SourceKind::Resources);
    assert_eq!(a.conditions[1].cpu_max_ratio, Some(0.7));
    for (from, to, needle) in [
        ("memory_limit_mb = 512\n", "\n", "set both"),
        (
            "cpu_max_ratio = 0.7",
            "cpu_max_ratio = 0.7\nmemory_max_mb = 512",
            "exactly one",
        ),
        ("cpu_max_ratio = 0.7", "max = 0.7", "takes one of"),
        ("cpu_max_ratio = 0.7", "cpu_max_ratio = 0", "above 0"),
        (
            "target = \"process\"\ncommand = [\"serve\"]",
            "target = \"command\"\ndeploy = [\"x\"]",
            "only the `process` and `docker` targets have",
        ),
    ] {
        assert!(RESOURCES.contains(from), "{from}");
        let e = parse(&RESOURCES.replacen(from, to, 1)).unwrap_err();
        assert!(e.contains(needle), "{from} -> {to}: {e}");
    }
    let e = parse(&LOGS.replace(
        "max_per_minute = 10\n",
        "max_per_minute = 10\ncpu_max_ratio = 0.7\n",
    ))
    .unwrap_err();
    assert!(e.contains("are for `source = \"resources\"`"), "{e}");
}
