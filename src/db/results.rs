//! Results: issuing one (the approval, the office's signature over the file's digest and the
//! result row, in one transaction), finding it by its verification code or by the digest of a
//! file someone holds, and its first download.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::dossiers::{self, Dossier, Move, MoveError};
use super::schema::{agencies, dossiers as d, office_keys, results};
use crate::security::seal::{self, SealKey, Statement};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = results)]
pub struct ResultRow {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub dossier_id: i64,
    #[serde(skip)]
    pub agency_id: i64,
    pub verify_code: String,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub signature: String,
    pub public_key: String,
    #[serde(skip)]
    pub storage_key: String,
    pub generated: bool,
    #[serde(skip)]
    pub decision: String,
    #[serde(skip)]
    pub issued_by: Option<i64>,
    pub issued_at: NaiveDateTime,
    pub downloaded_at: Option<NaiveDateTime>,
}

/// The office's key pair, made on first use: (public key, sealed secret).
pub fn office_key(
    conn: &mut DbConnection,
    seal: &SealKey,
    agency_id: i64,
    now: NaiveDateTime,
) -> QueryResult<(String, String)> {
    if let Some(k) = office_keys::table
        .find(agency_id)
        .select((office_keys::public_key, office_keys::sealed_secret))
        .first(conn)
        .optional()?
    {
        return Ok(k);
    }
    let office_id: String = agencies::table
        .find(agency_id)
        .select(agencies::office_id)
        .first(conn)?;
    let (public, sealed) = seal::new_office_key(seal, &office_id);
    // Two first results at once: one key wins, both read it back.
    crate::with_backend!(conn, |c| diesel::insert_into(office_keys::table)
        .values((
            office_keys::agency_id.eq(agency_id),
            office_keys::public_key.eq(&public),
            office_keys::sealed_secret.eq(&sealed),
            office_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    office_keys::table
        .find(agency_id)
        .select((office_keys::public_key, office_keys::sealed_secret))
        .first(conn)
}

pub struct Issue<'a> {
    pub dossier_code: &'a str,
    pub offices: &'a [i64],
    pub actor: crate::domain::lifecycle::Actor,
    pub actor_id: i64,
    pub seen_version: i32,
    pub verify_code: &'a str,
    pub file_name: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub generated: bool,
    pub decision: &'a str,
    pub now: NaiveDateTime,
    pub seal: &'a SealKey,
    pub email: &'a dyn Fn(
        &Dossier,
        crate::domain::status::Status,
    ) -> anyhow::Result<crate::mail::RenderedEmail>,
}

/// Approves the dossier with its result, sealed, in one transaction.
pub fn issue(conn: &mut DbConnection, i: &Issue) -> Result<(Dossier, ResultRow), MoveError> {
    super::transaction(conn, |conn| {
        let in_scope = |x: &Dossier| i.offices.contains(&x.agency_id);
        let moved = dossiers::apply_move(
            conn,
            &Move {
                code: i.dossier_code,
                action: crate::domain::lifecycle::Action::Approve,
                actor: i.actor,
                actor_id: Some(i.actor_id),
                seen_version: i.seen_version,
                note: i.decision,
                now: i.now,
                in_scope: &in_scope,
                email: i.email,
            },
        )?;
        let (public, sealed) = office_key(conn, i.seal, moved.agency_id, i.now)?;
        let office_id: String = agencies::table
            .find(moved.agency_id)
            .select(agencies::office_id)
            .first(conn)?;
        let issued_at = i.now.and_utc().timestamp();
        let signature = seal::sign(
            i.seal,
            &office_id,
            &sealed,
            &Statement {
                verify_code: i.verify_code,
                dossier_code: &moved.code,
                sha256_hex: i.sha256,
                issued_at,
            },
        )
        .map_err(|e| MoveError::Db(e.into()))?;
        diesel::insert_into(results::table)
            .values((
                results::dossier_id.eq(moved.id),
                results::agency_id.eq(moved.agency_id),
                results::verify_code.eq(i.verify_code),
                results::file_name.eq(i.file_name),
                results::size_bytes.eq(i.size_bytes),
                results::sha256.eq(i.sha256),
                results::signature.eq(&signature),
                results::public_key.eq(&public),
                results::storage_key.eq(i.storage_key),
                results::generated.eq(i.generated),
                results::decision.eq(i.decision),
                results::issued_by.eq(Some(i.actor_id)),
                results::issued_at.eq(i.now),
            ))
            .execute(conn)?;
        super::stats::refresh(conn, moved.id, i.now)?;
        let row = of_dossier(conn, moved.id)?.ok_or(MoveError::NotFound)?;
        Ok((moved, row))
    })
}

pub fn of_dossier(conn: &mut DbConnection, dossier_id: i64) -> QueryResult<Option<ResultRow>> {
    results::table
        .filter(results::dossier_id.eq(dossier_id))
        .select(ResultRow::as_select())
        .first(conn)
        .optional()
}

/// What the public verification page says about a result: nothing about the applicant.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The signature holds for this digest, code, dossier and time under the office's key.
    pub genuine: bool,
    pub verify_code: String,
    pub dossier_code: String,
    pub office_id: String,
    pub office_name: String,
    pub issued_at: NaiveDateTime,
    pub file_name: String,
    pub sha256: String,
    pub service_code: String,
    pub service_name: String,
}

fn verification(conn: &mut DbConnection, r: ResultRow) -> QueryResult<Verification> {
    let (code, service_id): (String, i64) = d::table
        .find(r.dossier_id)
        .select((d::code, d::service_id))
        .first(conn)?;
    let (office_id, office_name): (String, String) = agencies::table
        .find(r.agency_id)
        .select((agencies::office_id, agencies::name))
        .first(conn)?;
    // The key the office holds now must be the one that signed (a row edited to carry
    // another key does not verify).
    let office_public: Option<String> = office_keys::table
        .find(r.agency_id)
        .select(office_keys::public_key)
        .first(conn)
        .optional()?;
    let statement = Statement {
        verify_code: &r.verify_code,
        dossier_code: &code,
        sha256_hex: &r.sha256,
        issued_at: r.issued_at.and_utc().timestamp(),
    };
    let genuine = office_public.as_deref() == Some(r.public_key.as_str())
        && seal::verify(&r.public_key, &r.signature, &statement);
    let brief = dossiers::service_brief(conn, service_id)?;
    Ok(Verification {
        genuine,
        verify_code: r.verify_code,
        dossier_code: code,
        office_id,
        office_name,
        issued_at: r.issued_at,
        file_name: r.file_name,
        sha256: r.sha256,
        service_code: brief.code,
        service_name: brief.name,
    })
}

/// By the code printed on the result.
pub fn verify_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Verification>> {
    let Some(r) = results::table
        .filter(results::verify_code.eq(code))
        .select(ResultRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    verification(conn, r).map(Some)
}

/// By the digest of a file someone holds: a changed byte finds nothing.
pub fn verify_digest(conn: &mut DbConnection, sha256: &str) -> QueryResult<Option<Verification>> {
    let Some(r) = results::table
        .filter(results::sha256.eq(sha256))
        .select(ResultRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    verification(conn, r).map(Some)
}

/// Marks the first download; true when this call was the first.
pub fn mark_downloaded(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        results::table
            .find(id)
            .filter(results::downloaded_at.is_null()),
    )
    .set(results::downloaded_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Why a rating is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingRefusal {
    NotDelivered,
    AlreadyRated,
}

/// The citizen's one rating of their delivered dossier.
pub fn rate(
    conn: &mut DbConnection,
    dossier: &Dossier,
    user_id: i64,
    scores: crate::domain::rating::Scores,
    comment: &str,
    now: NaiveDateTime,
) -> QueryResult<Result<(), RatingRefusal>> {
    use super::schema::ratings;
    if dossier.status != crate::domain::status::Status::Delivered {
        return Ok(Err(RatingRefusal::NotDelivered));
    }
    let n = super::transaction(conn, |conn| {
        let n = crate::with_backend!(&mut *conn, |c| diesel::insert_into(ratings::table)
            .values((
                ratings::dossier_id.eq(dossier.id),
                ratings::user_id.eq(Some(user_id)),
                ratings::scores.eq(scores.to_text()),
                ratings::total.eq(scores.total()),
                ratings::comment.eq(comment),
                ratings::rated_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if n == 1 {
            super::stats::refresh(conn, dossier.id, now)?;
        }
        Ok::<_, diesel::result::Error>(n)
    })?;
    Ok(if n == 1 {
        Ok(())
    } else {
        Err(RatingRefusal::AlreadyRated)
    })
}

/// The dossier's rating, if given: (scores, comment).
pub fn rating_of(
    conn: &mut DbConnection,
    dossier_id: i64,
) -> QueryResult<Option<(String, String)>> {
    use super::schema::ratings;
    ratings::table
        .find(dossier_id)
        .select((ratings::scores, ratings::comment))
        .first(conn)
        .optional()
}
