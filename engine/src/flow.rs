//! Flow control at run creation: batching, debounce, idempotency, rate limits, singleton and
//! throttle. Concurrency limits and priority act later, when calls are picked from the queue
//! (see the scheduler).

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::core::Core;
use crate::error::Result;
use crate::function::FunctionDef;
use crate::lifecycle::{self, StartOptions};
use crate::store::flow::{self as state, Buffer};
use crate::store::{EventRow, JobKind, NewJob, RunMeta, events, jobs, runs};

const DAY_MS: i64 = 24 * 3600 * 1000;

fn eval_key(core: &Core, src: Option<&str>, event: &Value) -> String {
    src.map(|s| core.exprs.key(s, &[("event", event)]).unwrap_or_default())
        .unwrap_or_default()
}

/// Routes a triggering event through batching and debounce, then [`admit`].
pub(crate) fn schedule(
    core: &Core,
    tx: &Connection,
    f: &FunctionDef,
    event: EventRow,
    now: i64,
    opts: StartOptions,
) -> Result<()> {
    if let Some(b) = &f.batch {
        let batched = b
            .condition
            .as_deref()
            .is_none_or(|c| core.exprs.truthy(c, &[("event", &event.body)]));
        if batched {
            let scope = format!(
                "batch:{}:{}",
                f.id,
                eval_key(core, b.key.as_deref(), &event.body)
            );
            let timeout =
                FunctionDef::duration(Some(&b.timeout)).map_or(60_000, |d| core.clock.scaled(d));
            let mut buf = state::buffer(tx, &scope)?.unwrap_or(Buffer {
                scope: scope.clone(),
                function_id: f.id.clone(),
                event_ids: Vec::new(),
                first_ms: now,
                deadline_ms: now + timeout,
            });
            buf.event_ids.push(event.id);
            if buf.event_ids.len() as u32 >= b.max_size {
                state::delete_buffer(tx, &scope)?;
                jobs::delete_key(tx, &format!("{scope}:flush"))?;
                let evs = events::events(tx, &buf.event_ids)?;
                let opts = StartOptions {
                    batch_id: Some(core.ulid()),
                    ..opts
                };
                return admit(core, tx, f, evs, now, opts);
            }
            state::put_buffer(tx, "batch", &buf)?;
            jobs::enqueue(
                tx,
                &NewJob {
                    key: format!("{scope}:flush"),
                    run_id: None,
                    kind: JobKind::Batch { scope },
                    at_ms: buf.deadline_ms,
                    order_ms: buf.deadline_ms,
                },
            )?;
            return Ok(());
        }
    }

    if let Some(d) = &f.debounce {
        let scope = format!(
            "debounce:{}:{}",
            f.id,
            eval_key(core, d.key.as_deref(), &event.body)
        );
        let period = FunctionDef::duration(Some(&d.period)).map_or(0, |p| core.clock.scaled(p));
        let prior = state::buffer(tx, &scope)?;
        let first = prior.as_ref().map_or(now, |b| b.first_ms);
        let mut deadline = now + period;
        if let Some(t) = FunctionDef::duration(d.timeout.as_deref()) {
            deadline = deadline.min(first + core.clock.scaled(t));
        }
        let buf = Buffer {
            scope: scope.clone(),
            function_id: f.id.clone(),
            event_ids: vec![event.id],
            first_ms: first,
            deadline_ms: deadline,
        };
        state::put_buffer(tx, "debounce", &buf)?;
        let key = format!("{scope}:fire");
        jobs::delete_key(tx, &key)?;
        jobs::enqueue(
            tx,
            &NewJob {
                key,
                run_id: None,
                kind: JobKind::Debounce { scope },
                at_ms: deadline,
                order_ms: deadline,
            },
        )?;
        return Ok(());
    }

    admit(core, tx, f, vec![event], now, opts)
}

/// Fires a debounce or batch buffer whose time is up.
pub(crate) fn flush(core: &Core, tx: &Connection, scope: &str, now: i64) -> Result<()> {
    let Some(buf) = state::buffer(tx, scope)? else {
        return Ok(());
    };
    state::delete_buffer(tx, scope)?;
    let Some(f) = core.function(&buf.function_id)? else {
        return Ok(());
    };
    let evs = events::events(tx, &buf.event_ids)?;
    if evs.is_empty() {
        return Ok(());
    }
    let batch_id = scope.starts_with("batch:").then(|| core.ulid());
    let lifecycle = evs.first().is_some_and(|e| {
        e.name.starts_with(crate::ingest::INTERNAL_PREFIX) && e.name != crate::ingest::FN_INVOKED
    });
    admit(
        core,
        tx,
        &f,
        evs,
        now,
        StartOptions {
            batch_id,
            lifecycle,
            ..StartOptions::default()
        },
    )
}

/// Applies idempotency, rate limit, event-id dedupe, singleton and throttle, then creates the
/// run. Skipped triggers leave no run, as on the server.
pub(crate) fn admit(
    core: &Core,
    tx: &Connection,
    f: &FunctionDef,
    evs: Vec<EventRow>,
    now: i64,
    opts: StartOptions,
) -> Result<()> {
    let Some(first) = evs.first() else {
        return Ok(());
    };
    let event = first.body.clone();

    if let Some(src) = &f.idempotency {
        let key = eval_key(core, Some(src), &event);
        if !state::claim_key(tx, &format!("idem:{}", f.id), &key, now, now + DAY_MS)? {
            tracing::debug!(target: "nestling_engine::flow", function = %f.slug, key, "skipped: idempotency key already used");
            return Ok(());
        }
    } else if let Some(rl) = &f.rate_limit {
        let key = eval_key(core, rl.key.as_deref(), &event);
        let period = FunctionDef::duration(Some(&rl.period)).map_or(0, |d| core.clock.scaled(d));
        let scope = format!("rate:{}:{key}", f.id);
        let mut hits: Vec<i64> = state::limiter(tx, &scope)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        hits.retain(|t| *t > now - period);
        if hits.len() as u32 >= rl.limit {
            tracing::debug!(target: "nestling_engine::flow", function = %f.slug, key, "skipped: rate limit");
            return Ok(());
        }
        hits.push(now);
        state::set_limiter(tx, &scope, &json!(hits))?;
    }

    if opts.external_id
        && let Some(id) = event.get("id").and_then(Value::as_str)
        && !state::claim_key(tx, &format!("evt:{}", f.id), id, now, now + DAY_MS)?
    {
        tracing::debug!(target: "nestling_engine::flow", function = %f.slug, event_id = id, "skipped: event id already started a run");
        return Ok(());
    }

    let mut meta = RunMeta::default();
    if let Some(s) = &f.singleton {
        let key = eval_key(core, s.key.as_deref(), &event);
        let running = runs::running_singletons(tx, &f.id, &key)?;
        if !running.is_empty() {
            if s.mode.as_deref() == Some("cancel") {
                for id in running {
                    if let Some(run) = runs::run(tx, &id)? {
                        let reason = json!({"name": "Cancelled", "message": "cancelled by a newer singleton run"});
                        lifecycle::cancel(core, tx, &run, reason, now)?;
                    }
                }
            } else {
                tracing::debug!(target: "nestling_engine::flow", function = %f.slug, key, "skipped: singleton already running");
                return Ok(());
            }
        }
        meta.singleton = Some(key);
    }

    let mut start_at = now;
    if let Some(t) = &f.throttle {
        let key = eval_key(core, t.key.as_deref(), &event);
        let period = FunctionDef::duration(Some(&t.period)).map_or(0, |d| core.clock.scaled(d));
        let interval = period / i64::from(t.limit.max(1));
        let tolerance = interval * i64::from(t.limit.max(1) - 1 + t.burst.unwrap_or(0));
        let scope = format!("throttle:{}:{key}", f.id);
        let tat = state::limiter(tx, &scope)?
            .and_then(|v| v.as_i64())
            .unwrap_or(now);
        let tat = tat.max(now);
        start_at = (tat - tolerance).max(now);
        state::set_limiter(tx, &scope, &json!(tat.max(start_at) + interval))?;
    }

    lifecycle::create_run(core, tx, f, &evs, start_at, opts, meta, now)?;
    Ok(())
}
