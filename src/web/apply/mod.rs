//! The application journey (GOV.UK patterns, server-rendered, works without JavaScript): choose
//! where to file → a task list (applicant, the form's sections, documents, fee, check answers)
//! → submit. One topic per page, an error summary linking to each wrong field, what was typed
//! kept, "change" links from the check page. Level 1–2 services show where to apply in person.

pub(crate) mod documents;
mod draft;
mod fields;
mod place;

pub use documents::{delete_file, documents, documents_done, download, upload, view as view_file};
pub(crate) use draft::preview_page;
pub use draft::{Row, shown, submitted_email};
pub use draft::{check, delete_draft, delete_draft_form, save_section, section, submit, tasks};
pub use place::{ApiStart, choose_place, start, start_for_api};

use chrono::{NaiveDate, NaiveDateTime, Utc};

use super::AppState;
use super::auth::SessionUser;
use crate::db::attachments::Attachment;
use crate::db::directory::{self, Office};
use crate::db::drafts::{self, Draft};
use crate::db::payments::Payment;
use crate::db::{DbConnection, dossiers, forms};
use crate::domain::account::Role;
use crate::domain::calendar;
use crate::domain::form_schema::{Context, FormDefinition};
use crate::error::AppError;

pub(crate) fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub(crate) fn today() -> NaiveDate {
    calendar::to_local(now()).date()
}

/// Only citizens apply online (staff enter walk-in dossiers at the counter).
/// Who may work on a draft: citizens, and desk officers on the drafts they enter for walk-in
/// applicants (a draft is only ever loaded for its owner).
pub(crate) fn require_applicant(s: &SessionUser) -> Result<(), AppError> {
    if matches!(s.role(), Role::Citizen | Role::Officer | Role::Lead) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub(crate) fn require_citizen(s: &SessionUser) -> Result<(), AppError> {
    if s.role() == Role::Citizen {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A draft with what its pages show.
pub(crate) struct Loaded {
    pub draft: Draft,
    pub service_code: String,
    pub service_name: String,
    pub form: FormDefinition,
    pub office: Office,
    pub attachments: Vec<Attachment>,
    pub fee_due: i64,
    pub payment: Option<Payment>,
}

impl Loaded {
    /// The applicant section this draft uses (the citizen's, or the desk's).
    pub fn applicant_form(&self) -> FormDefinition {
        dossiers::applicant_form_for(self.draft.state().at_desk())
    }

    /// The fee is paid: what was paid for is frozen (the dossier is filed with it).
    pub fn locked(&self) -> bool {
        self.payment
            .as_ref()
            .is_some_and(|p| p.status == crate::db::payments::PaymentStatus::Paid)
    }
}

/// Loads the person's own draft; 404 for anyone else's.
pub(crate) fn load(
    conn: &mut DbConnection,
    public_id: &str,
    user_id: i64,
) -> Result<Loaded, AppError> {
    let draft = drafts::find_own(conn, public_id, user_id)?.ok_or(AppError::NotFound)?;
    let service = dossiers::service_brief(conn, draft.service_id)?;
    let (service_code, service_name, online_level) =
        (service.code, service.name, service.online_level);
    let form = forms::version(
        conn,
        draft.service_id,
        &service_code,
        &service_name,
        draft.form_version,
    )?;
    let office = directory::office_by_id(conn, draft.agency_id)?.ok_or(AppError::NotFound)?;
    let attachments = crate::db::attachments::of_draft(conn, draft.id)?;
    let fee_due = dossiers::fee_due_at_filing(conn, draft.service_id, online_level)?;
    let payment = crate::db::payments::latest_for_draft(conn, draft.id)?;
    Ok(Loaded {
        draft,
        service_code,
        service_name,
        form,
        office,
        attachments,
        fee_due,
        payment,
    })
}

/// Runs `f` with the validation context (today, and the places the portal knows).
pub(crate) fn with_context<T>(state: &AppState, f: impl FnOnce(&Context) -> T) -> T {
    let places = |p: &str, w: Option<&str>| state.places.exists(p, w);
    let ctx = Context {
        today: today(),
        place_exists: &places,
    };
    f(&ctx)
}

/// `/drafts/{id}` and its sub-pages.
pub(crate) fn draft_path(public_id: &str, rest: &str) -> String {
    if rest.is_empty() {
        format!("/drafts/{public_id}")
    } else {
        format!("/drafts/{public_id}/{rest}")
    }
}

pub(crate) use super::view::format_vnd as money;
pub(crate) use crate::i18n::local_time;

pub(crate) fn local_date(t: NaiveDateTime) -> String {
    calendar::to_local(t).format("%d/%m/%Y").to_string()
}

/// The absolute URL of a path, for emails and QR codes.
pub(crate) fn absolute(state: &AppState, path: &str) -> String {
    format!(
        "{}{}",
        state.settings.public_url.trim_end_matches('/'),
        path
    )
}

/// The public id of a new draft or file: 128 random bits, URL-safe.
pub(crate) fn new_public_id() -> String {
    let bytes: [u8; 16] = rand::random();
    data_encoding::BASE32_NOPAD
        .encode(&bytes)
        .to_ascii_lowercase()
}
