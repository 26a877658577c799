//! The crate's error type.

use std::time::Duration;

/// What can go wrong while building a testing module, running a function in-process or
/// driving a test engine.
///
/// Every message names what failed and, where it helps, how to fix the test.
///
/// # Examples
///
/// ```
/// use nestling_testing::TestingError;
///
/// let err = TestingError::UnknownFunction {
///     id: "shop-charge".into(),
///     known: "shop-refund".into(),
/// };
/// assert!(err.to_string().contains("shop-charge"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// The container failed to build, initialise or close.
    #[error(transparent)]
    Container(#[from] nestling::Error),

    /// The Inngest SDK refused something (options, a function spec).
    #[error(transparent)]
    Inngest(#[from] nestling_inngest::Error),

    /// The embedded engine failed.
    #[error("the test engine failed: {0}")]
    Engine(#[from] nestling_engine::Error),

    /// The app has no function with this id.
    #[error(
        "no Inngest function `{id}` in this app (known: {known}); pass the bare id given in the \
         attribute (`send-welcome`) or the composite one (`<app>-send-welcome`), and call \
         `init()` first so that discovery has run"
    )]
    UnknownFunction {
        /// The id asked for.
        id: String,
        /// The ids the app has, comma separated.
        known: String,
    },

    /// The application context does not hold the Inngest module's providers.
    #[error(
        "the application has no `{missing}`: import `InngestModule::for_root(..)` in the module \
         under test and call `init()` before running functions"
    )]
    NoInngestModule {
        /// The provider that was looked for.
        missing: &'static str,
    },

    /// The SDK's serve endpoint answered something the executor cannot act on.
    #[error("function `{function}`: the serve endpoint answered {status}: {reason}")]
    Protocol {
        /// The composite function id.
        function: String,
        /// The HTTP status.
        status: u16,
        /// What was wrong with the answer.
        reason: String,
    },

    /// The run needed more requests than allowed (a loop in the function or the runner).
    #[error(
        "function `{function}` was still running after {requests} requests to the SDK; raise \
         `max_requests` if the function really has that many steps"
    )]
    TooManyRequests {
        /// The composite function id.
        function: String,
        /// How many requests were made.
        requests: usize,
    },

    /// Invokes nested deeper than allowed (a function invoking itself, directly or not).
    #[error("invoke of `{function}` nested {depth} levels deep; is a function invoking itself?")]
    InvokeDepth {
        /// The function that was to be invoked.
        function: String,
        /// The nesting depth reached.
        depth: usize,
    },

    /// Waiting for runs or events took longer than allowed.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The time limit.
        after: Duration,
    },

    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}
