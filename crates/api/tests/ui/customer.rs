//! The customer's page: log in, reserve, see full hours locked, lose a race,
//! change and cancel the reservation, set the portal account.

use diesel::prelude::*;
use reporter_core::schema::users;
use thirtyfour::prelude::*;

use crate::harness::*;

async fn hour_button(d: &WebDriver, hour: &str) -> WebElement {
    d.find(By::Css(format!("#hour-grid button[data-hour='{hour}']")))
        .await
        .unwrap()
}

/// The grid re-renders as data arrives; a click that meets a replaced
/// button is tried again on the new one.
async fn click_hour(d: &WebDriver, hour: &str) {
    for _ in 0..50 {
        match hour_button(d, hour).await.click().await {
            Ok(()) => return,
            Err(e)
                if matches!(
                    e.as_inner(),
                    thirtyfour::error::WebDriverErrorInner::StaleElementReference(_)
                ) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
            Err(e) => panic!("click {hour}: {e}"),
        }
    }
    panic!("{hour} kept being replaced");
}

async fn locked(d: &WebDriver, hour: &str) -> Option<bool> {
    let css = format!("#hour-grid button[data-hour='{hour}']");
    let e = d.find(By::Css(&css)).await.ok()?;
    let class = e.attr("class").await.ok()??;
    Some(class.split(' ').any(|c| c == "locked"))
}

/// Waits until `hour` shows locked (`true`) or free (`false`).
async fn expect_locked(d: &WebDriver, hour: &str, want: bool) {
    wait_for(&format!("{hour} locked = {want}"), || async {
        (locked(d, hour).await == Some(want)).then_some(())
    })
    .await;
}

async fn type_orders(d: &WebDriver, n: &str) {
    let input = d.find(By::Id("orders")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(n).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_logs_in_reserves_an_hour_and_manages_the_reservation() {
    let ui = Ui::start(&[]).await;
    let (ana, _) = ui.create_user("ana@example.com", 1500, false);
    // 07:00 is full: two big customers (3 points each) fill its 6 points.
    for n in 1..=2 {
        let (u, _) = ui.create_user(&format!("grande{n}@example.com"), 9000, false);
        ui.reserve(u, 7, 9000);
    }

    for vp in [Viewport::Desktop, Viewport::Phone] {
        let d = ui.browser(vp).await;
        d.goto(&ui.url("/app")).await.unwrap();
        wait_shown(&d, "#login-form").await;
        screenshot(&d, "login", vp).await;
        d.quit().await.unwrap();
    }

    let d = ui.browser(Viewport::Desktop).await;
    // A wrong password: the form says so and keeps the email.
    d.goto(&ui.url("/login")).await.unwrap();
    d.find(By::Id("email"))
        .await
        .unwrap()
        .send_keys("ana@example.com")
        .await
        .unwrap();
    d.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys("mala")
        .await
        .unwrap();
    click(&d, "#login-form button[type=submit]").await;
    wait_text(&d, "#login-error", "Correo o contraseña incorrectos").await;
    assert_eq!(
        attr_of(&d, "#email", "value").await.as_deref(),
        Some("ana@example.com")
    );

    ui.login(&d, "ana@example.com").await;
    wait_shown(&d, "#reserve").await;
    wait_shown(&d, "#hour-grid button[data-hour='08:00']").await;
    // The estimate comes from the account: 1500 a month is small (1 point).
    wait_text(&d, "#size-label", "pequeño").await;
    expect_locked(&d, "07:00", true).await;
    expect_locked(&d, "08:00", false).await;
    assert!(text_of(&d, "#hour-grid button[data-hour='07:00']")
        .await
        .unwrap()
        .contains("6/6"));
    // A locked hour cannot be picked.
    click_hour(&d, "07:00").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(is_shown(&d, "#reserve").await);
    // Size follows the estimate as it is typed.
    type_orders(&d, "4200").await;
    wait_text(&d, "#size-label", "mediano").await;
    type_orders(&d, "1500").await;
    wait_text(&d, "#size-label", "pequeño").await;
    screenshot(&d, "reserve", Viewport::Desktop).await;
    screenshot(&d, "reserve", Viewport::Phone).await;
    set_viewport(&d, Viewport::Desktop).await;

    click_hour(&d, "08:00").await;
    wait_shown(&d, "#dashboard").await;
    wait_text(&d, "#res-hour", "08:00").await;
    // When its first run is (tomorrow when 08:00 already passed today).
    wait_text(&d, "#res-next", "a las 08:00").await;
    wait_text(&d, "#res-size", "pequeño").await;
    wait_text(&d, "#res-portal", "Sin configurar").await;
    wait_shown(&d, "#progress-empty").await;
    wait_text(&d, "#kpi-result", "todavía ninguna").await;

    // Portal account: saved, shown as set, password never shown back.
    d.find(By::Id("portal-email"))
        .await
        .unwrap()
        .send_keys("ana@portal.test")
        .await
        .unwrap();
    d.find(By::Id("portal-password"))
        .await
        .unwrap()
        .send_keys("secreta-1")
        .await
        .unwrap();
    click(&d, "#portal-form button[type=submit]").await;
    wait_text(&d, "#portal-status", "guardada").await;
    wait_text(&d, "#res-portal", "Configurada (ana@portal.test)").await;
    let typed = d
        .find(By::Id("portal-password"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some(""), "the password field is emptied");
    let (pe, enc): (Option<String>, Option<Vec<u8>>) = users::table
        .find(ana)
        .select((users::portal_email, users::portal_password_enc))
        .first(&mut ui.conn())
        .unwrap();
    assert_eq!(pe.as_deref(), Some("ana@portal.test"));
    assert!(enc.is_some_and(|e| !e.windows(9).any(|w| w == b"secreta-1")));

    // Change the hour: the current one is marked, 07:00 still locked.
    click(&d, "#change-hour").await;
    wait_text(&d, "#reserve-title", "Cambia tu hora").await;
    wait_for("grid in change mode", || async {
        attr_of(&d, "#hour-grid button[data-hour='08:00']", "class")
            .await
            .filter(|c| c.contains("mine"))
    })
    .await;
    expect_locked(&d, "07:00", true).await;
    click_hour(&d, "10:00").await;
    confirm(&d).await;
    wait_shown(&d, "#dashboard").await;
    wait_text(&d, "#res-hour", "10:00").await;

    // Cancel, with confirmation: first say no, then yes.
    click(&d, "#cancel-reservation").await;
    wait_shown(&d, "#confirm-dialog").await;
    click(&d, "#confirm-cancel").await;
    assert!(is_shown(&d, "#dashboard").await);
    click(&d, "#cancel-reservation").await;
    confirm(&d).await;
    wait_shown(&d, "#reserve").await;
    wait_text(&d, "#reserve-title", "Reserva tu hora").await;
    let left: i64 = reporter_core::schema::reporter_reservations::table
        .filter(reporter_core::schema::reporter_reservations::user_id.eq(ana))
        .count()
        .get_result(&mut ui.conn())
        .unwrap();
    assert_eq!(left, 0);
    d.quit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_a_race_for_an_hour_shows_the_servers_message_and_refreshes_the_grid() {
    let ui = Ui::start(&[]).await;
    ui.create_user("bea@example.com", 9000, false);
    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "bea@example.com").await;
    wait_shown(&d, "#hour-grid button[data-hour='11:00']").await;
    wait_text(&d, "#size-label", "grande").await;
    // 11:00 is free when the page loads.
    expect_locked(&d, "11:00", false).await;

    // While the page shows 11:00 free, two others take 5 of its 6 points.
    let (c1, _) = ui.create_user("otro1@example.com", 9000, false);
    let (c2, _) = ui.create_user("otro2@example.com", 4000, false);
    ui.reserve(c1, 11, 9000);
    ui.reserve(c2, 11, 4000);

    click_hour(&d, "11:00").await;
    wait_text(&d, "#grid-status", "Hora llena por capacidad").await;
    expect_locked(&d, "11:00", true).await;
    assert!(text_of(&d, "#hour-grid button[data-hour='11:00']")
        .await
        .unwrap()
        .contains("5/6"));
    assert!(is_shown(&d, "#reserve").await, "still choosing");
    // Another hour still works.
    click_hour(&d, "12:00").await;
    wait_text(&d, "#res-hour", "12:00").await;
    d.quit().await.unwrap();
}
