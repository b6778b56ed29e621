//! A draft's pages: the task list, one page per section (the applicant's contact details first),
//! check your answers, submit, delete. Answers are saved when a section is complete (normalised);
//! a page with errors keeps what was typed on the page and stores nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::fields::{ErrorLink, error_links, posted_answers, views};
use super::{Loaded, draft_path, load, local_time, money, now, require_applicant, with_context};
use crate::db::dossiers::{self, SubmitError, SubmitInput, Submitted};
use crate::db::drafts;
use crate::domain::form_schema::{
    self, Answers, FieldError, FieldKind, FormDefinition, Progress, Section,
};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::web::account::page;
use crate::web::auth::{Authenticated, check_csrf};
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

/// The applicant section is the portal's own; the form's sections follow.
fn section_of<'a>(
    applicant: &'a FormDefinition,
    form: &'a FormDefinition,
    key: &str,
) -> Option<(&'a FormDefinition, &'a Section)> {
    if key == "applicant" {
        return applicant.sections.first().map(|s| (applicant, s));
    }
    form.sections
        .iter()
        .find(|s| s.key == key)
        .map(|s| (form, s))
}

/// The keys of every page, in order: applicant, the sections.
fn section_keys(form: &FormDefinition) -> Vec<String> {
    std::iter::once("applicant".to_string())
        .chain(form.sections.iter().map(|s| s.key.clone()))
        .collect()
}

#[derive(Serialize)]
struct Task {
    title: String,
    href: Option<String>,
    status: String,
    done: bool,
}

fn documents_done(l: &Loaded) -> bool {
    let answers = &l.draft.state().answers;
    l.form
        .documents_shown(answers)
        .filter(|d| d.required)
        .all(|d| l.attachments.iter().any(|a| a.slot == d.key))
}

fn paid(l: &Loaded) -> bool {
    l.payment
        .as_ref()
        .is_some_and(|p| p.status == crate::db::payments::PaymentStatus::Paid)
}

fn tasks_of(state: &AppState, lang: Lang, l: &Loaded) -> Vec<Task> {
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let st = l.draft.state();
    let applicant = l.applicant_form();
    let mut tasks = Vec::new();
    let mut all_done = true;
    with_context(state, |ctx| {
        for key in section_keys(&l.form) {
            let Some((def, section)) = section_of(&applicant, &l.form, &key) else {
                continue;
            };
            let progress = form_schema::section_progress(
                def,
                section,
                &st.answers,
                ctx,
                st.visited.contains(&key),
            );
            all_done &= progress == Progress::Completed;
            tasks.push(Task {
                title: section.title.get(lang).to_string(),
                href: Some(draft_path(&l.draft.public_id, &format!("sections/{key}"))),
                status: m(match progress {
                    Progress::Completed => "task_completed",
                    Progress::InProgress => "task_in_progress",
                    Progress::NotStarted => "task_not_started",
                }),
                done: progress == Progress::Completed,
            });
        }
    });
    if !l.form.documents.is_empty() {
        let done = documents_done(l) && st.visited.contains("documents");
        all_done &= done;
        tasks.push(Task {
            title: m("task_documents"),
            href: Some(draft_path(&l.draft.public_id, "documents")),
            status: m(if done {
                "task_completed"
            } else if st.visited.contains("documents") {
                "task_in_progress"
            } else {
                "task_not_started"
            }),
            done,
        });
    }
    if l.fee_due > 0 {
        let is_paid = paid(l);
        tasks.push(Task {
            title: format!("{} ({})", m("task_fee"), money(l.fee_due, lang)),
            href: None,
            status: m(if is_paid {
                "task_paid"
            } else {
                "task_pay_at_check"
            }),
            done: is_paid,
        });
    }
    tasks.push(Task {
        title: m("task_check"),
        href: all_done.then(|| draft_path(&l.draft.public_id, "check")),
        status: m(if all_done {
            "task_not_started"
        } else {
            "task_cannot_start"
        }),
        done: false,
    });
    tasks
}

fn header(ctx: &mut tera::Context, l: &Loaded) {
    ctx.insert("draft_id", &l.draft.public_id);
    ctx.insert("service_code", &l.service_code);
    ctx.insert("service_name", &l.service_name);
    ctx.insert("office", &l.office);
    ctx.insert("locked", &l.locked());
}

async fn load_own(
    state: &web::Data<AppState>,
    id: String,
    user_id: i64,
) -> Result<Loaded, AppError> {
    with_db(state, "load a draft", move |conn| load(conn, &id, user_id)).await
}

/// GET `/drafts/{id}`: the task list.
pub async fn tasks(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    require_applicant(&s)?;
    let l = load_own(&state, id.into_inner(), s.user.id).await?;
    let lang = lang_of(&req);
    let tasks = tasks_of(&state, lang, &l);
    page(
        &state,
        &req,
        lang,
        "apply/tasks.html",
        StatusCode::OK,
        |ctx| {
            header(ctx, &l);
            ctx.insert("tasks", &tasks);
            ctx.insert("expires", &local_time(l.draft.expires_at, lang));
        },
    )
}

#[derive(Deserialize)]
pub struct ReturnQuery {
    #[serde(rename = "return")]
    back: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn section_page(
    state: &AppState,
    req: &HttpRequest,
    l: &Loaded,
    key: &str,
    answers: &Answers,
    errors: &[FieldError],
    back_to_check: bool,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let applicant = l.applicant_form();
    let (def, section) = section_of(&applicant, &l.form, key).ok_or(AppError::NotFound)?;
    let links: Vec<ErrorLink> = error_links(state, lang, def, errors);
    let fields = views(state, lang, def, &section.fields, answers, &links, errors);
    let keys = section_keys(&l.form);
    let position = keys.iter().position(|k| k == key).unwrap_or(0);
    page(state, req, lang, "apply/section.html", status, |ctx| {
        header(ctx, l);
        ctx.insert("section_key", key);
        ctx.insert("title", section.title.get(lang));
        ctx.insert(
            "intro",
            &section.intro.as_ref().map(|t| t.get(lang).to_string()),
        );
        ctx.insert(
            "source",
            &(key != "applicant").then_some(l.form.source.as_str()),
        );
        ctx.insert("fields", &fields);
        ctx.insert("errors", &links);
        ctx.insert("step", &(position + 1));
        ctx.insert("steps", &keys.len());
        ctx.insert("back_to_check", &back_to_check);
    })
}

/// GET `/drafts/{id}/sections/{key}`.
pub async fn section(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    path: web::Path<(String, String)>,
    q: web::Query<ReturnQuery>,
) -> Result<HttpResponse, AppError> {
    require_applicant(&s)?;
    let (id, key) = path.into_inner();
    let l = load_own(&state, id, s.user.id).await?;
    let answers = l.draft.state().answers;
    let back = q.back.as_deref() == Some("check");
    section_page(&state, &req, &l, &key, &answers, &[], back, StatusCode::OK)
}

fn value(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// POST `/drafts/{id}/sections/{key}`: checks the page; saves it when it has no error.
pub async fn save_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    path: web::Path<(String, String)>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = body.into_inner();
    check_csrf(&req, &value(&pairs, "_csrf"))?;
    require_applicant(&s)?;
    let (id, key) = path.into_inner();
    let l = load_own(&state, id.clone(), s.user.id).await?;
    if l.locked() {
        return Ok(see_other(&draft_path(&id, "")));
    }
    let applicant = l.applicant_form();
    let (def, section) = section_of(&applicant, &l.form, &key).ok_or(AppError::NotFound)?;
    let mut state_now = l.draft.state();
    let mut merged = state_now.answers.clone();
    merged.extend(posted_answers(&pairs, &section.fields));
    let back = value(&pairs, "_return") == "check";
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if value(&pairs, "_action") == "refresh" {
        return section_page(&state, &req, &l, &key, &merged, &[], back, StatusCode::OK);
    }
    let clean = with_context(&state, |ctx| {
        form_schema::clean_section(def, section, &merged, ctx)
    });
    let clean = match clean {
        Ok(c) => c,
        Err(errors) => {
            return section_page(
                &state,
                &req,
                &l,
                &key,
                &merged,
                &errors,
                back,
                unprocessable,
            );
        }
    };
    for f in &section.fields {
        for k in f.keys() {
            state_now.answers.remove(&k);
        }
    }
    state_now.answers.extend(clean);
    state_now.visited.insert(key.clone());
    let draft_id = l.draft.id;
    with_db(&state, "save a draft", move |conn| {
        drafts::save(conn, draft_id, &state_now, now())?;
        Ok(())
    })
    .await?;
    let keys = section_keys(&l.form);
    let next = if back {
        draft_path(&id, "check")
    } else {
        match keys
            .iter()
            .position(|k| *k == key)
            .and_then(|i| keys.get(i + 1))
        {
            Some(next) => draft_path(&id, &format!("sections/{next}")),
            None if !l.form.documents.is_empty() => draft_path(&id, "documents"),
            None => draft_path(&id, ""),
        }
    };
    Ok(see_other(&next))
}

/// One answer as the check page shows it.
#[derive(Serialize)]
pub struct Row {
    pub label: String,
    pub value: String,
}

#[derive(Serialize)]
struct SectionSummary {
    title: String,
    change: String,
    rows: Vec<Row>,
}

/// The answers of each section as people read them (option labels, dates, places by name).
pub fn shown(
    state: &AppState,
    lang: Lang,
    def: &FormDefinition,
    answers: &Answers,
) -> Vec<Vec<Row>> {
    def.sections
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| def.is_shown(f, answers))
                .map(|f| {
                    let get = |k: &str| answers.get(k).cloned().unwrap_or_default();
                    let value = match f.kind {
                        FieldKind::Address => {
                            let (p, w, st) = (
                                get(&format!("{}.province", f.key)),
                                get(&format!("{}.ward", f.key)),
                                get(&format!("{}.street", f.key)),
                            );
                            if p.is_empty() {
                                String::new()
                            } else {
                                [
                                    st,
                                    state.places.ward_name(&w).to_string(),
                                    state.places.province_name(&p).to_string(),
                                ]
                                .into_iter()
                                .filter(|x| !x.is_empty())
                                .collect::<Vec<_>>()
                                .join(", ")
                            }
                        }
                        FieldKind::Select | FieldKind::Radio => {
                            let v = get(&f.key);
                            f.options
                                .iter()
                                .find(|o| o.value == v)
                                .map(|o| o.label.get(lang).to_string())
                                .unwrap_or(v)
                        }
                        FieldKind::Checkbox => {
                            if get(&f.key) == "true" {
                                state.messages.text(lang, "yes").to_string()
                            } else {
                                state.messages.text(lang, "no").to_string()
                            }
                        }
                        FieldKind::Date => form_schema::parse_date(&get(&f.key))
                            .map(|d| d.format("%d/%m/%Y").to_string())
                            .unwrap_or_default(),
                        FieldKind::Money => form_schema::parse_money(&get(&f.key))
                            .map(|v| money(v, lang))
                            .unwrap_or_default(),
                        _ => get(&f.key),
                    };
                    Row {
                        label: f.label.get(lang).to_string(),
                        value,
                    }
                })
                .collect()
        })
        .collect()
}

#[derive(Serialize)]
struct DocumentRow {
    label: String,
    files: Vec<String>,
}

#[derive(Serialize)]
struct CheckError {
    href: String,
    text: String,
}

fn check_page(
    state: &AppState,
    req: &HttpRequest,
    l: &Loaded,
    errors: &[CheckError],
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let st = l.draft.state();
    let applicant = l.applicant_form();
    let mut sections = Vec::new();
    for (def, key_of) in [(&applicant, true), (&l.form, false)] {
        for (s, rows) in def
            .sections
            .iter()
            .zip(shown(state, lang, def, &st.answers))
        {
            let key = if key_of { "applicant" } else { s.key.as_str() };
            sections.push(SectionSummary {
                title: s.title.get(lang).to_string(),
                change: draft_path(&l.draft.public_id, &format!("sections/{key}?return=check")),
                rows,
            });
        }
    }
    let documents: Vec<DocumentRow> = l
        .form
        .documents_shown(&st.answers)
        .map(|d| DocumentRow {
            label: d.label.get(lang).to_string(),
            files: l
                .attachments
                .iter()
                .filter(|a| a.slot == d.key)
                .map(|a| a.file_name.clone())
                .collect(),
        })
        .collect();
    page(state, req, lang, "apply/check.html", status, |ctx| {
        header(ctx, l);
        ctx.insert("sections", &sections);
        ctx.insert("documents", &documents);
        ctx.insert("has_documents", &!l.form.documents.is_empty());
        ctx.insert("fee", &(l.fee_due > 0).then(|| money(l.fee_due, lang)));
        ctx.insert("paid", &paid(l));
        ctx.insert("errors", errors);
    })
}

/// GET `/drafts/{id}/check`.
pub async fn check(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    require_applicant(&s)?;
    let l = load_own(&state, id.into_inner(), s.user.id).await?;
    check_page(&state, &req, &l, &[], StatusCode::OK)
}

/// The confirmation email.
pub fn submitted_email(
    state: &AppState,
    lang: Lang,
    s: &Submitted,
) -> anyhow::Result<crate::mail::RenderedEmail> {
    crate::mail::dossier_submitted(&state.tera, &state.settings.public_url, lang, s)
}

/// Turns a refused submission into the check page's error summary.
fn incomplete_errors(
    state: &AppState,
    lang: Lang,
    l: &Loaded,
    fields: &[FieldError],
    documents: &[String],
) -> Vec<CheckError> {
    let applicant = l.applicant_form();
    let mut out = Vec::new();
    for e in fields {
        let (def, section) = if applicant.field(&e.key).is_some() {
            (&applicant, "applicant".to_string())
        } else {
            let section = l
                .form
                .sections
                .iter()
                .find(|s| s.fields.iter().any(|f| f.key == e.key))
                .map(|s| s.key.clone())
                .unwrap_or_default();
            (&l.form, section)
        };
        let link = &error_links(state, lang, def, std::slice::from_ref(e))[0];
        out.push(CheckError {
            href: draft_path(
                &l.draft.public_id,
                &format!("sections/{section}?return=check#f-{}", link.key),
            ),
            text: link.text.clone(),
        });
    }
    for d in documents {
        let label = l
            .form
            .documents
            .iter()
            .find(|x| &x.key == d)
            .map(|x| x.label.get(lang).to_string())
            .unwrap_or_default();
        out.push(CheckError {
            href: draft_path(&l.draft.public_id, &format!("documents#slot-{d}")),
            text: state
                .messages
                .text(lang, "form_err_document")
                .replace("{label}", &label),
        });
    }
    out
}

/// POST `/drafts/{id}/submit`.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
    body: web::Form<crate::web::auth::CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    require_applicant(&s)?;
    let id = id.into_inner();
    let lang = lang_of(&req);
    let user_id = s.user.id;
    let st = state.clone();
    let draft_id = id.clone();
    let result = with_db(&state, "submit a dossier", move |conn| {
        let places = |p: &str, w: Option<&str>| st.places.exists(p, w);
        let email = |sub: &Submitted| submitted_email(&st, lang, sub);
        Ok(dossiers::submit(
            conn,
            &SubmitInput {
                draft_public_id: &draft_id,
                user_id,
                now: now(),
                place_exists: &places,
                email: &email,
            },
        ))
    })
    .await?;
    // The desk goes on to the dossier in its workspace (and prints the receipt slip there).
    let desk = s.role() != crate::domain::account::Role::Citizen;
    match result {
        Ok(sub) if desk => Ok(see_other(&format!("/staff/dossiers/{}?new=1", sub.code))),
        Ok(sub) => Ok(see_other(&format!("/dossiers/{}?new=1", sub.code))),
        Err(SubmitError::AlreadySubmitted(code)) if desk => {
            Ok(see_other(&format!("/staff/dossiers/{code}")))
        }
        Err(SubmitError::AlreadySubmitted(code)) => Ok(see_other(&format!("/dossiers/{code}"))),
        Err(SubmitError::NoDraft) => Err(AppError::NotFound),
        Err(SubmitError::Db(e)) => Err(AppError::Internal(e)),
        Err(SubmitError::Incomplete { fields, documents }) => {
            let l = load_own(&state, id, user_id).await?;
            let errors = incomplete_errors(&state, lang, &l, &fields, &documents);
            check_page(&state, &req, &l, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(SubmitError::PaymentDue(_)) => {
            let l = load_own(&state, id, user_id).await?;
            let errors = [CheckError {
                href: "#pay".into(),
                text: state.messages.text(lang, "apply_pay_first").to_string(),
            }];
            check_page(&state, &req, &l, &errors, StatusCode::PAYMENT_REQUIRED)
        }
        // 9,999 codes a day per office: the code's four digits are used up.
        Err(SubmitError::DailyLimit) => Err(AppError::BadRequest("apply_daily_limit")),
    }
}

/// GET `/drafts/{id}/delete`: are you sure?
pub async fn delete_draft_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    require_applicant(&s)?;
    let l = load_own(&state, id.into_inner(), s.user.id).await?;
    let lang = lang_of(&req);
    page(
        &state,
        &req,
        lang,
        "apply/delete.html",
        StatusCode::OK,
        |ctx| {
            header(ctx, &l);
        },
    )
}

/// POST `/drafts/{id}/delete`: the draft and its files go.
pub async fn delete_draft(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
    body: web::Form<crate::web::auth::CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    require_applicant(&s)?;
    let id = id.into_inner();
    let user_id = s.user.id;
    let keys = with_db(&state, "delete a draft", move |conn| {
        crate::db::transaction(conn, |conn| {
            let draft = drafts::find_own(conn, &id, user_id)?.ok_or(AppError::NotFound)?;
            Ok(drafts::delete(conn, draft.id)?)
        })
    })
    .await?;
    for key in keys {
        if let Err(e) = state.storage.delete(&key).await {
            tracing::warn!(error = %e, key, "a deleted draft's file could not be removed");
        }
    }
    Ok(see_other("/my?deleted=1"))
}

/// A section of `form` as the citizen sees it, for an administrator's preview: the same
/// template and field views, posting to `action` (which answers with the same errors a citizen
/// would get). `posted`: the answers sent, to check them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn preview_page(
    state: &AppState,
    req: &HttpRequest,
    form: &FormDefinition,
    service: (&str, &str),
    key: &str,
    posted: Option<&[(String, String)]>,
    action: &str,
    back: &str,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let section = form
        .sections
        .iter()
        .find(|s| s.key == key)
        .ok_or(AppError::NotFound)?;
    let answers = posted
        .map(|p| posted_answers(p, &section.fields))
        .unwrap_or_default();
    let errors = match posted {
        Some(_) => with_context(state, |ctx| {
            form_schema::validate_section(form, section, &answers, ctx)
        }),
        None => Vec::new(),
    };
    let links: Vec<ErrorLink> = error_links(state, lang, form, &errors);
    let fields = views(
        state,
        lang,
        form,
        &section.fields,
        &answers,
        &links,
        &errors,
    );
    let position = form.sections.iter().position(|s| s.key == key).unwrap_or(0);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let prefix = action.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let next = form
        .sections
        .get(position + 1)
        .map(|s| format!("{prefix}/{}", s.key));
    page(state, req, lang, "apply/section.html", status, |ctx| {
        ctx.insert("draft_id", "");
        ctx.insert("service_code", service.0);
        ctx.insert("service_name", service.1);
        ctx.insert("office", &None::<String>);
        ctx.insert("locked", &false);
        ctx.insert("section_key", key);
        ctx.insert("title", section.title.get(lang));
        ctx.insert(
            "intro",
            &section.intro.as_ref().map(|t| t.get(lang).to_string()),
        );
        ctx.insert("source", &Some(form.source.as_str()));
        ctx.insert("fields", &fields);
        ctx.insert("errors", &links);
        ctx.insert("step", &(position + 1));
        ctx.insert("steps", &form.sections.len());
        ctx.insert("back_to_check", &false);
        ctx.insert("preview_action", action);
        ctx.insert("preview_back", back);
        ctx.insert("preview_next", &next);
    })
}
