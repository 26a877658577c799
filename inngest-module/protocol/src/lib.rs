//! Inngest's wire protocol, shared by the Nestling SDK (`nestling-inngest`) and the embedded
//! engine (`nestling-engine`).
//!
//! This crate is the one place where the protocol's facts live:
//!
//! | module | what |
//! |---|---|
//! | [`event`] | [`Event`], the Event API reply, internal event names, event validation |
//! | [`function`] | [`FunctionConfig`] and its parts, exactly as registration JSON, with [`FunctionConfig::validate`] |
//! | [`register`] | `/fn/register`, in-band sync and introspection bodies |
//! | [`call`] | [`CallRequest`] (executor → SDK), [`BorrowedCallRequest`] (the same, read without copying its memo) and [`MemoizedStep`] |
//! | [`op`] | [`Op`], [`OpCode`], [`SerializedError`] (SDK → executor, in a 206) |
//! | [`hash`] | [`hash_step_id`], [`StepHash`] (a hashed id as its digest), [`StepIdCounter`], [`StepHashMap`] |
//! | [`signature`] | [`sign`], [`SigningKeys::verify_request`], [`hashed_signing_key`] |
//! | [`jcs`] | RFC 8785 canonical JSON |
//! | [`duration`] | Inngest time strings (`"1h30m"`, `"7d"`) |
//! | [`cron`] | cron validation and next fire time |
//! | [`headers`] | header names, `Retry-After` |
//! | [`backoff`] | the server's retry schedule |
//!
//! It has no async or runtime dependencies: the validation functions are pure, so the
//! `nestling-inngest-macros` proc macro can check durations and cron expressions when the
//! user's code compiles.
//!
//! # Example: play the executor
//!
//! ```
//! use nestling_inngest_protocol::{hash_step_id, sign_json, CallRequest, Op, OpCode, SigningKeys};
//!
//! // Build a call request body and sign it over its canonical form.
//! let body = br#"{"event":{"name":"app/a","data":{}},"events":[],"steps":{},
//!   "ctx":{"run_id":"01J","attempt":0,"max_attempts":4,"stack":{"stack":[],"current":0}},
//!   "version":-1,"use_api":false}"#;
//! let key = "signkey-test-0123456789abcdef";
//! let header = sign_json(body, key, 1_700_000_000).unwrap();
//!
//! // The SDK side verifies it and reads it.
//! let keys = SigningKeys::new(key);
//! keys.verify_request(Some(&header), body, 1_700_000_010).unwrap();
//! let request = CallRequest::from_slice(body).unwrap();
//! assert_eq!(request.effective_version(), 2);
//!
//! // It answers with an op whose id is the hashed step id.
//! let op = Op::new(OpCode::StepPlanned, hash_step_id("send-email")).with_name("send-email");
//! assert_eq!(op.id.len(), 40);
//! assert_eq!(serde_json::to_value(&op).unwrap()["name"], "send-email");
//! ```

pub mod backoff;
pub mod call;
pub mod cron;
pub mod duration;
mod error;
pub mod event;
pub mod function;
pub mod hash;
pub mod headers;
pub mod jcs;
pub mod op;
pub mod register;
pub mod signature;

pub use backoff::Backoff;
pub use call::{
    BorrowedCallRequest, BorrowedSteps, CallContext, CallContextOf, CallRequest, CallRequestOf,
    CallStack, CallStackOf, CheckedIds, MemoizedStep,
};
pub use cron::{CronSchedule, validate_cron};
pub use duration::{format_duration, parse_duration, parse_go_duration};
pub use error::ProtocolError;
pub use event::{Event, SendEventsResponse, validate_events};
pub use function::{
    BatchEvents, Cancel, Checkpoint, Concurrency, ConcurrencyLimit, ConcurrencyScope, Debounce,
    FunctionConfig, Priority, RateLimit, Singleton, SingletonMode, StepConfig, StepRetries,
    StepRuntime, Throttle, Timeouts, Trigger,
};
pub use hash::{
    COMPLETE_STEP_ID, DISCOVERY_STEP_ID, HashedStep, StepHash, StepHashMap, StepHashSet,
    StepHashState, StepHasher, StepId, StepIdCounter, hash_step_id,
};
pub use jcs::{canonicalize, canonicalize_value};
pub use op::{Op, OpCode, SerializedError, Userland};
pub use register::{
    AuthenticatedIntrospection, Capabilities, InBandSyncRequest, InBandSyncResponse, Introspection,
    IntrospectionResponse, Mode, RegisterHeaders, RegisterRequest, RegisterResponse, SyncResponse,
};
pub use signature::{
    KeyMatch, SignatureHeader, SigningKeys, hashed_signing_key, sign, sign_json, strip_key_prefix,
};
