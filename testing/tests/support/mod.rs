//! The small shop service the integration tests run: one function per step kind.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nestling::{Module, ModuleDef, Provider};
use nestling_inngest::{
    Ctx, FunctionError, FunctionFailed, InngestModule, InngestModuleOptions, Invoke,
    NonRetriableError, RetryAfterError, WaitForEvent, functions,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The app id every test uses.
pub(crate) const APP: &str = "shop";

#[derive(Debug, Deserialize)]
pub(crate) struct OrderPlaced {
    pub(crate) order: u32,
    pub(crate) amount: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Receipt {
    pub(crate) order: u32,
    pub(crate) charged: u32,
    pub(crate) confirmed: bool,
}

/// Counts how often step bodies run, so retries and mocks can be checked from outside.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) charge: AtomicU32,
    pub(crate) flaky: AtomicU32,
    pub(crate) failures_seen: AtomicU32,
    pub(crate) throttled: AtomicU32,
}

pub(crate) struct ShopService {
    pub(crate) counters: Arc<Counters>,
}

#[functions]
impl ShopService {
    /// Steps, a sleep, a wait and a sent event in sequence.
    #[on_event("shop/order.placed")]
    async fn fulfil_order(&self, ctx: Ctx<OrderPlaced>) -> Result<Receipt, FunctionError> {
        let order = ctx.event.data.order;
        let amount = ctx.event.data.amount;
        let counters = Arc::clone(&self.counters);

        let charged: u32 = ctx
            .step
            .run("charge-card", move || async move {
                counters.charge.fetch_add(1, Ordering::SeqCst);
                Ok::<_, FunctionError>(amount)
            })
            .await?;
        ctx.step.sleep("cool-off", "2h").await?;
        let confirmation = ctx
            .step
            .wait_for_event::<Value>(
                "await-confirmation",
                WaitForEvent::new("shop/order.confirmed", "1d").matching("data.order"),
            )
            .await?;
        ctx.step
            .send_event(
                "notify",
                nestling_inngest::Event::new("shop/receipt.sent", json!({ "order": order })),
            )
            .await?;

        Ok(Receipt {
            order,
            charged,
            confirmed: confirmation.is_some(),
        })
    }

    /// Two steps in parallel, then a third that uses both.
    #[on_event("shop/quote.requested")]
    async fn quote(&self, ctx: Ctx) -> Result<u32, FunctionError> {
        let (price, tax) = futures::join!(
            ctx.step
                .run("price", || async { Ok::<_, FunctionError>(100u32) }),
            ctx.step
                .run("tax", || async { Ok::<_, FunctionError>(20u32) }),
        );
        let (price, tax) = (price?, tax?);
        let total = ctx
            .step
            .run("total", move || async move {
                Ok::<_, FunctionError>(price + tax)
            })
            .await?;
        Ok(total)
    }

    /// A step that fails twice before it succeeds.
    #[on_event("shop/sync.requested")]
    #[retries(3)]
    async fn flaky_sync(&self, ctx: Ctx) -> Result<u32, FunctionError> {
        let counters = Arc::clone(&self.counters);
        let runs = ctx
            .step
            .run("call-erp", move || async move {
                let n = counters.flaky.fetch_add(1, Ordering::SeqCst) + 1;
                if n < 3 {
                    Err(FunctionError::new(format!("ERP timeout #{n}")))
                } else {
                    Ok(n)
                }
            })
            .await?;
        Ok(runs)
    }

    /// A step the remote API throttles once, asking to come back in 90 s.
    #[on_event("shop/export.requested")]
    #[retries(1)]
    async fn export(&self, ctx: Ctx) -> Result<String, FunctionError> {
        let counters = Arc::clone(&self.counters);
        ctx.step
            .run("upload", move || async move {
                if counters.throttled.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(RetryAfterError::new(
                        "429 from the CDN",
                        Duration::from_secs(90),
                    ))
                } else {
                    Ok("uploaded".to_owned())
                }
            })
            .await?;
        Ok("exported".to_owned())
    }

    /// A step that fails for good at once; the handler lets the error fail the run.
    #[on_event("shop/refund.requested")]
    #[retries(2)]
    #[on_failure(refund_failed)]
    async fn refund(&self, ctx: Ctx) -> Result<(), FunctionError> {
        ctx.step
            .run("call-bank", || async {
                Err::<(), _>(NonRetriableError::new("card closed"))
            })
            .await?;
        Ok(())
    }

    async fn refund_failed(&self, ctx: Ctx<FunctionFailed>) -> Result<String, FunctionError> {
        self.counters.failures_seen.fetch_add(1, Ordering::SeqCst);
        Ok(format!("alerted about {}", ctx.event.data.error.message))
    }

    /// The function itself fails on every attempt.
    #[on_event("shop/audit.requested")]
    #[retries(1)]
    async fn audit(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Err(FunctionError::new("ledger unavailable"))
    }

    /// Invokes `tax_rate` of the same app.
    #[on_event("shop/invoice.requested")]
    async fn invoice(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let rate: u32 = ctx
            .step
            .invoke(
                "get-rate",
                Invoke::function("tax-rate").data(json!({"country": "FR"})),
            )
            .await?;
        Ok(json!({ "rate": rate }))
    }

    /// Invoked by `invoice`.
    #[on_event("shop/tax-rate.requested")]
    async fn tax_rate(&self, ctx: Ctx) -> Result<u32, FunctionError> {
        let country = ctx.event.data["country"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(if country == "FR" { 20 } else { 0 })
    }
}

/// The root module: the Inngest module in dev mode, never registering on its own, and the
/// shop service.
pub(crate) struct ShopModule {
    pub(crate) options: InngestModuleOptions,
    pub(crate) counters: Arc<Counters>,
}

impl ShopModule {
    pub(crate) fn new(counters: Arc<Counters>) -> Self {
        Self {
            options: InngestModuleOptions::new(APP)
                .dev(true)
                .is_global(true)
                .disable_auto_registration(true),
            counters,
        }
    }
}

impl Module for ShopModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("ShopModule")
            .import(InngestModule::for_root(self.options.clone()))
            .provider(Provider::value(ShopService {
                counters: Arc::clone(&self.counters),
            }))
    }
}
