//! The real Inngest dev server as a child process, and one account of a finished run that both
//! it and the Nestling engine can give, so that a test can set the two side by side.
//!
//! Several test crates include this file with `#[path]` (the engine's differential and JS SDK
//! tests, the basic example's differential test and the Inngest module's registration test),
//! so that all of them start the dev server the same way and send events and read runs the
//! same way. Nothing here knows either server's
//! internals: the dev server is read through its REST API and the GraphQL API its own UI uses
//! (`/v0/gql`, `run { trace }`), the engine through its REST API and the run page of its UI
//! (`/ui/api/runs/{id}`, which lists the run's history).

#![allow(
    dead_code,
    reason = "each including test uses a different part of this support file"
)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How often the APIs are polled.
pub(crate) const POLL: Duration = Duration::from_millis(150);
/// How long a run must keep its final status before it counts as ended. The dev server retries
/// after 1 s here (`--retry-interval 1`), and while a retry waits it may answer `Failed` once
/// before going back to `Running`; a status that holds longer than the retry gap is final.
const SETTLE: Duration = Duration::from_millis(1500);
/// Numbers the dev server's GETs, so that none is answered from its cache.
static FRESH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// The event key used with both servers (neither checks it in dev mode).
const EVENT_KEY: &str = "differential-test-key";

/// The workspace root: the nearest folder above the including crate that holds `Cargo.lock`.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map_or(manifest.clone(), Path::to_path_buf)
}

/// A port that was free a moment ago (the dev server takes its ports as numbers, so the OS
/// cannot choose them for it; the window between this call and its bind is small).
pub(crate) fn free_port() -> Result<u16, String> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("binding a loopback port failed: {e}"))?;
    socket
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("reading a bound port failed: {e}"))
}

/// The Inngest CLI that `scripts/setup` builds, or why it is not there.
pub(crate) fn inngest_cli() -> Result<PathBuf, String> {
    let cli = workspace_root().join(".tools/bin/inngest");
    if cli.is_file() {
        Ok(cli)
    } else {
        Err(format!(
            "{} is missing: run scripts/setup (scripts/setup.d/inngest-cli builds the Inngest CLI \
             v1.43.0 that this test runs as the real dev server)",
            cli.display()
        ))
    }
}

/// `inngest dev` on free ports; killed when dropped.
pub(crate) struct DevServer {
    child: Child,
    url: String,
    log: PathBuf,
}

impl DevServer {
    /// Starts `inngest dev` with every port it opens chosen here, no app discovery, no polling
    /// of apps, and a 1 s retry interval, then waits until its API answers.
    pub(crate) async fn start() -> Result<Self, String> {
        let cli = inngest_cli()?;
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!(
            "nestling-inngest-dev-{}-{port}.log",
            std::process::id()
        ));
        let out = File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("sharing {}: {e}", log.display()))?;

        let mut command = Command::new(&cli);
        command
            .args([
                "dev",
                "--no-discovery",
                "--no-poll",
                "--retry-interval",
                "1",
            ])
            .args(["-p", &port.to_string()]);
        for flag in [
            "--connect-gateway-port",
            "--connect-gateway-grpc-port",
            "--connect-executor-grpc-port",
        ] {
            command.args([flag, &free_port()?.to_string()]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {} failed: {e}", cli.display()))?;
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };

        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "inngest dev exited with {status} before listening:\n{}",
                    server.log_tail()
                ));
            }
            if http.get(&server.url).send().await.is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "inngest dev did not listen on {} within 30 s:\n{}",
                    server.url,
                    server.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The dev server's origin, e.g. `http://127.0.0.1:40123`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The end of the dev server's log, for failure reports.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Every app the dev server stores, with each function's stored configuration.
    pub(crate) async fn apps(&self) -> Result<Vec<Value>, String> {
        let api = Api::new(ServerKind::InngestDev, &self.url)?;
        let data = api
            .graphql(
                "{ apps { name sdkLanguage url functions { slug name config \
                 failureHandler { slug } triggers { type value condition } } } }",
                &json!({}),
            )
            .await?;
        Ok(data["apps"].as_array().cloned().unwrap_or_default())
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Which server an [`Api`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerKind {
    /// The real `inngest dev`.
    InngestDev,
    /// The Nestling engine.
    Nestling,
}

impl ServerKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::InngestDev => "inngest dev",
            Self::Nestling => "the Nestling engine",
        }
    }
}

/// One step of a run, as both servers can tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepRecord {
    /// The hashed step id the SDK reported (the same on both servers for the same code).
    pub(crate) id: String,
    /// The step's display name.
    pub(crate) name: String,
    /// `RUN`, `SLEEP`, `WAIT_FOR_EVENT` or `INVOKE`, as the dev server names them; `None` when
    /// the step's last attempt ended in an error, which does not say what kind of step it was.
    pub(crate) op: Option<String>,
    /// `completed`, `failed`, or (seen only on the dev server) `running`.
    pub(crate) outcome: String,
    /// How many times the step's body ran (retries included).
    pub(crate) attempts: usize,
    /// Whether a wait or an invoke ended by its timeout.
    pub(crate) timed_out: bool,
}

impl std::fmt::Display for StepRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = self.op.as_deref().unwrap_or("-");
        write!(
            f,
            "{} {op} {} x{}{} [{}]",
            self.name,
            self.outcome,
            self.attempts,
            if self.timed_out { " timed out" } else { "" },
            &self.id[..self.id.len().min(8)]
        )
    }
}

/// A finished run: its status, output and steps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunRecord {
    /// The run id (differs between servers; never compared).
    pub(crate) run_id: String,
    /// `Completed`, `Failed` or `Cancelled`.
    pub(crate) status: String,
    /// The return value, or the error of a failed run.
    pub(crate) output: Value,
    /// The steps in the order they first ran.
    pub(crate) steps: Vec<StepRecord>,
}

/// The REST (and, for the dev server, GraphQL) API of one server.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    /// Which server this is.
    pub(crate) kind: ServerKind,
    /// Its origin.
    pub(crate) base: String,
    http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(kind: ServerKind, base: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("building an HTTP client failed: {e}"))?;
        Ok(Self {
            kind,
            base: base.trim_end_matches('/').to_owned(),
            http,
        })
    }

    async fn call(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value, String> {
        let server = self.kind.name();
        let resp = request
            .send()
            .await
            .map_err(|e| format!("{what} on {server}: {e}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("{what} on {server}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{what} on {server} answered {status}: {text}"));
        }
        serde_json::from_str(&text)
            .map_err(|e| format!("{what} on {server} answered invalid JSON ({e}): {text}"))
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Value, String> {
        let mut url = format!("{}{path}", self.base);
        if self.kind == ServerKind::InngestDev {
            // The dev server caches its REST answers by URL (`/v1/events/{id}/runs` for 15 s,
            // `/v1/runs/{id}` for 3 s), so a poll would see a run late, or see a status that
            // has already changed; a query parameter it ignores makes each URL new.
            let fresh = FRESH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let separator = if path.contains('?') { '&' } else { '?' };
            url.push_str(&format!("{separator}fresh={fresh}"));
        }
        self.call(self.http.get(&url), &format!("GET {path}")).await
    }

    /// A GET on another origin (the app's), with this client.
    pub(crate) async fn get_absolute(&self, url: &str) -> Result<Value, String> {
        self.call(self.http.get(url), &format!("GET {url}")).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        self.call(self.http.post(&url).json(body), &format!("POST {path}"))
            .await
    }

    /// A GraphQL query on the dev server's `/v0/gql`; its `data`, or its errors.
    pub(crate) async fn graphql(&self, query: &str, variables: &Value) -> Result<Value, String> {
        let answer = self
            .post(
                "/v0/gql",
                &json!({ "query": query, "variables": variables }),
            )
            .await?;
        match answer.get("errors") {
            Some(errors) if !errors.is_null() => {
                Err(format!("the GraphQL API answered errors: {errors}"))
            }
            _ => Ok(answer["data"].clone()),
        }
    }

    /// Sends events through `POST /e/{key}`; returns their ids in order. Both servers answer
    /// `{"ids": [...], "status": 200}` once the events are stored; any other answer (fewer ids,
    /// another status in the body) is an error.
    pub(crate) async fn send(&self, events: Value) -> Result<Vec<String>, String> {
        let answer = self.post(&format!("/e/{EVENT_KEY}"), &events).await?;
        let ids: Vec<String> = answer["ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let sent = events.as_array().map_or(1, Vec::len);
        if ids.len() != sent || answer["status"] != json!(200) {
            return Err(format!(
                "the event API of {} answered {answer} for {sent} event(s)",
                self.kind.name()
            ));
        }
        Ok(ids)
    }

    /// Sends one event; returns its id.
    pub(crate) async fn send_one(&self, name: &str, data: Value) -> Result<String, String> {
        let mut ids = self.send(json!([{ "name": name, "data": data }])).await?;
        Ok(ids.remove(0))
    }

    /// The one run an event started, once it exists.
    pub(crate) async fn run_of(&self, event_id: &str) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let runs = self.get(&format!("/v1/events/{event_id}/runs")).await?;
            match runs["data"].as_array().map(Vec::as_slice) {
                Some([run]) => {
                    return run["run_id"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("a run without run_id: {run}"));
                }
                Some([]) | None => {}
                Some(more) => {
                    return Err(format!(
                        "event {event_id} started {} runs on {}, expected one: {runs}",
                        more.len(),
                        self.kind.name()
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "event {event_id} started no run on {} within 20 s",
                    self.kind.name()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the server lists a function with this slug (`GET /dev`, which both servers
    /// answer with the functions they know), that is until the app's sync has landed.
    pub(crate) async fn wait_for_function(&self, slug: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // A server started by the app under test (the embedded engine) may not be listening
            // yet when the first poll goes out, so an unanswered GET counts as "not yet" until
            // the deadline, like a list without the function.
            let seen = match self.get("/dev").await {
                Ok(dev) => {
                    let known = dev["functions"]
                        .as_array()
                        .is_some_and(|fns| fns.iter().any(|f| f["slug"] == slug));
                    if known {
                        return Ok(());
                    }
                    format!("it lists {}", dev["functions"])
                }
                Err(e) => format!("the last poll failed: {e}"),
            };
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not list function {slug} within 30 s; {seen}",
                    self.kind.name()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The run as `GET /v1/runs/{id}` shows it.
    pub(crate) async fn run(&self, run_id: &str) -> Result<Value, String> {
        Ok(self.get(&format!("/v1/runs/{run_id}")).await?["data"].take())
    }

    /// The run once it has ended: its status is final and has held for [`SETTLE`].
    pub(crate) async fn finished(&self, run_id: &str) -> Result<Value, String> {
        let deadline = Instant::now() + Duration::from_secs(45);
        let mut ended: Option<(String, Instant)> = None;
        loop {
            let run = self.run(run_id).await?;
            let status = run["status"].as_str().unwrap_or_default().to_owned();
            let terminal = matches!(status.as_str(), "Completed" | "Failed" | "Cancelled");
            ended = match ended {
                Some((seen, since)) if terminal && seen == status => {
                    if since.elapsed() >= SETTLE {
                        return Ok(run);
                    }
                    Some((seen, since))
                }
                _ if terminal => Some((status, Instant::now())),
                _ => None,
            };
            if Instant::now() > deadline {
                return Err(format!(
                    "run {run_id} on {} did not end within 45 s: {run}",
                    self.kind.name()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the run to end, then reads its status, output and steps.
    pub(crate) async fn record(&self, run_id: &str) -> Result<RunRecord, String> {
        let run = self.finished(run_id).await?;
        self.account(run_id, &run, true).await
    }

    /// The run's status, output and steps as they are now, ended or not.
    pub(crate) async fn current(&self, run_id: &str) -> Result<RunRecord, String> {
        let run = self.run(run_id).await?;
        self.account(run_id, &run, false).await
    }

    async fn account(&self, run_id: &str, run: &Value, ended: bool) -> Result<RunRecord, String> {
        let status = run["status"].as_str().unwrap_or_default().to_owned();
        match self.kind {
            ServerKind::InngestDev => self.dev_record(run_id, status, run, ended).await,
            ServerKind::Nestling => self.engine_record(run_id, status, run).await,
        }
    }

    /// The dev server's account. Its trace is written apart from the run's state and can lag
    /// behind it (a wait's span still `WAITING` in a run that has completed), so for an ended
    /// run the trace is read until it is terminal and two reads agree, for at most 5 s.
    async fn dev_record(
        &self,
        run_id: &str,
        status: String,
        rest: &Value,
        ended: bool,
    ) -> Result<RunRecord, String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut previous: Option<Vec<StepRecord>> = None;
        loop {
            let data = self
                .graphql(
                    "query($id: String!) { run(runID: $id) { status output trace { \
                     name status stepOp stepID childrenSpans { name status stepOp stepID \
                     stepInfo { __typename ... on WaitForEventStepInfo { timedOut } \
                     ... on InvokeStepInfo { timedOut } } \
                     childrenSpans { name status } } } } }",
                    &json!({ "id": run_id }),
                )
                .await?;
            let run = &data["run"];
            let steps: Vec<StepRecord> = run["trace"]["childrenSpans"]
                .as_array()
                .map(|spans| spans.iter().filter_map(dev_step).collect())
                .unwrap_or_default();

            let root_ended = matches!(
                run["trace"]["status"].as_str(),
                Some("COMPLETED" | "FAILED" | "CANCELLED")
            );
            let steps_ended = status != "Completed"
                || steps
                    .iter()
                    .all(|s| s.outcome == "completed" || s.outcome == "failed");
            let settled = root_ended && steps_ended && previous.as_ref() == Some(&steps);
            if !ended || settled || Instant::now() > deadline {
                return Ok(RunRecord {
                    run_id: run_id.to_owned(),
                    status,
                    output: dev_output(rest, run),
                    steps,
                });
            }
            previous = Some(steps);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn engine_record(
        &self,
        run_id: &str,
        status: String,
        rest: &Value,
    ) -> Result<RunRecord, String> {
        let detail = self.get(&format!("/ui/api/runs/{run_id}")).await?;
        let history = detail["history"].as_array().cloned().unwrap_or_default();
        Ok(RunRecord {
            run_id: run_id.to_owned(),
            status,
            output: rest["output"].clone(),
            steps: engine_steps(&history),
        })
    }
}

/// The dev server's output of a run. Its REST API answers `""` for a run that ended with a
/// `RunComplete` op (the JS SDK v4 ends a checkpointed run so); its GraphQL API then holds the
/// op list itself as the output, and the value is that op's `data`.
fn dev_output(rest: &Value, graphql_run: &Value) -> Value {
    if rest["output"] != json!("") {
        return rest["output"].clone();
    }
    let stored = graphql_run["output"].as_str().unwrap_or_default();
    let parsed: Value = serde_json::from_str(stored).unwrap_or(Value::Null);
    match parsed.as_array().map(Vec::as_slice) {
        Some([op]) if op["op"] == "RunComplete" => op["data"].clone(),
        _ => parsed,
    }
}

/// One step span of the dev server's trace. Spans without a step id are the function's own
/// (`function success`, `function error`, `execute`), not steps.
fn dev_step(span: &Value) -> Option<StepRecord> {
    let id = span["stepID"].as_str().filter(|id| !id.is_empty())?;
    let attempts = span["childrenSpans"].as_array().map_or(1, |children| {
        // The dev server opens a span for a retry it has queued; an attempt that never ran
        // (the run ended first) did not execute the body.
        let ran = children.iter().filter(|c| c["status"] != "QUEUED").count();
        ran.max(1)
    });
    let info = &span["stepInfo"];
    Some(StepRecord {
        id: id.to_owned(),
        name: span["name"].as_str().unwrap_or_default().to_owned(),
        op: span["stepOp"].as_str().map(str::to_owned),
        outcome: span["status"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        attempts,
        timed_out: info["timedOut"] == true,
    })
}

/// The steps of a run from the engine's history, in the order they first appear. Planning rows
/// (`StepPlanned`) and call failures outside any step (`CallFailed`) are not steps.
fn engine_steps(history: &[Value]) -> Vec<StepRecord> {
    let mut steps: Vec<StepRecord> = Vec::new();
    for row in history {
        let kind = row["kind"].as_str().unwrap_or_default();
        let Some(hash) = row["step_hash"].as_str() else {
            continue;
        };
        if matches!(kind, "StepPlanned" | "CallFailed") {
            continue;
        }
        let index = match steps.iter().position(|s| s.id == hash) {
            Some(index) => index,
            None => {
                steps.push(StepRecord {
                    id: hash.to_owned(),
                    name: String::new(),
                    op: None,
                    outcome: "running".to_owned(),
                    attempts: 0,
                    timed_out: false,
                });
                steps.len() - 1
            }
        };
        let step = &mut steps[index];
        if let Some(name) = row["name"].as_str() {
            step.name = name.to_owned();
        }
        let (op, outcome, attempt) = match kind {
            "StepCompleted" => (Some("RUN"), "completed", 1),
            "StepErrored" | "StepFailed" => (None, "failed", 1),
            "Sleeping" => (Some("SLEEP"), "running", 1),
            "SleepEnded" => (Some("SLEEP"), "completed", 0),
            "Waiting" => (Some("WAIT_FOR_EVENT"), "running", 1),
            "WaitMatched" => (Some("WAIT_FOR_EVENT"), "completed", 0),
            "WaitTimedOut" => {
                step.timed_out = true;
                (Some("WAIT_FOR_EVENT"), "completed", 0)
            }
            "Invoking" => (Some("INVOKE"), "running", 1),
            "InvokeFinished" if row["data"].get("error").is_some_and(|e| !e.is_null()) => {
                (Some("INVOKE"), "failed", 0)
            }
            "InvokeFinished" => (Some("INVOKE"), "completed", 0),
            "InvokeTimedOut" => {
                step.timed_out = true;
                (Some("INVOKE"), "failed", 0)
            }
            other => (step.op.as_deref(), other, 0),
        };
        step.op = op.map(str::to_owned);
        step.outcome = outcome.to_owned();
        step.attempts += attempt;
    }
    steps
}

/// Describes how two accounts of the same run differ; empty when they agree. `unordered` is
/// for steps that ran in parallel, whose order is the order the SDK's calls happened to land.
pub(crate) fn differences(dev: &RunRecord, engine: &RunRecord, unordered: bool) -> Vec<String> {
    let mut found = Vec::new();
    if dev.status != engine.status {
        found.push(format!(
            "status: inngest dev {}, engine {}",
            dev.status, engine.status
        ));
    }
    if dev.output != engine.output {
        found.push(format!(
            "output: inngest dev {}, engine {}",
            dev.output, engine.output
        ));
    }

    let sorted = |steps: &[StepRecord]| {
        let mut steps = steps.to_vec();
        if unordered {
            steps.sort_by(|a, b| a.id.cmp(&b.id));
        }
        steps
    };
    let (dev_steps, engine_steps) = (sorted(&dev.steps), sorted(&engine.steps));
    if dev_steps != engine_steps {
        let list = |steps: &[StepRecord]| {
            steps
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        found.push(format!(
            "steps: inngest dev [{}], engine [{}]",
            list(&dev_steps),
            list(&engine_steps)
        ));
    }
    found
}
