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

/// One stored version of a service's form.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FormVersion {
    pub version: i32,
    pub published: bool,
    pub source: String,
    pub created_at: NaiveDateTime,
}

pub fn versions_of(conn: &mut DbConnection, code: &str) -> QueryResult<Vec<FormVersion>> {
    Ok(forms::table
        .filter(forms::service_code.eq(code))
        .order(forms::version.desc())
        .select((
            forms::version,
            forms::published,
            forms::source,
            forms::created_at,
        ))
        .load::<(i32, bool, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(version, published, source, created_at)| FormVersion {
            version,
            published,
            source,
            created_at,
        })
        .collect())
}

/// A stored version's definition (JSON) and whether it is published.
pub fn stored(
    conn: &mut DbConnection,
    code: &str,
    version: i32,
) -> QueryResult<Option<(String, bool)>> {
    forms::table
        .filter(forms::service_code.eq(code))
        .filter(forms::version.eq(version))
        .select((forms::definition, forms::published))
        .first(conn)
        .optional()
}

fn audit_form(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    detail: &str,
    o: &super::accounts::Origin,
) -> QueryResult<()> {
    let subject = format!("service:{code}");
    let e = super::audit::Entry::new(
        Some(admin_id),
        crate::domain::audit::AuditEvent::ConfigChanged,
        &subject,
        &o.ip,
        o.now,
    );
    super::audit::record(conn, &e.detail(detail))
}

/// Stores a checked definition as the service's next version, not yet published; its number.
pub fn add_version(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    def: &FormDefinition,
    o: &super::accounts::Origin,
) -> QueryResult<i32> {
    super::transaction(conn, |conn| {
        let last: Option<i32> = forms::table
            .filter(forms::service_code.eq(code))
            .select(diesel::dsl::max(forms::version))
            .first(conn)?;
        let version = last.unwrap_or(0).max(GENERATED_VERSION) + 1;
        let mut def = def.clone();
        def.version = u32::try_from(version).unwrap_or(0);
        let json = serde_json::to_string_pretty(&def)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        diesel::insert_into(forms::table)
            .values((
                forms::service_code.eq(code),
                forms::version.eq(version),
                forms::definition.eq(json),
                // Made here, not shipped with the portal (`official`).
                forms::source.eq("admin"),
                forms::published.eq(false),
                forms::created_at.eq(o.now),
            ))
            .execute(conn)?;
        audit_form(
            conn,
            admin_id,
            code,
            &format!("form version {version} added"),
            o,
        )?;
        Ok(version)
    })
}

/// Publishes a stored version: new applications use it (the highest published version);
/// drafts and dossiers keep the version they were started or filed with.
pub fn publish(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    version: i32,
    o: &super::accounts::Origin,
) -> QueryResult<bool> {
    super::transaction(conn, |conn| {
        let n = diesel::update(
            forms::table
                .filter(forms::service_code.eq(code))
                .filter(forms::version.eq(version))
                .filter(forms::published.eq(false)),
        )
        .set(forms::published.eq(true))
        .execute(conn)?;
        if n == 0 {
            return Ok(false);
        }
        audit_form(
            conn,
            admin_id,
            code,
            &format!("form version {version} published"),
            o,
        )?;
        super::catalogue::bump_catalogue_version(conn)?;
        Ok(true)
    })
}

/// Replaces an unpublished version's definition (the builder's edits); false when the version
/// is published or unknown — a published version never changes.
pub fn save_unpublished(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    version: i32,
    def: &FormDefinition,
    what: &str,
    o: &super::accounts::Origin,
) -> QueryResult<bool> {
    super::transaction(conn, |conn| {
        let json = serde_json::to_string_pretty(def)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let n = diesel::update(
            forms::table
                .filter(forms::service_code.eq(code))
                .filter(forms::version.eq(version))
                .filter(forms::published.eq(false)),
        )
        .set(forms::definition.eq(json))
        .execute(conn)?;
        if n == 0 {
            return Ok(false);
        }
        audit_form(
            conn,
            admin_id,
            code,
            &format!("form version {version}: {what}"),
            o,
        )?;
        Ok(true)
    })
}

/// The highest stored version's definition, if any.
pub fn latest(conn: &mut DbConnection, code: &str) -> QueryResult<Option<String>> {
    forms::table
        .filter(forms::service_code.eq(code))
        .order(forms::version.desc())
        .select(forms::definition)
        .first(conn)
        .optional()
}
