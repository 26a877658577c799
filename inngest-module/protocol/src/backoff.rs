//! The server's retry schedule.

use std::time::Duration;

/// Base delays by attempt index (0-based); attempts past the end use the last one.
const SCHEDULE_SECS: [u64; 10] = [15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200];

/// Largest random jitter added to each delay.
pub const MAX_JITTER: Duration = Duration::from_secs(30);

/// When to retry a failed call, as a pure function of the attempt number.
///
/// The default follows the Inngest server: 15 s, 30 s, 1 m, 2 m, 5 m, 10 m, 20 m, 40 m, 1 h,
/// 2 h, then 2 h for every later attempt, each plus 0–30 s of jitter. A scale factor
/// compresses the whole schedule (jitter included) for local development and tests, and a
/// fixed delay mimics the dev server's `--retry-interval`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest_protocol::Backoff;
///
/// let real = Backoff::default();
/// assert_eq!(real.delay(0, 0.0), Duration::from_secs(15));
/// assert_eq!(real.delay(9, 0.5), Duration::from_secs(7215));
/// assert_eq!(real.delay(50, 0.0), Duration::from_secs(7200));
///
/// let fast = Backoff::scaled(0.001);
/// assert_eq!(fast.delay(0, 0.0), Duration::from_millis(15));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    scale: f64,
    fixed: Option<Duration>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            scale: 1.0,
            fixed: None,
        }
    }
}

impl Backoff {
    /// The server's schedule multiplied by `scale` (negative or non-finite values count as 0).
    pub fn scaled(scale: f64) -> Self {
        let scale = if scale.is_finite() {
            scale.max(0.0)
        } else {
            0.0
        };
        Self { scale, fixed: None }
    }

    /// The same delay for every attempt, without jitter.
    pub fn fixed(delay: Duration) -> Self {
        Self {
            scale: 1.0,
            fixed: Some(delay),
        }
    }

    /// The scale factor.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Delay before retrying after failed attempt `attempt` (0-based), without jitter.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        if let Some(fixed) = self.fixed {
            return fixed;
        }
        let index = usize::try_from(attempt)
            .unwrap_or(usize::MAX)
            .min(SCHEDULE_SECS.len() - 1);
        Duration::from_secs(SCHEDULE_SECS[index]).mul_f64(self.scale)
    }

    /// Delay before retrying after failed attempt `attempt`, with `jitter_unit` (a random
    /// number in `[0, 1]`, clamped) choosing the jitter between 0 and 30 s.
    pub fn delay(&self, attempt: u32, jitter_unit: f64) -> Duration {
        if self.fixed.is_some() {
            return self.base_delay(attempt);
        }
        let unit = if jitter_unit.is_finite() {
            jitter_unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.base_delay(attempt) + MAX_JITTER.mul_f64(unit * self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_schedule() {
        let b = Backoff::default();
        let got: Vec<u64> = (0..12).map(|a| b.base_delay(a).as_secs()).collect();
        assert_eq!(
            got,
            [
                15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200, 7200, 7200
            ]
        );
        assert_eq!(b.delay(0, 1.0), Duration::from_secs(45));
        assert_eq!(b.delay(0, 7.0), Duration::from_secs(45));
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(7200));
    }

    #[test]
    fn fixed_and_scaled() {
        assert_eq!(
            Backoff::fixed(Duration::from_secs(2)).delay(5, 1.0),
            Duration::from_secs(2)
        );
        assert_eq!(Backoff::scaled(0.0).delay(3, 1.0), Duration::ZERO);
        assert_eq!(Backoff::scaled(f64::NAN).scale(), 0.0);
        assert_eq!(
            Backoff::scaled(0.01).delay(1, 1.0),
            Duration::from_millis(600)
        );
    }
}
