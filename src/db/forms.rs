//! Application forms: the official definitions seeded from `data/forms/`, versioned per service,
//! and the form a service is applied for with (its latest published definition, or the default
//! form generated from its documents list).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{forms, service_documents};
use crate::domain::form_schema::{FormDefinition, RecordDocument, default_form};

/// The version number drafts and dossiers record for a generated (default) form.
pub const GENERATED_VERSION: i32 = 0;

/// Inserts the shipped definitions whose (service, version) is not stored yet; a stored version
/// is never rewritten (dossiers may have been filed under it).
pub fn seed_official(
    conn: &mut DbConnection,
    shipped: &[(String, FormDefinition)],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut added = 0;
    for (json, def) in shipped {
        let exists: i64 = forms::table
            .filter(forms::service_code.eq(&def.service))
            .filter(forms::version.eq(def.version as i32))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            diesel::insert_into(forms::table)
                .values((
                    forms::service_code.eq(&def.service),
                    forms::version.eq(def.version as i32),
                    forms::definition.eq(json),
                    forms::source.eq("official"),
                    forms::published.eq(true),
                    forms::created_at.eq(now),
                ))
                .execute(conn)?;
            added += 1;
        }
    }
    Ok(added)
}

fn parse(json: &str) -> QueryResult<FormDefinition> {
    FormDefinition::from_json(json).map_err(|errors| {
        diesel::result::Error::DeserializationError(
            format!("stored form definition: {}", errors.join("; ")).into(),
        )
    })
}

fn generated(
    conn: &mut DbConnection,
    service_id: i64,
    code: &str,
    name: &str,
) -> QueryResult<FormDefinition> {
    let docs: Vec<(String, String, Option<i32>, Option<i32>)> = service_documents::table
        .filter(service_documents::service_id.eq(service_id))
        .order(service_documents::position)
        .select((
            service_documents::name,
            service_documents::case_name,
            service_documents::originals,
            service_documents::copies,
        ))
        .load(conn)?;
    let rows: Vec<RecordDocument> = docs
        .iter()
        .map(|(name, case_name, originals, copies)| RecordDocument {
            name,
            case_name,
            originals: *originals,
            copies: *copies,
        })
        .collect();
    Ok(default_form(code, name, &rows))
}

/// Every form ends with a slot for other documents the citizen wants to add.
fn with_other_documents(mut def: FormDefinition) -> FormDefinition {
    let taken = def.documents.iter().any(|d| d.key == "other") || def.field("other").is_some();
    if !taken {
        def.documents
            .push(crate::domain::form_schema::DocumentSlot {
                key: "other".into(),
                label: crate::domain::form_schema::Text::Localized {
                    vi: "Giấy tờ khác (nếu có)".into(),
                    en: "Other documents (if any)".into(),
                },
                help: None,
                required: false,
                when: None,
                max_files: 10,
            });
    }
    def
}

/// The form a new application uses: the latest published version, else the generated one.
/// Returns the version recorded on the draft with it.
pub fn current(
    conn: &mut DbConnection,
    service_id: i64,
    code: &str,
    name: &str,
) -> QueryResult<(i32, FormDefinition)> {
    let latest: Option<(i32, String)> = forms::table
        .filter(forms::service_code.eq(code))
        .filter(forms::published.eq(true))
        .order(forms::version.desc())
        .select((forms::version, forms::definition))
        .first(conn)
        .optional()?;
    match latest {
        Some((version, json)) => Ok((version, with_other_documents(parse(&json)?))),
        None => Ok((
            GENERATED_VERSION,
            with_other_documents(generated(conn, service_id, code, name)?),
        )),
    }
}

/// The form of a given version (what a draft was started with).
pub fn version(
    conn: &mut DbConnection,
    service_id: i64,
    code: &str,
    name: &str,
    version: i32,
) -> QueryResult<FormDefinition> {
    if version == GENERATED_VERSION {
        return Ok(with_other_documents(generated(
            conn, service_id, code, name,
        )?));
    }
    let json: String = forms::table
        .filter(forms::service_code.eq(code))
        .filter(forms::version.eq(version))
        .select(forms::definition)
        .first(conn)?;
    Ok(with_other_documents(parse(&json)?))
}
