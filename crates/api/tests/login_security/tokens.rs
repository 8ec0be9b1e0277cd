//! Finding 5: tokens from a login never expired and every login added a
//! row. Now they expire (`REPORTER_TOKEN_TTL_DAYS`), an expired one is
//! refused with 401 `token_expired`, and a prune deletes expired and revoked
//! rows.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use reporter_core::models::token;
use reporter_core::schema::api_tokens;

use crate::*;

fn set_times(
    conn: &mut PgConnection,
    tok: &str,
    created: chrono::DateTime<Utc>,
    expires: Option<chrono::DateTime<Utc>>,
) {
    let hash = reporter_core::tokens::hash_token(tok);
    diesel::update(api_tokens::table.filter(api_tokens::token_hash.eq(hash)))
        .set((
            api_tokens::created_at.eq(created),
            api_tokens::expires_at.eq(expires),
        ))
        .execute(conn)
        .unwrap();
}

async fn me(env: &Env, s: &Server, tok: &str) -> (u16, serde_json::Value) {
    let res = env
        .http
        .get(s.url("/api/me/"))
        .header("Authorization", format!("Bearer {tok}"))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn login_tokens_expire_and_expired_ones_are_refused_with_their_own_code() {
    let env = Env::new();
    env.user("ana@example.com");
    let s = env.server(&[("REPORTER_TOKEN_TTL_DAYS", "10")]);

    let (status, _, body) = api_login(&env, &s, "ana@example.com", PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    let tok = body["token"].as_str().unwrap().to_string();
    let expires: chrono::DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - Utc::now()).num_hours() as f64 / 24.0;
    assert!((9.9..=10.0).contains(&days), "expires in {days} days");
    assert_eq!(me(&env, &s, &tok).await.0, 200);

    // Past its expiry (a fresh server: no identity cached).
    set_times(
        &mut env.conn(),
        &tok,
        Utc::now() - Duration::days(11),
        Some(Utc::now() - Duration::seconds(1)),
    );
    let s = env.server(&[("REPORTER_TOKEN_TTL_DAYS", "10")]);
    let (status, body) = me(&env, &s, &tok).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "token_expired");
    assert!(
        body["detail"].as_str().unwrap().contains("venció"),
        "{body}"
    );
    // An unknown token keeps the generic answer.
    assert_eq!(
        me(&env, &s, "rpt_nope").await.1["code"],
        "not_authenticated"
    );

    // A login token from before expiries (none stored) counts from its
    // creation: refused after the TTL, accepted within it.
    let (uid, _) = env.user("old@example.com");
    let legacy = token::issue(&mut env.conn(), uid, token::LOGIN_TOKEN_NAME, None).unwrap();
    set_times(
        &mut env.conn(),
        &legacy,
        Utc::now() - Duration::days(11),
        None,
    );
    assert_eq!(me(&env, &s, &legacy).await.1["code"], "token_expired");
    set_times(
        &mut env.conn(),
        &legacy,
        Utc::now() - Duration::days(9),
        None,
    );
    assert_eq!(me(&env, &s, &legacy).await.0, 200);
    // An operator's token without --days stays valid.
    let cli = token::issue(&mut env.conn(), uid, "cli", None).unwrap();
    set_times(
        &mut env.conn(),
        &cli,
        Utc::now() - Duration::days(400),
        None,
    );
    assert_eq!(me(&env, &s, &cli).await.0, 200);
}

#[tokio::test]
async fn prune_deletes_expired_and_revoked_rows_only() {
    let env = Env::new();
    let (uid, _) = env.user("ana@example.com");
    let mut c = env.conn();
    let ttl = Duration::days(30);
    let now = Utc::now();
    let mk = |c: &mut PgConnection, name: &str, created: i64, expires: Option<i64>| {
        let t = token::issue(c, uid, name, None).unwrap();
        set_times(
            c,
            &t,
            now - Duration::days(created),
            expires.map(|d| now + Duration::days(d)),
        );
        t
    };
    let live = mk(&mut c, "login", 1, Some(29));
    let expired = mk(&mut c, "login", 31, Some(-1));
    let legacy_old = mk(&mut c, "login", 31, None);
    let legacy_new = mk(&mut c, "login", 5, None);
    let cli_forever = mk(&mut c, "cli", 900, None);
    let web_expired = mk(&mut c, "web", 8, Some(-1));
    let revoked = mk(&mut c, "web", 1, Some(6));
    let rid = token_id(&mut c, &revoked).unwrap().0;
    token::revoke(&mut c, rid).unwrap();

    // test_support's own token of ana (never expires) is kept too.
    let before = api_tokens::table.count().get_result::<i64>(&mut c).unwrap();
    assert_eq!(token::prune(&mut c, now, ttl).unwrap(), 4);
    let after = api_tokens::table.count().get_result::<i64>(&mut c).unwrap();
    assert_eq!(before - after, 4);
    for (t, kept) in [
        (&live, true),
        (&expired, false),
        (&legacy_old, false),
        (&legacy_new, true),
        (&cli_forever, true),
        (&web_expired, false),
        (&revoked, false),
    ] {
        assert_eq!(token_id(&mut c, t).is_some(), kept, "{t}");
    }
    assert_eq!(token::prune(&mut c, now, ttl).unwrap(), 0);
}

struct TokenId(i64);

fn token_id(c: &mut PgConnection, tok: &str) -> Option<TokenId> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(reporter_core::tokens::hash_token(tok)))
        .select(api_tokens::id)
        .first(c)
        .optional()
        .unwrap()
        .map(TokenId)
}
