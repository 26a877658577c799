#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[on_event("a")]
    fn not_async(&self, ctx: Context) {}

    #[on_event("b")]
    async fn no_self(ctx: Context) {}

    #[on_event("c")]
    async fn mut_self(&mut self, ctx: Context) {}

    #[on_event("d")]
    async fn two_params(&self, ctx: Context, extra: u8) {}

    #[on_event("e")]
    async fn no_context(&self) {}

    #[on_event("f")]
    async fn generic<E>(&self, ctx: E) {}

    #[on_event("g")]
    async unsafe fn not_safe(&self, ctx: Context) {}
}

fn main() {}
