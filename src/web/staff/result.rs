//! Issuing a dossier's result: the officer uploads the signed decision (PDF) or has the portal
//! generate it from the service's template with the decision text; either way the file is
//! sealed with the office's key and gets a verification code and a QR code to `/verify`.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};

use super::actor;
use crate::db::dossiers::{self, Dossier, MoveError};
use crate::db::results::{self, Issue};
use crate::domain::dossier::DossierCode;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::pdf::{Document, Line};
use crate::storage::FileType;
use crate::web::apply::documents::{UploadRefusal, receive, refusal_key};
use crate::web::apply::{local_time, new_public_id, now};
use crate::web::auth::{StaffUser, check_csrf};
use crate::web::redirect::see_other;
use crate::web::{AppState, with_db};

/// The decision text's limit.
pub const DECISION_MAX: usize = 4000;

/// The generated result of a dossier, as a document.
pub fn result_document(
    public_url: &str,
    office: &str,
    service: &str,
    d: &Dossier,
    decision: &str,
    verify_code: &str,
    issued_at: chrono::NaiveDateTime,
) -> Document {
    let url = format!(
        "{}/verify?code={verify_code}",
        public_url.trim_end_matches('/')
    );
    Document {
        title: format!("Kết quả giải quyết hồ sơ {}", d.code),
        office: office.to_string(),
        lines: vec![
            Line::Title("KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH".into()),
            Line::Field("Thủ tục".into(), service.to_string()),
            Line::Field("Mã hồ sơ".into(), d.code.clone()),
            Line::Field("Người nộp".into(), d.applicant_name.clone()),
            Line::Field("Ngày ban hành".into(), local_time(issued_at, Lang::Vi)),
            Line::Gap,
            Line::Text(decision.to_string()),
        ],
        qr: Some((
            url.clone(),
            format!(
                "Mã xác thực: {verify_code}. Kiểm tra kết quả này là thật tại {url} hoặc quét mã QR."
            ),
        )),
    }
}

/// POST `/staff/dossiers/{code}/result` (multipart: `_csrf`, `version`, `decision`, then an
/// optional `file`): approves the dossier with its sealed result.
pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    code: web::Path<String>,
    mut payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let code = DossierCode::parse(&code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let offices = staff.offices.clone();
    let c = code.clone();
    // Only this office's dossiers: anything else is not found before a byte is stored.
    let (d, office, service) = with_db(&state, "find a dossier to approve", move |conn| {
        let d = dossiers::find_by_code(conn, &c)?
            .filter(|d| offices.contains(&d.agency_id))
            .ok_or(AppError::NotFound)?;
        let (_, service, office) = dossiers::names(conn, &d)?;
        Ok((d, office, service))
    })
    .await?;
    let mut csrf_ok = false;
    let mut version: Option<i32> = None;
    let mut decision = String::new();
    let mut uploaded: Option<Result<crate::web::apply::documents::Received, UploadRefusal>> = None;
    let bad = |_| AppError::BadRequest("upload_err_read");
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "_csrf" | "version" | "decision" => {
                let mut value = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    if value.len() + chunk.len() > DECISION_MAX * 4 + 16 {
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
                    _ => decision = value,
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
                if file_name.is_empty() {
                    while field.try_next().await.map_err(bad)?.is_some() {}
                } else {
                    uploaded = Some(receive(&state, &mut field, file_name).await?);
                }
            }
            _ => while field.try_next().await.map_err(bad)?.is_some() {},
        }
    }
    if !csrf_ok {
        return Err(AppError::Csrf);
    }
    if decision.chars().count() > DECISION_MAX {
        return super::dossier::failed(
            &state,
            &req,
            &staff,
            &code,
            "workspace_note_too_long",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if decision.trim().is_empty() {
        if let Some(Ok(r)) = &uploaded {
            state.storage.delete(&r.key).await.ok();
        }
        return super::dossier::failed(
            &state,
            &req,
            &staff,
            &code,
            "result_decision_required",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let Some(version) = version else {
        return super::dossier::failed(
            &state,
            &req,
            &staff,
            &code,
            "lifecycle_conflict",
            StatusCode::CONFLICT,
        )
        .await;
    };
    let verify_code = crate::security::seal::new_verify_code();
    let issued_at = now();
    // The file: the uploaded PDF, or one generated from the template.
    let (key, file_name, size, sha256, generated) = match uploaded {
        Some(Err(r)) => {
            return super::dossier::failed(
                &state,
                &req,
                &staff,
                &code,
                refusal_key(r),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Some(Ok(r)) if r.kind != FileType::Pdf => {
            state.storage.delete(&r.key).await.ok();
            return super::dossier::failed(
                &state,
                &req,
                &staff,
                &code,
                "result_pdf_only",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Some(Ok(r)) => (r.key, r.name, r.size, r.sha256, false),
        None => {
            let doc = result_document(
                &state.settings.public_url,
                &office,
                &service,
                &d,
                decision.trim(),
                &verify_code,
                issued_at,
            );
            let bytes = web::block(move || crate::pdf::render(&doc))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a result: {e}")))?;
            let key = format!("res/{}", new_public_id());
            let mut up = state.storage.begin(&key).await.map_err(|e| {
                AppError::Internal(anyhow::Error::new(e).context("opening storage"))
            })?;
            up.write(&bytes).await.map_err(|e| {
                AppError::Internal(anyhow::Error::new(e).context("writing a result"))
            })?;
            up.finish().await.map_err(|e| {
                AppError::Internal(anyhow::Error::new(e).context("finishing a result"))
            })?;
            let sha = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes));
            (
                key,
                format!("ket-qua-{}.pdf", d.code),
                bytes.len() as i64,
                sha,
                true,
            )
        }
    };
    let offices = staff.offices.clone();
    let who = actor(&staff);
    let me = staff.session.user.id;
    let st = state.clone();
    let (k, fname, sha, c) = (key.clone(), file_name.clone(), sha256.clone(), code.clone());
    let decision_text = decision.trim().to_string();
    let result = with_db(&state, "issue a result", move |conn| {
        let email = |d: &Dossier, s: crate::domain::status::Status| {
            crate::mail::dossier_status(
                &st.tera,
                &st.messages,
                &st.settings.public_url,
                Lang::Vi,
                d,
                s,
                &decision_text,
            )
        };
        Ok(results::issue(
            conn,
            &Issue {
                dossier_code: &c,
                offices: &offices,
                actor: who,
                actor_id: me,
                seen_version: version,
                verify_code: &verify_code,
                file_name: &fname,
                size_bytes: size,
                sha256: &sha,
                storage_key: &k,
                generated,
                decision: &decision_text,
                now: issued_at,
                seal: &st.settings.seal_key,
                email: &email,
            },
        ))
    })
    .await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/staff/dossiers/{code}"))),
        Err(e) => {
            // Nothing was recorded: the stored file goes too.
            state.storage.delete(&key).await.ok();
            match e {
                MoveError::NotFound => Err(AppError::NotFound),
                MoveError::Db(e) if is_unique_violation(&e) => {
                    super::dossier::failed(
                        &state,
                        &req,
                        &staff,
                        &code,
                        "result_duplicate_file",
                        StatusCode::CONFLICT,
                    )
                    .await
                }
                MoveError::Db(e) => Err(AppError::Internal(e)),
                MoveError::Conflict(_) => {
                    super::dossier::failed(
                        &state,
                        &req,
                        &staff,
                        &code,
                        "lifecycle_conflict",
                        StatusCode::CONFLICT,
                    )
                    .await
                }
                MoveError::NoteRequired => {
                    super::dossier::failed(
                        &state,
                        &req,
                        &staff,
                        &code,
                        "result_decision_required",
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await
                }
                MoveError::Refused(r) => {
                    super::dossier::failed(
                        &state,
                        &req,
                        &staff,
                        &code,
                        r.message_key(),
                        StatusCode::CONFLICT,
                    )
                    .await
                }
                MoveError::Other(k) => {
                    super::dossier::failed(&state, &req, &staff, &code, k, StatusCode::CONFLICT)
                        .await
                }
            }
        }
    }
}

fn is_unique_violation(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<diesel::result::Error>(),
        Some(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

/// GET `/staff/dossiers/{code}/result`: the result file, for the office's staff.
pub async fn download(
    state: web::Data<AppState>,
    staff: StaffUser,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = DossierCode::parse(&code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let offices = staff.offices.clone();
    let r = with_db(&state, "find a result", move |conn| {
        let d = dossiers::find_by_code(conn, &code)?
            .filter(|d| offices.contains(&d.agency_id))
            .ok_or(AppError::NotFound)?;
        results::of_dossier(conn, d.id)?.ok_or(AppError::NotFound)
    })
    .await?;
    send_result(&state, &r).await
}

/// The stored result file as a download.
pub async fn send_result(
    state: &AppState,
    r: &results::ResultRow,
) -> Result<HttpResponse, AppError> {
    let stream =
        state.storage.open(&r.storage_key).await.map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("opening a result file"))
        })?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", r.file_name.replace('"', "")),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(actix_web::body::SizedStream::new(
            r.size_bytes.max(0) as u64,
            stream,
        )))
}
