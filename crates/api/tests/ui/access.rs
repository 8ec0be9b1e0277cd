//! What a customer's browser session can and cannot do.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_cannot_open_the_console_nor_call_its_api_and_can_log_out() {
    let ui = Ui::start(&[]).await;
    ui.create_user("ana@example.com", 1000, false);
    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "ana@example.com").await;
    wait_shown(&d, "#reserve").await;

    d.goto(&ui.url("/admin")).await.unwrap();
    wait_text(&d, "h1", "solo para operadores").await;
    assert!(!is_shown(&d, "#runs-table").await);

    // The console's API refuses the customer's session…
    for path in [
        "/api/reporter/admin/queues",
        "/api/reporter/admin/semaphore",
        "/api/reporter/admin/runs",
        "/api/reporter/admin/failed-ranges",
    ] {
        let (status, body) = page_fetch(&d, "GET", path).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["code"], "forbidden");
    }
    // …and a change carried by the cookie alone (no CSRF header) is refused
    // before anything else is looked at.
    let (status, body) = page_fetch(&d, "POST", "/api/reporter/admin/trigger-slot").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "csrf_failed");
    let (status, body) = page_fetch(&d, "DELETE", "/api/reporter/reservations").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "csrf_failed");

    // The session cookie is invisible to scripts.
    let cookies: String = d
        .execute("return document.cookie;", vec![])
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(!cookies.contains("reporter_session"), "{cookies}");

    click(&d, ".nav button[type=submit]").await;
    wait_text(&d, ".notice", "Has cerrado la sesión").await;
    d.goto(&ui.url("/app")).await.unwrap();
    wait_shown(&d, "#login-form").await;
    let (status, _) = page_fetch(&d, "GET", "/api/me").await;
    assert_eq!(status, 401);
    d.quit().await.unwrap();
}
