//! Finding 1: 300 concurrent wrong-password logins made ordinary customer
//! requests fail with 503 `unavailable` (each password check held a pooled
//! connection). Now a check never holds one and their number is capped, so
//! the flood is refused (401/429/503 with `Retry-After`) and customers are
//! served.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::join_all;

use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_does_not_touch_ordinary_requests() {
    let env = Env::new();
    let server = env.server(&[]);
    let customers: Vec<String> = (0..12)
        .map(|i| env.user(&format!("cliente{i}@example.com")).1)
        .collect();
    env.user("victima@example.com");

    // Ordinary authenticated requests, several at once, for as long as the
    // flood lasts (and at least a few rounds).
    let flooding = Arc::new(AtomicBool::new(true));
    let ordinary = customers.iter().map(|token| {
        let (http, flooding) = (env.http.clone(), flooding.clone());
        let (slots, me) = (server.url("/api/reporter/slots/"), server.url("/api/me/"));
        let token = token.clone();
        async move {
            let (mut ok, mut failed) = (0u32, Vec::new());
            let mut rounds = 0;
            while flooding.load(Ordering::SeqCst) || rounds < 3 {
                rounds += 1;
                for url in [&slots, &me] {
                    match http
                        .get(url)
                        .header("Authorization", format!("Token {token}"))
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => ok += 1,
                        Ok(r) => failed.push(format!("{url}: {}", r.status())),
                        Err(e) => failed.push(format!("{url}: {e}")),
                    }
                }
            }
            (ok, failed)
        }
    });
    let ordinary = tokio::spawn(join_all(ordinary));

    // The flood: 60 guesses on one account from one address, and 240 from
    // 240 addresses on 240 accounts (existing or not): past every per-client
    // and per-account limit, only the cap on password checks stops these.
    let flood = (0..300u32).map(|i| {
        let env = &env;
        let server = &server;
        async move {
            if i < 60 {
                api_login(env, server, "victima@example.com", "adivina", None).await
            } else {
                let email = if i % 2 == 0 {
                    format!("cliente{}@example.com", i % 12)
                } else {
                    format!("nadie{i}@example.com")
                };
                api_login(env, server, &email, "adivina", Some(&ip(i))).await
            }
        }
    });
    let answers = join_all(flood).await;
    flooding.store(false, Ordering::SeqCst);

    let mut counts = std::collections::BTreeMap::new();
    for (status, retry, body) in &answers {
        *counts.entry(status.as_u16()).or_insert(0) += 1;
        match status.as_u16() {
            401 => assert_eq!(body["code"], "invalid_credentials", "{body}"),
            429 => {
                assert!(
                    matches!(body["code"].as_str(), Some("rate_limited" | "login_locked")),
                    "{body}"
                );
                assert!(
                    retry.is_some_and(|s| s >= 1),
                    "429 without Retry-After: {body}"
                );
            }
            503 => {
                assert_eq!(body["code"], "login_busy", "{body}");
                assert!(
                    retry.is_some_and(|s| s >= 1),
                    "503 without Retry-After: {body}"
                );
            }
            other => panic!("flood answered {other}: {body}"),
        }
    }
    // One address gets its burst (20), no more.
    assert!(counts.get(&429).copied().unwrap_or(0) >= 40, "{counts:?}");
    eprintln!("flood answers by status: {counts:?}");

    let results = ordinary.await.unwrap();
    let ok: u32 = results.iter().map(|(ok, _)| ok).sum();
    let failed: Vec<&String> = results.iter().flat_map(|(_, f)| f).collect();
    eprintln!("ordinary requests: {ok} ok, {} failed", failed.len());
    assert!(ok >= 12 * 2 * 3, "ordinary requests ran: {ok}");
    assert!(failed.is_empty(), "ordinary requests failed: {failed:?}");

    // And the right password of an account the flood did not aim at works
    // at once from a fresh address.
    let (s, _, body) = api_login(
        &env,
        &server,
        "cliente1@example.com",
        PASSWORD,
        Some("192.0.2.77"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
}
