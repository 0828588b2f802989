//! Who is acting, as the ledger records it on every record and event.

/// Who is acting: `RUNWAY_OPERATOR`, else `git config user.name`, else the OS user.
pub fn detect_operator() -> String {
    if let Ok(v) = std::env::var("RUNWAY_OPERATOR")
        && !v.trim().is_empty()
    {
        return v.trim().to_owned();
    }
    if let Ok(out) = std::process::Command::new("git")
        .args(["config", "user.name"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        && out.status.success()
    {
        let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !name.is_empty() {
            return name;
        }
    }
    for var in ["USER", "LOGNAME", "USERNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return v.trim().to_owned();
        }
    }
    "unknown".to_owned()
}
