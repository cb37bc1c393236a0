//! A headless Chromium driven over the DevTools protocol, for end-to-end tests of web pages.
//!
//! [`Browser::launch`] finds `/usr/bin/chromium` (installing Debian's `chromium` package when
//! running as root with apt), starts it with a fresh profile and a page, and returns `None`
//! after printing why when it cannot (no Chromium, not root). Under `CI=true` an unavailable
//! browser is a failure: it panics instead, so CI never passes by skipping.
//!
//! ```no_run
//! # use ox_test_support::browser::Browser;
//! let Some(mut b) = Browser::launch(1280, 800) else { return };
//! b.goto("http://127.0.0.1:8765/");
//! assert!(b.wait_for("document.querySelectorAll('tr').length > 1"));
//! b.screenshot("runs");
//! ```

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Where Debian's package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long [`Browser::wait_for`] waits by default.
pub const WAIT: Duration = Duration::from_secs(15);

/// A running headless Chromium with one page attached; killed on drop.
pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Console errors and uncaught exceptions of the page, in order.
    pub errors: Vec<String>,
    _profile: tempfile::TempDir,
}

/// Whether tests run under CI (`CI=true`), where a missing component is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The Chromium binary, installing it with apt when root and it is missing. `Err` says why
/// there is none.
pub fn find_chromium() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("OX_CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    if Path::new(CHROMIUM).exists() {
        return Ok(CHROMIUM.into());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        return Err(format!(
            "{CHROMIUM} not found and not root (install it: apt-get install chromium)"
        ));
    }
    let status = Command::new("flock")
        .args(["/tmp/apt.lock", "apt-get", "install", "-y", "-qq"])
        .args(["chromium", "chromium-driver"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() && Path::new(CHROMIUM).exists() => Ok(CHROMIUM.into()),
        Ok(s) => Err(format!("apt-get install chromium failed ({s})")),
        Err(e) => Err(format!("cannot run apt-get to install chromium: {e}")),
    }
}

/// Prints why a browser test is skipped, or panics under CI.
fn unavailable(reason: &str) {
    if under_ci() {
        panic!("CI=true but no headless Chromium: {reason}");
    }
    eprintln!("skipped: no headless Chromium: {reason}");
}

impl Browser {
    /// Starts a headless Chromium with a `width` × `height` page, or prints why not and
    /// returns `None` (panics under CI instead).
    pub fn launch(width: u32, height: u32) -> Option<Browser> {
        let bin = match find_chromium() {
            Ok(b) => b,
            Err(reason) => {
                unavailable(&reason);
                return None;
            }
        };
        match Self::start(&bin, width, height) {
            Ok(b) => Some(b),
            Err(reason) => {
                unavailable(&reason);
                None
            }
        }
    }

    fn start(bin: &Path, width: u32, height: u32) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let ws_url = match devtools_url(&mut child) {
            Ok(u) => u,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let (ws, _) = tungstenite::connect(ws_url.as_str())
            .map_err(|e| format!("DevTools websocket {ws_url}: {e}"))?;
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .map_err(|e| e.to_string())?;
        }
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            errors: Vec::new(),
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}))?;
        let target_id = target["targetId"].as_str().unwrap_or_default().to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        )?;
        b.session = attached["sessionId"]
            .as_str()
            .ok_or("no DevTools session")?
            .to_string();
        b.call("Page.enable", json!({}))?;
        b.call("Runtime.enable", json!({}))?;
        b.set_viewport(width, height);
        Ok(b)
    }

    /// Sends a DevTools command (to the page once attached) and returns its result.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = Value::String(self.session.clone());
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .map_err(|e| format!("{method}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if Instant::now() > deadline {
                return Err(format!("{method}: no answer in 30 s"));
            }
            let reply = match self.ws.read() {
                Ok(Message::Text(t)) => t,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(format!("{method}: {e}")),
            };
            let v: Value = serde_json::from_str(reply.as_str()).unwrap_or(Value::Null);
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(v["result"].clone());
            }
            self.note_event(&v);
        }
    }

    fn note_event(&mut self, v: &Value) {
        match v["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let d = &v["params"]["exceptionDetails"];
                let text = d["exception"]["description"]
                    .as_str()
                    .or(d["text"].as_str())
                    .unwrap_or("exception");
                self.errors.push(text.to_string());
            }
            Some("Runtime.consoleAPICalled") if v["params"]["type"] == "error" => {
                self.errors.push(v["params"]["args"].to_string());
            }
            _ => {}
        }
    }

    /// Sets the page's size in CSS pixels.
    pub fn set_viewport(&mut self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )
        .expect("set viewport");
    }

    /// Navigates to `url` and waits until the document has loaded.
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}))
            .expect("navigate");
        assert!(
            self.wait_for("document.readyState === 'complete'"),
            "{url} did not load"
        );
    }

    /// Evaluates a JavaScript expression in the page (promises awaited) and returns its value.
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .expect("Runtime.evaluate");
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{expr}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Waits up to [`WAIT`] until the expression is truthy; false if it never was.
    pub fn wait_for(&mut self, expr: &str) -> bool {
        self.wait_for_within(expr, WAIT)
    }

    /// Waits up to `limit` until the expression is truthy.
    pub fn wait_for_within(&mut self, expr: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let probe = format!("!!(function(){{try{{return ({expr});}}catch(e){{return false;}}}})()");
        loop {
            // While the page navigates, evaluation fails ("Inspected target navigated"):
            // not yet, ask again.
            let answer = self.call(
                "Runtime.evaluate",
                json!({"expression": probe, "returnByValue": true, "awaitPromise": true}),
            );
            if answer.is_ok_and(|r| r["result"]["value"] == Value::Bool(true)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG of the page as `target/ui-screenshots/NAME.png` and returns its path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let r = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .expect("screenshot");
        let bytes = base64_decode(r["data"].as_str().unwrap_or_default());
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("create screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/ui-screenshots/` of this workspace (`OX_SCREENSHOTS` overrides).
pub fn screenshot_dir() -> PathBuf {
    match std::env::var_os("OX_SCREENSHOTS") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots"),
    }
}

/// Reads Chromium's stderr until it prints its DevTools websocket address.
fn devtools_url(child: &mut Child) -> Result<String, String> {
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && let Some(url) = line.strip_prefix("DevTools listening on ") {
                let _ = tx.send(url.trim().to_string());
                sent = true;
            }
            // Keep draining so Chromium never blocks on a full pipe.
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .map_err(|_| "Chromium printed no DevTools address in 30 s".to_string())
}

/// Standard base64 (what `Page.captureScreenshot` returns) to bytes.
fn base64_decode(text: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in text.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("aGVsbG8="), b"hello");
        assert_eq!(base64_decode("aGk"), b"hi");
        assert_eq!(base64_decode(""), b"");
    }
}
