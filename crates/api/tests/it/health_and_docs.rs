use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn healthz_reports_database_and_redis_with_latency() {
    let app = TestApp::spawn().await;
    let (s, h) = app.call(Method::GET, "/api/v1/healthz", None, None).await;
    assert_eq!(s, 200, "{h}");
    assert!(
        matches!(h["status"].as_str(), Some("healthy" | "degraded")),
        "{h}"
    );
    assert!(h["timestamp"].is_string());
    for dep in ["database", "redis"] {
        assert!(h["checks"][dep]["status"].is_string(), "{h}");
        assert!(h["checks"][dep]["latency_ms"].is_number(), "{h}");
    }
    assert_eq!(
        app.call(Method::GET, "/api/v1/livez", None, None).await.0,
        200
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/readyz", None, None).await.0,
        200
    );
}

#[tokio::test]
async fn health_is_unhealthy_503_when_redis_is_unreachable() {
    // Port 1 on loopback: nothing listens there.
    let app = TestApp::spawn_with(&[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    let (s, h) = app.call(Method::GET, "/api/v1/healthz", None, None).await;
    assert_eq!(s, 503, "{h}");
    assert_eq!(h["status"], "unhealthy");
    assert_eq!(h["checks"]["redis"]["status"], "unhealthy");
    assert_eq!(h["checks"]["database"]["status"], "healthy");
    assert_eq!(
        app.call(Method::GET, "/api/v1/readyz", None, None).await.0,
        503
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/livez", None, None).await.0,
        200
    );
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint_and_docs_page_is_self_contained() {
    let app = TestApp::spawn().await;
    let (s, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/auth/login/",
        "/api/auth/logout/",
        "/api/me/",
        "/api/me/portal-credentials/",
        "/api/reporter/slots/",
        "/api/reporter/reservations/",
        "/api/reporter/runs/",
        "/api/reporter/runs/{id}/progress/",
        "/api/reporter/config/",
        "/api/reporter/admin/config/",
        "/api/reporter/admin/slots/",
        "/api/reporter/admin/slots/{id}/",
        "/api/reporter/admin/reservations/",
        "/api/reporter/admin/trigger-slot/",
        "/api/reporter/admin/ranges/{id}/retry/",
        "/api/reporter/admin/queues/",
        "/api/reporter/admin/semaphore/",
        "/api/reporter/admin/semaphore/reset/",
        "/api/reporter/admin/workers/",
        "/api/v1/healthz",
        "/api/v1/livez",
        "/api/v1/readyz",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
    let page = app.http.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/reporter/reservations/"));
    assert!(
        !html.contains("<script src=\"http"),
        "docs page must not load remote scripts"
    );
    assert!(!html.contains("cdn"), "docs page must not use a CDN");
}

#[tokio::test]
async fn metrics_expose_http_counters_and_system_gauges_in_prometheus_format() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    assert_eq!(
        app.call(Method::GET, "/api/reporter/slots/", Some(&u.token), None)
            .await
            .0,
        200
    );
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    for needle in [
        "http_requests_total{",
        "route=\"/api/reporter/slots\"",
        "http_request_duration_seconds_bucket",
        "reporter_queue_jobs{",
        "reporter_browser_leases_limit 6",
        "reporter_runs{",
    ] {
        assert!(
            body.contains(needle),
            "{needle} missing from /metrics:\n{body}"
        );
    }
}
