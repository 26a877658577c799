#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[on_event("document.changed")]
    #[debounce(period = "500ms", key = "event.data.id")]
    async fn save(&self, ctx: Context) {}

    #[on_event("api.request")]
    #[rate_limit(limit = 100, period = "1 hour")]
    async fn call(&self, ctx: Context) {}

    #[on_event("api.request2")]
    #[rate_limit(limit = 100, period = "2d")]
    #[timeouts(start = "10 minutes")]
    async fn call2(&self, ctx: Context) {}

    #[on_event("export.requested")]
    #[batch_events(max_size = 10, timeout = "1d")]
    async fn export(&self, ctx: Context) {}

    #[on_event("user.signed_up")]
    #[cancel_on(event = "user.deleted", match = "data.id", timeout = "7days")]
    async fn onboard(&self, ctx: Context) {}
}

fn main() {}
