//! `InngestService`, what app code resolves from the container, and its default
//! implementation.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use async_trait::async_trait;
use nestling_inngest_protocol::{
    Capabilities, Event, FunctionConfig, RegisterRequest, RegisterResponse,
};
use parking_lot::RwLock;

use super::records::{EngineStorageReport, SyncRecord};
use super::state::{AutoRegistration, ConnectionState, EventTransform, FunctionSource, SkipReason};
use crate::EmbeddedEngine;
use crate::client::{InngestClient, SDK_REGISTER_ID};
use crate::{ConnectionMode, Error, ResolvedOptions, ServerKind, ValueSource};

/// `v` of the registration body, as the JS SDK sends it (the server does not interpret it).
const REGISTER_SCHEMA_VERSION: &str = "0.1";

/// `framework` of the registration body: the HTTP framework serving the endpoint.
pub const FRAMEWORK: &str = "poem";

/// The Inngest service: sends events, lists the app's functions and registers them.
///
/// Resolve it from the container as `Arc<dyn InngestService>`; the trait is object safe, and
/// [`DefaultInngestService`] is the implementation the module provides. Tests can substitute
/// their own.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use nestling_inngest::{ConnectionState, DefaultInngestService, InngestModuleOptions, InngestService};
///
/// let options = InngestModuleOptions::new("shop").resolve(&BTreeMap::from([("INNGEST_DEV", "1")]))?;
/// let service: Arc<dyn InngestService> =
///     Arc::new(DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new()))?);
///
/// assert_eq!(service.connection_state(), ConnectionState::NotApplicable);
/// assert!(!service.is_connected());
/// assert_eq!(service.function_count(), 0);
/// assert_eq!(service.options().app_id, "shop");
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[async_trait]
pub trait InngestService: Send + Sync + 'static {
    /// Sends one event and returns the id the server gave it.
    ///
    /// # Errors
    ///
    /// As [`InngestClient::send_events`].
    async fn send(&self, event: Event) -> Result<String, Error>;

    /// Sends several events in one request and returns their ids, in order.
    ///
    /// # Errors
    ///
    /// As [`InngestClient::send_events`].
    async fn send_many(&self, events: Vec<Event>) -> Result<Vec<String>, Error>;

    /// The registration configs of the app's functions, for the configured serve URL.
    fn functions(&self) -> Vec<FunctionConfig>;

    /// How many functions the app has.
    fn function_count(&self) -> usize;

    /// The resolved module options.
    fn options(&self) -> &ResolvedOptions;

    /// The API client the service sends with.
    fn client(&self) -> &InngestClient;

    /// State of the connection to Inngest ([`ConnectionState::NotApplicable`] in serve mode).
    fn connection_state(&self) -> ConnectionState;

    /// Whether the app is connected and receiving work; always `false` in serve mode, where
    /// nothing stays connected (see [`connection_state`](Self::connection_state)).
    fn is_connected(&self) -> bool {
        self.connection_state().is_connected()
    }

    /// Adds a transform applied to every event this service sends (see [`EventTransform`]).
    fn add_event_transform(&self, transform: Arc<dyn EventTransform>);

    /// The `/fn/register` body for an app served at `serve_url`.
    fn register_request(&self, serve_url: &str) -> RegisterRequest;

    /// Registers the app's functions as served at `serve_url` (out-of-band sync). The serve
    /// endpoint calls this for a `PUT`, passing the request's `deployId` and
    /// `X-Inngest-Server-Kind`.
    ///
    /// # Errors
    ///
    /// As [`InngestClient::register`].
    async fn sync(
        &self,
        serve_url: &str,
        deploy_id: Option<&str>,
        expected_server_kind: Option<&str>,
    ) -> Result<RegisterResponse, Error>;

    /// Registers by hand with the dev server (or self-hosted Inngest) the app at `host`
    /// (a host name, or a full origin which makes `port` unused) and `port`, for apps that
    /// disabled automatic registration or listen on a port known only at run time.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOptions`] naming `serve_host` for an unusable host; otherwise as
    /// [`InngestClient::register`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(inngest: std::sync::Arc<dyn nestling_inngest::InngestService>)
    /// # -> Result<(), nestling_inngest::Error> {
    /// // After the app is listening on a port chosen at run time:
    /// let response = inngest.register_with_dev_server("127.0.0.1", 41_002).await?;
    /// assert!(response.ok);
    /// # Ok(())
    /// # }
    /// ```
    async fn register_with_dev_server(
        &self,
        host: &str,
        port: u16,
    ) -> Result<RegisterResponse, Error>;

    /// The last registration of the app's functions with the Inngest server, successful or
    /// not: its time, URL and outcome. `None` before the first one (and for services that do
    /// not register).
    ///
    /// Registrations answered in the response of an in-band sync (Inngest Cloud's `PUT` with
    /// `X-Inngest-Sync-Kind: in_band`) are made by the serve endpoint, not the service; they
    /// count once the endpoint reports them with [`synced_in_band`](Self::synced_in_band).
    fn last_sync(&self) -> Option<SyncRecord> {
        None
    }

    /// Records a registration that the serve endpoint answered in band, with the URL the
    /// server asked for. The server accepts an in-band answer without replying, so it is
    /// recorded as registered.
    fn synced_in_band(&self, serve_url: &str) {
        let _ = serve_url;
    }

    /// The last registration that the server accepted.
    fn last_successful_sync(&self) -> Option<SyncRecord> {
        None
    }

    /// Probes the storage of the embedded engine, when the app runs on it; `None` when it
    /// talks to an outside server. The probe only reads, and takes the engine's database
    /// lock for one short lookup, so call it off the async runtime's threads
    /// (`tokio::task::spawn_blocking`) when it runs often.
    fn engine_storage(&self) -> Option<EngineStorageReport> {
        None
    }

    /// Called by the module once the HTTP server is listening on `local_port`: registers the
    /// app unless that is not wanted (Inngest Cloud, connect mode, `disable_auto_registration`,
    /// or already done). When `serve_port` was left to its default the real `local_port` is
    /// advertised. Logs the outcome with the number of functions.
    ///
    /// # Errors
    ///
    /// As [`sync`](Self::sync); the module logs them and keeps running.
    async fn app_listening(&self, local_port: u16) -> Result<AutoRegistration, Error>;
}

/// The module's [`InngestService`]: events through [`InngestClient`], functions from a
/// [`FunctionSource`] (the function registry).
///
/// The connect transport reports its state with
/// [`set_connection_state`](Self::set_connection_state).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use nestling_inngest::{ConnectionState, DefaultInngestService, InngestModuleOptions, InngestService};
///
/// let env = BTreeMap::from([("INNGEST_DEV", "1"), ("INNGEST_MODE", "connect")]);
/// let options = InngestModuleOptions::new("worker").resolve(&env)?;
/// let service = DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new()))?;
/// assert_eq!(service.connection_state(), ConnectionState::Closed);
///
/// service.set_connection_state(ConnectionState::Active);
/// assert!(service.is_connected());
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
pub struct DefaultInngestService {
    options: ResolvedOptions,
    client: InngestClient,
    functions: Arc<dyn FunctionSource>,
    transforms: RwLock<Vec<Arc<dyn EventTransform>>>,
    state: AtomicU8,
    auto_registered: AtomicBool,
    syncs: RwLock<Syncs>,
    engine: RwLock<Option<Arc<EmbeddedEngine>>>,
}

/// The last registration, and the last one that succeeded.
#[derive(Default)]
struct Syncs {
    last: Option<SyncRecord>,
    success: Option<SyncRecord>,
}

impl fmt::Debug for DefaultInngestService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultInngestService")
            .field("options", &self.options)
            .field("client", &self.client)
            .field("functions", &self.functions.function_count())
            .field("transforms", &self.transforms.read().len())
            .field("state", &self.connection_state())
            .finish_non_exhaustive()
    }
}

impl DefaultInngestService {
    /// A service for the resolved options and the app's functions.
    ///
    /// # Errors
    ///
    /// As [`InngestClient::new`].
    pub fn new(
        options: ResolvedOptions,
        functions: Arc<dyn FunctionSource>,
    ) -> Result<Self, Error> {
        let client = InngestClient::new(&options)?;

        Ok(Self::with_client(options, functions, client))
    }

    /// A service using the given client (for a custom retry policy, or tests).
    pub fn with_client(
        options: ResolvedOptions,
        functions: Arc<dyn FunctionSource>,
        client: InngestClient,
    ) -> Self {
        let state = match options.mode {
            ConnectionMode::Connect => ConnectionState::Closed,
            _ => ConnectionState::NotApplicable,
        };

        Self {
            options,
            client,
            functions,
            transforms: RwLock::new(Vec::new()),
            state: AtomicU8::new(state.to_u8()),
            auto_registered: AtomicBool::new(false),
            syncs: RwLock::new(Syncs::default()),
            engine: RwLock::new(None),
        }
    }

    /// Lets [`engine_storage`](InngestService::engine_storage) probe the embedded engine the
    /// module started for this service.
    pub(crate) fn attach_engine(&self, engine: Arc<EmbeddedEngine>) {
        *self.engine.write() = Some(engine);
    }

    fn record_sync(&self, url: &str, result: &Result<RegisterResponse, Error>) {
        let record = SyncRecord::of(url, self.function_count(), result);
        let mut syncs = self.syncs.write();
        if record.succeeded() {
            syncs.success = Some(record.clone());
        }
        syncs.last = Some(record);
    }

    /// Records the connect transport's state. Ignored in serve mode, which stays
    /// [`ConnectionState::NotApplicable`].
    pub fn set_connection_state(&self, state: ConnectionState) {
        if self.options.mode == ConnectionMode::Connect {
            self.state.store(state.to_u8(), Ordering::Release);
        }
    }

    fn transformed(&self, mut events: Vec<Event>) -> Vec<Event> {
        let transforms = self.transforms.read().clone();
        if transforms.is_empty() {
            return events;
        }
        for event in &mut events {
            for transform in &transforms {
                transform.transform(event);
            }
        }

        events
    }

    async fn register_at(&self, url: String) -> Result<RegisterResponse, Error> {
        let expected = (self.options.server != ServerKind::Embedded)
            .then(|| self.options.server.header_value());
        let request = self.register_request(&url);
        let functions = request.functions.len();

        let result = self.client.register(&request, None, expected).await;
        self.record_sync(&url, &result);
        match result {
            Ok(response) => {
                tracing::info!(
                    target: "nestling_inngest::registration",
                    functions,
                    url = %url,
                    server = %self.options.server,
                    api = %self.options.api_origin,
                    modified = response.modified,
                    "registered the app's functions with Inngest"
                );
                Ok(response)
            }
            Err(error) => {
                tracing::warn!(
                    target: "nestling_inngest::registration",
                    functions,
                    url = %url,
                    server = %self.options.server,
                    api = %self.options.api_origin,
                    error = %error,
                    "could not register the app's functions with Inngest"
                );
                Err(error)
            }
        }
    }
}

#[async_trait]
impl InngestService for DefaultInngestService {
    async fn send(&self, event: Event) -> Result<String, Error> {
        let ids = self.send_many(vec![event]).await?;

        ids.into_iter().next().ok_or_else(|| Error::ApiResponse {
            operation: "send events",
            url: self.client.event_url_redacted(),
            message: "the reply holds no event id".to_owned(),
        })
    }

    async fn send_many(&self, events: Vec<Event>) -> Result<Vec<String>, Error> {
        let events = self.transformed(events);

        self.client.send_events(&events).await
    }

    fn functions(&self) -> Vec<FunctionConfig> {
        self.functions
            .function_configs(&self.options.app_id, &self.options.serve_url())
    }

    fn function_count(&self) -> usize {
        self.functions.function_count()
    }

    fn options(&self) -> &ResolvedOptions {
        &self.options
    }

    fn client(&self) -> &InngestClient {
        &self.client
    }

    fn connection_state(&self) -> ConnectionState {
        ConnectionState::from_u8(self.state.load(Ordering::Acquire))
    }

    fn add_event_transform(&self, transform: Arc<dyn EventTransform>) {
        self.transforms.write().push(transform);
    }

    fn register_request(&self, serve_url: &str) -> RegisterRequest {
        RegisterRequest {
            url: serve_url.to_owned(),
            v: REGISTER_SCHEMA_VERSION.to_owned(),
            deploy_type: nestling_inngest_protocol::register::DEPLOY_TYPE_PING.to_owned(),
            sdk: SDK_REGISTER_ID.to_owned(),
            framework: Some(FRAMEWORK.to_owned()),
            app_name: self.options.app_id.clone(),
            app_version: self.options.app_version.clone(),
            capabilities: Some(Capabilities::serve()),
            functions: self
                .functions
                .function_configs(&self.options.app_id, serve_url),
            ..RegisterRequest::default()
        }
    }

    async fn sync(
        &self,
        serve_url: &str,
        deploy_id: Option<&str>,
        expected_server_kind: Option<&str>,
    ) -> Result<RegisterResponse, Error> {
        let request = self.register_request(serve_url);

        let result = self
            .client
            .register(&request, deploy_id, expected_server_kind)
            .await;
        self.record_sync(serve_url, &result);
        result
    }

    fn last_sync(&self) -> Option<SyncRecord> {
        self.syncs.read().last.clone()
    }

    fn synced_in_band(&self, serve_url: &str) {
        let answered = Ok(RegisterResponse {
            ok: true,
            ..RegisterResponse::default()
        });
        self.record_sync(serve_url, &answered);
    }

    fn last_successful_sync(&self) -> Option<SyncRecord> {
        self.syncs.read().success.clone()
    }

    fn engine_storage(&self) -> Option<EngineStorageReport> {
        let engine = self.engine.read().clone()?;
        engine.storage_report()
    }

    async fn register_with_dev_server(
        &self,
        host: &str,
        port: u16,
    ) -> Result<RegisterResponse, Error> {
        let url = self.options.serve_url_for(host, port)?;

        self.register_at(url).await
    }

    async fn app_listening(&self, local_port: u16) -> Result<AutoRegistration, Error> {
        let options = &self.options;
        let skip = if options.mode == ConnectionMode::Connect {
            Some(SkipReason::ConnectMode)
        } else if options.server == ServerKind::Cloud {
            Some(SkipReason::Cloud)
        } else if options.disable_auto_registration {
            Some(SkipReason::Disabled)
        } else if self.auto_registered.swap(true, Ordering::AcqRel) {
            Some(SkipReason::AlreadyRegistered)
        } else {
            None
        };
        if let Some(reason) = skip {
            tracing::debug!(
                target: "nestling_inngest::registration",
                reason = %reason,
                "automatic registration skipped"
            );
            return Ok(AutoRegistration::Skipped(reason));
        }

        let port = match options.serve_port_source {
            ValueSource::Default if local_port != 0 => local_port,
            _ => options.serve_port,
        };
        let url = options.serve_url_for(&options.serve_host, port)?;
        let response = self.register_at(url.clone()).await.inspect_err(|_| {
            // Let a later call try again.
            self.auto_registered.store(false, Ordering::Release);
        })?;

        Ok(AutoRegistration::Registered {
            url,
            functions: self.function_count(),
            response,
        })
    }
}
