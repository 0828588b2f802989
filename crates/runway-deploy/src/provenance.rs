//! The `provenance` gate: the image a deploy runs is the one `runway release
//! verify-artifacts` verified for that version, by manifest digest. A tag
//! that moved after the check (re-pushed, rebuilt, overwritten by another
//! pipeline), or a local image under the same tag, is refused before it runs.
//!
//! The facts are gathered by runway-runbook (the ledger's artifact runs, the
//! engine's image or the registry's manifest); this judges them.

use runway_config::deploy::ProvenanceMode;

use crate::verdict::{GateStatus, Verdict};

const GATE: &str = "provenance";

/// What was verified for the version, and what the deploy would run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProvenanceFacts {
    pub version: String,
    /// The image reference the deploy runs (`registry/mcp:1.2.0`); `None`
    /// for a target with no image.
    pub image: Option<String>,
    /// The newest verify-artifacts run's passing docker artifacts:
    /// (when, [(artifact, manifest digest)]). `None`: none recorded.
    pub verified: Option<(String, Vec<(String, String)>)>,
    /// The digests `image` has now and where they were read (`the engine's
    /// image`, `the registry`), or why they could not be read. `None`: not
    /// looked up (nothing verified to compare with).
    pub now: Option<Result<(String, Vec<String>), String>>,
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &digest[..digest.len() - hex.len() + hex.len().min(12)]
}

/// The gate's verdict.
pub fn judge(mode: ProvenanceMode, f: &ProvenanceFacts) -> Verdict {
    let v = &f.version;
    if mode == ProvenanceMode::Off {
        return Verdict::new(GATE, GateStatus::Skipped, "`gates.provenance = \"off\"`");
    }
    let Some(image) = &f.image else {
        return Verdict::new(
            GATE,
            GateStatus::Skipped,
            "this target runs no image (nothing to compare by digest)",
        );
    };
    let verify = format!("runway release verify-artifacts --version {v}");
    let Some((when, verified)) = f.verified.as_ref().filter(|(_, a)| !a.is_empty()) else {
        let detail = format!("no image digest is recorded for {v} (`{verify}` records it)");
        return match mode {
            ProvenanceMode::Require => Verdict::new(GATE, GateStatus::Refuse, detail).hint(
                format!("run `{verify}` once the image is published, then deploy again"),
            ),
            _ => Verdict::new(GATE, GateStatus::Skipped, detail),
        };
    };
    let wanted: Vec<&str> = verified.iter().map(|(_, d)| d.as_str()).collect();
    let shown_wanted = wanted
        .iter()
        .map(|d| short(d))
        .collect::<Vec<_>>()
        .join(" or ");
    match &f.now {
        None | Some(Err(_)) => {
            let why = match &f.now {
                Some(Err(e)) => e.clone(),
                _ => "not looked up".to_owned(),
            };
            Verdict::new(
                GATE,
                GateStatus::Refuse,
                format!("cannot tell which image `{image}` is now ({why}); {v} was verified as {shown_wanted}"),
            )
            .hint("make the image's registry reachable (or the image present on the engine) and deploy again; `gates.provenance = \"off\"` turns the comparison off")
        }
        Some(Ok((from, digests))) => {
            if let Some(d) = digests.iter().find(|d| wanted.contains(&d.as_str())) {
                Verdict::new(
                    GATE,
                    GateStatus::Pass,
                    format!(
                        "`{image}` is {} ({from}), as verify-artifacts verified for {v} at {when}",
                        short(d)
                    ),
                )
            } else {
                let is = if digests.is_empty() {
                    "has no registry digest (built or tagged locally, never pushed or pulled)"
                        .to_owned()
                } else {
                    format!(
                        "is {}",
                        digests
                            .iter()
                            .map(|d| short(d))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                Verdict::new(
                    GATE,
                    GateStatus::Refuse,
                    format!(
                        "`{image}` {is} ({from}), not {shown_wanted} that verify-artifacts verified for {v} at {when}"
                    ),
                )
                .hint(format!(
                    "the tag moved after the release was verified: push the verified image again, or verify this one with `{verify}`"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn facts(now: Option<Result<(String, Vec<String>), String>>) -> ProvenanceFacts {
        ProvenanceFacts {
            version: "1.2.0".into(),
            image: Some("reg:5000/mcp:1.2.0".into()),
            verified: Some((
                "2026-12-05 10:00 UTC".into(),
                vec![("reg:5000/mcp:1.2.0".into(), A.into())],
            )),
            now,
        }
    }

    #[test]
    fn the_verified_digest_passes_and_a_moved_tag_is_refused_naming_both() {
        let ok = judge(
            ProvenanceMode::Check,
            &facts(Some(Ok(("the engine's image".into(), vec![A.into()])))),
        );
        assert_eq!(ok.status, GateStatus::Pass, "{ok:?}");
        assert!(
            ok.detail
                .contains("is sha256:aaaaaaaaaaaa (the engine's image)")
        );
        let moved = judge(
            ProvenanceMode::Check,
            &facts(Some(Ok(("the registry".into(), vec![B.into()])))),
        );
        assert_eq!(moved.status, GateStatus::Refuse);
        assert!(
            moved
                .detail
                .contains("is sha256:bbbbbbbbbbbb (the registry), not sha256:aaaaaaaaaaaa"),
            "{}",
            moved.detail
        );
        assert!(moved.hint.unwrap().contains("the tag moved"));
        let local = judge(
            ProvenanceMode::Check,
            &facts(Some(Ok(("the engine's image".into(), vec![])))),
        );
        assert_eq!(local.status, GateStatus::Refuse);
        assert!(local.detail.contains("never pushed or pulled"));
    }

    #[test]
    fn nothing_recorded_skips_unless_required_and_an_unreadable_image_refuses() {
        let mut f = facts(None);
        f.verified = None;
        assert_eq!(judge(ProvenanceMode::Check, &f).status, GateStatus::Skipped);
        let r = judge(ProvenanceMode::Require, &f);
        assert_eq!(r.status, GateStatus::Refuse);
        assert!(r.hint.unwrap().contains("verify-artifacts --version 1.2.0"));
        let e = judge(
            ProvenanceMode::Check,
            &facts(Some(Err("connection refused".into()))),
        );
        assert_eq!(e.status, GateStatus::Refuse);
        assert!(e.detail.contains("connection refused"));
        assert_eq!(
            judge(ProvenanceMode::Off, &facts(None)).status,
            GateStatus::Skipped
        );
        let mut no_image = facts(None);
        no_image.image = None;
        assert_eq!(
            judge(ProvenanceMode::Require, &no_image).status,
            GateStatus::Skipped
        );
    }
}
