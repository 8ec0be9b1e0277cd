//! The console's hour planner: an hour whose customers need more browser
//! time than the fleet has is drawn over budget, with its customers.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_draws_an_over_budget_hour_with_its_customers() {
    let ui = Ui::start(&[]).await;
    ui.create_user("ops@example.com", 0, true);
    // No history: 60,000 orders × 0.08 = 4,800 stuck, ~1,200 browser-minutes
    // against 288 available; 800 orders (64 stuck) fit easily.
    let (big, _) = ui.create_user("grande@example.com", 60_000, false);
    let (small, _) = ui.create_user("chica@example.com", 800, false);
    ui.reserve(big, 9, 60_000);
    ui.reserve(small, 10, 800);

    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "ops@example.com").await;
    wait_text(&d, "#plan-title", "Planificador").await;
    let over = wait_text(&d, "#plan-hours li.over[data-hour='9']", "excede").await;
    assert!(over.contains("grande@example.com"), "{over}");
    assert!(over.contains("/ 288 min"), "{over}");
    let label = attr_of(&d, "#plan-hours li[data-hour='9'] .plan-bar", "aria-label")
        .await
        .unwrap();
    assert!(label.contains("excede el presupuesto"), "{label}");
    let fine = wait_text(&d, "#plan-hours li[data-hour='10']", "chica@example.com").await;
    assert!(!fine.contains("excede"), "{fine}");
    assert!(!is_shown(&d, "#plan-hours li.over[data-hour='10']").await);
    wait_text(&d, "#plan-summary", "1 hora excede").await;
    wait_text(&d, "#plan-error", "aún no hay ejecuciones").await;
    screenshot(&d, "console-planner", Viewport::Desktop).await;
    screenshot(&d, "console-planner", Viewport::Phone).await;
}
