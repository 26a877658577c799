//! Running one call request: from the HTTP `POST`, or in-process through
//! [`ServeEndpoint::execute`].

use std::sync::Arc;

use nestling_inngest_protocol::{
    BorrowedCallRequest, CallContextOf, CallRequest, CallRequestOf, Event as WireEvent,
    ProtocolError,
};
use poem::Response;
use serde_json::{Value, json};

use super::endpoint::{Incoming, ServeState};
use super::reply::{ExecutionReply, ReplyContext, reply_json_parts, reply_parts};
use crate::__private::Erased;
use crate::execution::{ExecutionParams, InvocationParts, Memo, internal_error_body};
use crate::{Error, ExecutionOutcome, Invocation, RegisteredFunction, ServeEndpoint};

impl ServeEndpoint {
    /// Runs one call request in-process and returns the reply an HTTP `POST
    /// ?fnId={function_id}&stepId={step_id}` with `request` as its body would get: the same
    /// status (200 output, 206 ops, 400/500 errors), headers and body bytes, produced by the
    /// same code.
    ///
    /// `function_id` is the composite id the executor sends (`{app id}-{function id}`).
    /// `step_id` targets a planned step; `None` (or the discovery id `"step"`) falls back to
    /// `request.ctx.step_id`, as over HTTP. Nothing is verified or signed: the caller is in the
    /// process, so no signature can be checked and none is needed. A request with `use_api`
    /// set loads its events and steps from the configured API first, as over HTTP.
    ///
    /// This is the entry point for test harnesses and custom transports: it spares a socket
    /// and the JSON encoding of the request while keeping every step result's encoding.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling::{ApplicationContext, Module, ModuleDef, Provider};
    /// use nestling_inngest::{
    ///     CallRequest, Ctx, FunctionError, InngestModule, InngestModuleOptions, ServeEndpoint, functions,
    /// };
    /// use serde_json::value::RawValue;
    ///
    /// struct Greeter;
    ///
    /// #[functions]
    /// impl Greeter {
    ///     #[on_event("app/greet")]
    ///     async fn greet(&self, ctx: Ctx) -> Result<String, FunctionError> {
    ///         let name: String = ctx
    ///             .step
    ///             .run("lookup", || async { Ok::<_, FunctionError>("Ada".to_owned()) })
    ///             .await?;
    ///         Ok(format!("hello {name}"))
    ///     }
    /// }
    ///
    /// struct AppModule;
    /// impl Module for AppModule {
    ///     fn define(&self) -> ModuleDef {
    ///         ModuleDef::new("AppModule")
    ///             .import(InngestModule::for_root(
    ///                 InngestModuleOptions::new("doc").dev(true).disable_auto_registration(true),
    ///             ))
    ///             .provider(Provider::value(Greeter))
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let app = ApplicationContext::create(AppModule).await?;
    /// let endpoint = app.get::<ServeEndpoint>();
    /// let mut request = CallRequest::from_slice(
    ///     br#"{"event": {"name": "app/greet", "data": {}}, "ctx": {"run_id": "run-1"}}"#,
    /// )?;
    ///
    /// // The first call runs the step and reports it.
    /// let reply = endpoint.execute("doc-greet", None, request.clone()).await;
    /// assert_eq!(reply.status(), 206);
    /// let ops = reply.json()?;
    /// assert_eq!(ops[0]["displayName"], "lookup");
    ///
    /// // With the step's result memoised, the function completes.
    /// let hashed = ops[0]["id"].as_str().unwrap().to_owned();
    /// request.steps.insert(hashed, RawValue::from_string(ops[0]["data"].to_string())?);
    /// let reply = endpoint.execute("doc-greet", None, request).await;
    /// assert_eq!(reply.status(), 200);
    /// assert_eq!(reply.json()?, "hello Ada");
    /// assert_eq!(reply.header("x-inngest-sdk"), Some(nestling_inngest::SDK_HEADER));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn execute(
        &self,
        function_id: &str,
        step_id: Option<&str>,
        request: CallRequest,
    ) -> ExecutionReply {
        let state = &self.state;
        let ctx = state.reply_context(None, None);
        let Some(function) = state.function(function_id) else {
            return unknown_function(&ctx, function_id);
        };

        state
            .call(
                &ctx,
                &function,
                function_id,
                step_id.map(str::to_owned),
                CallInput::from_request(request),
            )
            .await
    }
}

/// A call request as the endpoint runs it: the parts the handler gets, and the memo.
struct CallInput {
    event: WireEvent,
    events: Vec<WireEvent>,
    ctx: RunContext,
    version: Option<i64>,
    use_api: bool,
    memo: Memo,
}

/// The parts of `ctx` a run uses.
struct RunContext {
    run_id: String,
    step_id: String,
    attempt: u32,
    max_attempts: Option<u32>,
    disable_immediate_execution: bool,
    use_api: bool,
}

impl<Ids> From<CallContextOf<Ids>> for RunContext {
    fn from(ctx: CallContextOf<Ids>) -> Self {
        Self {
            run_id: ctx.run_id,
            step_id: ctx.step_id,
            attempt: ctx.attempt,
            max_attempts: ctx.max_attempts,
            disable_immediate_execution: ctx.disable_immediate_execution,
            use_api: ctx.use_api,
        }
    }
}

impl CallInput {
    fn from_request(request: CallRequest) -> Self {
        Self::with_memo(request, Memo::from_steps)
    }

    /// The request's parts, with its `steps` made into the memo by `memo`.
    fn with_memo<Steps, Ids>(
        request: CallRequestOf<Steps, Ids>,
        memo: impl FnOnce(Steps) -> Memo,
    ) -> Self {
        let CallRequestOf {
            event,
            events,
            steps,
            ctx,
            version,
            use_api,
            defers: _,
        } = request;

        Self {
            event,
            events,
            ctx: ctx.into(),
            version,
            use_api,
            memo: memo(steps),
        }
    }

    /// Reads a request body. The memoised steps stay where they are in the body (one
    /// allocation for all of them, none per step); a body that reader refuses is read again
    /// by the owning reader, whose error message the executor gets.
    fn read(body: Vec<u8>) -> Result<Self, ProtocolError> {
        let body = match String::from_utf8(body) {
            Ok(body) => Arc::new(body),
            Err(err) => return Self::read_owned(err.as_bytes()),
        };
        let Ok(request) = BorrowedCallRequest::from_str(&body) else {
            return Self::read_owned(body.as_bytes());
        };

        Ok(Self::with_memo(request, |steps| {
            Memo::in_body(&body, steps)
        }))
    }

    fn read_owned(body: &[u8]) -> Result<Self, ProtocolError> {
        CallRequest::from_slice(body).map(Self::from_request)
    }
}

impl ServeState {
    /// A `POST` without a probe: parse the call request, then run it.
    pub(super) async fn execute_post(&self, ctx: &ReplyContext, incoming: Incoming) -> Response {
        if incoming.body.iter().all(u8::is_ascii_whitespace) {
            // The JS SDK answers an empty call request with a 401 that keeps its headers; the
            // status is kept, and the message says what is wrong.
            let body = json!({
                "message": "Unauthorized: the call request has an empty body; the executor \
                            must POST a JSON call request"
            });
            return reply_json_parts(ctx, 401, &body, &[]).into_response();
        }

        let Some(fn_id) = incoming.query.get("fnId") else {
            return internal(ctx, "No function ID found in async request").into_response();
        };
        let Some(function) = self.function(fn_id) else {
            return unknown_function(ctx, fn_id).into_response();
        };
        let request = match CallInput::read(incoming.body) {
            Ok(request) => request,
            Err(err) => {
                let message = format!("Failed to parse data from executor: {err}");
                return internal(ctx, &message).into_response();
            }
        };

        let step_id = incoming
            .query
            .get("stepId")
            .cloned()
            .or(incoming.step_header);
        self.call(ctx, &function, fn_id, step_id, request)
            .await
            .into_response()
    }

    fn function(&self, fn_id: &str) -> Option<Arc<RegisteredFunction>> {
        self.registry.find(&self.service.options().app_id, fn_id)
    }

    /// Checks the request's version, loads its state from the API when asked, picks the
    /// targeted step and runs the handler.
    async fn call(
        &self,
        ctx: &ReplyContext,
        function: &RegisteredFunction,
        fn_id: &str,
        step_id: Option<String>,
        mut request: CallInput,
    ) -> ExecutionReply {
        if request.version == Some(0) {
            return internal(
                ctx,
                "Failed to parse data from executor: execution version 0 is not supported; \
                 send version 1 or 2 (or -1 to let the SDK choose)",
            );
        }
        if (request.use_api || request.ctx.use_api)
            && let Err(err) = self.load_from_api(&mut request).await
        {
            return internal(
                ctx,
                &format!("could not load the run's state from the API: {err}"),
            );
        }

        let target = step_id.unwrap_or_else(|| request.ctx.step_id.clone());
        let target = (target != nestling_inngest_protocol::DISCOVERY_STEP_ID)
            .then_some(target)
            .filter(|t| !t.is_empty());

        let app_id = self.service.options().app_id.clone();
        let outcome = self.run(function, &app_id, fn_id, request, target).await;
        reply_parts(ctx, outcome.status(), outcome.body(), &outcome.headers())
    }

    async fn load_from_api(&self, request: &mut CallInput) -> Result<(), Error> {
        let client = self.service.client();
        let run_id = request.ctx.run_id.clone();
        let (events, steps) =
            futures::try_join!(client.run_batch(&run_id), client.run_actions(&run_id))?;
        if !events.is_empty() {
            request.event = events[0].clone();
            request.events = events;
        }
        request.memo = Memo::from_steps(steps);
        Ok(())
    }

    async fn run(
        &self,
        function: &RegisteredFunction,
        app_id: &str,
        fn_id: &str,
        request: CallInput,
        target: Option<String>,
    ) -> ExecutionOutcome {
        let CallInput {
            event,
            events,
            memo,
            ctx,
            ..
        } = request;
        let to_json = |event: WireEvent| serde_json::to_value(event).unwrap_or(Value::Null);

        let invocation = Invocation::new(InvocationParts {
            execution: ExecutionParams {
                app_id: app_id.to_owned(),
                function_id: fn_id.to_owned(),
                run_id: ctx.run_id,
                attempt: ctx.attempt,
                max_attempts: ctx
                    .max_attempts
                    .unwrap_or_else(|| function.spec().max_attempts()),
                disable_immediate_execution: ctx.disable_immediate_execution,
                target,
                memo,
            },
            event: to_json(event),
            events: events.into_iter().map(to_json).collect(),
            events_api: Some(Arc::clone(&self.events)),
            middleware: function.middleware().clone(),
        });

        let input: Erased = Box::new(invocation);
        let output = (function.entry().call)(function.instance(), input).await;
        match output.downcast::<ExecutionOutcome>() {
            Ok(outcome) => *outcome,
            Err(_) => ExecutionOutcome::Internal {
                message: format!(
                    "`{}` did not answer with an execution outcome; was it declared with \
                     nestling-inngest's function attributes?",
                    function.declared_by()
                ),
            },
        }
    }
}

fn unknown_function(ctx: &ReplyContext, fn_id: &str) -> ExecutionReply {
    let message =
        format!("Function \"{fn_id}\" was not found in this app; is the app synced correctly?");
    internal(ctx, &message)
}

/// A 500 for a failure of the SDK itself, in the official SDKs' error shape.
fn internal(ctx: &ReplyContext, message: &str) -> ExecutionReply {
    reply_json_parts(ctx, 500, &internal_error_body(message), &[])
}
