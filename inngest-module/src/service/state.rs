//! Connection state, function sources and event transforms: the small types around
//! `InngestService`.

use std::fmt;

use nestling_inngest_protocol::{Event, FunctionConfig, RegisterResponse};

/// State of the connection to Inngest.
///
/// In serve mode there is no persistent connection: the state is always
/// [`NotApplicable`](Self::NotApplicable). In connect mode it follows the WebSocket worker's
/// lifecycle (the states the official SDKs expose), starting at [`Closed`](Self::Closed) until
/// the connect transport opens.
///
/// # Examples
///
/// ```
/// use nestling_inngest::ConnectionState;
///
/// assert_eq!(ConnectionState::NotApplicable.as_str(), "NOT_APPLICABLE");
/// assert!(ConnectionState::Active.is_connected());
/// assert!(!ConnectionState::Reconnecting.is_connected());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Serve mode: Inngest calls the app over HTTP, nothing stays connected.
    NotApplicable,
    /// First connection attempt in progress.
    Connecting,
    /// Connected and receiving work.
    Active,
    /// Connected but asking for no new work.
    Paused,
    /// Lost the connection after being active; reconnecting.
    Reconnecting,
    /// Graceful shutdown in progress.
    Closing,
    /// Not connected (before connecting, or after shutdown).
    Closed,
}

impl ConnectionState {
    /// The official SDKs' name of the state, e.g. `ACTIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotApplicable => "NOT_APPLICABLE",
            Self::Connecting => "CONNECTING",
            Self::Active => "ACTIVE",
            Self::Paused => "PAUSED",
            Self::Reconnecting => "RECONNECTING",
            Self::Closing => "CLOSING",
            Self::Closed => "CLOSED",
        }
    }

    /// Whether work can be received now (only [`Active`](Self::Active)).
    pub fn is_connected(self) -> bool {
        self == Self::Active
    }

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Self::NotApplicable => 0,
            Self::Connecting => 1,
            Self::Active => 2,
            Self::Paused => 3,
            Self::Reconnecting => 4,
            Self::Closing => 5,
            Self::Closed => 6,
        }
    }

    pub(crate) fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Connecting,
            2 => Self::Active,
            3 => Self::Paused,
            4 => Self::Reconnecting,
            5 => Self::Closing,
            6 => Self::Closed,
            _ => Self::NotApplicable,
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the service gets the app's functions from: the function registry implements it.
///
/// Function configs depend on the URL Inngest will call (each step's URL embeds it), so the
/// source builds them for a given serve URL.
///
/// Closures `Fn(&str, &str) -> Vec<FunctionConfig>` (app id, serve URL) implement it, which
/// is handy in tests.
///
/// # Examples
///
/// ```
/// use nestling_inngest::FunctionSource;
/// use nestling_inngest_protocol::{FunctionConfig, StepConfig, Trigger};
///
/// let source = |app: &str, url: &str| {
///     let mut config: FunctionConfig = serde_json::from_str(r#"{"id":"x","name":"Hello"}"#).unwrap();
///     config.id = format!("{app}-hello");
///     config.triggers = vec![Trigger::event("app/hello")];
///     config.steps.insert("step".into(), StepConfig::http(format!("{url}?fnId={app}-hello&stepId=step"), None));
///     vec![config]
/// };
/// let configs = source.function_configs("shop", "http://localhost:3000/api/inngest");
/// assert_eq!(configs[0].id, "shop-hello");
/// assert_eq!(source.function_count(), 1);
/// ```
pub trait FunctionSource: Send + Sync {
    /// The registration configs of every function, for an app served at `serve_url`.
    fn function_configs(&self, app_id: &str, serve_url: &str) -> Vec<FunctionConfig>;

    /// How many functions there are.
    fn function_count(&self) -> usize {
        self.function_configs("app", "http://localhost/").len()
    }
}

impl<F> FunctionSource for F
where
    F: Fn(&str, &str) -> Vec<FunctionConfig> + Send + Sync,
{
    fn function_configs(&self, app_id: &str, serve_url: &str) -> Vec<FunctionConfig> {
        self(app_id, serve_url)
    }
}

/// A change applied to every event the service sends, before it is sent, in the order the
/// transforms were added. The tracing layer uses it to put W3C trace context into
/// `data.<field>`; closures `Fn(&mut Event)` implement it.
///
/// # Examples
///
/// ```
/// use nestling_inngest::EventTransform;
/// use nestling_inngest_protocol::Event;
///
/// let stamp = |event: &mut Event| {
///     event.data["source"] = "billing".into();
/// };
/// let mut event = Event::new("app/invoice.paid", serde_json::json!({}));
/// stamp.transform(&mut event);
/// assert_eq!(event.data["source"], "billing");
/// ```
pub trait EventTransform: Send + Sync {
    /// Changes `event` in place.
    fn transform(&self, event: &mut Event);
}

impl<F> EventTransform for F
where
    F: Fn(&mut Event) + Send + Sync,
{
    fn transform(&self, event: &mut Event) {
        self(event);
    }
}

/// What [`InngestService::app_listening`](crate::InngestService::app_listening) did.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{AutoRegistration, SkipReason};
///
/// let outcome = AutoRegistration::Skipped(SkipReason::Cloud);
/// assert!(!outcome.registered());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutoRegistration {
    /// The app registered its functions.
    Registered {
        /// The URL registered (where Inngest will call the app).
        url: String,
        /// How many functions were registered.
        functions: usize,
        /// The server's reply.
        response: RegisterResponse,
    },
    /// Registration was not attempted.
    Skipped(SkipReason),
}

impl AutoRegistration {
    /// Whether the functions were registered.
    pub fn registered(&self) -> bool {
        matches!(self, Self::Registered { .. })
    }
}

/// Why automatic registration was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// Inngest Cloud syncs apps from its side (dashboard, deploy integrations, in-band sync).
    Cloud,
    /// `disable_auto_registration` is set.
    Disabled,
    /// Connect mode: the gateway syncs the app when the worker connects.
    ConnectMode,
    /// Registration already happened once for this app.
    AlreadyRegistered,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cloud => "Inngest Cloud syncs the app itself",
            Self::Disabled => "disable_auto_registration is set",
            Self::ConnectMode => "connect mode syncs through the gateway",
            Self::AlreadyRegistered => "already registered",
        })
    }
}
