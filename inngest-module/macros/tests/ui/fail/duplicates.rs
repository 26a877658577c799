#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[function(id = "send-email", event = "user.created", retries = 2)]
    #[retries(3)]
    async fn send_email(&self, ctx: Context) {}

    #[on_event("user.updated", id = "send-email")]
    async fn send_update(&self, ctx: Context) {}

    #[on_event("user.deleted")]
    #[on_event("user.deleted")]
    #[on_cron("0 9 * * *")]
    #[on_cron("0 9 * * *", jitter = "30s")]
    async fn twice(&self, ctx: Context) {}

    #[function(id = "a", event = "x")]
    #[on_event("y", id = "b")]
    async fn two_ids(&self, ctx: Context) {}

    #[on_event("z")]
    #[use_middleware("audit", "audit")]
    async fn middleware_twice(&self, ctx: Context) {}
}

fn main() {}
