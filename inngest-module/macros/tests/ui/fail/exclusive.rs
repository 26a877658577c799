#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[on_event("order.created")]
    #[batch_events(max_size = 50, timeout = "10s")]
    #[debounce(period = "5s")]
    #[cancel_on(event = "order.cancelled", match = "data.id")]
    #[singleton(key = "event.data.user_id", mode = "skip")]
    #[priority(run = "event.data.tier == 'vip' ? 120 : 0")]
    async fn batched(&self, ctx: Context) {}

    #[function(event = "a", batch_events(10, "5s"), debounce("5s"))]
    async fn full_form(&self, ctx: Context) {}
}

fn main() {}
