//! `example-basic` on the real Inngest dev server and on its embedded engine, side by side.
//!
//! The example's own binary runs twice, as a user runs it: once with `INNGEST_DEV=1` and
//! `INNGEST_BASE_URL` pointing at a real `inngest dev` (built by `scripts/setup`), once with
//! nothing configured, so that it starts the embedded Nestling engine (on a port chosen here
//! through `NESTLING_ENGINE_ADDR`). Each copy registers itself with its server; the test sends
//! the same `user.created` event to both and compares the two runs: status, output and steps
//! (hashed id, name, kind, outcome, attempts), read from each server's API.
//!
//! Normalised, because each server mints its own: the id of the follow-up event the run sends,
//! which is part of the run's output. Nothing else.

#[path = "../../../engine/tests/common/inngest_dev.rs"]
mod inngest_dev;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use inngest_dev::{Api, DevServer, RunRecord, ServerKind, differences, free_port};
use serde_json::json;

const FUNCTION: &str = "basic-app-welcome-new-user";

/// The example's binary on a free port; killed when dropped.
struct Example {
    child: Child,
    log: PathBuf,
}

impl Example {
    /// Starts the binary with these variables set (and the Inngest ones not listed removed, so
    /// that the environment of the test run cannot change which server the example uses).
    fn start(vars: &[(&str, String)]) -> Result<Self, String> {
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!(
            "nestling-example-basic-{}-{port}.log",
            std::process::id()
        ));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;

        let mut command = Command::new(env!("CARGO_BIN_EXE_example-basic"));
        for name in [
            "INNGEST_DEV",
            "INNGEST_BASE_URL",
            "INNGEST_SIGNING_KEY",
            "INNGEST_MODE",
            "NESTLING_ENGINE_DB",
        ] {
            command.env_remove(name);
        }
        command
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command
            .spawn()
            .map_err(|e| format!("starting example-basic failed: {e}"))?;
        Ok(Self { child, log })
    }

    fn log_tail(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The engine's SQLite files, removed when dropped.
struct Database(PathBuf);

impl Drop for Database {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Waits for the example's registration, sends one `user.created` and reads the run.
async fn welcome_run(api: &Api) -> Result<RunRecord, String> {
    api.wait_for_function(FUNCTION).await?;
    let user = json!({"user_id": "user-differential", "email": "ada@example.com"});
    let event = api.send_one("user.created", user).await?;
    let run = api.run_of(&event).await?;
    let mut record = api.record(&run).await?;

    let follow_up = &record.output["follow_up_event"];
    if follow_up.as_str().is_none_or(str::is_empty) {
        return Err(format!(
            "the run on {} returned no follow-up event id: {}",
            api.kind.name(),
            record.output
        ));
    }
    record.output["follow_up_event"] = json!("<event id>");
    Ok(record)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_welcome_run_is_the_same_on_inngest_dev_and_on_the_embedded_engine() {
    let dev = DevServer::start().await.unwrap_or_else(|e| panic!("{e}"));
    let on_dev = Example::start(&[
        ("INNGEST_DEV", "1".to_owned()),
        ("INNGEST_BASE_URL", dev.url().to_owned()),
    ])
    .unwrap_or_else(|e| panic!("{e}"));

    // A database of its own: the example's default (`.nestling/basic-app.sqlite`) keeps the
    // app URL of the last process that used it, and until the new process has synced, a run
    // started meanwhile is sent to that stale URL and waits for its retry.
    let engine_port = free_port().unwrap_or_else(|e| panic!("{e}"));
    let database = std::env::temp_dir().join(format!(
        "nestling-example-basic-{}-{engine_port}.sqlite",
        std::process::id()
    ));
    let _database = Database(database.clone());
    let on_engine = Example::start(&[
        ("NESTLING_ENGINE_ADDR", format!("127.0.0.1:{engine_port}")),
        ("NESTLING_ENGINE_DB", database.display().to_string()),
    ])
    .unwrap_or_else(|e| panic!("{e}"));

    let dev_api = Api::new(ServerKind::InngestDev, dev.url()).unwrap_or_else(|e| panic!("{e}"));
    let engine_api = Api::new(
        ServerKind::Nestling,
        &format!("http://127.0.0.1:{engine_port}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (dev_run, engine_run) = tokio::join!(welcome_run(&dev_api), welcome_run(&engine_api));
    let logs = |app: &Example| {
        format!(
            "the example's log:\n{}\ninngest dev's log:\n{}",
            app.log_tail(),
            dev.log_tail()
        )
    };
    let dev_run = match dev_run {
        Ok(run) => run,
        Err(e) => panic!("on inngest dev: {e}\n{}", logs(&on_dev)),
    };
    let engine_run = match engine_run {
        Ok(run) => run,
        Err(e) => panic!("on the engine: {e}\n{}", logs(&on_engine)),
    };

    let found = differences(&dev_run, &engine_run, false);
    assert!(
        found.is_empty(),
        "the welcome run differs between inngest dev and the embedded engine:\n- {}",
        found.join("\n- ")
    );

    // Agreement on nothing would pass the comparison; the run must be the example's.
    assert_eq!(engine_run.status, "Completed", "{engine_run:?}");
    assert_eq!(
        engine_run.output,
        json!({
            "user_id": "user-differential",
            "email_sent": true,
            "profile_id": "profile-user-differential",
            "follow_up_event": "<event id>"
        })
    );
    let names: Vec<&str> = engine_run.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "send-welcome-email",
            "create-user-profile",
            "schedule-follow-up"
        ],
        "{engine_run:?}"
    );
}
