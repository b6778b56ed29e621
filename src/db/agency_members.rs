//! Which agencies a staff member acts for: every staff query is scoped by these.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::agency_members;

pub fn add(
    conn: &mut DbConnection,
    user_id: i64,
    agency_id: i64,
    is_lead: bool,
) -> QueryResult<()> {
    diesel::insert_into(agency_members::table)
        .values((
            agency_members::user_id.eq(user_id),
            agency_members::agency_id.eq(agency_id),
            agency_members::is_lead.eq(is_lead),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn agency_ids_of(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<i64>> {
    agency_members::table
        .filter(agency_members::user_id.eq(user_id))
        .select(agency_members::agency_id)
        .load(conn)
}
