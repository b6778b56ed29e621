//! Browser tests: the portal as a person uses it, in a real headless Chromium
//! driven over WebDriver (chromedriver + fantoccini).
//!
//! Each test starts the real server (`common::spawn_app`), its own `chromedriver`
//! on a free loopback port, and one Chromium with a throw-away profile. Nothing
//! leaves the machine: the only URLs opened are the test server's.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`, and for the
//! accessibility scan `npm ci` in the repository root (axe-core in
//! `node_modules/`). When they are missing the tests print why and pass, so a
//! plain `cargo test` works on a fresh machine; with `PORTAL_REQUIRE_BROWSER=1`
//! (as `.ci/run` sets) a missing piece fails the test instead.
//!
//! The account tests read the verification email where the server queues it:
//! the `outbox` table of the test's database.
//!
//! Optional environment:
//! - `PORTAL_CHROMIUM`: the browser binary (default `/usr/bin/chromium`);
//! - `PORTAL_BROWSER_SCREENSHOTS=1`: keep a PNG of every page checked under
//!   `target/browser-screenshots/` (on failure one is always written).

mod common;

use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

/// One browser test at a time: each brings up a server, a chromedriver and a
/// Chromium, which is plenty for a two-core machine.
static BROWSER_BUSY: AtomicBool = AtomicBool::new(false);

struct Serial;

impl Drop for Serial {
    fn drop(&mut self) {
        BROWSER_BUSY.store(false, Ordering::Release);
    }
}

async fn one_at_a_time() -> Serial {
    while BROWSER_BUSY
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Serial
}

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

/// The WCAG 2.1 A and AA rule sets of axe-core.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

// ---------------------------------------------------------------------------
// What is needed, and what to do when it is missing
// ---------------------------------------------------------------------------

fn browser_required() -> bool {
    matches!(
        std::env::var("PORTAL_REQUIRE_BROWSER").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

/// `Some(reason)` when the test cannot run here. Panics instead when
/// `PORTAL_REQUIRE_BROWSER=1`.
fn missing(what: &str, how_to_fix: &str) -> Option<String> {
    if browser_required() {
        panic!(
            "PORTAL_REQUIRE_BROWSER=1 but {what}; {how_to_fix} \
             (unset PORTAL_REQUIRE_BROWSER to skip the browser tests instead)"
        );
    }
    let reason = format!("skipping: {what}");
    println!("{reason} ({how_to_fix})");
    Some(reason)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn chromium_binary() -> PathBuf {
    std::env::var_os("PORTAL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

/// Finds chromedriver and Chromium, or says why the test is skipped.
fn browser_tools() -> Option<Tools> {
    const FIX: &str = "install the Debian packages: apt-get install chromium chromium-driver";
    let Some(chromedriver) = find_on_path("chromedriver") else {
        missing("chromedriver not installed", FIX);
        return None;
    };
    let chromium = chromium_binary();
    if !chromium.is_file() {
        missing(
            &format!("Chromium not installed at {}", chromium.display()),
            FIX,
        );
        return None;
    }
    Some(Tools {
        chromedriver,
        chromium,
    })
}

fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js")
}

/// The axe-core script, or says why the test is skipped.
fn axe_source() -> Option<String> {
    let path = axe_path();
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(err) => {
            missing(
                &format!("axe-core not installed ({}: {err})", path.display()),
                "run `npm ci` in the repository root",
            );
            None
        }
    }
}

// ---------------------------------------------------------------------------
// chromedriver + Chromium
// ---------------------------------------------------------------------------

/// A chromedriver child process, and the Chromium it starts; both are ended
/// (by process id) when this is dropped, even when a test panics.
struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Driver {
    fn start(chromedriver: &Path) -> TestResult<Self> {
        let profile = tempfile::Builder::new()
            .prefix("portal-chromium-")
            .tempdir()?;
        let port = free_port()?;
        let log = profile.path().join("chromedriver.log");
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromedriver.display()))?;
        let mut driver = Driver {
            child,
            port,
            profile,
        };
        driver.wait_until_listening()?;
        Ok(driver)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn user_data_dir(&self) -> PathBuf {
        self.profile.path().join("profile")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromedriver.log")).unwrap_or_default()
    }

    fn wait_until_listening(&mut self) -> TestResult {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(format!(
                    "chromedriver exited early ({status}); its log:\n{}",
                    self.log()
                )
                .into());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver did not listen on {addr} within 20 s; its log:\n{}",
                    self.log()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Processes whose command line names this test's own profile directory:
    /// the Chromium (and its helpers) that this driver started, and no other.
    fn browser_pids(&self) -> Vec<u32> {
        let marker = self.profile.path().as_os_str().as_encoded_bytes().to_vec();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|cmdline| cmdline.windows(marker.len()).any(|w| w == marker))
                    .unwrap_or(false)
            })
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // If the session was not closed (a failed test), Chromium outlives a
        // killed chromedriver: end it by process id.
        let leftovers = self.browser_pids();
        if !leftovers.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(leftovers.iter().map(u32::to_string))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn chrome_capabilities(chromium: &Path, user_data_dir: &Path, size: (u32, u32)) -> Value {
    json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--lang=vi-VN",
                format!("--user-data-dir={}", user_data_dir.display()),
                format!("--window-size={},{}", size.0, size.1),
            ],
            // A Vietnamese person's browser: the portal's own language first.
            "prefs": { "intl.accept_languages": "vi-VN,vi,en-US,en" },
        },
    })
}

/// A test's browser: keep it alive for the whole test, then `finish` it.
struct Browser {
    client: Client,
    driver: Driver,
}

impl Browser {
    async fn launch(tools: &Tools, size: (u32, u32)) -> TestResult<Self> {
        let driver = Driver::start(&tools.chromedriver)?;
        let Value::Object(capabilities) =
            chrome_capabilities(&tools.chromium, &driver.user_data_dir(), size)
        else {
            return Err("capabilities must be a JSON object".into());
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .map_err(|e| {
                format!(
                    "cannot open a Chromium session through chromedriver: {e}\nchromedriver log:\n{}",
                    driver.log()
                )
            })?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(60)),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await?;
        // The window of a headless Chromium can come out smaller than asked
        // for; make the viewport the size the test is about.
        fit_viewport(&client, size).await?;
        Ok(Browser { client, driver })
    }

    /// Ends the session (Chromium quits), then chromedriver; fails the test
    /// with `outcome`'s error, after a screenshot of where it was.
    async fn finish(self, test: &str, outcome: TestResult) {
        let Browser { client, driver } = self;
        if let Err(err) = &outcome {
            save_screenshot(&client, &format!("{test}-failure")).await;
            if let Ok(url) = client.current_url().await {
                eprintln!("{test}: failed at {url}: {err}");
            }
        }
        let _ = client.close().await;
        drop(driver);
        if let Err(err) = outcome {
            panic!("{test} failed:\n{err}");
        }
    }
}

async fn fit_viewport(client: &Client, size: (u32, u32)) -> TestResult {
    for _ in 0..3 {
        let inner = client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        if w == u64::from(size.0) {
            return Ok(());
        }
        let (outer_w, outer_h) = client.get_window_size().await?;
        let width = (i64::from(size.0) + outer_w as i64 - w as i64).max(1);
        let height = (i64::from(size.1) + outer_h as i64 - h as i64).max(1);
        client
            .set_window_size(u32::try_from(width)?, u32::try_from(height)?)
            .await?;
    }
    let inner = client.execute("return window.innerWidth;", vec![]).await?;
    Err(format!(
        "could not make the viewport {} CSS px wide (it is {inner})",
        size.0
    )
    .into())
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("browser-screenshots")
}

async fn save_screenshot(client: &Client, name: &str) {
    let Ok(png) = client.screenshot().await else {
        return;
    };
    let dir = screenshot_dir();
    let file = dir.join(format!("{name}.png"));
    if std::fs::create_dir_all(&dir).is_ok() && std::fs::write(&file, png).is_ok() {
        eprintln!("screenshot: {}", file.display());
    }
}

async fn maybe_screenshot(client: &Client, name: &str) {
    if std::env::var("PORTAL_BROWSER_SCREENSHOTS").as_deref() == Ok("1") {
        save_screenshot(client, name).await;
    }
}

// ---------------------------------------------------------------------------
// Page helpers
// ---------------------------------------------------------------------------

const WAIT: Duration = Duration::from_secs(20);

async fn wait_for_path(client: &Client, path: &str) -> TestResult {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = client.current_url().await?;
        if url.path() == path {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("expected to reach {path}, still at {url}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_ready(client: &Client) -> TestResult {
    let deadline = Instant::now() + WAIT;
    loop {
        let state = client
            .execute("return document.readyState;", vec![])
            .await?;
        if state == "complete" {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("page never finished loading (readyState {state})").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn open(client: &Client, url: &str) -> TestResult {
    client
        .goto(url)
        .await
        .map_err(|e| format!("cannot open {url}: {e}"))?;
    wait_for_ready(client).await
}

/// The `href` of the first search result on a results page.
async fn first_result_href(client: &Client) -> TestResult<String> {
    let link = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("ol.results li.result a.result-link"))
        .await
        .map_err(|e| format!("no `ol.results li.result a.result-link` on the page: {e}"))?;
    link.prop("href")
        .await?
        .ok_or_else(|| "the first .result-link has no href".into())
}

/// The URL of the service page that a search for `query` leads to first.
async fn service_page_from_search(
    app: &common::TestApp,
    client: &Client,
    query: &str,
) -> TestResult<String> {
    open(client, &format!("{}/services?q={query}", app.address)).await?;
    let href = first_result_href(client).await?;
    if !href.starts_with(&format!("{}/services/", app.address)) {
        return Err(
            format!("the first result links to {href}, not to a /services/{{code}} page").into(),
        );
    }
    Ok(href)
}

// ---------------------------------------------------------------------------
// Forms and accounts
// ---------------------------------------------------------------------------

/// A citizen as the registration form asks for one.
struct Citizen {
    full_name: &'static str,
    email: &'static str,
    phone: &'static str,
    /// `YYYY-MM-DD`, the value of the date input.
    date_of_birth: &'static str,
    cccd: &'static str,
    /// Province code (`01` is Hà Nội).
    province: &'static str,
    /// Ward code, in that province (`00004` is Phường Ba Đình).
    ward: &'static str,
    address: &'static str,
    password: &'static str,
}

/// A woman born in 1995 in Hà Nội: CCCD 001 (Hà Nội) 1 (woman, 20th century) 95 (year).
const HUONG: Citizen = Citizen {
    full_name: "Nguyễn Thị Thu Hường",
    email: "huong@example.vn",
    phone: "0912345678",
    date_of_birth: "1995-03-04",
    cccd: "001195012345",
    province: "01",
    ward: "00004",
    address: "12 phố Hàng Bạc",
    password: "trời xanh mây trắng 2026",
};

/// Another citizen, registered over HTTP where the browser only needs her logged in.
const LAN: Citizen = Citizen {
    full_name: "Lê Thị Lan",
    email: "lan@example.vn",
    phone: "0987654321",
    date_of_birth: "1995-07-21",
    cccd: "001195012346",
    province: "01",
    ward: "00004",
    address: "",
    password: "trời xanh mây trắng 2026",
};

const REGISTER_BUTTON: &str =
    "form[action='/register'] button[type='submit']:not([name='action']):not(.default-submit)";
const REFRESH_WARDS_BUTTON: &str =
    "form[action='/register'] button[name='action'][value='refresh']";
const LOGIN_BUTTON: &str = "form[action='/login'] button[type='submit']";
const HEADER_LOGOUT_BUTTON: &str = "header form[action='/logout'] button[type='submit']";

async fn find(client: &Client, css: &str) -> TestResult<fantoccini::elements::Element> {
    client
        .find(Locator::Css(css))
        .await
        .map_err(|e| format!("no `{css}` on the page: {e}").into())
}

async fn value_of(client: &Client, css: &str) -> TestResult<String> {
    Ok(find(client, css)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// Types `text` into the field as a person does, and checks the field holds it.
async fn type_into(client: &Client, css: &str, text: &str) -> TestResult {
    let field = find(client, css).await?;
    field.clear().await?;
    field
        .send_keys(text)
        .await
        .map_err(|e| format!("cannot type into `{css}`: {e}"))?;
    let value = field.prop("value").await?.unwrap_or_default();
    if value != text {
        return Err(format!("typed {text:?} into `{css}`, the field holds {value:?}").into());
    }
    Ok(())
}

/// Fills a `<input type="date">` with `iso` (`YYYY-MM-DD`) from the keyboard,
/// as a person does: the field moves from one part to the next by itself, in
/// the order of the browser's own locale: dd/mm/yyyy in Vietnamese, but
/// mm/dd/yyyy in a Chromium without its Vietnamese resources (Debian ships
/// them apart, in `chromium-l10n`), whatever `--lang` says. Both orders are
/// tried; when neither gives the date, the value is set the way a date picker
/// sets it: the value, then `input` and `change` events. Returns how.
async fn set_date(client: &Client, css: &str, iso: &str) -> TestResult<String> {
    let parts: Vec<&str> = iso.split('-').collect();
    let [year, month, day] = parts[..] else {
        return Err(format!("{iso:?} is not YYYY-MM-DD").into());
    };
    let field = find(client, css).await?;
    let mut tried = Vec::new();
    for (order, keys) in [
        ("dd/mm/yyyy", format!("{day}{month}{year}")),
        ("mm/dd/yyyy", format!("{month}{day}{year}")),
    ] {
        field.clear().await?;
        field.send_keys(&keys).await?;
        let typed = field.prop("value").await?.unwrap_or_default();
        if typed == iso {
            return Ok(format!("typed {keys:?} ({order})"));
        }
        tried.push(format!("{keys:?} ({order}) gave {typed:?}"));
    }
    let set = client
        .execute(
            r#"
            const field = document.querySelector(arguments[0]);
            field.value = arguments[1];
            field.dispatchEvent(new Event('input', { bubbles: true }));
            field.dispatchEvent(new Event('change', { bubbles: true }));
            return field.value;
            "#,
            vec![json!(css), json!(iso)],
        )
        .await?;
    if set != json!(iso) {
        return Err(format!("cannot set `{css}` to {iso}: it holds {set}").into());
    }
    Ok(format!("set by script; typing {}", tried.join(", ")))
}

/// Clicks `css` and waits until the browser shows the page that answers, even
/// when it has the same URL (a form posted back to itself).
async fn click_and_wait(client: &Client, css: &str) -> TestResult {
    let target = find(client, css).await?;
    client
        .execute("window.__portalOldPage = true; return null;", vec![])
        .await?;
    target
        .click()
        .await
        .map_err(|e| format!("cannot click `{css}`: {e}"))?;
    let deadline = Instant::now() + WAIT;
    loop {
        // A script can fail while the browser swaps the document: try again.
        let fresh = client
            .execute(
                "return document.readyState === 'complete' && !window.__portalOldPage;",
                vec![],
            )
            .await;
        if matches!(fresh, Ok(Value::Bool(true))) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("clicking `{css}` did not lead to a new page").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text_of(client: &Client, css: &str) -> TestResult<String> {
    Ok(find(client, css).await?.text().await?)
}

/// The `<h1>`, and the error summary when there is one, to say where a step ended.
async fn where_we_are(client: &Client) -> String {
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let h1 = text_of(client, "h1").await.unwrap_or_default();
    let errors = text_of(client, ".error-summary").await.unwrap_or_default();
    if errors.is_empty() {
        format!("{url} with <h1> {h1:?}")
    } else {
        format!("{url} with <h1> {h1:?} and the errors {errors:?}")
    }
}

async fn expect_h1(client: &Client, expected: &str, after: &str) -> TestResult {
    let h1 = text_of(client, "h1").await.unwrap_or_default();
    if h1.trim() != expected {
        return Err(format!(
            "after {after} expected <h1> {expected:?}; the browser shows {}",
            where_we_are(client).await
        )
        .into());
    }
    Ok(())
}

/// The `/verify-email?token=…` path of the last email queued for `to`, read
/// from the outbox table.
fn verification_path(app: &common::TestApp, to: &str) -> TestResult<String> {
    use diesel::prelude::*;
    use portal::db::schema::outbox;

    let mut conn = portal::db::establish(&app.db_url)?;
    let text: Option<String> = outbox::table
        .filter(outbox::to_address.eq(to))
        .order(outbox::id.desc())
        .select(outbox::text_body)
        .first(&mut conn)
        .optional()?;
    let text = text.ok_or_else(|| format!("no email to {to} in the outbox"))?;
    let start = text
        .find("/verify-email?token=")
        .ok_or_else(|| format!("no /verify-email link in the email to {to}:\n{text}"))?;
    let rest = &text[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Ok(rest[..end].to_string())
}

/// Registers `c` and opens the verification link, over HTTP (no browser).
async fn verified_citizen_over_http(app: &common::TestApp, c: &Citizen) -> TestResult {
    let page = app
        .client
        .get(format!("{}/register", app.address))
        .send()
        .await?
        .text()
        .await?;
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no CSRF field on /register")?
        .to_string();
    let res = app
        .client
        .post(format!("{}/register", app.address))
        .header("Origin", app.address.clone())
        .form(&[
            ("_csrf", csrf.as_str()),
            ("full_name", c.full_name),
            ("email", c.email),
            ("phone", c.phone),
            ("date_of_birth", c.date_of_birth),
            ("cccd", c.cccd),
            ("province_code", c.province),
            ("ward_code", c.ward),
            ("address", c.address),
            ("password", c.password),
            ("password_confirm", c.password),
        ])
        .send()
        .await?;
    let status = res.status();
    // Post/redirect/get: a registration answers 303 to the "check your inbox" page.
    if status != 303 {
        return Err(format!("POST /register answered {status}: {}", res.text().await?).into());
    }
    let path = verification_path(app, c.email)?;
    let status = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await?
        .status();
    if status != 200 {
        return Err(format!("the verification link answered {status}").into());
    }
    Ok(())
}

/// Opens /register and submits it with a bad email and two different
/// passwords; checks the page shows the error summary and the inline errors.
async fn register_with_errors(app: &common::TestApp, client: &Client) -> TestResult {
    open(client, &format!("{}/register", app.address)).await?;
    type_into(client, "#f-full_name", HUONG.full_name).await?;
    type_into(client, "#f-email", "huong-at-example.vn").await?;
    type_into(client, "#f-phone", HUONG.phone).await?;
    type_into(client, "#f-password", HUONG.password).await?;
    type_into(client, "#f-password_confirm", "trời xanh mây trắng 2025").await?;
    click_and_wait(client, REGISTER_BUTTON).await?;
    let mut missing = Vec::new();
    for css in [
        ".error-summary a[href='#f-email']",
        ".error-summary a[href='#f-password_confirm']",
        "#f-email-error",
        "#f-email[aria-invalid='true'][aria-describedby~='f-email-error']",
        "#f-password_confirm-error",
        "#f-password_confirm[aria-invalid='true']",
    ] {
        if client.find(Locator::Css(css)).await.is_err() {
            missing.push(css);
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "a registration with a bad email and different passwords shows {}; missing: {}",
            where_we_are(client).await,
            missing.join(", ")
        )
        .into());
    }
    if value_of(client, "#f-full_name").await? != HUONG.full_name {
        return Err("the name typed was not kept after the errors".into());
    }
    Ok(())
}

/// Logs in through the form on /login; the browser ends where the server sends it.
async fn log_in(app: &common::TestApp, client: &Client, login: &str, password: &str) -> TestResult {
    open(client, &format!("{}/login", app.address)).await?;
    type_into(client, "#f-login", login).await?;
    type_into(client, "#f-password", password).await?;
    click_and_wait(client, LOGIN_BUTTON).await
}

// ---------------------------------------------------------------------------
// axe-core
// ---------------------------------------------------------------------------

const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
const tags = arguments[0];
if (typeof window.axe === 'undefined') {
    done({ error: 'axe-core was not loaded into the page' });
    return;
}
window.axe
    .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
    .then(function (results) {
        done({
            url: results.url,
            violations: results.violations.map(function (v) {
                return {
                    id: v.id,
                    impact: v.impact,
                    help: v.help,
                    helpUrl: v.helpUrl,
                    count: v.nodes.length,
                    nodes: v.nodes.slice(0, 5).map(function (n) {
                        return {
                            target: n.target.map(function (t) { return String(t); }).join(' '),
                            html: String(n.html).slice(0, 200),
                            summary: n.failureSummary || ''
                        };
                    })
                };
            })
        });
    })
    .catch(function (e) { done({ error: String(e && e.stack || e) }); });
"#;

/// Runs axe-core on the page open in `client`; the violations, described for
/// a person (empty when the page passes).
async fn axe_violations(client: &Client, axe: &str, label: &str) -> TestResult<Vec<String>> {
    client
        .execute(axe, vec![])
        .await
        .map_err(|e| format!("cannot inject axe-core into {label}: {e}"))?;
    let report = client
        .execute_async(AXE_RUN, vec![json!(AXE_TAGS)])
        .await
        .map_err(|e| format!("axe.run failed on {label}: {e}"))?;
    if let Some(error) = report.get("error") {
        return Err(format!("axe.run failed on {label}: {error}").into());
    }
    let violations = report
        .get("violations")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("unexpected axe report on {label}: {report}"))?;
    Ok(violations
        .iter()
        .map(|v| {
            let mut text = format!(
                "[{label}] {} (impact: {}, {} element(s)): {}\n    {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["count"],
                v["help"].as_str().unwrap_or(""),
                v["helpUrl"].as_str().unwrap_or(""),
            );
            for node in v["nodes"].as_array().into_iter().flatten() {
                text.push_str(&format!(
                    "\n    - {}\n      {}\n      {}",
                    node["target"].as_str().unwrap_or(""),
                    node["html"].as_str().unwrap_or(""),
                    node["summary"]
                        .as_str()
                        .unwrap_or("")
                        .replace('\n', "\n      "),
                ));
            }
            text
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// A person looks for the birth registration: types "dang ky khai sinh"
/// without diacritics into the search box on the home page, submits, opens
/// the first result and lands on the service page of "… đăng ký khai sinh".
#[tokio::test]
async fn search_from_home_finds_birth_registration() {
    let Some(tools) = browser_tools() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, DESKTOP).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = search_journey(&app, &browser.client).await;
    browser
        .finish("search_from_home_finds_birth_registration", outcome)
        .await;
}

async fn search_journey(app: &common::TestApp, client: &Client) -> TestResult {
    open(client, &format!("{}/", app.address)).await?;
    maybe_screenshot(client, "desktop-home").await;

    let search_box = client
        .find(Locator::Css("form[role='search'] input#q"))
        .await
        .map_err(|e| {
            format!("no <input id=\"q\"> inside <form role=\"search\"> on the home page: {e}")
        })?;
    search_box.click().await?;
    search_box.send_keys("dang ky khai sinh").await?;
    let submit = client
        .find(Locator::Css(
            "form[role='search'] button:not([type='button']):not([type='reset']), \
             form[role='search'] input[type='submit']",
        ))
        .await
        .map_err(|e| format!("no submit button in the search form: {e}"))?;
    submit.click().await?;

    wait_for_path(client, "/services").await?;
    let url = client.current_url().await?;
    let q = url
        .query_pairs()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned());
    if q.as_deref() != Some("dang ky khai sinh") {
        return Err(format!("the search form submitted q={q:?} ({url})").into());
    }
    wait_for_ready(client).await?;
    maybe_screenshot(client, "desktop-search-results").await;

    let results = client
        .find_all(Locator::Css("ol.results li.result a.result-link"))
        .await?;
    let first = results
        .first()
        .ok_or_else(|| format!("no results for \"dang ky khai sinh\" at {url}"))?;
    let first_text = first.text().await?;
    first.click().await?;

    let deadline = Instant::now() + WAIT;
    let page = loop {
        let page = client.current_url().await?;
        if page.path().starts_with("/services/") {
            break page;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "clicking the first result ({first_text:?}) did not open a service page; at {page}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_for_ready(client).await?;
    maybe_screenshot(client, "desktop-service-page").await;

    let h1 = client
        .find(Locator::Css("h1"))
        .await
        .map_err(|e| format!("no <h1> on the service page {page}: {e}"))?
        .text()
        .await?;
    if !h1.to_lowercase().contains("khai sinh") {
        return Err(format!(
            "the first result for \"dang ky khai sinh\" ({first_text:?}) opened {page} whose <h1> is {h1:?}"
        )
        .into());
    }
    let code = client
        .find(Locator::Css("span.service-code"))
        .await
        .map_err(|e| format!("no <span class=\"service-code\"> on {page}: {e}"))?
        .text()
        .await?;
    let code_in_url = page.path().trim_start_matches("/services/");
    if code.trim() != code_in_url {
        return Err(format!("{page} shows service code {code:?}").into());
    }
    Ok(())
}

/// axe-core finds no WCAG 2.1 A/AA violation on the home page (Vietnamese and
/// English), the catalogue, a search results page, a service page, and the
/// account pages in each state a person meets them: /register empty and after
/// a submit with errors (error summary and inline errors), /login before and
/// after a failed attempt, /password/forgot, and /account logged in.
#[tokio::test]
async fn pages_have_no_axe_violations() {
    let Some(tools) = browser_tools() else { return };
    let Some(axe) = axe_source() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, DESKTOP).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = axe_scan(&app, &browser.client, &axe).await;
    browser
        .finish("pages_have_no_axe_violations", outcome)
        .await;
}

/// Checks `<html lang="vi">` and runs axe-core on the page open in `client`.
async fn scan_vietnamese_page(
    client: &Client,
    axe: &str,
    label: &str,
    violations: &mut Vec<String>,
    scanned: &mut Vec<String>,
) -> TestResult {
    let lang = client
        .execute("return document.documentElement.lang;", vec![])
        .await?;
    if !lang.as_str().unwrap_or("").to_lowercase().starts_with("vi") {
        violations.push(format!(
            "[{label}] the Vietnamese page says <html lang={lang}>, not \"vi\""
        ));
    }
    maybe_screenshot(
        client,
        &format!("axe-{}", label.replace([' ', '/', ',', '(', ')'], "-")),
    )
    .await;
    violations.extend(axe_violations(client, axe, label).await?);
    scanned.push(format!("{label}: {}", client.current_url().await?));
    Ok(())
}

async fn axe_scan(app: &common::TestApp, client: &Client, axe: &str) -> TestResult {
    let base = &app.address;
    let service = service_page_from_search(app, client, "giay+phep+lai+xe").await?;
    // Dossiers over the past year, so the scoreboard's tables and charts have figures.
    let (year, office) = {
        let mut conn = app.db();
        portal::db::generate::run(
            &mut conn,
            &portal::db::generate::Options {
                dossiers: 400,
                offices: 4,
                seed: 7,
                now: chrono::Utc::now().naive_utc(),
            },
        )
        .map_err(|e| format!("{e:#}"))?;
        let year = portal::db::stats::years(&mut conn)?
            .first()
            .cloned()
            .ok_or("no year with dossiers")?;
        let office = portal::db::stats::cells(&mut conn, "office", &year)?
            .first()
            .map(|(k, _)| k.clone())
            .ok_or("no office with dossiers")?;
        (year, office)
    };
    let pages = [
        ("home (vi)".to_string(), format!("{base}/")),
        ("catalogue".to_string(), format!("{base}/services")),
        (
            "search results".to_string(),
            format!("{base}/services?q=giay+phep+lai+xe"),
        ),
        ("service page".to_string(), service),
        ("open data".to_string(), format!("{base}/open-data")),
        (
            "scoreboard".to_string(),
            format!("{base}/scoreboard?period={year}"),
        ),
        (
            "scoreboard: ranking".to_string(),
            format!("{base}/scoreboard/offices?period={year}"),
        ),
        (
            "scoreboard: an office".to_string(),
            format!("{base}/scoreboard/offices/{office}?period={year}"),
        ),
    ];

    let mut violations = Vec::new();
    let mut scanned = Vec::new();
    for (label, url) in &pages {
        open(client, url).await?;
        scan_vietnamese_page(client, axe, label, &mut violations, &mut scanned).await?;
    }

    // The account pages, in each state a person meets them.
    open(client, &format!("{base}/register")).await?;
    let label = "register (empty)";
    scan_vietnamese_page(client, axe, label, &mut violations, &mut scanned).await?;
    register_with_errors(app, client).await?;
    let label = "register (bad email, passwords differ)";
    scan_vietnamese_page(client, axe, label, &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/login")).await?;
    scan_vietnamese_page(client, axe, "login", &mut violations, &mut scanned).await?;
    log_in(app, client, "khong-co-ai@example.vn", "không phải mật khẩu").await?;
    if client.current_url().await?.path() != "/login"
        || client.find(Locator::Css(".error-summary")).await.is_err()
    {
        return Err(format!(
            "a failed login should show /login with the error; the browser shows {}",
            where_we_are(client).await
        )
        .into());
    }
    let label = "login (failed attempt)";
    scan_vietnamese_page(client, axe, label, &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/password/forgot")).await?;
    let label = "password/forgot";
    scan_vietnamese_page(client, axe, label, &mut violations, &mut scanned).await?;
    verified_citizen_over_http(app, &LAN).await?;
    log_in(app, client, LAN.email, LAN.password).await?;
    if client.current_url().await?.path() != "/account" {
        return Err(format!(
            "logging in should lead to /account; the browser shows {}",
            where_we_are(client).await
        )
        .into());
    }
    let label = "account (logged in)";
    scan_vietnamese_page(client, axe, label, &mut violations, &mut scanned).await?;
    click_and_wait(client, HEADER_LOGOUT_BUTTON).await?;

    // The English home page: the language switch sets the choice, then `/`.
    open(client, &format!("{base}/lang/en?next=/")).await?;
    open(client, &format!("{base}/")).await?;
    let lang = client
        .execute("return document.documentElement.lang;", vec![])
        .await?;
    let label = "home (en)";
    if !lang.as_str().unwrap_or("").to_lowercase().starts_with("en") {
        violations.push(format!(
            "[{label}] after /lang/en?next=/ the home page says <html lang={lang}>, not English"
        ));
    }
    violations.extend(axe_violations(client, axe, label).await?);
    scanned.push(format!("{label}: {base}/"));

    println!(
        "axe-core (WCAG 2.1 A+AA) scanned:\n  {}",
        scanned.join("\n  ")
    );
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} accessibility violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        )
        .into())
    }
}

/// On a 390×844 phone viewport, the home page, a search results page, a
/// service page, /register (empty and with errors) and /login fit the width:
/// no horizontal scrolling.
#[tokio::test]
async fn phone_width_has_no_horizontal_scroll() {
    let Some(tools) = browser_tools() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, PHONE).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = phone_check(&app, &browser.client).await;
    browser
        .finish("phone_width_has_no_horizontal_scroll", outcome)
        .await;
}

async fn phone_check(app: &common::TestApp, client: &Client) -> TestResult {
    let base = &app.address;
    let service = service_page_from_search(app, client, "dang+ky+khai+sinh").await?;
    // The scoreboard with figures: its tables scroll inside their own region, not the page.
    let office = {
        let mut conn = app.db();
        portal::db::generate::run(
            &mut conn,
            &portal::db::generate::Options {
                dossiers: 200,
                offices: 3,
                seed: 3,
                now: chrono::Utc::now().naive_utc(),
            },
        )
        .map_err(|e| format!("{e:#}"))?;
        let year = portal::db::stats::years(&mut conn)?
            .first()
            .cloned()
            .ok_or("no year with dossiers")?;
        let office = portal::db::stats::cells(&mut conn, "office", &year)?
            .first()
            .map(|(k, _)| k.clone())
            .ok_or("no office with dossiers")?;
        format!("{base}/scoreboard/offices/{office}?period={year}")
    };
    let pages = [
        ("home", format!("{base}/")),
        ("scoreboard", format!("{base}/scoreboard")),
        ("scoreboard: an office", office),
        (
            "search results",
            format!("{base}/services?q=dang+ky+khai+sinh"),
        ),
        ("service page", service),
        ("register", format!("{base}/register")),
        ("login", format!("{base}/login")),
    ];
    let mut problems = Vec::new();
    for (label, url) in &pages {
        open(client, url).await?;
        problems.extend(horizontal_overflow(client, label).await?);
    }
    // The longest form, with its error summary and inline errors.
    register_with_errors(app, client).await?;
    problems.extend(horizontal_overflow(client, "register (with errors)").await?);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// What is wrong with the page open in `client` at phone width: sideways
/// scrolling, or no viewport meta tag.
async fn horizontal_overflow(client: &Client, label: &str) -> TestResult<Vec<String>> {
    let url = client.current_url().await?;
    let name = label.replace([' ', '(', ')'], "-");
    maybe_screenshot(client, &format!("phone-{name}")).await;
    let m = client
        .execute(
            r#"
            const doc = document.documentElement;
            const wide = [];
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                if (r.right > window.innerWidth + 1 && wide.length < 5) {
                    wide.push(el.tagName.toLowerCase()
                        + (el.id ? '#' + el.id : '')
                        + (el.className && typeof el.className === 'string'
                            ? '.' + el.className.trim().split(/\s+/).join('.') : '')
                        + ' (right edge ' + Math.round(r.right) + 'px)');
                }
            }
            return {
                scrollWidth: doc.scrollWidth,
                innerWidth: window.innerWidth,
                viewport: !!document.querySelector('meta[name="viewport"]'),
                wide: wide
            };
            "#,
            vec![],
        )
        .await?;
    let scroll_width = m["scrollWidth"].as_u64().unwrap_or(u64::MAX);
    let inner_width = m["innerWidth"].as_u64().unwrap_or(0);
    if inner_width != u64::from(PHONE.0) {
        return Err(format!("the viewport is {inner_width}px wide, not {}", PHONE.0).into());
    }
    let mut problems = Vec::new();
    if m["viewport"] != json!(true) {
        problems.push(format!(
            "{label} ({url}) has no <meta name=\"viewport\">: a phone would render it zoomed out"
        ));
    }
    if scroll_width > inner_width {
        problems.push(format!(
            "{label} ({url}) scrolls sideways at {}px: scrollWidth {scroll_width} > innerWidth {inner_width}; too wide: {}",
            PHONE.0, m["wide"]
        ));
        save_screenshot(client, &format!("phone-overflow-{name}")).await;
    }
    Ok(problems)
}

/// A person creates an account in the browser: fills every field of
/// /register (a Vietnamese name with diacritics, the date of birth in the date
/// input, a CCCD number), picks the province and asks for its wards (the form
/// works without JavaScript: a button sends it back with the wards listed,
/// and the passwords come back empty, as they are never sent back), picks the
/// ward, types the password twice and submits; opens the link of the
/// verification email (read from the outbox); logs in with the CCCD number,
/// sees her name on /account, and logs out with the button in the header.
#[tokio::test]
async fn citizen_registers_verifies_logs_in_and_out() {
    let Some(tools) = browser_tools() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, DESKTOP).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = account_journey(&app, &browser.client).await;
    browser
        .finish("citizen_registers_verifies_logs_in_and_out", outcome)
        .await;
}

async fn account_journey(app: &common::TestApp, client: &Client) -> TestResult {
    let base = &app.address;
    let c = &HUONG;

    // 1. The form, top to bottom.
    open(client, &format!("{base}/register")).await?;
    type_into(client, "#f-full_name", c.full_name).await?;
    type_into(client, "#f-email", c.email).await?;
    type_into(client, "#f-phone", c.phone).await?;
    let how = set_date(client, "#f-date_of_birth", c.date_of_birth).await?;
    println!("date of birth {}: {how}", c.date_of_birth);
    type_into(client, "#f-cccd", c.cccd).await?;
    find(client, "#f-province_code")
        .await?
        .select_by_value(c.province)
        .await
        .map_err(|e| format!("cannot choose province {}: {e}", c.province))?;
    type_into(client, "#f-address", c.address).await?;
    type_into(client, "#f-password", c.password).await?;
    type_into(client, "#f-password_confirm", c.password).await?;
    let ward_placeholder = text_of(client, "#f-ward_code")
        .await?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    maybe_screenshot(client, "register-filled").await;

    // 2. The wards of Hà Nội, without JavaScript: the form comes back with them.
    click_and_wait(client, REFRESH_WARDS_BUTTON).await?;
    let url = client.current_url().await?;
    if url.path() != "/register" || client.find(Locator::Css(".error-summary")).await.is_ok() {
        return Err(format!(
            "\"{}\" should show the form again with the wards; the browser shows {}",
            "Cập nhật danh sách phường, xã",
            where_we_are(client).await
        )
        .into());
    }
    let mut lost = Vec::new();
    for (css, expected) in [
        ("#f-full_name", c.full_name),
        ("#f-email", c.email),
        ("#f-phone", c.phone),
        ("#f-date_of_birth", c.date_of_birth),
        ("#f-cccd", c.cccd),
        ("#f-province_code", c.province),
        ("#f-address", c.address),
        // Passwords are never sent back to the browser.
        ("#f-password", ""),
        ("#f-password_confirm", ""),
    ] {
        let value = value_of(client, css).await?;
        if value != expected {
            lost.push(format!("{css} holds {value:?}, expected {expected:?}"));
        }
    }
    if !lost.is_empty() {
        return Err(format!(
            "after \"Cập nhật danh sách phường, xã\": {}",
            lost.join("; ")
        )
        .into());
    }
    let ward_option = format!("#f-ward_code option[value='{}']", c.ward);
    let ward_name = text_of(client, &ward_option).await.map_err(|_| {
        format!(
            "after \"Cập nhật danh sách phường, xã\" the ward list has no {} (before: {ward_placeholder:?})",
            c.ward
        )
    })?;
    find(client, "#f-ward_code")
        .await?
        .select_by_value(c.ward)
        .await?;
    type_into(client, "#f-password", c.password).await?;
    type_into(client, "#f-password_confirm", c.password).await?;
    maybe_screenshot(client, "register-with-ward").await;
    click_and_wait(client, REGISTER_BUTTON).await?;
    expect_h1(
        client,
        "Kiểm tra hộp thư của bạn",
        "submitting the registration",
    )
    .await?;
    println!("registered {} in {ward_name}", c.full_name);

    // 3. The link in the email.
    let path = verification_path(app, c.email)?;
    open(client, &format!("{base}{path}")).await?;
    expect_h1(
        client,
        "Email đã được xác minh",
        "opening the verification link",
    )
    .await?;

    // 4. Log in with the CCCD number, from the link on that page.
    click_and_wait(client, "main a[href='/login']").await?;
    wait_for_path(client, "/login").await?;
    type_into(client, "#f-login", c.cccd).await?;
    type_into(client, "#f-password", c.password).await?;
    click_and_wait(client, LOGIN_BUTTON).await?;
    if client.current_url().await?.path() != "/account" {
        return Err(format!(
            "logging in with the CCCD number should lead to /account; the browser shows {}",
            where_we_are(client).await
        )
        .into());
    }
    maybe_screenshot(client, "account").await;
    let summary = text_of(client, "dl.summary").await?;
    if !summary.contains(c.full_name) || !summary.contains("001******345") {
        return Err(format!(
            "/account should show {:?} and the masked CCCD 001******345; it shows {summary:?}",
            c.full_name
        )
        .into());
    }
    let in_header = text_of(client, "header a[href='/account']").await?;
    if in_header.trim() != c.full_name {
        return Err(format!(
            "the header should name {:?} once logged in; it says {in_header:?}",
            c.full_name
        )
        .into());
    }

    // 5. Log out with the header button.
    click_and_wait(client, HEADER_LOGOUT_BUTTON).await?;
    wait_for_path(client, "/").await?;
    if client
        .find(Locator::Css("header a[href='/login']"))
        .await
        .is_err()
        || !client
            .find_all(Locator::Css(HEADER_LOGOUT_BUTTON))
            .await?
            .is_empty()
    {
        return Err(format!(
            "after logging out the header should offer \"Đăng nhập\" and no \"Đăng xuất\"; it reads {:?}",
            text_of(client, "header").await?
        )
        .into());
    }
    open(client, &format!("{base}/account")).await?;
    let url = client.current_url().await?;
    if url.path() != "/login" || url.query() != Some("next=%2Faccount") {
        return Err(format!(
            "after logging out /account should lead to /login?next=%2Faccount, not {url}"
        )
        .into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Applying online
// ---------------------------------------------------------------------------

const MAI: Citizen = Citizen {
    full_name: "Lê Thị Mai",
    email: "mai@example.vn",
    phone: "0987654321",
    date_of_birth: "1995-03-04",
    cccd: "001195054321",
    province: "01",
    ward: "00004",
    address: "8 phố Hàng Đào",
    password: "trời xanh mây trắng 2026",
};

/// Chooses `value` in the `<select>` `css`.
async fn choose(client: &Client, css: &str, value: &str) -> TestResult {
    find(client, &format!("{css} option[value='{value}']"))
        .await?
        .click()
        .await
        .map_err(|e| format!("cannot choose {value} in `{css}`: {e}").into())
}

async fn tick(client: &Client, css: &str) -> TestResult {
    find(client, css)
        .await?
        .click()
        .await
        .map_err(|e| format!("cannot click `{css}`: {e}").into())
}

const SAVE: &str = "button[name='_action'][value='continue']";

/// A citizen applies for a birth registration as a person does — the service page's button,
/// the place, every page of the form (with a mistake on the way), the upload, the check page,
/// the receipt — then tracks the dossier from another browser session; axe-core scans every
/// step, the error state included.
#[tokio::test]
async fn citizen_applies_online_and_tracks_the_dossier() {
    let Some(tools) = browser_tools() else { return };
    let Some(axe) = axe_source() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, PHONE).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = apply_journey(&app, &browser.client, &axe).await;
    browser
        .finish("citizen_applies_online_and_tracks_the_dossier", outcome)
        .await;
}

async fn apply_journey(app: &common::TestApp, client: &Client, axe: &str) -> TestResult {
    let base = &app.address;
    let mut violations = Vec::new();
    let mut scanned = Vec::new();
    verified_citizen_over_http(app, &MAI).await?;
    log_in(app, client, MAI.email, MAI.password).await?;
    open(client, &format!("{base}/services/1.001193")).await?;
    click_and_wait(client, "a.button[href='/apply/1.001193']").await?;
    expect_h1(client, "Bạn nộp hồ sơ ở đâu?", "the apply button").await?;
    scan_vietnamese_page(client, axe, "apply: place", &mut violations, &mut scanned).await?;
    click_and_wait(client, "form[action='/apply/1.001193'] button[type='submit']:not(.default-submit):not([name='action'])").await?;
    expect_h1(client, "Nộp hồ sơ trực tuyến", "choosing the place").await?;
    scan_vietnamese_page(
        client,
        axe,
        "apply: task list",
        &mut violations,
        &mut scanned,
    )
    .await?;
    let draft = client.current_url().await?.path().to_string();

    // The applicant's contact details are prefilled: saving is enough.
    open(client, &format!("{base}{draft}/sections/applicant")).await?;
    if value_of(client, "#f-applicant_phone").await? != MAI.phone {
        return Err("the phone number was not prefilled from the profile".into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "apply: applicant",
        &mut violations,
        &mut scanned,
    )
    .await?;
    click_and_wait(client, SAVE).await?;
    expect_h1(client, "Người yêu cầu", "the applicant page").await?;
    type_into(client, "#f-req_relation", "Mẹ").await?;
    scan_vietnamese_page(
        client,
        axe,
        "apply: requester",
        &mut violations,
        &mut scanned,
    )
    .await?;
    click_and_wait(client, SAVE).await?;
    expect_h1(client, "Người được khai sinh", "the requester page").await?;

    // A mistake: an impossible date and nothing else.
    type_into(client, "#f-child_dob", "31/02/2026").await?;
    click_and_wait(client, SAVE).await?;
    if client
        .find(Locator::Css(".error-summary a[href='#f-child_dob']"))
        .await
        .is_err()
    {
        return Err(format!(
            "no error summary link to the date; {}",
            where_we_are(client).await
        )
        .into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "apply: child (errors)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    type_into(client, "#f-child_name", "Nguyễn Minh An").await?;
    type_into(client, "#f-child_dob", "20/11/2026").await?;
    tick(client, "#f-child_sex-0").await?;
    tick(client, "#f-birthplace_kind-1").await?;
    choose(client, "#f-birthplace-province", "01").await?;
    click_and_wait(
        client,
        "#field-birthplace button[name='_action'][value='refresh']",
    )
    .await?;
    choose(client, "#f-birthplace-ward", "00004").await?;
    type_into(client, "#f-child_hometown", "Hà Nội").await?;
    click_and_wait(client, SAVE).await?;
    expect_h1(client, "Người mẹ", "the child page").await?;
    type_into(client, "#f-mother_name", "Lê Thị Mai").await?;
    type_into(client, "#f-mother_dob", "04/03/1995").await?;
    click_and_wait(client, SAVE).await?;
    expect_h1(client, "Người cha", "the mother page").await?;
    tick(client, "#f-father_known-1").await?;
    click_and_wait(client, SAVE).await?;
    tick(client, "#f-parents_married-1").await?;
    click_and_wait(client, SAVE).await?;
    expect_h1(client, "Cam đoan", "the marriage page").await?;
    type_into(client, "#f-signed_at", "Phường Ba Đình").await?;
    tick(client, "#f-declaration").await?;
    click_and_wait(client, SAVE).await?;
    expect_h1(client, "Giấy tờ kèm theo", "the declaration page").await?;
    scan_vietnamese_page(
        client,
        axe,
        "apply: documents",
        &mut violations,
        &mut scanned,
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let pdf = dir.path().join("giay-chung-sinh.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    )?;
    find(client, "#file-birth_certificate")
        .await?
        .send_keys(&pdf.display().to_string())
        .await?;
    click_and_wait(client, "#slot-birth_certificate button[type='submit']").await?;
    if !client.source().await?.contains("giay-chung-sinh.pdf") {
        return Err(format!("the upload is not listed; {}", where_we_are(client).await).into());
    }
    click_and_wait(client, "form[action$='/documents/done'] button").await?;
    open(client, &format!("{base}{draft}/check")).await?;
    expect_h1(client, "Kiểm tra và nộp hồ sơ", "the task list").await?;
    scan_vietnamese_page(
        client,
        axe,
        "apply: check answers",
        &mut violations,
        &mut scanned,
    )
    .await?;
    click_and_wait(client, "form[action$='/submit'] button").await?;
    expect_h1(client, "Đã nộp hồ sơ", "filing").await?;
    scan_vietnamese_page(client, axe, "apply: receipt", &mut violations, &mut scanned).await?;
    let code = text_of(client, ".panel-confirm .dossier-code").await?;
    if !code.starts_with("00004.00.00.H01-") {
        return Err(format!("the receipt shows the code {code:?}").into());
    }
    open(client, &format!("{base}/my")).await?;
    scan_vietnamese_page(client, axe, "my dossiers", &mut violations, &mut scanned).await?;
    click_and_wait(client, HEADER_LOGOUT_BUTTON).await?;

    // Anyone with the code and the phone number follows it.
    open(client, &format!("{base}/track")).await?;
    scan_vietnamese_page(client, axe, "track", &mut violations, &mut scanned).await?;
    type_into(client, "#f-code", &code).await?;
    type_into(client, "#f-contact", "0000000000").await?;
    click_and_wait(client, "form[action='/track'] button").await?;
    scan_vietnamese_page(
        client,
        axe,
        "track (not found)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    type_into(client, "#f-contact", MAI.phone).await?;
    click_and_wait(client, "form[action='/track'] button").await?;
    if !client.source().await?.contains("Mới đăng ký") {
        return Err(format!(
            "tracking does not show the status; {}",
            where_we_are(client).await
        )
        .into());
    }
    scan_vietnamese_page(client, axe, "track (found)", &mut violations, &mut scanned).await?;
    let width = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await?;
    if width != json!(true) {
        violations.push("the tracking page scrolls sideways on a phone".into());
    }
    println!(
        "axe-core (WCAG 2.1 A+AA) scanned:\n  {}",
        scanned.join("\n  ")
    );
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        )
        .into())
    }
}

// ---------------------------------------------------------------------------
// The agency workspace: an officer takes a dossier from new to a sealed result;
// the citizen downloads it and anyone verifies it
// ---------------------------------------------------------------------------

const OFFICER_EMAIL: &str = "mot-cua@ubnd-badinh.vn";
const OFFICER_PASSWORD: &str = "cán bộ một cửa 2026!";

/// Files a birth registration for the citizen `email` in-process (the citizen's journey has
/// its own test): the dossier's code.
async fn filed_in_process(app: &common::TestApp, email: &str) -> TestResult<String> {
    use portal::db::{attachments, directory, dossiers, drafts, forms, users};
    use portal::domain::routing::{Level, decide};
    let mut conn = portal::db::establish(&app.db_url)?;
    let now = chrono::Utc::now().naive_utc();
    let user = users::find_by_email(&mut conn, email)?.ok_or("no such citizen")?;
    let service = directory::routable_service(&mut conn, "1.001193")?.ok_or("no service")?;
    let rules = directory::rules(&mut conn)?;
    let rule = decide(&rules, &service.key(), Level::Commune)
        .ok_or("no rule")?
        .clone();
    let place = directory::Place {
        province: Some("01".into()),
        ward: Some("00004".into()),
    };
    let office =
        directory::office_for(&mut conn, &rule, service.ministry_id, &place)?.ok_or("no office")?;
    let (version, _) = forms::current(&mut conn, service.id, &service.code, &service.name)?;
    let answers: portal::domain::form_schema::Answers = [
        ("applicant_phone", "0987654321"),
        ("applicant_email", email),
        ("req_name", "Lê Thị Mai"),
        ("req_dob", "1995-03-04"),
        ("req_id", "001195054321"),
        ("req_relation", "Mẹ"),
        ("child_name", "Nguyễn Minh An"),
        ("child_dob", "2026-11-20"),
        ("child_sex", "nam"),
        ("child_ethnicity", "Kinh"),
        ("child_nationality", "Việt Nam"),
        ("birthplace_kind", "khac"),
        ("birthplace.province", "01"),
        ("birthplace.ward", "00004"),
        ("child_hometown", "Hà Nội"),
        ("mother_known", "co"),
        ("mother_name", "Lê Thị Mai"),
        ("mother_dob", "1995-03-04"),
        ("mother_ethnicity", "Kinh"),
        ("mother_nationality", "Việt Nam"),
        ("father_known", "khong"),
        ("parents_married", "khong"),
        ("copies_wanted", "khong"),
        ("signed_at", "Phường Ba Đình"),
        ("declaration", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    drafts::create(
        &mut conn,
        &drafts::NewDraft {
            public_id: "browserworkspacedraft",
            user_id: user.id,
            service_id: service.id,
            level: Level::Commune,
            place: &place,
            agency_id: office.id,
            rule_id: Some(rule.id),
            form_version: version,
            state: &drafts::DraftState {
                answers,
                visited: Default::default(),
                channel: None,
            },
            now,
        },
    )?;
    let draft = drafts::find_own(&mut conn, "browserworkspacedraft", user.id)?.ok_or("no draft")?;
    // The scanned certificate, really stored, so the officer's viewer shows it.
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let storage = portal::storage::from_settings(&app.settings)?;
    let mut upload = storage.begin("att/browser-certificate").await?;
    upload.write(pdf).await?;
    upload.finish().await?;
    attachments::add(
        &mut conn,
        &attachments::NewAttachment {
            public_id: "browsercertificate",
            draft_id: draft.id,
            owner_id: user.id,
            slot: "birth_certificate",
            file_name: "giay-chung-sinh.pdf",
            content_type: "application/pdf",
            size_bytes: pdf.len() as i64,
            sha256: "0",
            storage_key: "att/browser-certificate",
            now,
        },
        5,
        1 << 30,
    )?
    .map_err(|e| format!("{e:?}"))?;
    let places = |_: &str, _: Option<&str>| true;
    let email_of = |s: &dossiers::Submitted| {
        Ok(portal::mail::RenderedEmail {
            subject: format!("Đã nhận hồ sơ {}", s.code),
            text: "x".into(),
            html: "<p>x</p>".into(),
        })
    };
    let filed = dossiers::submit(
        &mut conn,
        &dossiers::SubmitInput {
            draft_public_id: "browserworkspacedraft",
            user_id: user.id,
            now,
            place_exists: &places,
            email: &email_of,
        },
    )
    .map_err(|e| format!("{e:?}"))?;
    Ok(filed.code)
}

/// The officer of UBND Phường Ba Đình, with a password (the second factor is enrolled in the
/// browser at first login).
fn officer_in_process(app: &common::TestApp) -> TestResult {
    use diesel::prelude::*;
    use portal::db::schema::agencies;
    let mut conn = portal::db::establish(&app.db_url)?;
    let now = chrono::Utc::now().naive_utc();
    let id = portal::db::users::insert_staff(
        &mut conn,
        OFFICER_EMAIL,
        "Phạm Văn Đức",
        portal::domain::account::Role::Officer,
        now,
    )?;
    let hash = portal::security::password::hash_now(OFFICER_PASSWORD)?;
    portal::db::users::set_password(&mut conn, id, &hash, now)?;
    let office: i64 = agencies::table
        .filter(agencies::office_id.eq("00004.00.00.H01"))
        .select(agencies::id)
        .first(&mut conn)?;
    portal::db::agency_members::add(&mut conn, id, office, false)?;
    Ok(())
}

/// Logs the officer in: password, then the first-login enrolment of the authenticator (the
/// code computed from the secret the page shows, as an app would).
async fn officer_logs_in(app: &common::TestApp, client: &Client) -> TestResult {
    staff_logs_in(app, client, OFFICER_EMAIL).await
}

/// A staff member (password `OFFICER_PASSWORD`) logs in and enrols the authenticator.
async fn staff_logs_in(app: &common::TestApp, client: &Client, email: &str) -> TestResult {
    log_in(app, client, email, OFFICER_PASSWORD).await?;
    wait_for_path(client, "/login/2fa").await?;
    let secret: String = text_of(client, "#totp-secret")
        .await?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let code = portal::security::totp::code_at(&secret, chrono::Utc::now().timestamp())
        .map_err(|e| format!("no code for the secret shown: {e:?}"))?;
    type_into(client, "#f-code", &code).await?;
    click_and_wait(client, "form[action='/login/2fa/enrol'] button").await?;
    Ok(())
}

#[tokio::test]
async fn an_officer_takes_a_dossier_to_a_result_the_citizen_downloads_and_verifies() {
    let Some(tools) = browser_tools() else { return };
    let Some(axe) = axe_source() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, DESKTOP).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = workspace_journey(&app, &browser.client, &axe).await;
    browser
        .finish(
            "an_officer_takes_a_dossier_to_a_result_the_citizen_downloads_and_verifies",
            outcome,
        )
        .await;
}

const FETCH_BASE64: &str = r#"
const done = arguments[arguments.length - 1];
fetch(arguments[0], { credentials: 'same-origin' })
  .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.arrayBuffer(); })
  .then(function (b) {
    const u = new Uint8Array(b); let s = '';
    for (let i = 0; i < u.length; i++) { s += String.fromCharCode(u[i]); }
    done(btoa(s));
  })
  .catch(function (e) { done('ERROR ' + e); });
"#;

async fn workspace_journey(app: &common::TestApp, client: &Client, axe: &str) -> TestResult {
    let base = &app.address;
    let mut violations = Vec::new();
    let mut scanned = Vec::new();
    verified_citizen_over_http(app, &MAI).await?;
    let code = filed_in_process(app, MAI.email).await?;
    officer_in_process(app)?;
    officer_logs_in(app, client).await?;

    // The queue: the new dossier, its count, its deadline in words.
    open(client, &format!("{base}/staff")).await?;
    expect_h1(client, "Hồ sơ của cơ quan", "logging in").await?;
    if !client.source().await?.contains(&code) {
        return Err(format!(
            "the queue does not list {code}; {}",
            where_we_are(client).await
        )
        .into());
    }
    scan_vietnamese_page(client, axe, "staff: queue", &mut violations, &mut scanned).await?;
    type_into(client, "#q", "le thi mai").await?;
    click_and_wait(client, "form.queue-filters button").await?;
    if !client.source().await?.contains(&code) {
        return Err("searching the name without accents does not find the dossier".into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "staff: queue (search)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    click_and_wait(client, &format!("a[href='/staff/dossiers/{code}']")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "staff: dossier (new)",
        &mut violations,
        &mut scanned,
    )
    .await?;

    // New → accepted → processing; the receipt slip exists.
    click_and_wait(client, "form.staff-action input[value='accept'] ~ button").await?;
    if !client.source().await?.contains("Được tiếp nhận") {
        return Err(format!(
            "accepting did not show the new status; {}",
            where_we_are(client).await
        )
        .into());
    }
    open(client, &format!("{base}/staff/dossiers/{code}/forms/01")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "staff: receipt slip (form 01)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    open(client, &format!("{base}/staff/dossiers/{code}")).await?;
    click_and_wait(client, "form.staff-action input[value='start'] ~ button").await?;
    click_and_wait(
        client,
        "form[action$='/handover'] input[value='claim'] ~ button",
    )
    .await?;
    scan_vietnamese_page(
        client,
        axe,
        "staff: dossier (processing)",
        &mut violations,
        &mut scanned,
    )
    .await?;

    // The result: generated from the template and sealed.
    type_into(
        client,
        "#decision",
        "Đăng ký khai sinh cho cháu Nguyễn Minh An, sinh ngày 20/11/2026.",
    )
    .await?;
    click_and_wait(client, "form[action$='/result'] button").await?;
    if !client.source().await?.contains("Kết quả đã ban hành") {
        return Err(format!("the result was not issued; {}", where_we_are(client).await).into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "staff: dossier (result)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    for (path, label) in [
        ("/staff?tab=finished", "staff: queue (finished)"),
        ("/staff?tab=mine", "staff: queue (mine)"),
        ("/staff/consultations", "staff: consultations"),
        ("/staff/counter", "staff: desk intake"),
    ] {
        open(client, &format!("{base}{path}")).await?;
        scan_vietnamese_page(client, axe, label, &mut violations, &mut scanned).await?;
    }
    click_and_wait(client, HEADER_LOGOUT_BUTTON).await?;

    // The citizen downloads the result; the first download delivers it.
    log_in(app, client, MAI.email, MAI.password).await?;
    open(client, &format!("{base}/dossiers/{code}")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "citizen: dossier with result",
        &mut violations,
        &mut scanned,
    )
    .await?;
    let verify_code = text_of(client, ".panel-result strong.dossier-code").await?;
    let fetched = client
        .execute_async(
            FETCH_BASE64,
            vec![json!(format!("/dossiers/{code}/result"))],
        )
        .await?;
    let fetched = fetched.as_str().unwrap_or("");
    let pdf = data_encoding::BASE64
        .decode(fetched.as_bytes())
        .map_err(|_| format!("the download failed: {fetched:.80}"))?;
    if !pdf.starts_with(b"%PDF-") {
        return Err("the result is not a PDF".into());
    }
    open(client, &format!("{base}/dossiers/{code}")).await?;
    if !client.source().await?.contains("Đã trả kết quả") {
        return Err("the first download did not deliver the result".into());
    }
    click_and_wait(client, HEADER_LOGOUT_BUTTON).await?;

    // Anyone checks it: by the code, then by the file itself.
    open(client, &format!("{base}/verify")).await?;
    scan_vietnamese_page(client, axe, "verify", &mut violations, &mut scanned).await?;
    type_into(client, "#code", &verify_code).await?;
    click_and_wait(client, "form[action='/verify'][method='get'] button").await?;
    if !client.source().await?.contains("Kết quả hợp lệ") {
        return Err(format!("the code does not verify; {}", where_we_are(client).await).into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "verify (genuine)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("ket-qua.pdf");
    std::fs::write(&file, &pdf)?;
    find(client, "#file")
        .await?
        .send_keys(&file.display().to_string())
        .await?;
    click_and_wait(client, "form[action='/verify'][method='post'] button").await?;
    if !client.source().await?.contains("Tệp này đúng từng byte") {
        return Err(format!("the file does not verify; {}", where_we_are(client).await).into());
    }
    let mut changed = pdf.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x20;
    std::fs::write(&file, &changed)?;
    find(client, "#file")
        .await?
        .send_keys(&file.display().to_string())
        .await?;
    click_and_wait(client, "form[action='/verify'][method='post'] button").await?;
    if !client.source().await?.contains("Không tìm thấy kết quả") {
        return Err("a changed file was not refused".into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "verify (not found)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    println!(
        "axe-core (WCAG 2.1 A+AA) scanned:\n  {}",
        scanned.join("\n  ")
    );
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        )
        .into())
    }
}

const ADMIN_EMAIL: &str = "quan.tri@portal.gov.vn";

/// An administrator with a password, made in the database (as `portal admin create` would,
/// without the link).
fn admin_in_process(app: &common::TestApp) -> TestResult {
    let mut conn = portal::db::establish(&app.db_url)?;
    let now = chrono::Utc::now().naive_utc();
    let id = portal::db::users::insert_staff(
        &mut conn,
        ADMIN_EMAIL,
        "Trần Quản Trị",
        portal::domain::account::Role::Admin,
        now,
    )?;
    let hash = portal::security::password::hash_now(OFFICER_PASSWORD)?;
    portal::db::users::set_password(&mut conn, id, &hash, now)?;
    Ok(())
}

async fn admin_logs_in(app: &common::TestApp, client: &Client) -> TestResult {
    staff_logs_in(app, client, ADMIN_EMAIL).await
}

#[tokio::test]
async fn an_administrator_configures_people_calendar_routing_and_services() {
    let Some(tools) = browser_tools() else { return };
    let Some(axe) = axe_source() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, DESKTOP).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = admin_journey(&app, &browser.client, &axe).await;
    browser
        .finish(
            "an_administrator_configures_people_calendar_routing_and_services",
            outcome,
        )
        .await;
}

async fn admin_journey(app: &common::TestApp, client: &Client, axe: &str) -> TestResult {
    let base = &app.address;
    let mut violations = Vec::new();
    let mut scanned = Vec::new();
    admin_in_process(app)?;
    admin_logs_in(app, client).await?;

    open(client, &format!("{base}/admin")).await?;
    expect_h1(client, "Quản trị hệ thống", "logging in").await?;
    scan_vietnamese_page(client, axe, "admin: home", &mut violations, &mut scanned).await?;

    // People: an invitation with a mistake, corrected; the person's page.
    open(client, &format!("{base}/admin/people/new")).await?;
    type_into(client, "#i-email", "khong-phai-email").await?;
    type_into(client, "#i-full_name", "Lê Văn Tâm").await?;
    type_into(client, "#i-office", "00004.00.00.H01").await?;
    click_and_wait(client, "form[action='/admin/people/new'] button").await?;
    if !client
        .source()
        .await?
        .contains("Nhập địa chỉ email đúng dạng")
    {
        return Err(format!(
            "the bad address is not named; {}",
            where_we_are(client).await
        )
        .into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "admin: invite (errors)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    type_into(client, "#i-email", "tam@ubnd.vn").await?;
    click_and_wait(client, "form[action='/admin/people/new'] button").await?;
    if !client
        .source()
        .await?
        .contains("Đã tạo tài khoản và gửi lời mời")
    {
        return Err(format!("the invitation failed; {}", where_we_are(client).await).into());
    }
    scan_vietnamese_page(client, axe, "admin: person", &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/admin/people?q=tam")).await?;
    scan_vietnamese_page(client, axe, "admin: people", &mut violations, &mut scanned).await?;

    // The calendar: a preview, a holiday added.
    open(
        client,
        &format!("{base}/admin/calendar?year=2031&filed_on=2031-03-03&filed_at=09:15&days=5"),
    )
    .await?;
    if !text_of(client, "#preview-result")
        .await?
        .contains("10/03/2031")
    {
        return Err("the due-date preview is wrong".into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "admin: calendar",
        &mut violations,
        &mut scanned,
    )
    .await?;
    set_date(client, "#h-day", "2031-03-05").await?;
    type_into(client, "#h-vi", "Ngày nghỉ bù").await?;
    type_into(client, "#h-en", "Day off in lieu").await?;
    click_and_wait(client, "form[action='/admin/calendar/holidays'] button").await?;
    if !client.source().await?.contains("Day off in lieu") {
        return Err(format!("the holiday is not listed; {}", where_we_are(client).await).into());
    }

    // Routing: where would birth registration in ward 00004 go?
    open(client, &format!("{base}/admin/routing")).await?;
    type_into(client, "#t-service", "1.001193").await?;
    type_into(client, "#t-ward", "00004").await?;
    click_and_wait(client, "form[action='/admin/routing#try'] button").await?;
    if !text_of(client, "#trial").await?.contains("00004.00.00.H01") {
        return Err(format!("the tester found no office; {}", where_we_are(client).await).into());
    }
    scan_vietnamese_page(client, axe, "admin: routing", &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/admin/routing/gaps")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "admin: routing gaps",
        &mut violations,
        &mut scanned,
    )
    .await?;

    // Offices.
    open(client, &format!("{base}/admin/offices?q=00004")).await?;
    scan_vietnamese_page(client, axe, "admin: offices", &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/admin/offices/00004.00.00.H01")).await?;
    scan_vietnamese_page(client, axe, "admin: office", &mut violations, &mut scanned).await?;
    {
        let mut conn = app.db();
        let ward: i64 = {
            use diesel::prelude::*;
            portal::db::schema::agencies::table
                .filter(portal::db::schema::agencies::office_id.eq("00004.00.00.H01"))
                .select(portal::db::schema::agencies::id)
                .first(&mut conn)?
        };
        portal::db::webhooks::add(
            &mut conn,
            &app.settings.seal_key,
            ward,
            "https://motcua.example.gov.vn/portal-events",
            "secret",
            None,
            chrono::Utc::now().naive_utc(),
        )?;
    }
    open(
        client,
        &format!("{base}/admin/offices/00004.00.00.H01/webhooks"),
    )
    .await?;
    scan_vietnamese_page(
        client,
        axe,
        "admin: webhooks",
        &mut violations,
        &mut scanned,
    )
    .await?;

    // Services: unpublished, the public page is gone; published again, it is back.
    open(client, &format!("{base}/services/1.001193")).await?;
    let public_h1 = text_of(client, "h1").await?;
    open(client, &format!("{base}/admin/services?q=khai+sinh")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "admin: services",
        &mut violations,
        &mut scanned,
    )
    .await?;
    open(client, &format!("{base}/admin/services/1.001193")).await?;
    scan_vietnamese_page(client, axe, "admin: service", &mut violations, &mut scanned).await?;
    click_and_wait(client, "form[action$='/publish'] button").await?;
    if text_of(client, "#publication").await? != "Ngừng công bố" {
        return Err(format!("not unpublished; {}", where_we_are(client).await).into());
    }
    open(client, &format!("{base}/services/1.001193")).await?;
    if text_of(client, "h1").await.unwrap_or_default() == public_h1 {
        return Err("the unpublished service is still public".into());
    }
    open(client, &format!("{base}/admin/services/1.001193")).await?;
    click_and_wait(client, "form[action$='/publish'] button").await?;
    open(client, &format!("{base}/services/1.001193")).await?;
    if text_of(client, "h1").await? != public_h1 {
        return Err(format!(
            "published again, the page is not back; {}",
            where_we_are(client).await
        )
        .into());
    }

    open(client, &format!("{base}/admin/services/1.001193/record")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "admin: record versions",
        &mut violations,
        &mut scanned,
    )
    .await?;
    open(client, &format!("{base}/admin/services/1.001193/forms")).await?;
    scan_vietnamese_page(client, axe, "admin: forms", &mut violations, &mut scanned).await?;
    open(
        client,
        &format!("{base}/admin/services/1.001193/forms/1/preview"),
    )
    .await?;
    if !client.source().await?.contains("Xem trước biểu mẫu") {
        return Err(format!("no preview; {}", where_we_are(client).await).into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "admin: form preview",
        &mut violations,
        &mut scanned,
    )
    .await?;
    click_and_wait(client, "form[action*='/preview/'] button[value='continue']").await?;
    scan_vietnamese_page(
        client,
        axe,
        "admin: form preview (errors)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    open(client, &format!("{base}/admin/import")).await?;
    scan_vietnamese_page(client, axe, "admin: import", &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/admin/audit")).await?;
    scan_vietnamese_page(client, axe, "admin: audit", &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/admin/outbox")).await?;
    scan_vietnamese_page(client, axe, "admin: outbox", &mut violations, &mut scanned).await?;
    open(client, &format!("{base}/admin/routing/1")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "admin: routing rule",
        &mut violations,
        &mut scanned,
    )
    .await?;
    open(
        client,
        &format!("{base}/admin/calendar/holidays/2031-03-05"),
    )
    .await?;
    scan_vietnamese_page(client, axe, "admin: holiday", &mut violations, &mut scanned).await?;
    println!(
        "axe-core (WCAG 2.1 A+AA) scanned:\n  {}",
        scanned.join("\n  ")
    );
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        )
        .into())
    }
}

/// A procedure in force at level 3 or more with no stored form (it uses the generated one).
fn service_without_form(app: &common::TestApp) -> TestResult<String> {
    use diesel::prelude::*;
    use portal::db::schema::{forms, services};
    let mut conn = portal::db::establish(&app.db_url)?;
    let with_form: Vec<String> = forms::table.select(forms::service_code).load(&mut conn)?;
    Ok(services::table
        .filter(services::active.eq(true))
        .filter(services::online_level.ge(3))
        .filter(services::code.ne_all(&with_form))
        .order(services::code)
        .select(services::code)
        .first(&mut conn)?)
}

#[tokio::test]
async fn an_administrator_builds_a_form_and_a_citizen_applies_with_it() {
    let Some(tools) = browser_tools() else { return };
    let Some(axe) = axe_source() else { return };
    let _serial = one_at_a_time().await;
    let app = common::spawn_app().await;
    let browser = match Browser::launch(&tools, DESKTOP).await {
        Ok(browser) => browser,
        Err(err) => panic!("cannot start the browser: {err}"),
    };
    let outcome = builder_journey(&app, &browser.client, &axe).await;
    browser
        .finish(
            "an_administrator_builds_a_form_and_a_citizen_applies_with_it",
            outcome,
        )
        .await;
}

async fn builder_journey(app: &common::TestApp, client: &Client, axe: &str) -> TestResult {
    let base = &app.address;
    let mut violations = Vec::new();
    let mut scanned = Vec::new();
    let code = service_without_form(app)?;
    admin_in_process(app)?;
    admin_logs_in(app, client).await?;
    open(client, &format!("{base}/admin/services/{code}/forms")).await?;
    click_and_wait(
        client,
        &format!("form[action='/admin/services/{code}/forms/new'] button"),
    )
    .await?;
    wait_for_path(client, &format!("/admin/services/{code}/forms/1/build")).await?;
    scan_vietnamese_page(
        client,
        axe,
        "admin: form builder",
        &mut violations,
        &mut scanned,
    )
    .await?;

    // A choice, then a field shown only for one of its values (no JSON anywhere).
    type_into(client, "#fb-key", "hinh_thuc").await?;
    choose(client, "#fb-kind", "radio").await?;
    type_into(client, "#fb-label-vi", "Hình thức nhận kết quả").await?;
    type_into(
        client,
        "#fb-options",
        "online | Trực tuyến | Online\nbuu_chinh | Qua bưu chính | By post",
    )
    .await?;
    find(client, "form input[name='required']")
        .await?
        .click()
        .await?;
    click_and_wait(client, "form input[value='save_field'] ~ button").await?;
    if !client.source().await?.contains("id=\"field-hinh_thuc\"") {
        return Err(format!("the choice was not added; {}", where_we_are(client).await).into());
    }
    type_into(client, "#fb-key", "dia_chi_nhan").await?;
    type_into(client, "#fb-label-vi", "Địa chỉ nhận kết quả").await?;
    find(client, "form input[name='required']")
        .await?
        .click()
        .await?;
    choose(client, "#fb-when", "hinh_thuc").await?;
    type_into(client, "#fb-equals", "buu_chinh").await?;
    click_and_wait(client, "form input[value='save_field'] ~ button").await?;
    if !text_of(client, "#field-dia_chi_nhan")
        .await?
        .contains("hinh_thuc = buu_chinh")
    {
        return Err(format!("the condition is not shown; {}", where_we_are(client).await).into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "admin: form builder (fields)",
        &mut violations,
        &mut scanned,
    )
    .await?;

    // Previewed as the citizen will see it, then published.
    open(
        client,
        &format!("{base}/admin/services/{code}/forms/1/preview"),
    )
    .await?;
    tick(client, "#f-hinh_thuc-1").await?;
    click_and_wait(client, "form[action*='/preview/'] button[value='continue']").await?;
    if !client.source().await?.contains("href=\"#f-dia_chi_nhan\"") {
        return Err(format!(
            "the preview does not ask for the address; {}",
            where_we_are(client).await
        )
        .into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "admin: built form preview",
        &mut violations,
        &mut scanned,
    )
    .await?;
    open(
        client,
        &format!("{base}/admin/services/{code}/forms/1/build"),
    )
    .await?;
    click_and_wait(client, "form[action$='/publish'] button").await?;
    click_and_wait(client, HEADER_LOGOUT_BUTTON).await?;

    // The citizen applies with it: by post, the address is asked for, then the page is saved.
    verified_citizen_over_http(app, &MAI).await?;
    log_in(app, client, MAI.email, MAI.password).await?;
    open(client, &format!("{base}/apply/{code}")).await?;
    click_and_wait(client, &format!("form[action='/apply/{code}'] button[type='submit']:not(.default-submit):not([name='action'])")).await?;
    let draft = client.current_url().await?.path().to_string();
    if !draft.starts_with("/drafts/") {
        return Err(format!("no draft; {}", where_we_are(client).await).into());
    }
    open(client, &format!("{base}{draft}/sections/thong_tin")).await?;
    tick(client, "#f-hinh_thuc-1").await?;
    click_and_wait(client, "button[name='_action'][value='continue']").await?;
    if !client.source().await?.contains("href=\"#f-dia_chi_nhan\"") {
        return Err(format!(
            "the address was not asked for; {}",
            where_we_are(client).await
        )
        .into());
    }
    scan_vietnamese_page(
        client,
        axe,
        "apply: built form (errors)",
        &mut violations,
        &mut scanned,
    )
    .await?;
    type_into(client, "#f-dia_chi_nhan", "12 Tràng Tiền, Hoàn Kiếm").await?;
    click_and_wait(client, "button[name='_action'][value='continue']").await?;
    if client
        .current_url()
        .await?
        .path()
        .ends_with("/sections/thong_tin")
    {
        return Err(format!("the page was not saved; {}", where_we_are(client).await).into());
    }
    println!(
        "axe-core (WCAG 2.1 A+AA) scanned:\n  {}",
        scanned.join("\n  ")
    );
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        )
        .into())
    }
}
