//! The Nestling app that `bench/run` measures, in three modes:
//!
//! - `bench-app serve`: serves the benchmark's functions at `/api/inngest` (row a, and the idle
//!   memory of row c). Run it in dev mode with a base URL nobody listens on
//!   (`INNGEST_DEV=1 INNGEST_BASE_URL=http://127.0.0.1:9`), as the JS app is run: answering a
//!   replay request then makes no outbound call.
//! - `bench-app drive SEQUENTIAL LOADED IN_FLIGHT SECONDS`: the same app, plus a driver that
//!   sends `bench/three` events through its `InngestService` and times the runs (row b): first
//!   `SEQUENTIAL` runs one at a time, then up to `LOADED` runs with `IN_FLIGHT` at a time for at
//!   most `SECONDS`. Without `INNGEST_DEV` the module starts the embedded engine
//!   (`NESTLING_ENGINE_ADDR`, `NESTLING_ENGINE_DB`); with it, the app uses the server at
//!   `INNGEST_BASE_URL`.
//! - `bench-app boot`: starts the 100-module, 200-provider graph on a free port and exits once it
//!   listens (row c).
//!
//! Each mode prints JSON lines on stdout: `{"event":"listening","port":N,"pid":N,...}` once the
//! app listens, and `drive` then `{"event":"result",...}`. Env: `BENCH_PORT` (default 0, any
//! free port; `PORT` is the Inngest module's serve port), `WORKERS` (tokio worker threads, default one per core).

mod drive;
mod functions;
mod graph;

use std::time::Duration;

use nestling::{Import, Module, ModuleDef, NestlingApplication, Provider, ServerHandle};
use nestling_inngest::{InngestModule, InngestModuleOptions, InngestService};
use serde_json::{Value, json};

use crate::functions::{BenchService, COMPLETIONS};

/// The app id, the same as the JS app's, so that the function ids match
/// (`bench-app-perf-steps-11`).
const APP_ID: &str = "bench-app";

/// The root module of the served app.
#[derive(Debug)]
struct AppModule;

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(InngestModuleOptions::new(APP_ID)))
            .provider(Provider::class::<BenchService>())
    }
}

#[expect(
    clippy::print_stdout,
    reason = "the harness reads these lines from stdout"
)]
fn say(line: &Value) {
    println!("{line}");
}

/// Resident and peak resident memory of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn listening(server: &ServerHandle, extra: Value) {
    let (rss, _) = memory_kib();
    let mut line = json!({
        "event": "listening",
        "port": server.local_addr().port(),
        "pid": std::process::id(),
        "appId": APP_ID,
        "rss_kib": rss,
    });
    if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), extra) {
        line.extend(extra);
    }
    say(&line);
}

fn bind_addr() -> String {
    let port = std::env::var("BENCH_PORT").unwrap_or_else(|_| "0".to_owned());
    format!("127.0.0.1:{port}")
}

/// Creates the application of `root` and starts it on `BENCH_PORT`.
async fn start(root: impl Into<Import>) -> Result<ServerHandle, String> {
    let app = NestlingApplication::create(root)
        .await
        .map_err(|err| err.to_string())?;

    app.start(bind_addr()).await.map_err(|err| err.to_string())
}

async fn serve() -> Result<(), String> {
    let server = start(AppModule).await?;
    listening(&server, json!({}));

    server.wait().await.map_err(|err| err.to_string())
}

fn number(args: &[String], index: usize, name: &str) -> Result<usize, String> {
    let value = args.get(index).ok_or_else(|| {
        format!(
            "drive: missing {name} (usage: bench-app drive SEQUENTIAL LOADED IN_FLIGHT SECONDS)"
        )
    })?;
    value
        .parse()
        .map_err(|err| format!("drive: {name} must be a whole number, got {value:?}: {err}"))
}

async fn drive(args: &[String]) -> Result<(), String> {
    let sequential = number(args, 0, "SEQUENTIAL")?;
    let loaded = number(args, 1, "LOADED")?;
    let in_flight = number(args, 2, "IN_FLIGHT")?.max(1);
    let seconds = number(args, 3, "SECONDS")?;

    let (completions, receiver) = tokio::sync::mpsc::unbounded_channel();
    COMPLETIONS
        .set(completions)
        .map_err(|_| "drive: the completion channel was already set".to_owned())?;

    let server = start(AppModule).await?;
    listening(&server, json!({}));
    let inngest = server.context().get::<dyn InngestService>();
    let mut driver = drive::Driver::new(inngest, receiver);

    let budget = Duration::from_secs(seconds as u64);
    let warmup = driver.phase(5, 1, budget).await?;
    let one = driver.phase(sequential, 1, budget).await?;
    let many = driver.phase(loaded, in_flight, budget).await?;
    let (rss, hwm) = memory_kib();
    say(&json!({
        "event": "result",
        "warmup": warmup,
        "sequential": one,
        "loaded": many,
        "rss_kib": rss,
        "hwm_kib": hwm,
    }));

    server.close().await.map_err(|err| err.to_string())
}

async fn boot() -> Result<(), String> {
    let server = start(graph::ROOT).await?;
    // Resolving the leaf proves the whole chain was built: it injects its predecessor, which
    // injects its own, down to the first module.
    let _leaf = server.context().get::<graph::Leaf>();
    listening(
        &server,
        json!({ "modules": graph::MODULE_COUNT, "leaf": std::any::type_name::<graph::Leaf>() }),
    );

    server.close().await.map_err(|err| err.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok()) {
        runtime.worker_threads(workers);
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("bench-app: cannot start the tokio runtime: {err}");
            std::process::exit(1);
        }
    };

    let outcome = runtime.block_on(async {
        match args.first().map(String::as_str) {
            None | Some("serve") => serve().await,
            Some("drive") => drive(&args[1..]).await,
            Some("boot") => boot().await,
            Some(other) => Err(format!(
                "unknown mode {other:?}: expected serve, drive or boot"
            )),
        }
    });
    if let Err(err) = outcome {
        eprintln!("bench-app: {err}");
        std::process::exit(1);
    }
}
