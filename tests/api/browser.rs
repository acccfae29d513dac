//! A headless chromium driven through chromedriver's W3C WebDriver API:
//! what the console's journeys (and the console bench) see and do. It needs
//! nothing of the test suite, so the bench includes this file as is.
//!
//! The WebDriver calls are a few JSON requests made with reqwest rather
//! than through fantoccini: its `webdriver` dependency turns on `syn`'s
//! `fold` feature for test builds only, so `cargo run` and `cargo test`
//! would each build the whole dependency tree (DataFusion included) with
//! different features, and it adds ICU 1.x, http 0.2 and thiserror 1 to
//! the build.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

/// The W3C name of an element reference in WebDriver JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The chromium binary and its driver, found on PATH.
pub(crate) struct BrowserPaths {
    chromium: PathBuf,
    driver: PathBuf,
}

/// Where the browser is, if it is installed.
pub(crate) fn find_browser() -> Option<BrowserPaths> {
    let which = |name: &str| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    };
    Some(BrowserPaths {
        chromium: which("chromium").or_else(|| which("chromium-browser"))?,
        driver: which("chromedriver")?,
    })
}

/// An element on the page, by its WebDriver id.
pub(crate) struct Element(String);

/// A headless chromium session; the driver process dies with it.
pub(crate) struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a session
    /// whose browser prefers `language`, in a laptop-sized window.
    pub(crate) async fn start(language: &str) -> Self {
        let paths = find_browser().expect("chromium and chromedriver are installed");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut driver = Command::new(&paths.driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "goog:chromeOptions": {
                "binary": paths.chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1366,900", format!("--lang={language}"),
                    format!("--accept-lang={language}"),
                ],
                "prefs": { "intl.accept_languages": language },
            }
        }}});
        let mut last_error = String::new();
        for _ in 0..100 {
            let started = http
                .post(format!("http://127.0.0.1:{port}/session"))
                .json(&capabilities)
                .send()
                .await;
            match started {
                Ok(response) => {
                    let body: Value = response.json().await.expect("session JSON");
                    let Some(session) = body["value"]["sessionId"].as_str() else {
                        driver.kill().ok();
                        panic!("chromedriver refused the session: {body}");
                    };
                    return Self {
                        http,
                        session: format!("http://127.0.0.1:{port}/session/{session}"),
                        driver,
                    };
                }
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver.kill().ok();
        panic!("chromedriver did not answer in 10 s: {last_error}");
    }

    /// One WebDriver command; `Err` carries the driver's error message
    /// (e.g. a stale element after a re-render).
    pub(crate) async fn command(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> Result<Value, String> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if method == Method::POST {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if ok {
            Ok(body["value"].clone())
        } else {
            Err(body["value"]["message"].as_str().unwrap_or("?").to_owned())
        }
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", json!({ "url": url }))
            .await
            .expect("navigate");
    }

    /// Every element matching the XPath or CSS `selector` (XPath when it
    /// starts with `/`), now.
    pub(crate) async fn find_all(&self, selector: &str) -> Vec<Element> {
        let using = if selector.starts_with('/') {
            "xpath"
        } else {
            "css selector"
        };
        let found = self
            .command(
                Method::POST,
                "/elements",
                json!({ "using": using, "value": selector }),
            )
            .await
            .unwrap_or_default();
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
            .collect()
    }

    /// The first element matching `selector`, waiting up to 10 s for it.
    pub(crate) async fn wait(&self, selector: &str) -> Element {
        self.wait_all(selector, 1).await.remove(0)
    }

    /// Every element matching `selector`, once at least `at_least` are there.
    pub(crate) async fn wait_all(&self, selector: &str, at_least: usize) -> Vec<Element> {
        for _ in 0..100 {
            let found = self.find_all(selector).await;
            if found.len() >= at_least {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.screenshot("failed").await;
        panic!("fewer than {at_least} of {selector} on screen after 10 s (screen: failed.png)");
    }

    pub(crate) async fn text(&self, element: &Element) -> Result<String, String> {
        let value = self
            .command(
                Method::GET,
                &format!("/element/{}/text", element.0),
                Value::Null,
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub(crate) async fn attr(&self, element: &Element, name: &str) -> Option<String> {
        let path = format!("/element/{}/attribute/{name}", element.0);
        let value = self.command(Method::GET, &path, Value::Null).await.ok()?;
        value.as_str().map(str::to_owned)
    }

    /// Resizes the window, e.g. to a tablet's screen.
    pub(crate) async fn resize(&self, width: u32, height: u32) {
        let rect = json!({ "width": width, "height": height });
        self.command(Method::POST, "/window/rect", rect)
            .await
            .expect("resize");
    }

    /// Runs `script` (a function body) in the page; returns its result.
    pub(crate) async fn execute(&self, script: &str) -> Value {
        self.command(
            Method::POST,
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
        .await
        .expect("script")
    }

    /// A DOM property, e.g. a field's current `value`.
    pub(crate) async fn property(&self, element: &Element, name: &str) -> String {
        let path = format!("/element/{}/property/{name}", element.0);
        let value = self.command(Method::GET, &path, Value::Null).await;
        value
            .expect("property")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits up to 10 s until the field matching `selector` holds `value`.
    pub(crate) async fn wait_value(&self, selector: &str, value: &str) {
        let mut seen = String::new();
        for _ in 0..100 {
            if let Some(element) = self.find_all(selector).await.first() {
                seen = self.property(element, "value").await;
                if seen == value {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{selector} never held {value:?}; last held: {seen:?}");
    }

    /// Waits up to 10 s until the text of `selector` contains `text`;
    /// returns the whole text.
    pub(crate) async fn wait_text(&self, selector: &str, text: &str) -> String {
        let mut seen = String::new();
        for _ in 0..100 {
            if let Some(element) = self.find_all(selector).await.first()
                && let Ok(now) = self.text(element).await
            {
                if now.contains(text) {
                    return now;
                }
                seen = now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.screenshot("failed").await;
        panic!("{selector} never showed {text:?}; last shown: {seen:?} (screen: failed.png)");
    }

    /// Clicks the first element matching `selector`, retrying while a
    /// re-render replaces it.
    pub(crate) async fn click(&self, selector: &str) {
        let mut last_error = String::new();
        for _ in 0..100 {
            if let Some(element) = self.find_all(selector).await.first() {
                let path = format!("/element/{}/click", element.0);
                match self.command(Method::POST, &path, json!({})).await {
                    Ok(_) => return,
                    Err(error) => last_error = error,
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not click {selector} in 10 s: {last_error}");
    }

    /// Clicks the button or link whose whole text is `text`.
    pub(crate) async fn click_text(&self, text: &str) {
        self.click(&format!(
            "//*[self::button or self::a][normalize-space(.)='{text}']"
        ))
        .await;
    }

    /// Picks the option `value` of the `<select>` matching `selector`.
    pub(crate) async fn select(&self, selector: &str, value: &str) {
        self.click(&format!("{selector} option[value='{value}']"))
            .await;
    }

    /// Replaces the text of the field matching `selector` with `text`.
    pub(crate) async fn type_into(&self, selector: &str, text: &str) {
        let element = self.wait(selector).await;
        self.command(
            Method::POST,
            &format!("/element/{}/clear", element.0),
            json!({}),
        )
        .await
        .expect("clear");
        let path = format!("/element/{}/value", element.0);
        self.command(Method::POST, &path, json!({ "text": text }))
            .await
            .expect("type");
    }

    /// The current window's handle.
    pub(crate) async fn window(&self) -> String {
        let handle = self.command(Method::GET, "/window", Value::Null).await;
        handle
            .expect("window")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Switches to the window opened beside `current`, waiting for it.
    pub(crate) async fn switch_to_other_window(&self, current: &str) {
        for _ in 0..100 {
            let handles = self
                .command(Method::GET, "/window/handles", Value::Null)
                .await;
            let handles = handles.expect("window handles");
            let other = handles
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|h| h.as_str().filter(|h| *h != current).map(str::to_owned));
            if let Some(handle) = other {
                self.command(Method::POST, "/window", json!({ "handle": handle }))
                    .await
                    .expect("switch window");
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no second window opened in 10 s");
    }

    /// Closes the current window and returns to `back_to`.
    pub(crate) async fn close_window(&self, back_to: &str) {
        self.command(Method::DELETE, "/window", Value::Null)
            .await
            .expect("close window");
        self.command(Method::POST, "/window", json!({ "handle": back_to }))
            .await
            .expect("switch back");
    }

    pub(crate) async fn current_url(&self) -> String {
        let url = self.command(Method::GET, "/url", Value::Null).await;
        url.expect("url").as_str().unwrap_or_default().to_owned()
    }

    /// Saves a screenshot as `target/console-screens/<name>.png`.
    pub(crate) async fn screenshot(&self, name: &str) {
        let png = self
            .command(Method::GET, "/screenshot", Value::Null)
            .await
            .expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("PNG in base64");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screens");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("save screenshot");
    }

    /// Ends the session (chromium quits), then the driver.
    pub(crate) async fn close(self) {
        self.command(Method::DELETE, "", Value::Null).await.ok();
    }
}

impl Drop for Browser {
    /// The driver never outlives its session, a failed journey's included.
    fn drop(&mut self) {
        self.driver.kill().ok();
        self.driver.wait().ok();
    }
}
