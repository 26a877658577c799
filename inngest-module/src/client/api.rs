//! `InngestClient`: calls from the app to the Inngest API and event API.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nestling_inngest_protocol::headers as h;
use nestling_inngest_protocol::{
    Event, RegisterRequest, RegisterResponse, SendEventsResponse, hashed_signing_key,
    validate_events,
};
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, USER_AGENT,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use url::Url;

use super::retry::RetryPolicy;
use super::seed::event_id_seed;
use crate::{Error, ResolvedOptions};

/// The `X-Inngest-SDK` and `User-Agent` value of this SDK: `nestling-inngest:v<version>`.
pub const SDK_HEADER: &str = concat!("nestling-inngest:v", env!("CARGO_PKG_VERSION"));

/// The `sdk` field of registration bodies: `rust:v<version>` (the server splits it on `:`
/// into language and version).
pub const SDK_REGISTER_ID: &str = concat!("rust:v", env!("CARGO_PKG_VERSION"));

/// Longest response body kept in an error message.
const MAX_ERROR_BODY: usize = 2048;

/// Client of the Inngest API (`/fn/register`, `/v0/runs/…`) and the event API (`/e/{key}`),
/// configured from [`ResolvedOptions`].
///
/// - Every call retries network errors, HTTP 5xx and 429 per its [`RetryPolicy`].
/// - Calls to the API carry `Authorization: Bearer <hashed signing key>` when a key is
///   configured; on 401/403 they are repeated once with the fallback key.
/// - Every call carries `X-Inngest-SDK`, `User-Agent` and, when an environment is
///   configured, `X-Inngest-Env`.
///
/// Cloning is cheap (the HTTP connection pool is shared).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::{InngestClient, InngestModuleOptions};
///
/// let env = BTreeMap::from([("INNGEST_DEV", "http://127.0.0.1:8288")]);
/// let options = InngestModuleOptions::new("shop").resolve(&env)?;
/// let client = InngestClient::new(&options)?;
/// assert_eq!(client.event_url_redacted(), "http://127.0.0.1:8288/e/<event key>");
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Clone)]
pub struct InngestClient {
    http: reqwest::Client,
    api_origin: Url,
    event_api_origin: Url,
    event_key: Result<String, crate::ServerKind>,
    bearer: Option<String>,
    bearer_fallback: Option<String>,
    environment: Option<HeaderValue>,
    retry: RetryPolicy,
}

impl fmt::Debug for InngestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InngestClient")
            .field("api_origin", &self.api_origin.as_str())
            .field("event_api_origin", &self.event_api_origin.as_str())
            .field("has_event_key", &self.event_key.is_ok())
            .field("has_signing_key", &self.bearer.is_some())
            .field("has_signing_key_fallback", &self.bearer_fallback.is_some())
            .field("environment", &self.environment)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// How a call authenticates.
#[derive(Clone, Copy)]
enum Auth {
    /// No `Authorization` header (the event API authenticates by the key in the path).
    None,
    /// The hashed signing key, then the fallback on 401/403.
    SigningKey,
}

impl InngestClient {
    /// A client for the resolved options, with the default [`RetryPolicy`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOptions`] when an origin or key cannot be used (resolution already
    /// checks them, so this only fails for hand-edited options).
    pub fn new(options: &ResolvedOptions) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(SDK_HEADER)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| invalid("api_origin", format!("cannot build the HTTP client: {e}")))?;

        let origin = |field: &str, text: &str| {
            Url::parse(&format!("{text}/"))
                .map_err(|e| invalid(field, format!("`{text}` is not a URL: {e}")))
        };
        let bearer = |field: &str, key: &Option<String>| {
            key.as_deref()
                .map(|key| hashed_signing_key(key).map_err(|e| invalid(field, e.to_string())))
                .transpose()
        };
        let environment = options
            .environment
            .as_deref()
            .map(HeaderValue::from_str)
            .transpose()
            .map_err(|_| invalid("environment", "is not a valid HTTP header value".to_owned()))?;

        Ok(Self {
            http,
            api_origin: origin("base_url", &options.api_origin)?,
            event_api_origin: origin("base_url", &options.event_api_origin)?,
            event_key: options
                .event_key_or_placeholder()
                .map(str::to_owned)
                .map_err(|_| options.server),
            bearer: bearer("signing_key", &options.signing_key)?,
            bearer_fallback: bearer("signing_key_fallback", &options.signing_key_fallback)?,
            environment,
            retry: RetryPolicy::default(),
        })
    }

    /// Replaces the retry policy.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// use nestling_inngest::{InngestClient, InngestModuleOptions, RetryPolicy};
    ///
    /// # let options = InngestModuleOptions::new("a").resolve(&BTreeMap::<&str, &str>::new())?;
    /// let client = InngestClient::new(&options)?.with_retry(RetryPolicy::none());
    /// assert_eq!(client.retry_policy().max_attempts, 1);
    /// # Ok::<(), nestling_inngest::Error>(())
    /// ```
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The event API URL with the key replaced by `<event key>`, as error messages show it.
    pub fn event_url_redacted(&self) -> String {
        format!("{}e/<event key>", self.event_api_origin)
    }

    /// Sends events to `POST {event_api}/e/{key}` and returns the ids the server gave them,
    /// in order.
    ///
    /// Events are checked first (name, `data` object, `ts` range, at most 5000). A missing
    /// `ts` is set to now; one `x-inngest-event-id-seed` header is generated per call and kept
    /// across retries, so a retried send yields the same ids. With no event key in a dev setup
    /// the placeholder `NO_EVENT_KEY_SET` is used.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] before sending; [`Error::MissingEventKey`] for self-hosted and
    /// Cloud without a key; [`Error::ApiUnreachable`] and [`Error::ApiStatus`] (also when the
    /// body's `status` is not 200) after the retries; [`Error::ApiResponse`] for an unreadable
    /// reply.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nestling_inngest::Error> {
    /// use nestling_inngest::{InngestClient, InngestModuleOptions};
    /// use nestling_inngest_protocol::Event;
    ///
    /// let options = InngestModuleOptions::new("shop").dev(true).resolve_from_process_env()?;
    /// let client = InngestClient::new(&options)?;
    /// let ids = client
    ///     .send_events(&[Event::new("shop/order.placed", serde_json::json!({"order": 42}))])
    ///     .await?;
    /// println!("stored as {ids:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_events(&self, events: &[Event]) -> Result<Vec<String>, Error> {
        validate_events(events).map_err(Error::InvalidEvent)?;
        let key = self
            .event_key
            .as_ref()
            .map_err(|server| Error::MissingEventKey { server: *server })?;
        if events.is_empty() {
            return Ok(Vec::new());
        }

        let now_ms = unix_millis();
        let stamped: Vec<Event> = events
            .iter()
            .map(|event| {
                let mut event = event.clone();
                event.ts.get_or_insert(now_ms);
                event
            })
            .collect();
        let body = serde_json::to_vec(&stamped).map_err(|e| Error::ApiResponse {
            operation: "send events",
            url: self.event_url_redacted(),
            message: format!("the events cannot be serialised: {e}"),
        })?;

        let mut url = self.event_api_origin.clone();
        url.path_segments_mut()
            .map_err(|()| invalid("base_url", "cannot be a base URL".to_owned()))?
            .pop_if_empty()
            .push("e")
            .push(key);
        let seed = HeaderValue::from_str(&event_id_seed(now_ms))
            .map_err(|_| invalid("event_key", "produced an invalid seed header".to_owned()))?;

        let call = Call {
            operation: "send events",
            method: Method::POST,
            url,
            shown_url: self.event_url_redacted(),
            auth: Auth::None,
            body: Some(body),
            extra: vec![(h::EVENT_ID_SEED, seed)],
            max_attempts: None,
        };
        let (status, bytes) = self.execute(&call).await?;
        let reply: SendEventsResponse = parse_reply(&call, &bytes)?;
        if !reply.is_success() {
            return Err(status_error(
                &call,
                StatusCode::from_u16(reply.status).unwrap_or(status),
                &bytes,
                1,
            ));
        }

        Ok(reply.ids)
    }

    /// Registers the app: `POST {api}/fn/register[?deployId=…]` with `request` as the body,
    /// `x-inngest-sync-kind: out_of_band` and, when given, `X-Inngest-Expected-Server-Kind`
    /// (the `X-Inngest-Server-Kind` of the sync request being answered, or the kind the
    /// options expect).
    ///
    /// # Errors
    ///
    /// [`Error::ApiStatus`] naming status and body (the server's `error` explains a rejected
    /// function config or a server-kind mismatch); [`Error::ApiUnreachable`];
    /// [`Error::ApiResponse`].
    pub async fn register(
        &self,
        request: &RegisterRequest,
        deploy_id: Option<&str>,
        expected_server_kind: Option<&str>,
    ) -> Result<RegisterResponse, Error> {
        let mut url = self.api_url(&["fn", "register"])?;
        if let Some(deploy_id) = deploy_id.filter(|id| !id.is_empty() && *id != "undefined") {
            url.query_pairs_mut().append_pair("deployId", deploy_id);
        }
        let body = serde_json::to_vec(request).map_err(|e| Error::ApiResponse {
            operation: "register functions",
            url: url.to_string(),
            message: format!("the register request cannot be serialised: {e}"),
        })?;

        let mut extra = vec![(
            h::SYNC_KIND,
            HeaderValue::from_static(h::SYNC_KIND_OUT_OF_BAND),
        )];
        if let Some(kind) = expected_server_kind.and_then(|k| HeaderValue::from_str(k).ok()) {
            extra.push((h::EXPECTED_SERVER_KIND, kind));
        }

        let call = Call {
            operation: "register functions",
            method: Method::POST,
            shown_url: url.to_string(),
            url,
            auth: Auth::SigningKey,
            body: Some(body),
            extra,
            max_attempts: None,
        };
        let (_, bytes) = self.execute(&call).await?;

        parse_reply(&call, &bytes)
    }

    /// The events of a run, for a call request with `use_api`: `GET {api}/v0/runs/{id}/batch`.
    ///
    /// # Errors
    ///
    /// As [`register`](Self::register).
    pub async fn run_batch(&self, run_id: &str) -> Result<Vec<Event>, Error> {
        self.get_json("load run events", &["v0", "runs", run_id, "batch"])
            .await
    }

    /// The memoised step results of a run, for a call request with `use_api`:
    /// `GET {api}/v0/runs/{id}/actions`, keyed by hashed step id, raw as in a call request.
    ///
    /// # Errors
    ///
    /// As [`register`](Self::register).
    pub async fn run_actions(&self, run_id: &str) -> Result<HashMap<String, Box<RawValue>>, Error> {
        self.get_json("load run steps", &["v0", "runs", run_id, "actions"])
            .await
    }

    /// Reports steps a v4-style run completed inside one request: `POST
    /// {api}/v1/checkpoint/{run_id}/async` with `body` (`run_id`, `fn_id`, `qi_id`, `steps`, …).
    ///
    /// Not retried: on failure the caller falls back to returning the steps in its 206, as the
    /// JS SDK does. A 409 means the dispatch is stale and the caller must stop.
    ///
    /// # Errors
    ///
    /// As [`register`](Self::register), except that 409 is [`CheckpointOutcome::Stale`].
    pub async fn checkpoint_async(
        &self,
        run_id: &str,
        body: &impl serde::Serialize,
    ) -> Result<CheckpointOutcome, Error> {
        let url = self.api_url(&["v1", "checkpoint", run_id, "async"])?;
        let body = serde_json::to_vec(body).map_err(|e| Error::ApiResponse {
            operation: "checkpoint steps",
            url: url.to_string(),
            message: format!("the checkpoint cannot be serialised: {e}"),
        })?;
        let call = Call {
            operation: "checkpoint steps",
            method: Method::POST,
            shown_url: url.to_string(),
            url,
            auth: Auth::SigningKey,
            body: Some(body),
            extra: Vec::new(),
            max_attempts: Some(1),
        };

        match self.execute(&call).await {
            Ok(_) => Ok(CheckpointOutcome::Accepted),
            Err(Error::ApiStatus { status: 409, .. }) => Ok(CheckpointOutcome::Stale),
            Err(error) => Err(error),
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        segments: &[&str],
    ) -> Result<T, Error> {
        let url = self.api_url(segments)?;
        let call = Call {
            operation,
            method: Method::GET,
            shown_url: url.to_string(),
            url,
            auth: Auth::SigningKey,
            body: None,
            extra: Vec::new(),
            max_attempts: None,
        };
        let (_, bytes) = self.execute(&call).await?;

        parse_reply(&call, &bytes)
    }

    fn api_url(&self, segments: &[&str]) -> Result<Url, Error> {
        let mut url = self.api_origin.clone();
        url.path_segments_mut()
            .map_err(|()| invalid("base_url", "cannot be a base URL".to_owned()))?
            .pop_if_empty()
            .extend(segments);

        Ok(url)
    }

    /// Runs a call with retries and the signing-key fallback; returns a 2xx status and body.
    async fn execute(&self, call: &Call) -> Result<(StatusCode, bytes::Bytes), Error> {
        let max_attempts = call.max_attempts.unwrap_or(self.retry.max_attempts);
        let mut use_fallback = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let bearer = match call.auth {
                Auth::None => None,
                Auth::SigningKey if use_fallback => self.bearer_fallback.as_deref(),
                Auth::SigningKey => self.bearer.as_deref(),
            };

            let response = match self.request(call, bearer).send().await {
                Ok(response) => response,
                Err(source) if attempt < max_attempts => {
                    tracing::debug!(
                        target: "nestling_inngest::client",
                        operation = call.operation,
                        url = %call.shown_url,
                        attempt,
                        error = %source,
                        "Inngest API unreachable; retrying"
                    );
                    tokio::time::sleep(self.retry.delay(attempt, None)).await;
                    continue;
                }
                Err(source) => {
                    return Err(Error::ApiUnreachable {
                        operation: call.operation,
                        url: call.shown_url.clone(),
                        attempts: attempt,
                        source: source.without_url(),
                    });
                }
            };

            let status = response.status();
            let unauthorized = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            if unauthorized
                && matches!(call.auth, Auth::SigningKey)
                && !use_fallback
                && self.bearer_fallback.is_some()
            {
                tracing::debug!(
                    target: "nestling_inngest::client",
                    operation = call.operation,
                    status = status.as_u16(),
                    "signing key rejected; retrying with the fallback key"
                );
                use_fallback = true;
                continue;
            }

            let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            if retryable && attempt < max_attempts {
                let retry_after = retry_after(&response);
                tracing::debug!(
                    target: "nestling_inngest::client",
                    operation = call.operation,
                    url = %call.shown_url,
                    status = status.as_u16(),
                    attempt,
                    "Inngest API answered an error that may pass; retrying"
                );
                tokio::time::sleep(self.retry.delay(attempt, retry_after)).await;
                continue;
            }

            let bytes = read_body(call, response).await?;
            if !status.is_success() {
                return Err(status_error(call, status, &bytes, attempt));
            }

            return Ok((status, bytes));
        }
    }

    fn request(&self, call: &Call, bearer: Option<&str>) -> RequestBuilder {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(SDK_HEADER));
        headers.insert(h::SDK, HeaderValue::from_static(SDK_HEADER));
        if let Some(env) = &self.environment {
            headers.insert(h::ENV, env.clone());
        }
        if let Some(value) = bearer.and_then(|b| HeaderValue::from_str(&format!("Bearer {b}")).ok())
        {
            headers.insert(AUTHORIZATION, value);
        }
        for (name, value) in &call.extra {
            headers.insert(*name, value.clone());
        }

        let builder = self
            .http
            .request(call.method.clone(), call.url.clone())
            .headers(headers);
        match &call.body {
            Some(body) => builder.body(body.clone()),
            None => builder,
        }
    }
}

/// What the server made of a checkpoint.
///
/// # Examples
///
/// ```
/// use nestling_inngest::CheckpointOutcome;
///
/// assert_ne!(CheckpointOutcome::Accepted, CheckpointOutcome::Stale);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointOutcome {
    /// The steps were stored.
    Accepted,
    /// The request belongs to a superseded dispatch (HTTP 409); stop executing.
    Stale,
}

/// One API call, replayable for retries.
struct Call {
    operation: &'static str,
    method: Method,
    url: Url,
    /// `url` with secrets removed, for logs and errors.
    shown_url: String,
    auth: Auth,
    body: Option<Vec<u8>>,
    extra: Vec<(&'static str, HeaderValue)>,
    /// Attempts allowed, when the call must not use the client's policy.
    max_attempts: Option<u32>,
}

async fn read_body(call: &Call, response: Response) -> Result<bytes::Bytes, Error> {
    response.bytes().await.map_err(|e| Error::ApiResponse {
        operation: call.operation,
        url: call.shown_url.clone(),
        message: format!("the body could not be read: {}", e.without_url()),
    })
}

fn parse_reply<T: DeserializeOwned>(call: &Call, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::ApiResponse {
        operation: call.operation,
        url: call.shown_url.clone(),
        message: format!("{e} in `{}`", excerpt(bytes)),
    })
}

fn status_error(call: &Call, status: StatusCode, bytes: &[u8], attempts: u32) -> Error {
    let hint = match status.as_u16() {
        401 | 403 if matches!(call.auth, Auth::None) => {
            "the event key was rejected; check `event_key` / INNGEST_EVENT_KEY"
        }
        401 | 403 => {
            "the signing key was rejected; check `signing_key` / INNGEST_SIGNING_KEY (and the \
             fallback) against the Inngest dashboard"
        }
        404 => "nothing answers this path; check that base_url points at an Inngest server",
        400 | 422 => "the server rejected the request; its message above says which part",
        429 => "the server is rate limiting this app; retry later or send fewer requests",
        500..=599 => "the Inngest server failed; check its logs, the call may succeed later",
        _ => "unexpected status from the Inngest server",
    };

    Error::ApiStatus {
        operation: call.operation,
        url: call.shown_url.clone(),
        status: status.as_u16(),
        body: excerpt(bytes),
        attempts,
        hint,
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= MAX_ERROR_BODY {
        return text.into_owned();
    }
    let cut = (0..=MAX_ERROR_BODY)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);

    format!("{}… ({} bytes)", &text[..cut], bytes.len())
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;

    nestling_inngest_protocol::headers::parse_retry_after(value, chrono::Utc::now())
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn invalid(field: &str, message: String) -> Error {
    Error::InvalidOptions(crate::options::single_problem(field, message))
}
