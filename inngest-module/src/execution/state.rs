//! The state one execution shares between its step futures and the driver.
//!
//! Each call request re-runs the handler from the top. Every step the handler reaches claims
//! its hashed id here (in call order, so repeats get `:N` as the official SDKs give them),
//! takes its memoised result if the executor sent one, and otherwise parks as a *found* step.
//! The driver watches this state to decide when the execution has settled and what to answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use nestling_inngest_protocol::{HashedStep, Op, OpCode, StepHash, StepIdCounter};
use parking_lot::Mutex;

use crate::StepInfo;
use crate::execution::memo::{Memo, MemoValue};
use crate::execution::outcome::ExecutedStep;

/// A step found in this execution that has no memoised result.
struct Found {
    seq: u64,
    hash: StepHash,
    op: Op,
    runnable: bool,
    waker: Option<Waker>,
}

/// What the driver reads after each poll of the handler.
#[derive(Default)]
struct State {
    memo: Memo,
    counter: StepIdCounter,
    seq: u64,
    found: Vec<Found>,
    /// The step to run, as the request named it (for the message when it is not reached).
    target: Option<String>,
    /// Its digest; `None` when no step is targeted or the name is not a hashed id (which
    /// then matches no step, as the executor's ids are lowercase hex).
    target_hash: Option<StepHash>,
    running: usize,
    executed: Option<Box<ExecutedStep>>,
    announced: bool,
}

/// The fixed facts of an execution, and its mutable state.
pub(crate) struct Execution {
    pub(crate) app_id: String,
    pub(crate) function_id: String,
    pub(crate) run_id: String,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) disable_immediate_execution: bool,
    pub(crate) services: Arc<crate::execution::invocation::RunServices>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution")
            .field("function_id", &self.function_id)
            .field("run_id", &self.run_id)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// What a step learned when it claimed its id.
pub(crate) struct Claim {
    pub(crate) exec: Arc<Execution>,
    /// The digest of the step's key, and which use of its id this is.
    pub(crate) id: HashedStep,
    seq: u64,
    memo: Option<MemoValue>,
    /// What kind of step the parked op was, once it is targeted (for its span).
    kind: Mutex<&'static str>,
}

/// What the driver should do once the handler stops making progress.
pub(crate) enum Settled {
    /// Still waiting on a step body or on the handler's own I/O.
    Busy,
    /// The targeted step ran; answer with its op.
    Executed(Box<ExecutedStep>),
    /// Report these newly found steps.
    Report(Vec<Op>),
    /// The requested step was not reached; these steps were found instead.
    TargetMissing { target: String, found: Vec<Op> },
}

pub(crate) struct ExecutionParams {
    pub(crate) app_id: String,
    pub(crate) function_id: String,
    pub(crate) run_id: String,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) disable_immediate_execution: bool,
    pub(crate) target: Option<String>,
    pub(crate) memo: Memo,
}

impl Execution {
    pub(crate) fn new(
        params: ExecutionParams,
        services: Arc<crate::execution::invocation::RunServices>,
    ) -> Arc<Self> {
        let ExecutionParams {
            app_id,
            function_id,
            run_id,
            attempt,
            max_attempts,
            disable_immediate_execution,
            target,
            memo,
        } = params;

        // Each memoised step is claimed once, so the counter needs room for that many.
        let counter = StepIdCounter::with_capacity(memo.len() + 1);
        let target_hash = target.as_deref().and_then(StepHash::from_hex);

        Arc::new(Self {
            app_id,
            function_id,
            run_id,
            attempt,
            max_attempts,
            disable_immediate_execution,
            services,
            state: Mutex::new(State {
                memo,
                counter,
                target,
                target_hash,
                ..State::default()
            }),
        })
    }

    /// Claims the next occurrence of a step id and takes its memoised result, if any.
    pub(crate) fn claim(self: &Arc<Self>, id: &str) -> Claim {
        let mut state = self.state.lock();
        let id = state.counter.next_hashed(id);
        state.seq += 1;
        let seq = state.seq;
        let memo = state.memo.take(&id.hash);
        let announce = state.memo.is_empty() && !std::mem::replace(&mut state.announced, true);
        drop(state);

        if announce {
            self.services
                .middleware
                .before_execution(&self.services.run);
        }

        Claim {
            exec: Arc::clone(self),
            id,
            seq,
            memo,
            kind: Mutex::new("run"),
        }
    }

    /// Runs the `before_execution` hooks now if nothing is memoised (a fresh run, or a
    /// request whose memoised steps have all been reached).
    pub(crate) fn announce_if_fresh(&self) {
        let mut state = self.state.lock();
        let announce = state.memo.is_empty() && !std::mem::replace(&mut state.announced, true);
        drop(state);

        if announce {
            self.services
                .middleware
                .before_execution(&self.services.run);
        }
    }

    /// Whether memoised steps remain that the handler has not reached yet.
    pub(crate) fn is_replaying(&self) -> bool {
        !self.state.lock().memo.is_empty()
    }

    /// Decides, after the handler returned `Pending`, whether the execution has settled.
    pub(crate) fn settle(&self) -> Settled {
        let mut state = self.state.lock();

        if let Some(executed) = state.executed.take() {
            return Settled::Executed(executed);
        }
        if state.running > 0 || state.found.is_empty() {
            return Settled::Busy;
        }

        if let Some(target) = state.target.clone() {
            return Settled::TargetMissing {
                target,
                found: sorted_ops(&mut state.found),
            };
        }

        let immediate =
            state.found.len() == 1 && state.found[0].runnable && !self.disable_immediate_execution;
        if immediate {
            let found = &mut state.found[0];
            let waker = found.waker.take();
            let hash = found.hash;
            state.target = Some(hash.to_string());
            state.target_hash = Some(hash);
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            return Settled::Busy;
        }

        Settled::Report(sorted_ops(&mut state.found))
    }

    fn begin_running(&self) {
        self.state.lock().running += 1;
    }

    fn finish_running(&self, executed: ExecutedStep) {
        let mut state = self.state.lock();
        state.running = state.running.saturating_sub(1);
        state.executed = Some(Box::new(executed));
    }
}

/// The kind of step an op stands for, as [`StepInfo::kind`] names it.
pub(crate) fn step_kind(op: &Op) -> &'static str {
    match op.op {
        OpCode::Sleep => "sleep",
        OpCode::WaitForEvent => "waitForEvent",
        OpCode::InvokeFunction => "invoke",
        _ if op
            .opts
            .as_ref()
            .and_then(|opts| opts.get("type"))
            .and_then(serde_json::Value::as_str)
            == Some("step.sendEvent") =>
        {
            "sendEvent"
        }
        _ => "run",
    }
}

fn sorted_ops(found: &mut Vec<Found>) -> Vec<Op> {
    found.sort_by_key(|f| f.seq);
    found.drain(..).map(|f| f.op).collect()
}

impl Claim {
    /// The memoised result as JSON, if the executor sent one.
    pub(crate) fn memo(&self) -> Option<&str> {
        self.memo.as_ref().map(MemoValue::text)
    }

    /// Parks the step as found; resolves only if the driver (or the request) targets it.
    ///
    /// A non-runnable step (sleep, wait, invoke) is never targeted, so its future never
    /// resolves: the handler is dropped once the driver has answered.
    pub(crate) fn park(&self, op: Op, runnable: bool) -> Park<'_> {
        Park {
            claim: self,
            op: Some(op),
            runnable,
        }
    }

    /// The hashed id as the executor writes it.
    pub(crate) fn hashed_id(&self) -> String {
        self.id.hash.to_string()
    }

    /// Runs a targeted step's body, recording the op it produced for the driver. `step_id`
    /// is the id the step was given in code.
    ///
    /// The body runs inside the step's span, when a middleware gives one (the module's
    /// tracing does), so the step hooks and whatever the body logs or sends belong to it.
    pub(crate) async fn execute<F>(&self, step_id: &str, body: F) -> std::convert::Infallible
    where
        F: Future<Output = ExecutedStep>,
    {
        use tracing::Instrument as _;

        let services = &self.exec.services;
        let info = StepInfo {
            id: step_id.to_owned(),
            hashed_id: self.hashed_id(),
            kind: *self.kind.lock(),
        };
        let span = services
            .middleware
            .step_span(&services.run, &info)
            .unwrap_or_else(tracing::Span::none);

        self.exec.begin_running();
        let executed = body.instrument(span).await;
        self.exec.finish_running(executed);
        std::future::pending().await
    }
}

/// Future returned by [`Claim::park`].
pub(crate) struct Park<'a> {
    claim: &'a Claim,
    op: Option<Op>,
    runnable: bool,
}

impl Future for Park<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let claim = this.claim;
        let mut state = claim.exec.state.lock();

        if this.runnable && state.target_hash == Some(claim.id.hash) {
            let parked = match this.op.take() {
                Some(op) => Some(op),
                None => state
                    .found
                    .iter()
                    .position(|f| f.seq == claim.seq)
                    .map(|index| state.found.remove(index).op),
            };
            state.found.retain(|f| f.seq != claim.seq);
            drop(state);
            if let Some(op) = parked {
                *claim.kind.lock() = step_kind(&op);
            }
            return Poll::Ready(());
        }

        if let Some(op) = this.op.take() {
            state.found.push(Found {
                seq: claim.seq,
                hash: claim.id.hash,
                op,
                runnable: this.runnable,
                waker: Some(cx.waker().clone()),
            });
        } else if let Some(found) = state.found.iter_mut().find(|f| f.seq == claim.seq) {
            found.waker = Some(cx.waker().clone());
        }

        Poll::Pending
    }
}
