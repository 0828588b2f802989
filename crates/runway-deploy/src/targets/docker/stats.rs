//! What a container uses (memory, CPU, processes), from the engine's stats
//! of the container, for the `resources` analysis source and the
//! `performance` gate; and taking away a container made for a trial.

use bollard::{models::ContainerStatsResponse, query_parameters::StatsOptionsBuilder};
use runway_signals::resources::Usage;

use super::*;

/// The resident memory of a container: its anonymous memory (`anon` on
/// cgroup v2, `rss` on v1), not the page cache its files sit in; without
/// either, the usage less the inactive file cache, as `docker stats` shows.
pub fn resident_bytes(s: &ContainerStatsResponse) -> Option<u64> {
    let m = s.memory_stats.as_ref()?;
    let stats = m.stats.as_ref();
    if let Some(v) = stats.and_then(|x| x.get("anon").or_else(|| x.get("rss"))) {
        return Some(*v);
    }
    let usage = m.usage?;
    let cache = stats
        .and_then(|x| {
            x.get("inactive_file")
                .or_else(|| x.get("total_inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    Some(usage.saturating_sub(cache))
}

/// The stats as a [`Usage`]: `group` is the container's id (its first eight
/// hex digits), so a new container reads as a new process.
pub fn usage_of(s: &ContainerStatsResponse) -> Option<Usage> {
    let rss_bytes = resident_bytes(s)?;
    let group =
        s.id.as_deref()
            .and_then(|id| id.get(..8))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .unwrap_or(0);
    let cpu_ns = s
        .cpu_stats
        .as_ref()
        .and_then(|c| c.cpu_usage.as_ref())
        .and_then(|u| u.total_usage)
        .unwrap_or(0);
    let processes = s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0) as usize;
    Some(Usage {
        group,
        processes,
        rss_bytes,
        cpu_seconds: cpu_ns as f64 / 1e9,
    })
}

impl DockerTarget {
    /// What the managed container uses now (one sample of the engine's stats).
    pub async fn usage(&self) -> Result<Usage, DockerError> {
        let name = self.settings.container.clone();
        let options = StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        let engine = self.engine().await?;
        let mut stream = engine.stats(&name, Some(options));
        let first = bounded(self.settings.api_timeout, "stats", &name, stream.next()).await?;
        match first {
            Some(Ok(s)) => usage_of(&s).ok_or_else(|| DockerError::Stats {
                name: name.clone(),
                message: "the engine reports no memory figures (is it running?)".into(),
            }),
            Some(Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            })) => Err(DockerError::NoContainer { name }),
            Some(Err(source)) => Err(DockerError::Api {
                call: "stats",
                object: name,
                source,
            }),
            None => Err(DockerError::Stats {
                name,
                message: "the engine sent no stats".into(),
            }),
        }
    }

    /// Removes the managed container and the one kept for a rollback, if
    /// they exist (a trial's, when it is over): `true` when one was removed.
    pub async fn discard(&self) -> Result<bool, DockerError> {
        let a = self
            .remove_if_exists(&self.settings.container.clone())
            .await?;
        let b = self.remove_if_exists(&self.previous_name()).await?;
        let c = self.remove_if_exists(&self.next_name()).await?;
        Ok(a || b || c)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{ContainerCpuStats, ContainerCpuUsage, ContainerMemoryStats};

    use super::*;

    fn stats(usage: u64, pairs: &[(&str, u64)]) -> ContainerStatsResponse {
        ContainerStatsResponse {
            id: Some("0123abcd99".into()),
            memory_stats: Some(ContainerMemoryStats {
                usage: Some(usage),
                stats: Some(
                    pairs
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), *v))
                        .collect::<HashMap<_, _>>(),
                ),
                ..Default::default()
            }),
            cpu_stats: Some(ContainerCpuStats {
                cpu_usage: Some(ContainerCpuUsage {
                    total_usage: Some(2_500_000_000),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn resident_memory_is_anon_on_cgroup_v2_rss_on_v1_else_usage_less_cache() {
        assert_eq!(
            resident_bytes(&stats(900, &[("anon", 300), ("file", 600)])),
            Some(300)
        );
        assert_eq!(resident_bytes(&stats(900, &[("rss", 200)])), Some(200));
        assert_eq!(
            resident_bytes(&stats(900, &[("inactive_file", 100)])),
            Some(800)
        );
        assert_eq!(resident_bytes(&ContainerStatsResponse::default()), None);
        let u = usage_of(&stats(900, &[("anon", 300)])).unwrap();
        assert_eq!(u.group, 0x0123abcd);
        assert_eq!(u.rss_bytes, 300);
        assert!((u.cpu_seconds - 2.5).abs() < 1e-9);
    }
}
