//! What the citizen does to a filed dossier from "Hồ sơ của tôi": answer a supplement request
//! (files and a note; the clock restarts), ask to withdraw, download the result (the first
//! download of an electronic result delivers it), and rate the dossier once it is delivered.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::TryStreamExt;
use serde::Deserialize;

use super::apply::documents::{Received, UploadRefusal, receive, refusal_key};
use super::apply::{new_public_id, now, require_citizen};
use super::auth::{Authenticated, SessionUser, check_csrf};
use super::redirect::see_other;
use super::{AppState, lang_of, with_db};
use crate::db::attachments::{self, NewAttachment};
use crate::db::dossiers::{self, Dossier, Move, MoveError};
use crate::db::results::{self, RatingRefusal};
use crate::domain::dossier::DossierCode;
use crate::domain::lifecycle::{Action, Actor};
use crate::domain::rating::{COMMENT_MAX, Scores};
use crate::domain::status::Status;
use crate::error::AppError;
use crate::i18n::Lang;

/// Files one supplement may carry.
pub const SUPPLEMENT_FILES: usize = 10;
pub const NOTE_MAX: usize = 4000;

fn parse_code(raw: &str) -> Result<String, AppError> {
    Ok(DossierCode::parse(raw)
        .map_err(|_| AppError::NotFound)?
        .to_string())
}

/// The citizen's dossier page again with a message (what went wrong, the rest as it is).
async fn again(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    s: &SessionUser,
    code: &str,
    key: &'static str,
    status: StatusCode,
    kept_note: &str,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let text = state.messages.text(lang, key).to_string();
    super::tracking::dossier_page(state, req, s, code, Some(text), kept_note, status).await
}

fn email_for<'a>(
    state: &'a AppState,
    note: &'a str,
) -> impl Fn(&Dossier, Status) -> anyhow::Result<crate::mail::RenderedEmail> + 'a {
    move |d: &Dossier, st: Status| {
        crate::mail::dossier_status(
            &state.tera,
            &state.messages,
            &state.settings.public_url,
            Lang::Vi,
            d,
            st,
            note,
        )
    }
}

/// POST `/dossiers/{code}/supplement` (multipart: `_csrf`, `version`, `note`, then `file`
/// fields): everything asked for, in one answer; the dossier goes back to processing and the
/// time limit restarts.
pub async fn supplement(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    code: web::Path<String>,
    mut payload: Multipart,
) -> Result<HttpResponse, AppError> {
    require_citizen(&s)?;
    let code = parse_code(&code)?;
    let user_id = s.user.id;
    let c = code.clone();
    // Only the applicant's own dossier, and only while a supplement is asked for: nothing is
    // stored otherwise.
    let d = with_db(&state, "find a dossier to supplement", move |conn| {
        dossiers::find_own(conn, &c, user_id)?.ok_or(AppError::NotFound)
    })
    .await?;
    let mut csrf_ok = false;
    let mut version: Option<i32> = None;
    let mut note = String::new();
    let mut files: Vec<Received> = Vec::new();
    let mut refused: Option<UploadRefusal> = None;
    let bad = |_| AppError::BadRequest("upload_err_read");
    let open = d.status == Status::SupplementRequested;
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "_csrf" | "version" | "note" => {
                let mut value = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    if value.len() + chunk.len() > NOTE_MAX * 4 + 16 {
                        return Err(AppError::BadRequest("workspace_note_too_long"));
                    }
                    value.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(value).unwrap_or_default();
                match name.as_str() {
                    "_csrf" => {
                        check_csrf(&req, &value)?;
                        csrf_ok = true;
                    }
                    "version" => version = value.trim().parse().ok(),
                    _ => note = value,
                }
            }
            "file" => {
                if !csrf_ok {
                    return Err(AppError::Csrf);
                }
                let file_name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or("")
                    .to_string();
                if file_name.is_empty() || !open || refused.is_some() {
                    while field.try_next().await.map_err(bad)?.is_some() {}
                    continue;
                }
                if files.len() >= SUPPLEMENT_FILES {
                    refused = Some(UploadRefusal::TooManyFiles);
                    while field.try_next().await.map_err(bad)?.is_some() {}
                    continue;
                }
                match receive(&state, &mut field, file_name).await? {
                    Ok(r) => files.push(r),
                    Err(r) => refused = Some(r),
                }
            }
            _ => while field.try_next().await.map_err(bad)?.is_some() {},
        }
    }
    if !csrf_ok {
        return Err(AppError::Csrf);
    }
    let discard = |files: Vec<Received>| {
        let st = state.clone();
        async move {
            for f in files {
                st.storage.delete(&f.key).await.ok();
            }
        }
    };
    if !open {
        discard(files).await;
        return again(
            &state,
            &req,
            &s,
            &code,
            "lifecycle_wrong_status",
            StatusCode::CONFLICT,
            "",
        )
        .await;
    }
    let note_chars = note.chars().count();
    let problem: Option<(&'static str, StatusCode)> = if let Some(r) = refused {
        Some((refusal_key(r), StatusCode::UNPROCESSABLE_ENTITY))
    } else if note_chars > NOTE_MAX {
        Some(("workspace_note_too_long", StatusCode::UNPROCESSABLE_ENTITY))
    } else if files.is_empty() && note.trim().is_empty() {
        Some(("supplement_empty", StatusCode::UNPROCESSABLE_ENTITY))
    } else if version.is_none() {
        Some(("lifecycle_conflict", StatusCode::CONFLICT))
    } else {
        None
    };
    if let Some((key, status)) = problem {
        discard(files).await;
        let kept: String = note.chars().take(NOTE_MAX).collect();
        return again(&state, &req, &s, &code, key, status, &kept).await;
    }
    let keys: Vec<String> = files.iter().map(|f| f.key.clone()).collect();
    let st = state.clone();
    let c = code.clone();
    let max_total = state.settings.upload_max_dossier_bytes as i64;
    let seen = version.unwrap_or(-1);
    let note_db = note.clone();
    let result = with_db(&state, "supplement a dossier", move |conn| {
        let r = crate::db::transaction(conn, |conn| {
            let d = dossiers::find_own(conn, &c, user_id)?.ok_or(MoveError::NotFound)?;
            let stamp = now();
            for f in &files {
                let public_id = new_public_id();
                let added = attachments::add_to_dossier(
                    conn,
                    &NewAttachment {
                        public_id: &public_id,
                        draft_id: 0,
                        owner_id: user_id,
                        slot: "supplement",
                        file_name: &f.name,
                        content_type: f.kind.mime(),
                        size_bytes: f.size,
                        sha256: &f.sha256,
                        storage_key: &f.key,
                        now: stamp,
                    },
                    d.id,
                    max_total,
                )?;
                if added.is_err() {
                    return Err(MoveError::Other("upload_err_dossier_too_large"));
                }
            }
            let own = |x: &Dossier| x.user_id == Some(user_id);
            let email = email_for(&st, note_db.trim());
            let text = if note_db.trim().is_empty() {
                format!("{} tệp", files.len())
            } else {
                note_db.trim().to_string()
            };
            dossiers::apply_move(
                conn,
                &Move {
                    code: &c,
                    action: Action::Supplement,
                    actor: Actor::Citizen,
                    actor_id: Some(user_id),
                    seen_version: seen,
                    note: &text,
                    now: stamp,
                    in_scope: &own,
                    email: &email,
                },
            )
        });
        Ok(r)
    })
    .await?;
    match result {
        Ok(d) => Ok(see_other(&format!("/dossiers/{}", d.code))),
        Err(e) => {
            for k in keys {
                state.storage.delete(&k).await.ok();
            }
            let kept: String = note.chars().take(NOTE_MAX).collect();
            let (key, status) = move_problem(e)?;
            again(&state, &req, &s, &code, key, status, &kept).await
        }
    }
}

/// What a refused move tells the person, or the error that is not theirs.
fn move_problem(e: MoveError) -> Result<(&'static str, StatusCode), AppError> {
    match e {
        MoveError::NotFound => Err(AppError::NotFound),
        MoveError::Db(e) => Err(AppError::Internal(e)),
        MoveError::Conflict(_) => Ok(("lifecycle_conflict", StatusCode::CONFLICT)),
        MoveError::NoteRequired => {
            Ok(("lifecycle_note_required", StatusCode::UNPROCESSABLE_ENTITY))
        }
        MoveError::Refused(r) => Ok((r.message_key(), StatusCode::CONFLICT)),
        MoveError::Other(k) => Ok((k, StatusCode::UNPROCESSABLE_ENTITY)),
    }
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    version: i32,
    #[serde(default)]
    reason: String,
}

/// POST `/dossiers/{code}/withdraw`: the citizen asks to withdraw (→ 7); the office confirms.
pub async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    code: web::Path<String>,
    body: web::Form<WithdrawForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    require_citizen(&s)?;
    let code = parse_code(&code)?;
    let form = body.into_inner();
    if form.reason.chars().count() > NOTE_MAX {
        let kept: String = form.reason.chars().take(NOTE_MAX).collect();
        return again(
            &state,
            &req,
            &s,
            &code,
            "workspace_note_too_long",
            StatusCode::UNPROCESSABLE_ENTITY,
            &kept,
        )
        .await;
    }
    let user_id = s.user.id;
    let st = state.clone();
    let c = code.clone();
    let reason = form.reason.clone();
    let result = with_db(&state, "ask to withdraw a dossier", move |conn| {
        let own = |x: &Dossier| x.user_id == Some(user_id);
        let email = email_for(&st, reason.trim());
        Ok(dossiers::apply_move(
            conn,
            &Move {
                code: &c,
                action: Action::RequestWithdrawal,
                actor: Actor::Citizen,
                actor_id: Some(user_id),
                seen_version: form.version,
                note: reason.trim(),
                now: now(),
                in_scope: &own,
                email: &email,
            },
        ))
    })
    .await?;
    match result {
        Ok(d) => Ok(see_other(&format!("/dossiers/{}", d.code))),
        Err(e) => {
            let (key, status) = move_problem(e)?;
            again(&state, &req, &s, &code, key, status, &form.reason).await
        }
    }
}

/// GET `/dossiers/{code}/result`: the applicant's result file. The first download of an
/// electronic result delivers it (9 → 10, by the portal).
pub async fn result(
    state: web::Data<AppState>,
    Authenticated(s): Authenticated,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = parse_code(&code)?;
    let user_id = s.user.id;
    let st = state.clone();
    let r = with_db(&state, "download a result", move |conn| {
        let d = dossiers::find_own(conn, &code, user_id)?.ok_or(AppError::NotFound)?;
        let r = results::of_dossier(conn, d.id)?.ok_or(AppError::NotFound)?;
        let stamp = now();
        crate::db::transaction(conn, |conn| {
            if results::mark_downloaded(conn, r.id, stamp)? && d.status == Status::Processed {
                let own = |x: &Dossier| x.user_id == Some(user_id);
                let email = email_for(&st, "");
                match dossiers::apply_move(
                    conn,
                    &Move {
                        code: &d.code,
                        action: Action::Deliver,
                        actor: Actor::System,
                        actor_id: None,
                        seen_version: d.lock_version,
                        note: "",
                        now: stamp,
                        in_scope: &own,
                        email: &email,
                    },
                ) {
                    // Delivered at the desk meanwhile: the download stands.
                    Ok(_) | Err(MoveError::Conflict(_)) | Err(MoveError::Refused(_)) => {}
                    Err(MoveError::Db(e)) => return Err(AppError::Internal(e)),
                    Err(_) => {}
                }
            }
            Ok::<_, AppError>(())
        })?;
        Ok(r)
    })
    .await?;
    super::staff::send_result(&state, &r).await
}

/// POST `/dossiers/{code}/rating`: once, after delivery.
pub async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    code: web::Path<String>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let fields = body.into_inner();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    check_csrf(&req, get("_csrf").unwrap_or(""))?;
    require_citizen(&s)?;
    let code = parse_code(&code)?;
    let comment = get("comment").unwrap_or("").trim().to_string();
    if comment.chars().count() > COMMENT_MAX {
        return again(
            &state,
            &req,
            &s,
            &code,
            "rating_comment_too_long",
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        )
        .await;
    }
    let scores = match Scores::from_answers(|k| get(&format!("r_{k}"))) {
        Ok(s) => s,
        Err(_) => {
            return again(
                &state,
                &req,
                &s,
                &code,
                "rating_incomplete",
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
            )
            .await;
        }
    };
    let user_id = s.user.id;
    let c = code.clone();
    let r = with_db(&state, "rate a dossier", move |conn| {
        let d = dossiers::find_own(conn, &c, user_id)?.ok_or(AppError::NotFound)?;
        Ok(results::rate(conn, &d, user_id, scores, &comment, now())?)
    })
    .await?;
    match r {
        Ok(()) => Ok(see_other(&format!("/dossiers/{code}?rated=1"))),
        Err(RatingRefusal::AlreadyRated) => {
            again(
                &state,
                &req,
                &s,
                &code,
                "rating_already",
                StatusCode::CONFLICT,
                "",
            )
            .await
        }
        Err(RatingRefusal::NotDelivered) => {
            again(
                &state,
                &req,
                &s,
                &code,
                "rating_not_yet",
                StatusCode::CONFLICT,
                "",
            )
            .await
        }
    }
}
