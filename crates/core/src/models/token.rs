use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::User;
use crate::schema::{api_tokens, users};
use crate::tokens::{generate_token, hash_token};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Checks an email and password and, when they match, issues a token named
/// `name`. Unknown emails are verified against a dummy hash too, so the
/// answer's timing does not tell which emails have accounts.
pub fn issue_for_login(
    conn: &mut PgConnection,
    email: &str,
    password: &str,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> QueryResult<Option<(String, User)>> {
    let found = super::user::find_by_email(conn, email)?;
    let stored = found
        .as_ref()
        .map_or(crate::password::dummy_hash(), |u| u.password_hash.as_str());
    let ok = crate::password::verify_password(password, stored);
    match found {
        Some(u) if ok => Ok(Some((issue(conn, u.id, name, expires_at)?, u))),
        _ => Ok(None),
    }
}

/// Creates a token and returns its plain text: the only time it exists.
pub fn issue(
    conn: &mut PgConnection,
    user_id: i64,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> QueryResult<String> {
    let token = generate_token();
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::token_hash.eq(hash_token(&token)),
            api_tokens::name.eq(name),
            api_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The user a live token belongs to, in one round trip.
pub fn authenticate(conn: &mut PgConnection, token: &str) -> QueryResult<Option<(i64, User)>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(diesel::dsl::now)),
        )
        .select((api_tokens::id, User::as_select()))
        .first(conn)
        .optional()
}

pub fn revoke(conn: &mut PgConnection, token_id: i64) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(token_id))
        .set(api_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
}
