//! Attachment rows: what was uploaded for which document slot of a draft (later of its dossier),
//! its checked type, size and SHA-256, and where storage keeps the bytes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::{agency_members, attachments, dossiers};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    #[serde(skip)]
    pub id: i64,
    pub public_id: String,
    #[serde(skip)]
    pub draft_id: Option<i64>,
    #[serde(skip)]
    pub dossier_id: Option<i64>,
    #[serde(skip)]
    pub owner_id: i64,
    pub slot: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    pub created_at: NaiveDateTime,
}

pub struct NewAttachment<'a> {
    pub public_id: &'a str,
    pub draft_id: i64,
    pub owner_id: i64,
    pub slot: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub now: NaiveDateTime,
}

/// Why an upload is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyFiles,
    DossierTooLarge,
}

/// Adds an uploaded file to a draft's slot within the limits (files per slot, bytes per
/// dossier); run it in a transaction with the draft's existence check.
pub fn add(
    conn: &mut DbConnection,
    a: &NewAttachment,
    max_files: u32,
    max_total_bytes: i64,
) -> QueryResult<Result<(), Refusal>> {
    let in_slot: i64 = attachments::table
        .filter(attachments::draft_id.eq(a.draft_id))
        .filter(attachments::slot.eq(a.slot))
        .count()
        .get_result(conn)?;
    if in_slot >= i64::from(max_files) {
        return Ok(Err(Refusal::TooManyFiles));
    }
    if total_bytes(conn, a.draft_id)? + a.size_bytes > max_total_bytes {
        return Ok(Err(Refusal::DossierTooLarge));
    }
    diesel::insert_into(attachments::table)
        .values((
            attachments::public_id.eq(a.public_id),
            attachments::draft_id.eq(Some(a.draft_id)),
            attachments::owner_id.eq(a.owner_id),
            attachments::slot.eq(a.slot),
            attachments::file_name.eq(a.file_name),
            attachments::content_type.eq(a.content_type),
            attachments::size_bytes.eq(a.size_bytes),
            attachments::sha256.eq(a.sha256),
            attachments::storage_key.eq(a.storage_key),
            attachments::created_at.eq(a.now),
        ))
        .execute(conn)?;
    Ok(Ok(()))
}

/// A file the citizen adds to a filed dossier (a supplement), counted against the same total.
pub fn add_to_dossier(
    conn: &mut DbConnection,
    a: &NewAttachment,
    dossier_id: i64,
    max_total_bytes: i64,
) -> QueryResult<Result<(), Refusal>> {
    let total: i64 = attachments::table
        .filter(attachments::dossier_id.eq(dossier_id))
        .select(attachments::size_bytes)
        .load::<i64>(conn)?
        .into_iter()
        .sum();
    if total + a.size_bytes > max_total_bytes {
        return Ok(Err(Refusal::DossierTooLarge));
    }
    diesel::insert_into(attachments::table)
        .values((
            attachments::public_id.eq(a.public_id),
            attachments::draft_id.eq(None::<i64>),
            attachments::dossier_id.eq(Some(dossier_id)),
            attachments::owner_id.eq(a.owner_id),
            attachments::slot.eq(a.slot),
            attachments::file_name.eq(a.file_name),
            attachments::content_type.eq(a.content_type),
            attachments::size_bytes.eq(a.size_bytes),
            attachments::sha256.eq(a.sha256),
            attachments::storage_key.eq(a.storage_key),
            attachments::created_at.eq(a.now),
        ))
        .execute(conn)?;
    Ok(Ok(()))
}

/// Bytes already attached to a draft (summed here: SQL SUM has a different type per backend).
pub fn total_bytes(conn: &mut DbConnection, draft_id: i64) -> QueryResult<i64> {
    Ok(attachments::table
        .filter(attachments::draft_id.eq(draft_id))
        .select(attachments::size_bytes)
        .load::<i64>(conn)?
        .into_iter()
        .sum())
}

pub fn of_draft(conn: &mut DbConnection, draft_id: i64) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::draft_id.eq(draft_id))
        .order(attachments::id)
        .select(Attachment::as_select())
        .load(conn)
}

pub fn of_dossier(conn: &mut DbConnection, dossier_id: i64) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::dossier_id.eq(dossier_id))
        .order(attachments::id)
        .select(Attachment::as_select())
        .load(conn)
}

/// Removes one file from the person's draft; returns its storage key to delete after commit.
pub fn remove_from_draft(
    conn: &mut DbConnection,
    public_id: &str,
    draft_id: i64,
) -> QueryResult<Option<String>> {
    let key: Option<String> = attachments::table
        .filter(attachments::public_id.eq(public_id))
        .filter(attachments::draft_id.eq(draft_id))
        .filter(attachments::dossier_id.is_null())
        .select(attachments::storage_key)
        .first(conn)
        .optional()?;
    if key.is_some() {
        diesel::delete(
            attachments::table
                .filter(attachments::public_id.eq(public_id))
                .filter(attachments::draft_id.eq(draft_id)),
        )
        .execute(conn)?;
    }
    Ok(key)
}

/// A file the viewer may download: theirs (on their draft or dossier), or on a dossier of an
/// office they work in. None for everyone else, who get 404.
pub fn find_for_viewer(
    conn: &mut DbConnection,
    public_id: &str,
    viewer_id: i64,
) -> QueryResult<Option<Attachment>> {
    let Some(a) = attachments::table
        .filter(attachments::public_id.eq(public_id))
        .select(Attachment::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if a.owner_id == viewer_id {
        return Ok(Some(a));
    }
    let Some(dossier_id) = a.dossier_id else {
        return Ok(None);
    };
    // The applicant of the dossier (a file scanned at the desk is the officer's upload).
    let own: i64 = dossiers::table
        .filter(dossiers::id.eq(dossier_id))
        .filter(dossiers::user_id.eq(viewer_id))
        .count()
        .get_result(conn)?;
    if own > 0 {
        return Ok(Some(a));
    }
    let staff: i64 = dossiers::table
        .inner_join(agency_members::table.on(agency_members::agency_id.eq(dossiers::agency_id)))
        .filter(dossiers::id.eq(dossier_id))
        .filter(agency_members::user_id.eq(viewer_id))
        .count()
        .get_result(conn)?;
    Ok((staff > 0).then_some(a))
}
