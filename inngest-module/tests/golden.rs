//! Golden tests: every executor → SDK request captured from the official JS SDK
//! (`shared/fixtures/js-sdk/{v3,v4}`) is replayed over real loopback HTTP against the Rust
//! twin of the JS app (`support/golden_app.rs`), and our answer is compared with the JS SDK's:
//! status, decisive headers, ops (op, hashed id, name, display name, opts, data, error),
//! bodies, and what the SDK sent to the API meanwhile (registration JSON, events).
//!
//! JS v4's checkpointed runs (`checkpoint_*`, where one request ran several steps and posted
//! them to `/v1/checkpoint`) are replayed too: we do not checkpoint, so [`CheckpointedRun`]
//! drives such a run one step per request and compares each of our ops with the step JS
//! checkpointed.
//!
//! Where we answer differently on purpose, [`deviation`] says why; nothing else may differ.
//! The only stand-in is the capture server playing the Inngest API, as it did when the fixtures
//! were captured; it answers as the dev server's source does. The real dev server is the judge
//! in `scripts/conformance`.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use nestling_inngest_protocol::canonicalize;
use nestling_inngest_protocol::signature::{mac_hex, sign};
use serde_json::{Map, Value, json};
use support::{AppMode, Capture, Captured, start_capture, start_golden_app};

const PRIMARY: &str =
    "signkey-test-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const FALLBACK: &str =
    "signkey-test-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const WRONG: &str = "signkey-test-deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
const EVENT_KEY: &str = "test-event-key-0123456789";

fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("JS_SDK_FIXTURES") {
        return PathBuf::from(dir);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for base in [manifest.join("../../shared"), manifest.join("../shared")] {
        let dir = base.join("fixtures/js-sdk");
        if dir.is_dir() {
            return dir;
        }
    }
    panic!("the JS SDK fixtures are not found next to the repository (../shared/fixtures/js-sdk)");
}

/// Answers where we differ from the JS SDK on purpose, and why. `what` names the aspect.
fn deviation(version: &str, scenario: &str, index: usize, what: &str) -> Option<&'static str> {
    match (version, scenario, index, what) {
        (_, "sleep" | "checkpoint_sleep", 0, "ops") => Some(
            "the JS SDK formats durations with the `ms` package, which turns \"1h30m\" into an \
             empty name; we send the parsed, normalised \"1h30m\"",
        ),
        ("v3", _, _, "req-version") => Some(
            "v3 answers execution version 1 unless asked for 2; new SDKs must answer 2, as v4 does",
        ),
        ("v3", _, _, "no-retry") | ("v3", _, _, "retry-after") | ("v3", _, _, "status") => Some(
            "v3 leaves final failures to the executor (StepFailed and last-attempt errors with \
             no-retry false, 500); we follow v4, which marks them final (true, 400)",
        ),
        ("v3", _, _, "error-name") => Some(
            "v3 serialises NonRetriableError, RetryAfterError and TypeError as \"Error\"; we \
             keep the class name, as v4 does",
        ),
        ("v3", "request_versions", _, _) => {
            Some("v3 still runs the legacy version 0 protocol; we reject it as v4 does")
        }
        (_, "protocol_errors", 7, "body") => Some(
            "the JS SDK waits 10 s before reporting a requested step it never reached, since it \
             cannot tell when the handler is done; we know when it settles and answer at once, \
             with the same fields",
        ),
        (_, "protocol_errors", 2, "body") => Some(
            "an empty call request gets the JS SDK's 401, with a message saying what is wrong \
             instead of a bare \"Unauthorized\"",
        ),
        ("v3", "register_cloud", 3, "body") => Some(
            "v3 answers an unsigned in-band sync with {\"code\":\"sig_verification_failed\"}; \
             we answer every signature failure as v4 does, {\"message\":\"Unauthorized\"}",
        ),
        (_, "register_cloud", 0, "headers" | "req-version") => Some(
            "the JS SDK strips its identifying headers from an unsigned out-of-band sync reply \
             although it succeeds; we send X-Inngest-SDK on every answer but a 401",
        ),
        ("v4", scenario, _, "run-complete") if scenario.starts_with("checkpoint_") => Some(
            "once JS v4 has chosen checkpointing (the request carries `ctx.fn_id`), it ends the \
             run with 206 and one RunComplete op holding the return value; we answer 200 with \
             the value itself, as v4 does otherwise, and the executor ends the run on either",
        ),
        _ => None,
    }
}

struct Replay {
    version: &'static str,
    scenario: String,
    problems: Vec<String>,
}

impl Replay {
    fn check(&mut self, index: usize, what: &str, ok: bool, detail: impl FnOnce() -> String) {
        if ok || deviation(self.version, &self.scenario, index, what).is_some() {
            return;
        }
        self.problems.push(format!(
            "{} {} #{index} {what}: {}",
            self.version,
            self.scenario,
            detail()
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_every_js_sdk_exchange() {
    let dir = fixtures_dir();
    let mut problems = Vec::new();
    let mut replayed = 0;

    for version in ["v3", "v4"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(version))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();

        for file in files {
            let fixture: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            let scenario = fixture["scenario"].as_str().unwrap().to_owned();
            if scenario.starts_with("events_api") {
                // `inngest.send` from application code, not an executor exchange: the client
                // side is tested by the service's own tests.
                continue;
            }
            let mut replay = Replay {
                version,
                scenario,
                problems: Vec::new(),
            };
            replayed += replay_file(&fixture, &mut replay).await;
            problems.extend(replay.problems);
        }
    }

    assert!(replayed > 150, "only {replayed} exchanges were replayed");
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

async fn replay_file(fixture: &Value, replay: &mut Replay) -> usize {
    let cloud = fixture["mode"] == "cloud";
    let capture = Capture::default();
    for exchange in fixture["exchanges"].as_array().unwrap() {
        let is_event_call = exchange["direction"] == "sdk_to_server"
            && exchange["request"]["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/e/"));
        if is_event_call {
            capture
                .event_replies
                .lock()
                .push_back(exchange["response"]["body"].clone());
        }
    }
    let api = start_capture(capture.clone()).await;
    let mode = if cloud {
        AppMode {
            dev: false,
            signing_key: Some(PRIMARY),
            signing_key_fallback: Some(FALLBACK),
            event_key: Some(EVENT_KEY),
        }
    } else {
        AppMode {
            dev: true,
            signing_key: None,
            signing_key_fallback: None,
            event_key: None,
        }
    };
    let app = start_golden_app(mode, &api).await;
    let client = reqwest::Client::new();
    let exchanges = fixture["exchanges"].as_array().unwrap();
    let reference_t = reference_timestamp(exchanges);

    let mut count = 0;
    for (index, exchange) in exchanges.iter().enumerate() {
        if exchange["direction"] != "executor_to_sdk" {
            continue;
        }
        count += 1;
        let request = &exchange["request"];
        let expected = &exchange["response"];
        let (checkpoints, theirs): (Vec<&Value>, Vec<&Value>) = exchanges
            .iter()
            .filter(|e| e["direction"] == "sdk_to_server" && e["triggered_by"] == json!(index))
            .partition(|e| {
                e["request"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/v1/checkpoint/"))
            });
        let raw = request["body_raw"].as_str().unwrap_or_default();

        let (status, headers, body) = if checkpoints.is_empty() {
            send(&client, &app, request, raw, reference_t).await
        } else {
            let run = CheckpointedRun {
                client: &client,
                app: &app,
                request,
                reference_t,
            };
            let (answer, requests) = run.replay(replay, index, &checkpoints).await;
            count += requests;
            answer
        };
        compare_response(replay, index, expected, status, &headers, &body);

        let sent = capture.take();
        compare_api_calls(replay, index, &theirs, &sent);
    }
    count
}

/// One request of JS v4 in which it ran several steps, posting each to `/v1/checkpoint`, and
/// ended the run. We run one step per request, so the run is driven here as the executor
/// drives it: each step JS checkpointed must be the one op we answer next, its result is
/// memoised the executor's way for the request after, and our last answer is compared with
/// what JS answered to the one request.
struct CheckpointedRun<'a> {
    client: &'a reqwest::Client,
    app: &'a str,
    request: &'a Value,
    reference_t: i64,
}

impl CheckpointedRun<'_> {
    /// Returns our final answer and how many further requests it took.
    async fn replay(
        &self,
        replay: &mut Replay,
        index: usize,
        checkpoints: &[&Value],
    ) -> ((u16, BTreeMap<String, String>, Vec<u8>), usize) {
        let raw = self.request["body_raw"].as_str().unwrap_or_default();
        let mut body: Value = serde_json::from_str(raw).unwrap();
        let steps = checkpoints
            .iter()
            .flat_map(|call| call["request"]["body"]["steps"].as_array().cloned())
            .flatten();

        let mut requests = 0;
        for step in steps {
            let (status, _, answer) = self.send(&body).await;
            requests += 1;
            let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            let ours = match answer.as_array().map(Vec::as_slice) {
                Some([op]) if status == 206 => op.clone(),
                _ => Value::Null,
            };
            let (t, o) = (op_view(&in_go_sdk_shape(&step)), op_view(&ours));
            replay.check(index, "checkpoint", t == o, || {
                format!("{status} {answer}\n   JS checkpointed {t}")
            });

            let id = step["id"].as_str().unwrap_or_default().to_owned();
            body["steps"][&id] = json!({ "data": step["data"] });
            let stack = &mut body["ctx"]["stack"];
            stack["stack"]
                .as_array_mut()
                .unwrap()
                .push(Value::String(id));
            stack["current"] = json!(stack["stack"].as_array().unwrap().len());
        }

        (self.send(&body).await, requests)
    }

    async fn send(&self, body: &Value) -> (u16, BTreeMap<String, String>, Vec<u8>) {
        let body = body.to_string();
        send(self.client, self.app, self.request, &body, self.reference_t).await
    }
}

/// The timestamp most signatures of a file use (the capture's "now").
fn reference_timestamp(exchanges: &[Value]) -> i64 {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for exchange in exchanges {
        if let Some((t, _)) = signature_of(&exchange["request"]) {
            *counts.entry(t).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or(0, |(t, _)| t)
}

fn signature_of(request: &Value) -> Option<(i64, String)> {
    let header = request["headers"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-inngest-signature"))?
        .1
        .as_str()?;
    let (t, s) = header.strip_prefix("t=")?.split_once("&s=")?;
    Some((t.parse().ok()?, s.to_owned()))
}

/// Re-signs a fixture request for now: the captured timestamps are long past the 5-minute
/// window. The key and payload form (canonical or raw) are the ones that reproduce the
/// captured MAC, and the timestamp keeps its offset from the capture's "now", so an
/// "expired" request stays expired and a "wrong key" one stays wrong.
fn resign(request: &Value, reference_t: i64) -> Option<String> {
    let (t, mac) = signature_of(request)?;
    let raw = request["body_raw"]
        .as_str()
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let canonical = if raw.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        canonicalize(&raw).ok()?.into_bytes()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let new_t = now - (reference_t - t);

    for key in [PRIMARY, FALLBACK, WRONG] {
        for payload in [&canonical, &raw] {
            if mac_hex(payload, key, t) == mac {
                return Some(sign(payload, key, new_t));
            }
        }
    }
    None
}

/// Sends a fixture request with this body (its own `body_raw`, or one built from it for a
/// later request of the same run, which is then unsigned, as in dev mode).
async fn send(
    client: &reqwest::Client,
    app: &str,
    request: &Value,
    body: &str,
    reference_t: i64,
) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let method =
        reqwest::Method::from_bytes(request["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut url =
        reqwest::Url::parse(&format!("{app}{}", request["path"].as_str().unwrap())).unwrap();
    if let Some(query) = request["query"].as_object() {
        for (k, v) in query {
            url.query_pairs_mut()
                .append_pair(k, v.as_str().unwrap_or_default());
        }
    }
    let mut builder = client.request(method, url);
    let resigned = resign(request, reference_t);
    for (name, value) in request["headers"].as_object().unwrap() {
        let lower = name.to_ascii_lowercase();
        if ["host", "content-length", "user-agent"].contains(&lower.as_str()) {
            continue;
        }
        let value = match (&resigned, lower.as_str()) {
            (Some(signature), "x-inngest-signature") => signature.clone(),
            _ => value.as_str().unwrap_or_default().to_owned(),
        };
        builder = builder.header(name.as_str(), value);
    }
    let response = builder.body(body.to_owned()).send().await.unwrap();

    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

fn expected_header<'a>(expected: &'a Value, name: &str) -> Option<&'a str> {
    expected["headers"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))?
        .1
        .as_str()
}

fn compare_response(
    replay: &mut Replay,
    index: usize,
    expected: &Value,
    status: u16,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) {
    let theirs_raw = expected["body_raw"].as_str().unwrap_or_default();
    let (their_status, theirs) = match run_complete(theirs_raw) {
        Some(value)
            if deviation(replay.version, &replay.scenario, index, "run-complete").is_some() =>
        {
            (200, value)
        }
        _ => (
            expected["status"].as_u64().unwrap() as u16,
            serde_json::from_str(theirs_raw).unwrap_or(Value::Null),
        ),
    };
    replay.check(index, "status", status == their_status, || {
        format!(
            "status {status}, JS {their_status}; body {}",
            String::from_utf8_lossy(body)
        )
    });

    for header in ["x-inngest-no-retry", "retry-after"] {
        let theirs = expected_header(expected, header);
        let ours = headers.get(header).map(String::as_str);
        let what = header.trim_start_matches("x-inngest-");
        replay.check(index, what, theirs == ours, || {
            format!("{header}: {ours:?}, JS {theirs:?}")
        });
    }
    for header in ["x-inngest-sync-kind", "x-inngest-expected-server-kind"] {
        let theirs = expected_header(expected, header);
        let ours = headers.get(header).map(String::as_str);
        replay.check(index, "headers", theirs == ours, || {
            format!("{header}: {ours:?}, JS {theirs:?}")
        });
    }

    let js_identified = expected_header(expected, "x-inngest-sdk").is_some();
    let identified = headers.contains_key("x-inngest-sdk");
    replay.check(index, "headers", js_identified == identified, || {
        format!("x-inngest-sdk present: {identified}, JS {js_identified}")
    });
    if identified {
        let version = headers.get("x-inngest-req-version").map(String::as_str);
        let theirs = expected_header(expected, "x-inngest-req-version");
        replay.check(index, "req-version", version == theirs, || {
            format!("x-inngest-req-version {version:?}, JS {theirs:?}")
        });
    }
    if status == 401 && !js_identified {
        replay.check(
            index,
            "headers",
            !identified && !headers.contains_key("user-agent"),
            || "a 401 must not identify the SDK".to_owned(),
        );
    }

    let js_signed = expected_header(expected, "x-inngest-signature").is_some();
    let signature = headers.get("x-inngest-signature");
    replay.check(index, "signature", js_signed == signature.is_some(), || {
        format!("signed: {}, JS {js_signed}", signature.is_some())
    });
    if let Some(signature) = signature {
        let verifies = [PRIMARY, FALLBACK].iter().any(|key| {
            nestling_inngest_protocol::SigningKeys::new(*key)
                .verify(Some(signature), body, now())
                .is_ok()
        });
        replay.check(index, "signature", verifies, || {
            format!("answer signature {signature} does not verify")
        });
    }

    let ours: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    compare_body(replay, index, status, &theirs, &ours);
}

/// The return value in a `[RunComplete]` answer, JS v4's way of ending a checkpointed run.
fn run_complete(body_raw: &str) -> Option<Value> {
    let ops: Value = serde_json::from_str(body_raw).ok()?;
    match ops.as_array()?.as_slice() {
        [op] if op["op"] == "RunComplete" => Some(op["data"].clone()),
        _ => None,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn compare_body(replay: &mut Replay, index: usize, status: u16, theirs: &Value, ours: &Value) {
    match (status, theirs) {
        (206, Value::Array(their_ops)) => {
            let ours_ops = ours.as_array().cloned().unwrap_or_default();
            replay.check(index, "ops", their_ops.len() == ours_ops.len(), || {
                format!("{} ops, JS {}: {ours}", ours_ops.len(), their_ops.len())
            });
            for (theirs, ours) in their_ops.iter().zip(&ours_ops) {
                let (t, o) = (op_view(&in_go_sdk_shape(theirs)), op_view(ours));
                replay.check(index, "ops", t == o, || format!("op {o}\n   JS {t}"));
                let (tn, on) = (&theirs["error"]["name"], &ours["error"]["name"]);
                replay.check(index, "error-name", tn == on, || {
                    format!("error name {on}, JS {tn}")
                });
            }
        }
        (_, Value::Object(map)) if map.get("type") == Some(&json!("internal")) => {
            replay.check(index, "body", ours["type"] == "internal", || {
                format!("expected an SDK-internal error body, got {ours}")
            });
        }
        (_, Value::Object(map)) if map.contains_key("requestedStep") => {
            let keys = ["requestedStep", "totalFoundSteps", "foundSteps"];
            let same = keys.iter().all(|k| theirs[k] == ours[k]);
            replay.check(index, "body", same, || format!("{ours}\n   JS {theirs}"));
        }
        (_, Value::Object(map)) if map.contains_key("schema_version") => {
            compare_introspection(replay, index, theirs, ours);
        }
        (_, Value::Object(map)) if map.contains_key("inspection") => {
            for key in ["app_id", "capabilities", "url", "env"] {
                replay.check(index, "body", theirs[key] == ours[key], || {
                    format!("in-band `{key}`: {}, JS {}", ours[key], theirs[key])
                });
            }
            compare_functions(replay, index, &theirs["functions"], &ours["functions"]);
            compare_introspection(replay, index, &theirs["inspection"], &ours["inspection"]);
        }
        (_, Value::Object(map)) if map.contains_key("__serialized") => {
            replay.check(index, "body", theirs["message"] == ours["message"], || {
                format!(
                    "error message {}, JS {}",
                    ours["message"], theirs["message"]
                )
            });
            replay.check(index, "error-name", theirs["name"] == ours["name"], || {
                format!("error name {}, JS {}", ours["name"], theirs["name"])
            });
            replay.check(index, "body", theirs["stack"] == ours["stack"], || {
                format!("error stack {}, JS {}", ours["stack"], theirs["stack"])
            });
        }
        _ => {
            replay.check(index, "body", theirs == ours, || {
                format!("body {ours}\n   JS {theirs}")
            });
        }
    }
}

/// A JS SDK op rewritten in the shape we send, which is the Go SDK's.
///
/// A deliberate difference, kept out of `deviation()` so that every other field of these ops is
/// still compared: Inngest's own conformance runner (`inngest alpha conformance`) checks ops in
/// the Go SDK's shape and rejects the JS SDK's, while the server reads both. So we leave `opts`
/// out when a step has none (JS sends `{}`), put a sleep's duration in `opts.duration` (JS only
/// in `name`), and name a wait after its step with the event in `opts.event` (JS names it after
/// the event).
fn in_go_sdk_shape(op: &Value) -> Value {
    let mut op = op.clone();
    if op["opts"] == json!({}) {
        op.as_object_mut().map(|map| map.remove("opts"));
    }

    match op["op"].as_str() {
        Some("Sleep") if op["opts"]["duration"].is_null() => {
            op["opts"] = json!({ "duration": op["name"] });
        }
        Some("WaitForEvent") if op["opts"]["event"].is_null() => {
            op["opts"]["event"] = op["name"].clone();
            op["name"] = op["userland"]["id"].clone();
        }
        _ => {}
    }
    op
}

/// The parts of an op the executor reads: everything but `timing`, and errors without the
/// class name (compared separately) and the `stack` of the `data` copy.
fn op_view(op: &Value) -> Value {
    let mut view = Map::new();
    for key in [
        "op",
        "id",
        "name",
        "displayName",
        "opts",
        "data",
        "userland",
    ] {
        if let Some(value) = op.get(key) {
            view.insert(key.to_owned(), value.clone());
        }
    }
    if let Some(error) = op.get("error") {
        view.insert("error.message".to_owned(), error["message"].clone());
    }
    if let Some(Value::Object(data)) = view.get_mut("data") {
        data.remove("name");
    }
    Value::Object(view)
}

fn compare_introspection(replay: &mut Replay, index: usize, theirs: &Value, ours: &Value) {
    // `extra`, `framework`, `sdk_language`, `sdk_version`, `serve_origin` and `serve_path`
    // describe the SDK itself and differ by nature.
    let keys = [
        "schema_version",
        "mode",
        "function_count",
        "has_event_key",
        "has_signing_key",
        "authentication_succeeded",
        "app_id",
        "capabilities",
        "env",
        "event_key_hash",
        "signing_key_hash",
        "signing_key_fallback_hash",
    ];
    for key in keys {
        replay.check(index, "body", theirs.get(key) == ours.get(key), || {
            format!(
                "introspection `{key}`: {:?}, JS {:?}",
                ours.get(key),
                theirs.get(key)
            )
        });
    }
}

/// Function configs compared by id, with the app's origin (a different port) normalised.
fn compare_functions(replay: &mut Replay, index: usize, theirs: &Value, ours: &Value) {
    let by_id = |functions: &Value| -> BTreeMap<String, Value> {
        functions
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap_or_default().to_owned(),
                    normalise_urls(f),
                )
            })
            .collect()
    };
    let (theirs, ours) = (by_id(theirs), by_id(ours));
    replay.check(index, "functions", theirs.keys().eq(ours.keys()), || {
        format!("function ids {:?}, JS {:?}", ours.keys(), theirs.keys())
    });
    for (id, function) in &theirs {
        let mut function = function.clone();
        if id == "golden-app-flow-control" {
            // Deviation: the JS app combines `batchEvents` with cancel, debounce and priority,
            // which Inngest rejects at sync; our attributes refuse it at compile time, so the
            // Rust twin declares the function without batching.
            if let Some(map) = function.as_object_mut() {
                map.remove("batchEvents");
            }
        }
        let function = &function;
        let mine = ours.get(id).cloned().unwrap_or(Value::Null);
        replay.check(index, "functions", *function == mine, || {
            format!("{id}: {mine}\n   JS {function}")
        });
    }
}

fn strip_deploy_id(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(
            s.replace("?deployId=deploy-123&", "?")
                .replace("?deployId=deploy-123", ""),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_deploy_id).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, strip_deploy_id(v)))
                .collect(),
        ),
        other => other,
    }
}

fn normalise_urls(value: Value) -> Value {
    match value {
        Value::String(s) => {
            let re_start = s.find("http://127.0.0.1:");
            match re_start {
                Some(start) => {
                    let rest = &s[start + "http://127.0.0.1:".len()..];
                    let port_end = rest
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(rest.len());
                    Value::String(format!("{}http://APP{}", &s[..start], &rest[port_end..]))
                }
                None => Value::String(s),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalise_urls).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalise_urls(v)))
                .collect(),
        ),
        other => other,
    }
}

fn compare_api_calls(replay: &mut Replay, index: usize, theirs: &[&Value], ours: &[Captured]) {
    let paths = |calls: Vec<(String, String)>| {
        let mut calls = calls;
        calls.sort();
        calls
    };
    let their_paths = paths(
        theirs
            .iter()
            .map(|e| {
                (
                    e["request"]["method"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    e["request"]["path"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
    );
    let our_paths = paths(
        ours.iter()
            .map(|c| (c.method.clone(), c.path.clone()))
            .collect(),
    );
    replay.check(index, "api-calls", their_paths == our_paths, || {
        format!("API calls {our_paths:?}, JS {their_paths:?}")
    });

    for their in theirs {
        let request = &their["request"];
        let path = request["path"].as_str().unwrap_or_default();
        let Some(mine) = ours.iter().find(|c| c.path == path) else {
            continue;
        };
        if path == "/fn/register" {
            compare_register(replay, index, request, mine);
        } else if path.starts_with("/e/") {
            let strip_ts = |events: &Value| -> Value {
                let mut events = events.clone();
                for event in events.as_array_mut().into_iter().flatten() {
                    if let Some(map) = event.as_object_mut() {
                        map.remove("ts");
                    }
                }
                events
            };
            let (t, o) = (strip_ts(&request["body"]), strip_ts(&mine.body));
            replay.check(index, "events", t == o, || format!("sent {o}, JS {t}"));
        }
    }
}

fn compare_register(replay: &mut Replay, index: usize, theirs: &Value, mine: &Captured) {
    // Deviation: the JS SDK advertises the sync request's own URL, `?deployId=` included, in
    // `url` and in every function's URL. The server reads the deploy id from the register
    // call's query string (which we send too), and the protocol notes say it must not be in
    // `url`; we keep it out.
    let body = strip_deploy_id(theirs["body"].clone());
    let body = &body;
    let url = |u: &Value| normalise_urls(u.clone());
    replay.check(
        index,
        "register",
        url(&body["url"]) == url(&mine.body["url"]),
        || format!("url {}, JS {}", mine.body["url"], body["url"]),
    );
    for key in ["appName", "deployType", "capabilities"] {
        replay.check(index, "register", body[key] == mine.body[key], || {
            format!("`{key}` {}, JS {}", mine.body[key], body[key])
        });
    }
    let their_query = theirs["query"].as_object().map(|q| q.len()).unwrap_or(0);
    replay.check(
        index,
        "register",
        (their_query > 0) != mine.query.is_empty(),
        || format!("register query {:?}, JS {}", mine.query, theirs["query"]),
    );
    for header in ["x-inngest-expected-server-kind", "x-inngest-sync-kind"] {
        let t = expected_header(theirs, header);
        replay.check(index, "register", t == mine.header(header), || {
            format!(
                "register header {header}: {:?}, JS {t:?}",
                mine.header(header)
            )
        });
    }
    if let Some(auth) =
        expected_header(theirs, "authorization").filter(|a| *a != "Bearer undefined")
    {
        replay.check(
            index,
            "register",
            Some(auth) == mine.header("authorization"),
            || {
                format!(
                    "authorization {:?}, JS {auth}",
                    mine.header("authorization")
                )
            },
        );
    }
    compare_functions(replay, index, &body["functions"], &mine.body["functions"]);
}
