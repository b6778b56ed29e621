//! `portal generate`: realistic dossiers in bulk, for benchmarks and demonstrations at scale.
//! They are spread over the first `offices` ward committees of the directory and a sample of
//! the level 3–4 services, filed over the past year during office hours, with a status mix
//! that depends on their age (recent ones are still open, old ones mostly delivered) and the
//! timeline events that lead there. Codes come from each office's daily sequence, which is
//! advanced so later filings continue after the generated ones.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::DbConnection;
use crate::db::schema::{agencies, dossier_events, dossiers, office_sequences, services};
use crate::domain::calendar::{self, TimeLimit};
use crate::domain::dossier::DossierCode;
use crate::domain::status::Status;

pub struct Options {
    pub dossiers: u64,
    pub offices: usize,
    pub seed: u64,
    /// UTC; dossiers are filed in the year before.
    pub now: NaiveDateTime,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dossiers: u64,
    pub events: u64,
    pub offices: Vec<String>,
}

const FAMILY: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MIDDLE: [&str; 12] = [
    "Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quang", "Thu", "Hoài", "Xuân", "Gia",
];
const GIVEN: [&str; 32] = [
    "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hằng", "Hiếu", "Hoa", "Hùng", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Ngọc", "Phong", "Phúc", "Quân",
    "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến", "Đạt",
];

/// A name as people have them.
pub fn name(rng: &mut impl Rng) -> String {
    format!(
        "{} {} {}",
        FAMILY[rng.random_range(0..FAMILY.len())],
        MIDDLE[rng.random_range(0..MIDDLE.len())],
        GIVEN[rng.random_range(0..GIVEN.len())]
    )
}

/// The status a dossier filed `age_days` ago has now, drawn from a realistic mix.
fn status_for(age_days: i64, rng: &mut impl Rng) -> Status {
    let r: f64 = rng.random();
    if age_days < 20 {
        match r {
            x if x < 0.20 => Status::Submitted,
            x if x < 0.30 => Status::Accepted,
            x if x < 0.65 => Status::Processing,
            x if x < 0.72 => Status::SupplementRequested,
            x if x < 0.75 => Status::PaymentRequested,
            x if x < 0.77 => Status::WithdrawalRequested,
            x if x < 0.80 => Status::Refused,
            x if x < 0.88 => Status::Processed,
            _ => Status::Delivered,
        }
    } else {
        match r {
            x if x < 0.005 => Status::Processing,
            x if x < 0.01 => Status::SupplementRequested,
            x if x < 0.03 => Status::Refused,
            x if x < 0.07 => Status::Stopped,
            x if x < 0.09 => Status::Processed,
            _ => Status::Delivered,
        }
    }
}

/// The actions that lead from filing to `s`.
fn path_to(s: Status) -> &'static [(&'static str, Status)] {
    use Status::*;
    match s {
        Submitted => &[],
        Accepted => &[("accept", Accepted)],
        Refused => &[("refuse", Refused)],
        Processing => &[("accept", Accepted), ("start", Processing)],
        SupplementRequested => &[
            ("accept", Accepted),
            ("start", Processing),
            ("request_supplement", SupplementRequested),
        ],
        PaymentRequested => &[
            ("accept", Accepted),
            ("start", Processing),
            ("request_payment", PaymentRequested),
        ],
        WithdrawalRequested => &[
            ("accept", Accepted),
            ("request_withdrawal", WithdrawalRequested),
        ],
        Stopped => &[
            ("accept", Accepted),
            ("start", Processing),
            ("stop", Stopped),
        ],
        Processed => &[
            ("accept", Accepted),
            ("start", Processing),
            ("approve", Processed),
        ],
        Delivered => &[
            ("accept", Accepted),
            ("start", Processing),
            ("approve", Processed),
            ("deliver", Delivered),
        ],
    }
}

const BATCH: usize = 1000;

/// Generates the dossiers; returns what was made.
pub fn run(conn: &mut DbConnection, o: &Options) -> Result<Report> {
    let mut rng = StdRng::seed_from_u64(o.seed);
    if let DbConnection::Sqlite(c) = conn {
        // Inserts land all over eight indexes: a 256 MiB page cache for this connection keeps
        // them in memory (SQLite's default is 2 MiB).
        diesel::sql_query("PRAGMA cache_size = -262144").execute(c)?;
    }
    let offices: Vec<(i64, String)> = agencies::table
        .filter(agencies::kind.eq("ward_committee"))
        .order(agencies::id)
        .limit(o.offices as i64)
        .select((agencies::id, agencies::office_id))
        .load(conn)?;
    anyhow::ensure!(
        !offices.is_empty(),
        "no ward offices: seed the directory first"
    );
    let service_rows: Vec<(i64, String, String, i32)> = services::table
        .filter(services::online_level.ge(3))
        .order(services::id)
        .limit(40)
        .select((
            services::id,
            services::code,
            services::name,
            services::version,
        ))
        .load(conn)?;
    anyhow::ensure!(
        !service_rows.is_empty(),
        "no online services: seed the catalogue first"
    );
    // Each service's form, stored once as a snapshot all its dossiers refer to.
    let mut forms: Vec<String> = Vec::new();
    for (id, code, name, _) in &service_rows {
        let (_, form) = crate::db::forms::current(conn, *id, code, name)?;
        let json = serde_json::to_string(&form)?;
        forms.push(crate::db::dossiers::snapshot_form(conn, &json, o.now)?);
    }
    let cal = crate::db::dossiers::calendar(conn)?;
    let first_id: i64 = dossiers::table
        .select(diesel::dsl::max(dossiers::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0)
        + 1;
    let mut sequences: HashMap<(i64, chrono::NaiveDate), u32> = HashMap::new();
    // Continue each office's existing sequences.
    let existing: Vec<(i64, chrono::NaiveDate, i32)> = office_sequences::table
        .select((
            office_sequences::agency_id,
            office_sequences::day,
            office_sequences::last_value,
        ))
        .load(conn)?;
    for (a, d, v) in existing {
        sequences.insert((a, d), u32::try_from(v).unwrap_or(0));
    }
    let mut report = Report {
        offices: offices.iter().map(|(_, o)| o.clone()).collect(),
        ..Report::default()
    };
    // Which office and how many days ago, in the order an office files them (office by office,
    // oldest first): the indexes then grow at their ends, as they do in production.
    let mut plan: Vec<(usize, i64)> = (0..o.dossiers)
        .map(|_| {
            (
                rng.random_range(0..offices.len()),
                rng.random_range(0..365i64),
            )
        })
        .collect();
    plan.sort_unstable_by_key(|(office, age)| (*office, -*age));
    let mut made: u64 = 0;
    while made < o.dossiers {
        let n = BATCH.min((o.dossiers - made) as usize);
        let mut rows = Vec::with_capacity(n);
        let mut events = Vec::with_capacity(n * 5);
        for i in 0..n {
            let id = first_id + (made + i as u64) as i64;
            let (office_index, age_days) = plan[(made as usize) + i];
            let (agency_id, office_id) = &offices[office_index];
            let s = rng.random_range(0..service_rows.len());
            let (service_id, _, _, service_version) = &service_rows[s];
            // Filed during office hours on a working day in the past year.
            let day = cal.working_day_on_or_after(
                (calendar::to_local(o.now) - Duration::days(age_days)).date(),
            );
            let minute = rng.random_range(0..(8 * 60));
            let local = day.and_hms_opt(7, 30, 0).unwrap_or_default() + Duration::minutes(minute);
            let submitted_at = calendar::to_utc(local).min(o.now - Duration::minutes(1));
            let seq = sequences.entry((*agency_id, day)).or_insert(0);
            *seq += 1;
            let Ok(code) = DossierCode::new(office_id, day, *seq) else {
                continue;
            };
            let days = [5u32, 7, 10, 15, 20][rng.random_range(0..5)];
            let due_at = calendar::to_utc(cal.due(local, TimeLimit::WorkingDays(days)));
            let status = status_for(age_days, &mut rng);
            let applicant = name(&mut rng);
            let cccd = format!(
                "{:03}{}{:02}{:06}",
                rng.random_range(1..97),
                rng.random_range(0..4),
                rng.random_range(50..100),
                rng.random_range(0..1_000_000)
            );
            let phone = format!("09{:08}", rng.random_range(0..100_000_000));
            let answers = serde_json::json!({
                "applicant_phone": phone,
                "applicant_email": format!("cd{id}@example.vn"),
                "applicant_address": format!("{} đường số {}", rng.random_range(1..300), rng.random_range(1..40)),
            })
            .to_string();
            let path = path_to(status);
            // Events an hour or a few days apart, never after now.
            let mut at = submitted_at;
            let mut timeline = vec![("submit", None, Status::Submitted, at)];
            let mut from = Status::Submitted;
            for (action, to) in path {
                at = (at + Duration::hours(rng.random_range(1..72))).min(o.now);
                timeline.push((action, Some(from), *to, at));
                from = *to;
            }
            for (action, from, to, at) in &timeline {
                events.push((
                    dossier_events::dossier_id.eq(id),
                    dossier_events::at.eq(*at),
                    dossier_events::actor_id.eq(None::<i64>),
                    dossier_events::action.eq(*action),
                    dossier_events::from_status.eq(from.map(|s| i32::from(s.code()))),
                    dossier_events::to_status.eq(i32::from(to.code())),
                    dossier_events::note.eq(if *action == "request_supplement" {
                        "Bổ sung bản sao có chứng thực"
                    } else {
                        ""
                    }),
                    dossier_events::internal.eq(false),
                ));
            }
            let updated_at = at;
            rows.push((
                (
                    dossiers::id.eq(id),
                    dossiers::code.eq(code.to_string()),
                    dossiers::agency_id.eq(*agency_id),
                    dossiers::service_id.eq(*service_id),
                    dossiers::service_version.eq(*service_version),
                    dossiers::channel.eq(if rng.random_range(0..10) < 7 {
                        "online"
                    } else {
                        "counter"
                    }),
                    dossiers::status.eq(i32::from(status.code())),
                    dossiers::level.eq("commune"),
                    dossiers::route_note.eq(""),
                    dossiers::form_version.eq(0),
                    dossiers::form_definition.eq(forms[s].clone()),
                    dossiers::answers.eq(answers),
                    dossiers::applicant_key.eq(crate::search::fold(&applicant)),
                    dossiers::applicant_name.eq(applicant),
                    dossiers::applicant_cccd.eq(cccd),
                    dossiers::applicant_phone.eq(phone),
                ),
                (
                    dossiers::applicant_email.eq(format!("cd{id}@example.vn")),
                    dossiers::applicant_address.eq(""),
                    dossiers::fee_vnd.eq(0i64),
                    dossiers::time_limit.eq(format!("working_days:{days}")),
                    dossiers::submitted_at.eq(submitted_at),
                    dossiers::clock_starts_at.eq(submitted_at),
                    dossiers::due_at.eq(Some(due_at)),
                    dossiers::lock_version.eq((timeline.len() - 1) as i32),
                    dossiers::updated_at.eq(updated_at),
                    dossiers::stage.eq(status.stage().code()),
                ),
            ));
        }
        let (rows_n, events_n) = (rows.len() as u64, events.len() as u64);
        crate::db::transaction(conn, |conn| -> QueryResult<()> {
            crate::with_backend!(conn, |c| {
                diesel::insert_into(dossiers::table)
                    .values(&rows)
                    .execute(c)?;
                for chunk in events.chunks(BATCH * 2) {
                    diesel::insert_into(dossier_events::table)
                        .values(chunk)
                        .execute(c)?;
                }
                Ok::<_, diesel::result::Error>(())
            })
        })
        .context("inserting a batch of dossiers")?;
        made += n as u64;
        report.dossiers += rows_n;
        report.events += events_n;
    }
    // Later filings continue after the generated numbers.
    crate::db::transaction(conn, |conn| -> QueryResult<()> {
        for ((agency_id, day), last) in &sequences {
            crate::with_backend!(conn, |c| diesel::insert_into(office_sequences::table)
                .values((
                    office_sequences::agency_id.eq(*agency_id),
                    office_sequences::day.eq(*day),
                    office_sequences::last_value.eq(*last as i32),
                ))
                .on_conflict((office_sequences::agency_id, office_sequences::day))
                .do_update()
                .set(office_sequences::last_value.eq(*last as i32))
                .execute(c))?;
        }
        Ok(())
    })?;
    crate::db::workspace::recount(conn)?;
    crate::db::stats::rebuild(conn, o.now)?;
    if let DbConnection::Postgresql(c) = conn {
        diesel::sql_query(
            "SELECT setval(pg_get_serial_sequence('dossiers', 'id'), (SELECT MAX(id) FROM dossiers))",
        )
        .execute(c)?;
        diesel::sql_query("ANALYZE dossiers").execute(c)?;
        diesel::sql_query("ANALYZE dossier_events").execute(c)?;
    } else if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query("ANALYZE").execute(c)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_reached_by_legal_moves() {
        use crate::domain::lifecycle::{Action, Actor, transition};
        for s in Status::ALL {
            let mut at = Status::Submitted;
            for (action, to) in path_to(s) {
                let a: Action = action.parse().expect("an action");
                let actor = if matches!(a, Action::RequestWithdrawal) {
                    Actor::Citizen
                } else {
                    Actor::Officer
                };
                assert_eq!(transition(at, a, actor), Ok(*to), "{s:?} via {action}");
                at = *to;
            }
            assert_eq!(at, s);
        }
    }

    #[test]
    fn the_mix_keeps_old_dossiers_mostly_finished() {
        let mut rng = StdRng::seed_from_u64(7);
        let old_open = (0..10_000)
            .filter(|_| !status_for(200, &mut rng).is_finished())
            .count();
        let new_open = (0..10_000)
            .filter(|_| !status_for(3, &mut rng).is_finished())
            .count();
        assert!(old_open < 300 && new_open > 6_000, "{old_open} {new_open}");
        assert!(name(&mut rng).split(' ').count() == 3);
    }
}
