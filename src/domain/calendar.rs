//! The working-day calendar of domain.md §4: weekends and public holidays (a table
//! administrators edit, passed in), office hours (07:00–11:30 and 13:30–17:00 by default,
//! Vietnam time, which has no daylight saving), receipt after hours counted from the next
//! working morning, and time limits in working days, calendar days, working hours or months.
//! Pure: times are local (`NaiveDateTime` in Asia/Ho_Chi_Minh); callers convert at the edges.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// Vietnam's offset from UTC, all year.
pub const VIETNAM_UTC_OFFSET_HOURS: i64 = 7;

/// A local time from a UTC one, and back.
pub fn to_local(utc: NaiveDateTime) -> NaiveDateTime {
    utc + Duration::hours(VIETNAM_UTC_OFFSET_HOURS)
}

pub fn to_utc(local: NaiveDateTime) -> NaiveDateTime {
    local - Duration::hours(VIETNAM_UTC_OFFSET_HOURS)
}

/// Office hours: ordered, non-overlapping sessions of a working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    sessions: Vec<(NaiveTime, NaiveTime)>,
}

impl OfficeHours {
    /// Sessions must be non-empty, each start before its end, in order without overlap.
    pub fn new(sessions: Vec<(NaiveTime, NaiveTime)>) -> Option<OfficeHours> {
        let ordered = sessions.windows(2).all(|w| w[0].1 <= w[1].0);
        let valid = !sessions.is_empty() && sessions.iter().all(|(a, b)| a < b);
        (ordered && valid).then_some(OfficeHours { sessions })
    }

    pub fn opening(&self) -> NaiveTime {
        self.sessions[0].0
    }

    pub fn closing(&self) -> NaiveTime {
        self.sessions[self.sessions.len() - 1].1
    }

    /// `07:00-11:30, 13:30-17:00`: sessions separated by commas, each `HH:MM-HH:MM`.
    pub fn parse(text: &str) -> Option<OfficeHours> {
        let sessions = text
            .split(',')
            .map(|part| {
                let (a, b) = part.trim().split_once('-')?;
                let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
                Some((t(a)?, t(b)?))
            })
            .collect::<Option<Vec<_>>>()?;
        OfficeHours::new(sessions)
    }

    /// The inverse of [`OfficeHours::parse`].
    pub fn format(&self) -> String {
        self.sessions
            .iter()
            .map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn contains(&self, t: NaiveTime) -> bool {
        self.sessions.iter().any(|(a, b)| *a <= t && t < *b)
    }
}

impl Default for OfficeHours {
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        OfficeHours {
            sessions: vec![(t(7, 0), t(11, 30)), (t(13, 30), t(17, 0))],
        }
    }
}

/// A legal time limit as a procedure states it (per channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    WorkingDays(u32),
    /// Calendar days; a limit never ends on a day off (it moves to the next working day).
    Days(u32),
    /// Hours of office time.
    WorkingHours(u32),
    Months(u32),
}

impl TimeLimit {
    /// From the catalogue's amount and unit (`working_days`, `days`, `hours`, `months`);
    /// None for a unit or amount the calendar cannot count (the procedure states none).
    pub fn from_record(amount: f64, unit: &str) -> Option<TimeLimit> {
        if !(amount.is_finite() && amount > 0.0 && amount <= 3650.0) {
            return None;
        }
        // Half days and the like round up: the citizen is never promised less than the law says.
        let n = amount.ceil() as u32;
        match unit {
            "working_days" => Some(TimeLimit::WorkingDays(n)),
            "days" => Some(TimeLimit::Days(n)),
            "hours" => Some(TimeLimit::WorkingHours(n)),
            "months" => Some(TimeLimit::Months(n)),
            _ => None,
        }
    }
}

/// Weekends, holidays and office hours.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    hours: OfficeHours,
}

impl Calendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>, hours: OfficeHours) -> Calendar {
        Calendar {
            holidays: holidays.into_iter().collect(),
            hours,
        }
    }

    pub fn hours(&self) -> &OfficeHours {
        &self.hours
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The first working day on or after `d`.
    pub fn working_day_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        let mut d = d;
        // Bounded: no run of days off is longer than a year.
        for _ in 0..366 {
            if self.is_working_day(d) {
                return d;
            }
            d = d.succ_opt().unwrap_or(d);
        }
        d
    }

    /// `d` plus `n` working days (`n` = 0 gives the first working day on or after `d`).
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut d = self.working_day_on_or_after(d);
        for _ in 0..n {
            d = self.working_day_on_or_after(d.succ_opt().unwrap_or(d));
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not later).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.succ_opt().unwrap_or(to);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }

    /// When counting starts for something received at `received` (local): then, during office
    /// hours on a working day; otherwise the next opening of a working day.
    pub fn counting_starts(&self, received: NaiveDateTime) -> NaiveDateTime {
        let (day, time) = (received.date(), received.time());
        if self.is_working_day(day) && self.hours.contains(time) {
            return received;
        }
        // Between two sessions of a working day: the next session.
        if self.is_working_day(day)
            && let Some((start, _)) = self.hours.sessions.iter().find(|(start, _)| *start > time)
        {
            return day.and_time(*start);
        }
        let next = if self.is_working_day(day) && time < self.hours.opening() {
            day
        } else {
            self.working_day_on_or_after(day.succ_opt().unwrap_or(day))
        };
        next.and_time(self.hours.opening())
    }

    /// The promised moment (local) for `limit` counted from `received` (local). Day limits end
    /// at the close of their last day, never on a day off.
    pub fn due(&self, received: NaiveDateTime, limit: TimeLimit) -> NaiveDateTime {
        let start = self.counting_starts(received);
        let close = self.hours.closing();
        match limit {
            TimeLimit::WorkingDays(n) => self.add_working_days(start.date(), n).and_time(close),
            TimeLimit::Days(n) => {
                let d = start.date() + Duration::days(i64::from(n));
                self.working_day_on_or_after(d).and_time(close)
            }
            TimeLimit::Months(n) => {
                let d = start
                    .date()
                    .checked_add_months(Months::new(n))
                    .unwrap_or(start.date());
                self.working_day_on_or_after(d).and_time(close)
            }
            TimeLimit::WorkingHours(h) => {
                self.add_office_time(start, Duration::hours(i64::from(h)))
            }
        }
    }

    /// `from` (inside office hours, see `counting_starts`) plus `amount` of office time.
    fn add_office_time(&self, from: NaiveDateTime, amount: Duration) -> NaiveDateTime {
        let mut left = amount;
        let mut at = from;
        // Bounded by the days it can take: office time per day is at least a minute.
        for _ in 0..(366 * 20) {
            let day = at.date();
            for (start, end) in &self.hours.sessions {
                let (s, e) = (day.and_time(*start), day.and_time(*end));
                if at >= e {
                    continue;
                }
                let from_here = at.max(s);
                let available = e - from_here;
                if left <= available {
                    return from_here + left;
                }
                left -= available;
                at = e;
            }
            at = self
                .working_day_on_or_after(day.succ_opt().unwrap_or(day))
                .and_time(self.hours.opening());
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_hours_read_and_write_the_same_text() {
        let h = OfficeHours::parse("07:00-11:30, 13:30-17:00").expect("hours");
        assert_eq!(h, OfficeHours::default());
        assert_eq!(h.format(), "07:00-11:30, 13:30-17:00");
        assert_eq!(
            OfficeHours::parse("08:00-17:00").expect("hours").closing(),
            NaiveTime::from_hms_opt(17, 0, 0).expect("time")
        );
        for bad in [
            "",
            "8-17",
            "13:30-17:00, 07:00-11:30",
            "17:00-08:00",
            "07:00-12:00,11:00-17:00",
        ] {
            assert!(OfficeHours::parse(bad).is_none(), "{bad}");
        }
    }
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(h, min, 0).expect("time")
    }

    /// Tết 2026: 14–22 February are days off (from `data/holidays.csv`).
    fn calendar() -> Calendar {
        let tet = (14..=22).map(|day| d(2026, 2, day));
        let others = [
            d(2026, 1, 1),
            d(2026, 4, 30),
            d(2026, 5, 1),
            d(2026, 9, 1),
            d(2026, 9, 2),
        ];
        Calendar::new(tet.chain(others), OfficeHours::default())
    }

    #[test]
    fn received_after_hours_counts_from_the_next_working_morning() {
        let c = calendar();
        // Friday 17:30 → Monday 07:00.
        assert_eq!(
            c.counting_starts(at(2026, 11, 27, 17, 30)),
            at(2026, 11, 30, 7, 0)
        );
        // Lunch break → the afternoon session.
        assert_eq!(
            c.counting_starts(at(2026, 11, 30, 12, 0)),
            at(2026, 11, 30, 13, 30)
        );
        // Before opening → that morning.
        assert_eq!(
            c.counting_starts(at(2026, 11, 30, 6, 0)),
            at(2026, 11, 30, 7, 0)
        );
        // During hours → then.
        assert_eq!(
            c.counting_starts(at(2026, 11, 30, 9, 15)),
            at(2026, 11, 30, 9, 15)
        );
    }

    #[test]
    fn due_dates_skip_weekends_and_tet() {
        let c = calendar();
        // Monday 9:00 + 3 working days → Thursday at closing.
        assert_eq!(
            c.due(at(2026, 11, 30, 9, 0), TimeLimit::WorkingDays(3)),
            at(2026, 12, 3, 17, 0)
        );
        // Friday 13 February 2026, 10:00, + 2 working days: Tết (14–22) and the weekend are
        // skipped → Tuesday 24 February.
        assert_eq!(
            c.due(at(2026, 2, 13, 10, 0), TimeLimit::WorkingDays(2)),
            at(2026, 2, 24, 17, 0)
        );
        // Calendar days landing in Tết move to the first working day after it.
        assert_eq!(
            c.due(at(2026, 2, 10, 10, 0), TimeLimit::Days(5)),
            at(2026, 2, 23, 17, 0)
        );
        // 8 office hours from Monday 15:00 → Tuesday 15:00.
        assert_eq!(
            c.due(at(2026, 11, 30, 15, 0), TimeLimit::WorkingHours(8)),
            at(2026, 12, 1, 15, 0)
        );
        // A month from 30 January lands on 28 February (a Saturday) → Monday 2 March.
        assert_eq!(
            c.due(at(2026, 1, 30, 9, 0), TimeLimit::Months(1)),
            at(2026, 3, 2, 17, 0)
        );
    }

    #[test]
    fn record_units_map_to_limits() {
        assert_eq!(
            TimeLimit::from_record(5.0, "working_days"),
            Some(TimeLimit::WorkingDays(5))
        );
        assert_eq!(
            TimeLimit::from_record(0.5, "working_days"),
            Some(TimeLimit::WorkingDays(1))
        );
        assert_eq!(TimeLimit::from_record(3.0, "other"), None);
        assert_eq!(TimeLimit::from_record(f64::NAN, "days"), None);
        assert_eq!(TimeLimit::from_record(0.0, "days"), None);
    }

    fn any_moment() -> impl Strategy<Value = NaiveDateTime> {
        (0i64..(3 * 365 * 24 * 60)).prop_map(|m| at(2025, 1, 1, 0, 0) + Duration::minutes(m))
    }

    proptest! {
        #[test]
        fn a_due_date_is_never_a_day_off(received in any_moment(), n in 0u32..40, kind in 0u8..4) {
            let c = calendar();
            let limit = match kind {
                0 => TimeLimit::WorkingDays(n),
                1 => TimeLimit::Days(n),
                2 => TimeLimit::WorkingHours(n),
                _ => TimeLimit::Months(n % 13),
            };
            let due = c.due(received, limit);
            prop_assert!(c.is_working_day(due.date()), "{:?} → {}", limit, due);
            prop_assert!(due >= c.counting_starts(received), "{:?} → {}", limit, due);
        }

        #[test]
        fn adding_n_then_m_working_days_is_adding_n_plus_m(day in 0i64..1000, n in 0u32..30, m in 0u32..30) {
            let c = calendar();
            let start = d(2025, 1, 1) + Duration::days(day);
            prop_assert_eq!(
                c.add_working_days(c.add_working_days(start, n), m),
                c.add_working_days(start, n + m)
            );
        }

        #[test]
        fn counting_working_days_inverts_adding_them(day in 0i64..1000, n in 0u32..30) {
            let c = calendar();
            let start = c.working_day_on_or_after(d(2025, 1, 1) + Duration::days(day));
            prop_assert_eq!(c.working_days_between(start, c.add_working_days(start, n)), n);
        }

        /// Time waiting for the citizen is excluded: restarting the clock on the day the
        /// dossier is complete gives a due date as late as the whole limit from that day.
        #[test]
        fn a_paused_clock_restarts_with_the_whole_limit(received in any_moment(), wait in 0i64..60, n in 1u32..20) {
            let c = calendar();
            let resumed = received + Duration::days(wait);
            let due = c.due(resumed, TimeLimit::WorkingDays(n));
            let start = c.counting_starts(resumed).date();
            prop_assert_eq!(c.working_days_between(start, due.date()), n);
        }

        #[test]
        fn office_hours_add_up(received in any_moment(), a in 0u32..30, b in 0u32..30) {
            let c = calendar();
            let start = c.counting_starts(received);
            let one = c.add_office_time(c.add_office_time(start, Duration::hours(i64::from(a))), Duration::hours(i64::from(b)));
            let both = c.add_office_time(start, Duration::hours(i64::from(a + b)));
            // Equal, except that a sum ending exactly at a session's close may be written as
            // that close or the next opening; both are the same office time.
            let close_equivalent = c.counting_starts(one) == c.counting_starts(both)
                || one == both;
            prop_assert!(close_equivalent, "{} vs {}", one, both);
        }
    }
}
