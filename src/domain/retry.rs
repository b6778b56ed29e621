//! When to try an undelivered message again (an email of the outbox, a webhook delivery):
//! capped exponential backoff, and a number of attempts after which it is given up.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};

/// When to try again after a failed attempt.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Delay after the first failure; doubled after each further one.
    pub base: Duration,
    pub max: Duration,
    /// After this many attempts the message is marked 'failed' for good.
    pub max_attempts: i32,
}

impl Default for RetryPolicy {
    /// 5 s, 10 s, 20 s … capped at 10 min: ten attempts span about half an hour, enough to ride
    /// out a mail server restart without hammering it, short enough for a reset link to matter.
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(5),
            max: Duration::from_secs(600),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based).
    pub fn delay(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// When to try again, or `None` when the attempts are used up.
    pub fn next_attempt(&self, attempts: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
        if attempts >= self.max_attempts {
            return None;
        }
        let delay = TimeDelta::from_std(self.delay(attempts)).unwrap_or(TimeDelta::MAX);
        Some(now.checked_add_signed(delay).unwrap_or(NaiveDateTime::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        let secs: Vec<u64> = (1..=10).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(p.delay(0), Duration::from_secs(5));
        assert_eq!(p.delay(i32::MAX), Duration::from_secs(600));
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let p = RetryPolicy {
            base: Duration::from_millis(50),
            max: Duration::from_secs(1),
            max_attempts: 3,
        };
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .expect("time")
            .naive_utc();
        assert_eq!(p.next_attempt(1, t), Some(t + TimeDelta::milliseconds(50)));
        assert_eq!(p.next_attempt(2, t), Some(t + TimeDelta::milliseconds(100)));
        assert_eq!(p.next_attempt(3, t), None);
    }
}
