//! `MockInngestService`: an `InngestService` that records what it is asked to send instead of
//! calling Inngest.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use nestling_inngest::{
    AutoRegistration, ConnectionState, EventTransform, FunctionRegistry, FunctionSource,
    InngestClient, InngestModuleOptions, InngestService, ResolvedOptions, SkipReason,
};
use nestling_inngest_protocol::{Event, FunctionConfig, RegisterRequest, RegisterResponse};
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::TestingError;

/// One event the mock was asked to send, with the id it answered.
///
/// # Examples
///
/// ```
/// use nestling_testing::SentEvent;
/// use nestling_inngest_protocol::Event;
///
/// let sent = SentEvent { id: "01J".into(), event: Event::new("app/a", serde_json::json!({})) };
/// assert_eq!(sent.name(), "app/a");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SentEvent {
    /// The id the mock answered (a fresh ULID, or the event's own idempotency id).
    pub id: String,
    /// The event as it would have been sent, after the event transforms.
    pub event: Event,
}

impl SentEvent {
    /// The event's name.
    pub fn name(&self) -> &str {
        &self.event.name
    }
}

/// An [`InngestService`] for tests: `send`/`send_many` record the events and answer fresh
/// ids, registration is recorded and never leaves the process, and `functions()` lists the
/// functions of an attached [`FunctionRegistry`] (or a [`FunctionSource`]).
///
/// Install it over the module's service with
/// [`TestingModuleBuilder::mock_inngest`](crate::TestingModuleBuilder::mock_inngest) (or
/// `override_provider::<dyn InngestService>().use_value(mock)`), so that every service
/// injected with `Arc<dyn InngestService>` sends into it. The function runner uses one too, so
/// `step.send_event` is recorded rather than sent.
///
/// Its API client (`client()`) is built the first time it is asked for, and that call panics
/// if the machine cannot set up TLS; nothing in the mock sends through it.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{InngestService, InngestServiceExt};
/// use nestling_inngest_protocol::Event;
/// use nestling_testing::MockInngestService;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mock = MockInngestService::new("shop");
/// let id = mock.send(Event::new("shop/order.placed", serde_json::json!({"order": 7}))).await?;
///
/// let sent = mock.events();
/// assert_eq!(sent.len(), 1);
/// assert_eq!(sent[0].id, id);
/// assert_eq!(sent[0].event.data["order"], 7);
/// assert_eq!(mock.events_named("shop/order.placed").len(), 1);
///
/// mock.clear_events();
/// assert!(mock.events().is_empty());
/// # Ok::<(), nestling_inngest::Error>(()) }).unwrap();
/// ```
pub struct MockInngestService {
    options: ResolvedOptions,
    /// Built on first use: only `client()` needs it (the serve endpoint asks for it when a
    /// call request's state is too large to send inline), and building one loads TLS roots,
    /// which would slow every test down.
    client: OnceLock<InngestClient>,
    functions: Mutex<Option<Arc<dyn FunctionSource>>>,
    events: Mutex<Vec<SentEvent>>,
    sent: Notify,
    transforms: Mutex<Vec<Arc<dyn EventTransform>>>,
    registrations: Mutex<Vec<String>>,
    send_error: Mutex<Option<String>>,
    state: Mutex<ConnectionState>,
}

impl fmt::Debug for MockInngestService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockInngestService")
            .field("app_id", &self.options.app_id)
            .field("events", &self.events.lock().len())
            .field("functions", &self.function_count())
            .field("registrations", &self.registrations.lock().len())
            .finish_non_exhaustive()
    }
}

impl MockInngestService {
    /// A mock for the app `app_id`, in dev mode, with no functions attached.
    ///
    /// # Panics
    ///
    /// When `app_id` is not a valid app id (empty, for instance); use
    /// [`try_new`](Self::try_new) to get the error instead.
    #[track_caller]
    pub fn new(app_id: &str) -> Self {
        Self::try_new(app_id).unwrap_or_else(|err| panic!("{err}"))
    }

    /// A mock for the app `app_id`, in dev mode, with no functions attached.
    ///
    /// # Errors
    ///
    /// [`TestingError::Inngest`] when the options do not resolve (an invalid app id).
    pub fn try_new(app_id: &str) -> Result<Self, TestingError> {
        // Resolved from an empty environment, not the process's, so that a developer's
        // `INNGEST_*` variables cannot point a test at a real server.
        let env: BTreeMap<&str, &str> = BTreeMap::new();
        let options = InngestModuleOptions::new(app_id)
            .dev(true)
            .disable_auto_registration(true)
            .resolve(&env)?;

        Self::with_options(options)
    }

    /// A mock answering with these resolved options (`options()` returns them).
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for checks of the options.
    pub fn with_options(options: ResolvedOptions) -> Result<Self, TestingError> {
        Ok(Self {
            options,
            client: OnceLock::new(),
            functions: Mutex::new(None),
            events: Mutex::new(Vec::new()),
            sent: Notify::new(),
            transforms: Mutex::new(Vec::new()),
            registrations: Mutex::new(Vec::new()),
            send_error: Mutex::new(None),
            state: Mutex::new(ConnectionState::NotApplicable),
        })
    }

    /// Lists the functions of `registry` from now on (the testing module attaches the app's
    /// registry on `init()`).
    pub fn attach_registry(&self, registry: FunctionRegistry) {
        *self.functions.lock() = Some(Arc::new(registry));
    }

    /// Lists the functions of `source` from now on.
    pub fn attach_functions(&self, source: Arc<dyn FunctionSource>) {
        *self.functions.lock() = Some(source);
    }

    /// Every event sent so far, in order.
    pub fn events(&self) -> Vec<SentEvent> {
        self.events.lock().clone()
    }

    /// The events sent so far with this name.
    pub fn events_named(&self, name: &str) -> Vec<SentEvent> {
        self.events
            .lock()
            .iter()
            .filter(|sent| sent.event.name == name)
            .cloned()
            .collect()
    }

    /// Forgets the events sent so far.
    pub fn clear_events(&self) {
        self.events.lock().clear();
    }

    /// Returns the events sent so far and forgets them.
    pub fn take_events(&self) -> Vec<SentEvent> {
        std::mem::take(&mut *self.events.lock())
    }

    /// Waits until `count` events in all have been sent, for code that sends in the background.
    ///
    /// # Errors
    ///
    /// [`TestingError::Timeout`] when fewer were sent within `timeout`.
    pub async fn wait_for_events(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<SentEvent>, TestingError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.sent.notified();
            {
                let events = self.events.lock();
                if events.len() >= count {
                    return Ok(events.clone());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(TestingError::Timeout {
                    what: format!("{count} sent events (got {})", self.events.lock().len()),
                    after: timeout,
                });
            }
        }
    }

    /// Makes every later send fail with this message (as if the Event API refused it), or
    /// succeed again with `None`.
    pub fn fail_sends(&self, message: Option<&str>) {
        *self.send_error.lock() = message.map(str::to_owned);
    }

    /// The serve URLs the app asked to be registered at, in order.
    pub fn registrations(&self) -> Vec<String> {
        self.registrations.lock().clone()
    }

    /// Sets what [`connection_state`](InngestService::connection_state) answers.
    pub fn set_connection_state(&self, state: ConnectionState) {
        *self.state.lock() = state;
    }

    fn register_response() -> RegisterResponse {
        RegisterResponse {
            ok: true,
            ..RegisterResponse::default()
        }
    }
}

#[async_trait]
impl InngestService for MockInngestService {
    async fn send(&self, event: Event) -> Result<String, nestling_inngest::Error> {
        let mut ids = self.send_many(vec![event]).await?;

        Ok(ids.remove(0))
    }

    async fn send_many(&self, events: Vec<Event>) -> Result<Vec<String>, nestling_inngest::Error> {
        if let Some(message) = self.send_error.lock().clone() {
            return Err(nestling_inngest::Error::ApiResponse {
                operation: "send events",
                url: "mock://inngest/e".to_owned(),
                message,
            });
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }

        let transforms = self.transforms.lock().clone();
        let mut ids = Vec::with_capacity(events.len());
        let mut recorded = Vec::with_capacity(events.len());
        for mut event in events {
            for transform in &transforms {
                transform.transform(&mut event);
            }
            let id = event
                .id
                .clone()
                .unwrap_or_else(|| ulid::Ulid::new().to_string());
            ids.push(id.clone());
            recorded.push(SentEvent { id, event });
        }
        self.events.lock().extend(recorded);
        self.sent.notify_waiters();

        Ok(ids)
    }

    fn functions(&self) -> Vec<FunctionConfig> {
        let source = self.functions.lock().clone();
        source
            .map(|s| s.function_configs(&self.options.app_id, &self.options.serve_url()))
            .unwrap_or_default()
    }

    fn function_count(&self) -> usize {
        let source = self.functions.lock().clone();
        source.map_or(0, |s| s.function_count())
    }

    fn options(&self) -> &ResolvedOptions {
        &self.options
    }

    fn client(&self) -> &InngestClient {
        self.client.get_or_init(|| {
            // The options resolved, so their origins and keys are valid; what remains is the
            // HTTP client's TLS set-up, which fails only on a broken machine.
            InngestClient::new(&self.options).unwrap_or_else(|err| {
                panic!("MockInngestService cannot build its API client: {err}")
            })
        })
    }

    fn connection_state(&self) -> ConnectionState {
        *self.state.lock()
    }

    fn add_event_transform(&self, transform: Arc<dyn EventTransform>) {
        self.transforms.lock().push(transform);
    }

    fn register_request(&self, serve_url: &str) -> RegisterRequest {
        let source = self.functions.lock().clone();
        RegisterRequest {
            url: serve_url.to_owned(),
            app_name: self.options.app_id.clone(),
            functions: source
                .map(|s| s.function_configs(&self.options.app_id, serve_url))
                .unwrap_or_default(),
            ..RegisterRequest::default()
        }
    }

    async fn sync(
        &self,
        serve_url: &str,
        _deploy_id: Option<&str>,
        _expected_server_kind: Option<&str>,
    ) -> Result<RegisterResponse, nestling_inngest::Error> {
        self.registrations.lock().push(serve_url.to_owned());

        Ok(Self::register_response())
    }

    async fn register_with_dev_server(
        &self,
        host: &str,
        port: u16,
    ) -> Result<RegisterResponse, nestling_inngest::Error> {
        let url = self.options.serve_url_for(host, port)?;
        self.registrations.lock().push(url);

        Ok(Self::register_response())
    }

    async fn app_listening(
        &self,
        _local_port: u16,
    ) -> Result<AutoRegistration, nestling_inngest::Error> {
        // The mock never registers on its own: a test that wants registration calls
        // `register_with_dev_server` and reads `registrations()`.
        Ok(AutoRegistration::Skipped(SkipReason::Disabled))
    }
}
