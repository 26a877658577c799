//! A run's life in the store: creation, memoised steps, resuming, ending, and the lifecycle
//! events emitted when it ends.

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::clock::parse_duration;
use crate::core::Core;
use crate::error::Result;
use crate::function::FunctionDef;
use crate::ingest::{self, FN_CANCELLED, FN_FAILED, FN_FINISHED};
use crate::store::{
    EventRow, HistoryRow, JobKind, NewJob, Pause, PauseKind, RunMeta, RunRow, RunStatus, events,
    jobs, pauses, runs,
};

/// One year, the default lifetime of cancel and invoke pauses.
const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// How a run comes to be, beyond its events.
#[derive(Debug, Clone, Default)]
pub(crate) struct StartOptions {
    pub(crate) correlation_id: Option<String>,
    pub(crate) lifecycle: bool,
    pub(crate) cron: Option<String>,
    pub(crate) batch_id: Option<String>,
    /// The triggering event carried its own `id` (used to dedupe run creation).
    pub(crate) external_id: bool,
}

#[expect(clippy::too_many_arguments, reason = "one argument per history column")]
pub(crate) fn history(
    tx: &Connection,
    run_id: &str,
    now: i64,
    kind: &str,
    step: Option<&str>,
    name: Option<&str>,
    attempt: Option<u32>,
    data: Option<Value>,
) -> Result<()> {
    runs::add_history(
        tx,
        run_id,
        &HistoryRow {
            ts_ms: now,
            kind: kind.to_owned(),
            step_hash: step.map(str::to_owned),
            name: name.map(str::to_owned),
            attempt: attempt.map(i64::from),
            data,
        },
    )
}

/// Creates a run that will start at `start_at`, with its cancel pauses and timeouts.
#[expect(
    clippy::too_many_arguments,
    reason = "a run is created from all of these at once"
)]
pub(crate) fn create_run(
    core: &Core,
    tx: &Connection,
    f: &FunctionDef,
    events_in: &[EventRow],
    start_at: i64,
    opts: StartOptions,
    meta_base: RunMeta,
    now: i64,
) -> Result<String> {
    let run_id = core.ulid();
    let first = events_in.first().map_or(Value::Null, |e| e.body.clone());
    let vars = [("event", &first)];

    let mut meta = meta_base;
    meta.correlation_id = opts.correlation_id;
    meta.lifecycle = opts.lifecycle;
    meta.cron = opts.cron;
    meta.batch_id = opts.batch_id;
    for c in &f.concurrency {
        let key = match &c.key {
            Some(src) => core.exprs.key(src, &vars).unwrap_or_default(),
            None => String::new(),
        };
        let scope = match c.scope.as_deref() {
            Some("env") | Some("account") => {
                format!("{}:{key}", c.scope.as_deref().unwrap_or("env"))
            }
            _ => format!("fn:{}:{key}", f.id),
        };
        meta.concurrency.push((scope, c.limit));
    }
    if let Some(src) = &f.priority {
        let secs = core
            .exprs
            .int(src, &vars)
            .unwrap_or(0)
            .clamp(-43_200, 43_200);
        meta.priority_ms = secs * 1000;
    }

    let run = RunRow {
        id: run_id.clone(),
        function_id: f.id.clone(),
        function_slug: f.slug.clone(),
        app_id: f.app_id.clone(),
        status: RunStatus::Running,
        event_ids: events_in.iter().map(|e| e.id.clone()).collect(),
        created_ms: now,
        started_ms: None,
        ended_ms: None,
        output: None,
        error: None,
        version: -1,
        force_plan: false,
        pending: Vec::new(),
        meta: meta.clone(),
    };
    runs::insert_run(tx, &run)?;
    for e in events_in {
        events::link_run(tx, &e.id, &run_id)?;
    }

    for (i, c) in f.cancel.iter().enumerate() {
        let expires = now
            + FunctionDef::duration(c.timeout.as_deref()).map_or(YEAR_MS, |d| core.clock.scaled(d));
        pauses::insert(
            tx,
            &Pause {
                id: format!("{run_id}:cancel:{i}"),
                run_id: run_id.clone(),
                kind: PauseKind::Cancel,
                event_name: c.event.clone(),
                expr: c.condition.clone(),
                step_hash: None,
                correlation: None,
                expires_ms: expires,
                created_ms: now,
            },
        )?;
    }
    if let Some(d) = FunctionDef::duration(f.timeouts.finish.as_deref()) {
        let at = start_at + core.clock.scaled(d);
        jobs::enqueue(
            tx,
            &NewJob {
                key: format!("{run_id}:timeout"),
                run_id: Some(run_id.clone()),
                kind: JobKind::RunTimeout,
                at_ms: at,
                order_ms: at,
            },
        )?;
    }

    jobs::enqueue(
        tx,
        &NewJob {
            key: format!("{run_id}:start"),
            run_id: Some(run_id.clone()),
            kind: JobKind::Call {
                step_id: "step".into(),
                attempt: 0,
            },
            at_ms: start_at,
            order_ms: start_at - meta.priority_ms,
        },
    )?;
    history(
        tx,
        &run_id,
        now,
        "FunctionScheduled",
        None,
        Some(&f.slug),
        None,
        Some(json!({"events": run.event_ids})),
    )?;
    tracing::debug!(target: "nestling_engine::run", run_id = %run_id, function = %f.slug, "run scheduled");
    Ok(run_id)
}

/// Queues the next discovery call of a run (deduped by the stack length it will see).
pub(crate) fn discover(tx: &Connection, run_id: &str, now: i64) -> Result<()> {
    let len = runs::step_count(tx, run_id)?;
    jobs::enqueue(
        tx,
        &NewJob {
            key: format!("{run_id}:disc:{len}"),
            run_id: Some(run_id.to_owned()),
            kind: JobKind::Call {
                step_id: "step".into(),
                attempt: 0,
            },
            at_ms: now,
            order_ms: now,
        },
    )?;
    Ok(())
}

/// Memoises a step result. Returns whether the run should be driven on: false when the value
/// was a duplicate or when other parallel steps are still pending (v2 coalescing).
pub(crate) fn complete_step(
    tx: &Connection,
    run: &mut RunRow,
    hash: &str,
    value: &Value,
) -> Result<bool> {
    if !runs::insert_step(tx, &run.id, hash, value)? {
        return Ok(false);
    }
    if let Some(pos) = run.pending.iter().position(|h| h == hash) {
        run.pending.remove(pos);
        runs::set_plan(tx, &run.id, run.force_plan, &run.pending)?;
        return Ok(run.pending.is_empty());
    }
    Ok(true)
}

/// Resumes a paused run with `value` memoised for the pause's step.
pub(crate) fn resume_pause(
    core: &Core,
    tx: &Connection,
    p: &Pause,
    value: Value,
    kind: &str,
    now: i64,
) -> Result<()> {
    let _ = core;
    if !pauses::delete(tx, &p.id)? {
        return Ok(());
    }
    jobs::delete_key(tx, &format!("{}:pt:{}", p.run_id, p.id))?;
    let Some(mut run) = runs::run(tx, &p.run_id)? else {
        return Ok(());
    };
    if run.status != RunStatus::Running {
        return Ok(());
    }
    let Some(hash) = &p.step_hash else {
        return Ok(());
    };
    history(
        tx,
        &run.id,
        now,
        kind,
        Some(hash),
        None,
        None,
        Some(value.clone()),
    )?;
    if complete_step(tx, &mut run, hash, &value)? {
        discover(tx, &run.id, now)?;
    }
    Ok(())
}

/// Ends a run and emits `inngest/function.finished` (plus `.failed` or `.cancelled`).
pub(crate) fn finalize(
    core: &Core,
    tx: &Connection,
    run: &RunRow,
    status: RunStatus,
    output: Option<&Value>,
    error: Option<&Value>,
    now: i64,
) -> Result<()> {
    if !runs::finish(tx, &run.id, status, output, error, now)? {
        return Ok(());
    }
    jobs::delete_run_jobs(tx, &run.id)?;
    pauses::delete_run(tx, &run.id)?;
    let kind = match status {
        RunStatus::Completed => "FunctionCompleted",
        RunStatus::Failed => "FunctionFailed",
        RunStatus::Cancelled => "FunctionCancelled",
        RunStatus::Running => "FunctionRunning",
    };
    history(
        tx,
        &run.id,
        now,
        kind,
        None,
        None,
        None,
        output.or(error).cloned(),
    )?;
    tracing::debug!(target: "nestling_engine::run", run_id = %run.id, status = status.as_str(), "run ended");
    let _ = core.endings.send((run.id.clone(), status));

    if run.meta.lifecycle {
        return Ok(());
    }
    let evs = events::events(tx, &run.event_ids)?;
    let bodies: Vec<Value> = evs.iter().map(|e| e.body.clone()).collect();
    let mut data = json!({
        "function_id": run.function_slug,
        "run_id": run.id,
        "event": bodies.first().cloned().unwrap_or(Value::Null),
        "events": bodies,
        "_inngest": {"status": status.as_str()},
    });
    if let Some(o) = output {
        data["result"] = o.clone();
    }
    if let Some(e) = error {
        data["error"] = e.clone();
    }
    if let Some(c) = &run.meta.correlation_id {
        data["correlation_id"] = Value::String(c.clone());
    }

    let finished = json!({"name": FN_FINISHED, "data": data.clone(), "ts": now});
    let id = core.ulid();
    ingest::ingest(core, tx, finished, id, now)?;
    let extra = match status {
        RunStatus::Failed => Some(FN_FAILED),
        RunStatus::Cancelled => Some(FN_CANCELLED),
        _ => None,
    };
    if let Some(name) = extra {
        let mut d = data;
        d.as_object_mut().map(|m| m.remove("correlation_id"));
        let ev = json!({"name": name, "data": d, "ts": now, "id": run.id});
        let id = core.ulid();
        ingest::ingest(core, tx, ev, id, now)?;
    }
    Ok(())
}

/// Cancels a running run.
pub(crate) fn cancel(
    core: &Core,
    tx: &Connection,
    run: &RunRow,
    reason: Value,
    now: i64,
) -> Result<()> {
    finalize(
        core,
        tx,
        run,
        RunStatus::Cancelled,
        None,
        Some(&reason),
        now,
    )
}

/// Milliseconds of a timeout option: a time string, an RFC 3339 instant, or empty for now.
pub(crate) fn timeout_at(
    core: &Core,
    text: Option<&str>,
    default_ms: i64,
    now: i64,
) -> Result<i64, String> {
    match text.map(str::trim) {
        None => Ok(now + default_ms),
        Some("") => Ok(now),
        Some(t) => {
            if t.len() >= 10
                && let Some(at) = crate::clock::parse_instant(t)
            {
                return Ok(core.clock.until(now, at));
            }
            parse_duration(t).map(|d| now + core.clock.scaled(d))
        }
    }
}

/// Default invoke / cancel lifetime.
pub(crate) const DEFAULT_PAUSE_MS: i64 = YEAR_MS;
