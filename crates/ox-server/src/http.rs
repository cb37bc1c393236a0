//! The request loop: access checks (`Host`, token), routing, and turning replies into HTTP.

use std::collections::HashMap;

use ox_store::Catalog;

use crate::Shared;
use crate::api;
use crate::assets;
use crate::reports;

/// An answer before it becomes an HTTP response.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Extra headers (`Set-Cookie`, `Content-Disposition`).
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON body with status 200.
    pub fn json(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body,
            headers: Vec::new(),
        }
    }

    /// The file at `path` (read into `body`) as a download named after it.
    pub fn download(path: &std::path::Path, body: Vec<u8>) -> Reply {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().replace(['"', '\\', '\r', '\n'], "_"))
            .unwrap_or_default();
        Reply {
            status: 200,
            content_type: "application/octet-stream",
            body,
            headers: vec![(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            )],
        }
    }

    /// `{"error": message}` with `status`.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Self::error_json(status, serde_json::json!({"error": message.into()}))
    }

    /// A JSON error object with `status`.
    pub fn error_json(status: u16, value: serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
            headers: Vec::new(),
        }
    }
}

/// A request reduced to what the handlers need.
pub(crate) struct Request {
    pub path: String,
    pub query: HashMap<String, String>,
}

impl Request {
    /// A query parameter, if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// A worker's state: its own catalog, opened on first use.
pub(crate) struct Worker<'a> {
    pub shared: &'a Shared,
    catalog: Option<Catalog>,
}

impl<'a> Worker<'a> {
    pub fn new(shared: &'a Shared) -> Self {
        Worker {
            shared,
            catalog: None,
        }
    }

    /// The catalog, refreshed from the files (new runs, new points, crashes).
    pub fn catalog(&mut self) -> Result<&Catalog, ox_store::StoreError> {
        let catalog = match self.catalog.take() {
            Some(mut c) => {
                c.refresh()?;
                c
            }
            None => Catalog::open(&self.shared.project)?,
        };
        Ok(self.catalog.insert(catalog))
    }
}

/// Answers requests until the server is dropped.
pub(crate) fn worker(http: &tiny_http::Server, shared: &Shared) {
    let mut state = Worker::new(shared);
    for request in http.incoming_requests() {
        let reply = answer(&mut state, &request);
        respond(request, reply);
    }
}

fn header<'r>(request: &'r tiny_http::Request, name: &'static str) -> Option<&'r str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

fn answer(state: &mut Worker<'_>, request: &tiny_http::Request) -> Reply {
    let shared = state.shared;
    if !shared.allowed_hosts.is_empty() {
        let host = header(request, "Host").unwrap_or("").to_ascii_lowercase();
        if !shared.allowed_hosts.contains(&host) {
            return Reply::error(
                421,
                format!(
                    "Host {host:?} is not served here; open http://{}/",
                    shared
                        .allowed_hosts
                        .get(1)
                        .map_or("127.0.0.1", String::as_str)
                ),
            );
        }
    }
    let (path, query) = split_url(request.url());
    let mut set_cookie = None;
    if let Some(token) = &shared.token {
        let given = query
            .get("token")
            .cloned()
            .or_else(|| {
                header(request, "Authorization")
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::to_string)
            })
            .or_else(|| header(request, "Cookie").and_then(cookie_token));
        match given {
            Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => {
                if query.contains_key("token") {
                    set_cookie = Some(format!(
                        "ox_token={token}; Path=/; HttpOnly; SameSite=Strict"
                    ));
                }
            }
            _ => {
                return Reply::error(
                    401,
                    "a token is required: open the URL `ox ui` printed (it ends in ?token=…)",
                );
            }
        }
    }
    if *request.method() != tiny_http::Method::Get && *request.method() != tiny_http::Method::Head {
        return Reply::error(405, "only GET is supported");
    }
    let req = Request { path, query };
    let mut reply = route(state, &req);
    if let Some(c) = set_cookie {
        reply.headers.push(("Set-Cookie", c));
    }
    reply
}

fn route(state: &mut Worker<'_>, req: &Request) -> Reply {
    let path = req.path.as_str();
    if path == "/" || path == "/index.html" {
        return assets::get("index.html").unwrap_or_else(|| Reply::error(404, "no page"));
    }
    if let Some(name) = path.strip_prefix("/assets/") {
        return assets::get(name)
            .unwrap_or_else(|| Reply::error(404, format!("no asset {name:?}")));
    }
    if let Some(rest) = path.strip_prefix("/reports/") {
        return reports::file(&state.shared.project, &percent_decode(rest));
    }
    let Some(api_path) = path.strip_prefix("/api/") else {
        return Reply::error(404, format!("no page at {path:?}; the dashboard is at /"));
    };
    let segments: Vec<&str> = api_path.split('/').collect();
    match segments.as_slice() {
        ["runs"] => api::runs(state, req),
        ["runs", id] => api::run(state, id),
        ["runs", id, "log"] => api::log(state, id, req),
        ["runs", id, "files", ..] => {
            let prefix = format!("runs/{id}/files/");
            let raw = api_path.strip_prefix(&prefix).unwrap_or("");
            api::file(state, id, &percent_decode(raw))
        }
        ["series"] => api::series(state, req),
        ["studies"] => api::studies(state),
        ["changes"] => api::changes(state),
        ["stats"] => api::stats(state, req),
        _ => Reply::error(
            404,
            format!(
                "no API endpoint {path:?}; see docs/api.md (runs, runs/ID, series, stats, studies, changes)"
            ),
        ),
    }
}

fn respond(request: tiny_http::Request, reply: Reply) {
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    let mut headers: Vec<(&str, String)> = vec![
        ("Content-Type", reply.content_type.to_string()),
        ("X-Content-Type-Options", "nosniff".into()),
        ("Cache-Control", "no-store".into()),
        ("Referrer-Policy", "no-referrer".into()),
    ];
    // A reply may bring its own (stricter) policy: the reports' pages do.
    if !reply
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("Content-Security-Policy"))
    {
        headers.push((
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'"
                .into(),
        ));
    }
    headers.extend(reply.headers);
    for (name, value) in headers {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    // The client may have gone away; nothing to do about it.
    let _ = request.respond(response);
}

/// Splits `/path?a=1&b=2` into the decoded path and parameters.
pub(crate) fn split_url(url: &str) -> (String, HashMap<String, String>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect();
    (path.to_string(), params)
}

fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// Decodes `%XX` escapes (invalid ones are kept as they are; bytes that are not UTF-8
/// become U+FFFD).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn cookie_token(cookies: &str) -> Option<String> {
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "ox_token")
        .map(|(_, v)| v.to_string())
}

/// Compares secrets without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_and_decode() {
        let (path, q) = split_url("/api/runs?q=lr+%3E+0.1&x=%ZZ&flag");
        assert_eq!(path, "/api/runs");
        assert_eq!(q["q"], "lr > 0.1");
        assert_eq!(q["x"], "%ZZ");
        assert_eq!(q["flag"], "");
        assert_eq!(percent_decode("a%2Fb%2e%2E"), "a/b..");
    }

    #[test]
    fn the_token_cookie_is_found_among_others() {
        assert_eq!(
            cookie_token("a=1; ox_token=abc; b=2").as_deref(),
            Some("abc")
        );
        assert_eq!(cookie_token("a=1"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
