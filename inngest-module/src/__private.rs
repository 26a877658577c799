//! Private API for the code that `nestling-inngest-macros` generates. Not covered by semver.
//!
//! # The contract between the function attributes and the runtime
//!
//! For every Inngest function declared on a service's `impl` block, the macro adds one
//! [`MethodEntry`] to [`METHOD_ENTRIES`] with:
//!
//! - `kind` = [`FUNCTION_KIND`] (`"inngest.function"`);
//! - `metadata` = `&[(SPEC_KEY, "<function spec JSON>")]` (see below);
//! - `call` = a non-capturing closure (it coerces to the `fn` pointer type) that calls
//!   [`invoke_handler`]:
//!
//! ```ignore
//! call: |instance, input| ::nestling_inngest::__private::invoke_handler::<MyService, _, _, _, _>(
//!     instance,
//!     input,
//!     |this, ctx| async move { this.on_signup(ctx).await },
//! ),
//! ```
//!
//! The handler method the user writes is an `async fn` taking `&self` and one
//! `Ctx<E>` argument (`E: serde::de::DeserializeOwned + Send + 'static`, the type of the
//! event's `data`; `Ctx` alone means `Ctx<serde_json::Value>`), returning
//! `Result<T, Err>` with `T: serde::Serialize` and `Err: Into<FunctionError>` (any
//! `std::error::Error + Send + Sync + 'static`, or `FunctionError` itself):
//!
//! ```ignore
//! async fn on_signup(&self, ctx: Ctx<UserCreated>) -> Result<Welcome, FunctionError>
//! ```
//!
//! A failure handler (the method named in `#[on_failure(method)]`) has the same shape,
//! usually with `Ctx<FunctionFailed<E>>`.
//!
//! ## The function spec (JSON in `metadata[SPEC_KEY]`)
//!
//! One JSON object, in the field names of the registration JSON (`FunctionConfig` in
//! `nestling-inngest-protocol`), except where noted. The runtime adds the app prefix, the
//! `steps` entry and the URL.
//!
//! | key | type | notes |
//! |---|---|---|
//! | `id` | string, required | the BARE function id, without the app prefix, e.g. `"send-welcome"` |
//! | `name` | string | display name; defaults to `id` when absent |
//! | `triggers` | array, required (may be empty only for a failure handler) | `{"event": "..", "expression"?: ".."}` or `{"cron": "..", "jitter"?: ".."}` (the `if` of an event shorthand goes in `expression`; a cron timezone as the `TZ=<zone> ` prefix of `cron`) |
//! | `retries` | integer 0–20 | replaces `steps.step.retries.attempts`; absent = the executor's default |
//! | `concurrency` | number, object or array of `{limit, key?, scope?}` | verbatim |
//! | `rateLimit` | `{limit, period, key?}` | verbatim |
//! | `throttle` | `{limit, period, burst?, key?}` | verbatim |
//! | `debounce` | `{period, key?, timeout?}` | verbatim |
//! | `batchEvents` | `{maxSize, timeout, key?, if?}` | verbatim |
//! | `cancel` | array of `{event, if?, timeout?}` | a `match = "data.x"` becomes `if: "event.data.x == async.data.x"` |
//! | `priority` | `{run}` | verbatim |
//! | `idempotency` | string | verbatim |
//! | `timeouts` | `{start?, finish?}` | verbatim |
//! | `singleton` | `{key?, mode}` | verbatim |
//! | `onFailure` | string | ONLY on a failure handler's entry: the bare id of the function whose failures it handles |
//! | `middleware` | array of strings | names matched against `InngestMiddleware::name()` of middleware registered globally or as providers |
//!
//! For `#[on_failure(method)]` on function `<id>` (name `<name>`), the macro emits a SECOND
//! entry for `method` with `"id": "<id>-failure"`, `"name": "<name> (failure)"`,
//! `"triggers": []` and `"onFailure": "<id>"`. The runtime gives it the trigger
//! `inngest/function.failed` with expression `event.data.function_id == '<app>-<id>'` and
//! one retry, as the JS SDK does.
//!
//! Example:
//!
//! ```json
//! {"id":"send-welcome","name":"Send welcome","triggers":[{"event":"user.created"}],
//!  "retries":3,"concurrency":[{"limit":5,"key":"event.data.user_id"}],
//!  "middleware":["audit"]}
//! ```

use std::future::Future;
use std::sync::Arc;

pub use nestling::__private::*;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;

use crate::{Ctx, ExecutionOutcome, IntoFunctionResult, Invocation};

/// The `kind` of every [`MethodEntry`] that declares an Inngest function.
pub const FUNCTION_KIND: &str = "inngest.function";

/// The metadata key whose value is the function spec JSON.
pub const SPEC_KEY: &str = "spec";

/// Calls a handler method for one call request; the body of every generated `call` shim.
///
/// Downcasts `instance` to the provider type `S` and `input` to the runtime's
/// [`Invocation`], deserialises the event into `E` (a mismatch fails the run without
/// retries, naming the field), runs `f` under the step driver and returns the boxed
/// [`ExecutionOutcome`]. It never panics: a wrong type or a panicking handler becomes an
/// error outcome.
pub fn invoke_handler<S, E, F, Fut, R>(
    instance: Instance,
    input: Erased,
    f: F,
) -> BoxFuture<'static, Erased>
where
    S: Send + Sync + 'static,
    E: DeserializeOwned + Send + 'static,
    F: FnOnce(Arc<S>, Ctx<E>) -> Fut + Send + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoFunctionResult + 'static,
{
    Box::pin(async move {
        let outcome = match (instance.downcast::<S>(), input.downcast::<Invocation>()) {
            (Ok(this), Ok(invocation)) => {
                crate::execution::run_handler(*invocation, move |ctx| f(this, ctx)).await
            }
            (Err(_), _) => ExecutionOutcome::Internal {
                message: format!(
                    "the provider instance is not a `{}`; the function table and the container \
                     disagree",
                    std::any::type_name::<S>()
                ),
            },
            (_, Err(_)) => ExecutionOutcome::Internal {
                message: "the method was called with an input that is not an Inngest invocation"
                    .to_owned(),
            },
        };
        Box::new(outcome) as Erased
    })
}
