use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_returns_a_token_that_works_with_both_auth_schemes_and_logout_revokes_it() {
    let app = TestApp::spawn().await;
    app.create_user("ana@example.com", 100, false);

    let (s, body) = app
        .call(
            Method::POST,
            "/api/auth/login/",
            None,
            Some(json!({"email": "ANA@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(body["user"]["email"], "ana@example.com");

    let (s, me) = app.call(Method::GET, "/api/me/", Some(&token), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["email"], "ana@example.com");
    let bearer = app
        .http
        .get(app.url("/api/me"))
        .header("Authorization", format!("Bearer {token}"));
    assert_eq!(send(bearer).await.0, 200);

    let (s, _) = app
        .call(Method::POST, "/api/auth/logout/", Some(&token), None)
        .await;
    assert_eq!(s, 204);
    let (s, body) = app.call(Method::GET, "/api/me/", Some(&token), None).await;
    assert_error(s, &body, 401, "not_authenticated");
}

#[tokio::test]
async fn wrong_password_unknown_email_and_missing_token_are_401() {
    let app = TestApp::spawn().await;
    app.create_user("ana@example.com", 100, false);
    for body in [
        json!({"email": "ana@example.com", "password": "nope"}),
        json!({"email": "x@example.com", "password": PASSWORD}),
    ] {
        let (s, b) = app
            .call(Method::POST, "/api/auth/login/", None, Some(body))
            .await;
        assert_error(s, &b, 401, "invalid_credentials");
    }
    let (s, b) = app.call(Method::GET, "/api/me/", None, None).await;
    assert_error(s, &b, 401, "not_authenticated");
    let (s, b) = app
        .call(Method::GET, "/api/me/", Some("rpt_forged"), None)
        .await;
    assert_error(s, &b, 401, "not_authenticated");
    let basic = app
        .http
        .get(app.url("/api/me/"))
        .header("Authorization", "Basic abc");
    let (s, b) = send(basic).await;
    assert_error(s, &b, 401, "not_authenticated");
}

#[tokio::test]
async fn tokens_are_stored_hashed() {
    use diesel::prelude::*;
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 100, false);
    let hashes: Vec<Vec<u8>> = reporter_core::schema::api_tokens::table
        .select(reporter_core::schema::api_tokens::token_hash)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(hashes, vec![reporter_core::tokens::hash_token(&u.token)]);
    assert!(!hashes[0]
        .windows(8)
        .any(|w| u.token.as_bytes().windows(8).any(|t| t == w)));
}

#[tokio::test]
async fn portal_password_is_encrypted_at_rest_and_never_returned() {
    use diesel::prelude::*;
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 100, false);
    let (s, me) = app
        .call(Method::GET, "/api/me/", Some(&u.token), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(me["portal_password_set"], false);

    let secret = "portal-secret-ñ-42";
    let (s, me) = app
        .call(
            Method::PUT,
            "/api/me/portal-credentials/",
            Some(&u.token),
            Some(json!({"email": "ana@portal.test", "password": secret})),
        )
        .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["portal_password_set"], true);
    assert_eq!(me["portal_email"], "ana@portal.test");
    assert!(!me.to_string().contains(secret));

    let stored: Option<Vec<u8>> = reporter_core::schema::users::table
        .find(u.id)
        .select(reporter_core::schema::users::portal_password_enc)
        .first(&mut app.conn())
        .unwrap();
    let stored = stored.unwrap();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let key = base64_key();
    assert_eq!(
        reporter_core::credentials::CredentialsCipher::new(&key)
            .decrypt(&stored)
            .unwrap(),
        secret
    );

    let (s, b) = app
        .call(
            Method::PUT,
            "/api/me/portal-credentials/",
            Some(&u.token),
            Some(json!({"email": "nope", "password": "x"})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_portal_email");
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/me/portal-credentials/",
            Some(&u.token),
            Some(json!({"email": "a@b.c", "password": ""})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_portal_password");
}

fn base64_key() -> [u8; 32] {
    use base64::Engine;
    let v = base64::engine::general_purpose::STANDARD
        .decode(test_support::TEST_CREDENTIALS_KEY)
        .unwrap();
    v.try_into().unwrap()
}
