#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct FailureContext;
struct Svc;

#[functions]
impl Svc {
    #[on_event("order.created")]
    #[on_failure(handle_failur)]
    async fn process(&self, ctx: Context) {}

    #[on_event("order.paid")]
    #[on_failure(paid)]
    async fn paid(&self, ctx: Context) {}

    #[on_event("order.shipped")]
    #[on_failure(notify_support)]
    async fn shipped(&self, ctx: Context) {}

    #[on_event("order.lost")]
    #[on_failure("not a method")]
    async fn lost(&self, ctx: Context) {}

    async fn handle_failure(&self, ctx: FailureContext) {}

    fn notify_support(&self, ctx: FailureContext) {}
}

fn main() {}
