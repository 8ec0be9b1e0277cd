//! Finding 2: no rate limit or lockout on the login routes (50 wrong
//! passwords in 12 s, then the right one worked at once). Now: per client
//! address in each process, per account across replicas (Redis) with
//! exponential backoff, on the API route and the form alike.

use reporter_api::login_guard::{ACCOUNT_FREE_ATTEMPTS, IP_BURST};

use crate::*;

/// Wrong-password logins on ever new accounts until one is refused, each
/// with the `X-Forwarded-For` `xff(i)`; how many were checked (401) first,
/// and the refusal. Sequential, so the address's bucket refills by one every
/// 3 s meanwhile: a slow machine may get a few more than the burst.
async fn until_limited(
    env: &Env,
    s: &Server,
    xff: impl Fn(u32) -> String,
) -> (u32, Option<u64>, serde_json::Value) {
    for i in 0..IP_BURST * 3 {
        let email = format!("n{i}@example.com");
        let (status, retry, b) = api_login(env, s, &email, "x", Some(&xff(i))).await;
        match status.as_u16() {
            401 => continue,
            429 => return (i, retry, b),
            other => panic!("attempt {i}: {other} {b}"),
        }
    }
    panic!("no 429 after {} attempts", IP_BURST * 3)
}

#[tokio::test]
async fn one_address_gets_its_burst_then_429_and_forwarded_for_counts_only_from_a_trusted_proxy() {
    let env = Env::new();
    // The default trusts loopback: the test client plays the proxy.
    let behind_proxy = env.server(&[]);
    let (checked, retry, b) = until_limited(&env, &behind_proxy, |_| "203.0.113.5".into()).await;
    assert!(
        checked >= IP_BURST,
        "only {checked} attempts before the limit"
    );
    assert_eq!(b["code"], "rate_limited");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("Demasiados intentos"),
        "{b}"
    );
    assert!(retry.is_some_and(|r| r >= 1), "{retry:?}");
    // Another client behind the same proxy is not affected...
    let (s, _, b) = api_login(
        &env,
        &behind_proxy,
        "otro@example.com",
        "x",
        Some("203.0.113.6"),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    // ...and the form shares the same limit.
    let mut refused = None;
    for _ in 0..5 {
        let (s, retry, page) = form_login(
            &env,
            &behind_proxy,
            "otro@example.com",
            "x",
            Some("203.0.113.5"),
        )
        .await;
        if s == 429 {
            refused = Some((retry, page));
            break;
        }
    }
    let (retry, page) = refused.expect("the form is limited too");
    assert!(retry.is_some_and(|r| r >= 1));
    assert!(page.contains("Demasiados intentos"), "{page}");

    // Peers that are not trusted proxies cannot pick their address: every
    // X-Forwarded-For value counts as the one loopback client.
    let direct = env.server(&[("REPORTER_TRUSTED_PROXIES", "192.0.2.0/24")]);
    let (checked, _, b) = until_limited(&env, &direct, ip).await;
    assert!(checked >= IP_BURST, "{checked}: {b}");
    assert_eq!(
        b["code"], "rate_limited",
        "a forged X-Forwarded-For escaped the limit"
    );
}

/// A login on ana's account from a new address, on replica `n % 2`.
async fn attempt(
    env: &Env,
    replicas: &[Server; 2],
    n: &mut u32,
    password: &str,
) -> (reqwest::StatusCode, Option<u64>, serde_json::Value) {
    *n += 1;
    let s = &replicas[*n as usize % 2];
    api_login(env, s, "ana@example.com", password, Some(&ip(*n))).await
}

/// Wrong passwords on one account from ever new addresses, alternating
/// between two replicas that share Redis.
#[tokio::test]
async fn an_account_locks_across_replicas_with_exponential_backoff_and_a_login_resets_it() {
    let env = Env::new();
    env.user("ana@example.com");
    let replicas = [env.server(&[]), env.server(&[])];
    let mut n = 0u32;

    for i in 1..ACCOUNT_FREE_ATTEMPTS {
        let (s, _, b) = attempt(&env, &replicas, &mut n, "mala").await;
        assert_eq!(s, 401, "attempt {i}: {b}");
    }
    // The 5th attempt is still checked, and locks the account for 1 s,
    // then 2 s, 4 s, 8 s for each further one: on both replicas. The 401
    // says so in Retry-After, and so do the 429s while the lock lasts.
    let (s, retry, b) = attempt(&env, &replicas, &mut n, "mala").await;
    assert_eq!((s.as_u16(), retry), (401, Some(1)), "{b}");
    for want in [1, 2, 4, 8] {
        for _ in 0..2 {
            // Even the right password waits: the lock is on the account.
            let (s, retry, b) = attempt(&env, &replicas, &mut n, PASSWORD).await;
            assert_eq!(s, 429, "{b}");
            assert_eq!(b["code"], "login_locked", "{b}");
            assert!(b["detail"].as_str().unwrap().contains("espera"), "{b}");
            assert_eq!(retry, Some(want), "{b}");
        }
        env.end_lock("ana@example.com").await;
        let (s, retry, b) = attempt(&env, &replicas, &mut n, "mala").await;
        assert_eq!((s.as_u16(), retry), (401, Some(want * 2)), "{b}");
    }
    let (s, retry, _) = attempt(&env, &replicas, &mut n, "mala").await;
    assert_eq!((s.as_u16(), retry), (429, Some(16)));

    // The right password once the lock is over: 200, and the count starts
    // again (four more wrong ones are all checked).
    env.end_lock("ana@example.com").await;
    let (s, _, b) = attempt(&env, &replicas, &mut n, PASSWORD).await;
    assert_eq!(s, 200, "{b}");
    for i in 1..ACCOUNT_FREE_ATTEMPTS {
        let (s, _, b) = attempt(&env, &replicas, &mut n, "mala").await;
        assert_eq!(s, 401, "attempt {i} after the reset: {b}");
    }

    // Unknown accounts lock the same way (no hint of which emails exist).
    for _ in 0..ACCOUNT_FREE_ATTEMPTS {
        let (s, _, _) = api_login(
            &env,
            &replicas[0],
            "nadie@example.com",
            "x",
            Some(&ip(9000 + n)),
        )
        .await;
        n += 1;
        assert_eq!(s, 401);
    }
    let (s, retry, _) = api_login(
        &env,
        &replicas[1],
        "nadie@example.com",
        "x",
        Some("192.0.2.1"),
    )
    .await;
    assert_eq!((s.as_u16(), retry), (429, Some(1)));
}

#[tokio::test]
async fn the_login_form_locks_the_account_and_says_so_in_spanish() {
    let env = Env::new();
    env.user("ana@example.com");
    let s = env.server(&[]);
    for i in 0..ACCOUNT_FREE_ATTEMPTS {
        let (status, _, page) = form_login(&env, &s, "ana@example.com", "mala", Some(&ip(i))).await;
        assert_eq!(status, 401, "attempt {i}");
        assert!(page.contains("Correo o contraseña incorrectos"));
    }
    let (status, retry, page) =
        form_login(&env, &s, "ana@example.com", PASSWORD, Some("192.0.2.9")).await;
    assert_eq!(status, 429);
    assert_eq!(retry, Some(1));
    assert!(
        page.contains("Demasiados intentos fallidos para esta cuenta"),
        "{page}"
    );
    assert!(page.contains("value=\"ana@example.com\""), "email kept");

    // The API route shares the account's counter.
    let (status, _, b) = api_login(&env, &s, "ana@example.com", PASSWORD, Some("192.0.2.10")).await;
    assert_eq!(status, 429, "{b}");

    env.end_lock("ana@example.com").await;
    let (status, _, _) =
        form_login(&env, &s, "ana@example.com", PASSWORD, Some("192.0.2.11")).await;
    assert_eq!(status, 303, "the right password after the lock logs in");
}
