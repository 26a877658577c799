#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[on_event("a" if = "event.data.x")]
    async fn missing_comma(&self, ctx: Context) {}

    #[on_event("b")]
    #[retries("three")]
    async fn retries_as_string(&self, ctx: Context) {}

    #[on_event("c")]
    #[rate_limit(limit = 10, period = 60)]
    async fn period_as_number(&self, ctx: Context) {}

    #[on_event("d")]
    #[throttle(10, "1m", "event.data.id")]
    async fn too_many_positional(&self, ctx: Context) {}

    #[on_event("e")]
    #[concurrency(limit = -1)]
    async fn negative_limit(&self, ctx: Context) {}

    #[on_event("")]
    #[idempotency("")]
    async fn empty_strings(&self, ctx: Context) {}

    #[function(event = "f", rate_limit = 5)]
    async fn option_needs_a_list(&self, ctx: Context) {}

    #[on_event = "g"]
    async fn trigger_needs_a_list(&self, ctx: Context) {}
}

fn main() {}
