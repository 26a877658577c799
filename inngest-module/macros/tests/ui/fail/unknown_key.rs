#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[function(event = "order.created", concurency = 5)]
    async fn process(&self, ctx: Context) {}

    #[on_event("order.paid")]
    #[rate_limit(limt = 10, period = "1h")]
    async fn paid(&self, ctx: Context) {}

    #[on_event("order.shipped")]
    #[throttle(limit = 10, period = "1m", bursts = 2)]
    #[cancel_on(event = "order.cancelled", when = "data.id")]
    async fn shipped(&self, ctx: Context) {}

    #[on_event("order.refunded", iff = "event.data.amount > 100")]
    async fn refunded(&self, ctx: Context) {}
}

fn main() {}
