//! Downloads of the reported orders: a run's (the caller's part) and a
//! range of business dates, as `.xlsx` (read back with calamine) and CSV.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use reqwest::{Method, StatusCode};

use crate::helpers::*;
use crate::ledger_seed::{self, DayRun, Ending};

const HEADERS: [&str; 8] = [
    "Fecha",
    "Orden",
    "Estado",
    "Transportadora",
    "Guía",
    "Ticket",
    "Resultado",
    "Reportado a las",
];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

struct File {
    content_type: String,
    disposition: String,
    cache: String,
    body: Vec<u8>,
}

async fn download(app: &TestApp, path: &str, token: &str) -> File {
    let res = app
        .req(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let h = |n: &str| {
        res.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, disposition, cache) = (
        h("content-type"),
        h("content-disposition"),
        h("cache-control"),
    );
    File {
        content_type,
        disposition,
        cache,
        body: res.bytes().await.unwrap().to_vec(),
    }
}

/// The sheet's rows as text: dates as `YYYY-MM-DD`, date-times as
/// `YYYY-MM-DD HH:MM:SS`, numbers without decimals.
fn sheet_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), ["Reportados"]);
    let range = book.worksheet_range("Reportados").unwrap();
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::DateTime(dt) => {
                        let serial = dt.as_f64();
                        let t =
                            epoch + Duration::milliseconds((serial * 86_400_000.0).round() as i64);
                        if serial.fract() == 0.0 {
                            t.format("%Y-%m-%d").to_string()
                        } else {
                            t.format("%Y-%m-%d %H:%M:%S").to_string()
                        }
                    }
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => panic!("unexpected cell {other:?}"),
                })
                .collect()
        })
        .collect()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM for Excel");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn a_runs_reported_orders_download_as_xlsx_and_csv_in_spanish() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 1000, false);
    let today = ledger_seed::today();
    let (run_id, run_user_id) = ledger_seed::seed(
        &mut app.conn(),
        &DayRun {
            user_id: ana.id,
            date: today,
            hour: 9,
            stuck: 5,
            late_start: false,
            ending: Ending::Completed,
            reports: &[],
        },
    );
    // 14:05:06 UTC is 09:05:06 in Bogotá (UTC-5, no DST).
    let first = Utc.with_ymd_and_hms(2026, 3, 9, 14, 5, 6).unwrap();
    let mut c = app.conn();
    ledger_seed::report(&mut c, ana.id, run_user_id, today, 700, "reported", first);
    ledger_seed::report(
        &mut c,
        ana.id,
        run_user_id,
        today,
        701,
        "already_reported",
        first + Duration::seconds(30),
    );

    let path = format!("/api/reporter/runs/{run_id}/reports/export/?format=xlsx");
    let f = download(&app, &path, &ana.token).await;
    assert_eq!(f.content_type, XLSX);
    assert_eq!(
        f.disposition,
        format!("attachment; filename=\"reportados-ejecucion-{run_id}-{today}.xlsx\"")
    );
    assert!(f.cache.contains("no-store"), "{}", f.cache);
    let rows = sheet_rows(&f.body);
    assert_eq!(rows[0], HEADERS);
    assert_eq!(
        rows[1..],
        [
            [
                today.to_string(),
                "700".into(),
                "En tránsito".into(),
                "Servientrega".into(),
                "GU700".into(),
                "TK-700".into(),
                "Reportado".into(),
                "2026-03-09 09:05:06".into(),
            ],
            [
                today.to_string(),
                "701".into(),
                "En tránsito".into(),
                "Servientrega".into(),
                "GU701".into(),
                "TK-701".into(),
                "Ya estaba reportado".into(),
                "2026-03-09 09:05:36".into(),
            ],
        ]
    );

    // The same rows as CSV; xlsx is the default format.
    let csv = download(
        &app,
        &format!("/api/reporter/runs/{run_id}/reports/export?format=csv"),
        &ana.token,
    )
    .await;
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert_eq!(
        csv.disposition,
        format!("attachment; filename=\"reportados-ejecucion-{run_id}-{today}.csv\"")
    );
    assert_eq!(csv_rows(&csv.body), rows);
    let default = download(
        &app,
        &format!("/api/reporter/runs/{run_id}/reports/export"),
        &ana.token,
    )
    .await;
    assert_eq!(default.content_type, XLSX);

    let (s, b) = app
        .call(
            Method::GET,
            &format!("/api/reporter/runs/{run_id}/reports/export?format=pdf"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_error(s, &b, 400, "invalid_format");
}

#[tokio::test]
async fn another_customers_run_is_not_found_and_their_rows_never_show() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 1000, false);
    let bob = app.create_user("bob@example.com", 1000, false);
    let ops = app.create_user("ops@example.com", 0, true);
    let today = ledger_seed::today();
    let (bob_run, _) = ledger_seed::seed(
        &mut app.conn(),
        &DayRun {
            user_id: bob.id,
            date: today,
            hour: 10,
            stuck: 2,
            late_start: false,
            ending: Ending::Completed,
            reports: &[(900, "reported"), (901, "reported")],
        },
    );
    let (ana_run, _) = ledger_seed::seed(
        &mut app.conn(),
        &DayRun {
            user_id: ana.id,
            date: today,
            hour: 11,
            stuck: 1,
            late_start: false,
            ending: Ending::Completed,
            reports: &[(800, "reported")],
        },
    );

    for format in ["xlsx", "csv"] {
        let path = format!("/api/reporter/runs/{bob_run}/reports/export?format={format}");
        let (s, b) = app.call(Method::GET, &path, Some(&ana.token), None).await;
        assert_error(s, &b, 404, "run_not_found");
        // Like the reports table, an admin downloads their own part only.
        let (s, b) = app.call(Method::GET, &path, Some(&ops.token), None).await;
        assert_error(s, &b, 404, "run_not_found");
        let (s, b) = app.call(Method::GET, &path, None, None).await;
        assert_error(s, &b, 401, "not_authenticated");
    }
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/runs/999999/reports/export",
            Some(&ana.token),
            None,
        )
        .await;
    assert_error(s, &b, 404, "run_not_found");

    let mine = download(
        &app,
        &format!("/api/reporter/reports/export?format=csv&from={today}&to={today}"),
        &ana.token,
    )
    .await;
    let rows = csv_rows(&mine.body);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][1], "800");
    let theirs = download(
        &app,
        &format!("/api/reporter/runs/{ana_run}/reports/export?format=csv"),
        &ana.token,
    )
    .await;
    assert_eq!(csv_rows(&theirs.body), rows);
}

#[tokio::test]
async fn a_range_of_business_dates_downloads_and_bad_dates_are_refused_in_spanish() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 1000, false);
    let today = ledger_seed::today();
    let mut c = app.conn();
    for (days_ago, hour, order) in [(0, 9, 1), (3, 9, 2), (40, 9, 3)] {
        ledger_seed::seed(
            &mut c,
            &DayRun {
                user_id: ana.id,
                date: today - Duration::days(days_ago),
                hour,
                stuck: 1,
                late_start: false,
                ending: Ending::Completed,
                reports: &[(order, "reported")],
            },
        );
    }

    let from = today - Duration::days(5);
    let f = download(
        &app,
        &format!("/api/reporter/reports/export?from={from}&to={today}&format=xlsx"),
        &ana.token,
    )
    .await;
    assert_eq!(f.content_type, XLSX);
    assert_eq!(
        f.disposition,
        format!("attachment; filename=\"reportados-{from}-a-{today}.xlsx\"")
    );
    let rows = sheet_rows(&f.body);
    assert_eq!(rows[0], HEADERS);
    let days: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    let (d3, d0) = ((today - Duration::days(3)).to_string(), today.to_string());
    assert_eq!(
        days,
        [(d3.as_str(), "2"), (d0.as_str(), "1")],
        "oldest first"
    );

    // Without dates: the last 30 days (the 40-day-old report is outside).
    let f = download(&app, "/api/reporter/reports/export?format=csv", &ana.token).await;
    assert_eq!(csv_rows(&f.body).len(), 3);
    // An empty range still has its headers.
    let old = today - Duration::days(100);
    let f = download(
        &app,
        &format!("/api/reporter/reports/export?format=csv&from={old}&to={old}"),
        &ana.token,
    )
    .await;
    assert_eq!(csv_rows(&f.body), [HEADERS.map(String::from).to_vec()]);

    let tomorrow = today + Duration::days(1);
    let too_far = today - Duration::days(400);
    for (query, code, says) in [
        ("from=2026-02-30".to_string(), "invalid_date", "AAAA-MM-DD"),
        ("to=07%2F12%2F2026".to_string(), "invalid_date", "«to»"),
        (
            format!("from={today}&to={from}"),
            "invalid_date_range",
            "posterior",
        ),
        (format!("to={tomorrow}"), "date_in_future", "hoy"),
        (
            format!("from={too_far}&to={today}"),
            "date_range_too_long",
            "400 días",
        ),
        ("format=ods".to_string(), "invalid_format", "xlsx o csv"),
        ("desde=2026-01-01".to_string(), "invalid_query", ""),
    ] {
        let (s, b) = app
            .call(
                Method::GET,
                &format!("/api/reporter/reports/export?{query}"),
                Some(&ana.token),
                None,
            )
            .await;
        assert_error(s, &b, 400, code);
        assert!(b["detail"].as_str().unwrap().contains(says), "{query}: {b}");
    }
}
