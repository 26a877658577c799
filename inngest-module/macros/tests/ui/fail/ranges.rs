#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[on_event("task.execute")]
    #[retries(21)]
    #[priority(run = 50000)]
    async fn unreliable(&self, ctx: Context) {}

    #[on_event("report.requested")]
    #[batch_events(max_size = 1, timeout = "5s")]
    async fn report(&self, ctx: Context) {}

    #[on_event("data.process")]
    #[concurrency(limit = 5)]
    #[concurrency(limit = 1, key = "event.data.user_id")]
    #[concurrency(limit = 2, key = "event.data.team_id")]
    async fn heavy(&self, ctx: Context) {}

    #[on_event("data.shared")]
    #[concurrency(limit = 5, scope = "account")]
    #[concurrency(limit = 5, scope = "app", key = "event.data.id")]
    async fn shared(&self, ctx: Context) {}

    #[on_event("user.signed_up")]
    #[cancel_on("a")]
    #[cancel_on("b")]
    #[cancel_on("c")]
    #[cancel_on("d")]
    #[cancel_on("e")]
    #[cancel_on("f")]
    async fn onboard(&self, ctx: Context) {}

    #[on_event("user.visit")]
    #[singleton(mode = "queue")]
    async fn visit(&self, ctx: Context) {}
}

fn main() {}
