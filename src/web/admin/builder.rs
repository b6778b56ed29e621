//! The form builder: an unpublished form version edited without writing JSON — its title,
//! sections, fields (every type of the schema, required, help, length, choices, a condition on
//! an earlier field), documents — added, changed, removed and reordered with plain forms (no
//! JavaScript). Every edit is checked against the schema before it is stored; a refused edit
//! lists every problem and keeps what was typed. A published version never changes: a new
//! version starts from the latest one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::db::forms as forms_db;
use crate::domain::form_builder::{self, Edit, FieldInput, KINDS};
use crate::domain::form_schema::{DocumentSlot, FormDefinition, Text};
use crate::error::AppError;

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// POST `/admin/services/{code}/forms/new`: a new unpublished version, a copy of the latest
/// one (or a one-section form when there is none), opened in the builder.
pub async fn new_version(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let code = path.into_inner();
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    let version = with_db(&state, "start a form version", move |conn| {
        let s = crate::db::service_admin::by_code(conn, &c2)?.ok_or(AppError::NotFound)?;
        let def = match forms_db::latest(conn, &c2)? {
            Some(json) => serde_json::from_str::<FormDefinition>(&json)
                .map_err(|e| AppError::Internal(e.into()))?,
            None => form_builder::skeleton(&s.code, &s.name),
        };
        Ok(forms_db::add_version(conn, admin_id, &c2, &def, &o)?)
    })
    .await?;
    Ok(see_other(&format!(
        "/admin/services/{code}/forms/{version}/build"
    )))
}

#[derive(Serialize)]
struct FieldRow {
    key: String,
    kind: String,
    label: String,
    required: bool,
    condition: Option<String>,
}

#[derive(Serialize)]
struct SectionRow {
    key: String,
    title: String,
    fields: Vec<FieldRow>,
}

/// What the builder page shows besides the form: the field being edited and any problems.
#[derive(Default)]
struct Pending {
    field: Option<(String, Option<String>, FieldInput)>,
    errors: Vec<String>,
}

async fn builder_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    code: String,
    version: i32,
    pending: Pending,
    edit: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let c = code.clone();
    let (name, stored) = with_db(state, "read a form version", move |conn| {
        let s = crate::db::service_admin::by_code(conn, &c)?.ok_or(AppError::NotFound)?;
        Ok((s.name, forms_db::stored(conn, &c, version)?))
    })
    .await?;
    let (json, published) = stored.ok_or(AppError::NotFound)?;
    let def: FormDefinition =
        serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))?;
    let sections: Vec<SectionRow> = def
        .sections
        .iter()
        .map(|s| SectionRow {
            key: s.key.clone(),
            title: s.title.vi().to_string(),
            fields: s
                .fields
                .iter()
                .map(|f| FieldRow {
                    key: f.key.clone(),
                    kind: FieldInput::of(f).kind,
                    label: f.label.vi().to_string(),
                    required: f.required,
                    condition: f.when.as_ref().map(|w| match &w.equals {
                        Some(v) => format!("{} = {v}", w.field),
                        None => format!("{} ≠ ∅", w.field),
                    }),
                })
                .collect(),
        })
        .collect();
    let documents: Vec<(String, String, bool)> = def
        .documents
        .iter()
        .map(|d| (d.key.clone(), d.label.vi().to_string(), d.required))
        .collect();
    // The field form: what was typed (after a refusal), the field asked for, or a new one.
    let (field_section, field_original, field) = match pending.field {
        Some(f) => f,
        None => match edit.as_deref().and_then(|k| {
            def.sections
                .iter()
                .find_map(|s| s.fields.iter().find(|f| f.key == k).map(|f| (s, f)))
        }) {
            Some((s, f)) => (s.key.clone(), Some(f.key.clone()), FieldInput::of(f)),
            None => (
                def.sections
                    .first()
                    .map(|s| s.key.clone())
                    .unwrap_or_default(),
                None,
                FieldInput {
                    kind: "text".into(),
                    ..FieldInput::default()
                },
            ),
        },
    };
    let all_fields: Vec<String> = def.fields().map(|f| f.key.clone()).collect();
    let (title_vi, title_en) = match &def.title {
        Text::Plain(s) => (s.clone(), String::new()),
        Text::Localized { vi, en } => (vi.clone(), en.clone()),
    };
    let status = if pending.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page(state, req, lang, "admin/builder.html", status, |ctx| {
        ctx.insert("code", &code);
        ctx.insert("name", &name);
        ctx.insert("version", &version);
        ctx.insert("published", &published);
        ctx.insert("title_vi", &title_vi);
        ctx.insert("title_en", &title_en);
        ctx.insert("source", &def.source);
        ctx.insert("sections", &sections);
        ctx.insert("documents", &documents);
        ctx.insert("kinds", &KINDS);
        ctx.insert("all_fields", &all_fields);
        ctx.insert("field", &field);
        ctx.insert("field_section", &field_section);
        ctx.insert("field_original", &field_original);
        ctx.insert("errors", &pending.errors);
    })
}

#[derive(Deserialize)]
pub struct BuildQuery {
    #[serde(default)]
    edit: Option<String>,
}

/// GET `/admin/services/{code}/forms/{version}/build`.
pub async fn builder(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<(String, i32)>,
    query: web::Query<BuildQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, version) = path.into_inner();
    builder_page(
        &state,
        &req,
        code,
        version,
        Pending::default(),
        query.into_inner().edit,
    )
    .await
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// POST `/admin/services/{code}/forms/{version}/build`: one edit (`op`), checked and stored.
pub async fn build(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<(String, i32)>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = body.into_inner();
    check_csrf(&req, value(&pairs, "_csrf"))?;
    let (code, version) = path.into_inner();
    let v = |name: &str| value(&pairs, name).to_string();
    let up = v("direction") == "up";
    let mut typed_field: Option<(String, Option<String>, FieldInput)> = None;
    let edit: Result<Edit, Vec<String>> = match v("op").as_str() {
        "title" => Ok(Edit::Title {
            vi: v("title_vi"),
            en: v("title_en"),
            source: v("source"),
        }),
        "add_section" => Ok(Edit::AddSection {
            key: v("section_key"),
            vi: v("section_vi"),
            en: v("section_en"),
        }),
        "remove_section" => Ok(Edit::RemoveSection { key: v("key") }),
        "move_section" => Ok(Edit::MoveSection { key: v("key"), up }),
        "save_field" => {
            let input = FieldInput {
                key: v("key"),
                kind: v("kind"),
                label_vi: v("label_vi"),
                label_en: v("label_en"),
                help_vi: v("help_vi"),
                help_en: v("help_en"),
                required: v("required") == "on",
                max_length: v("max_length"),
                options: v("options").replace("\r\n", "\n"),
                when_field: v("when_field"),
                when_equals: v("when_equals"),
            };
            let original = Some(v("original")).filter(|o| !o.is_empty());
            let section = v("section");
            let result = input.field().map(|field| Edit::SaveField {
                section: section.clone(),
                original: original.clone(),
                field: Box::new(field),
            });
            typed_field = Some((section, original, input));
            result
        }
        "remove_field" => Ok(Edit::RemoveField { key: v("key") }),
        "move_field" => Ok(Edit::MoveField { key: v("key"), up }),
        "add_document" => Ok(Edit::AddDocument {
            slot: DocumentSlot {
                key: v("doc_key").trim().to_string(),
                label: Text::Localized {
                    vi: v("doc_vi").trim().to_string(),
                    en: v("doc_en").trim().to_string(),
                },
                help: None,
                required: v("doc_required") == "on",
                when: None,
                max_files: 10,
            },
        }),
        "remove_document" => Ok(Edit::RemoveDocument { key: v("key") }),
        _ => return Err(AppError::BadRequest("admin_bad_action")),
    };
    let what = v("op");
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    let outcome = match edit {
        Err(errors) => Err(errors),
        Ok(edit) => {
            with_db(&state, "edit a form version", move |conn| {
                let (json, published) =
                    forms_db::stored(conn, &c2, version)?.ok_or(AppError::NotFound)?;
                if published {
                    return Err(AppError::BadRequest("forms_published_locked"));
                }
                let def: FormDefinition =
                    serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))?;
                match form_builder::apply(&def, edit) {
                    Ok(new) => {
                        forms_db::save_unpublished(conn, admin_id, &c2, version, &new, &what, &o)?;
                        Ok(Ok(()))
                    }
                    Err(errors) => Ok(Err(errors)),
                }
            })
            .await?
        }
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/admin/services/{code}/forms/{version}/build"
        ))),
        Err(errors) => {
            let pending = Pending {
                field: typed_field,
                errors,
            };
            builder_page(&state, &req, code, version, pending, None).await
        }
    }
}
