//! A cron-triggered function end to end: a real engine (loopback HTTP, a SQLite file) and the
//! hand-written protocol app of `common/`, with the engine's clock moved forward
//! ([`EngineHandle::advance_clock`]) instead of waiting for the tick.
//!
//! The schedule is chosen so that its next tick is 11 to 12 hours away, and the test moves the
//! clock just past it: the engine must start exactly one run, stamped with that tick, and
//! queue the next one, which a second move of the clock fires in turn. Nothing runs before the
//! clock reaches a tick.

mod common;

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use common::{AppFn, TestApp, get_json, temp_db};
use nestling_engine::{Engine, EngineConfig, EngineHandle, RunStatus, RunSummary};
use serde_json::{Value, json};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::TryRecvError;

const WAIT: Duration = Duration::from_secs(20);

/// The first instant after `now` at `hour`:00:00 UTC.
fn next_tick(now: DateTime<Utc>, hour: u32) -> DateTime<Utc> {
    let today = now
        .date_naive()
        .and_hms_opt(hour, 0, 0)
        .expect("an hour of the day")
        .and_utc();
    if today > now {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// The next run that ends, within [`WAIT`].
async fn next_ending(
    engine: &EngineHandle,
    endings: &mut Receiver<(String, RunStatus)>,
) -> RunSummary {
    let (run_id, status) = tokio::time::timeout(WAIT, endings.recv())
        .await
        .unwrap_or_else(|_| panic!("no run ended within {WAIT:?} of moving the clock"))
        .expect("the engine announces run endings");
    assert_eq!(status, RunStatus::Completed, "run {run_id}");
    engine.run(&run_id).unwrap().expect("the run exists")
}

/// The event that started a run, as `GET /v1/events/{id}` shows it.
async fn trigger_of(engine: &EngineHandle, run: &RunSummary) -> Value {
    let id = run.event_ids.first().expect("a run has its trigger event");
    get_json(format!("{}/v1/events/{id}", engine.url())).await["data"].take()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_function_runs_on_each_tick_the_clock_reaches() {
    let config = EngineConfig::default()
        .with_bind("127.0.0.1:0".parse().unwrap())
        .with_database(temp_db("cron"))
        .with_poll_interval(None);
    let engine = Engine::start(config).await.unwrap();

    // A daily tick half a day from now, so that no tick falls in the test's own run time.
    let hour = (Utc::now().hour() + 12) % 24;
    let cron = format!("0 {hour} * * *");
    let nightly = AppFn::new("nightly", "unused/event", |ctx| {
        Ok(json!({"name": ctx.event["name"], "cron": ctx.event["data"]["cron"]}))
    })
    .with("triggers", json!([{ "cron": cron }]));
    let app = TestApp::start("app", &engine.url(), vec![nightly]).await;
    let mut endings = engine.run_endings();
    assert!(engine.sync_app(&app.url).await.unwrap().modified);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        matches!(endings.try_recv(), Err(TryRecvError::Empty)),
        "a run ended before the clock reached the tick"
    );
    assert!(app.calls().is_empty(), "the app was called before the tick");

    // Just past the first tick: one run, started by the scheduled event of that tick.
    let now = Utc::now();
    let first = next_tick(now, hour);
    engine.advance_clock((first - now).to_std().unwrap() + Duration::from_secs(2));
    let run = next_ending(&engine, &mut endings).await;
    assert_eq!(run.function, "app-nightly");
    assert_eq!(
        run.output,
        Some(json!({"name": "inngest/scheduled.timer", "cron": cron}))
    );
    let event = trigger_of(&engine, &run).await;
    assert_eq!(event["name"], "inngest/scheduled.timer", "{event}");
    assert_eq!(event["ts"], first.timestamp_millis(), "{event}");
    assert_eq!(
        event["id"],
        first.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "{event}"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        matches!(endings.try_recv(), Err(TryRecvError::Empty)),
        "a second run ended although the clock has not reached the next tick"
    );

    // A day later: the tick after it, queued when the first one fired.
    engine.advance_clock(Duration::from_secs(24 * 3600));
    let second = next_ending(&engine, &mut endings).await;
    let event = trigger_of(&engine, &second).await;
    let tick = first + chrono::Duration::days(1);
    assert_eq!(event["ts"], tick.timestamp_millis(), "{event}");
    assert_ne!(second.id, run.id);
    assert_eq!(app.calls().len(), 2, "one call per tick's run");

    engine.shutdown().await;
}
