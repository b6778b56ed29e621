//! Dossiers: the submission of a draft (one transaction: checks, code from the office's daily
//! sequence, promised date from the working-day calendar, the route, status 1 with its timeline
//! event, the attachments and payment moved over, the confirmation email queued), and the reads
//! of tracking ("Hồ sơ của tôi", the public lookup, the API).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::drafts::{self, Draft};
use super::schema::{
    agencies, attachments, dossier_events, dossiers, office_sequences, payments, service_channels,
    services,
};
use crate::domain::calendar::{self, Calendar, TimeLimit};
use crate::domain::dossier::DossierCode;
use crate::domain::form_schema::{self, Answers, Context, FieldError, FormDefinition};
use crate::domain::status::Status;
use crate::mail::RenderedEmail;

/// A stored status code outside 1–10.
#[derive(Debug, thiserror::Error)]
#[error("unknown dossier status {0} in the database")]
pub struct UnknownStatus(i32);

impl TryFrom<i32> for Status {
    type Error = UnknownStatus;
    fn try_from(code: i32) -> Result<Self, Self::Error> {
        Status::from_code(code).ok_or(UnknownStatus(code))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = dossiers)]
pub struct Dossier {
    #[serde(skip)]
    pub id: i64,
    pub code: String,
    #[serde(skip)]
    pub agency_id: i64,
    #[serde(skip)]
    pub service_id: i64,
    pub service_version: i32,
    #[serde(skip)]
    pub user_id: Option<i64>,
    #[diesel(deserialize_as = String)]
    pub channel: crate::domain::dossier::Channel,
    #[diesel(deserialize_as = i32)]
    pub status: Status,
    #[diesel(deserialize_as = String)]
    pub level: crate::domain::routing::Level,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub route_note: String,
    pub form_version: i32,
    #[serde(skip)]
    pub form_definition: String,
    #[serde(skip)]
    pub answers: String,
    pub applicant_name: String,
    #[serde(skip)]
    pub applicant_cccd: String,
    #[serde(skip)]
    pub applicant_phone: String,
    #[serde(skip)]
    pub applicant_email: String,
    #[serde(skip)]
    pub applicant_address: String,
    pub fee_vnd: i64,
    pub time_limit: String,
    pub submitted_at: NaiveDateTime,
    pub clock_starts_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub lock_version: i32,
    pub updated_at: NaiveDateTime,
    #[serde(skip)]
    pub stage: i32,
    #[serde(skip)]
    pub assigned_to: Option<i64>,
    #[serde(skip)]
    pub applicant_key: String,
}

impl Dossier {
    pub fn answers(&self) -> Answers {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }
}

/// The form a dossier was filed under: its snapshot (`sha256:<hex>`), or the inline copy of
/// dossiers filed before snapshots.
pub fn form_of(conn: &mut DbConnection, d: &Dossier) -> QueryResult<Option<FormDefinition>> {
    use super::schema::form_snapshots;
    let json = match d.form_definition.strip_prefix("sha256:") {
        Some(hash) => {
            let Some(json) = form_snapshots::table
                .find(hash)
                .select(form_snapshots::definition)
                .first::<String>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            json
        }
        None => d.form_definition.clone(),
    };
    Ok(serde_json::from_str(&json).ok())
}

/// Stores a form definition once per content; the reference a dossier keeps.
pub fn snapshot_form(
    conn: &mut DbConnection,
    json: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    use super::schema::form_snapshots;
    use sha2::Digest;
    let hash = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(json.as_bytes()));
    crate::with_backend!(conn, |c| diesel::insert_into(form_snapshots::table)
        .values((
            form_snapshots::sha256.eq(&hash),
            form_snapshots::definition.eq(json),
            form_snapshots::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(format!("sha256:{hash}"))
}

/// The built-in first section of every application: how the office reaches the applicant about
/// this dossier (prefilled from the profile). The applicant's name and identity number come
/// from the verified account and are not typed again.
pub fn applicant_form() -> FormDefinition {
    const JSON: &str = r#"{
      "schema": 1, "service": "applicant", "version": 1,
      "title": {"vi": "Người nộp hồ sơ", "en": "Applicant"},
      "sections": [{"key": "applicant", "title": {"vi": "Người nộp hồ sơ", "en": "Applicant"}, "fields": [
        {"key": "applicant_phone", "type": "phone", "label": {"vi": "Số điện thoại liên hệ", "en": "Contact phone"},
         "help": {"vi": "Cơ quan gọi số này khi cần; bạn dùng số này để tra cứu hồ sơ.", "en": "The office calls this number when needed; you use it to track the dossier."},
         "required": true, "prefill": "phone"},
        {"key": "applicant_email", "type": "email", "label": {"vi": "Thư điện tử", "en": "Email"},
         "help": {"vi": "Mọi thay đổi trạng thái hồ sơ được gửi tới địa chỉ này.", "en": "Every change of the dossier's status is sent here."},
         "required": true, "prefill": "email", "max_length": 254},
        {"key": "applicant_address", "type": "text", "label": {"vi": "Địa chỉ liên hệ", "en": "Postal address"},
         "max_length": 300}
      ]}]
    }"#;
    // A constant checked by a unit test; parsing it cannot fail at run time.
    FormDefinition::from_json(JSON).unwrap_or_else(|_| FormDefinition {
        schema: form_schema::SCHEMA_VERSION,
        service: "applicant".into(),
        version: 1,
        title: form_schema::Text::Plain("Người nộp hồ sơ".into()),
        source: String::new(),
        sections: vec![],
        documents: vec![],
    })
}

/// The applicant section of a dossier entered at the desk: the officer types who the applicant
/// is (name and identity number from their card) and how to reach them.
pub fn counter_applicant_form() -> FormDefinition {
    // A constant checked by a unit test.
    FormDefinition::from_json(COUNTER_APPLICANT).unwrap_or_else(|e| {
        tracing::error!(error = ?e, "the desk's applicant form does not parse");
        applicant_form()
    })
}

const COUNTER_APPLICANT: &str = r#"{
      "schema": 1, "service": "applicant_counter", "version": 1,
      "title": {"vi": "Người nộp hồ sơ", "en": "Applicant"},
      "sections": [{"key": "applicant", "title": {"vi": "Người nộp hồ sơ", "en": "Applicant"}, "fields": [
        {"key": "applicant_name", "type": "text", "label": {"vi": "Họ, chữ đệm và tên người nộp", "en": "Applicant's full name"},
         "required": true, "max_length": 100},
        {"key": "applicant_cccd", "type": "cccd", "label": {"vi": "Số định danh cá nhân (CCCD)", "en": "Personal identification number"},
         "help": {"vi": "Nếu người nộp có tài khoản trên cổng, hồ sơ hiện trong mục Hồ sơ của tôi của họ.", "en": "If the applicant has an account, the dossier appears in their My dossiers."},
         "required": true},
        {"key": "applicant_phone", "type": "phone", "label": {"vi": "Số điện thoại liên hệ", "en": "Contact phone"},
         "required": true},
        {"key": "applicant_email", "type": "email", "label": {"vi": "Thư điện tử (nếu có)", "en": "Email (if any)"},
         "max_length": 254},
        {"key": "applicant_address", "type": "text", "label": {"vi": "Địa chỉ liên hệ", "en": "Postal address"},
         "max_length": 300}
      ]}]
    }"#;

/// The applicant section for a draft or dossier: the citizen's own, or the desk's.
pub fn applicant_form_for(at_desk: bool) -> FormDefinition {
    if at_desk {
        counter_applicant_form()
    } else {
        applicant_form()
    }
}

/// Why a draft cannot be submitted.
#[derive(Debug)]
pub enum SubmitError {
    /// No such draft for this person (and no dossier came from it).
    NoDraft,
    /// It was submitted already (a replayed request): the dossier's code.
    AlreadySubmitted(String),
    /// Answers or documents are missing or wrong: every problem.
    Incomplete {
        fields: Vec<FieldError>,
        documents: Vec<String>,
    },
    /// The fee must be paid online before the dossier is filed.
    PaymentDue(i64),
    /// The office has used its 9,999 codes for the day.
    DailyLimit,
    Db(anyhow::Error),
}

impl From<diesel::result::Error> for SubmitError {
    fn from(e: diesel::result::Error) -> Self {
        SubmitError::Db(e.into())
    }
}

/// What the confirmation (page and email) shows.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub code: String,
    pub service_code: String,
    pub service_name: String,
    pub office_name: String,
    pub office_id: String,
    pub applicant_name: String,
    pub applicant_email: String,
    pub submitted_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
}

pub struct SubmitInput<'a> {
    pub draft_public_id: &'a str,
    pub user_id: i64,
    /// UTC.
    pub now: NaiveDateTime,
    pub place_exists: &'a dyn Fn(&str, Option<&str>) -> bool,
    /// Renders the confirmation email for the outbox.
    pub email: &'a dyn Fn(&Submitted) -> anyhow::Result<RenderedEmail>,
}

/// The limit the online channel states (the first row with a number); a number without a unit
/// is read as working days, the unit procedures state most.
pub fn online_time_limit(
    conn: &mut DbConnection,
    service_id: i64,
) -> QueryResult<Option<(TimeLimit, String)>> {
    let rows: Vec<(String, Option<f64>, Option<String>)> = service_channels::table
        .filter(service_channels::service_id.eq(service_id))
        .order(service_channels::position)
        .select((
            service_channels::channel,
            service_channels::processing_time,
            service_channels::time_unit,
        ))
        .load(conn)?;
    let pick = |channel: &str| {
        rows.iter().find_map(|(c, t, u)| {
            let t = (*t)?;
            if c != channel {
                return None;
            }
            let unit = u.as_deref().unwrap_or("working_days");
            TimeLimit::from_record(t, unit).map(|l| (l, format!("{unit}:{t}")))
        })
    };
    Ok(pick("online").or_else(|| pick("in_person")))
}

/// The fee of the online channel, when the record states one (0 = free).
pub fn online_fee(conn: &mut DbConnection, service_id: i64) -> QueryResult<Option<i64>> {
    let fees: Vec<Option<i64>> = service_channels::table
        .filter(service_channels::service_id.eq(service_id))
        .filter(service_channels::channel.eq("online"))
        .order(service_channels::position)
        .select(service_channels::fee_vnd)
        .load(conn)?;
    Ok(fees.into_iter().flatten().next())
}

/// The fee a draft must pay online before it is filed (`domain::fees::due_at_filing`).
pub fn fee_due_at_filing(
    conn: &mut DbConnection,
    service_id: i64,
    online_level: i32,
) -> QueryResult<i64> {
    Ok(crate::domain::fees::due_at_filing(
        online_level,
        online_fee(conn, service_id)?,
    ))
}

/// What applying needs of a service: code, name, online level and version.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct ServiceBrief {
    pub code: String,
    pub name: String,
    pub online_level: i32,
    pub version: i32,
}

pub fn service_brief(conn: &mut DbConnection, service_id: i64) -> QueryResult<ServiceBrief> {
    services::table
        .find(service_id)
        .select(ServiceBrief::as_select())
        .first(conn)
}

/// A dossier's code by its row id.
pub fn code_of(conn: &mut DbConnection, id: i64) -> QueryResult<Option<String>> {
    dossiers::table
        .find(id)
        .select(dossiers::code)
        .first(conn)
        .optional()
}

pub fn calendar(conn: &mut DbConnection) -> QueryResult<Calendar> {
    super::calendar::calendar(conn)
}

/// The next number of the office's sequence for `day`: one row per office and day, incremented
/// in the caller's transaction. Concurrent submissions queue on the row (PostgreSQL) or on the
/// write lock (SQLite), and a rolled-back transaction takes its increment with it: no gaps.
fn next_sequence(conn: &mut DbConnection, agency_id: i64, day: NaiveDate) -> QueryResult<i32> {
    use office_sequences::dsl as s;
    crate::with_backend!(&mut *conn, |c| diesel::insert_into(s::office_sequences)
        .values((
            s::agency_id.eq(agency_id),
            s::day.eq(day),
            s::last_value.eq(1)
        ))
        .on_conflict((s::agency_id, s::day))
        .do_update()
        .set(s::last_value.eq(s::last_value + 1))
        .returning(s::last_value)
        .get_result::<i32>(c))
}

/// What a draft lacks: field problems and the keys of required documents not uploaded.
pub type Incomplete = (Vec<FieldError>, Vec<String>);

/// A row of "Hồ sơ của tôi" as read.
type SummaryRow = (
    String,
    String,
    String,
    String,
    i32,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// Checks a draft completely: the applicant section, the form and the required documents.
pub fn check_draft(
    conn: &mut DbConnection,
    draft: &Draft,
    form: &FormDefinition,
    ctx: &Context,
) -> QueryResult<Result<Answers, Incomplete>> {
    let state = draft.state();
    let mut fields = Vec::new();
    let mut clean = Answers::new();
    match form_schema::validate(&applicant_form_for(state.at_desk()), &state.answers, ctx) {
        Ok(a) => clean.extend(a),
        Err(e) => fields.extend(e),
    }
    match form_schema::validate(form, &state.answers, ctx) {
        Ok(a) => clean.extend(a),
        Err(e) => fields.extend(e),
    }
    let uploaded: Vec<String> = attachments::table
        .filter(attachments::draft_id.eq(draft.id))
        .select(attachments::slot)
        .load(conn)?;
    let documents: Vec<String> = form
        .documents_shown(&state.answers)
        .filter(|d| d.required && !uploaded.contains(&d.key))
        .map(|d| d.key.clone())
        .collect();
    if fields.is_empty() && documents.is_empty() {
        Ok(Ok(clean))
    } else {
        Ok(Err((fields, documents)))
    }
}

/// Submits a draft: everything in one transaction (see the module comment).
pub fn submit(conn: &mut DbConnection, input: &SubmitInput) -> Result<Submitted, SubmitError> {
    super::transaction(conn, |conn| submit_in(conn, input))
}

fn submit_in(conn: &mut DbConnection, input: &SubmitInput) -> Result<Submitted, SubmitError> {
    let Some(draft) = drafts::find_own(conn, input.draft_public_id, input.user_id)? else {
        // Filed by this person (for themselves, or at the desk for someone else).
        let filed_by = dossier_events::table
            .filter(dossier_events::action.eq("submit"))
            .filter(dossier_events::actor_id.eq(input.user_id))
            .select(dossier_events::dossier_id);
        let code: Option<String> = dossiers::table
            .filter(dossiers::draft_public_id.eq(input.draft_public_id))
            .filter(dossiers::id.eq_any(filed_by))
            .select(dossiers::code)
            .first(conn)
            .optional()?;
        return Err(code.map_or(SubmitError::NoDraft, SubmitError::AlreadySubmitted));
    };
    let ServiceBrief {
        code: service_code,
        name: service_name,
        online_level,
        version: service_version,
    } = service_brief(conn, draft.service_id)?;
    let form = super::forms::version(
        conn,
        draft.service_id,
        &service_code,
        &service_name,
        draft.form_version,
    )?;
    let today = calendar::to_local(input.now).date();
    let ctx = Context {
        today,
        place_exists: input.place_exists,
    };
    let clean = match check_draft(conn, &draft, &form, &ctx)? {
        Ok(clean) => clean,
        Err((fields, documents)) => return Err(SubmitError::Incomplete { fields, documents }),
    };
    let draft_state = draft.state();
    let channel = draft_state
        .channel
        .unwrap_or(crate::domain::dossier::Channel::Online);
    let at_desk = draft_state.at_desk();
    let fee = fee_due_at_filing(conn, draft.service_id, online_level)?;
    // At the desk the fee is paid there, on paper.
    if fee > 0 && !at_desk {
        let paid: i64 = payments::table
            .filter(payments::draft_id.eq(draft.id))
            .filter(payments::status.eq("paid"))
            .count()
            .get_result(conn)?;
        if paid == 0 {
            return Err(SubmitError::PaymentDue(fee));
        }
    }
    let user = super::users::find_by_id(conn, input.user_id)?.ok_or(SubmitError::NoDraft)?;
    // Who applies: the citizen's verified account, or, at the desk, the person the officer
    // entered (linked to their account when one has this identity number).
    let (applicant_name, applicant_cccd, applicant_user) = if at_desk {
        let cccd = clean.get("applicant_cccd").cloned().unwrap_or_default();
        let account = super::users::find_citizen_by_cccd(conn, &cccd)?;
        (
            clean.get("applicant_name").cloned().unwrap_or_default(),
            cccd,
            account,
        )
    } else {
        (
            user.full_name.clone(),
            user.cccd.clone().unwrap_or_default(),
            Some(user.id),
        )
    };
    let (office_id, office_name) = agencies::table
        .find(draft.agency_id)
        .select((agencies::office_id, agencies::name))
        .first::<(String, String)>(conn)?;
    let route_note = match draft.rule_id {
        Some(id) => super::directory::rule_note(conn, id)
            .optional()?
            .unwrap_or_default(),
        None => String::new(),
    };
    let sequence = next_sequence(conn, draft.agency_id, today)?;
    let code = DossierCode::new(
        &office_id,
        today,
        u32::try_from(sequence).unwrap_or(u32::MAX),
    )
    .map_err(|_| SubmitError::DailyLimit)?
    .to_string();
    let cal = super::calendar::calendar_for(conn, draft.agency_id)?;
    let local_now = calendar::to_local(input.now);
    let clock_starts_at = calendar::to_utc(cal.counting_starts(local_now));
    let limit = online_time_limit(conn, draft.service_id)?;
    let due_at = limit
        .as_ref()
        .map(|(l, _)| calendar::to_utc(cal.due(local_now, *l)));
    let answer_json = serde_json::to_string(&clean).map_err(|e| SubmitError::Db(e.into()))?;
    let form_json = serde_json::to_string(&form).map_err(|e| SubmitError::Db(e.into()))?;
    let form_json = snapshot_form(conn, &form_json, input.now)?;
    let applicant_email = clean.get("applicant_email").cloned().unwrap_or_default();
    let dossier_id: i64 = diesel::insert_into(dossiers::table)
        .values((
            dossiers::code.eq(&code),
            dossiers::draft_public_id.eq(Some(&draft.public_id)),
            dossiers::agency_id.eq(draft.agency_id),
            dossiers::service_id.eq(draft.service_id),
            dossiers::service_version.eq(service_version),
            dossiers::user_id.eq(applicant_user),
            dossiers::channel.eq(channel.as_str()),
            dossiers::status.eq(i32::from(Status::Submitted.code())),
            dossiers::level.eq(draft.level.as_str()),
            dossiers::province_code.eq(&draft.province_code),
            dossiers::ward_code.eq(&draft.ward_code),
            dossiers::rule_id.eq(draft.rule_id),
            dossiers::route_note.eq(&route_note),
            dossiers::form_version.eq(draft.form_version),
            dossiers::form_definition.eq(&form_json),
            dossiers::answers.eq(&answer_json),
            dossiers::applicant_name.eq(&applicant_name),
            dossiers::applicant_cccd.eq(&applicant_cccd),
            dossiers::applicant_phone.eq(clean
                .get("applicant_phone")
                .map(String::as_str)
                .unwrap_or("")),
            dossiers::applicant_email.eq(&applicant_email),
            dossiers::applicant_address.eq(clean
                .get("applicant_address")
                .map(String::as_str)
                .unwrap_or("")),
            dossiers::fee_vnd.eq(online_fee(conn, draft.service_id)?.unwrap_or(0)),
            dossiers::time_limit.eq(limit.map(|(_, t)| t).unwrap_or_default()),
            dossiers::submitted_at.eq(input.now),
            dossiers::clock_starts_at.eq(clock_starts_at),
            dossiers::due_at.eq(due_at),
            dossiers::lock_version.eq(0),
            dossiers::updated_at.eq(input.now),
            dossiers::stage.eq(Status::Submitted.stage().code()),
            dossiers::assigned_to.eq(super::workspace::auto_assignee(conn, draft.agency_id)?),
            dossiers::applicant_key.eq(crate::search::fold(&applicant_name)),
        ))
        .returning(dossiers::id)
        .get_result(conn)?;
    super::workspace::bump(conn, draft.agency_id, Status::Submitted.stage().code(), 1)?;
    let event_row: i64 = diesel::insert_into(dossier_events::table)
        .values((
            dossier_events::dossier_id.eq(dossier_id),
            dossier_events::at.eq(input.now),
            dossier_events::actor_id.eq(Some(user.id)),
            dossier_events::action.eq("submit"),
            dossier_events::from_status.eq(None::<i32>),
            dossier_events::to_status.eq(i32::from(Status::Submitted.code())),
            dossier_events::note.eq(""),
            dossier_events::internal.eq(false),
        ))
        .returning(dossier_events::id)
        .get_result(conn)?;
    super::stats::refresh(conn, dossier_id, input.now)?;
    super::webhooks::enqueue(conn, dossier_id, event_row, input.now)?;
    diesel::update(attachments::table.filter(attachments::draft_id.eq(draft.id)))
        .set((
            attachments::dossier_id.eq(Some(dossier_id)),
            attachments::draft_id.eq(None::<i64>),
        ))
        .execute(conn)?;
    diesel::update(payments::table.filter(payments::draft_id.eq(draft.id)))
        .set((
            payments::dossier_id.eq(Some(dossier_id)),
            payments::draft_id.eq(None::<i64>),
        ))
        .execute(conn)?;
    diesel::delete(super::schema::drafts::table.find(draft.id)).execute(conn)?;
    let submitted = Submitted {
        code,
        service_code,
        service_name,
        office_name,
        office_id,
        applicant_name: applicant_name.clone(),
        applicant_email: applicant_email.clone(),
        submitted_at: input.now,
        due_at,
    };
    let email = (input.email)(&submitted).map_err(SubmitError::Db)?;
    // A walk-in applicant may have no email: the receipt slip is printed at the desk.
    if !applicant_email.is_empty() {
        super::outbox::enqueue(conn, &applicant_email, &email, input.now)?;
    }
    Ok(submitted)
}

/// A move of a dossier through its lifecycle (see `domain::lifecycle`).
pub struct Move<'a> {
    pub code: &'a str,
    pub action: crate::domain::lifecycle::Action,
    pub actor: crate::domain::lifecycle::Actor,
    pub actor_id: Option<i64>,
    /// The `lock_version` the person saw: another move since then is a conflict.
    pub seen_version: i32,
    pub note: &'a str,
    /// UTC.
    pub now: NaiveDateTime,
    /// Whether the actor may see this dossier (the citizen's own, an office's staff): a dossier
    /// outside it is "not found".
    pub in_scope: &'a dyn Fn(&Dossier) -> bool,
    /// The email telling the citizen, for the outbox.
    pub email: &'a dyn Fn(&Dossier, Status) -> anyhow::Result<RenderedEmail>,
}

#[derive(Debug)]
pub enum MoveError {
    NotFound,
    Refused(crate::domain::lifecycle::Refusal),
    /// The action must say why (a reason, the missing items).
    NoteRequired,
    /// Someone moved it first: its status now.
    Conflict(Status),
    /// A workspace rule refused it: the message key saying why.
    Other(&'static str),
    Db(anyhow::Error),
}

impl From<diesel::result::Error> for MoveError {
    fn from(e: diesel::result::Error) -> Self {
        MoveError::Db(e.into())
    }
}

/// Applies a move in one transaction: the check, the status with optimistic concurrency, the
/// clock (paused while the citizen is asked for something, restarted in full when they answer
/// a supplement request), the timeline event, and the citizen's email in the outbox.
pub fn apply_move(conn: &mut DbConnection, m: &Move) -> Result<Dossier, MoveError> {
    super::transaction(conn, |conn| {
        let d = find_by_code(conn, m.code)?
            .filter(|d| (m.in_scope)(d))
            .ok_or(MoveError::NotFound)?;
        let note = m.note.trim();
        if m.action.needs_note() && note.is_empty() {
            return Err(MoveError::NoteRequired);
        }
        if d.lock_version != m.seen_version {
            return Err(MoveError::Conflict(d.status));
        }
        let to = crate::domain::lifecycle::transition(d.status, m.action, m.actor)
            .map_err(MoveError::Refused)?;
        let mut due_at = d.due_at;
        let mut clock_starts_at = d.clock_starts_at;
        if m.action == crate::domain::lifecycle::Action::Supplement {
            // The time limit restarts when the dossier is complete (domain.md §3).
            let cal = super::calendar::calendar_for(conn, d.agency_id)?;
            let local = calendar::to_local(m.now);
            clock_starts_at = calendar::to_utc(cal.counting_starts(local));
            if let Some(limit) = parse_time_limit(&d.time_limit) {
                due_at = Some(calendar::to_utc(cal.due(local, limit)));
            }
        }
        if m.action == crate::domain::lifecycle::Action::Pay
            && let Some(due) = due_at
        {
            // Waiting for the payment did not count: the due date moves by the working days
            // the clock was paused.
            let since: Option<NaiveDateTime> = dossier_events::table
                .filter(dossier_events::dossier_id.eq(d.id))
                .filter(dossier_events::to_status.eq(i32::from(d.status.code())))
                .order(dossier_events::id.desc())
                .select(dossier_events::at)
                .first(conn)
                .optional()?;
            if let Some(since) = since {
                let cal = super::calendar::calendar_for(conn, d.agency_id)?;
                let paused = cal.working_days_between(
                    calendar::to_local(since).date(),
                    calendar::to_local(m.now).date(),
                );
                let local_due = calendar::to_local(due);
                due_at = Some(calendar::to_utc(
                    cal.add_working_days(local_due.date(), paused)
                        .and_time(local_due.time()),
                ));
            }
        }
        let changed = diesel::update(
            dossiers::table
                .find(d.id)
                .filter(dossiers::lock_version.eq(m.seen_version)),
        )
        .set((
            dossiers::stage.eq(to.stage().code()),
            dossiers::status.eq(i32::from(to.code())),
            dossiers::lock_version.eq(m.seen_version + 1),
            dossiers::clock_starts_at.eq(clock_starts_at),
            dossiers::due_at.eq(due_at),
            dossiers::updated_at.eq(m.now),
        ))
        .execute(conn)?;
        if changed == 0 {
            let now_status = find_by_code(conn, m.code)?.map_or(d.status, |x| x.status);
            return Err(MoveError::Conflict(now_status));
        }
        if d.stage != to.stage().code() {
            super::workspace::bump(conn, d.agency_id, d.stage, -1)?;
            super::workspace::bump(conn, d.agency_id, to.stage().code(), 1)?;
        }
        let event_row: i64 = diesel::insert_into(dossier_events::table)
            .values((
                dossier_events::dossier_id.eq(d.id),
                dossier_events::at.eq(m.now),
                dossier_events::actor_id.eq(m.actor_id),
                dossier_events::action.eq(m.action.as_str()),
                dossier_events::from_status.eq(Some(i32::from(d.status.code()))),
                dossier_events::to_status.eq(i32::from(to.code())),
                dossier_events::note.eq(note),
                dossier_events::internal.eq(false),
            ))
            .returning(dossier_events::id)
            .get_result(conn)?;
        super::stats::refresh(conn, d.id, m.now)?;
        super::webhooks::enqueue(conn, d.id, event_row, m.now)?;
        let moved = Dossier {
            status: to,
            stage: to.stage().code(),
            lock_version: m.seen_version + 1,
            clock_starts_at,
            due_at,
            updated_at: m.now,
            ..d
        };
        let detail = format!("{} {}→{}", m.action.as_str(), d.status.code(), to.code());
        super::audit::record(
            conn,
            &super::audit::Entry::new(
                m.actor_id,
                crate::domain::audit::AuditEvent::DossierAction,
                &moved.code,
                "",
                m.now,
            )
            .detail(&detail),
        )?;
        if !moved.applicant_email.is_empty() {
            let email = (m.email)(&moved, to).map_err(MoveError::Db)?;
            super::outbox::enqueue(conn, &moved.applicant_email, &email, m.now)?;
        }
        Ok(moved)
    })
}

/// The limit stored on a dossier (`unit:amount`, as `online_time_limit` wrote it).
pub fn parse_time_limit(stored: &str) -> Option<TimeLimit> {
    let (unit, amount) = stored.split_once(':')?;
    TimeLimit::from_record(amount.parse().ok()?, unit)
}

/// The newest dossiers of some offices (the workspace's first queue).
pub fn of_offices(
    conn: &mut DbConnection,
    offices: &[i64],
    limit: i64,
) -> QueryResult<Vec<Dossier>> {
    dossiers::table
        .filter(dossiers::agency_id.eq_any(offices))
        .order(dossiers::id.desc())
        .limit(limit)
        .select(Dossier::as_select())
        .load(conn)
}

/// The person's own dossier by code; None for anyone else's.
pub fn find_own(conn: &mut DbConnection, code: &str, user_id: i64) -> QueryResult<Option<Dossier>> {
    dossiers::table
        .filter(dossiers::code.eq(code))
        .filter(dossiers::user_id.eq(user_id))
        .select(Dossier::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Dossier>> {
    dossiers::table
        .filter(dossiers::code.eq(code))
        .select(Dossier::as_select())
        .first(conn)
        .optional()
}

/// One event of the timeline the citizen sees.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = dossier_events)]
pub struct Event {
    pub at: NaiveDateTime,
    pub action: String,
    pub from_status: Option<i32>,
    pub to_status: i32,
    pub note: String,
}

/// The public timeline (internal notes excluded), oldest first.
pub fn timeline(conn: &mut DbConnection, dossier_id: i64) -> QueryResult<Vec<Event>> {
    dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier_id))
        .filter(dossier_events::internal.eq(false))
        .order(dossier_events::id)
        .select(Event::as_select())
        .load(conn)
}

/// A dossier in "Hồ sơ của tôi".
#[derive(Debug, Clone, Serialize)]
pub struct DossierSummary {
    pub code: String,
    pub service_code: String,
    pub service_name: String,
    pub office_name: String,
    pub status: Status,
    pub submitted_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
}

pub fn list_own(
    conn: &mut DbConnection,
    user_id: i64,
    limit: i64,
) -> QueryResult<Vec<DossierSummary>> {
    let rows: Vec<SummaryRow> = dossiers::table
        .inner_join(services::table)
        .inner_join(agencies::table)
        .filter(dossiers::user_id.eq(user_id))
        .order(dossiers::submitted_at.desc())
        .limit(limit)
        .select((
            dossiers::code,
            services::code,
            services::name,
            agencies::name,
            dossiers::status,
            dossiers::submitted_at,
            dossiers::due_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(code, service_code, service_name, office_name, status, submitted_at, due_at)| {
                Ok(DossierSummary {
                    code,
                    service_code,
                    service_name,
                    office_name,
                    status: Status::try_from(status)
                        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
                    submitted_at,
                    due_at,
                })
            },
        )
        .collect()
}

/// Names for showing a dossier: the service and the office.
pub fn names(conn: &mut DbConnection, d: &Dossier) -> QueryResult<(String, String, String)> {
    let (service_name, service_code) = services::table
        .find(d.service_id)
        .select((services::name, services::code))
        .first::<(String, String)>(conn)?;
    let office_name = agencies::table
        .find(d.agency_id)
        .select(agencies::name)
        .first::<String>(conn)?;
    Ok((service_code, service_name, office_name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_applicant_form_is_valid() {
        let json = serde_json::to_string(&super::applicant_form()).expect("json");
        let def = crate::domain::form_schema::FormDefinition::from_json(&json).expect("valid");
        assert_eq!(def.sections[0].fields.len(), 3);
    }

    #[test]
    fn the_desk_applicant_form_is_valid() {
        let def = crate::domain::form_schema::FormDefinition::from_json(super::COUNTER_APPLICANT)
            .expect("valid");
        assert_eq!(def.sections[0].fields.len(), 5);
        assert_eq!(def.sections[0].fields[0].key, "applicant_name");
    }
}
