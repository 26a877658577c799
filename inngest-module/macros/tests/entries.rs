//! A realistic service expanded for real: the entries land in the container's link-time table
//! with the spec the runtime reads, and the generated shim calls into the runtime.

use std::any::TypeId;
use std::sync::Arc;

use nestling::discovery::{METHOD_ENTRIES, MethodEntry};
use nestling_inngest::{Ctx, ExecutionOutcome, FunctionError, FunctionFailed, functions};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct OrderCreated {
    order_id: u64,
    total_cents: u64,
}

#[derive(Debug, Serialize)]
struct Receipt {
    order_id: u64,
    charged_cents: u64,
}

/// The service users write: functions are plain async methods next to ordinary ones.
struct OrderService {
    fee_cents: u64,
}

#[functions]
impl OrderService {
    /// Charges an order; retried three times, then handed to `order_failed`.
    #[on_event("shop/order.created", if = "event.data.total_cents > 0")]
    #[retries(3)]
    #[concurrency(limit = 10, key = "event.data.customer_id")]
    #[throttle(limit = 100, period = "1m", burst = 10)]
    #[cancel_on(
        event = "shop/order.cancelled",
        match = "data.order_id",
        timeout = "7d"
    )]
    #[timeouts(finish = "1h")]
    #[on_failure(order_failed)]
    async fn charge_order(&self, ctx: Ctx<OrderCreated>) -> Result<Receipt, FunctionError> {
        let order = &ctx.event.data;
        Ok(Receipt {
            order_id: order.order_id,
            charged_cents: self.total(order.total_cents),
        })
    }

    async fn order_failed(
        &self,
        ctx: Ctx<FunctionFailed<OrderCreated>>,
    ) -> Result<(), FunctionError> {
        ctx.logger.warn(format!(
            "order {} failed",
            ctx.event.data.event.data.order_id
        ));
        Ok(())
    }

    /// The nightly report, in Paris time.
    #[function(
        id = "nightly-report",
        name = "Nightly report",
        cron = "0 2 * * *",
        timezone = "Europe/Paris",
        singleton(mode = "skip")
    )]
    async fn report(&self, _ctx: Ctx) -> Result<Value, FunctionError> {
        Ok(json!({ "fee_cents": self.fee_cents }))
    }

    /// Not a function: left alone by the attribute.
    fn total(&self, cents: u64) -> u64 {
        cents + self.fee_cents
    }
}

fn entries() -> Vec<&'static MethodEntry> {
    let mut entries: Vec<&MethodEntry> = METHOD_ENTRIES
        .iter()
        .filter(|entry| entry.provider_name == "OrderService")
        .collect();
    entries.sort_by_key(|entry| entry.method);
    entries
}

fn spec(entry: &MethodEntry) -> Value {
    let text = entry
        .meta(nestling_inngest::__private::SPEC_KEY)
        .expect("every entry has a spec");
    serde_json::from_str(text).expect("the spec is JSON")
}

#[test]
fn each_function_and_failure_handler_has_an_entry() {
    let entries = entries();
    let methods: Vec<&str> = entries.iter().map(|entry| entry.method).collect();

    assert_eq!(methods, ["charge_order", "order_failed", "report"]);
    for entry in &entries {
        assert_eq!(entry.kind, nestling_inngest::__private::FUNCTION_KIND);
        assert_eq!((entry.provider)(), TypeId::of::<OrderService>());
    }
}

#[test]
fn the_specs_are_the_wire_configs_the_runtime_expects() {
    let entries = entries();

    assert_eq!(
        spec(entries[0]),
        json!({
            "id": "charge-order",
            "name": "charge-order",
            "triggers": [{"event": "shop/order.created", "expression": "event.data.total_cents > 0"}],
            "retries": 3,
            "throttle": {"limit": 100, "period": "1m", "burst": 10},
            "concurrency": [{"limit": 10, "key": "event.data.customer_id"}],
            "timeouts": {"finish": "1h"},
            "cancel": [{
                "event": "shop/order.cancelled",
                "timeout": "7d",
                "if": "event.data.order_id == async.data.order_id"
            }]
        })
    );
    assert_eq!(
        spec(entries[1]),
        json!({
            "id": "charge-order-failure",
            "name": "charge-order (failure)",
            "triggers": [],
            "onFailure": "charge-order"
        })
    );
    assert_eq!(
        spec(entries[2]),
        json!({
            "id": "nightly-report",
            "name": "Nightly report",
            "triggers": [{"cron": "TZ=Europe/Paris 0 2 * * *"}],
            "singleton": {"mode": "skip"}
        })
    );
}

#[tokio::test]
async fn the_shim_hands_the_call_to_the_runtime() {
    let entry = entries()[0];
    let instance: nestling::discovery::Instance = Arc::new(OrderService { fee_cents: 30 });

    // Only the serve endpoint can build an invocation; any other input must come back as an
    // internal error from the runtime, not a panic in the generated code.
    let output = (entry.call)(instance, Box::new("not an invocation")).await;
    let outcome = output
        .downcast::<ExecutionOutcome>()
        .expect("the shim returns the runtime's outcome");

    assert!(
        matches!(&*outcome, ExecutionOutcome::Internal { message } if message.contains("not an Inngest invocation")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn the_shim_rejects_an_instance_of_another_provider() {
    let entry = entries()[0];
    let instance: nestling::discovery::Instance = Arc::new(42_u8);

    let output = (entry.call)(instance, Box::new(())).await;
    let outcome = output.downcast::<ExecutionOutcome>().expect("an outcome");

    assert!(
        matches!(&*outcome, ExecutionOutcome::Internal { message } if message.contains("OrderService")),
        "{outcome:?}"
    );
}
