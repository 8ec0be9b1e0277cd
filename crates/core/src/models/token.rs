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

/// `api_tokens.name` of the tokens `POST /api/auth/login/` issues.
pub const LOGIN_TOKEN_NAME: &str = "login";

impl ApiToken {
    /// When the token stops working: its `expires_at`, or for a login token
    /// issued before login tokens had one, `created_at` + `login_ttl`.
    pub fn effective_expiry(&self, login_ttl: chrono::Duration) -> Option<DateTime<Utc>> {
        self.expires_at
            .or_else(|| (self.name == LOGIN_TOKEN_NAME).then(|| self.created_at + login_ttl))
    }
}

/// Whether `password` is `user`'s. An unknown account (`None`) is verified
/// against a dummy hash too, so the answer's timing does not tell which
/// emails have accounts. Argon2 is slow on purpose (~0.1 s of one core): run
/// this on a blocking thread and never while holding a database connection.
pub fn password_matches(user: Option<&User>, password: &str) -> bool {
    let stored = user.map_or(crate::password::dummy_hash(), |u| u.password_hash.as_str());
    let ok = crate::password::verify_password(password, stored);
    ok && user.is_some()
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

/// What a presented token is worth.
#[derive(Debug)]
pub enum TokenCheck {
    Live {
        token_id: i64,
        user: User,
    },
    /// Known, not revoked, but past its expiry.
    Expired,
    /// Unknown or revoked.
    Invalid,
}

/// Looks a token up by its hash, in one round trip. `login_ttl` is the
/// lifetime of login tokens that were issued without an expiry.
pub fn check(
    conn: &mut PgConnection,
    token: &str,
    login_ttl: chrono::Duration,
) -> QueryResult<TokenCheck> {
    let found: Option<(ApiToken, User)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .select((ApiToken::as_select(), User::as_select()))
        .first(conn)
        .optional()?;
    Ok(match found {
        None => TokenCheck::Invalid,
        Some((t, _)) if t.revoked_at.is_some() => TokenCheck::Invalid,
        Some((t, _))
            if t.effective_expiry(login_ttl)
                .is_some_and(|e| e <= Utc::now()) =>
        {
            TokenCheck::Expired
        }
        Some((t, user)) => TokenCheck::Live {
            token_id: t.id,
            user,
        },
    })
}

/// The user a live token belongs to (see [`check`]).
pub fn authenticate(
    conn: &mut PgConnection,
    token: &str,
    login_ttl: chrono::Duration,
) -> QueryResult<Option<(i64, User)>> {
    Ok(match check(conn, token, login_ttl)? {
        TokenCheck::Live { token_id, user } => Some((token_id, user)),
        TokenCheck::Expired | TokenCheck::Invalid => None,
    })
}

/// Deletes revoked and expired tokens (login tokens without an expiry count
/// from `created_at` + `login_ttl`); returns how many. Run daily by the beat
/// and by `reporterctl token prune`.
pub fn prune(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    login_ttl: chrono::Duration,
) -> QueryResult<usize> {
    diesel::delete(api_tokens::table.filter(prunable(now, login_ttl))).execute(conn)
}

/// How many rows [`prune`] would delete now (for `reporterctl prune --dry-run`).
pub fn count_prunable(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    login_ttl: chrono::Duration,
) -> QueryResult<i64> {
    api_tokens::table
        .filter(prunable(now, login_ttl))
        .count()
        .get_result(conn)
}

/// Revoked, expired, or an expiry-less login token older than the TTL.
fn prunable(
    now: DateTime<Utc>,
    login_ttl: chrono::Duration,
) -> Box<
    dyn BoxableExpression<
        api_tokens::table,
        diesel::pg::Pg,
        SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
    >,
> {
    Box::new(
        api_tokens::revoked_at
            .is_not_null()
            .or(api_tokens::expires_at.le(now))
            .or(api_tokens::expires_at
                .is_null()
                .and(api_tokens::name.eq(LOGIN_TOKEN_NAME))
                .and(api_tokens::created_at.le(now - login_ttl))),
    )
}

/// A user's tokens, oldest first (revoked and expired ones too, until pruned).
pub fn list_for_user(conn: &mut PgConnection, user_id: i64) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id)
        .select(ApiToken::as_select())
        .load(conn)
}

/// Revokes a user's live tokens: the one with id `only`, or all of them.
/// Returns how many were revoked.
pub fn revoke_for_user(
    conn: &mut PgConnection,
    user_id: i64,
    only: Option<i64>,
) -> QueryResult<usize> {
    let mut q = diesel::update(api_tokens::table)
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(api_tokens::id.eq(id));
    }
    q.set(api_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
}

pub fn revoke(conn: &mut PgConnection, token_id: i64) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(token_id))
        .set(api_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
}
