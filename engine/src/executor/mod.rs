//! Working off due jobs: calling apps and acting on their answers, waking sleeps, expiring
//! pauses, flushing buffers, firing cron ticks.

mod ops;
pub(crate) mod request;
mod response;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::core::Core;
use crate::error::Result;
use crate::function::{FunctionDef, Trigger};
use crate::lifecycle::{self, StartOptions, history};
use crate::store::{
    EventRow, Job, JobKind, NewJob, PauseKind, RunStatus, events, jobs, pauses, runs,
};
use crate::{flow, ingest};
use request::CallTarget;

/// Runs one claimed job to its end; returns false when it failed. Errors are logged: the job
/// stays claimed until restart rather than being lost.
pub(crate) async fn process(core: Arc<Core>, job: Job) -> bool {
    let result = match &job.kind {
        JobKind::Call { step_id, attempt } => call(&core, &job, step_id, *attempt).await,
        _ => core
            .store
            .write(|tx| timer(&core, tx, &job, core.clock.now())),
    };
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(target: "nestling_engine::executor", job = %job.key, error = %e, "job failed; it will be retried after a restart");
            false
        }
    }
}

async fn call(core: &Core, job: &Job, step_id: &str, attempt: u32) -> Result<()> {
    let run_id = job.run_id.clone().unwrap_or_default();
    let now = core.clock.now();

    let loaded = core.store.read(|c| {
        let Some(run) = runs::run(c, &run_id)? else {
            return Ok(None);
        };
        let evs = events::events(c, &run.event_ids)?;
        let steps = runs::steps(c, &run_id)?;
        Ok(Some((run, evs, steps)))
    })?;
    let Some((run, evs, steps)) = loaded else {
        return core.store.write(|tx| jobs::delete(tx, job));
    };
    let f = core.function(&run.function_id)?;
    let (true, Some(f)) = (run.status == RunStatus::Running, f) else {
        return core.store.write(|tx| {
            if let Some(run) = runs::run(tx, &run_id)?.filter(|r| r.status == RunStatus::Running) {
                let error = json!({"name": "Error", "message": format!("function {} is no longer registered", run.function_slug)});
                lifecycle::finalize(core, tx, &run, RunStatus::Failed, None, Some(&error), now)?;
            }
            jobs::delete(tx, job)
        });
    };

    let first_call = run.started_ms.is_none();
    if first_call
        && let Some(limit) = FunctionDef::duration(f.timeouts.start.as_deref())
        && now - run.created_ms > core.clock.scaled(limit)
    {
        return core.store.write(|tx| {
            let reason = json!({"name": "Cancelled", "message": "timeouts.start elapsed before the run started"});
            lifecycle::cancel(core, tx, &run, reason, now)?;
            jobs::delete(tx, job)
        });
    }

    let target = CallTarget {
        job_key: job.key.clone(),
        step_id: step_id.to_owned(),
        attempt,
    };
    let req = request::build(core, &f, &run, evs, steps, &target);
    tracing::debug!(target: "nestling_engine::executor", run_id = %run.id, step = step_id, attempt, "calling app");
    let answer = response::send(core, req).await;

    let called_at = now;
    let now = core.clock.now();
    core.store.write(|tx| {
        jobs::delete(tx, job)?;
        // The start is written with the first answer rather than in a transaction of its own
        // before the call: the run started when it was called (`called_at`), and a crash
        // during that call leaves it unstarted, to be started by the retried call.
        if first_call {
            started(tx, &run.id, &f.slug, called_at)?;
        }
        let Some(mut run) = runs::run(tx, &run_id)? else {
            return Ok(());
        };
        if run.status != RunStatus::Running {
            return Ok(());
        }
        ops::apply(core, tx, &mut run, &f, &target, answer, now)
    })
}

/// Marks a run started at `at`, once: the first call's answer or the first checkpoint the SDK
/// sends during that call, whichever comes first.
pub(crate) fn started(tx: &rusqlite::Connection, run_id: &str, slug: &str, at: i64) -> Result<()> {
    if runs::set_started(tx, run_id, at)? {
        history(
            tx,
            run_id,
            at,
            "FunctionStarted",
            None,
            Some(slug),
            None,
            None,
        )?;
    }
    Ok(())
}

fn timer(core: &Core, tx: &rusqlite::Connection, job: &Job, now: i64) -> Result<()> {
    jobs::delete(tx, job)?;
    let run = match &job.run_id {
        Some(id) => runs::run(tx, id)?.filter(|r| r.status == RunStatus::Running),
        None => None,
    };
    match &job.kind {
        JobKind::Wake { hash } => {
            let Some(mut run) = run else { return Ok(()) };
            history(tx, &run.id, now, "SleepEnded", Some(hash), None, None, None)?;
            if lifecycle::complete_step(tx, &mut run, hash, &Value::Null)? {
                lifecycle::discover(tx, &run.id, now)?;
            }
        }
        JobKind::PauseTimeout { pause_id } => {
            if let Some(p) = pauses::get(tx, pause_id)? {
                let kind = if p.kind == PauseKind::Invoke {
                    "InvokeTimedOut"
                } else {
                    "WaitTimedOut"
                };
                lifecycle::resume_pause(core, tx, &p, Value::Null, kind, now)?;
            }
        }
        JobKind::RunTimeout => {
            if let Some(run) = run {
                let reason = json!({"name": "Cancelled", "message": "timeouts.finish elapsed"});
                lifecycle::cancel(core, tx, &run, reason, now)?;
            }
        }
        JobKind::Debounce { scope } | JobKind::Batch { scope } => {
            flow::flush(core, tx, scope, now)?
        }
        JobKind::Cron {
            function_id,
            index,
            at_ms,
        } => cron_tick(core, tx, function_id, *index, *at_ms, now)?,
        JobKind::Call { .. } => {}
    }
    Ok(())
}

/// Queues the next tick of every cron trigger (idempotent: keys include the tick time).
pub(crate) fn schedule_crons(core: &Core, tx: &rusqlite::Connection, now: i64) -> Result<()> {
    for f in core.functions().iter() {
        for (index, t) in f.triggers.iter().enumerate() {
            if let Trigger::Cron { cron, .. } = t {
                schedule_cron(tx, f, index, cron, now)?;
            }
        }
    }
    Ok(())
}

fn schedule_cron(
    tx: &rusqlite::Connection,
    f: &FunctionDef,
    index: usize,
    cron: &str,
    after: i64,
) -> Result<()> {
    let Some(after_t) = chrono::DateTime::from_timestamp_millis(after) else {
        return Ok(());
    };
    let Ok(next) = crate::cron::next_after(cron, after_t) else {
        return Ok(());
    };
    let at = next.timestamp_millis();
    let key = format!("cron:{}:{index}:{at}", f.id);
    jobs::enqueue(
        tx,
        &NewJob {
            key,
            run_id: None,
            kind: JobKind::Cron {
                function_id: f.id.clone(),
                index,
                at_ms: at,
            },
            at_ms: at,
            order_ms: at,
        },
    )?;
    Ok(())
}

fn cron_tick(
    core: &Core,
    tx: &rusqlite::Connection,
    function_id: &str,
    index: usize,
    at_ms: i64,
    now: i64,
) -> Result<()> {
    // The chain stops when the function or this cron trigger is gone.
    let Some(f) = core
        .functions()
        .iter()
        .find(|f| f.id == function_id)
        .cloned()
    else {
        return Ok(());
    };
    let Some(Trigger::Cron { cron, .. }) = f.triggers.get(index).cloned() else {
        return Ok(());
    };

    let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let event = json!({
        "id": stamp,
        "name": ingest::SCHEDULED,
        "data": {"cron": cron, "scheduledAt": stamp, "fireAt": stamp},
        "user": {},
        "ts": at_ms,
    });
    let row = EventRow {
        id: core.ulid(),
        name: ingest::SCHEDULED.into(),
        body: event,
        received_ms: now,
    };
    events::insert_event(tx, &row)?;
    let opts = StartOptions {
        cron: Some(cron.clone()),
        external_id: true,
        ..StartOptions::default()
    };
    flow::admit(core, tx, &f, vec![row], now, opts)?;
    schedule_cron(tx, &f, index, &cron, at_ms.max(now))
}
