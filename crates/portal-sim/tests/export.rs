//! The xlsx export against the simulator's ground truth.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

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
async fn export_matches_headers_sheet_and_truth() {
    let sim = start(config(3)).await;
    let client = logged_in(&sim, 2).await;
    let resp = get(&client, &sim, "/orders/export.xlsx").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"ordenes_2025-03-10.xlsx\""
    );
    let bytes = resp.bytes().await.unwrap();

    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(workbook.sheet_names()[0], "Ordenes");
    let range = workbook.worksheet_range("Ordenes").unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        [
            "ID",
            "FECHA",
            "ESTATUS",
            "TRANSPORTADORA",
            "NÚMERO GUIA",
            "CLIENTE",
            "CIUDAD",
            "TOTAL"
        ]
    );

    let truth = sim_get(&sim, "/_sim/export/cliente2@portal.test").await;
    let truth = truth.as_array().unwrap();
    assert_eq!(truth.len(), 10);
    let fields = [
        "id", "date", "status", "carrier", "tracking", "customer", "city", "total",
    ];
    let mut seen = 0;
    for (row, order) in rows.zip(truth) {
        assert!(
            matches!(row[0], Data::Float(_) | Data::Int(_)),
            "ID is a number"
        );
        assert!(
            matches!(row[7], Data::Float(_) | Data::Int(_)),
            "TOTAL is a number"
        );
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
        seen += 1;
    }
    assert_eq!(seen, truth.len());
    assert_eq!(sim_get(&sim, "/_sim/stats").await["exports"], 1);
}

#[tokio::test]
async fn export_filename_follows_the_portal_day() {
    let sim = start(config(3)).await;
    let client = logged_in(&sim, 1).await;
    let state = sim_post(&sim, "/_sim/advance-day", json!({}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(state["day"], "2025-03-11");
    let resp = get(&client, &sim, "/orders/export.xlsx").await;
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"ordenes_2025-03-11.xlsx\""
    );
}

#[tokio::test]
async fn sim_export_of_unknown_account_is_404() {
    let sim = start(config(3)).await;
    let resp = reqwest::get(sim.url("/_sim/export/nadie@portal.test"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn orders_of_accounts_do_not_mix_and_ids_are_unique() {
    let sim = start(config(3)).await;
    let mut a = order_ids(&sim, "cliente1@portal.test").await;
    let b = order_ids(&sim, "cliente2@portal.test").await;
    assert!(a.iter().all(|id| *id > 0 && !b.contains(id)));
    a.extend(&b);
    let state = sim_get(&sim, "/_sim/state").await;
    assert_eq!(
        state,
        json!({"day": "2025-03-10", "accounts": 2, "orders": a.len()})
    );
}
