//! The real API on a random port, a fresh database and Redis prefix, a
//! chromedriver of our own and headless Chromium driving the pages as a
//! customer or an operator would. Screenshots go to
//! `target/ui-screenshots/`, and to `docs/screenshots/` when
//! `REPORTER_UPDATE_SCREENSHOTS=1`.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reporter_core::config::Settings;
use test_support::chromedriver::Chromedriver;
use test_support::{unique_prefix, TestDb};
use thirtyfour::prelude::*;
use tokio::sync::{Semaphore, SemaphorePermit};

pub use test_support::TEST_PASSWORD as PASSWORD;
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Two browser tests at a time: this machine has two cores, and timings
/// under heavier load only slow the tests down.
static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

#[derive(Clone, Copy, Debug)]
pub enum Viewport {
    Desktop,
    Phone,
}

impl Viewport {
    pub fn size(self) -> (u32, u32) {
        match self {
            Viewport::Desktop => (1280, 900),
            Viewport::Phone => (390, 844),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Viewport::Desktop => "desktop",
            Viewport::Phone => "phone",
        }
    }
}

pub struct Ui {
    pub db: TestDb,
    pub prefix: String,
    pub base: String,
    pub settings: Arc<Settings>,
    pub artifacts: PathBuf,
    pub chromedriver_url: String,
    chromedriver: Chromedriver,
    handle: actix_web::dev::ServerHandle,
    _slot: SemaphorePermit<'static>,
}

impl Ui {
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let slot = SLOTS.acquire().await.unwrap();
        let db = TestDb::new();
        let prefix = unique_prefix();
        let artifacts = std::env::temp_dir().join(format!("reporter-ui-{}", &prefix[5..17]));
        std::fs::create_dir_all(&artifacts).unwrap();
        let art = artifacts.display().to_string();
        let mut env = vec![
            ("REPORTER_DB_POOL_SIZE", "6"),
            ("REPORTER_ARTIFACTS_DIR", art.as_str()),
        ];
        env.extend_from_slice(extra);
        let settings = db.settings(&prefix, &env);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = reporter_api::serve(
            reporter_api::build_state(settings.clone()),
            listener,
            Some(2),
        )
        .unwrap();
        let handle = server.handle();
        tokio::spawn(server);

        let chromedriver = Chromedriver::start(Stdio::null());
        Ui {
            db,
            prefix,
            base,
            settings: Arc::new(settings),
            artifacts,
            chromedriver_url: chromedriver.url(),
            chromedriver,
            handle,
            _slot: slot,
        }
    }

    pub fn conn(&self) -> PgConnection {
        self.db.connect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A user who logs in with [`PASSWORD`]; returns id and an API token.
    pub fn create_user(&self, email: &str, monthly: i32, admin: bool) -> (i64, String) {
        test_support::create_user(&mut self.conn(), email, monthly, admin)
    }

    pub fn slot_id(&self, hour: i32) -> i32 {
        reporter_core::models::slot::find_by_hour(&mut self.conn(), hour)
            .unwrap()
            .unwrap()
            .id
    }

    /// Reserves `hour` for `user_id` directly (another customer's doing).
    pub fn reserve(&self, user_id: i64, hour: i32, monthly: u32) {
        let m = reporter_core::domain::MonthlyOrders::new(monthly.into()).unwrap();
        reporter_core::models::reservation::create(
            &mut self.conn(),
            user_id,
            Some(self.slot_id(hour)),
            m,
            0.08,
        )
        .unwrap();
    }

    pub async fn browser(&self, viewport: Viewport) -> WebDriver {
        let mut caps = DesiredCapabilities::chrome();
        let (w, h) = viewport.size();
        for a in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--lang=es",
        ] {
            caps.add_arg(a).unwrap();
        }
        caps.add_arg(&format!("--window-size={w},{h}")).unwrap();
        if std::path::Path::new(CHROMIUM).exists() {
            caps.set_binary(CHROMIUM).unwrap();
        }
        let d = WebDriver::new(&self.chromedriver_url, caps)
            .await
            .expect("start a browser session");
        set_viewport(&d, viewport).await;
        d
    }

    /// Logs in through the login page and waits for the landing page.
    pub async fn login(&self, d: &WebDriver, email: &str) {
        d.goto(&self.url("/login")).await.unwrap();
        d.find(By::Id("email"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        d.find(By::Id("password"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        d.find(By::Css("#login-form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&format!("{email} logged in"), || async {
            let url = d.current_url().await.ok()?;
            (url.path() == "/app" || url.path() == "/admin").then_some(())
        })
        .await;
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.chromedriver.stop();
        std::mem::drop(self.handle.stop(false));
        let _ = std::fs::remove_dir_all(&self.artifacts);
    }
}

/// Polls `probe` every 100 ms until it yields a value; panics after 60 s.
pub async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn text_of(d: &WebDriver, css: &str) -> Option<String> {
    d.find(By::Css(css)).await.ok()?.text().await.ok()
}

pub async fn attr_of(d: &WebDriver, css: &str, name: &str) -> Option<String> {
    d.find(By::Css(css)).await.ok()?.attr(name).await.ok()?
}

pub async fn is_shown(d: &WebDriver, css: &str) -> bool {
    match d.find(By::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Waits until the element's visible text contains `needle`.
pub async fn wait_text(d: &WebDriver, css: &str, needle: &str) -> String {
    wait_for(&format!("{css} to say {needle:?}"), || async {
        text_of(d, css).await.filter(|t| t.contains(needle))
    })
    .await
}

pub async fn wait_shown(d: &WebDriver, css: &str) {
    wait_for(&format!("{css} to be shown"), || async {
        is_shown(d, css).await.then_some(())
    })
    .await
}

pub async fn click(d: &WebDriver, css: &str) {
    d.find(By::Css(css)).await.unwrap().click().await.unwrap();
}

/// Answers the page's confirmation dialog.
pub async fn confirm(d: &WebDriver) {
    wait_shown(d, "#confirm-dialog").await;
    click(d, "#confirm-ok").await;
}

/// Runs `fetch` inside the page (with the page's cookie, and nothing else)
/// and returns status and JSON body.
pub async fn page_fetch(d: &WebDriver, method: &str, path: &str) -> (u16, serde_json::Value) {
    let script = r#"
        const [method, path, done] = arguments;
        fetch(path, { method, credentials: "same-origin",
                      headers: { "Content-Type": "application/json" },
                      body: method === "GET" ? undefined : "{}" })
          .then(r => r.json().then(b => done([r.status, b])))
          .catch(e => done([0, String(e)]));
    "#;
    let ret = d
        .execute_async(
            script,
            vec![serde_json::json!(method), serde_json::json!(path)],
        )
        .await
        .unwrap();
    let v: (u16, serde_json::Value) = ret.convert().unwrap();
    v
}

/// Emulates the viewport (a phone is a touch device with a phone's width,
/// not just a narrow window).
pub async fn set_viewport(d: &WebDriver, viewport: Viewport) {
    let (w, h) = viewport.size();
    emulate(d, viewport, w, h).await;
}

async fn emulate(d: &WebDriver, viewport: Viewport, width: u32, height: u32) {
    d.cdp()
        .send_raw(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": matches!(viewport, Viewport::Phone),
            }),
        )
        .await
        .unwrap();
}

/// Saves the whole page as `{name}-{viewport}.png`, in the given viewport.
pub async fn screenshot(d: &WebDriver, name: &str, viewport: Viewport) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = format!("{name}-{}.png", viewport.name());
    let out = root.join("target/ui-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    set_viewport(d, viewport).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let height: u32 = d
        .execute(
            "return Math.min(Math.ceil(document.documentElement.scrollHeight), 5000);",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    let (w, h) = viewport.size();
    emulate(d, viewport, w, height.max(h)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.screenshot(&out.join(&file)).await.unwrap();
    set_viewport(d, viewport).await;
    if std::env::var("REPORTER_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = root.join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::copy(out.join(&file), docs.join(&file)).unwrap();
    }
}
