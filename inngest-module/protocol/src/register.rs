//! Syncing an app: the `/fn/register` exchange, in-band sync, and introspection bodies.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::FunctionConfig;

/// Version of the introspection schema SDKs answer a `GET` with.
pub const INTROSPECTION_SCHEMA_VERSION: &str = "2024-05-24";

/// `deployType` of an HTTP (serve) app.
pub const DEPLOY_TYPE_PING: &str = "ping";

/// `deployType` of a connect (WebSocket) app.
pub const DEPLOY_TYPE_CONNECT: &str = "connect";

/// Value of a capability the SDK supports.
pub const CAPABILITY_V1: &str = "v1";

/// The body an SDK POSTs to `{api}/fn/register` during an out-of-band sync.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::RegisterRequest;
///
/// let body = r#"{"url":"http://localhost:3000/api/inngest","v":"0.1","deployType":"ping",
///   "sdk":"rust:v0.1.0","framework":"poem","appName":"my-app","functions":[],
///   "capabilities":{"trust_probe":"v1","connect":"v1"}}"#;
/// let req: RegisterRequest = serde_json::from_str(body).unwrap();
/// assert_eq!(req.app_name, "my-app");
/// assert_eq!(req.sdk_language(), Some("rust"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// URL the executor will call (without `deployId`).
    pub url: String,

    /// Registration schema version: JS `"0.1"`, Go `"1"`; not interpreted by the server.
    #[serde(default)]
    pub v: String,

    /// `"ping"` for serve, `"connect"` for connect.
    #[serde(rename = "deployType", default)]
    pub deploy_type: String,

    /// `<language>:v<version>`, e.g. `js:v4.18.1`.
    #[serde(default)]
    pub sdk: String,

    /// Web framework serving the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,

    /// App id; required by the server.
    #[serde(rename = "appName", default)]
    pub app_name: String,

    /// User-supplied app version.
    #[serde(
        rename = "appVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub app_version: Option<String>,

    /// What the SDK supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,

    /// The functions served.
    #[serde(default, deserialize_with = "crate::call::null_as_default")]
    pub functions: Vec<FunctionConfig>,

    /// Deploy id copied from the sync request's query.
    #[serde(rename = "deployId", default, skip_serializing_if = "Option::is_none")]
    pub deploy_id: Option<String>,

    /// Environment and platform (Go SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<RegisterHeaders>,

    /// Idempotency key of this sync.
    #[serde(
        rename = "idempotencyKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub idempotency_key: Option<String>,

    /// Free-form feature readiness report (JS v4); kept as given.
    #[serde(
        rename = "featureObservations",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub feature_observations: Option<Value>,
}

impl RegisterRequest {
    /// The language half of `sdk` (`"js"` in `"js:v4.18.1"`).
    pub fn sdk_language(&self) -> Option<&str> {
        self.sdk.split_once(':').map(|(lang, _)| lang)
    }

    /// The version half of `sdk`, without the leading `v`.
    pub fn sdk_version(&self) -> Option<&str> {
        self.sdk
            .split_once(':')
            .map(|(_, v)| v.strip_prefix('v').unwrap_or(v))
    }
}

/// `capabilities` of a register request or introspection body.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::Capabilities;
///
/// let caps = Capabilities::serve();
/// assert_eq!(serde_json::to_string(&caps).unwrap(), r#"{"trust_probe":"v1","connect":"v1"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Answers `POST ?probe=trust`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_probe: Option<String>,
    /// Supports connect mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
    /// Supports in-band sync (Go lists it; JS does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_band_sync: Option<String>,
}

impl Capabilities {
    /// What the JS SDK advertises: trust probe and connect, both `v1`.
    pub fn serve() -> Self {
        Self {
            trust_probe: Some(CAPABILITY_V1.to_owned()),
            connect: Some(CAPABILITY_V1.to_owned()),
            in_band_sync: None,
        }
    }
}

/// `headers` of a register request (Go SDK).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterHeaders {
    /// Environment name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Hosting platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// The server's reply to `/fn/register`: `{"ok":true,"modified":…,"app_id":…,"sync_id":…}` on
/// success, `{"error":…,"status":…}` on failure.
///
/// The OSS dev server writes `sync_id` under the literal key `"sync_id.omitempty"` (a struct
/// tag typo); both spellings are read.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::RegisterResponse;
///
/// let r: RegisterResponse = serde_json::from_str(
///     r#"{"ok":true,"modified":true,"sync_id.omitempty":"s-1","app_id":"a-1"}"#,
/// ).unwrap();
/// assert_eq!(r.sync_id.as_deref(), Some("s-1"));
/// assert!(r.is_success());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    /// Whether the sync was accepted.
    #[serde(default)]
    pub ok: bool,
    /// Whether the stored configuration changed.
    #[serde(default)]
    pub modified: bool,
    /// Whether the sync was skipped (identical to the last one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// App UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Sync UUID.
    #[serde(
        default,
        alias = "sync_id.omitempty",
        skip_serializing_if = "Option::is_none"
    )]
    pub sync_id: Option<String>,
    /// Informational message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// HTTP-like status (error replies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Machine-readable error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl RegisterResponse {
    /// Whether the server accepted the sync (no `error`, status absent or 2xx).
    pub fn is_success(&self) -> bool {
        self.error.is_none() && self.status.is_none_or(|s| (200..300).contains(&s))
    }
}

/// The SDK's reply to an out-of-band sync `PUT`: `{"message":…,"modified":…}`.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::SyncResponse;
///
/// let r = SyncResponse::registered(true);
/// assert_eq!(
///     serde_json::to_string(&r).unwrap(),
///     r#"{"message":"Successfully registered","modified":true}"#,
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// What happened.
    #[serde(default)]
    pub message: String,
    /// Whether the stored configuration changed.
    #[serde(default)]
    pub modified: bool,
}

impl SyncResponse {
    /// The JS SDK's success reply.
    pub fn registered(modified: bool) -> Self {
        Self {
            message: "Successfully registered".to_owned(),
            modified,
        }
    }
}

/// The body of an in-band sync `PUT` (`x-inngest-sync-kind: in_band`): exactly `{"url":…}`.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::InBandSyncRequest;
///
/// assert!(serde_json::from_str::<InBandSyncRequest>(r#"{"url":"http://x"}"#).is_ok());
/// assert!(serde_json::from_str::<InBandSyncRequest>(r#"{"url":"http://x","y":1}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InBandSyncRequest {
    /// URL Inngest will call.
    pub url: String,
}

/// The SDK's reply to an in-band sync: the whole configuration plus the introspection body.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{InBandSyncResponse, Introspection, IntrospectionResponse, Mode};
///
/// let r = InBandSyncResponse {
///     app_id: "my-app".into(),
///     app_version: None,
///     capabilities: None,
///     env: None,
///     framework: "poem".into(),
///     functions: vec![],
///     inspection: IntrospectionResponse::Unauthenticated(Introspection::new(Mode::Cloud, 0)),
///     platform: None,
///     sdk_author: "nestling".into(),
///     sdk_language: "rust".into(),
///     sdk_version: "0.1.0".into(),
///     sdk: Some("rust:v0.1.0".into()),
///     url: "http://localhost:3000/api/inngest".into(),
///     feature_observations: None,
/// };
/// let json = serde_json::to_value(&r).unwrap();
/// assert!(json["env"].is_null());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InBandSyncResponse {
    /// App id.
    pub app_id: String,
    /// User-supplied app version.
    #[serde(
        rename = "appVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub app_version: Option<String>,
    /// What the SDK supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// Environment name; written as `null` when unknown.
    #[serde(default)]
    pub env: Option<String>,
    /// Web framework.
    #[serde(default)]
    pub framework: String,
    /// The functions served, built with the URL from the request.
    #[serde(default, deserialize_with = "crate::call::null_as_default")]
    pub functions: Vec<FunctionConfig>,
    /// The introspection body.
    pub inspection: IntrospectionResponse,
    /// Hosting platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// SDK author, e.g. `"inngest"`.
    #[serde(default)]
    pub sdk_author: String,
    /// SDK language (blank unless authenticated, in JS).
    #[serde(default)]
    pub sdk_language: String,
    /// SDK version (blank unless authenticated, in JS).
    #[serde(default)]
    pub sdk_version: String,
    /// `<language>:v<version>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
    /// URL Inngest will call.
    pub url: String,
    /// Free-form feature readiness report (JS v4).
    #[serde(
        rename = "featureObservations",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub feature_observations: Option<Value>,
}

/// Whether an SDK runs against a local dev server or Inngest Cloud / self-hosted Inngest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No signature checks, dev-server URLs.
    Dev,
    /// Signature checks, signing key required.
    Cloud,
}

/// The introspection body every SDK answers a `GET` with, and the first part of the
/// authenticated one.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{Introspection, Mode};
///
/// let body = Introspection::new(Mode::Dev, 3);
/// assert_eq!(
///     serde_json::to_value(&body).unwrap(),
///     serde_json::json!({"schema_version":"2024-05-24","mode":"dev","function_count":3,
///         "has_event_key":false,"has_signing_key":false,"extra":{}}),
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Introspection {
    /// Always [`INTROSPECTION_SCHEMA_VERSION`].
    pub schema_version: String,
    /// Dev or cloud.
    pub mode: Mode,
    /// Number of functions served, failure handlers included.
    pub function_count: usize,
    /// Whether an event key is configured.
    pub has_event_key: bool,
    /// Whether a signing key is configured.
    pub has_signing_key: bool,
    /// Whether a fallback signing key is configured (JS omits it in dev mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_signing_key_fallback: Option<bool>,
    /// Absent: not reported; `null`: no signature was sent (Go); `true`/`false`: the result.
    #[serde(
        default,
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub authentication_succeeded: Option<Option<bool>>,
    /// Free-form extra data.
    #[serde(default)]
    pub extra: Map<String, Value>,
}

impl Introspection {
    /// An unauthenticated body with no keys and an empty `extra`.
    pub fn new(mode: Mode, function_count: usize) -> Self {
        Self {
            schema_version: INTROSPECTION_SCHEMA_VERSION.to_owned(),
            mode,
            function_count,
            has_event_key: false,
            has_signing_key: false,
            has_signing_key_fallback: None,
            authentication_succeeded: None,
            extra: Map::new(),
        }
    }
}

/// The introspection body answered to a request whose signature verified.
///
/// Optional string fields are written as `null` when unknown, as the SDKs do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticatedIntrospection {
    /// The unauthenticated part; its `authentication_succeeded` is `Some(Some(true))`.
    #[serde(flatten)]
    pub base: Introspection,
    /// API origin the SDK talks to.
    pub api_origin: String,
    /// App id.
    pub app_id: String,
    /// What the SDK supports.
    pub capabilities: Capabilities,
    /// Environment name.
    pub env: Option<String>,
    /// Event API origin.
    pub event_api_origin: String,
    /// SHA-256 hex of the event key.
    pub event_key_hash: Option<String>,
    /// Web framework.
    pub framework: String,
    /// SDK language.
    pub sdk_language: String,
    /// SDK version.
    pub sdk_version: String,
    /// Origin advertised in the sync URL.
    pub serve_origin: Option<String>,
    /// Path advertised in the sync URL.
    pub serve_path: Option<String>,
    /// Hash of the signing key (JS: the first 12 hex chars, prefix stripped).
    pub signing_key_hash: Option<String>,
    /// Hash of the fallback signing key.
    pub signing_key_fallback_hash: Option<String>,
}

/// Either introspection body.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::IntrospectionResponse;
///
/// let dev = r#"{"extra":{"native_crypto":true},"has_event_key":false,"has_signing_key":false,
///   "function_count":18,"mode":"dev","schema_version":"2024-05-24"}"#;
/// let body: IntrospectionResponse = serde_json::from_str(dev).unwrap();
/// assert!(matches!(body, IntrospectionResponse::Unauthenticated(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntrospectionResponse {
    /// The body for a verified request.
    Authenticated(Box<AuthenticatedIntrospection>),
    /// The short body.
    Unauthenticated(Introspection),
}

fn present_or_null<'de, D>(deserializer: D) -> Result<Option<Option<bool>>, D::Error>
where
    D: Deserializer<'de>,
{
    Option::<bool>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn authentication_succeeded_three_states() {
        let mut body = Introspection::new(Mode::Dev, 1);
        assert!(
            serde_json::to_value(&body)
                .unwrap()
                .get("authentication_succeeded")
                .is_none()
        );

        body.authentication_succeeded = Some(None);
        let wire = serde_json::to_value(&body).unwrap();
        assert_eq!(wire["authentication_succeeded"], json!(null));
        let back: Introspection = serde_json::from_value(wire).unwrap();
        assert_eq!(back.authentication_succeeded, Some(None));

        body.authentication_succeeded = Some(Some(false));
        let back: Introspection =
            serde_json::from_value(serde_json::to_value(&body).unwrap()).unwrap();
        assert_eq!(back.authentication_succeeded, Some(Some(false)));
    }

    #[test]
    fn authenticated_round_trip() {
        let wire = json!({"extra":{"native_crypto":true,"is_streaming":false},"has_event_key":true,"has_signing_key":true,"function_count":18,"mode":"cloud","schema_version":"2024-05-24","authentication_succeeded":true,"api_origin":"http://127.0.0.1:1/","app_id":"golden-app","capabilities":{"trust_probe":"v1","connect":"v1"},"env":null,"event_api_origin":"http://127.0.0.1:1/","event_key_hash":"3f70","framework":"nodejs","sdk_language":"js","sdk_version":"4.24.0","serve_origin":null,"serve_path":null,"signing_key_fallback_hash":"8d2e4d6374b6","signing_key_hash":"4884fdaafea4"});
        let body: IntrospectionResponse = serde_json::from_value(wire.clone()).unwrap();
        assert!(matches!(body, IntrospectionResponse::Authenticated(_)));
        assert_eq!(serde_json::to_value(&body).unwrap(), wire);
    }

    #[test]
    fn register_error_reply() {
        let r: RegisterResponse =
            serde_json::from_str(r#"{"error":"At least one function is invalid","status":400}"#)
                .unwrap();
        assert!(!r.is_success());
    }
}
