//! The functions the benchmark measures, the Rust twins of `js/sdk-app/perf.mjs`.

use std::sync::OnceLock;
use std::time::Instant;

use nestling::Injectable;
use nestling_inngest::{Ctx, FunctionError, functions};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

/// What step `s<i>` returns: `{ i, ok: true }`, as in the JS app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StepResult {
    i: usize,
    ok: bool,
}

/// Where `three_steps` reports the end of its runs (the `i` of the triggering event and the
/// instant), when a driver in this process listens; see `drive.rs`.
pub(crate) static COMPLETIONS: OnceLock<UnboundedSender<(u64, Instant)>> = OnceLock::new();

/// The service whose methods are the benchmark's functions.
#[derive(Debug, Default, Injectable)]
pub(crate) struct BenchService;

/// `steps` sequential `step.run("s<i>")` calls, each returning `{ i, ok: true }`; answers the
/// last result.
async fn sequential_steps(ctx: &Ctx, steps: usize) -> Result<Option<StepResult>, FunctionError> {
    let mut last = None;
    for i in 0..steps {
        let result: StepResult = ctx
            .step
            .run(format!("s{i}"), || async move {
                Ok::<_, FunctionError>(StepResult { i, ok: true })
            })
            .await?;
        last = Some(result);
    }
    Ok(last)
}

#[functions]
impl BenchService {
    /// The function of the 10-step replay request (10 memoised steps, the 11th to run).
    #[on_event("bench/steps", id = "perf-steps-11")]
    async fn perf_steps_11(&self, ctx: Ctx) -> Result<Option<StepResult>, FunctionError> {
        sequential_steps(&ctx, 11).await
    }

    /// The function of the 100-step replay request.
    #[on_event("bench/steps", id = "perf-steps-101")]
    async fn perf_steps_101(&self, ctx: Ctx) -> Result<Option<StepResult>, FunctionError> {
        sequential_steps(&ctx, 101).await
    }

    /// The 3-step function of the engine benchmark; reports its end to the driver.
    #[on_event("bench/three", id = "three-steps")]
    async fn three_steps(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let a: u64 = ctx
            .step
            .run("a", || async { Ok::<_, FunctionError>(1) })
            .await?;
        let b: u64 = ctx
            .step
            .run("b", || async { Ok::<_, FunctionError>(2) })
            .await?;
        let c: u64 = ctx
            .step
            .run("c", || async { Ok::<_, FunctionError>(3) })
            .await?;

        // Only the final request, with every step memoised, gets here; a retried final request
        // reports again, which the driver ignores.
        let i = ctx
            .event
            .data
            .get("i")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        if let Some(completions) = COMPLETIONS.get() {
            let _ = completions.send((i, Instant::now()));
        }
        Ok(json!([a, b, c]))
    }
}
