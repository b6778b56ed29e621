//! Documents of a draft: one upload form per document slot (several files each), streamed to
//! storage as the bytes arrive (never a whole file in memory), the type recognised from the
//! bytes (PDF, JPEG, PNG; a renamed .exe is refused, so is an empty or cut-off file), the
//! SHA-256 kept; and downloads, only for the applicant and the handling office's staff.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Loaded, draft_path, load, new_public_id, now, require_applicant};
use crate::db::attachments::{self, NewAttachment, Refusal};
use crate::db::drafts;
use crate::error::AppError;
use crate::storage::{FileType, sanitise_file_name};
use crate::web::account::page;
use crate::web::auth::{Authenticated, check_csrf};
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

#[derive(Serialize)]
struct FileView {
    public_id: String,
    name: String,
    size: String,
}

#[derive(Serialize)]
struct SlotView {
    key: String,
    label: String,
    help: Option<String>,
    required: bool,
    files: Vec<FileView>,
    can_add: bool,
    error: Option<String>,
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MB", bytes / (1024 * 1024))
    } else if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn documents_page(
    state: &AppState,
    req: &HttpRequest,
    l: &Loaded,
    error: Option<(&str, String)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let answers = l.draft.state().answers;
    let slots: Vec<SlotView> = l
        .form
        .documents_shown(&answers)
        .map(|d| {
            let files: Vec<FileView> = l
                .attachments
                .iter()
                .filter(|a| a.slot == d.key)
                .map(|a| FileView {
                    public_id: a.public_id.clone(),
                    name: a.file_name.clone(),
                    size: size_text(a.size_bytes),
                })
                .collect();
            SlotView {
                key: d.key.clone(),
                label: d.label.get(lang).to_string(),
                help: d.help.as_ref().map(|h| h.get(lang).to_string()),
                required: d.required,
                can_add: files.len() < d.max_files as usize && !l.locked(),
                files,
                error: error
                    .as_ref()
                    .filter(|(slot, _)| *slot == d.key)
                    .map(|(_, e)| e.clone()),
            }
        })
        .collect();
    let max_mb = size_text(state.settings.upload_max_file_bytes as i64);
    let total_mb = size_text(state.settings.upload_max_dossier_bytes as i64);
    page(state, req, lang, "apply/documents.html", status, |ctx| {
        ctx.insert("draft_id", &l.draft.public_id);
        ctx.insert("service_code", &l.service_code);
        ctx.insert("service_name", &l.service_name);
        ctx.insert("office", &l.office);
        ctx.insert("locked", &l.locked());
        ctx.insert("slots", &slots);
        ctx.insert("error", &error.map(|(slot, text)| (slot.to_string(), text)));
        ctx.insert(
            "limits",
            &state
                .messages
                .text(lang, "upload_limits")
                .replace("{file}", &max_mb)
                .replace("{total}", &total_mb),
        );
    })
}

/// GET `/drafts/{id}/documents`.
pub async fn documents(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    require_applicant(&s)?;
    let id = id.into_inner();
    let user_id = s.user.id;
    let l = with_db(&state, "load a draft", move |conn| load(conn, &id, user_id)).await?;
    documents_page(&state, &req, &l, None, StatusCode::OK)
}

/// Why an upload was refused, as a message key.
pub(crate) fn refusal_key(r: UploadRefusal) -> &'static str {
    match r {
        UploadRefusal::Empty => "upload_err_empty",
        UploadRefusal::TooLarge => "upload_err_too_large",
        UploadRefusal::WrongType => "upload_err_type",
        UploadRefusal::Truncated => "upload_err_truncated",
        UploadRefusal::TooManyFiles => "upload_err_too_many",
        UploadRefusal::DossierTooLarge => "upload_err_dossier_too_large",
        UploadRefusal::NoFile => "upload_err_no_file",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadRefusal {
    NoFile,
    Empty,
    TooLarge,
    WrongType,
    Truncated,
    TooManyFiles,
    DossierTooLarge,
}

/// What was received of the file.
pub(crate) struct Received {
    pub key: String,
    pub name: String,
    pub kind: FileType,
    pub size: i64,
    pub sha256: String,
}

const TAIL: usize = 1024;

/// Streams the `file` field to storage, checking size and type as it goes.
pub(crate) async fn receive(
    state: &AppState,
    field: &mut actix_multipart::Field,
    file_name: String,
) -> Result<Result<Received, UploadRefusal>, AppError> {
    let key = format!("att/{}", new_public_id());
    let mut upload = state
        .storage
        .begin(&key)
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("opening storage")))?;
    let max = state.settings.upload_max_file_bytes as i64;
    let mut size: i64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(16);
    let mut tail: Vec<u8> = Vec::with_capacity(TAIL * 2);
    let mut hasher = Sha256::new();
    let mut refused = None;
    loop {
        let chunk = match field.try_next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => {
                upload.abort().await;
                return Err(AppError::BadRequest("upload_err_read"));
            }
        };
        if refused.is_some() {
            // Keep reading so the answer reaches the browser; nothing more is stored.
            continue;
        }
        size += chunk.len() as i64;
        if size > max {
            refused = Some(UploadRefusal::TooLarge);
            continue;
        }
        if head.len() < 16 {
            head.extend(chunk.iter().take(16 - head.len()));
            if head.len() >= 8 && FileType::sniff(&head).is_none() {
                refused = Some(UploadRefusal::WrongType);
                continue;
            }
        }
        hasher.update(&chunk);
        tail.extend_from_slice(&chunk);
        if tail.len() > TAIL {
            tail.drain(..tail.len() - TAIL);
        }
        if let Err(e) = upload.write(&chunk).await {
            upload.abort().await;
            return Err(AppError::Internal(
                anyhow::Error::new(e).context("writing an upload"),
            ));
        }
    }
    let kind = FileType::sniff(&head);
    let refused = refused.or(match kind {
        _ if size == 0 => Some(UploadRefusal::Empty),
        None => Some(UploadRefusal::WrongType),
        Some(k) if !k.complete(&tail) => Some(UploadRefusal::Truncated),
        Some(_) => None,
    });
    let (Some(kind), None) = (kind, refused) else {
        upload.abort().await;
        return Ok(Err(refused.unwrap_or(UploadRefusal::WrongType)));
    };
    upload
        .finish()
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("finishing an upload")))?;
    Ok(Ok(Received {
        key,
        name: sanitise_file_name(&file_name, kind),
        kind,
        size,
        sha256: data_encoding::HEXLOWER.encode(&hasher.finalize()),
    }))
}

/// POST `/drafts/{id}/documents` (multipart: `_csrf`, `slot`, then `file`).
pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
    mut payload: Multipart,
) -> Result<HttpResponse, AppError> {
    require_applicant(&s)?;
    let id = id.into_inner();
    let user_id = s.user.id;
    let (draft_public, uid) = (id.clone(), user_id);
    let l = with_db(&state, "load a draft", move |conn| {
        load(conn, &draft_public, uid)
    })
    .await?;
    let mut csrf_ok = false;
    let mut slot = String::new();
    let mut outcome: Option<Result<Received, UploadRefusal>> = None;
    let bad = |_| AppError::BadRequest("upload_err_read");
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "_csrf" | "slot" => {
                let mut value = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    if value.len() + chunk.len() > 256 {
                        return Err(AppError::BadRequest("upload_err_read"));
                    }
                    value.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(value).unwrap_or_default();
                if name == "_csrf" {
                    check_csrf(&req, &value)?;
                    csrf_ok = true;
                } else {
                    slot = value;
                }
            }
            "file" => {
                // The token and the slot come first in the form: nothing is stored unchecked.
                if !csrf_ok {
                    return Err(AppError::Csrf);
                }
                let shown = l
                    .form
                    .documents_shown(&l.draft.state().answers)
                    .any(|d| d.key == slot);
                if !shown || l.locked() {
                    return Err(AppError::BadRequest("upload_err_slot"));
                }
                let file_name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or("")
                    .to_string();
                if file_name.is_empty() {
                    // A form sent without choosing a file.
                    while field.try_next().await.map_err(bad)?.is_some() {}
                    outcome = Some(Err(UploadRefusal::NoFile));
                } else {
                    outcome = Some(receive(&state, &mut field, file_name).await?);
                }
            }
            _ => while field.try_next().await.map_err(bad)?.is_some() {},
        }
    }
    if !csrf_ok {
        return Err(AppError::Csrf);
    }
    let lang = lang_of(&req);
    let refuse = |r: UploadRefusal| {
        let text = state
            .messages
            .text(lang, refusal_key(r))
            .replace(
                "{file}",
                &size_text(state.settings.upload_max_file_bytes as i64),
            )
            .replace(
                "{total}",
                &size_text(state.settings.upload_max_dossier_bytes as i64),
            );
        documents_page(
            &state,
            &req,
            &l,
            Some((slot.as_str(), text)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let received = match outcome {
        None => return refuse(UploadRefusal::NoFile),
        Some(Err(r)) => return refuse(r),
        Some(Ok(r)) => r,
    };
    let max_files = l
        .form
        .documents
        .iter()
        .find(|d| d.key == slot)
        .map(|d| d.max_files)
        .unwrap_or(1);
    let max_total = state.settings.upload_max_dossier_bytes as i64;
    let public_id = new_public_id();
    let (key, slot_db, draft_public) = (received.key.clone(), slot.clone(), id.clone());
    let kept = with_db(&state, "keep an upload", move |conn| {
        crate::db::transaction(conn, |conn| {
            let Some(draft) = drafts::find_own(conn, &draft_public, user_id)? else {
                return Ok(Err(None));
            };
            let added = attachments::add(
                conn,
                &NewAttachment {
                    public_id: &public_id,
                    draft_id: draft.id,
                    owner_id: user_id,
                    slot: &slot_db,
                    file_name: &received.name,
                    content_type: received.kind.mime(),
                    size_bytes: received.size,
                    sha256: &received.sha256,
                    storage_key: &key,
                    now: now(),
                },
                max_files,
                max_total,
            )?;
            Ok(added.map_err(Some))
        })
    })
    .await;
    let refusal = match kept {
        Ok(Ok(())) => None,
        Ok(Err(Some(Refusal::TooManyFiles))) => Some(Some(UploadRefusal::TooManyFiles)),
        Ok(Err(Some(Refusal::DossierTooLarge))) => Some(Some(UploadRefusal::DossierTooLarge)),
        Ok(Err(None)) => Some(None),
        Err(e) => {
            let _ = state.storage.delete(&received.key).await;
            return Err(e);
        }
    };
    match refusal {
        None => Ok(see_other(&format!(
            "{}#slot-{slot}",
            draft_path(&id, "documents")
        ))),
        Some(r) => {
            // Not kept: the bytes go too.
            if let Err(e) = state.storage.delete(&received.key).await {
                tracing::warn!(error = %e, "a refused upload could not be removed");
            }
            match r {
                Some(r) => refuse(r),
                None => Err(AppError::NotFound),
            }
        }
    }
}

/// POST `/drafts/{id}/documents/{file}/delete`.
pub async fn delete_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    path: web::Path<(String, String)>,
    body: web::Form<crate::web::auth::CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    require_applicant(&s)?;
    let (id, file) = path.into_inner();
    let user_id = s.user.id;
    let draft_public = id.clone();
    let key = with_db(&state, "remove an upload", move |conn| {
        crate::db::transaction(conn, |conn| {
            let draft =
                drafts::find_own(conn, &draft_public, user_id)?.ok_or(AppError::NotFound)?;
            if crate::db::payments::latest_for_draft(conn, draft.id)?
                .is_some_and(|p| p.status == crate::db::payments::PaymentStatus::Paid)
            {
                return Err(AppError::BadRequest("apply_locked"));
            }
            attachments::remove_from_draft(conn, &file, draft.id)?.ok_or(AppError::NotFound)
        })
    })
    .await?;
    if let Err(e) = state.storage.delete(&key).await {
        tracing::warn!(error = %e, key, "a removed upload's bytes could not be deleted");
    }
    Ok(see_other(&draft_path(&id, "documents")))
}

/// POST `/drafts/{id}/documents/done`: the documents page was gone through.
pub async fn documents_done(
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
    let draft_public = id.clone();
    with_db(&state, "save a draft", move |conn| {
        let draft = drafts::find_own(conn, &draft_public, user_id)?.ok_or(AppError::NotFound)?;
        let mut st = draft.state();
        st.visited.insert("documents".into());
        drafts::save(conn, draft.id, &st, now())?;
        Ok(())
    })
    .await?;
    Ok(see_other(&draft_path(&id, "")))
}

/// RFC 6266 `Content-Disposition` for a UTF-8 name: an ASCII fallback and the exact name.
/// GET `/files/{id}/view`: the same file shown inline, for the staff page's viewer. Only PDF
/// and images exist (sniffed at upload); the response may be framed by the portal's own pages
/// and runs nothing.
pub async fn view(
    state: web::Data<AppState>,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let viewer = s.user.id;
    let file = with_db(&state, "find a file", move |conn| {
        Ok(attachments::find_for_viewer(conn, &id, viewer)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let stream =
        state.storage.open(&file.storage_key).await.map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("opening a stored file"))
        })?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Frame-Options", "SAMEORIGIN"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
        ))
        .body(actix_web::body::SizedStream::new(
            file.size_bytes.max(0) as u64,
            stream,
        )))
}

fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact: String = form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

/// GET `/files/{id}`: the file, as an attachment, to its owner or the handling office's staff.
pub async fn download(
    state: web::Data<AppState>,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let viewer = s.user.id;
    let file = with_db(&state, "find a file", move |conn| {
        Ok(attachments::find_for_viewer(conn, &id, viewer)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let stream =
        state.storage.open(&file.storage_key).await.map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("opening a stored file"))
        })?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, disposition(&file.file_name)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(actix_web::body::SizedStream::new(
            file.size_bytes.max(0) as u64,
            stream,
        )))
}
