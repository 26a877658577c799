//! End-to-end throughput and latency of the embedded engine with durable storage: a 3-step
//! function served by the hand-written protocol app of `tests/common`, over loopback HTTP,
//! with every event, step and run state in a SQLite file (WAL).
//!
//! `cargo bench -p nestling-engine` prints runs per second and event-to-completion latency
//! (p50, p99), measured from the event API call until the engine announces the run's end.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{AppFn, TestApp, temp_db};
use nestling_engine::{Engine, EngineConfig, EngineHandle, RunStatus};
use serde_json::{Value, json};

fn three_steps() -> AppFn {
    AppFn::new("bench", "bench/run", |ctx| {
        let a = ctx.run("a", |_| Ok(json!(1)))?;
        let b = ctx.run("b", |_| Ok(json!(2)))?;
        let c = ctx.run("c", |_| Ok(json!(3)))?;
        Ok(json!([a, b, c]))
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Sends `total` events, at most `in_flight` runs at a time; returns (elapsed, latencies).
async fn drive(engine: &EngineHandle, total: usize, in_flight: usize) -> (Duration, Vec<Duration>) {
    let mut endings = engine.run_endings();
    let mut started: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::with_capacity(total);
    let mut sent = 0;
    let begin = Instant::now();
    let mut run_of_event = HashMap::new();
    while latencies.len() < total {
        while sent < total && started.len() < in_flight {
            let t = Instant::now();
            let id = engine
                .send_events(json!({"name": "bench/run", "data": {"i": sent}}))
                .await
                .unwrap()
                .remove(0);
            let run = engine
                .runs_for_event(&id)
                .unwrap()
                .pop()
                .expect("the event starts a run");
            run_of_event.insert(run.id.clone(), id);
            started.insert(run.id, t);
            sent += 1;
        }
        let (run_id, status) = endings
            .recv()
            .await
            .expect("the engine announces run endings");
        if let Some(t) = started.remove(&run_id) {
            assert_eq!(status, RunStatus::Completed, "run {run_id}");
            latencies.push(t.elapsed());
        }
    }
    (begin.elapsed(), latencies)
}

fn report(label: &str, total: usize, elapsed: Duration, mut lat: Vec<Duration>) {
    lat.sort();
    let rate = total as f64 / elapsed.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    tracing_free_print(format!(
        "{label}: {total} runs in {:.2} s = {rate:.1} runs/s; event-to-completion p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        elapsed.as_secs_f64(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap()),
    ));
}

#[expect(clippy::print_stdout, reason = "a benchmark prints its figures")]
fn tracing_free_print(line: String) {
    println!("{line}");
}

fn main() {
    let quick =
        std::env::args().any(|a| a == "--quick") || std::env::var_os("BENCH_QUICK").is_some();
    let (sequential, loaded) = if quick { (50, 200) } else { (300, 2000) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = temp_db("bench");
        let config = EngineConfig::default()
            .with_bind("127.0.0.1:0".parse().unwrap())
            .with_database(&db)
            .with_poll_interval(None);
        let engine = Engine::start(config).await.unwrap();
        let app = TestApp::start("bench-app", &engine.url(), vec![three_steps()]).await;
        engine.sync_app(&app.url).await.unwrap();

        drive(&engine, 20, 4).await;
        let (elapsed, lat) = drive(&engine, sequential, 1).await;
        report("one run at a time", sequential, elapsed, lat);
        let (elapsed, lat) = drive(&engine, loaded, 64).await;
        report("64 runs in flight", loaded, elapsed, lat);

        let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        tracing_free_print(format!(
            "database {} ({} KiB after {} runs)",
            db.display(),
            size / 1024,
            20 + sequential + loaded
        ));
        let _: Value = Value::Null;
        engine.shutdown().await;
    });
}
