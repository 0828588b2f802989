//! The `command` target: the operator's own deploy, rollback and status commands.
//!
//! For the runbooks that already have a way to deploy (`docker compose -f FILE
//! up -d`, `kubectl apply -f`, a platform's CLI, a Deploy button). Runway runs
//! the commands with `{version}`, `{image}` and `{sha}` substituted, each
//! bounded in time (killed with its process group) and output (the tail is
//! kept, redacted). A `manual` step is a human's: its instructions are shown
//! and confirmed on a terminal, or taken as done with `--yes`; with neither,
//! it is an error rather than a guess.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use async_trait::async_trait;
use runway_config::{DeployConfig, TargetKind};

use crate::{
    ArtifactCheck, Confirm, DeployError, DeployRequest, Deployed, Logs, Target,
    child::{self, Run, Vars},
    health,
};

/// Output kept from one command.
const MAX_OUTPUT: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct CommandSettings {
    pub environment: String,
    pub deploy: Option<Vec<String>>,
    pub rollback: Option<Vec<String>>,
    pub status: Option<Vec<String>>,
    pub manual: Option<String>,
    /// `{image}` template (`registry/mcp:{version}`).
    pub image: Option<String>,
    pub workdir: PathBuf,
    pub timeout: Duration,
}

impl CommandSettings {
    pub fn from_config(environment: &str, config: &DeployConfig, root: &Path) -> CommandSettings {
        CommandSettings {
            environment: environment.to_owned(),
            deploy: config.deploy.clone(),
            rollback: config.rollback.clone(),
            status: config.status.clone(),
            manual: config.manual.clone(),
            image: config.image.clone(),
            workdir: root.join(config.workdir.as_deref().unwrap_or(".")),
            timeout: config.command_timeout(),
        }
    }
}

pub struct CommandTarget {
    s: CommandSettings,
    /// The output of the last command run, for [`Target::logs`].
    last: std::sync::Mutex<Option<Logs>>,
}

impl CommandTarget {
    pub fn new(settings: CommandSettings) -> CommandTarget {
        CommandTarget {
            s: settings,
            last: std::sync::Mutex::new(None),
        }
    }

    fn vars(&self, version: &str, image: Option<&str>, sha: Option<&str>) -> Vars {
        let mut v = Vars {
            version: version.to_owned(),
            port: None,
            image: None,
            sha: sha.map(str::to_owned),
        };
        v.image = image
            .map(str::to_owned)
            .or_else(|| self.s.image.as_ref().map(|t| v.apply(t)));
        v
    }

    async fn run(
        &self,
        key: &str,
        template: &[String],
        vars: &Vars,
        request: &DeployRequest,
    ) -> Result<child::Finished, DeployError> {
        if let Some(p) = vars.missing(template) {
            return Err(DeployError::Config {
                environment: self.s.environment.clone(),
                field: format!("deploy.{key}"),
                message: format!(
                    "`{key}` uses `{p}`, which has no value (set `image`, or deploy a tagged release for `{{sha}}`)"
                ),
            });
        }
        let argv = vars.apply_all(template);
        let f = child::run(Run {
            argv: &argv,
            cwd: &self.s.workdir,
            env: &request.env,
            timeout: self.s.timeout,
            max_output: MAX_OUTPUT,
            redactor: &request.redactor,
        })
        .await?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Logs {
            source: format!("`{}`", child::display(&argv)),
            version: Some(request.version.clone()),
            text: f.output.clone(),
            truncated: f.truncated,
        });
        if !f.success {
            return Err(DeployError::CommandFailed {
                command: child::display(&argv),
                status: f.status,
                output: f.output,
            });
        }
        Ok(f)
    }

    fn manual(&self, instructions: &str, confirm: &Confirm) -> Result<(), DeployError> {
        match confirm {
            Confirm::Assume => Ok(()),
            Confirm::Ask(ask) => {
                if ask(instructions) {
                    Ok(())
                } else {
                    Err(DeployError::Declined {
                        instructions: instructions.to_owned(),
                    })
                }
            }
            Confirm::Refuse => Err(DeployError::NeedsConfirmation {
                instructions: instructions.to_owned(),
            }),
        }
    }

    async fn change(
        &self,
        rollback: bool,
        to: &Deployed,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError> {
        let vars = self.vars(&to.version, to.image.as_deref(), request.sha.as_deref());
        let (key, command) = if rollback {
            ("rollback", self.s.rollback.as_ref())
        } else {
            ("deploy", self.s.deploy.as_ref())
        };
        if let Some(c) = command {
            self.run(key, c, &vars, request).await?;
        }
        if let Some(m) = &self.s.manual {
            let text = vars.apply(m);
            let text = if rollback {
                format!("roll back to {}: {text}", to.version)
            } else {
                text
            };
            self.manual(&text, &request.confirm)?;
        } else if command.is_none() {
            return Err(DeployError::NothingToRollBack {
                environment: self.s.environment.clone(),
                why: "the environment has no `rollback` command and no `manual` step".into(),
            });
        }
        let mut gone = || None;
        health::wait(&request.health, &mut gone).await?;
        Ok(Deployed {
            version: to.version.clone(),
            image: vars.image.clone(),
            digest: to.digest.clone(),
            revision: None,
            since: Some(chrono::Utc::now()),
            detail: serde_json::Value::Null,
        })
    }
}

#[async_trait]
impl Target for CommandTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Command
    }

    /// The `status` command's first line is the version; without one, nothing is known.
    async fn current(&self) -> Result<Option<Deployed>, DeployError> {
        let Some(status) = &self.s.status else {
            return Ok(None);
        };
        let request = DeployRequest::default();
        let f = self
            .run("status", status, &Vars::default(), &request)
            .await?;
        let version = f.output.lines().map(str::trim).find(|l| !l.is_empty());
        Ok(version.map(|v| Deployed {
            version: v.to_owned(),
            image: None,
            digest: None,
            revision: None,
            since: None,
            detail: serde_json::Value::Null,
        }))
    }

    async fn check_artifact(&self, previous: &Deployed) -> ArtifactCheck {
        match (&self.s.rollback, &self.s.manual) {
            (Some(c), _) => match child::runnable(&c[0], &self.s.workdir) {
                Some(_) => ArtifactCheck {
                    ok: true,
                    what: format!(
                        "rollback command `{}` is runnable for {}",
                        child::display(c),
                        previous.version
                    ),
                    hint: None,
                },
                None => ArtifactCheck {
                    ok: false,
                    what: format!(
                        "rollback command: `{}` is not found or not executable",
                        c[0]
                    ),
                    hint: Some(format!("install `{}` or fix `deploy.rollback`", c[0])),
                },
            },
            (None, Some(_)) => ArtifactCheck {
                ok: true,
                what: format!("manual rollback to {} (instructions)", previous.version),
                hint: None,
            },
            (None, None) => ArtifactCheck {
                ok: false,
                what: "no `rollback` command and no `manual` step".into(),
                hint: Some("add `rollback = [...]` to the environment's `deploy` table".into()),
            },
        }
    }

    async fn deploy(&self, request: &DeployRequest) -> Result<Deployed, DeployError> {
        let to = Deployed {
            version: request.version.clone(),
            image: request.image.clone(),
            digest: None,
            revision: None,
            since: None,
            detail: serde_json::Value::Null,
        };
        self.change(false, &to, request).await
    }

    async fn rollback(
        &self,
        to: &Deployed,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError> {
        self.change(true, to, request).await
    }

    async fn logs(&self, max_bytes: usize) -> Result<Logs, DeployError> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(match last {
            Some(mut l) => {
                if l.text.len() > max_bytes {
                    let mut cut = l.text.len() - max_bytes;
                    while !l.text.is_char_boundary(cut) {
                        cut += 1;
                    }
                    l.text.drain(..cut);
                    l.truncated = true;
                }
                l
            }
            None => Logs::default(),
        })
    }
}
