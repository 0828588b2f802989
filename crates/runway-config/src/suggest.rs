//! "Did you mean `min_tools`?": the nearest valid name to a misspelt one.
//!
//! A typo in `runway.toml` is refused (loading is strict), and the list of
//! every valid key is long; the one the user meant is usually a letter or two
//! away. Only a close name is offered: a wrong guess is worse than none.

/// The candidate nearest to `typed`, when it is close enough to be the one
/// meant: an edit distance (a swap of two neighbours counts once) of at most
/// a third of the typed length, or 1 for a short name, 2 from five characters
/// on. Case alone never counts as a difference. Ties go to the first candidate.
/// Failing that, the one candidate that is the typed name with its unit
/// left off or added (`tool_p95` for `tool_p95_ms`, `timeout` for `timeout_secs`).
pub fn nearest<'a, I>(typed: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let typed_lower = typed.to_lowercase();
    let len = typed_lower.chars().count();
    let budget = (len / 3).max(if len >= 5 { 2 } else { 1 });
    let mut best: Option<(usize, &'a str)> = None;
    let mut suffixed: Vec<&'a str> = Vec::new();
    for c in candidates {
        if c == typed {
            continue;
        }
        let lower = c.to_lowercase();
        let d = distance(&typed_lower, &lower);
        if d <= budget && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
        let (short, long) = if lower.len() < typed_lower.len() {
            (lower.as_str(), typed_lower.as_str())
        } else {
            (typed_lower.as_str(), lower.as_str())
        };
        if short.len() >= 4
            && long
                .strip_prefix(short)
                .is_some_and(|rest| rest.starts_with('_'))
        {
            suffixed.push(c);
        }
    }
    best.map(|(_, c)| c).or(match suffixed.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of two adjacent characters, each costing one.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one before the previous is needed for transpositions.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The names between backticks after `expected` in a serde message
/// (`unknown field `suit`, expected one of `url`, `suite``).
pub(crate) fn expected_names(message: &str) -> Vec<&str> {
    let Some((_, expected)) = message.split_once("expected ") else {
        return Vec::new();
    };
    expected.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_and_adjacent_swaps() {
        assert_eq!(distance("suit", "suite"), 1);
        assert_eq!(distance("min_tool", "min_tools"), 1);
        assert_eq!(distance("mintools", "min_tools"), 1);
        assert_eq!(distance("tokne_env", "token_env"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", ""), 3);
    }

    #[test]
    fn a_close_name_is_offered_and_a_far_one_is_not() {
        let keys = ["url", "suite", "min_tools", "required_tools", "token_env"];
        assert_eq!(nearest("min_tool", keys), Some("min_tools"));
        assert_eq!(nearest("mn_tols", keys), Some("min_tools"));
        assert_eq!(nearest("Suite", keys), Some("suite"));
        assert_eq!(nearest("suit", keys), Some("suite"));
        assert_eq!(nearest("uri", keys), Some("url"));
        // Two edits in a three-letter name is another name, not a typo.
        assert_eq!(nearest("era", keys), None);
        assert_eq!(nearest("concurrency", keys), None);
        assert_eq!(nearest("tools", keys), None);
        // The name itself is not a suggestion.
        assert_eq!(nearest("url", ["url"]), None);
    }

    #[test]
    fn a_name_without_its_unit_or_with_one_too_many_finds_the_key() {
        let keys = ["tool_p95_ms", "api_p95_ms", "timeout_secs", "tls_min_days"];
        assert_eq!(nearest("tool_p95", keys), Some("tool_p95_ms"));
        assert_eq!(nearest("timeout", keys), Some("timeout_secs"));
        assert_eq!(nearest("timeout_secs_max", keys), Some("timeout_secs"));
        // Two keys share the prefix: no guess.
        assert_eq!(nearest("tls", ["tls_min_days", "tls_max_days"]), None);
        assert_eq!(nearest("tls_min", ["tls_min_days", "tls_min_hours"]), None);
    }

    #[test]
    fn the_nearest_of_several_close_names_wins() {
        assert_eq!(
            nearest("livez_pth", ["health_path", "livez_path", "readyz_path"]),
            Some("livez_path")
        );
    }

    #[test]
    fn expected_names_are_read_from_serde_messages() {
        assert_eq!(
            expected_names("unknown field `suit`, expected one of `url`, `suite`"),
            ["url", "suite"]
        );
        assert_eq!(
            expected_names("unknown variant `smok`, expected `smoke` or `full`"),
            ["smoke", "full"]
        );
        assert_eq!(
            expected_names("unknown field `x`, expected `name`"),
            ["name"]
        );
        assert!(expected_names("unknown field `x`, there are no fields").is_empty());
    }
}
