//! Memory and CPU of the server, for the `resources` analysis source and the
//! `performance` gate: for the process target, every process of its process
//! group (the server, its children, and Runway's log keeper, a few MiB), read
//! from `/proc`; for the docker target, the engine's stats of the container.

use async_trait::async_trait;
use runway_signals::resources::{ResourceFeed, Usage};

use crate::Target;

/// Clock ticks per second of `/proc/<pid>/stat`'s CPU times: `USER_HZ`, 100
/// on every Linux architecture's user-space ABI.
const USER_HZ: f64 = 100.0;

/// The pid, process group, user + system CPU ticks of one `/proc/<pid>/stat`
/// line (the command name may hold spaces and parentheses: the fields start
/// after the last `)`).
pub fn parse_stat(line: &str) -> Option<(i32, i32, u64)> {
    let pid = line.split_whitespace().next()?.parse().ok()?;
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let pgrp = f.get(2)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((pid, pgrp, utime + stime))
}

/// `VmRSS` of a `/proc/<pid>/status`, in bytes (0 for a kernel thread or a zombie).
pub fn parse_rss(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// The usage of process group `pgid`, summed over its live processes.
pub fn group_usage(pgid: i32) -> std::io::Result<Usage> {
    let mut u = Usage {
        group: pgid.unsigned_abs(),
        processes: 0,
        rss_bytes: 0,
        cpu_seconds: 0.0,
    };
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        // A process may end between the listing and the read: skip it.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, group, ticks)) = parse_stat(&stat) else {
            continue;
        };
        if group != pgid {
            continue;
        }
        u.processes += 1;
        u.cpu_seconds += ticks as f64 / USER_HZ;
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            u.rss_bytes += parse_rss(&status);
        }
    }
    Ok(u)
}

/// The process target's running server as a [`ResourceFeed`]: its pid is
/// the revision the target reports, and the leader of its process group.
pub struct ProcessResources {
    target: Box<dyn Target>,
}

impl ProcessResources {
    pub fn new(target: Box<dyn Target>) -> ProcessResources {
        ProcessResources { target }
    }
}

#[async_trait]
impl ResourceFeed for ProcessResources {
    async fn usage(&self) -> Result<Usage, String> {
        let current = self
            .target
            .current()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no server runs in this environment")?;
        let pgid: i32 = current
            .revision
            .as_deref()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| format!("no process id is recorded for {}", current.version))?;
        let u = tokio::task::spawn_blocking(move || group_usage(pgid))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read /proc: {e}"))?;
        if u.processes == 0 {
            return Err(format!("process group {pgid} has no process left"));
        }
        Ok(u)
    }
}

/// The docker target's container as a [`ResourceFeed`]: the engine's stats
/// of it (anonymous memory, CPU time of its cgroup, its processes).
#[cfg(feature = "docker")]
pub struct DockerResources {
    target: crate::docker::DockerTarget,
}

#[cfg(feature = "docker")]
impl DockerResources {
    pub fn new(target: crate::docker::DockerTarget) -> DockerResources {
        DockerResources { target }
    }
}

#[cfg(feature = "docker")]
#[async_trait]
impl ResourceFeed for DockerResources {
    async fn usage(&self) -> Result<Usage, String> {
        self.target.usage().await.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_status_lines_parse() {
        let line = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 30 0 0 20 0 3 0 100 200000000 5000 18446744073709551615";
        assert_eq!(parse_stat(line), Some((4242, 4242, 280)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(
            parse_rss("Name:\tx\nVmRSS:\t  204800 kB\nThreads: 3\n"),
            200 * 1024 * 1024
        );
        assert_eq!(parse_rss("Name:\tkthreadd\n"), 0);
    }

    #[test]
    fn this_test_process_group_is_read_from_proc() {
        let pgid = nix::unistd::getpgrp().as_raw();
        let u = group_usage(pgid).unwrap();
        assert!(u.processes >= 1, "{u:?}");
        assert!(u.rss_bytes > 1024 * 1024, "{u:?}");
        assert!(u.cpu_seconds >= 0.0);
    }
}
