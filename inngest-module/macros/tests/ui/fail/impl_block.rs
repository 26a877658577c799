#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;
struct Generic<T>(T);
trait Handlers {
    async fn run(&self, ctx: Context);
}

#[functions]
impl Handlers for Svc {
    #[on_event("a")]
    async fn run(&self, ctx: Context) {}
}

#[functions]
impl<T> Generic<T> {
    #[on_event("b")]
    async fn run(&self, ctx: Context) {}
}

#[functions(global)]
impl Svc {
    #[on_event("c")]
    async fn other(&self, ctx: Context) {}
}

#[functions]
struct NotAnImpl;

fn main() {}
