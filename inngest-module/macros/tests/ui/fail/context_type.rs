// Types the runtime cannot call are reported by the compiler at the handler.
use nestling_inngest::{Ctx, FunctionError, functions};

struct Svc;

#[functions]
impl Svc {
    #[on_event("a")]
    async fn wrong_context(&self, ctx: String) -> Result<(), FunctionError> {
        Ok(())
    }

    #[on_event("b")]
    async fn not_a_result(&self, _ctx: Ctx) -> u8 {
        1
    }
}

fn main() {}
