use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::credentials::{CredentialsCipher, CredentialsError};
use crate::schema::users;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub monthly_orders_estimate: i32,
    pub portal_email: Option<String>,
    pub portal_password_enc: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin.as_str()
    }

    pub fn has_portal_credentials(&self) -> bool {
        self.portal_email.is_some() && self.portal_password_enc.is_some()
    }

    /// The decrypted portal login, if set.
    pub fn portal_credentials(
        &self,
        cipher: &CredentialsCipher,
    ) -> Result<Option<(String, String)>, CredentialsError> {
        match (&self.portal_email, &self.portal_password_enc) {
            (Some(email), Some(enc)) => Ok(Some((email.clone(), cipher.decrypt(enc)?))),
            _ => Ok(None),
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub monthly_orders_estimate: i32,
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn insert(conn: &mut PgConnection, new: &NewUser) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
}

pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(normalize_email(email)))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut PgConnection, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn set_portal_credentials(
    conn: &mut PgConnection,
    user_id: i64,
    portal_email: &str,
    encrypted_password: &[u8],
) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set((
            users::portal_email.eq(portal_email.trim()),
            users::portal_password_enc.eq(encrypted_password),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

pub fn set_monthly_orders(
    conn: &mut PgConnection,
    user_id: i64,
    monthly: i32,
) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set((
            users::monthly_orders_estimate.eq(monthly),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// A customer's own report mode (`None`: the fleet's `REPORTER_REPORT_MODE`).
/// Takes effect from the next run they are in: a run fixes each part's mode
/// when it is created.
pub fn set_report_mode(
    conn: &mut PgConnection,
    user_id: i64,
    mode: Option<crate::domain::ReportMode>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set((
            users::reporter_report_mode.eq(mode.map(|m| m.as_str())),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}
