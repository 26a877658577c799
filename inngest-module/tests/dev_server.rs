//! A Nestling app registers with the real Inngest dev server, which is then asked what it
//! stored: the shapes the NestJS package's end-to-end suite checks against the dev server
//! (several triggers, concurrency rules, batch, debounce, throttle, rate limit, idempotency
//! stored as a rate limit, cancel `match` rewritten to an `if`, the failure handler as a
//! function of its own), and two of its runtime checks (one function runs for each of its
//! triggers; the failure handler runs after a failure with no retries left).
//!
//! The dev server is `inngest dev` v1.43.0 as `scripts/setup` builds it; what it stored is read
//! through the GraphQL API its UI uses (`apps { functions { config } }`), where `config` is the
//! function as the server keeps it after parsing the app's registration.

#[path = "../../engine/tests/common/inngest_dev.rs"]
mod inngest_dev;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inngest_dev::{Api, DevServer, ServerKind};
use nestling::{Module, ModuleDef, NestlingApplication, Provider};
use nestling_inngest::{
    Ctx, FunctionError, FunctionFailed, InngestModule, InngestModuleOptions, functions,
};
use serde_json::{Value, json};

const APP: &str = "dev-shapes";

/// Functions whose registration the dev server is asked about; two of them also run. The
/// failure handler notes which run it handled in `handled` (failed run id → its own run id).
#[derive(Debug, Default)]
struct Shapes {
    handled: Arc<Mutex<HashMap<String, String>>>,
}

#[functions]
impl Shapes {
    #[on_event("shapes/multi.a")]
    #[on_event("shapes/multi.b", if = "event.data.vip == true")]
    async fn multi_trigger(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        Ok(json!({ "trigger": ctx.event.name }))
    }

    #[on_event("shapes/concurrency.two")]
    #[concurrency(limit = 5, key = "event.data.user", scope = "fn")]
    #[concurrency(limit = 20, key = "\"shared-pool\"", scope = "env")]
    async fn two_concurrency_rules(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/concurrency.one")]
    #[concurrency(limit = 3, key = "event.data.user")]
    async fn one_concurrency_rule(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/batch")]
    #[batch_events(
        max_size = 25,
        timeout = "30s",
        key = "event.data.user",
        if = "event.data.ok == true"
    )]
    async fn batched(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/debounce")]
    #[debounce(period = "5s", key = "event.data.user", timeout = "1m")]
    async fn debounced(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/throttle")]
    #[throttle(limit = 10, period = "1m", burst = 2, key = "event.data.user")]
    #[retries(4)]
    #[priority(run = "event.data.tier == 'vip' ? 120 : 0")]
    #[timeouts(start = "10m", finish = "1h")]
    async fn throttled(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/rate.limit")]
    #[rate_limit(limit = 100, period = "1h", key = "event.data.user")]
    async fn rate_limited(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/idempotent")]
    #[idempotency("event.data.order")]
    async fn idempotent(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/cancellable")]
    #[cancel_on(event = "shapes/cancel", match = "data.order", timeout = "1d")]
    #[singleton(key = "event.data.user", mode = "cancel")]
    async fn cancellable(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("shapes/with.failure")]
    #[retries(0)]
    #[on_failure(clean_up)]
    async fn with_failure(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Err(FunctionError::new("failed on purpose"))
    }

    async fn clean_up(&self, ctx: Ctx<FunctionFailed>) -> Result<Value, FunctionError> {
        let failed = &ctx.event.data;
        if let Ok(mut handled) = self.handled.lock() {
            handled.insert(failed.run_id.clone(), ctx.run_id.clone());
        }
        Ok(json!({ "handled": failed.error.message }))
    }
}

/// The app: the Inngest module pointed at the dev server, and the functions above.
struct ShapesModule {
    dev_url: String,
    handled: Arc<Mutex<HashMap<String, String>>>,
}

impl Module for ShapesModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("ShapesModule")
            .import(InngestModule::for_root(
                InngestModuleOptions::new(APP)
                    .base_url(self.dev_url.clone())
                    .dev(true)
                    .serve_host("127.0.0.1"),
            ))
            .provider(Provider::value(Shapes {
                handled: self.handled.clone(),
            }))
    }
}

/// The dev server's stored configuration of each function of the app, by slug without the
/// app prefix.
fn stored(apps: &[Value]) -> Result<serde_json::Map<String, Value>, String> {
    let app = apps
        .iter()
        .find(|a| a["name"] == APP)
        .ok_or_else(|| format!("the dev server has no app {APP}: {apps:?}"))?;
    let mut by_slug = serde_json::Map::new();
    for function in app["functions"].as_array().into_iter().flatten() {
        let slug = function["slug"].as_str().unwrap_or_default();
        let config: Value = serde_json::from_str(function["config"].as_str().unwrap_or("null"))
            .map_err(|e| format!("the stored config of {slug} is not JSON: {e}"))?;
        let mut entry = function.clone();
        entry["config"] = config;
        by_slug.insert(
            slug.trim_start_matches(&format!("{APP}-")).to_owned(),
            entry,
        );
    }
    Ok(by_slug)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_server_stores_each_registration_shape() {
    let dev = DevServer::start().await.unwrap_or_else(|e| panic!("{e}"));
    let handled = Arc::new(Mutex::new(HashMap::new()));
    let app = NestlingApplication::create(ShapesModule {
        dev_url: dev.url().to_owned(),
        handled: handled.clone(),
    })
    .await
    .expect("the app builds");
    let server = app.start("127.0.0.1:0").await.expect("the app listens");
    let api = Api::new(ServerKind::InngestDev, dev.url()).unwrap_or_else(|e| panic!("{e}"));
    api.wait_for_function(&format!("{APP}-with-failure-failure"))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the app's registration did not land: {e}\n{}",
                dev.log_tail()
            )
        });

    let apps = dev.apps().await.unwrap_or_else(|e| panic!("{e}"));
    let fns = stored(&apps).unwrap_or_else(|e| panic!("{e}"));
    let config = |slug: &str| {
        fns.get(slug)
            .map(|f| f["config"].clone())
            .unwrap_or_else(|| panic!("the dev server stored no function {slug}: {:?}", fns.keys()))
    };

    // Several event attributes: one function with one trigger each, the `if` kept.
    assert_eq!(
        config("multi-trigger")["triggers"],
        json!([
            {"event": "shapes/multi.a"},
            {"event": "shapes/multi.b", "expression": "event.data.vip == true"}
        ])
    );

    // Two concurrency rules keep their order and their scopes.
    let two = config("two-concurrency-rules")["concurrency"].clone();
    assert_eq!(two.as_array().map(Vec::len), Some(2), "{two}");
    assert_eq!(two[0]["limit"], 5, "{two}");
    assert_eq!(two[0]["key"], "event.data.user", "{two}");
    assert_eq!(two[1]["limit"], 20, "{two}");
    assert_eq!(two[1]["key"], "\"shared-pool\"", "{two}");
    assert_eq!(
        (&two[0]["scope"], &two[1]["scope"]),
        (&json!("Fn"), &json!("Env")),
        "{two}"
    );

    // A single rule comes back as a one-element list with its scope and key hash filled in.
    let one = config("one-concurrency-rule")["concurrency"].clone();
    assert_eq!(one.as_array().map(Vec::len), Some(1), "{one}");
    assert_eq!(one[0]["limit"], 3, "{one}");
    assert_eq!(one[0]["key"], "event.data.user", "{one}");
    assert_eq!(one[0]["scope"], "Fn", "{one}");
    assert!(
        one[0]["hash"].as_str().is_some_and(|h| !h.is_empty()),
        "{one}"
    );

    assert_eq!(
        config("batched")["batchEvents"],
        json!({"maxSize": 25, "timeout": "30s", "key": "event.data.user", "if": "event.data.ok == true"})
    );
    assert_eq!(
        config("debounced")["debounce"],
        json!({"period": "5s", "key": "event.data.user", "timeout": "1m"})
    );

    let throttled = config("throttled");
    assert_eq!(
        throttled["throttle"],
        json!({"limit": 10, "period": "1m", "burst": 2, "key": "event.data.user"})
    );
    assert_eq!(throttled["steps"][0]["retries"], 4, "{throttled}");
    assert_eq!(
        throttled["priority"],
        json!({"run": "event.data.tier == 'vip' ? 120 : 0"})
    );
    assert_eq!(
        throttled["timeouts"],
        json!({"start": "10m", "finish": "1h"})
    );

    assert_eq!(
        config("rate-limited")["rateLimit"],
        json!({"limit": 100, "period": "1h", "key": "event.data.user"})
    );

    // The server turns idempotency into a rate limit of one per key per day.
    assert_eq!(
        config("idempotent")["rateLimit"],
        json!({"limit": 1, "period": "24h0m0s", "key": "event.data.order"})
    );

    // `match` is sent as the `if` the server evaluates; the singleton rule is kept.
    let cancellable = config("cancellable");
    assert_eq!(
        cancellable["cancel"],
        json!([{"event": "shapes/cancel", "timeout": "1d", "if": "event.data.order == async.data.order"}])
    );
    assert_eq!(
        cancellable["singleton"],
        json!({"key": "event.data.user", "mode": "cancel"})
    );

    // The failure handler is a function of its own, on `inngest/function.failed` for this one.
    let handler = &fns["with-failure-failure"];
    assert_eq!(handler["name"], "with-failure (failure)");
    assert_eq!(
        handler["config"]["triggers"],
        json!([{
            "event": "inngest/function.failed",
            "expression": format!("event.data.function_id == '{APP}-with-failure'")
        }])
    );
    assert_eq!(
        fns["with-failure"]["failureHandler"]["slug"],
        format!("{APP}-with-failure-failure")
    );
    assert_eq!(fns.len(), 11, "{:?}", fns.keys());

    runs_for_each_trigger_and_handles_the_failure(&api, &handled).await;

    server.close().await.expect("the app shuts down");
}

/// The runtime half: one function runs once for each of its triggers, and the failure handler
/// runs after the function failed with no retries left, on the dev server.
async fn runs_for_each_trigger_and_handles_the_failure(
    api: &Api,
    handled: &Mutex<HashMap<String, String>>,
) {
    let fail = |e: String| -> ! { panic!("{e}") };
    for (event, data) in [
        ("shapes/multi.a", json!({})),
        ("shapes/multi.b", json!({"vip": true})),
    ] {
        let id = api.send_one(event, data).await.unwrap_or_else(|e| fail(e));
        let run = api.run_of(&id).await.unwrap_or_else(|e| fail(e));
        let run = api.record(&run).await.unwrap_or_else(|e| fail(e));
        assert_eq!(run.status, "Completed", "{event}: {run:?}");
        assert_eq!(run.output, json!({ "trigger": event }), "{event}: {run:?}");
    }

    let id = api
        .send_one("shapes/with.failure", json!({}))
        .await
        .unwrap_or_else(|e| fail(e));
    let failed = api.run_of(&id).await.unwrap_or_else(|e| fail(e));
    let run = api.record(&failed).await.unwrap_or_else(|e| fail(e));
    assert_eq!(run.status, "Failed", "{run:?}");

    let deadline = Instant::now() + Duration::from_secs(20);
    let handler = loop {
        let seen = handled.lock().ok().and_then(|h| h.get(&failed).cloned());
        if let Some(handler) = seen {
            break handler;
        }
        assert!(
            Instant::now() < deadline,
            "no failure handler ran for run {failed} within 20 s"
        );
        tokio::time::sleep(inngest_dev::POLL).await;
    };
    let handler = api.record(&handler).await.unwrap_or_else(|e| fail(e));
    assert_eq!(handler.status, "Completed", "{handler:?}");
    assert_eq!(handler.output, json!({ "handled": "failed on purpose" }));
}
