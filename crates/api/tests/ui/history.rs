//! The customer's 30-day history and the downloads of reported orders.

use chrono::Duration;
use thirtyfour::prelude::*;

use crate::harness::*;
use crate::ledger_seed::{self, DayRun, Ending};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Fetches `path` inside the page (its cookie only) and returns status,
/// `Content-Type` and `Content-Disposition`.
async fn page_head(d: &WebDriver, path: &str) -> (u16, String, String) {
    let script = r#"
        const [path, done] = arguments;
        fetch(path, { credentials: "same-origin" })
          .then(r => r.arrayBuffer().then(() => done([r.status,
              r.headers.get("Content-Type") || "", r.headers.get("Content-Disposition") || ""])))
          .catch(e => done([0, String(e), ""]));
    "#;
    let ret = d
        .execute_async(script, vec![serde_json::json!(path)])
        .await
        .unwrap();
    ret.convert().unwrap()
}

async fn set_value(d: &WebDriver, id: &str, value: &str) {
    d.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .unwrap();
}

async fn rows(d: &WebDriver) -> usize {
    d.find_all(By::Css("#history-list li.day"))
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_shows_30_days_and_the_reported_orders_download() {
    let ui = Ui::start(&[]).await;
    let (ana, _) = ui.create_user("ana@example.com", 1500, false);
    ui.reserve(ana, 9, 1500);
    let today = ledger_seed::today();
    let ago = |n: i64| today - Duration::days(n);
    let mut c = ui.conn();
    let mut order = 1000;
    let mut newest_run = 0;
    // A month of runs: most days fine, one late, one failed download, one
    // failed range, a few days without a run (before the reservation).
    for n in (0..26).rev() {
        let ending = match n {
            4 => Ending::DownloadFailed,
            9 => Ending::RangeFailed,
            _ => Ending::Completed,
        };
        let stuck = if ending == Ending::DownloadFailed {
            0
        } else {
            4 + (n * 7 % 11) as i32
        };
        let filed = if ending == Ending::RangeFailed {
            stuck / 2
        } else {
            stuck - (n % 3) as i32
        };
        let reports: Vec<(i64, &str)> = (0..filed.max(0))
            .map(|i| {
                order += 1;
                (
                    order,
                    if i == 0 && n % 5 == 0 {
                        "already_reported"
                    } else {
                        "reported"
                    },
                )
            })
            .collect();
        let (run, _) = ledger_seed::seed(
            &mut c,
            &DayRun {
                user_id: ana,
                date: ago(n),
                hour: 9,
                stuck,
                late_start: n == 2,
                ending,
                reports: &reports,
            },
        );
        newest_run = run;
    }

    for vp in [Viewport::Desktop, Viewport::Phone] {
        let d = ui.browser(vp).await;
        ui.login(&d, "ana@example.com").await;
        wait_shown(&d, "#history-panel").await;
        wait_for("30 days of history", || async {
            (rows(&d).await == 30).then_some(())
        })
        .await;
        // Newest first; flags in words, not only colour.
        let first = attr_of(&d, "#history-list li.day", "data-date")
            .await
            .unwrap();
        assert_eq!(first, today.to_string());
        let row = |n: i64| format!("#history-list li[data-date='{}']", ago(n));
        wait_text(&d, &row(4), "falló").await;
        assert!(attr_of(&d, &row(4), "class")
            .await
            .unwrap()
            .contains("failed"));
        wait_text(&d, &row(9), "falló").await;
        wait_text(&d, &row(2), "inicio tardío").await;
        wait_text(&d, &row(28), "sin ejecución").await;
        wait_text(&d, &row(1), "reportados").await;
        wait_text(&d, "#history-summary", "2 días con fallos").await;
        wait_text(&d, "#history-summary", "1 día con inicio tardío").await;
        wait_for("runs in the download list", || async {
            attr_of(&d, "#download-run-xlsx", "href")
                .await
                .filter(|h| h.contains(&format!("/runs/{newest_run}/")))
        })
        .await;
        if matches!(vp, Viewport::Phone) {
            // A phone's page is long: the picture shows the part this is about.
            d.execute(
                "for (const css of ['#dashboard .panels', '#progress-panel', '#orders-panel']) \
                   document.querySelector(css).hidden = true;",
                vec![],
            )
            .await
            .unwrap();
        }
        screenshot(&d, "history", vp).await;
        d.quit().await.unwrap();
    }

    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "ana@example.com").await;
    wait_for("the run links", || async {
        attr_of(&d, "#download-run-csv", "href")
            .await
            .filter(|h| h.contains("format=csv"))
    })
    .await;
    // The run's links download the files.
    for (id, ty, ext) in [
        ("xlsx", XLSX, "xlsx"),
        ("csv", "text/csv; charset=utf-8", "csv"),
    ] {
        let href = attr_of(&d, &format!("#download-run-{id}"), "href")
            .await
            .unwrap();
        assert_eq!(
            attr_of(&d, &format!("#download-run-{id}"), "download")
                .await
                .as_deref(),
            Some("")
        );
        let (status, content_type, disposition) = page_head(&d, &href).await;
        assert_eq!((status, content_type.as_str()), (200, ty), "{href}");
        assert_eq!(
            disposition,
            format!("attachment; filename=\"reportados-ejecucion-{newest_run}-{today}.{ext}\"")
        );
    }
    // Another run in the list points the links at it.
    let older = d
        .find(By::Css("#download-run option:nth-child(2)"))
        .await
        .unwrap();
    let older_id = older.value().await.unwrap().unwrap();
    older.click().await.unwrap();
    wait_for("links follow the chosen run", || async {
        attr_of(&d, "#download-run-xlsx", "href")
            .await
            .filter(|h| h.contains(&format!("/runs/{older_id}/")))
    })
    .await;

    // A range: refused with the server's Spanish reason, then downloaded.
    let value = |id: &'static str| {
        let d = &d;
        async move {
            d.find(By::Id(id))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
        }
    };
    assert_eq!(value("range-to").await, Some(today.to_string()));
    assert_eq!(
        value("range-from").await,
        Some(ago(29).to_string()),
        "defaults to the last 30 days"
    );
    set_value(&d, "range-from", &today.to_string()).await;
    set_value(&d, "range-to", &ago(3).to_string()).await;
    click(&d, "#download-range button[value=xlsx]").await;
    wait_text(&d, "#range-status", "no puede ser posterior").await;
    set_value(&d, "range-from", &ago(10).to_string()).await;
    set_value(&d, "range-to", &today.to_string()).await;
    click(&d, "#download-range button[value=csv]").await;
    wait_text(
        &d,
        "#range-status",
        &format!("Archivo descargado: reportados-{}-a-{today}.csv", ago(10)),
    )
    .await;
    d.quit().await.unwrap();
}
