#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[retries(3)]
    #[concurrency(limit = 5)]
    async fn forgot_the_trigger(&self, ctx: Context) {}

    #[function(id = "named-only", name = "Named only")]
    async fn named_only(&self, ctx: Context) {}

    #[on_event]
    async fn empty_event(&self, ctx: Context) {}

    #[on_events()]
    async fn empty_events(&self, ctx: Context) {}

    #[function(event = "a", if = "event.data.x", events = ["b"])]
    async fn if_for_one_event(&self, ctx: Context) {}

    #[function(if = "event.data.x")]
    async fn if_without_event(&self, ctx: Context) {}
}

fn main() {}
