//! When and how long the API client waits before trying a call again.

use std::time::Duration;

/// Retries of calls to the Inngest API: exponential backoff with jitter, on network errors,
/// HTTP 5xx and HTTP 429 (honouring `Retry-After`, capped at `max_delay`).
///
/// The default makes 5 attempts, waiting about 100 ms, 200 ms, 400 ms and 800 ms in between,
/// as the official JS SDK does for sends.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_attempts, 5);
/// assert_eq!(policy.base_delay(1), Duration::from_millis(100));
/// assert_eq!(policy.base_delay(3), Duration::from_millis(400));
///
/// let never = RetryPolicy::none();
/// assert_eq!(never.max_attempts, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubles after each further one.
    pub initial_delay: Duration,
    /// Longest wait between two attempts, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// A policy with `max_attempts` attempts and the given first delay.
    pub fn new(max_attempts: u32, initial_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            initial_delay,
            ..Self::default()
        }
    }

    /// One attempt, no retries.
    pub fn none() -> Self {
        Self::new(1, Duration::ZERO)
    }

    /// Sets [`RetryPolicy::max_delay`].
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// The wait after failed attempt number `attempt` (1-based), before jitter.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);

        self.initial_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
    }

    /// The wait after failed attempt `attempt`, with up to 25 % random jitter so that many
    /// clients failing together do not retry together; a server's `Retry-After` wins (capped).
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let base = self.base_delay(attempt);
        let jitter = base.mul_f64(rand::random::<f64>() * 0.25);

        (base + jitter).min(self.max_delay)
    }
}
