//! The crate's error type.

/// Everything that can go wrong in `nestling-inngest`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- execution, serve, function and module errors (owned by the execution/serve side) ---
    /// A function attribute produced a spec the runtime cannot read (a version mismatch
    /// between `nestling-inngest` and `nestling-inngest-macros`).
    #[error(
        "the Inngest function `{provider}::{method}` has an invalid spec: {reason}; make sure \
         nestling-inngest and nestling-inngest-macros have the same version"
    )]
    InvalidFunctionSpec {
        /// The provider type.
        provider: &'static str,
        /// The method.
        method: &'static str,
        /// What is wrong with the spec.
        reason: String,
    },

    /// Two discovered methods declare the same function id.
    #[error(
        "the Inngest function id \"{id}\" is declared twice, by `{first}` and by `{second}`; \
         give one of them another `id`"
    )]
    DuplicateFunction {
        /// The bare function id.
        id: String,
        /// The first declaration, `Provider::method`.
        first: String,
        /// The second declaration.
        second: String,
    },

    /// A function uses a middleware that nobody registered.
    #[error(
        "the Inngest function \"{function}\" uses the middleware \"{name}\", which is not \
         registered (known: {known}); add it to the module's `middleware` option or provide it"
    )]
    UnknownMiddleware {
        /// The bare function id.
        function: String,
        /// The missing middleware name.
        name: String,
        /// The names that are registered, comma-separated.
        known: String,
    },

    /// The embedded engine could not start.
    #[error(
        "the embedded Inngest engine could not start: {reason}; set `base_url` (or \
         INNGEST_BASE_URL / INNGEST_DEV) to use an external server instead"
    )]
    EngineStart {
        /// What went wrong.
        reason: String,
    },

    /// The options ask for something that this build of the crate leaves out: a cargo feature
    /// of `nestling-inngest` is off.
    #[error(
        "the Inngest module cannot use option `{option}`: {reason}, which needs the \
         `{feature}` cargo feature of nestling-inngest, and this build has it off; turn it on \
         (`nestling-inngest = {{ version = \"0.1\", features = [\"{feature}\"] }}`) or {instead}"
    )]
    FeatureDisabled {
        /// The option that asks for the feature.
        option: &'static str,
        /// The cargo feature that is off.
        feature: &'static str,
        /// What the option asks for.
        reason: String,
        /// What to configure instead.
        instead: &'static str,
    },

    /// The module's definition and its options disagree.
    #[error("the Inngest module cannot use option `{field}`: {reason}")]
    ModuleDefinition {
        /// The option.
        field: &'static str,
        /// What disagrees and how to fix it.
        reason: String,
    },

    /// Registering the app's functions with the server failed.
    #[error("could not register the app's {functions} function(s) at {url}: {reason}")]
    Registration {
        /// The URL the server was asked to call.
        url: String,
        /// How many functions were sent.
        functions: usize,
        /// What went wrong.
        reason: String,
    },

    // --- options, client and service errors (owned by the options/client side) ---
    /// The module options (or the environment variables they fall back to) are invalid.
    #[error("invalid options of the Inngest module:{0}")]
    InvalidOptions(crate::OptionProblems),

    /// Events cannot be sent: the server needs an event key and none is configured.
    #[error(
        "cannot send events to {server}: no event key is configured; set `event_key` in the \
         Inngest module options or INNGEST_EVENT_KEY to a key from the Inngest dashboard"
    )]
    MissingEventKey {
        /// The server that needs the key.
        server: crate::ServerKind,
    },

    /// A call to the Inngest API failed on the network, after every retry.
    #[error(
        "{operation}: could not reach {url} after {attempts} attempt(s): {source}; check that \
         the Inngest server runs there (base_url / INNGEST_BASE_URL)"
    )]
    ApiUnreachable {
        /// What was being done, e.g. `send events`.
        operation: &'static str,
        /// The URL called, with any event key redacted.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last network error.
        #[source]
        source: reqwest::Error,
    },

    /// The Inngest API answered with an error status.
    #[error(
        "{operation}: {url} answered HTTP {status} (after {attempts} attempt(s)): {body}; {hint}"
    )]
    ApiStatus {
        /// What was being done, e.g. `register functions`.
        operation: &'static str,
        /// The URL called, with any event key redacted.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The response body (truncated to 2 KiB).
        body: String,
        /// How many attempts were made.
        attempts: u32,
        /// What usually causes this status and how to fix it.
        hint: &'static str,
    },

    /// An event to send is invalid (checked before anything is sent).
    #[error("cannot send events: {0}")]
    InvalidEvent(#[source] nestling_inngest_protocol::ProtocolError),

    /// The Inngest API answered 2xx with a body that is not what the protocol says.
    #[error("{operation}: {url} sent a reply that cannot be read: {message}")]
    ApiResponse {
        /// What was being done.
        operation: &'static str,
        /// The URL called, with any event key redacted.
        url: String,
        /// What was wrong with the body.
        message: String,
    },
}
