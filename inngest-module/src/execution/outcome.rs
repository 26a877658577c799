//! What an execution answers, and how it maps onto HTTP as the official SDKs send it.

use nestling_inngest_protocol::{Op, SerializedError};
use serde_json::Value;
use serde_json::value::RawValue;

/// A step body that ran in this request, and the headers its result calls for.
#[derive(Debug)]
pub(crate) struct ExecutedStep {
    pub(crate) op: Op,
    pub(crate) no_retry: Option<bool>,
    pub(crate) retry_after: Option<String>,
}

/// The result of one call request.
///
/// | variant | status | headers |
/// |---|---|---|
/// | `Complete` | 200 | |
/// | `Steps` | 206 | `X-Inngest-No-Retry` and `Retry-After` when a step errored |
/// | `Failed` | 500 (retryable) or 400 (final) | `X-Inngest-No-Retry`, `Retry-After` |
/// | `StepNotFound` | 500 | `X-Inngest-No-Retry: false` |
/// | `Internal` | 500 | |
#[derive(Debug)]
#[non_exhaustive]
pub enum ExecutionOutcome {
    /// The handler returned this value.
    Complete(Box<RawValue>),
    /// Steps to report: newly found ones, or the one that ran.
    Steps {
        /// The ops, in the order the handler reached them.
        ops: Vec<Op>,
        /// `X-Inngest-No-Retry`, when a step errored.
        no_retry: Option<bool>,
        /// `Retry-After`, when a step asked for it.
        retry_after: Option<String>,
    },
    /// The handler failed.
    Failed {
        /// The error, as sent in the body.
        error: SerializedError,
        /// Whether the failure is final (`400` and `X-Inngest-No-Retry: true`).
        no_retry: bool,
        /// `Retry-After`, when the error asked for it.
        retry_after: Option<String>,
    },
    /// The request targeted a step the handler never reached.
    StepNotFound {
        /// The body, naming the requested step and the steps found instead.
        body: Value,
    },
    /// The SDK could not run the function at all (a bug or a bad request, not the handler).
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl ExecutionOutcome {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Complete(_) => 200,
            Self::Steps { .. } => 206,
            Self::Failed { no_retry: true, .. } => 400,
            Self::Failed { .. } | Self::StepNotFound { .. } | Self::Internal { .. } => 500,
        }
    }

    /// The headers that depend on the outcome (`X-Inngest-No-Retry`, `Retry-After`).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let (no_retry, retry_after) = match self {
            Self::Steps {
                no_retry,
                retry_after,
                ..
            } => (*no_retry, retry_after.clone()),
            Self::Failed {
                no_retry,
                retry_after,
                ..
            } => (Some(*no_retry), retry_after.clone()),
            Self::StepNotFound { .. } => (Some(false), None),
            Self::Complete(_) | Self::Internal { .. } => (None, None),
        };

        let mut headers = Vec::new();
        if let Some(no_retry) = no_retry {
            headers.push(("x-inngest-no-retry", no_retry.to_string()));
        }
        if let Some(retry_after) = retry_after {
            headers.push(("retry-after", retry_after));
        }
        headers
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let body = match self {
            Self::Complete(raw) => return raw.get().as_bytes().to_vec(),
            Self::Steps { ops, .. } => serde_json::to_vec(ops),
            Self::Failed { error, .. } => serde_json::to_vec(error),
            Self::StepNotFound { body } => serde_json::to_vec(body),
            Self::Internal { message } => serde_json::to_vec(&internal_error_body(message)),
        };
        body.unwrap_or_else(|err| {
            serde_json::to_vec(&internal_error_body(&format!(
                "could not serialise the answer: {err}"
            )))
            .unwrap_or_default()
        })
    }
}

impl From<ExecutedStep> for ExecutionOutcome {
    fn from(step: ExecutedStep) -> Self {
        let ExecutedStep {
            op,
            no_retry,
            retry_after,
        } = step;
        Self::Steps {
            ops: vec![op],
            no_retry,
            retry_after,
        }
    }
}

/// The body the JS SDK sends for errors of its own: `{"type":"internal", name, message, …}`.
pub(crate) fn internal_error_body(message: &str) -> Value {
    serde_json::json!({
        "type": "internal",
        "name": "Error",
        "message": message,
        "stack": format!("Error: {message}"),
        "__serialized": true,
    })
}
