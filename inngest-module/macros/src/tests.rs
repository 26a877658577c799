//! From attributes on an impl block to the function specs, end to end.
//!
//! The expected JSON of each option is the function config the official JS SDK (4.24) sent when
//! it synced the golden app, with the app prefix removed from the id and `retries` in place of
//! the `steps` object, as the runtime expects.

use nestling_inngest_protocol::{FunctionConfig, StepConfig};
use serde_json::{Value, json};

use crate::emit::failure_json;
use crate::errors::Errors;
use crate::expand::analyse;

/// The spec of every function of `block` (failure handlers last), or every error message.
fn specs(block: &str) -> Result<Vec<Value>, Vec<String>> {
    let mut block: syn::ItemImpl = syn::parse_str(block).expect("test input is an impl block");
    let mut errors = Errors::default();
    let analysis = analyse(&mut block, &mut errors);
    if !errors.is_empty() {
        return Err(errors.messages());
    }

    let mut out: Vec<Value> = analysis
        .functions
        .iter()
        .map(|f| serde_json::from_str(&f.spec.to_json(&f.ident.to_string()).render()).unwrap())
        .collect();
    for spec in &out {
        accepted_by_protocol(spec);
    }
    for companion in &analysis.companions {
        let primary = &analysis.functions[companion.primary];
        out.push(serde_json::from_str(&failure_json(primary).render()).unwrap());
    }
    Ok(out)
}

/// Every spec the macro accepts must read as the protocol crate's `FunctionConfig` and pass
/// its checks, which follow the server's, once the runtime adds the step it knows the URL of.
fn accepted_by_protocol(spec: &Value) {
    let mut config: FunctionConfig = serde_json::from_value(spec.clone())
        .unwrap_or_else(|err| panic!("{spec} does not read as a FunctionConfig: {err}"));
    let url = format!(
        "http://127.0.0.1:3000/api/inngest?fnId=app-{}&stepId=step",
        config.id
    );
    config
        .steps
        .insert("step".to_owned(), StepConfig::http(url, config.retries));

    if let Err(problem) = config.validate() {
        panic!("the protocol crate rejects {spec}: {problem}");
    }
}

fn only_spec(block: &str) -> Value {
    match specs(block) {
        Ok(mut specs) if specs.len() == 1 => specs.remove(0),
        other => panic!("expected one spec, got {other:?}"),
    }
}

fn errors(block: &str) -> Vec<String> {
    match specs(block) {
        Err(messages) => messages,
        Ok(specs) => panic!("expected errors, got {specs:?}"),
    }
}

#[test]
fn shorthand_event_defaults_id_to_kebab_case_and_name_to_id() {
    let spec = only_spec(
        r#"impl Svc {
            #[on_event("demo/step.error")]
            #[retries(1)]
            async fn step_error(&self, ctx: Context) -> Result<(), Error> { Ok(()) }
        }"#,
    );

    assert_eq!(
        spec,
        json!({"id": "step-error", "name": "step-error", "triggers": [{"event": "demo/step.error"}], "retries": 1})
    );
}

#[test]
fn several_event_attributes_make_several_triggers_with_their_own_if() {
    let spec = only_spec(
        r#"impl Svc {
            #[on_event("demo/multi.a")]
            #[on_event("demo/multi.b", if = "event.data.priority == 'high'")]
            async fn multi_trigger(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(
        spec["triggers"],
        json!([{"event": "demo/multi.a"}, {"event": "demo/multi.b", "expression": "event.data.priority == 'high'"}])
    );
}

#[test]
fn on_events_and_the_full_form_list_events() {
    let specs = specs(
        r#"impl Svc {
            #[on_events("user.login", "user.purchase")]
            async fn activity(&self, ctx: Context) {}

            #[function(id = "if-trigger", event = "demo/if", if = "event.data.amount > 100")]
            async fn guarded(&self, ctx: Context) {}

            #[function(name = "Both", events = ["a", "b"], cron = "*/5 * * * *")]
            async fn both(&self, ctx: Context) {}
        }"#,
    )
    .unwrap();

    assert_eq!(
        specs[0]["triggers"],
        json!([{"event": "user.login"}, {"event": "user.purchase"}])
    );
    assert_eq!(
        specs[1],
        json!({"id": "if-trigger", "name": "if-trigger", "triggers": [{"event": "demo/if", "expression": "event.data.amount > 100"}]})
    );
    assert_eq!(
        specs[2],
        json!({"id": "both", "name": "Both", "triggers": [{"event": "a"}, {"event": "b"}, {"cron": "*/5 * * * *"}]})
    );
}

#[test]
fn cron_with_a_time_zone_is_prefixed_as_the_server_parses_it() {
    let spec = only_spec(
        r#"impl Svc {
            #[on_cron("0 9 * * 1-5", timezone = "Europe/Paris", jitter = "30s")]
            async fn cron(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(
        spec,
        json!({"id": "cron", "name": "cron", "triggers": [{"cron": "TZ=Europe/Paris 0 9 * * 1-5", "jitter": "30s"}]})
    );
}

#[test]
fn every_flow_control_option_matches_the_js_sdk() {
    let spec = only_spec(
        r#"impl Svc {
            #[function(id = "flow-control", name = "Flow control kitchen sink", event = "demo/flow.control")]
            #[retries(5)]
            #[idempotency("event.data.userId")]
            #[rate_limit(limit = 100, period = "1h", key = "event.data.userId")]
            #[throttle(limit = 10, period = "1m", burst = 2, key = "event.data.userId")]
            #[concurrency(limit = 5, key = "event.data.userId", scope = "fn")]
            #[concurrency(limit = 50, scope = "env", key = "\"shared-pool\"")]
            #[debounce(period = "5s", key = "event.data.userId", timeout = "1m")]
            #[priority(run = "event.data.priority")]
            #[timeouts(start = "10m", finish = "1h")]
            #[cancel_on(event = "demo/cancel", match = "data.userId", timeout = "1d")]
            #[cancel_on(event = "demo/cancel.if", if = "event.data.userId == async.data.userId")]
            #[singleton(key = "event.data.userId", mode = "cancel")]
            #[use_middleware("audit", "timing")]
            async fn flow_control(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(
        spec,
        json!({
            "id": "flow-control",
            "name": "Flow control kitchen sink",
            "triggers": [{"event": "demo/flow.control"}],
            "retries": 5,
            "idempotency": "event.data.userId",
            "rateLimit": {"limit": 100, "period": "1h", "key": "event.data.userId"},
            "throttle": {"limit": 10, "period": "1m", "burst": 2, "key": "event.data.userId"},
            "concurrency": [
                {"limit": 5, "key": "event.data.userId", "scope": "fn"},
                {"limit": 50, "scope": "env", "key": "\"shared-pool\""}
            ],
            "debounce": {"period": "5s", "key": "event.data.userId", "timeout": "1m"},
            "priority": {"run": "event.data.priority"},
            "timeouts": {"start": "10m", "finish": "1h"},
            "cancel": [
                {"event": "demo/cancel", "timeout": "1d", "if": "event.data.userId == async.data.userId"},
                {"event": "demo/cancel.if", "if": "event.data.userId == async.data.userId"}
            ],
            "singleton": {"key": "event.data.userId", "mode": "cancel"},
            "middleware": ["audit", "timing"]
        })
    );
}

#[test]
fn the_full_form_takes_every_option_as_a_key() {
    let from_keys = specs(
        r#"impl Svc {
            #[function(
                event = "demo/batch",
                retries = 3,
                concurrency(limit = 5, key = "event.data.userId"),
                rate_limit(100, "1h"),
                throttle(10, "1m", burst = 2),
                batch_events(max_size = 50, timeout = "10s", key = "event.data.userId", if = "event.data.ok"),
                idempotency = "event.data.id",
                timeouts(finish = "2h"),
                on_failure = cleanup,
                middleware = ["audit"],
            )]
            async fn batched(&self, ctx: Context) {}

            async fn cleanup(&self, ctx: FailureContext) {}
        }"#,
    )
    .unwrap();
    let from_attributes = specs(
        r#"impl Svc {
            #[on_event("demo/batch")]
            #[retries(3)]
            #[concurrency(5, key = "event.data.userId")]
            #[rate_limit(100, "1h")]
            #[throttle(10, "1m", burst = 2)]
            #[batch_events(50, "10s", key = "event.data.userId", if = "event.data.ok")]
            #[idempotency = "event.data.id"]
            #[timeouts(finish = "2h")]
            #[on_failure(cleanup)]
            #[use_middleware("audit")]
            async fn batched(&self, ctx: Context) {}

            async fn cleanup(&self, ctx: FailureContext) {}
        }"#,
    )
    .unwrap();

    assert_eq!(from_keys, from_attributes);
    assert_eq!(
        from_keys[0]["batchEvents"],
        json!({"maxSize": 50, "timeout": "10s", "key": "event.data.userId", "if": "event.data.ok"})
    );
}

#[test]
fn a_bare_concurrency_limit_is_a_number_as_in_the_js_sdk() {
    let spec = only_spec(
        r#"impl Svc {
            #[function(event = "a", concurrency = 10)]
            async fn f(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(spec["concurrency"], json!(10));
}

#[test]
fn priority_accepts_an_integer_and_keeps_it_as_an_expression() {
    let spec = only_spec(
        r#"impl Svc {
            #[on_event("a")]
            #[priority(run = -600)]
            async fn f(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(spec["priority"], json!({"run": "-600"}));
}

#[test]
fn on_failure_adds_a_companion_named_as_the_js_sdk_names_it() {
    let specs = specs(
        r#"impl Svc {
            #[on_event("demo/with.failure")]
            #[retries(0)]
            #[on_failure(handle_failure)]
            async fn with_failure(&self, ctx: Context) -> Result<(), Error> { Ok(()) }

            async fn handle_failure(&self, ctx: FailureContext) -> Result<(), Error> { Ok(()) }
        }"#,
    )
    .unwrap();

    assert_eq!(specs.len(), 2);
    assert_eq!(specs[0]["retries"], json!(0));
    assert_eq!(specs[1]["id"], json!("with-failure-failure"));
    assert_eq!(specs[1]["name"], json!("with-failure (failure)"));
    assert_eq!(specs[1]["onFailure"], json!("with-failure"));
}

#[test]
fn unknown_keys_suggest_the_closest_valid_one() {
    let messages = errors(
        r#"impl Svc {
            #[function(event = "a", concurency = 5)]
            #[rate_limit(limt = 3, period = "1h")]
            async fn f(&self, ctx: Context) {}
        }"#,
    );

    assert!(
        messages[0]
            .starts_with("unknown key `concurency` in `#[function]`; did you mean `concurrency`?"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("unknown key `limt` in `#[rate_limit]`; did you mean `limit`?"),
        "{messages:?}"
    );
}

#[test]
fn durations_cron_and_ranges_are_checked() {
    let messages = errors(
        r#"impl Svc {
            #[on_cron("0 9 * *")]
            #[retries(21)]
            #[debounce("500ms")]
            #[rate_limit(10, "5 minutes")]
            async fn f(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(
        messages,
        [
            "invalid cron expression \"0 9 * *\": expected exactly 5 fields, found 4; the fields are minute, hour, day of month, month and day of week, such as \"0 9 * * 1-5\"",
            "Inngest allows at most 20 retries, got 21; choose a number from 0 to 20",
            "the debounce period \"500ms\" is shorter than the minimum of 1s",
            "the rate-limit period \"5 minutes\" is not a duration: unknown unit \" minutes\"; use one of ns, us, ms, s, m, h, d, w; write a number and a unit, such as \"30s\", \"5m\" or \"1h30m\"",
        ]
    );
}

#[test]
fn batching_excludes_cancel_debounce_singleton_and_priority() {
    let messages = errors(
        r#"impl Svc {
            #[on_event("a")]
            #[batch_events(max_size = 10, timeout = "5s")]
            #[debounce("5s")]
            #[cancel_on("b")]
            #[singleton(mode = "skip")]
            #[priority("1")]
            async fn f(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(messages.len(), 4, "{messages:?}");
    for (message, option) in messages
        .iter()
        .zip(["cancel_on", "debounce", "singleton", "priority"])
    {
        assert!(
            message.starts_with(&format!(
                "`{option}` cannot be combined with `batch_events`"
            )),
            "{message}"
        );
    }
}

#[test]
fn limits_on_rule_counts_and_batch_sizes() {
    let messages = errors(
        r#"impl Svc {
            #[on_event("a")]
            #[concurrency(1)]
            #[concurrency(2, key = "event.data.a")]
            #[concurrency(3, key = "event.data.b")]
            #[cancel_on("c1")] #[cancel_on("c2")] #[cancel_on("c3")] #[cancel_on("c4")] #[cancel_on("c5")] #[cancel_on("c6")]
            async fn f(&self, ctx: Context) {}

            #[on_event("b")]
            #[batch_events(1, "1d")]
            #[concurrency(5, scope = "account")]
            async fn g(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(
        messages,
        [
            "a function takes at most 2 concurrency rules; remove this one or merge it into another",
            "a function takes at most 5 `cancel_on` rules; remove this one",
            "`max_size` in `#[batch_events]` must be at least 2, got 1",
            "the batch timeout \"1d\" uses days or weeks, which Inngest does not accept here; write it in h, m or s, such as \"10s\"",
            "a concurrency rule scoped to \"account\" needs a `key`, such as key = \"\\\"shared-pool\\\"\" or key = \"event.data.account_id\"",
        ]
    );
}

#[test]
fn on_failure_must_name_another_method_of_the_block() {
    let messages = errors(
        r#"impl Svc {
            #[on_event("a")]
            #[on_failure(handle_failur)]
            async fn f(&self, ctx: Context) {}

            #[on_event("b")]
            #[on_failure(g)]
            async fn g(&self, ctx: Context) {}

            async fn handle_failure(&self, ctx: FailureContext) {}
        }"#,
    );

    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("`handle_failur`, which is not a method of this impl block; did you mean `handle_failure`?"), "{}", messages[0]);
    assert!(
        messages[1].starts_with("a function cannot be its own failure handler"),
        "{}",
        messages[1]
    );
}

#[test]
fn handler_signatures_must_be_async_methods_taking_the_context() {
    let messages = errors(
        r#"impl Svc {
            #[on_event("a")]
            fn not_async(&self, ctx: Context) {}

            #[on_event("b")]
            async fn no_self(ctx: Context) {}

            #[on_event("c")]
            async fn mut_self(&mut self, ctx: Context) {}

            #[on_event("d")]
            async fn two(&self, ctx: Context, extra: u8) {}

            #[on_event("e")]
            async fn none(&self) {}
        }"#,
    );

    let expected = [
        "an Inngest function must be an `async fn`",
        "an Inngest function is a method: its first parameter must be `&self`",
        "an Inngest function takes `&self`: the service is shared between concurrent runs",
        "an Inngest function takes exactly one parameter after `&self`, the run context",
        "an Inngest function takes the run context after `&self`",
    ];
    assert_eq!(messages.len(), expected.len(), "{messages:?}");
    for (message, start) in messages.iter().zip(expected) {
        assert!(message.starts_with(start), "{message}");
    }
}

#[test]
fn duplicate_ids_and_options_are_reported() {
    let messages = errors(
        r#"impl Svc {
            #[function(id = "same", event = "a", retries = 1)]
            #[retries(2)]
            async fn f(&self, ctx: Context) {}

            #[on_event("b", id = "same")]
            async fn g(&self, ctx: Context) {}
        }"#,
    );

    assert_eq!(
        messages,
        [
            "`retries` is set twice on this function; keep one",
            "the function id \"same\" is already used by `f` in this impl block; give one of them another `id`",
        ]
    );
}

#[test]
fn methods_without_our_attributes_are_left_alone() {
    let specs = specs(
        r#"impl Svc {
            fn helper(&self) -> u8 { 1 }

            #[on_event("a")]
            async fn f(&self, ctx: Context) {}
        }"#,
    )
    .unwrap();

    assert_eq!(specs.len(), 1);
}
