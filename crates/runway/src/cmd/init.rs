//! `runway init`: find the project's version files and write them down in
//! `runway.toml`, so every later command edits exactly those files.

use std::io::Write;

use runway_core::Exit;
use runway_release::files;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Overwrite an existing `runway.toml`.
    #[arg(long)]
    pub force: bool,
    /// Print the file instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let root = ctx.dir();
    let target = root.join(runway_config::FILE_NAME);
    if target.exists() && !args.force && !args.dry_run {
        return Err(crate::error::UsageError::new(format!(
            "`{}` already exists",
            target.display()
        ))
        .with_hint("pass `--force` to overwrite it, or edit it by hand")
        .into());
    }
    let det = files::detect(&root)?;
    let mut err = anstream::stderr();
    for f in &det.files {
        for l in &f.locations {
            let _ = writeln!(
                err,
                "found `{}` {} = `{}` (line {})",
                f.path.display(),
                l.field,
                l.version,
                l.line
            );
        }
    }
    for d in &det.dynamic {
        let _ = writeln!(
            err,
            "`{}`:{} declares a dynamic version; it lives in {}",
            d.declared_in.display(),
            d.line,
            d.lives_in
        );
    }
    if det.files.is_empty() && det.dynamic.is_empty() {
        let _ = writeln!(
            err,
            "no version file found; add `[[release.files]]` entries with `path` and `regex` to `runway.toml`"
        );
    }
    let name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".to_owned());
    let text = render(&name, &det);
    if args.dry_run {
        out!("{text}")?;
        return Ok(Exit::Success);
    }
    std::fs::write(&target, &text)
        .map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", target.display()))?;
    let _ = writeln!(err, "wrote `{}`", target.display());
    Ok(Exit::Success)
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The `runway.toml` text for a detected project.
pub fn render(name: &str, det: &files::Detection) -> String {
    let mut out = String::new();
    out.push_str("# Written by `runway init`. Every key is documented in ARCHITECTURE.md.\n\n");
    out.push_str(&format!("[project]\nname = {}\n\n", quote(name)));
    out.push_str("[release]\ntag_prefix = \"v\"\n");
    out.push_str("branches = [\"main\", \"master\"]\n");
    for d in &det.dynamic {
        out.push_str(&format!(
            "# `{}` declares a dynamic version: it lives in {}\n",
            d.declared_in.display(),
            d.lives_in.replace('\n', " ")
        ));
    }
    if det.files.is_empty() {
        out.push_str("files = []\n");
    } else {
        out.push_str("files = [\n");
        for f in &det.files {
            let path = f.path.to_string_lossy().replace('\\', "/");
            match &f.kind {
                files::Kind::Regex { pattern } => out.push_str(&format!(
                    "  {{ path = {}, regex = {} }},\n",
                    quote(&path),
                    quote(pattern)
                )),
                files::Kind::Json { fields } => out.push_str(&format!(
                    "  {{ path = {}, fields = [{}] }},\n",
                    quote(&path),
                    fields
                        .iter()
                        .map(|f| quote(f))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                _ => out.push_str(&format!("  {{ path = {} }},\n", quote(&path))),
            }
        }
        out.push_str("]\n");
    }
    out.push_str("\n# Commands that must pass before a release (`runway release check`).\n");
    out.push_str("# [[release.gates]]\n# name = \"tests\"\n# run = \"make test\"\n");
    out
}
