//! The dossier indicators of the scoreboard (shared/domain.md §7, Decision 766/QĐ-TTg), as pure
//! functions of one dossier's record and timeline.
//!
//! Every figure of a period is about the dossiers **received** in it (a cohort, by the local
//! month of filing): of the dossiers received in March, how many were filed online, how many are
//! finished, how many were finished or are still open within their due date. A dossier therefore
//! counts in exactly one month, one quarter and one year, and `received = finished + withdrawn +
//! open` holds in every cell.
//!
//! - **On time** (§7.2): finished by its due date, or still open and not past it. Waiting for the
//!   citizen does not count: a supplement restarts the time limit in full when the citizen
//!   answers and a paid charge moves the due date by the working days waited (both are already
//!   in the dossier's due date), and a dossier waiting for the citizen is never overdue. A
//!   **second supplement request** makes the dossier late, whatever happens next. A
//!   **rescheduled** dossier (the one apology, form 04) is on time only if it meets its one new
//!   date (the new date is its due date).
//! - **Withdrawn** dossiers (the citizen asked, the office confirmed) are neither on time nor
//!   late: they leave the on-time rate's denominator.
//! - **Average processing time**: working days from filing to the first finished status, over
//!   finished dossiers (not withdrawn).
//! - **Online** (§7.3): filed online; **paid online**: of the dossiers that were charged (a fee at
//!   filing or a charge asked during processing), those with a payment through the gateway.
//! - **Electronic results** (§7.4): of the dossiers that reached a decision (status 9), those
//!   with a sealed electronic result.
//! - **Satisfaction** (§7.5): 100% − (% late + % with a negative rating), over the dossiers
//!   assessed (received − withdrawn); a rating is negative when any of the nine indicators is
//!   "not satisfied". The nine indicators' averages are given over the ratings.

use chrono::{Datelike, NaiveDateTime};
use serde::Serialize;

use super::calendar::{Calendar, to_local};
use super::rating::Scores;
use super::status::Status;

/// The measures kept per cell, in the order of `stat_cells`' columns.
pub const MEASURES: [&str; 26] = [
    "received",
    "online",
    "counter",
    "post",
    "finished",
    "withdrawn",
    "on_time",
    "late",
    "overdue_now",
    "days_sum",
    "days_n",
    "charged",
    "paid_online",
    "with_result",
    "e_result",
    "rated",
    "negative",
    "s1",
    "s2",
    "s3",
    "s4",
    "s5",
    "s6",
    "s7",
    "s8",
    "s9",
];
pub const N: usize = MEASURES.len();

pub const RECEIVED: usize = 0;
pub const ONLINE: usize = 1;
pub const COUNTER: usize = 2;
pub const POST: usize = 3;
pub const FINISHED: usize = 4;
pub const WITHDRAWN: usize = 5;
pub const ON_TIME: usize = 6;
pub const LATE: usize = 7;
pub const OVERDUE_NOW: usize = 8;
pub const DAYS_SUM: usize = 9;
pub const DAYS_N: usize = 10;
pub const CHARGED: usize = 11;
pub const PAID_ONLINE: usize = 12;
pub const WITH_RESULT: usize = 13;
pub const E_RESULT: usize = 14;
pub const RATED: usize = 15;
pub const NEGATIVE: usize = 16;
pub const SCORES: usize = 17;

/// Sums of the measures (one dossier's contribution, or a cell's totals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally(pub [i64; N]);

impl Tally {
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|v| *v == 0)
    }

    pub fn add(&mut self, other: &Tally) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }

    pub fn minus(&self, other: &Tally) -> Tally {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0.iter()) {
            *a -= b;
        }
        out
    }

    /// As kept in `dossier_stats.tally`: the numbers, comma-separated.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn parse(text: &str) -> Option<Tally> {
        let mut t = Tally::default();
        let mut parts = text.split(',');
        for v in t.0.iter_mut() {
            *v = parts.next()?.parse().ok()?;
        }
        parts.next().is_none().then_some(t)
    }
}

/// One timeline event, as the indicators read it.
#[derive(Debug, Clone)]
pub struct Step {
    pub action: String,
    /// UTC.
    pub at: NaiveDateTime,
    pub to_status: i32,
}

/// What the indicators read of one dossier.
#[derive(Debug, Clone)]
pub struct DossierInput<'a> {
    pub channel: &'a str,
    pub status: Status,
    /// UTC.
    pub submitted_at: NaiveDateTime,
    /// UTC: the due date as it stands (moved by supplements, paid charges and a reschedule).
    pub due_at: Option<NaiveDateTime>,
    pub fee_vnd: i64,
    /// Oldest first.
    pub steps: &'a [Step],
    /// Any payment row exists for it (pending or paid).
    pub has_payment: bool,
    /// A payment through the gateway was confirmed.
    pub paid_online: bool,
    /// A sealed electronic result was issued.
    pub e_result: bool,
    pub rating: Option<Scores>,
}

/// One dossier's contribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub tally: Tally,
    /// The local month it was received in, `YYYY-MM`.
    pub month: String,
    /// When it becomes overdue unless something happens first (UTC), while its clock runs.
    pub watch_at: Option<NaiveDateTime>,
}

/// The month, quarter and year a `YYYY-MM` month belongs to.
pub fn periods_of(month: &str) -> [String; 3] {
    let year = &month[..4.min(month.len())];
    let m: u32 = month
        .get(5..7)
        .and_then(|m| m.parse().ok())
        .unwrap_or(1)
        .clamp(1, 12);
    [
        month.to_string(),
        format!("{year}-Q{}", (m - 1) / 3 + 1),
        year.to_string(),
    ]
}

/// One dossier's measures at `now` (UTC). `cal` counts the working days to finish.
pub fn facts(d: &DossierInput, cal: &Calendar, now: NaiveDateTime) -> Facts {
    let mut t = Tally::default();
    let local_filed = to_local(d.submitted_at);
    let month = format!("{:04}-{:02}", local_filed.year(), local_filed.month());
    t.0[RECEIVED] = 1;
    match d.channel {
        "counter" => t.0[COUNTER] = 1,
        "post" => t.0[POST] = 1,
        _ => t.0[ONLINE] = 1,
    }
    let supplements = d
        .steps
        .iter()
        .filter(|s| s.action == "request_supplement")
        .count();
    let finished_at = d
        .steps
        .iter()
        .find(|s| Status::from_code(s.to_status).is_some_and(Status::is_finished))
        .map(|s| s.at);
    let withdrawn =
        d.status == Status::Stopped && d.steps.iter().any(|s| s.action == "confirm_withdrawal");
    let open = !d.status.is_finished();
    let mut watch_at = None;
    if withdrawn {
        t.0[WITHDRAWN] = 1;
    } else {
        let late = if supplements >= 2 {
            true
        } else if let (false, Some(at)) = (open, finished_at) {
            d.due_at.is_some_and(|due| at > due)
        } else if d.status.waits_for_citizen() {
            false
        } else {
            match d.due_at {
                Some(due) if due < now => true,
                Some(due) => {
                    watch_at = Some(due);
                    false
                }
                None => false,
            }
        };
        t.0[if late { LATE } else { ON_TIME }] = 1;
        t.0[OVERDUE_NOW] = i64::from(open && late);
        if !open {
            t.0[FINISHED] = 1;
            if let Some(at) = finished_at {
                t.0[DAYS_SUM] =
                    i64::from(cal.working_days_between(local_filed.date(), to_local(at).date()));
                t.0[DAYS_N] = 1;
            }
        }
    }
    let charged =
        d.fee_vnd > 0 || d.has_payment || d.steps.iter().any(|s| s.action == "request_payment");
    t.0[CHARGED] = i64::from(charged);
    t.0[PAID_ONLINE] = i64::from(charged && d.paid_online);
    let decided = d.steps.iter().any(|s| s.to_status == 9);
    t.0[WITH_RESULT] = i64::from(decided);
    t.0[E_RESULT] = i64::from(decided && d.e_result);
    if let Some(r) = d.rating {
        t.0[RATED] = 1;
        t.0[NEGATIVE] = i64::from(r.is_negative());
        for (i, s) in r.0.iter().enumerate() {
            t.0[SCORES + i] = i64::from(*s);
        }
    }
    Facts {
        tally: t,
        month,
        watch_at,
    }
}

/// A share in percent with one decimal; `None` when there is nothing to divide.
pub fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The figures of one office, province, ministry or the portal for a period: each share beside
/// the counts it is made of (shares in percent with one decimal; null when nothing to divide).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub received: i64,
    pub online: i64,
    pub counter: i64,
    pub post: i64,
    pub finished: i64,
    pub withdrawn: i64,
    pub open: i64,
    pub on_time: i64,
    pub late: i64,
    pub overdue_now: i64,
    /// on_time / (received − withdrawn).
    pub on_time_pct: Option<f64>,
    /// Working days, one decimal.
    pub avg_days: Option<f64>,
    pub online_pct: Option<f64>,
    pub charged: i64,
    pub paid_online: i64,
    pub paid_online_pct: Option<f64>,
    pub with_result: i64,
    pub e_result: i64,
    pub e_result_pct: Option<f64>,
    pub rated: i64,
    pub negative: i64,
    /// 100 − (% late + % negative), over the dossiers assessed.
    pub satisfaction: Option<f64>,
    /// The nine indicators' averages (0–2), over the ratings.
    pub indicators: Vec<Option<f64>>,
}

pub fn figures(t: &Tally) -> Figures {
    let v = &t.0;
    let assessed = v[RECEIVED] - v[WITHDRAWN];
    let avg = |sum: i64, n: i64| (n > 0).then(|| (sum as f64 * 10.0 / n as f64).round() / 10.0);
    let satisfaction = (assessed > 0).then(|| {
        let bad = (v[LATE] + v[NEGATIVE]) as f64 * 100.0 / assessed as f64;
        ((100.0 - bad).max(0.0) * 10.0).round() / 10.0
    });
    Figures {
        received: v[RECEIVED],
        online: v[ONLINE],
        counter: v[COUNTER],
        post: v[POST],
        finished: v[FINISHED],
        withdrawn: v[WITHDRAWN],
        open: v[RECEIVED] - v[FINISHED] - v[WITHDRAWN],
        on_time: v[ON_TIME],
        late: v[LATE],
        overdue_now: v[OVERDUE_NOW],
        on_time_pct: pct(v[ON_TIME], assessed),
        avg_days: avg(v[DAYS_SUM], v[DAYS_N]),
        online_pct: pct(v[ONLINE], v[RECEIVED]),
        charged: v[CHARGED],
        paid_online: v[PAID_ONLINE],
        paid_online_pct: pct(v[PAID_ONLINE], v[CHARGED]),
        with_result: v[WITH_RESULT],
        e_result: v[E_RESULT],
        e_result_pct: pct(v[E_RESULT], v[WITH_RESULT]),
        rated: v[RATED],
        negative: v[NEGATIVE],
        satisfaction,
        indicators: (0..9)
            .map(|i| {
                (v[RATED] > 0)
                    .then(|| (v[SCORES + i] as f64 * 100.0 / v[RATED] as f64).round() / 100.0)
            })
            .collect(),
    }
}

/// A period as asked in a URL: `2026`, `2026-Q1` or `2026-03`.
pub fn parse_period(raw: &str) -> Option<String> {
    if !raw.is_ascii() {
        return None;
    }
    let b = raw.as_bytes();
    let year_ok = |s: &str| s.len() == 4 && s.bytes().all(|c| c.is_ascii_digit()) && s >= "2000";
    match b.len() {
        4 if year_ok(raw) => Some(raw.to_string()),
        7 if year_ok(&raw[..4]) && &raw[4..6] == "-Q" && (b'1'..=b'4').contains(&b[6]) => {
            Some(raw.to_string())
        }
        7 if year_ok(&raw[..4]) && b[4] == b'-' => {
            let m: u32 = raw[5..].parse().ok()?;
            (1..=12).contains(&m).then(|| raw.to_string())
        }
        _ => None,
    }
}

/// The months a period covers, `YYYY-MM`.
pub fn months_of(period: &str) -> Vec<String> {
    let year = &period[..4];
    let range = match period.len() {
        7 if period.as_bytes()[5] == b'Q' => {
            let q: u32 = period[6..].parse().unwrap_or(1);
            (q - 1) * 3 + 1..=(q - 1) * 3 + 3
        }
        7 => {
            let m: u32 = period[5..].parse().unwrap_or(1);
            m..=m
        }
        _ => 1..=12,
    };
    range.map(|m| format!("{year}-{m:02}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(d: u32, h: u32) -> NaiveDateTime {
        // Local hour h on 2026-03-d, as UTC.
        NaiveDate::from_ymd_opt(2026, 3, d)
            .and_then(|x| x.and_hms_opt(h, 0, 0))
            .map(super::super::calendar::to_utc)
            .expect("time")
    }

    fn step(action: &str, at: NaiveDateTime, to: i32) -> Step {
        Step {
            action: action.into(),
            at,
            to_status: to,
        }
    }

    fn input<'a>(steps: &'a [Step], status: Status, due: NaiveDateTime) -> DossierInput<'a> {
        DossierInput {
            channel: "online",
            status,
            submitted_at: at(2, 9),
            due_at: Some(due),
            fee_vnd: 0,
            steps,
            has_payment: false,
            paid_online: false,
            e_result: false,
            rating: None,
        }
    }

    #[test]
    fn a_dossier_finished_by_its_due_date_is_on_time_and_one_after_is_late() {
        let cal = Calendar::default();
        let steps = [
            step("submit", at(2, 9), 1),
            step("accept", at(2, 10), 2),
            step("start", at(2, 10), 4),
            step("approve", at(5, 10), 9),
        ];
        let f = facts(
            &input(&steps, Status::Processed, at(6, 17)),
            &cal,
            at(20, 9),
        );
        assert_eq!(f.month, "2026-03");
        assert_eq!(
            (f.tally.0[ON_TIME], f.tally.0[LATE], f.tally.0[FINISHED]),
            (1, 0, 1)
        );
        assert_eq!(
            f.tally.0[DAYS_SUM], 3,
            "Mon 2 → Thu 5 March: 3 working days"
        );
        assert_eq!(f.watch_at, None);
        let f = facts(
            &input(&steps, Status::Processed, at(4, 17)),
            &cal,
            at(20, 9),
        );
        assert_eq!((f.tally.0[ON_TIME], f.tally.0[LATE]), (0, 1));
        assert_eq!(f.tally.0[WITH_RESULT], 1);
    }

    #[test]
    fn an_open_dossier_is_watched_until_its_due_date_and_late_after_unless_waiting() {
        let cal = Calendar::default();
        let steps = [step("submit", at(2, 9), 1), step("accept", at(2, 10), 2)];
        let due = at(6, 17);
        let before = facts(&input(&steps, Status::Accepted, due), &cal, at(6, 9));
        assert_eq!(before.watch_at, Some(due));
        assert_eq!(
            (before.tally.0[ON_TIME], before.tally.0[OVERDUE_NOW]),
            (1, 0)
        );
        let after = facts(&input(&steps, Status::Accepted, due), &cal, at(9, 9));
        assert_eq!(after.watch_at, None);
        assert_eq!((after.tally.0[LATE], after.tally.0[OVERDUE_NOW]), (1, 1));
        let waiting = [
            step("submit", at(2, 9), 1),
            step("request_supplement", at(2, 10), 5),
        ];
        let w = facts(
            &input(&waiting, Status::SupplementRequested, due),
            &cal,
            at(20, 9),
        );
        assert_eq!((w.tally.0[ON_TIME], w.watch_at), (1, None));
    }

    #[test]
    fn a_second_supplement_request_is_late_and_a_withdrawal_is_neither() {
        let cal = Calendar::default();
        let steps = [
            step("submit", at(2, 9), 1),
            step("request_supplement", at(2, 10), 5),
            step("supplement", at(3, 10), 4),
            step("request_supplement", at(3, 11), 5),
            step("supplement", at(4, 10), 4),
            step("approve", at(4, 11), 9),
        ];
        let f = facts(
            &input(&steps, Status::Processed, at(30, 17)),
            &cal,
            at(5, 9),
        );
        assert_eq!((f.tally.0[ON_TIME], f.tally.0[LATE]), (0, 1));
        let steps = [
            step("submit", at(2, 9), 1),
            step("request_withdrawal", at(2, 10), 7),
            step("confirm_withdrawal", at(3, 10), 8),
        ];
        let f = facts(&input(&steps, Status::Stopped, at(3, 9)), &cal, at(5, 9));
        assert_eq!(
            (
                f.tally.0[WITHDRAWN],
                f.tally.0[ON_TIME],
                f.tally.0[LATE],
                f.tally.0[FINISHED]
            ),
            (1, 0, 0, 0)
        );
        let fig = figures(&f.tally);
        assert_eq!(
            (fig.open, fig.on_time_pct, fig.satisfaction),
            (0, None, None)
        );
    }

    #[test]
    fn tallies_round_trip_and_periods_are_read_strictly() {
        let mut t = Tally::default();
        t.0[3] = 7;
        t.0[N - 1] = -2;
        assert_eq!(Tally::parse(&t.to_text()), Some(t));
        assert_eq!(Tally::parse("1,2"), None);
        assert_eq!(periods_of("2026-11"), ["2026-11", "2026-Q4", "2026"]);
        for ok in ["2026", "2026-Q3", "2026-02"] {
            assert_eq!(parse_period(ok).as_deref(), Some(ok));
        }
        for bad in [
            "26", "2026-Q5", "2026-13", "2026-00", "abcd", "2026-1", "1999", " 2026", "202ừ1",
            "2026-ừ",
        ] {
            assert_eq!(parse_period(bad), None, "{bad}");
        }
        assert_eq!(months_of("2026-Q2"), ["2026-04", "2026-05", "2026-06"]);
        assert_eq!(months_of("2026").len(), 12);
    }

    #[test]
    fn satisfaction_subtracts_late_and_negative_shares() {
        let mut t = Tally::default();
        t.0[RECEIVED] = 10;
        t.0[WITHDRAWN] = 2;
        t.0[LATE] = 1;
        t.0[ON_TIME] = 7;
        t.0[RATED] = 4;
        t.0[NEGATIVE] = 1;
        t.0[SCORES] = 6;
        let f = figures(&t);
        assert_eq!(f.on_time_pct, Some(87.5));
        assert_eq!(f.satisfaction, Some(75.0));
        assert_eq!(f.indicators[0], Some(1.5));
        assert_eq!(f.indicators[1], Some(0.0));
    }
}
