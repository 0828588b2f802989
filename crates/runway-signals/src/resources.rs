//! The `resources` source: resident memory and CPU of the server's process
//! group (Hostaway: "memory > 80%, CPU < 70%"), read from a [`ResourceFeed`]
//! (runway-deploy reads `/proc` for the process target).
//!
//! Memory is read at each tick. CPU is the CPU time the group used between
//! two ticks over the wall-clock time between them (1.0 is one core busy all
//! the time), so the first tick of a watch has nothing to judge for it. The
//! baseline of a memory condition is the previous version's reading, taken
//! before the deploy; CPU has none (it needs two readings).

use std::time::Duration;

use async_trait::async_trait;

use crate::{Condition, Expr, Reading, Source};

/// What a `resources` condition reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resource {
    /// Resident memory in MiB.
    MemoryMb,
    /// Resident memory over this limit (MiB).
    MemoryRatio { limit_mb: f64 },
    /// CPU seconds per second.
    Cpu,
}

impl Resource {
    pub fn describe(&self) -> String {
        match self {
            Resource::MemoryMb => "resident memory (MiB) of the server's process group".into(),
            Resource::MemoryRatio { limit_mb } => format!(
                "resident memory of the server's process group over its {} MiB limit",
                crate::num(*limit_mb)
            ),
            Resource::Cpu => "CPU of the server's process group (1.0 = one core)".into(),
        }
    }
}

/// One reading of the process group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// The group (its leader's pid): a new one means a new process.
    pub group: u32,
    /// Processes in the group.
    pub processes: usize,
    pub rss_bytes: u64,
    /// User + system CPU time of the group's live processes, in seconds.
    pub cpu_seconds: f64,
}

/// Where a `resources` source reads the usage.
#[async_trait]
pub trait ResourceFeed: Send + Sync {
    async fn usage(&self) -> Result<Usage, String>;
}

pub struct ResourcesSource {
    feed: Box<dyn ResourceFeed>,
    last: Option<(tokio::time::Instant, Usage)>,
}

impl ResourcesSource {
    pub fn new(feed: Box<dyn ResourceFeed>) -> ResourcesSource {
        ResourcesSource { feed, last: None }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

fn memory(r: &Resource, u: &Usage) -> Option<f64> {
    let mb = u.rss_bytes as f64 / MIB;
    match r {
        Resource::MemoryMb => Some(mb),
        Resource::MemoryRatio { limit_mb } => Some(mb / limit_mb),
        Resource::Cpu => None,
    }
}

fn resource_of(c: &Condition) -> Option<&Resource> {
    match &c.expr {
        Expr::Resource(r) => Some(r),
        _ => None,
    }
}

#[async_trait]
impl Source for ResourcesSource {
    async fn read(&mut self, conditions: &[&Condition]) -> Vec<Reading> {
        let u = match self.feed.usage().await {
            Ok(u) => u,
            Err(why) => {
                self.last = None;
                return vec![Reading::Error(why); conditions.len()];
            }
        };
        let now = tokio::time::Instant::now();
        let cpu = match self.last {
            Some((at, prev)) if prev.group == u.group && u.cpu_seconds >= prev.cpu_seconds => {
                let secs = now.duration_since(at).as_secs_f64();
                if secs >= Duration::from_millis(100).as_secs_f64() {
                    Reading::Value((u.cpu_seconds - prev.cpu_seconds) / secs)
                } else {
                    Reading::Empty("less than 100 ms since the previous reading".into())
                }
            }
            Some(_) => Reading::Empty("the process changed since the previous reading".into()),
            None => Reading::Empty("CPU needs two readings; this is the first".into()),
        };
        self.last = Some((now, u));
        conditions
            .iter()
            .map(|c| match resource_of(c) {
                Some(Resource::Cpu) => cpu.clone(),
                Some(r) => Reading::Value(memory(r, &u).unwrap_or(f64::NAN)),
                None => Reading::Error("not a `resources` condition".into()),
            })
            .collect()
    }

    async fn baseline(&mut self, conditions: &[&Condition]) -> Vec<Option<Reading>> {
        let u = self.feed.usage().await.ok();
        conditions
            .iter()
            .map(|c| {
                let r = resource_of(c)?;
                memory(r, u.as_ref()?).map(Reading::Value)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use runway_config::sources::SourceKind;

    use super::*;

    #[derive(Clone)]
    struct Feed(Arc<Mutex<Result<Usage, String>>>);

    #[async_trait]
    impl ResourceFeed for Feed {
        async fn usage(&self) -> Result<Usage, String> {
            self.0.lock().unwrap().clone()
        }
    }

    fn cond(name: &str, r: Resource, max: f64) -> Condition {
        Condition {
            name: name.into(),
            source: SourceKind::Resources,
            expr: Expr::Resource(r),
            window: None,
            min_requests: 1,
            max: Some(max),
            min: None,
            baseline_factor: None,
        }
    }

    fn usage(group: u32, mb: u64, cpu: f64) -> Usage {
        Usage {
            group,
            processes: 2,
            rss_bytes: mb * 1024 * 1024,
            cpu_seconds: cpu,
        }
    }

    /// Hostaway: memory > 80% of the limit, CPU < 70%.
    #[tokio::test(start_paused = true)]
    async fn memory_against_its_limit_and_cpu_between_readings() {
        let feed = Feed(Arc::new(Mutex::new(Ok(usage(10, 400, 5.0)))));
        let mut s = ResourcesSource::new(Box::new(feed.clone()));
        let mem = cond("memory", Resource::MemoryRatio { limit_mb: 512.0 }, 0.8);
        let mb = cond("rss", Resource::MemoryMb, 512.0);
        let cpu = cond("cpu", Resource::Cpu, 0.7);
        let base = s.baseline(&[&mem, &mb, &cpu]).await;
        assert_eq!(base[1], Some(Reading::Value(400.0)));
        assert_eq!(base[2], None);
        let r = s.read(&[&mem, &mb, &cpu]).await;
        assert_eq!(r[0], Reading::Value(400.0 / 512.0));
        assert_eq!(mem.judge(&r[0], None).verdict, crate::Verdict::Pass);
        assert!(matches!(r[2], Reading::Empty(_)), "{:?}", r[2]);
        // 10 s later: 9 CPU seconds more (0.9 of a core) and 450 MiB (87.9%).
        tokio::time::advance(Duration::from_secs(10)).await;
        *feed.0.lock().unwrap() = Ok(usage(10, 450, 14.0));
        let r = s.read(&[&mem, &mb, &cpu]).await;
        assert_eq!(r[2], Reading::Value(0.9));
        let e = cpu.judge(&r[2], None);
        assert_eq!(e.verdict, crate::Verdict::Fail);
        assert!(e.message.contains("above the maximum 0.7"), "{}", e.message);
        let e = mem.judge(&r[0], None);
        assert_eq!(e.verdict, crate::Verdict::Fail, "{}", e.message);
        assert_eq!(mb.judge(&r[1], None).verdict, crate::Verdict::Pass);
        // A restarted process has no CPU delta; a gone one is an error.
        tokio::time::advance(Duration::from_secs(10)).await;
        *feed.0.lock().unwrap() = Ok(usage(11, 100, 0.1));
        assert!(matches!(s.read(&[&cpu]).await[0], Reading::Empty(_)));
        *feed.0.lock().unwrap() = Err("nothing runs".into());
        assert_eq!(
            s.read(&[&cpu]).await,
            vec![Reading::Error("nothing runs".into())]
        );
    }
}
