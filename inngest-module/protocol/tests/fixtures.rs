//! Checks the crate against every exchange captured from the official JS SDK (v3 and v4) in
//! `shared/fixtures/js-sdk`, next to the repository.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nestling_inngest_protocol::duration::resolve_deadline;
use nestling_inngest_protocol::event::{FUNCTION_INVOKED_EVENT, InvokeMetadata};
use nestling_inngest_protocol::op::{InvokeFunctionOpts, RunOpts, SleepOpts, WaitForEventOpts};
use nestling_inngest_protocol::{
    BorrowedCallRequest, COMPLETE_STEP_ID, CallContext, CallContextOf, CallRequest, CallStack,
    CheckedIds, CronSchedule, Event, FunctionConfig, InBandSyncResponse, IntrospectionResponse,
    KeyMatch, MemoizedStep, Op, OpCode, ProtocolError, RegisterRequest, SendEventsResponse,
    SignatureHeader, SigningKeys, StepHash, StepIdCounter, Trigger, hash_step_id,
    hashed_signing_key, validate_events,
};
use serde_json::Value;

const SIGNING_KEY: &str =
    "signkey-test-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const FALLBACK_KEY: &str =
    "signkey-test-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

struct Fixture {
    path: PathBuf,
    json: Value,
}

impl Fixture {
    fn name(&self) -> String {
        let parent = self
            .path
            .parent()
            .and_then(Path::file_name)
            .unwrap_or_default();
        let file = self.path.file_name().unwrap_or_default();
        format!("{}/{}", parent.to_string_lossy(), file.to_string_lossy())
    }

    fn exchanges(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.json["exchanges"]
            .as_array()
            .map(|a| a.iter().enumerate())
            .into_iter()
            .flatten()
    }

    fn is_cloud(&self) -> bool {
        self.json["mode"] == "cloud"
    }
}

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/js-sdk")
}

/// The fixtures, read once for all tests of this file.
fn load_fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(read_fixtures)
}

fn read_fixtures() -> Vec<Fixture> {
    let root = fixture_root();
    let mut fixtures = Vec::new();

    for version in ["v3", "v4"] {
        let dir = root.join(version);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "the JS SDK fixtures are missing: could not read {} ({e}); they belong in \
                 shared/fixtures/js-sdk/{{v3,v4}} next to the repository",
                dir.display()
            )
        });
        for entry in entries {
            let path = entry.expect("readable directory entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let json = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                fixtures.push(Fixture { path, json });
            }
        }
    }

    fixtures.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(
        fixtures.len() >= 58,
        "expected the 63 fixture files under {}, found {}",
        root.display(),
        fixtures.len()
    );
    fixtures
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

fn body_raw(message: &Value) -> &str {
    message["body_raw"].as_str().unwrap_or("")
}

fn is_executor_post(exchange: &Value) -> bool {
    exchange["direction"] == "executor_to_sdk"
        && exchange["request"]["method"] == "POST"
        && exchange["request"]["query"].get("probe").is_none()
}

/// Bodies that are not call requests at all: the empty one (401) and `{"hello":"world"}`
/// (500 "Failed to parse data from executor"). Others the SDK refused for their content
/// (v4 and `version: 0`) still have the call request shape.
fn not_a_call_request(exchange: &Value) -> bool {
    let raw = body_raw(&exchange["request"]);
    let response = body_raw(&exchange["response"]);
    let malformed = serde_json::from_str::<Value>(raw).map_or(true, |v| v.get("event").is_none());
    if malformed {
        assert!(
            raw.is_empty() || response.contains("Failed to parse data from executor"),
            "a malformed body the SDK accepted: {raw}"
        );
    }
    malformed
}

#[test]
fn fixture_folder_is_found() {
    let fixtures = load_fixtures();
    let v4 = fixtures
        .iter()
        .filter(|f| f.name().starts_with("v4/"))
        .count();
    assert!(v4 >= 34, "expected 34 v4 fixtures, found {v4}");
}

#[test]
fn every_call_request_parses_and_round_trips() {
    let mut parsed = 0;
    let mut rejected = 0;
    let mut memos = 0;
    let mut invoked = 0;

    for fixture in load_fixtures() {
        for (i, exchange) in fixture.exchanges().filter(|(_, e)| is_executor_post(e)) {
            let raw = body_raw(&exchange["request"]);
            let result = CallRequest::from_slice(raw.as_bytes());

            if not_a_call_request(exchange) {
                assert!(
                    result.is_err(),
                    "{} #{i}: the SDK refused this body",
                    fixture.name()
                );
                rejected += 1;
                continue;
            }

            let request = result.unwrap_or_else(|e| panic!("{} #{i}: {e}", fixture.name()));
            parsed += 1;
            same_as_borrowed(&request, raw, &format!("{} #{i}", fixture.name()));

            // What the engine would send back out is what the executor sent.
            let original: Value = serde_json::from_str(raw).unwrap();
            let again = serde_json::to_value(&request).unwrap();
            assert_eq!(
                again,
                original,
                "{} #{i}: re-serialised call request",
                fixture.name()
            );

            for (id, value) in &request.steps {
                let memo = MemoizedStep::parse(value)
                    .unwrap_or_else(|e| panic!("{} #{i} step {id}: {e}", fixture.name()));
                check_memo_shape(&memo, value.get(), &fixture.name());
                memos += 1;
            }

            if request.event.name == FUNCTION_INVOKED_EVENT {
                let meta = InvokeMetadata::of(&request.event)
                    .unwrap_or_else(|| panic!("{} #{i}: no _inngest metadata", fixture.name()));
                assert_eq!(meta.source_app_id.as_deref(), Some("golden-app"));
                invoked += 1;
            }

            if let Some(first) = request.events.first() {
                assert_eq!(
                    request.event,
                    *first,
                    "{} #{i}: event is the first of events",
                    fixture.name()
                );
            }
        }
    }

    assert!(parsed > 150, "only {parsed} call requests parsed");
    assert_eq!(
        rejected, 4,
        "the empty and the `hello` bodies, in v3 and v4"
    );
    assert!(memos > 100, "only {memos} memoised steps seen");
    assert!(
        invoked >= 2,
        "child runs started by inngest/function.invoked: {invoked}"
    );
}

/// The borrowing reader sees the same request: every field but the memo and the stack's ids
/// equal, each memo under the digest of its key, the stack's length.
fn same_as_borrowed(request: &CallRequest, raw: &str, name: &str) {
    let borrowed = BorrowedCallRequest::from_str(raw).unwrap_or_else(|e| panic!("{name}: {e}"));

    assert_eq!(borrowed.event, request.event, "{name}");
    assert_eq!(borrowed.events, request.events, "{name}");
    assert_eq!(borrowed.version, request.version, "{name}");
    assert_eq!(borrowed.use_api, request.use_api, "{name}");
    assert_eq!(
        borrowed.defers.as_ref().map(|d| d.get()),
        request.defers.as_ref().map(|d| d.get()),
        "{name}"
    );
    let mut ctx = request.ctx.clone();
    let ids = std::mem::take(&mut ctx.stack.stack);
    assert_eq!(without_ids(&borrowed.ctx), ctx, "{name}");
    assert_eq!(borrowed.ctx.stack.stack.len(), ids.len(), "{name}");

    assert_eq!(borrowed.steps.len(), request.steps.len(), "{name}");
    for (id, value) in &request.steps {
        let hash = StepHash::from_hex(id).unwrap_or_else(|| panic!("{name}: key {id}"));
        let memo = borrowed
            .steps
            .get(&hash)
            .unwrap_or_else(|| panic!("{name}: {id}"));
        assert_eq!(memo.get(), value.get(), "{name}: {id}");
    }
}

/// A borrowed request's `ctx` as an owned one whose stack holds no ids (they were not kept).
fn without_ids(ctx: &CallContextOf<CheckedIds>) -> CallContext {
    CallContext {
        run_id: ctx.run_id.clone(),
        fn_id: ctx.fn_id.clone(),
        env: ctx.env.clone(),
        step_id: ctx.step_id.clone(),
        attempt: ctx.attempt,
        max_attempts: ctx.max_attempts,
        stack: CallStack {
            stack: Vec::new(),
            current: ctx.stack.current,
        },
        qi_id: ctx.qi_id.clone(),
        request_id: ctx.request_id.clone(),
        generation_id: ctx.generation_id,
        job_id: ctx.job_id.clone(),
        disable_immediate_execution: ctx.disable_immediate_execution,
        use_api: ctx.use_api,
    }
}

/// The kinds of memo the fixtures hold, each mapped as the JS SDK reads it.
fn check_memo_shape(memo: &MemoizedStep<'_>, raw: &str, fixture: &str) {
    let value: Value = serde_json::from_str(raw).unwrap();
    match memo {
        MemoizedStep::Null => assert!(value.is_null(), "{fixture}: {raw}"),
        MemoizedStep::Data(data) => {
            let inner: Value = serde_json::from_str(data.get()).unwrap();
            assert_eq!(value.get("data"), Some(&inner), "{fixture}: {raw}");
        }
        MemoizedStep::Error(err) => {
            assert_eq!(
                value["error"]["message"],
                err.message.as_str(),
                "{fixture}: {raw}"
            );
        }
        MemoizedStep::Input(_) => assert!(value.get("input").is_some(), "{fixture}: {raw}"),
        MemoizedStep::Raw(_) => {
            // A matched event (name, data, id, ts) or a v0 raw value: never a lone wrapper.
            let obj = value.as_object();
            assert!(
                obj.is_none_or(|o| o.len() != 1 || !o.contains_key("data")),
                "{fixture}: {raw} should have been unwrapped"
            );
        }
    }
}

#[test]
fn every_206_body_round_trips_as_ops() {
    let mut ops_seen = 0;

    for fixture in load_fixtures() {
        for (i, exchange) in fixture.exchanges() {
            if exchange["direction"] != "executor_to_sdk" || exchange["response"]["status"] != 206 {
                continue;
            }
            let raw = body_raw(&exchange["response"]);
            let ops: Vec<Op> = serde_json::from_str(raw)
                .unwrap_or_else(|e| panic!("{} #{i}: {e}\n{raw}", fixture.name()));
            let original: Value = serde_json::from_str(raw).unwrap();
            assert_eq!(
                serde_json::to_value(&ops).unwrap(),
                original,
                "{} #{i}: re-serialised ops",
                fixture.name()
            );
            for op in &ops {
                check_typed_opts(op, &format!("{} #{i}", fixture.name()));
            }
            ops_seen += ops.len();
        }
    }

    assert!(ops_seen > 100, "only {ops_seen} ops seen");
}

/// Each op's `opts` reads as the typed options of its kind, with the values the JS SDK put
/// there.
fn check_typed_opts(op: &Op, at: &str) {
    match op.op {
        OpCode::WaitForEvent => {
            let opts: WaitForEventOpts = op.opts_as().unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(opts.timeout.is_some(), "{at}: waits carry a timeout");
            assert!(op.wait_event_name().is_some(), "{at}: waits name an event");
        }
        OpCode::InvokeFunction => {
            let opts: InvokeFunctionOpts = op.opts_as().unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(opts.function_id.starts_with("golden-app-"), "{at}");
            assert!(opts.payload.is_some(), "{at}");
        }
        OpCode::Sleep => {
            let opts: SleepOpts = op.opts_as().unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(
                opts.duration.is_none(),
                "{at}: JS puts the duration in `name`"
            );
            // JS sends "" for a compound duration string it could not parse (a known quirk).
            if let Some(target) = op.sleep_target() {
                let now = chrono::Utc::now();
                let until = resolve_deadline(target, now).unwrap_or_else(|e| panic!("{at}: {e}"));
                assert!(until > now - chrono::Duration::days(3650), "{at}: {target}");
            }
        }
        OpCode::StepPlanned | OpCode::StepRun => {
            let opts: RunOpts = op.opts_as().unwrap_or_else(|e| panic!("{at}: {e}"));
            if op.name.as_deref() == Some("sendEvent") {
                assert_eq!(opts.kind.as_deref(), Some("step.sendEvent"), "{at}");
            }
        }
        _ => {}
    }
}

#[test]
fn step_ids_follow_the_hash_and_repeat_rule() {
    let mut checked = 0;

    for fixture in load_fixtures() {
        // One counter per run, fed with each step occurrence in the order it first appears.
        let mut counters: HashMap<String, (StepIdCounter, Vec<String>)> = HashMap::new();

        for (i, exchange) in fixture.exchanges() {
            if !is_executor_post(exchange) || exchange["response"]["status"] != 206 {
                continue;
            }
            let request = &exchange["request"]["body"];
            if request["version"] == 0 {
                continue; // v0 hashes the op's canonical JSON instead; v4 rejects it.
            }
            let run_id = request["ctx"]["run_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let ops: Vec<Op> = serde_json::from_str(body_raw(&exchange["response"])).unwrap();

            for op in ops {
                let name = fixture.name();
                if op.op == OpCode::RunComplete {
                    assert_eq!(op.id, COMPLETE_STEP_ID, "{name} #{i}");
                    continue;
                }
                if op.id == COMPLETE_STEP_ID {
                    // Function-level error reported as an op (v4 checkpointing).
                    assert!(
                        matches!(op.op, OpCode::StepError | OpCode::StepFailed),
                        "{name} #{i}"
                    );
                    continue;
                }

                let userland = op
                    .userland
                    .as_ref()
                    .unwrap_or_else(|| panic!("{name} #{i}: no userland"));
                let index = userland.index.unwrap_or(0);
                let key = if index == 0 {
                    userland.id.clone()
                } else {
                    format!("{}:{index}", userland.id)
                };
                assert_eq!(op.id, hash_step_id(&key), "{name} #{i}: {key}");

                let (counter, seen) = counters.entry(run_id.clone()).or_default();
                if !seen.contains(&op.id) {
                    seen.push(op.id.clone());
                    let next = counter.next(&userland.id);
                    assert_eq!(
                        (next.index, &next.hashed),
                        (index, &op.id),
                        "{name} #{i}: {key}"
                    );
                }
                checked += 1;
            }
        }
    }

    assert!(checked > 80, "only {checked} step ids checked");
}

#[test]
fn every_registration_round_trips_and_validates() {
    let mut functions = 0;

    for fixture in load_fixtures() {
        for (i, exchange) in fixture.exchanges() {
            if !exchange["request"]["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/fn/register"))
            {
                continue;
            }
            let raw = body_raw(&exchange["request"]);
            let original: Value = serde_json::from_str(raw).unwrap();
            let request: RegisterRequest = serde_json::from_str(raw)
                .unwrap_or_else(|e| panic!("{} #{i}: {e}", fixture.name()));

            assert_eq!(
                serde_json::to_value(&request).unwrap(),
                original,
                "{} #{i}",
                fixture.name()
            );
            assert_eq!(request.sdk_language(), Some("js"));

            for (config, wire) in request
                .functions
                .iter()
                .zip(original["functions"].as_array().unwrap())
            {
                assert_eq!(
                    &serde_json::to_value(config).unwrap(),
                    wire,
                    "{}: {}",
                    fixture.name(),
                    config.id
                );
                check_validation(config, &fixture.name());
                functions += 1;
            }

            check_register_auth(fixture, exchange);
        }
    }

    assert!(functions >= 100, "only {functions} functions seen");
}

/// Every fixture function is valid except the flow-control "kitchen sink", which combines
/// batching with debounce, priority and cancel. The fixtures' stand-in server accepted it; the
/// real server refuses those combinations, and so does `validate`.
fn check_validation(config: &FunctionConfig, fixture: &str) {
    if config.id != "golden-app-flow-control" {
        config
            .validate()
            .unwrap_or_else(|e| panic!("{fixture}: {e}"));
        return;
    }

    let reasons: Vec<String> = config
        .problems()
        .into_iter()
        .map(|p| match p {
            ProtocolError::InvalidFunction { field, reason, .. } => {
                assert_eq!(field, "batchEvents", "{fixture}: {reason}");
                reason
            }
            other => panic!("{fixture}: {other}"),
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{fixture}: {reasons:?}");
    for other in ["cancel", "debounce", "priority"] {
        assert!(
            reasons.iter().any(|r| r.contains(other)),
            "{fixture}: {reasons:?}"
        );
    }
}

fn check_register_auth(fixture: &Fixture, exchange: &Value) {
    let auth = header(&exchange["request"]["headers"], "Authorization").unwrap_or_default();
    if fixture.is_cloud() {
        assert_eq!(
            auth,
            format!("Bearer {}", hashed_signing_key(SIGNING_KEY).unwrap())
        );
    } else {
        // The JS SDK's dev-mode quirk.
        assert_eq!(auth, "Bearer undefined");
    }
}

#[test]
fn flow_control_fixture_maps_to_typed_fields() {
    let fixture = load_fixtures()
        .iter()
        .find(|f| f.name() == "v4/register_dev.json")
        .expect("v4/register_dev.json");
    let (_, exchange) = fixture
        .exchanges()
        .find(|(_, e)| e["direction"] == "sdk_to_server")
        .expect("a /fn/register call");
    let request: RegisterRequest = serde_json::from_str(body_raw(&exchange["request"])).unwrap();
    let by_id = |id: &str| -> &FunctionConfig {
        request
            .functions
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{id}"))
    };

    let flow = by_id("golden-app-flow-control");
    assert_eq!(flow.max_attempts(), 6);
    assert_eq!(flow.concurrency.as_ref().unwrap().limits.len(), 2);
    assert_eq!(flow.batch_events.as_ref().unwrap().max_size, 50);
    assert_eq!(flow.cancel.as_ref().unwrap().len(), 2);
    assert_eq!(flow.idempotency.as_deref(), Some("event.data.userId"));

    let cron = by_id("golden-app-cron");
    let Trigger::Cron { cron: expr, .. } = &cron.triggers[0] else {
        panic!("cron trigger")
    };
    let schedule = CronSchedule::parse(expr).unwrap();
    assert_eq!(schedule.timezone(), Some(chrono_tz::Europe::Paris));

    let failure = by_id("golden-app-with-failure-failure");
    assert_eq!(failure.max_attempts(), 2);
    assert_eq!(
        failure.triggers[0].event_name(),
        Some(nestling_inngest_protocol::event::FUNCTION_FAILED_EVENT)
    );
    assert_eq!(by_id("golden-app-multi-step").max_attempts(), 5);
}

#[test]
fn sync_and_introspection_bodies_round_trip() {
    let mut in_band = 0;
    let mut introspections = 0;

    for fixture in load_fixtures() {
        for (i, exchange) in fixture.exchanges() {
            if exchange["direction"] != "executor_to_sdk" || exchange["response"]["status"] != 200 {
                continue;
            }
            let raw = body_raw(&exchange["response"]);
            let original: Value = match serde_json::from_str(raw) {
                Ok(v) => v,
                Err(_) => continue,
            };
            let method = exchange["request"]["method"].as_str().unwrap_or_default();
            let sync_kind = header(&exchange["request"]["headers"], "x-inngest-sync-kind");

            if method == "GET" {
                let body: IntrospectionResponse = serde_json::from_value(original.clone())
                    .unwrap_or_else(|e| panic!("{} #{i}: {e}", fixture.name()));
                assert_eq!(
                    serde_json::to_value(&body).unwrap(),
                    original,
                    "{} #{i}",
                    fixture.name()
                );
                let authenticated = matches!(body, IntrospectionResponse::Authenticated(_));
                assert_eq!(authenticated, fixture.is_cloud(), "{} #{i}", fixture.name());
                introspections += 1;
            } else if method == "PUT" && sync_kind == Some("in_band") {
                let body: InBandSyncResponse = serde_json::from_value(original.clone())
                    .unwrap_or_else(|e| panic!("{} #{i}: {e}", fixture.name()));
                assert_eq!(
                    serde_json::to_value(&body).unwrap(),
                    original,
                    "{} #{i}",
                    fixture.name()
                );
                for function in &body.functions {
                    check_validation(function, &fixture.name());
                }
                in_band += 1;
            }
        }
    }

    assert_eq!(in_band, 2, "one in-band sync per SDK version");
    assert!(
        introspections >= 4,
        "only {introspections} introspection bodies"
    );
}

#[test]
fn event_api_bodies_parse_and_validate() {
    let mut events = 0;

    for fixture in load_fixtures() {
        for (i, exchange) in fixture.exchanges() {
            let path = exchange["request"]["path"].as_str().unwrap_or_default();
            if !path.starts_with("/e/") {
                continue;
            }
            let sent: Vec<Event> = serde_json::from_str(body_raw(&exchange["request"]))
                .unwrap_or_else(|e| panic!("{} #{i}: {e}", fixture.name()));
            validate_events(&sent).unwrap_or_else(|e| panic!("{} #{i}: {e}", fixture.name()));
            let reply: SendEventsResponse =
                serde_json::from_str(body_raw(&exchange["response"])).unwrap();
            assert!(reply.is_success());
            assert_eq!(reply.ids.len(), sent.len(), "{} #{i}", fixture.name());
            events += sent.len();
        }
    }

    assert!(events >= 8, "only {events} events sent");
}

/// `now` for a fixture: the newest signature timestamp it holds (the fixtures were generated
/// within the same second, except the deliberately stale one).
fn fixture_now(fixture: &Fixture) -> i64 {
    fixture
        .exchanges()
        .flat_map(|(_, e)| [&e["request"]["headers"], &e["response"]["headers"]])
        .filter_map(|h| header(h, "x-inngest-signature"))
        .filter_map(|h| SignatureHeader::parse(h).ok())
        .map(|h| h.timestamp)
        .max()
        .unwrap_or(0)
}

#[test]
fn every_request_signature_verifies_as_the_sdk_decided() {
    let keys = SigningKeys::new(SIGNING_KEY).with_fallback(FALLBACK_KEY);
    let mut verified = 0;
    let mut refused = 0;

    for fixture in load_fixtures().iter().filter(|f| f.is_cloud()) {
        let now = fixture_now(fixture);
        for (i, exchange) in fixture.exchanges() {
            if exchange["direction"] != "executor_to_sdk" {
                continue;
            }
            let request = &exchange["request"];
            let signature = header(&request["headers"], "x-inngest-signature");
            let body = body_raw(request);
            let status = exchange["response"]["status"].as_u64().unwrap_or(0);
            let note = exchange["note"].as_str().unwrap_or_default();
            let name = fixture.name();

            // Out-of-band syncs are not checked by the SDK.
            let checked = signature.is_some() || status == 401;
            if !checked {
                continue;
            }

            let result = keys.verify_request(signature, body.as_bytes(), now);
            if status == 401 {
                assert!(result.is_err(), "{name} #{i} ({note}): the SDK refused it");
                refused += 1;
                if note.contains("10 minutes old") {
                    assert!(
                        matches!(result, Err(ProtocolError::SignatureExpired { .. })),
                        "{name} #{i}"
                    );
                }
                if note.contains("malformed") {
                    assert!(
                        matches!(result, Err(ProtocolError::SignatureMalformed { .. })),
                        "{name} #{i}"
                    );
                }
                if note.contains("wrong key") || note.contains("raw bytes") {
                    assert!(
                        matches!(result, Err(ProtocolError::SignatureMismatch { .. })),
                        "{name} #{i}"
                    );
                }
                if note.contains("unsigned") {
                    assert!(
                        matches!(result, Err(ProtocolError::SignatureMissing)),
                        "{name} #{i}"
                    );
                }
            } else {
                let which = result.unwrap_or_else(|e| panic!("{name} #{i} ({note}): {e}"));
                let expected = if note.contains("fallback") {
                    KeyMatch::Fallback
                } else {
                    KeyMatch::Primary
                };
                assert_eq!(which, expected, "{name} #{i} ({note})");
                verified += 1;
            }
        }
    }

    assert!(
        verified >= 10,
        "only {verified} request signatures verified"
    );
    assert!(refused >= 10, "only {refused} refused requests checked");
}

#[test]
fn every_response_signature_verifies_with_the_keys_the_notes_give() {
    let mut checked = 0;

    for fixture in load_fixtures() {
        let Some(notes) = fixture.json["notes"]["response_signatures"].as_array() else {
            continue;
        };
        let exchanges: Vec<&Value> = fixture.exchanges().map(|(_, e)| e).collect();

        for note in notes {
            let index = usize::try_from(note["exchange"].as_u64().unwrap()).unwrap();
            let response = &exchanges[index]["response"];
            let signature = header(&response["headers"], "x-inngest-signature");
            let name = fixture.name();

            if note["signed"] != true {
                assert!(
                    signature.is_none(),
                    "{name} #{index}: unsigned per the notes"
                );
                continue;
            }

            // Responses are signed over their exact bytes, at the response time.
            let body = body_raw(response).as_bytes();
            let now = SignatureHeader::parse(signature.unwrap())
                .unwrap()
                .timestamp;
            for (key, expected) in [
                (SIGNING_KEY, note["verifies_with_primary"] == true),
                (FALLBACK_KEY, note["verifies_with_fallback"] == true),
            ] {
                let verified = SigningKeys::new(key).verify(signature, body, now).is_ok();
                assert_eq!(verified, expected, "{name} #{index} with {}", &key[..20]);
            }
            checked += 1;
        }
    }

    assert!(checked >= 12, "only {checked} response signatures checked");
}
