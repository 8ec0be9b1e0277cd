//! Finding 6 (part): the `/login` Origin check believed `X-Forwarded-Host`,
//! and `/logout` had no Origin check. Now both compare `Origin` with
//! `REPORTER_PUBLIC_URLS`, or with the request's own `Host` when unset.

use reqwest::header::{COOKIE, SET_COOKIE};

use crate::*;

async fn login_with_origin(env: &Env, s: &Server, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut b = env
        .http
        .post(s.url("/login"))
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)]);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.send().await.unwrap()
}

#[tokio::test]
async fn a_forged_forwarded_host_no_longer_passes_the_login_origin_check() {
    let env = Env::new();
    env.user("ana@example.com");
    let s = env.server(&[]);
    for forged in [
        vec![
            ("Origin", "https://evil.example"),
            ("X-Forwarded-Host", "evil.example"),
        ],
        vec![
            ("Origin", "https://evil.example"),
            ("Forwarded", "host=evil.example;proto=https"),
        ],
    ] {
        let res = login_with_origin(&env, &s, &forged).await;
        assert_eq!(res.status(), 403, "{forged:?}");
        assert!(res.headers().get(SET_COOKIE).is_none());
    }
    // Its own origin (the Host header) passes.
    let own = s.base.clone();
    let res = login_with_origin(&env, &s, &[("Origin", &own)]).await;
    assert_eq!(res.status(), 303);

    // With REPORTER_PUBLIC_URLS only those origins pass, whatever the Host.
    let public = env.server(&[("REPORTER_PUBLIC_URLS", "https://reporter.example.com")]);
    let res = login_with_origin(&env, &public, &[("Origin", &public.base.clone())]).await;
    assert_eq!(res.status(), 403);
    let res = login_with_origin(&env, &public, &[("Origin", "https://reporter.example.com")]).await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn logout_without_a_matching_origin_is_refused() {
    let env = Env::new();
    env.user("ana@example.com");
    let s = env.server(&[]);
    let res = login_with_origin(&env, &s, &[]).await;
    assert_eq!(res.status(), 303);
    let cookie = res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let session_token = cookie.split_once('=').unwrap().1;
    let csrf = reporter_api::ui::session::csrf_token(session_token);

    for origin in ["https://evil.example", "null"] {
        let res = env
            .http
            .post(s.url("/logout"))
            .header(COOKIE, &cookie)
            .header("Origin", origin)
            .header("X-Forwarded-Host", "evil.example")
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{origin}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "bad_origin");
    }
    // Still logged in.
    let me = env
        .http
        .get(s.url("/api/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let res = env
        .http
        .post(s.url("/logout"))
        .header(COOKIE, &cookie)
        .header("Origin", s.base.as_str())
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let me = env
        .http
        .get(s.url("/api/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
}
