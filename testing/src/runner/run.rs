//! The executor's loop: call, memoise, re-enter, until the function returns or fails.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use nestling_inngest_protocol::{
    Backoff, CallContext, CallRequest, CallStack, DISCOVERY_STEP_ID, Event, Op, OpCode,
    SerializedError, parse_duration,
};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::outcome::{RetryRecord, RunOutcome, RunStatus, SleepRecord, StepRecord};
use super::transport::Answer;
use super::{MAX_INVOKE_DEPTH, Mock, TestRun};
use crate::TestingError;

/// One call the executor has queued: which step it targets and the attempt.
#[derive(Debug, Clone)]
struct Call {
    target: Option<String>,
    attempt: u32,
}

/// The state of one run between requests.
struct RunState {
    memo: HashMap<String, Box<RawValue>>,
    stack: Vec<String>,
    steps: Vec<StepRecord>,
    sleeps: Vec<SleepRecord>,
    retries: Vec<RetryRecord>,
    /// How many times each hashed step's body ran.
    step_attempts: HashMap<String, u32>,
    requests: usize,
    /// Set once steps ran in parallel: from then on every step is planned, as the server does.
    force_plan: bool,
}

impl RunState {
    fn memoise(&mut self, hashed: &str, value: &Value) {
        let raw = serde_json::value::to_raw_value(value)
            .unwrap_or_else(|_| RawValue::from_string("null".to_owned()).unwrap_or_default());
        self.memo.insert(hashed.to_owned(), raw);
        self.stack.push(hashed.to_owned());
    }
}

/// How a run ended, before the failure handler.
enum End {
    Completed(Value),
    Failed(SerializedError),
}

pub(super) fn execute(
    run: TestRun<'_>,
    depth: usize,
) -> BoxFuture<'_, Result<RunOutcome, TestingError>> {
    Box::pin(async move { execute_inner(run, depth).await })
}

async fn execute_inner(run: TestRun<'_>, depth: usize) -> Result<RunOutcome, TestingError> {
    let runner = run.runner;
    let spec = run.function.spec();
    let function_id = spec.composite_id(&runner.app_id);
    let max_attempts = spec.max_attempts();
    let run_id = ulid::Ulid::new().to_string();

    let events = prepare_events(&run.events)?;
    let mut state = RunState {
        memo: HashMap::new(),
        stack: Vec::new(),
        steps: Vec::new(),
        sleeps: Vec::new(),
        retries: Vec::new(),
        step_attempts: HashMap::new(),
        requests: 0,
        // With step mocks every step is planned first, so that a mocked body never runs:
        // the SDK runs a lone step inline otherwise, before the runner could stop it.
        force_plan: !run.steps.is_empty(),
    };

    let mut queue: VecDeque<Call> = VecDeque::from([Call {
        target: None,
        attempt: 0,
    }]);
    let mut discover = false;

    let end = loop {
        let call = match queue.pop_front() {
            Some(call) => call,
            None if discover => {
                discover = false;
                Call {
                    target: None,
                    attempt: 0,
                }
            }
            None => {
                return Err(TestingError::Protocol {
                    function: function_id,
                    status: 206,
                    reason: "the run stopped with nothing left to call: every reported op \
                             was settled but no step completed"
                        .to_owned(),
                });
            }
        };
        if state.requests >= run.max_requests {
            return Err(TestingError::TooManyRequests {
                function: function_id,
                requests: state.requests,
            });
        }
        state.requests += 1;

        let request = CallRequest {
            event: events[0].clone(),
            events: events.clone(),
            steps: state.memo.clone(),
            ctx: CallContext {
                run_id: run_id.clone(),
                fn_id: None,
                env: String::new(),
                step_id: call
                    .target
                    .clone()
                    .unwrap_or_else(|| DISCOVERY_STEP_ID.to_owned()),
                attempt: call.attempt,
                max_attempts: Some(max_attempts),
                stack: CallStack {
                    stack: state.stack.clone(),
                    current: state.stack.len() as u64,
                },
                qi_id: None,
                request_id: None,
                generation_id: None,
                job_id: None,
                disable_immediate_execution: state.force_plan,
                use_api: false,
            },
            version: Some(nestling_inngest_protocol::call::CURRENT_EXECUTION_VERSION),
            use_api: false,
            defers: None,
        };
        let step_id = request.ctx.step_id.clone();
        let answer = runner.serve.call(&function_id, &step_id, request).await;
        tracing::debug!(
            target: "nestling_testing::runner",
            function = %function_id,
            step = %step_id,
            attempt = call.attempt,
            status = answer.status,
            "call answered"
        );

        match answer.status {
            200 => break End::Completed(json_body(&function_id, &answer)?),
            206 => {
                let ops: Vec<Op> = serde_json::from_slice(&answer.body).map_err(|err| {
                    protocol(
                        &function_id,
                        &answer,
                        format!("the ops do not parse: {err}"),
                    )
                })?;
                if ops.is_empty() {
                    return Err(protocol(
                        &function_id,
                        &answer,
                        "206 with no ops".to_owned(),
                    ));
                }
                if ops.len() > 1 {
                    state.force_plan = true;
                }
                let mut completed = None;
                for op in &ops {
                    let settled =
                        settle(&run, &mut state, &mut queue, &call, &answer, op, depth).await?;
                    match settled {
                        Settled::Discover => discover = true,
                        Settled::Nothing => {}
                        Settled::Complete(value) => completed = Some(value),
                    }
                }
                if let Some(value) = completed {
                    break End::Completed(value);
                }
            }
            400 | 500 => {
                let error = error_body(&answer);
                let retryable = answer.no_retry != Some(true) && call.attempt + 1 < max_attempts;
                if retryable {
                    state.retries.push(RetryRecord {
                        step: None,
                        attempt: call.attempt,
                        message: error.message.clone(),
                        delay: retry_delay(&answer, call.attempt),
                    });
                    queue.push_front(Call {
                        target: call.target.clone(),
                        attempt: call.attempt + 1,
                    });
                } else {
                    break End::Failed(error);
                }
            }
            status => {
                return Err(protocol(
                    &function_id,
                    &answer,
                    format!("unexpected status {status}"),
                ));
            }
        }
    };

    let (status, output, error) = match end {
        End::Completed(value) => (RunStatus::Completed, Some(value), None),
        End::Failed(error) => (RunStatus::Failed, None, Some(error)),
    };
    let mut outcome = RunOutcome {
        function_id: function_id.clone(),
        run_id: run_id.clone(),
        status,
        output,
        error,
        steps: state.steps,
        sleeps: state.sleeps,
        retries: state.retries,
        requests: state.requests,
        on_failure: None,
    };

    if outcome.status == RunStatus::Failed
        && run.run_on_failure
        && let Some(handler) = runner.failure_handler(spec.id())
    {
        let failed = json!({
            "name": "inngest/function.failed",
            "data": {
                "function_id": function_id,
                "run_id": run_id,
                "error": outcome.error,
                "event": events[0],
            },
        });
        let handler_run = TestRun {
            runner,
            function: handler,
            events: vec![failed],
            steps: Default::default(),
            waits: Default::default(),
            invokes: Default::default(),
            max_requests: run.max_requests,
            run_on_failure: false,
        };
        outcome.on_failure = Some(Box::new(execute(handler_run, depth + 1).await?));
    }

    Ok(outcome)
}

/// What settling one op asks of the loop.
enum Settled {
    /// A step completed: call discovery once nothing else is queued.
    Discover,
    /// A call was queued (or nothing is needed).
    Nothing,
    /// The function returned inside a 206.
    Complete(Value),
}

/// Acts on one op the way the executor does.
async fn settle(
    run: &TestRun<'_>,
    state: &mut RunState,
    queue: &mut VecDeque<Call>,
    call: &Call,
    answer: &Answer,
    op: &Op,
    depth: usize,
) -> Result<Settled, TestingError> {
    let user_id = op
        .userland
        .as_ref()
        .map(|u| u.id.clone())
        .or_else(|| op.display_name.clone())
        .or_else(|| op.name.clone())
        .unwrap_or_else(|| op.id.clone());
    let data = || -> Value {
        op.data
            .as_ref()
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or(Value::Null)
    };
    let record = |op_code: OpCode| StepRecord {
        id: user_id.clone(),
        hashed_id: op.id.clone(),
        op: op_code,
        name: op.name.clone(),
        opts: op.opts.clone(),
        output: None,
        error: None,
        attempts: 0,
        mocked: false,
        invoked: None,
    };

    match op.op {
        OpCode::StepRun | OpCode::Step => {
            let attempts = bump(state, &op.id);
            let value = data();
            state.memoise(&op.id, &json!({ "data": value }));
            state.steps.push(StepRecord {
                output: Some(value),
                attempts,
                ..record(OpCode::StepRun)
            });
            Ok(Settled::Discover)
        }
        OpCode::StepError | OpCode::StepFailed => {
            let attempts = bump(state, &op.id);
            let error = op
                .error
                .clone()
                .unwrap_or_else(|| SerializedError::new("Error", "step failed"));
            // A `StepError` is retried while attempts remain and the SDK did not say
            // `X-Inngest-No-Retry: true`; a `StepFailed` is final at once.
            let max_attempts = run.function.spec().max_attempts();
            if op.op == OpCode::StepError
                && answer.no_retry != Some(true)
                && call.attempt + 1 < max_attempts
            {
                state.retries.push(RetryRecord {
                    step: Some(user_id),
                    attempt: call.attempt,
                    message: error.message,
                    delay: retry_delay(answer, call.attempt),
                });
                queue.push_front(Call {
                    target: call.target.clone(),
                    attempt: call.attempt + 1,
                });
                return Ok(Settled::Nothing);
            }
            state.memoise(&op.id, &json!({ "error": error }));
            state.steps.push(StepRecord {
                error: Some(error),
                attempts,
                ..record(OpCode::StepFailed)
            });
            Ok(Settled::Discover)
        }
        OpCode::StepPlanned => {
            if state.memo.contains_key(&op.id) || queued(queue, &op.id) {
                return Ok(Settled::Nothing);
            }
            let Some(mock) = run.steps.get(&user_id) else {
                queue.push_back(Call {
                    target: Some(op.id.clone()),
                    attempt: 0,
                });
                return Ok(Settled::Nothing);
            };
            let result = match mock {
                Mock::Value(value) => Ok(value.clone()),
                Mock::Error(error) => Err(error.clone()),
                Mock::Handler(handler) => {
                    handler().map_err(|message| SerializedError::new("Error", message))
                }
                Mock::Timeout => Ok(Value::Null),
            };
            let mut step = StepRecord {
                mocked: true,
                ..record(OpCode::StepPlanned)
            };
            match result {
                Ok(value) => {
                    state.memoise(&op.id, &json!({ "data": value }));
                    step.output = Some(value);
                }
                Err(error) => {
                    state.memoise(&op.id, &json!({ "error": error }));
                    step.error = Some(error);
                }
            }
            state.steps.push(step);
            Ok(Settled::Discover)
        }
        OpCode::Sleep => {
            let raw = op
                .opts
                .as_ref()
                .and_then(|o| o.get("duration"))
                .and_then(Value::as_str)
                .or(op.name.as_deref())
                .unwrap_or_default()
                .to_owned();
            state.sleeps.push(SleepRecord {
                step: user_id.clone(),
                duration: parse_duration(&raw).ok(),
                raw,
            });
            state.memoise(&op.id, &Value::Null);
            state.steps.push(record(OpCode::Sleep));
            Ok(Settled::Discover)
        }
        OpCode::WaitForEvent => {
            let event_name = op
                .opts
                .as_ref()
                .and_then(|o| o.get("event"))
                .and_then(Value::as_str)
                .or(op.name.as_deref())
                .unwrap_or_default()
                .to_owned();
            let answer = run
                .waits
                .get(&user_id)
                .or_else(|| run.waits.get(&event_name));
            let mut step = record(OpCode::WaitForEvent);
            // The record names the awaited event whichever op shape the SDK sends (the event in
            // `opts.event` and the step id as the name, or the event as the name).
            step.name = Some(event_name.clone());
            let value = match answer {
                Some(Mock::Value(data)) => {
                    step.mocked = true;
                    json!({
                        "name": event_name,
                        "data": data,
                        "id": ulid::Ulid::new().to_string(),
                        "ts": now_ms(),
                    })
                }
                Some(Mock::Handler(handler)) => {
                    step.mocked = true;
                    handler().unwrap_or(Value::Null)
                }
                Some(Mock::Timeout | Mock::Error(_)) | None => Value::Null,
            };
            state.memoise(&op.id, &value);
            step.output = Some(value);
            state.steps.push(step);
            Ok(Settled::Discover)
        }
        OpCode::InvokeFunction => {
            let opts = op.opts.clone().unwrap_or(Value::Null);
            let target = opts
                .get("function_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let bare = target
                .strip_prefix(&format!("{}-", run.runner.app_id))
                .unwrap_or(&target)
                .to_owned();
            let stub = run
                .invokes
                .get(&user_id)
                .or_else(|| run.invokes.get(&target))
                .or_else(|| run.invokes.get(&bare));
            let mut step = record(OpCode::InvokeFunction);
            let memo = match stub {
                Some(Mock::Value(value)) => {
                    step.mocked = true;
                    step.output = Some(value.clone());
                    json!({ "data": value })
                }
                Some(Mock::Error(error)) => {
                    step.mocked = true;
                    step.error = Some(error.clone());
                    json!({ "error": error })
                }
                Some(Mock::Handler(handler)) => {
                    step.mocked = true;
                    match handler() {
                        Ok(value) => {
                            step.output = Some(value.clone());
                            json!({ "data": value })
                        }
                        Err(message) => {
                            let error = SerializedError::new("Error", message);
                            step.error = Some(error.clone());
                            json!({ "error": error })
                        }
                    }
                }
                Some(Mock::Timeout) => Value::Null,
                None => {
                    let invoked = invoke_sibling(run, &target, &opts, &op.id, depth).await?;
                    let memo = match &invoked {
                        Ok(outcome) if outcome.is_completed() => {
                            step.output = outcome.output.clone();
                            json!({ "data": outcome.output })
                        }
                        Ok(outcome) => {
                            let error = outcome.error.clone().unwrap_or_else(|| {
                                SerializedError::new("Error", "the invoked function failed")
                            });
                            step.error = Some(error.clone());
                            json!({ "error": error })
                        }
                        Err(error) => {
                            step.error = Some(error.clone());
                            json!({ "error": error })
                        }
                    };
                    step.invoked = invoked.ok().map(Box::new);
                    memo
                }
            };
            state.memoise(&op.id, &memo);
            state.steps.push(step);
            Ok(Settled::Discover)
        }
        OpCode::RunComplete => Ok(Settled::Complete(data())),
        OpCode::None | OpCode::DiscoveryRequest | OpCode::DeferAdd | OpCode::DeferAbort => {
            Ok(Settled::Discover)
        }
        other => {
            // Gateways, AI inference and signals need an outside service; the step fails
            // with a message, as the embedded engine does.
            let error = SerializedError::new(
                "Error",
                format!("op `{other}` is not supported by the test runner"),
            );
            state.memoise(&op.id, &json!({ "error": error }));
            state.steps.push(StepRecord {
                error: Some(error),
                ..record(other)
            });
            Ok(Settled::Discover)
        }
    }
}

/// Runs the invoked function of the same app, as the server would; `Err` when there is no
/// such function (the step then fails, as on the server).
async fn invoke_sibling(
    run: &TestRun<'_>,
    target: &str,
    opts: &Value,
    hashed: &str,
    depth: usize,
) -> Result<Result<RunOutcome, SerializedError>, TestingError> {
    if depth + 1 > MAX_INVOKE_DEPTH {
        return Err(TestingError::InvokeDepth {
            function: target.to_owned(),
            depth: depth + 1,
        });
    }
    let Ok(function) = run.runner.find(target) else {
        return Ok(Err(SerializedError::new(
            "Error",
            format!("could not invoke `{target}`: no such function in this app"),
        )));
    };

    let mut data = opts
        .get("payload")
        .and_then(|p| p.get("data"))
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    data["_inngest"] = json!({
        "fn_id": target,
        "correlation_id": format!("{}.{hashed}", run.function.spec().id()),
        "source_app_id": run.runner.app_id,
        "source_fn_id": run.function.spec().composite_id(&run.runner.app_id),
    });
    let nested = TestRun {
        runner: run.runner,
        function,
        events: vec![json!({"name": "inngest/function.invoked", "data": data})],
        steps: Default::default(),
        waits: Default::default(),
        invokes: Default::default(),
        max_requests: run.max_requests,
        run_on_failure: run.run_on_failure,
    };

    Ok(Ok(execute(nested, depth + 1).await?))
}

fn bump(state: &mut RunState, hashed: &str) -> u32 {
    let count = state.step_attempts.entry(hashed.to_owned()).or_insert(0);
    *count += 1;
    *count
}

fn queued(queue: &VecDeque<Call>, hashed: &str) -> bool {
    queue.iter().any(|c| c.target.as_deref() == Some(hashed))
}

/// The events of the request, with `id`, `ts`, `data` and `user` filled in.
fn prepare_events(given: &[Value]) -> Result<Vec<Event>, TestingError> {
    let defaults = [json!({"name": "inngest/function.invoked", "data": {}})];
    let given = if given.is_empty() {
        &defaults[..]
    } else {
        given
    };

    given
        .iter()
        .map(|value| {
            let mut value = value.clone();
            if !value.is_object() {
                value = json!({"name": "inngest/function.invoked", "data": value});
            }
            if value.get("id").is_none() {
                value["id"] = Value::String(ulid::Ulid::new().to_string());
            }
            if value.get("ts").is_none() {
                value["ts"] = json!(now_ms());
            }
            if value.get("user").is_none() {
                value["user"] = json!({});
            }
            serde_json::from_value::<Event>(value).map_err(|err| TestingError::Protocol {
                function: String::new(),
                status: 0,
                reason: format!("a test event is not an event: {err}"),
            })
        })
        .collect()
}

fn json_body(function: &str, answer: &Answer) -> Result<Value, TestingError> {
    if answer.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&answer.body)
        .map_err(|err| protocol(function, answer, format!("the body is not JSON: {err}")))
}

fn error_body(answer: &Answer) -> SerializedError {
    serde_json::from_slice::<SerializedError>(&answer.body)
        .ok()
        .filter(|e| !e.message.is_empty() || !e.name.is_empty())
        .unwrap_or_else(|| {
            // A StepNotFound body or another non-error object: keep it readable.
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            let message = serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or(text);
            SerializedError::new("Error", message)
        })
}

/// The delay before the next attempt: `Retry-After` in seconds or as an instant, else the
/// server's backoff table without jitter.
fn retry_delay(answer: &Answer, attempt: u32) -> Duration {
    let asked = answer
        .retry_after
        .as_deref()
        .map(str::trim)
        .and_then(|value| {
            value
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs)
                .or_else(|| {
                    let at = nestling_inngest_protocol::duration::parse_instant(value)?;
                    let millis = at.timestamp_millis().saturating_sub(now_ms());
                    Some(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))
                })
        });

    asked.unwrap_or_else(|| Backoff::default().base_delay(attempt))
}

fn protocol(function: &str, answer: &Answer, reason: String) -> TestingError {
    TestingError::Protocol {
        function: function.to_owned(),
        status: answer.status,
        reason: format!(
            "{reason}; body: {}",
            String::from_utf8_lossy(&answer.body)
                .chars()
                .take(500)
                .collect::<String>()
        ),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
