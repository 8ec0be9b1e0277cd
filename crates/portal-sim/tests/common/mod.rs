//! Shared helpers: a simulator on port 0 and a browser-like HTTP client.

#![allow(dead_code)] // each test binary uses a different subset

use chrono::NaiveDate;
use portal_sim::{AccountSpec, RunningSim, SimConfig};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub const START_DAY: &str = "2025-03-10";

pub fn config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        accounts: AccountSpec::numbered_list(2),
        orders_per_account: 10,
        start_day: START_DAY.parse::<NaiveDate>().unwrap(),
        ..SimConfig::default()
    }
}

pub async fn start(config: SimConfig) -> RunningSim {
    portal_sim::spawn(config).await.expect("simulator starts")
}

/// A client that keeps cookies like a browser but shows redirects instead
/// of following them, so tests can check the 303s.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub async fn post_login(
    client: &Client,
    sim: &RunningSim,
    email: &str,
    password: &str,
) -> Response {
    client
        .post(sim.url("/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Logs in `clienteN@portal.test` and returns a client holding its session.
pub async fn logged_in(sim: &RunningSim, n: usize) -> Client {
    let client = browser();
    let account = AccountSpec::numbered(n);
    let resp = post_login(&client, sim, &account.email, &account.password).await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "login of {}",
        account.email
    );
    client
}

pub async fn get(client: &Client, sim: &RunningSim, path: &str) -> Response {
    client.get(sim.url(path)).send().await.unwrap()
}

pub async fn sim_get(sim: &RunningSim, path: &str) -> Value {
    let resp = reqwest::get(sim.url(path)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
    resp.json().await.unwrap()
}

pub async fn sim_post(sim: &RunningSim, path: &str, body: Value) -> Response {
    Client::new()
        .post(sim.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn report(
    client: &Client,
    sim: &RunningSim,
    order_id: u64,
    reason: &str,
    message: &str,
) -> Response {
    client
        .post(sim.url(&format!("/orders/{order_id}/report")))
        .form(&[("reason", reason), ("message", message)])
        .send()
        .await
        .unwrap()
}

/// The `data-ticket` attribute of the element with `id`, if present.
pub fn data_ticket(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let attr = rest.find("data-ticket=\"")? + "data-ticket=\"".len();
    let end = rest[attr..].find('"')?;
    Some(rest[attr..attr + end].to_owned())
}

/// Ids of an account's orders according to `/_sim/export`.
pub async fn order_ids(sim: &RunningSim, email: &str) -> Vec<u64> {
    sim_get(sim, &format!("/_sim/export/{email}"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect()
}

pub fn location(resp: &Response) -> &str {
    resp.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}
