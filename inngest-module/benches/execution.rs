//! The cost of one call request for a function whose steps are all memoised but the last one
//! reached: 10, 100 and 1,000 steps, through the serve endpoint (signature-free dev mode,
//! in process, one thread). Each request replays every memoised step and answers the run's
//! result, which is what the executor's last request of a long run costs.
//!
//! Run with `cargo bench -p nestling-inngest --bench execution`. Besides criterion's figures
//! it prints requests per second and the 1,000/100 cost ratio, which must stay ≤ 12 (linear
//! growth).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nestling_inngest::__private::{FUNCTION_KIND, MethodEntry, SPEC_KEY, invoke_handler};
use nestling_inngest::{
    Ctx, DefaultInngestService, FunctionError, FunctionRegistry, InngestModuleOptions,
    MiddlewarePool, ServeEndpoint,
};
use nestling_inngest_protocol::{StepIdCounter, hash_step_id};
use poem::http::Method;
use poem::{Body, Endpoint, Request};
use serde_json::{Value, json};

struct BenchApp;

impl BenchApp {
    async fn steps(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let n = ctx.event.data["n"].as_u64().unwrap_or(0);
        let mut total = 0_u64;
        for i in 0..n {
            total += ctx
                .step
                .run("step", || async move { Ok::<_, FunctionError>(i) })
                .await?;
        }
        Ok(json!({ "total": total }))
    }
}

static ENTRY: MethodEntry = MethodEntry {
    provider: || std::any::TypeId::of::<BenchApp>(),
    provider_name: "BenchApp",
    method: "steps",
    kind: FUNCTION_KIND,
    metadata: &[(
        SPEC_KEY,
        r#"{"id":"steps","name":"steps","triggers":[{"event":"bench/steps"}]}"#,
    )],
    call: |instance, input| {
        invoke_handler::<BenchApp, Value, _, _, _>(instance, input, |app, ctx| async move {
            app.steps(ctx).await
        })
    },
};

fn endpoint() -> ServeEndpoint {
    let options = InngestModuleOptions::new("bench")
        .resolve(&BTreeMap::from([("INNGEST_DEV", "1")]))
        .unwrap();
    let registry = FunctionRegistry::new();
    registry
        .add(&ENTRY, Arc::new(BenchApp), &MiddlewarePool::default())
        .unwrap();
    let service =
        Arc::new(DefaultInngestService::new(options, Arc::new(registry.clone())).unwrap());
    ServeEndpoint::new(service, registry)
}

/// A call request with `n` memoised steps.
fn body(n: u64) -> Vec<u8> {
    let mut counter = StepIdCounter::new();
    let mut steps = serde_json::Map::new();
    let mut stack = Vec::new();
    for i in 0..n {
        let id = counter.next("step");
        steps.insert(id.hashed.clone(), json!({ "data": i }));
        stack.push(id.hashed);
    }
    assert_eq!(
        stack.first().cloned(),
        (n > 0).then(|| hash_step_id("step"))
    );
    let event = json!({"name": "bench/steps", "data": {"n": n}, "id": "01BENCH", "ts": 1});
    serde_json::to_vec(&json!({
        "event": event, "events": [event], "steps": steps,
        "ctx": {"run_id": "01RUN", "attempt": 0, "max_attempts": 4,
                "stack": {"stack": stack, "current": n}, "disable_immediate_execution": false,
                "use_api": false},
        "version": 2, "use_api": false,
    }))
    .unwrap()
}

async fn call(endpoint: &ServeEndpoint, body: &[u8]) {
    let request = Request::builder()
        .method(Method::POST)
        .uri_str("/api/inngest?fnId=bench-steps&stepId=step")
        .content_type("application/json")
        .body(Body::from(body.to_vec()));
    let response = endpoint.call(request).await.unwrap();
    assert_eq!(response.status(), 200);
}

fn per_request(rt: &tokio::runtime::Runtime, endpoint: &ServeEndpoint, body: &[u8]) -> Duration {
    let rounds = 200_000 / (body.len() / 64 + 1) + 20;
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..rounds {
            call(endpoint, body).await;
        }
    });
    start.elapsed() / u32::try_from(rounds).unwrap_or(u32::MAX)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let endpoint = endpoint();

    let mut group = c.benchmark_group("memoised_steps");
    for n in [10_u64, 100, 1_000] {
        let body = body(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            b.to_async(&rt).iter(|| call(&endpoint, body));
        });
    }
    group.finish();

    let costs: Vec<(u64, Duration)> = [10_u64, 100, 1_000]
        .into_iter()
        .map(|n| (n, per_request(&rt, &endpoint, &body(n))))
        .collect();
    for (n, cost) in &costs {
        #[expect(clippy::print_stdout, reason = "the benchmark's report")]
        {
            println!(
                "{n:>5} memoised steps: {:>10.1} µs/request, {:>9.0} requests/s on one core",
                cost.as_secs_f64() * 1e6,
                1.0 / cost.as_secs_f64()
            );
        }
    }
    let ratio = costs[2].1.as_secs_f64() / costs[1].1.as_secs_f64();
    #[expect(clippy::print_stdout, reason = "the benchmark's report")]
    {
        println!("cost(1000) / cost(100) = {ratio:.2} (must be ≤ 12)");
    }
    assert!(
        ratio <= 12.0,
        "per-request cost grows faster than linearly: ratio {ratio:.2}"
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
