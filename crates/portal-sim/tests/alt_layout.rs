//! The `alt` layout: the same portal data and `/_sim/` API behind other
//! paths, fields and texts, a paginated orders list, text-only tickets and
//! an export built on demand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::time::{Duration, Instant};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use common::*;
use portal_sim::{AccountSpec, Layout, RunningSim, SimConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

fn alt_config(orders: usize, export_delay: Duration) -> SimConfig {
    SimConfig {
        layout: Layout::Alt,
        orders_per_account: orders,
        export_delay,
        ..config(5)
    }
}

async fn alt_login(
    client: &Client,
    sim: &RunningSim,
    n: usize,
    password: &str,
) -> reqwest::Response {
    let account = AccountSpec::numbered(n);
    client
        .post(sim.url("/acceso"))
        .form(&[("usuario", account.email.as_str()), ("clave", password)])
        .send()
        .await
        .unwrap()
}

async fn alt_logged_in(sim: &RunningSim, n: usize) -> Client {
    let client = browser();
    let resp = alt_login(&client, sim, n, &AccountSpec::numbered(n).password).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/pedidos");
    client
}

async fn text(resp: reqwest::Response) -> String {
    resp.text().await.unwrap()
}

/// The order ids linked from an orders page.
fn listed_ids(html: &str) -> Vec<u64> {
    html.split("<a href=\"/pedidos/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn login_uses_the_alt_paths_fields_and_texts() {
    let sim = start(alt_config(10, Duration::from_millis(100))).await;
    let client = browser();
    let resp = get(&client, &sim, "/pedidos").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/acceso");
    let form = text(get(&client, &sim, "/acceso").await).await;
    for needle in [
        "id=\"form-acceso\"",
        "name=\"usuario\"",
        "name=\"clave\"",
        "id=\"btn-entrar\"",
    ] {
        assert!(form.contains(needle), "{needle} in {form}");
    }
    // The contract's pages are not served.
    assert_eq!(
        get(&client, &sim, "/login").await.status(),
        StatusCode::NOT_FOUND
    );

    let wrong = text(alt_login(&client, &sim, 1, "mala").await).await;
    assert!(
        wrong.contains("<p class=\"error-acceso\" role=\"alert\">Usuario o clave incorrectos</p>")
    );
    sim_post(
        &sim,
        "/_sim/faults",
        json!({"blocked_accounts": ["cliente2@portal.test"]}),
    )
    .await;
    let blocked = text(alt_login(&client, &sim, 2, "clave-2").await).await;
    assert!(blocked.contains("Usuario suspendido"), "{blocked}");

    let client = alt_logged_in(&sim, 1).await;
    let page = text(get(&client, &sim, "/pedidos").await).await;
    assert!(page.contains("<span id=\"usuario-actual\">cliente1@portal.test</span>"));
    let stats = sim_get(&sim, "/_sim/stats").await;
    assert_eq!(stats["logins"], 1, "{stats}");
    assert_eq!(stats["failed_logins"], 2, "{stats}");
    let out = get(&client, &sim, "/salir").await;
    assert_eq!(location(&out), "/acceso");
    assert_eq!(
        get(&client, &sim, "/pedidos").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_orders_list_has_fifty_orders_per_page() {
    let sim = start(alt_config(120, Duration::from_millis(100))).await;
    let client = alt_logged_in(&sim, 1).await;
    let truth = order_ids(&sim, "cliente1@portal.test").await;
    assert_eq!(truth.len(), 120);
    let mut seen = Vec::new();
    for (page, rows, next) in [(1, 50, true), (2, 50, true), (3, 20, false)] {
        let html = text(get(&client, &sim, &format!("/pedidos?page={page}")).await).await;
        let ids = listed_ids(&html);
        assert_eq!(ids.len(), rows, "page {page}");
        assert_eq!(html.contains("rel=\"next\""), next, "page {page}");
        assert!(html.contains(&format!("Página {page} de 3")));
        seen.extend(ids);
    }
    assert_eq!(
        seen, truth,
        "the pages together list every order once, in order"
    );
    // No page number is page 1; past the end is the last page.
    let first = text(get(&client, &sim, "/pedidos").await).await;
    assert_eq!(listed_ids(&first), truth[..50]);
    let past = text(get(&client, &sim, "/pedidos?page=9").await).await;
    assert_eq!(listed_ids(&past), truth[100..]);
}

/// A cell as the JSON value `/_sim/export` uses for it (blank cells are "").
fn cell_json(cell: &Data) -> Value {
    match cell {
        Data::Empty => json!(""),
        Data::String(s) => json!(s),
        Data::Float(f) => json!(f),
        Data::Int(i) => json!(*i as f64),
        other => panic!("unexpected cell {other:?}"),
    }
}

#[tokio::test]
async fn the_export_is_built_on_demand_and_has_its_own_columns() {
    let delay = Duration::from_millis(600);
    let sim = start(alt_config(60, delay)).await;
    let client = alt_logged_in(&sim, 2).await;
    let page = text(get(&client, &sim, "/pedidos").await).await;
    assert!(page.contains("id=\"generar-exportacion\""));
    assert!(!page.contains("descargar-exportacion"));

    let asked = Instant::now();
    let resp = client
        .post(sim.url("/pedidos/exportaciones"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp).to_string();
    let job: u64 = to
        .strip_prefix("/pedidos?exportacion=")
        .unwrap()
        .parse()
        .unwrap();

    // While it is built: a progress text and a script, no link yet.
    let building = text(get(&client, &sim, &to).await).await;
    assert!(building.contains("Generando exportación"), "{building}");
    assert!(building.contains(&format!("/pedidos/exportaciones/{job}")));
    assert!(!building.contains("id=\"descargar-exportacion\""));
    let state: Value = get(&client, &sim, &format!("/pedidos/exportaciones/{job}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["estado"], "generando");
    let early = get(
        &client,
        &sim,
        &format!("/pedidos/exportaciones/{job}/archivo"),
    )
    .await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    // Another account does not see it.
    let other = alt_logged_in(&sim, 1).await;
    let foreign = get(&other, &sim, &format!("/pedidos/exportaciones/{job}")).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    // Polled until ready, as the page's script does.
    let state = loop {
        let s: Value = get(&client, &sim, &format!("/pedidos/exportaciones/{job}"))
            .await
            .json()
            .await
            .unwrap();
        if s["estado"] == "lista" {
            break s;
        }
        assert!(asked.elapsed() < Duration::from_secs(10), "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(asked.elapsed() >= delay);
    let file = state["archivo"].as_str().unwrap().to_string();
    let ready = text(get(&client, &sim, &to).await).await;
    assert!(ready.contains(&format!("<a id=\"descargar-exportacion\" href=\"{file}\">")));

    let resp = get(&client, &sim, &file).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        portal_sim::XLSX_CONTENT_TYPE
    );
    let bytes = resp.bytes().await.unwrap();
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(workbook.sheet_names(), ["Pedidos"]);
    let range = workbook.worksheet_range("Pedidos").unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header, portal_sim::ALT_EXPORT_HEADERS);
    let truth = sim_get(&sim, "/_sim/export/cliente2@portal.test").await;
    let truth = truth.as_array().unwrap();
    let fields = [
        "id", "status", "date", "tracking", "carrier", "city", "customer", "total",
    ];
    let rows: Vec<_> = rows.collect();
    assert_eq!(rows.len(), truth.len());
    for (row, order) in rows.iter().zip(truth) {
        for (cell, field) in row.iter().zip(fields) {
            let expected = match field {
                "id" | "total" => json!(order[field].as_f64().unwrap()),
                _ => order[field].clone(),
            };
            assert_eq!(
                cell_json(cell),
                expected,
                "{field} of order {}",
                order["id"]
            );
        }
        assert_eq!(cell_json(&row[8]), json!(""), "Observaciones is empty");
    }
    assert_eq!(sim_get(&sim, "/_sim/stats").await["exports"], 1);
}

#[tokio::test]
async fn tickets_are_shown_only_as_text() {
    let sim = start(alt_config(10, Duration::from_millis(100))).await;
    let client = alt_logged_in(&sim, 1).await;
    let id = order_ids(&sim, "cliente1@portal.test").await[3];
    let page = text(get(&client, &sim, &format!("/pedidos/{id}")).await).await;
    for needle in [
        format!("action=\"/pedidos/{id}/novedad\""),
        "id=\"form-novedad\"".into(),
        "name=\"motivo\"".into(),
        "value=\"sin-movimiento\"".into(),
        "name=\"detalle\"".into(),
        "id=\"enviar-novedad\"".into(),
    ] {
        assert!(page.contains(&needle), "{needle} in {page}");
    }
    let post = |reason: &'static str| {
        client
            .post(sim.url(&format!("/pedidos/{id}/novedad")))
            .form(&[("motivo", reason), ("detalle", "Sin movimiento desde ayer")])
            .send()
    };
    // The contract's reason value is not this portal's.
    assert_eq!(
        post("sin_movimiento").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let ok = post("sin-movimiento").await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let ok = text(ok).await;
    assert!(!ok.contains("data-ticket"), "{ok}");
    let reports = sim_get(&sim, "/_sim/reports").await;
    let ticket = reports[0]["ticket"].as_str().unwrap().to_string();
    assert_eq!(reports[0]["order_id"], id);
    assert_eq!(reports[0]["reason"], "sin-movimiento");
    assert!(
        ok.contains(&format!(
            "<p class=\"aviso aviso-ok\">Reporte registrado. Ticket {ticket}</p>"
        )),
        "{ok}"
    );

    let again = text(get(&client, &sim, &format!("/pedidos/{id}")).await).await;
    assert!(!again.contains("form-novedad"));
    assert!(again.contains(&format!(
        "<p class=\"aviso aviso-duplicado\">Este pedido ya tiene un reporte de hoy. Ticket {ticket}</p>"
    )));
    let dup = post("sin-movimiento").await.unwrap();
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    assert!(text(dup).await.contains(&format!("Ticket {ticket}")));
    let stats = sim_get(&sim, "/_sim/stats").await;
    assert_eq!(stats["reports"], 1, "{stats}");
    assert_eq!(stats["duplicate_reports"], 1, "{stats}");

    // Another account's order answers like a missing one.
    let other = order_ids(&sim, "cliente2@portal.test").await[0];
    let resp = get(&client, &sim, &format!("/pedidos/{other}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn both_layouts_serve_the_same_data() {
    let classic = start(config(5)).await;
    let alt = start(alt_config(10, Duration::from_millis(100))).await;
    for path in [
        "/_sim/state",
        "/_sim/export/cliente1@portal.test",
        "/_sim/accounts",
    ] {
        assert_eq!(
            sim_get(&classic, path).await,
            sim_get(&alt, path).await,
            "{path}"
        );
    }
    let ids: BTreeSet<u64> = order_ids(&alt, "cliente2@portal.test")
        .await
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 10);
}
