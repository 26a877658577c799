//! The Rust twin of the JS SDK's "golden-app" (`shared/fixtures/js-sdk/gen/lib/app.js`): the
//! same functions, ids, options and step ids, written with this crate's attributes.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use nestling_inngest::{
    Ctx, Event, FunctionError, FunctionFailed, Invoke, NonRetriableError, RetryAfterError,
    WaitForEvent, functions,
};
use serde_json::{Value, json};

/// The service holding every golden function.
#[derive(Debug, Default)]
pub(crate) struct GoldenApp;

#[functions]
impl GoldenApp {
    #[function(id = "multi-step", name = "Multi step", event = "demo/multi.step")]
    async fn multi_step(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let n = ctx.event.data["n"].as_i64().unwrap_or(1);
        let first: Value = ctx
            .step
            .run("first", || async move {
                Ok::<_, FunctionError>(json!({ "n": n }))
            })
            .await?;
        let base = first["n"].as_i64().unwrap_or_default();
        let second: i64 = ctx
            .step
            .run("second", || async move { Ok::<_, FunctionError>(base + 1) })
            .await?;
        let mut looped = Vec::new();
        for i in 0..3 {
            looped.push(
                ctx.step
                    .run(
                        "loop-step",
                        || async move { Ok::<_, FunctionError>(i * 10) },
                    )
                    .await?,
            );
        }
        Ok(json!({ "first": first, "second": second, "loop": looped }))
    }

    #[on_event("demo/sleep")]
    async fn sleeper(&self, ctx: Ctx) -> Result<&'static str, FunctionError> {
        ctx.step.sleep("wait", "1h30m").await?;
        ctx.step.sleep("wait-90m", "90m").await?;
        ctx.step
            .sleep("wait-number", Duration::from_millis(5_415_000))
            .await?;
        let until = Utc
            .with_ymd_and_hms(2030, 1, 2, 3, 4, 5)
            .single()
            .unwrap_or_default();
        ctx.step.sleep_until("wait-until", until).await?;
        ctx.step
            .sleep_until("wait-until-string", "2031-06-01T00:00:00Z")
            .await?;
        Ok("slept")
    }

    #[on_event("demo/wait.start")]
    async fn waiter(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let approval = ctx
            .step
            .wait_for_event::<Value>(
                "wait-approval",
                WaitForEvent::new("demo/approved", "1d")
                    .expression("async.data.requestId == event.data.requestId"),
            )
            .await?;
        let matched = ctx
            .step
            .wait_for_event::<Value>(
                "wait-match",
                WaitForEvent::new("demo/matched", "30m").matching("data.userId"),
            )
            .await?;
        Ok(json!({ "approved": approval.is_some(), "approval": approval, "matched": matched }))
    }

    #[on_event("demo/send")]
    async fn sender(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let one = ctx
            .step
            .send_event("send-one", Event::new("demo/sent.one", json!({ "x": 1 })))
            .await?;
        let many = ctx
            .step
            .send_event(
                "send-many",
                vec![
                    Event::new("demo/sent.many", json!({ "i": 0 })),
                    Event::new("demo/sent.many", json!({ "i": 1 })).with_id("dedupe-id-1"),
                ],
            )
            .await?;
        Ok(json!({ "one": { "ids": one }, "many": { "ids": many } }))
    }

    #[on_event("demo/child")]
    async fn child(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let x = ctx.event.data["x"].as_i64().unwrap_or(0);
        let doubled: i64 = ctx
            .step
            .run("double", || async move { Ok::<_, FunctionError>(x * 2) })
            .await?;
        Ok(json!({ "doubled": doubled }))
    }

    #[on_event("demo/invoke")]
    async fn invoker(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let result: Value = ctx
            .step
            .invoke(
                "call-child",
                Invoke::function("child")
                    .data(json!({ "x": 21 }))
                    .timeout("1h"),
            )
            .await?;
        Ok(json!({ "childResult": result }))
    }

    #[on_event("demo/parallel")]
    async fn parallel(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let (a, b) = futures::join!(
            ctx.step
                .run("par-a", || async { Ok::<_, FunctionError>("A".to_owned()) }),
            ctx.step
                .run("par-b", || async { Ok::<_, FunctionError>("B".to_owned()) }),
        );
        let (a, b) = (a?, b?);
        let joined = format!("{a}{b}");
        let after: String = ctx
            .step
            .run("after-parallel", || async move {
                Ok::<_, FunctionError>(joined)
            })
            .await?;
        Ok(json!({ "a": a, "b": b, "after": after }))
    }

    #[on_event("demo/step.error")]
    #[retries(1)]
    async fn step_error(&self, ctx: Ctx) -> Result<&'static str, FunctionError> {
        ctx.step
            .run("boom", || async {
                Err::<(), _>(FunctionError::new("kaboom"))
            })
            .await?;
        Ok("unreachable")
    }

    #[on_event("demo/step.error.caught")]
    #[retries(0)]
    async fn step_error_caught(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let outcome = ctx
            .step
            .run("boom", || async {
                Err::<(), _>(FunctionError::named("TypeError", "bad type"))
            })
            .await;
        match outcome {
            Err(err) => Ok(json!({ "caught": err.name(), "message": err.message() })),
            Ok(()) => Ok(json!("unreachable")),
        }
    }

    #[on_event("demo/non.retriable")]
    async fn non_retriable(&self, ctx: Ctx) -> Result<&'static str, FunctionError> {
        ctx.step
            .run("fatal", || async {
                Err::<(), _>(NonRetriableError::new("no retry plz"))
            })
            .await?;
        Ok("unreachable")
    }

    #[on_event("demo/retry.after")]
    async fn retry_after(&self, ctx: Ctx) -> Result<&'static str, FunctionError> {
        ctx.step
            .run("rate-limited", || async {
                Err::<(), _>(RetryAfterError::new("slow down", Duration::from_secs(30)))
            })
            .await?;
        Ok("unreachable")
    }

    #[on_event("demo/fn.throws")]
    async fn fn_throws(&self, ctx: Ctx) -> Result<(), FunctionError> {
        match ctx.event.data["kind"].as_str() {
            Some("nonretriable") => Err(NonRetriableError::new("fn-level fatal").into()),
            Some("retryafter") => {
                let at = Utc
                    .with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
                    .single()
                    .unwrap_or_default();
                Err(RetryAfterError::new("fn-level later", at).into())
            }
            _ => Err(FunctionError::new("fn-level boom")),
        }
    }

    #[on_cron("0 9 * * 1-5", timezone = "Europe/Paris")]
    async fn cron(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let t: String = ctx
            .step
            .run("tick", || async {
                Ok::<_, FunctionError>("tock".to_owned())
            })
            .await?;
        Ok(json!({ "t": t, "eventName": ctx.event.name }))
    }

    #[function(
        id = "flow-control",
        name = "Flow control kitchen sink",
        event = "demo/flow.control"
    )]
    #[retries(5)]
    #[concurrency(limit = 5, key = "event.data.userId", scope = "fn")]
    #[concurrency(limit = 50, scope = "env", key = "\"shared-pool\"")]
    #[throttle(limit = 10, period = "1m", burst = 2, key = "event.data.userId")]
    #[rate_limit(limit = 100, period = "1h", key = "event.data.userId")]
    #[debounce(period = "5s", key = "event.data.userId", timeout = "1m")]
    // The JS app also sets `batchEvents { maxSize: 50, timeout: "10s", key }`, which Inngest
    // rejects next to cancel, debounce and priority; our attributes refuse the pair when the
    // code compiles, so the twin leaves batching out (see `golden.rs`).
    #[cancel_on(event = "demo/cancel", match = "data.userId", timeout = "1d")]
    #[cancel_on(
        event = "demo/cancel.if",
        if = "event.data.userId == async.data.userId"
    )]
    #[priority(run = "event.data.priority")]
    #[idempotency("event.data.userId")]
    #[timeouts(start = "10m", finish = "1h")]
    async fn flow_control(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let size = ctx.events.len();
        let count: usize = ctx
            .step
            .run("count", || async move { Ok::<_, FunctionError>(size) })
            .await?;
        Ok(json!({ "count": count }))
    }

    #[on_event("demo/with.failure")]
    #[retries(0)]
    #[on_failure(cleanup_failure)]
    async fn with_failure(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Err(FunctionError::new("primary failed"))
    }

    async fn cleanup_failure(&self, ctx: Ctx<FunctionFailed>) -> Result<Value, FunctionError> {
        let original = ctx.event.data.event.name.clone();
        let message = ctx.event.data.error.message.clone();
        let cleaned: Value = ctx
            .step
            .run("cleanup", || async move {
                Ok::<_, FunctionError>(json!({ "original": original, "message": message }))
            })
            .await?;
        Ok(json!({ "cleaned": cleaned }))
    }

    #[on_event("demo/multi.a")]
    #[on_event("demo/multi.b", if = "event.data.priority == 'high'")]
    async fn multi_trigger(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        Ok(json!({ "got": ctx.event.name }))
    }

    #[function(id = "if-trigger", event = "demo/if", if = "event.data.amount > 100")]
    async fn if_trigger(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        Ok(json!({ "amount": ctx.event.data["amount"] }))
    }
}
