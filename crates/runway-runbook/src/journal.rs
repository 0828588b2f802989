//! The deployment journal: each step a target takes that changes what
//! serves is appended to the deployment's record as it happens, the intent
//! before the step. A `runway` killed in the middle of a swap leaves the
//! record `in_progress` with its last intent, and [`crate::recover`] reads
//! both the record and the target to put a version back.
//!
//! A target runs inside `Target::deploy`/`rollback` and holds no ledger, so
//! its [`runway_deploy::Journal`] is a channel: the target sends an entry and
//! waits for the answer; [`journaled`] runs the target's future and writes
//! each entry to the ledger in between. An intent that cannot be written (a
//! full disk) is refused, and the target does not take the step.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use runway_deploy::{Journal, Steps};
use runway_ledger::DeploymentFact;
use tokio::sync::{mpsc, oneshot};

use crate::{Env, Event};

type Entry = (bool, String, oneshot::Sender<Result<(), String>>);

struct ChannelJournal {
    tx: mpsc::UnboundedSender<Entry>,
}

#[async_trait]
impl Journal for ChannelJournal {
    async fn intend(&self, step: &str) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send((true, step.to_owned(), tx))
            .map_err(|_| "the journal is closed".to_owned())?;
        rx.await
            .map_err(|_| "the journal is closed".to_owned())
            .and_then(|r| r)
    }

    async fn did(&self, step: &str) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send((false, step.to_owned(), tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Runs `work` (given the [`Steps`] to put in its request), appending each
/// step it journals to deployment `id` and to `done` as it goes.
pub(crate) async fn journaled<F, T>(
    env: &Env,
    id: &str,
    done: &Done,
    work: impl FnOnce(Steps) -> F,
) -> T
where
    F: Future<Output = T>,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Entry>();
    let work = work(Steps::to(Arc::new(ChannelJournal { tx })));
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            Some((intent, step, answer)) = rx.recv() => {
                let fact = DeploymentFact::Step(runway_ledger::Step {
                    intent,
                    step: step.clone(),
                    at: chrono::Utc::now(),
                });
                let written = env
                    .ledger
                    .add_deployment_fact(id, &fact)
                    .await
                    .map_err(|e| e.to_string());
                if written.is_ok() && !intent {
                    done.did(env, step);
                }
                let _ = answer.send(written);
            }
            out = &mut work => return out,
        }
    }
}

/// The steps done so far, for an `aborted` record.
#[derive(Clone, Default)]
pub(crate) struct Done(pub(crate) Arc<Mutex<Vec<String>>>);

impl Done {
    pub(crate) fn did(&self, env: &Env, step: impl Into<String>) {
        let step = step.into();
        env.emit(Event::Step(&step));
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(step);
    }

    pub(crate) fn list(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
