//! Two-step writes: a `*_plan` tool issues a plan id for one tool, its exact
//! arguments and one caller; the write names it within the plan's lifetime,
//! once.
//!
//! The caller is a [`Binding`]: what the client cannot choose (the session the
//! server issued, the connection it accepted, the token it checked, the
//! process that started it), never its self-declared `clientInfo.name`, which
//! any second client can repeat; the name stays the operator the ledger shows.
//!
//! The store is per server (every session of an HTTP server shares it) and
//! bounded: at most [`MAX_OPEN_PLANS`] outstanding, and the ids of the last
//! [`MAX_REMEMBERED`] used or expired plans are remembered so a second use is
//! told "already used", not "unknown".

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::OpError;

/// Outstanding plans a server keeps; a plan call beyond that is refused.
pub const MAX_OPEN_PLANS: usize = 256;
/// Used and expired ids remembered, for a precise refusal.
pub const MAX_REMEMBERED: usize = 1024;

/// Who may redeem a plan: the identity of the caller that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Binding {
    /// Over stdio: this server instance, i.e. the one process that started it.
    Stdio { instance: u64 },
    /// Over HTTP, session era: the bearer token's identity and the
    /// `Mcp-Session-Id` the server issued (and rmcp checked).
    Session { token: Option<u32>, session: String },
    /// Over HTTP, stateless era (no session): the bearer token's identity and
    /// the TCP connection the plan was asked on.
    Connection { token: Option<u32>, connection: u64 },
}

impl Binding {
    /// What a refusal says the plan was bound to; never a session id.
    fn describe(&self) -> &'static str {
        match self {
            Binding::Stdio { .. } => "another `runway mcp` process",
            Binding::Session { .. } => "another MCP session",
            Binding::Connection { .. } => {
                "another connection (the stateless era has no session: plan and write on one connection)"
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Plan {
    tool: String,
    arguments: Value,
    binding: Binding,
    expires: Instant,
    /// What the plan call computed, which the write carries out.
    prepared: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gone {
    Used,
    Expired,
}

#[derive(Debug, Default)]
struct State {
    open: HashMap<String, Plan>,
    gone: HashMap<String, Gone>,
    gone_order: VecDeque<String>,
}

impl State {
    fn forget(&mut self, id: String, why: Gone) {
        if self.gone.insert(id.clone(), why).is_none() {
            self.gone_order.push_back(id);
        }
        while self.gone_order.len() > MAX_REMEMBERED {
            if let Some(old) = self.gone_order.pop_front() {
                self.gone.remove(&old);
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .open
            .iter()
            .filter(|(_, p)| p.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.open.remove(&id);
            self.forget(id, Gone::Expired);
        }
    }
}

/// A plan just issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub plan_id: String,
    pub expires_at: DateTime<Utc>,
}

/// The plans of one server.
#[derive(Debug)]
pub struct Plans {
    ttl: Duration,
    state: Mutex<State>,
}

impl Plans {
    pub fn new(ttl: Duration) -> Plans {
        Plans {
            ttl,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a
        // way that matters more than refusing every write; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues a plan for `tool` called with `arguments` by the caller `binding`.
    pub fn issue(
        &self,
        tool: &str,
        arguments: Value,
        binding: &Binding,
        prepared: Value,
    ) -> Result<Issued, OpError> {
        let now = Instant::now();
        let mut st = self.lock();
        st.expire(now);
        if st.open.len() >= MAX_OPEN_PLANS {
            return Err(OpError::Plan {
                message: format!(
                    "{MAX_OPEN_PLANS} plans are outstanding; use or let some expire (each lasts {})",
                    humantime::format_duration(self.ttl)
                ),
                hint: "wait for the outstanding plans to expire, then plan again".into(),
            });
        }
        let plan_id = format!("plan-{}", uuid::Uuid::new_v4().simple());
        st.open.insert(
            plan_id.clone(),
            Plan {
                tool: tool.to_owned(),
                arguments,
                binding: binding.clone(),
                expires: now + self.ttl,
                prepared,
            },
        );
        let expires_at =
            Utc::now() + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::zero());
        Ok(Issued {
            plan_id,
            expires_at,
        })
    }

    /// Takes the plan `plan_id` for a `tool` call with `arguments` by the
    /// caller `binding`: returns what the plan prepared, and the plan cannot
    /// be used again. A plan for another tool, other arguments or another
    /// caller stays open.
    pub fn redeem(
        &self,
        plan_id: Option<&str>,
        tool: &str,
        arguments: &Value,
        binding: &Binding,
    ) -> Result<Value, OpError> {
        let plan_tool = format!("{tool}_plan");
        let again = format!(
            "call `{plan_tool}` with the same arguments, then call `{tool}` with the `plan_id` it returns within {}",
            humantime::format_duration(self.ttl)
        );
        let refuse = |message: String| OpError::Plan {
            message,
            hint: again.clone(),
        };
        let Some(plan_id) = plan_id.map(str::trim).filter(|p| !p.is_empty()) else {
            return Err(refuse(format!(
                "`{tool}` writes, so it needs a `plan_id` from `{plan_tool}`"
            )));
        };
        let now = Instant::now();
        let mut st = self.lock();
        st.expire(now);
        if let Some(why) = st.gone.get(plan_id) {
            return Err(refuse(match why {
                Gone::Used => {
                    format!("plan `{plan_id}` was already used: a plan is good for one write")
                }
                Gone::Expired => format!(
                    "plan `{plan_id}` has expired: a plan lasts {}",
                    humantime::format_duration(self.ttl)
                ),
            }));
        }
        let Some(plan) = st.open.get(plan_id) else {
            return Err(refuse(format!(
                "there is no plan `{plan_id}` (plans live in the server that issued them and end when it stops)"
            )));
        };
        if plan.tool != tool {
            return Err(refuse(format!(
                "plan `{plan_id}` was made for `{}`, not `{tool}`",
                plan.tool
            )));
        }
        if &plan.arguments != arguments {
            return Err(refuse(format!(
                "plan `{plan_id}` was made for other arguments: planned {}, called with {}",
                plan.arguments, arguments
            )));
        }
        if plan.binding != *binding {
            return Err(refuse(format!(
                "plan `{plan_id}` was made by {}: a plan is good only for the caller that asked for it",
                plan.binding.describe()
            )));
        }
        let prepared = plan.prepared.clone();
        st.open.remove(plan_id);
        st.forget(plan_id.to_owned(), Gone::Used);
        Ok(prepared)
    }
}

/// What the HTTP layer established about a request before rmcp saw it, for
/// the handler to bind plans to: nothing here comes from the client's say-so.
#[derive(Debug, Clone)]
pub(crate) struct HttpCaller(pub Binding);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cli() -> Binding {
        Binding::Stdio { instance: 1 }
    }

    fn refusal(r: Result<Value, OpError>) -> String {
        match r {
            Err(e) => e.to_text(),
            Ok(v) => panic!("redeemed: {v}"),
        }
    }

    #[test]
    fn a_plan_is_good_for_one_matching_write_before_it_expires() {
        let plans = Plans::new(Duration::from_secs(60));
        let args = json!({"id": "inc-1"});
        let p = plans
            .issue("incident_ack", args.clone(), &cli(), json!({"n": 1}))
            .unwrap();
        assert!(p.plan_id.starts_with("plan-"));

        let none = refusal(plans.redeem(None, "incident_ack", &args, &cli()));
        assert!(
            none.contains("needs a `plan_id` from `incident_ack_plan`"),
            "{none}"
        );
        let unknown = refusal(plans.redeem(Some("plan-nope"), "incident_ack", &args, &cli()));
        assert!(
            unknown.contains("there is no plan `plan-nope`"),
            "{unknown}"
        );
        let tool = refusal(plans.redeem(Some(&p.plan_id), "incident_resolve", &args, &cli()));
        assert!(tool.contains("made for `incident_ack`"), "{tool}");
        let other = refusal(plans.redeem(
            Some(&p.plan_id),
            "incident_ack",
            &json!({"id": "inc-2"}),
            &cli(),
        ));
        assert!(other.contains("other arguments"), "{other}");
        for other in [
            Binding::Stdio { instance: 2 },
            Binding::Session {
                token: Some(0),
                session: "s-1".into(),
            },
            Binding::Connection {
                token: Some(0),
                connection: 1,
            },
        ] {
            let client = refusal(plans.redeem(Some(&p.plan_id), "incident_ack", &args, &other));
            assert!(client.contains("was made by another"), "{client}");
        }
        let session = |token, session: &str| Binding::Session {
            token,
            session: session.into(),
        };
        let s = plans
            .issue(
                "incident_ack",
                args.clone(),
                &session(Some(0), "s-1"),
                Value::Null,
            )
            .unwrap();
        for other in [
            session(Some(0), "s-2"),
            session(Some(1), "s-1"),
            session(None, "s-1"),
        ] {
            let e = refusal(plans.redeem(Some(&s.plan_id), "incident_ack", &args, &other));
            assert!(e.contains("another MCP session"), "{e}");
            assert!(!e.contains("s-1"), "a refusal named the session id: {e}");
        }
        plans
            .redeem(
                Some(&s.plan_id),
                "incident_ack",
                &args,
                &session(Some(0), "s-1"),
            )
            .unwrap();

        // The refusals above left the plan open.
        let prepared = plans
            .redeem(Some(&p.plan_id), "incident_ack", &args, &cli())
            .unwrap();
        assert_eq!(prepared, json!({"n": 1}));
        let again = refusal(plans.redeem(Some(&p.plan_id), "incident_ack", &args, &cli()));
        assert!(again.contains("already used"), "{again}");
        assert!(again.contains("hint: call `incident_ack_plan`"), "{again}");
    }

    #[test]
    fn an_expired_plan_is_refused_as_expired() {
        let plans = Plans::new(Duration::from_millis(30));
        let args = json!({});
        let p = plans
            .issue("changelog_write", args.clone(), &cli(), Value::Null)
            .unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let e = refusal(plans.redeem(Some(&p.plan_id), "changelog_write", &args, &cli()));
        assert!(e.contains("has expired"), "{e}");
    }

    #[test]
    fn outstanding_plans_are_bounded() {
        let plans = Plans::new(Duration::from_secs(60));
        for _ in 0..MAX_OPEN_PLANS {
            plans.issue("t", Value::Null, &cli(), Value::Null).unwrap();
        }
        let e = plans
            .issue("t", Value::Null, &cli(), Value::Null)
            .unwrap_err();
        assert!(e.to_text().contains("outstanding"), "{}", e.to_text());
    }
}
