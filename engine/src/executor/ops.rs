//! Acting on an app's answer: memoising steps, planning parallel steps, sleeps, waits,
//! invokes, retries and the end of the run.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::request::CallTarget;
use super::response::{Answer, Outcome};
use crate::core::Core;
use crate::error::Result;
use crate::function::FunctionDef;
use crate::ingest::{self, FN_INVOKED};
use crate::lifecycle::{self, DEFAULT_PAUSE_MS, history};
use crate::store::{JobKind, NewJob, Pause, PauseKind, RunRow, RunStatus, jobs, pauses, runs};

/// The server fails a function that reports more ops than this in one answer.
const MAX_OPS: usize = 1000;

fn s<'a>(op: &'a Value, key: &str) -> Option<&'a str> {
    op.get(key).and_then(Value::as_str)
}

fn retry(
    core: &Core,
    tx: &Connection,
    run: &RunRow,
    target: &CallTarget,
    delay: Option<i64>,
    now: i64,
) -> Result<()> {
    let next = target.attempt + 1;
    let at = now + delay.unwrap_or_else(|| core.clock.backoff(target.attempt));
    let len = runs::step_count(tx, &run.id)?;
    jobs::enqueue(
        tx,
        &NewJob {
            key: format!("{}:call:{}:{next}:{len}", run.id, target.step_id),
            run_id: Some(run.id.clone()),
            kind: JobKind::Call {
                step_id: target.step_id.clone(),
                attempt: next,
            },
            at_ms: at,
            order_ms: at,
        },
    )?;
    Ok(())
}

/// Applies an answer to a run that is still running.
pub(crate) fn apply(
    core: &Core,
    tx: &Connection,
    run: &mut RunRow,
    f: &FunctionDef,
    target: &CallTarget,
    answer: Answer,
    now: i64,
) -> Result<()> {
    if run.version == -1
        && let Some(v) = answer.version.filter(|v| *v > 0)
    {
        runs::set_version(tx, &run.id, v)?;
        run.version = v;
    }
    let last_attempt = target.attempt + 1 >= f.max_attempts;

    // The discovery that follows a parallel group went out with immediate execution off;
    // from here on the SDK may run steps inline again.
    if target.step_id == "step" && run.force_plan && run.pending.is_empty() {
        run.force_plan = false;
        runs::set_plan(tx, &run.id, false, &run.pending)?;
    }

    match answer.outcome {
        Outcome::Complete(value) => {
            lifecycle::finalize(core, tx, run, RunStatus::Completed, Some(&value), None, now)
        }
        Outcome::Error {
            error,
            retryable,
            retry_after_ms,
        } => {
            history(
                tx,
                &run.id,
                now,
                "CallFailed",
                Some(&target.step_id),
                None,
                Some(target.attempt),
                Some(error.clone()),
            )?;
            if retryable && !last_attempt {
                retry(core, tx, run, target, retry_after_ms, now)
            } else {
                lifecycle::finalize(core, tx, run, RunStatus::Failed, None, Some(&error), now)
            }
        }
        Outcome::Ops {
            mut ops,
            no_retry,
            retry_after_ms,
        } => {
            if ops.len() > MAX_OPS {
                let error = json!({"name": "Error", "message": format!("the function reported {} ops in one answer; at most {MAX_OPS} are allowed", ops.len())});
                return lifecycle::finalize(
                    core,
                    tx,
                    run,
                    RunStatus::Failed,
                    None,
                    Some(&error),
                    now,
                );
            }
            if ops.is_empty() {
                // Nothing to do: drive discovery again, counting it as an attempt so an app that
                // keeps answering nothing cannot spin forever.
                let error = json!({"name": "Error", "message": "the app answered 206 with no ops"});
                return if last_attempt {
                    lifecycle::finalize(core, tx, run, RunStatus::Failed, None, Some(&error), now)
                } else {
                    retry(core, tx, run, target, None, now)
                };
            }
            // Waits are registered before anything else can resume the run.
            ops.sort_by_key(|op| s(op, "op") != Some("WaitForEvent"));
            let planned = ops
                .iter()
                .filter(|op| s(op, "op") == Some("StepPlanned"))
                .count();
            let parallel = ops.len() > 1 && planned > 0;
            let mut ctx = OpCtx {
                core,
                tx,
                f,
                target,
                now,
                discover: false,
                no_retry,
                retry_after_ms,
                last_attempt,
            };
            for op in &ops {
                if run.status != RunStatus::Running {
                    break;
                }
                ctx.handle(run, op, parallel)?;
            }
            if parallel {
                run.force_plan = true;
                runs::set_plan(tx, &run.id, true, &run.pending)?;
            }
            if ctx.discover && run.status == RunStatus::Running {
                lifecycle::discover(tx, &run.id, now)?;
            }
            Ok(())
        }
    }
}

struct OpCtx<'a> {
    core: &'a Core,
    tx: &'a Connection,
    f: &'a FunctionDef,
    target: &'a CallTarget,
    now: i64,
    discover: bool,
    no_retry: bool,
    retry_after_ms: Option<i64>,
    last_attempt: bool,
}

impl OpCtx<'_> {
    fn memo(
        &mut self,
        run: &mut RunRow,
        hash: &str,
        value: Value,
        kind: &str,
        name: Option<&str>,
    ) -> Result<()> {
        history(
            self.tx,
            &run.id,
            self.now,
            kind,
            Some(hash),
            name,
            Some(self.target.attempt),
            Some(value.clone()),
        )?;
        if lifecycle::complete_step(self.tx, run, hash, &value)? {
            self.discover = true;
        }
        Ok(())
    }

    fn step_error(&mut self, run: &mut RunRow, hash: &str, message: String) -> Result<()> {
        let value = json!({"error": {"name": "Error", "message": message}});
        self.memo(run, hash, value, "StepFailed", None)
    }

    fn handle(&mut self, run: &mut RunRow, op: &Value, parallel: bool) -> Result<()> {
        let (tx, now) = (self.tx, self.now);
        let kind = s(op, "op").unwrap_or("None");
        let hash = s(op, "id").unwrap_or_default().to_owned();
        let name = s(op, "displayName").or_else(|| s(op, "name"));
        let opts = op.get("opts").cloned().unwrap_or(Value::Null);

        match kind {
            "StepRun" => {
                let data = op.get("data").cloned().unwrap_or(Value::Null);
                self.memo(run, &hash, json!({"data": data}), "StepCompleted", name)
            }
            // The legacy form: the SDK already wrapped the value.
            "Step" => {
                let data = op.get("data").cloned().unwrap_or(Value::Null);
                self.memo(run, &hash, data, "StepCompleted", name)
            }
            "StepError" if !self.no_retry && !self.last_attempt => {
                let error = op.get("error").cloned().unwrap_or(Value::Null);
                history(
                    tx,
                    &run.id,
                    now,
                    "StepErrored",
                    Some(&hash),
                    name,
                    Some(self.target.attempt),
                    Some(error),
                )?;
                retry(self.core, tx, run, self.target, self.retry_after_ms, now)
            }
            "StepError" | "StepFailed" => {
                let error = op
                    .get("error")
                    .cloned()
                    .unwrap_or_else(|| json!({"name": "Error", "message": "step failed"}));
                self.memo(run, &hash, json!({"error": error}), "StepFailed", name)
            }
            "StepPlanned" => {
                if runs::has_step(tx, &run.id, &hash)? {
                    return Ok(());
                }
                jobs::enqueue(
                    tx,
                    &NewJob {
                        key: format!("{}:plan:{hash}", run.id),
                        run_id: Some(run.id.clone()),
                        kind: JobKind::Call {
                            step_id: hash.clone(),
                            attempt: 0,
                        },
                        at_ms: now,
                        order_ms: now,
                    },
                )?;
                let race = opts.get("parallelMode").and_then(Value::as_str) == Some("race");
                if parallel && run.version >= 2 && !race && !run.pending.contains(&hash) {
                    run.pending.push(hash.clone());
                }
                history(
                    tx,
                    &run.id,
                    now,
                    "StepPlanned",
                    Some(&hash),
                    name,
                    None,
                    None,
                )
            }
            "Sleep" => {
                let spec = opts
                    .get("duration")
                    .and_then(Value::as_str)
                    .or_else(|| s(op, "name"))
                    .unwrap_or_default();
                let at = match lifecycle::timeout_at(self.core, Some(spec), 0, now) {
                    Ok(at) if !spec.trim().is_empty() => at,
                    _ => {
                        return self.step_error(
                            run,
                            &hash,
                            format!("cannot read sleep duration `{spec}`"),
                        );
                    }
                };
                jobs::enqueue(
                    tx,
                    &NewJob {
                        key: format!("{}:wake:{hash}", run.id),
                        run_id: Some(run.id.clone()),
                        kind: JobKind::Wake { hash: hash.clone() },
                        at_ms: at,
                        order_ms: at,
                    },
                )?;
                history(
                    tx,
                    &run.id,
                    now,
                    "Sleeping",
                    Some(&hash),
                    name,
                    None,
                    Some(json!({"until_ms": at})),
                )
            }
            "WaitForEvent" => {
                let event = opts
                    .get("event")
                    .and_then(Value::as_str)
                    .or_else(|| s(op, "name"))
                    .unwrap_or_default();
                let expires = match lifecycle::timeout_at(
                    self.core,
                    opts.get("timeout").and_then(Value::as_str),
                    0,
                    now,
                ) {
                    Ok(at) => at,
                    Err(e) => {
                        return self.step_error(run, &hash, format!("waitForEvent timeout: {e}"));
                    }
                };
                let expr = opts.get("if").and_then(Value::as_str).map(str::to_owned);
                self.pause(run, &hash, PauseKind::Wait, event, expr, None, expires)?;
                history(
                    tx,
                    &run.id,
                    now,
                    "Waiting",
                    Some(&hash),
                    name,
                    None,
                    Some(json!({"event": event, "if": opts.get("if"), "expires_ms": expires})),
                )
            }
            "InvokeFunction" => self.invoke(run, &hash, name, &opts),
            "RunComplete" => {
                let data = op.get("data").cloned().unwrap_or(Value::Null);
                lifecycle::finalize(
                    self.core,
                    tx,
                    run,
                    RunStatus::Completed,
                    Some(&data),
                    None,
                    now,
                )?;
                run.status = RunStatus::Completed;
                Ok(())
            }
            "DiscoveryRequest" => {
                self.discover = true;
                Ok(())
            }
            "None" => Ok(()),
            // Deferred work rides with other ops in JS; this engine does not schedule it.
            "DeferAdd" | "DeferAbort" => Ok(()),
            other => self.step_error(
                run,
                &hash,
                format!("op `{other}` is not supported by nestling-engine"),
            ),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one argument per pause column")]
    fn pause(
        &mut self,
        run: &RunRow,
        hash: &str,
        kind: PauseKind,
        event: &str,
        expr: Option<String>,
        correlation: Option<String>,
        expires: i64,
    ) -> Result<()> {
        let id = format!("{}:{hash}", run.id);
        pauses::insert(
            self.tx,
            &Pause {
                id: id.clone(),
                run_id: run.id.clone(),
                kind,
                event_name: event.to_owned(),
                expr,
                step_hash: Some(hash.to_owned()),
                correlation,
                expires_ms: expires,
                created_ms: self.now,
            },
        )?;
        jobs::enqueue(
            self.tx,
            &NewJob {
                key: format!("{}:pt:{id}", run.id),
                run_id: Some(run.id.clone()),
                kind: JobKind::PauseTimeout { pause_id: id },
                at_ms: expires,
                order_ms: expires,
            },
        )?;
        Ok(())
    }

    fn invoke(
        &mut self,
        run: &mut RunRow,
        hash: &str,
        name: Option<&str>,
        opts: &Value,
    ) -> Result<()> {
        let (tx, now) = (self.tx, self.now);
        let fn_id = opts
            .get("function_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(target) = self.core.function(fn_id)? else {
            return self.step_error(
                run,
                hash,
                format!("could not invoke `{fn_id}`: no such function is registered"),
            );
        };
        let expires = match lifecycle::timeout_at(
            self.core,
            opts.get("timeout").and_then(Value::as_str),
            DEFAULT_PAUSE_MS,
            now,
        ) {
            Ok(at) => at,
            Err(e) => return self.step_error(run, hash, format!("invoke timeout: {e}")),
        };
        let correlation = format!("{}.{hash}", run.id);
        self.pause(
            run,
            hash,
            PauseKind::Invoke,
            ingest::FN_FINISHED,
            None,
            Some(correlation.clone()),
            expires,
        )?;

        let payload = opts.get("payload").cloned().unwrap_or(Value::Null);
        let mut data = payload
            .get("data")
            .cloned()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        data["_inngest"] = json!({
            "fn_id": target.slug,
            "correlation_id": correlation,
            "expire": expires,
            "name": name,
            "source_app_id": self.f.app_id,
            "source_fn_id": self.f.id,
            "source_fn_v": self.f.version,
        });
        let mut event = json!({"name": FN_INVOKED, "data": data, "ts": now});
        if let Some(u) = payload.get("user").filter(|u| u.is_object()) {
            event["user"] = u.clone();
        }
        event["user"] = event.get("user").cloned().unwrap_or_else(|| json!({}));
        if let Some(v) = payload.get("v").and_then(Value::as_str) {
            event["v"] = Value::String(v.to_owned());
        }
        history(
            tx,
            &run.id,
            now,
            "Invoking",
            Some(hash),
            name,
            None,
            Some(json!({"function_id": target.slug})),
        )?;
        let id = self.core.ulid();
        ingest::ingest(self.core, tx, event, id, now)?;
        Ok(())
    }
}
