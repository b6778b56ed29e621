//! The login policy: which attempts count, when an identifier locks, and what the person is
//! told. Pure: the caller loads the failure record of the account (or, for an identifier no
//! account has, of the identifier itself) and stores what this module returns, so a known and
//! an unknown email or CCCD behave exactly alike and nothing tells them apart.

use chrono::{Duration, NaiveDateTime};

/// The numbers (settings `PORTAL_LOGIN_LIMIT_PER_ACCOUNT` and `PORTAL_LOGIN_LIMIT_PER_IP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Wrong passwords in a row (within `window`) that lock the account or identifier.
    pub failures_before_lock: i32,
    /// How long a lock lasts, and how long failures are remembered.
    pub window: Duration,
    /// Failed logins from one address within `window` before that address must wait. Only
    /// failures count, so a busy office behind one address is never stopped by its own
    /// successful logins.
    pub failures_per_address: i32,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            failures_before_lock: 5,
            window: Duration::minutes(15),
            failures_per_address: 100,
        }
    }
}

/// What is remembered of one account's (or unknown identifier's) failed logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureRecord {
    pub failures: i32,
    pub last_failure_at: Option<NaiveDateTime>,
    pub locked_until: Option<NaiveDateTime>,
}

/// The answer to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Locked: refused whatever the password (403, "temporarily locked").
    Locked { until: NaiveDateTime },
    /// Wrong password (or no such account): 401; `locked_now` when this failure locked it (the
    /// owner of a real account is emailed).
    Failed {
        record: FailureRecord,
        locked_now: bool,
    },
    /// Right password, email not verified yet (403). Only reachable with the right password, so
    /// it tells nothing to someone guessing.
    Unverified,
    /// Right password: the failure record is cleared and a session opens.
    Passed,
}

impl LoginPolicy {
    /// Judges one attempt. `account` is `Some(email_verified)` for a real account and `None` for
    /// an identifier no account has, for which `password_ok` is always false.
    pub fn judge(
        &self,
        record: FailureRecord,
        account: Option<bool>,
        password_ok: bool,
        now: NaiveDateTime,
    ) -> Verdict {
        if let Some(until) = record.locked_until.filter(|u| *u > now) {
            return Verdict::Locked { until };
        }
        match account {
            Some(verified) if password_ok => {
                if verified {
                    Verdict::Passed
                } else {
                    Verdict::Unverified
                }
            }
            _ => {
                // Failures older than the window are forgotten.
                let recent = record
                    .last_failure_at
                    .is_some_and(|t| t + self.window > now);
                let failures = if recent { record.failures + 1 } else { 1 };
                let locked_now = failures >= self.failures_before_lock;
                Verdict::Failed {
                    record: FailureRecord {
                        failures: if locked_now { 0 } else { failures },
                        last_failure_at: Some(now),
                        locked_until: locked_now.then(|| now + self.window),
                    },
                    locked_now,
                }
            }
        }
    }

    /// Whether an address has used up its failures (`failures_so_far` in the current window).
    pub fn address_blocked(&self, failures_so_far: i32) -> bool {
        failures_so_far >= self.failures_per_address
    }
}

/// The key under which an identifier's failures are kept: the account when there is one
/// (so email and CCCD share one count), else the identifier as typed, normalised.
pub fn failure_subject(account_id: Option<i64>, identifier: &str) -> String {
    match account_id {
        Some(id) => format!("user:{id}"),
        None => format!("login:{}", normalise_identifier(identifier)),
    }
}

/// An email lower-cased, a CCCD reduced to its digits: the forms a person may type for one
/// identifier count as one.
pub fn normalise_identifier(raw: &str) -> String {
    let t = raw.trim();
    if t.contains('@') {
        t.to_lowercase()
    } else {
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 12 {
            digits
        } else {
            t.to_lowercase().chars().take(254).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .expect("time")
            + Duration::minutes(min)
    }

    /// Runs `n` wrong attempts, one a minute, from `start`; returns the record and verdicts.
    fn fail(policy: &LoginPolicy, account: Option<bool>, n: i64) -> (FailureRecord, Vec<Verdict>) {
        let mut record = FailureRecord::default();
        let mut verdicts = Vec::new();
        for i in 0..n {
            let v = policy.judge(record, account, false, t(i));
            if let Verdict::Failed { record: r, .. } = v {
                record = r;
            }
            verdicts.push(v);
        }
        (record, verdicts)
    }

    #[test]
    fn known_and_unknown_identifiers_lock_after_the_same_count() {
        let p = LoginPolicy::default();
        let (known, kv) = fail(&p, Some(true), 5);
        let (unknown, uv) = fail(&p, None, 5);
        assert_eq!(known, unknown);
        assert_eq!(kv, uv);
        assert!(matches!(
            kv[3],
            Verdict::Failed {
                locked_now: false,
                ..
            }
        ));
        assert!(matches!(
            kv[4],
            Verdict::Failed {
                locked_now: true,
                ..
            }
        ));
        // Locked: even the right password is refused, for known and unknown alike.
        assert!(matches!(
            p.judge(known, Some(true), true, t(6)),
            Verdict::Locked { .. }
        ));
        assert!(matches!(
            p.judge(unknown, None, false, t(6)),
            Verdict::Locked { .. }
        ));
        // After the lock, the right password works again.
        assert_eq!(p.judge(known, Some(true), true, t(20)), Verdict::Passed);
    }

    #[test]
    fn old_failures_are_forgotten_and_success_never_counts() {
        let p = LoginPolicy::default();
        let (record, _) = fail(&p, Some(true), 4);
        // Four failures, then a pause longer than the window: the next failure is the first.
        match p.judge(record, Some(true), false, t(60)) {
            Verdict::Failed { record, locked_now } => {
                assert!(!locked_now);
                assert_eq!(record.failures, 1);
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(p.judge(record, Some(true), true, t(5)), Verdict::Passed);
        assert_eq!(
            p.judge(record, Some(false), true, t(5)),
            Verdict::Unverified
        );
        assert!(!p.address_blocked(99) && p.address_blocked(100));
    }

    #[test]
    fn one_identifier_however_it_is_typed() {
        assert_eq!(normalise_identifier(" An@Example.VN "), "an@example.vn");
        assert_eq!(normalise_identifier("001 195 012 345"), "001195012345");
        assert_eq!(failure_subject(Some(7), "x"), "user:7");
        assert_eq!(
            failure_subject(None, "001-195-012-345"),
            "login:001195012345"
        );
    }
}
