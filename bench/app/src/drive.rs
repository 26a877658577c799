//! Row (b): sends `bench/three` events through the app's `InngestService` and times each run
//! from just before the event is sent until the function's final request reaches its end.
//!
//! The same clock serves the embedded engine and the real dev server: both call the same app
//! over loopback HTTP, so the only difference is the server between the event and the calls.
//! The end is taken inside the app, a few hundred microseconds before the server records the
//! run as completed (the final answer still has to travel back), on both sides alike.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nestling_inngest::InngestService;
use nestling_inngest_protocol::Event;
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

/// What one phase measured.
#[derive(Debug, Serialize)]
pub(crate) struct Phase {
    runs: usize,
    in_flight: usize,
    seconds: f64,
    runs_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Runs sent but not seen ending before the phase's deadline.
    unfinished: usize,
}

/// How long a run may take before the phase stops waiting for it.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// The driver: the app's service to send events, the completions the function reports.
pub(crate) struct Driver {
    inngest: Arc<dyn InngestService>,
    completions: UnboundedReceiver<(u64, Instant)>,
    next: u64,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("next", &self.next).finish()
    }
}

impl Driver {
    pub(crate) fn new(
        inngest: Arc<dyn InngestService>,
        completions: UnboundedReceiver<(u64, Instant)>,
    ) -> Self {
        Self {
            inngest,
            completions,
            next: 0,
        }
    }

    /// Sends up to `total` events, at most `in_flight` runs at a time, and stops sending after
    /// `budget`; then waits for the runs in flight (at most `RUN_TIMEOUT`).
    pub(crate) async fn phase(
        &mut self,
        total: usize,
        in_flight: usize,
        budget: Duration,
    ) -> Result<Phase, String> {
        let mut started: HashMap<u64, Instant> = HashMap::new();
        let mut latencies = Vec::with_capacity(total);
        let mut sent = 0;
        let begin = Instant::now();

        loop {
            while sent < total && started.len() < in_flight && begin.elapsed() < budget {
                let i = self.next;
                self.next += 1;
                let t = Instant::now();
                self.inngest
                    .send(Event::new("bench/three", json!({ "i": i })))
                    .await
                    .map_err(|err| format!("sending event {i}: {err}"))?;
                started.insert(i, t);
                sent += 1;
            }
            if started.is_empty() {
                break;
            }

            let wait = tokio::time::timeout(RUN_TIMEOUT, self.completions.recv()).await;
            match wait {
                Ok(Some((i, at))) => {
                    if let Some(t) = started.remove(&i) {
                        latencies.push(at.duration_since(t));
                    }
                }
                Ok(None) => return Err("the completion channel closed".to_owned()),
                Err(_) => break,
            }
        }

        let elapsed = begin.elapsed().as_secs_f64();
        latencies.sort();
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let at = |p: f64| {
            let last = latencies.len().saturating_sub(1);
            ms(latencies.get(((last as f64) * p).round() as usize))
        };

        Ok(Phase {
            runs: latencies.len(),
            in_flight,
            seconds: elapsed,
            runs_per_s: latencies.len() as f64 / elapsed,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: ms(latencies.last()),
            unfinished: started.len(),
        })
    }
}
