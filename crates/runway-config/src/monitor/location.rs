//! Where a monitor worker probes from: `runway monitor --location NAME` and
//! `[environments.<name>.monitor] locations`.

/// The longest location name.
pub const MAX_LOCATION_LEN: usize = 40;

/// A location name is lowercase letters, digits and `-` (`eu-west`,
/// `us-east-1`), at most [`MAX_LOCATION_LEN`] characters: it is a job key
/// suffix, a metric label and a word on the dashboard.
pub fn check_location(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a location name is empty: write one like `eu-west`".into());
    }
    if name.len() > MAX_LOCATION_LEN {
        return Err(format!(
            "`{}…` is {} characters long; a location name has at most {MAX_LOCATION_LEN}",
            name.chars().take(20).collect::<String>().escape_debug(),
            name.chars().count()
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "`{}` is not a location name: use lowercase letters, digits and `-` (like `eu-west`)",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// `quorum` is for probe rules, and at most the environment's `locations`.
pub(crate) fn validate_quorum(
    a: &super::AlertConfig,
    config: &crate::Config,
) -> Result<(), (Option<std::ops::Range<usize>>, String)> {
    let Some(q) = &a.quorum else {
        return Ok(());
    };
    if let Some(kind) = a.source().traffic() {
        return Err((
            Some(q.span()),
            format!(
                "alert `{}` reads `{}`, which the worker that ran the check reads once: `quorum` is for probe rules (`when`), judged at each location",
                a.name,
                kind.as_str()
            ),
        ));
    }
    let env = a.environment.get_ref();
    let listed = config
        .environments
        .get(env)
        .and_then(|e| e.monitor.as_ref())
        .and_then(|m| m.locations.as_ref());
    if let Some(locs) = listed
        && q.get_ref().get() as usize > locs.len()
    {
        return Err((
            Some(q.span()),
            format!(
                "alert `{}` needs a quorum of {} locations, but `[environments.{env}.monitor] locations` lists {}: it could never fire",
                a.name,
                q.get_ref(),
                locs.len()
            ),
        ));
    }
    Ok(())
}

impl super::AlertConfig {
    /// `quorum`, when set.
    pub fn quorum(&self) -> Option<u32> {
        self.quorum.as_ref().map(|q| q.get_ref().get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_names_are_short_lowercase_words() {
        for ok in ["eu-west", "us-east-1", "a", &"x".repeat(40)] {
            assert_eq!(check_location(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "EU-west",
            "eu west",
            "eu_west",
            "eu@west",
            "ü",
            &"x".repeat(41),
        ] {
            assert!(check_location(bad).is_err(), "{bad}");
        }
        assert!(
            check_location(&"x".repeat(41))
                .unwrap_err()
                .contains("at most 40")
        );
    }

    const CONFIG: &str = r#"
[environments.production]
url = "http://127.0.0.1:9/mcp"
[environments.production.monitor]
interval = "1m"
locations = ["eu-west", "us-east", "ap-south"]

[[alerts]]
name = "down"
environment = "production"
when = "down"
quorum = 2
"#;

    fn parse(text: &str) -> Result<crate::Config, String> {
        crate::Config::parse(text, std::path::Path::new("/p/runway.toml"))
            .map_err(|e| e.to_string())
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn locations_and_a_quorum_parse_and_bad_ones_name_their_field() {
        let c = parse(CONFIG).unwrap();
        let m = c.environments["production"].monitor.as_ref().unwrap();
        assert_eq!(
            m.locations.as_deref(),
            Some(
                &[
                    "eu-west".to_owned(),
                    "us-east".to_owned(),
                    "ap-south".to_owned()
                ][..]
            )
        );
        assert_eq!(c.alerts[0].quorum(), Some(2));
        let e = parse(&CONFIG.replace("\"us-east\"", "\"US East\"")).unwrap_err();
        assert!(
            e.contains("environments.production.monitor.locations")
                && e.contains("`US East` is not a location name"),
            "{e}"
        );
        let e = parse(&CONFIG.replace("\"ap-south\"", "\"eu-west\"")).unwrap_err();
        assert!(e.contains("`eu-west` is listed twice"), "{e}");
        let e = parse(&CONFIG.replace(
            "locations = [\"eu-west\", \"us-east\", \"ap-south\"]",
            "locations = []",
        ))
        .unwrap_err();
        assert!(e.contains("locations") && e.contains("is empty"), "{e}");
        let text = CONFIG.replace("quorum = 2", "quorum = 4");
        let e = parse(&text).unwrap_err();
        assert!(
            e.starts_with(&format!("/p/runway.toml:{}:", line_of(&text, "quorum = 4")))
                && e.contains("a quorum of 4 locations, but `[environments.production.monitor] locations` lists 3"),
            "{e}"
        );
        let text = CONFIG.replace("quorum = 2", "quorum = 0");
        let e = parse(&text).unwrap_err();
        assert!(
            e.starts_with(&format!("/p/runway.toml:{}:", line_of(&text, "quorum = 0")))
                && e.contains("nonzero"),
            "{e}"
        );
        // Without `locations` any quorum is accepted: the workers say where they are.
        let c = parse(
            &CONFIG
                .replace("locations = [\"eu-west\", \"us-east\", \"ap-south\"]\n", "")
                .replace("quorum = 2", "quorum = 5"),
        )
        .unwrap();
        assert_eq!(c.alerts[0].quorum(), Some(5));
        let traffic = format!(
            "{}\n[[environments.production.analysis.conditions]]\nname = \"errors\"\nnumerator = 'a'\ndenominator = 'b'\nmax = 0.1\n\n[[alerts]]\nname = \"t\"\nenvironment = \"production\"\nsource = \"metrics\"\ncondition = \"errors\"\nquorum = 2\n",
            CONFIG
        );
        let e = parse(&traffic).unwrap_err();
        assert!(e.contains("`quorum` is for probe rules"), "{e}");
    }
}
