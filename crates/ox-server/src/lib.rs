//! The dashboard of `ox ui`: a local HTTP server for the JSON API, the embedded web page and
//! the reports `ox report` wrote.
//!
//! Series are downsampled with `ox_analysis::downsample::min_max`, the same as `ox plot`.
//!
//! [`Server::bind`] opens the listening socket; [`Server::run`] answers requests on a few
//! worker threads, each with its own [`ox_store::Catalog`] (refreshed per API request, so
//! running runs show their new points). The page (`assets/`, uPlot vendored) is compiled into
//! the binary; nothing is fetched at run time.
//!
//! Security: bound to loopback, requests whose `Host` is not the served address are refused
//! (DNS rebinding); bound elsewhere, a token is required and every request must carry it
//! (`?token=`, the `ox_token` cookie the page then gets, or `Authorization: Bearer`). Files
//! are served only from inside the run's directory, and the reports `ox report` wrote only
//! from inside the project's `reports/` folder (with a policy that runs no script).

mod api;
mod assets;
mod files;
mod http;
mod reports;
mod run_objects;
mod series;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use ox_core::Project;

pub use files::{FileError, confined_path};
pub use series::{Cursor, Series, SeriesCache, Window, XAxis, from_envelope};

/// Errors of starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: String, message: String },
    /// A non-loopback address was asked for without a token.
    #[error("listening on {host} (not loopback) needs a token")]
    TokenRequired { host: String },
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Host name or IP to bind (`127.0.0.1` by default in `ox ui`).
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// The token every request must carry; required unless `host` is loopback.
    pub token: Option<String>,
}

/// What every worker shares: the project, the access rules and the series cache.
pub(crate) struct Shared {
    pub project: Project,
    pub token: Option<String>,
    /// `Host` header values accepted; empty = any (a token guards a non-loopback server).
    pub allowed_hosts: Vec<String>,
    pub series: SeriesCache,
    pub run_objects: run_objects::RunObjects,
}

/// A bound dashboard server.
pub struct Server {
    http: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    addr: SocketAddr,
}

/// Whether `host` names only loopback addresses (`localhost`, `127.x`, `::1`).
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A random token (128 bits, hex) from the system's random source.
pub fn generate_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    fs_err::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Server {
    /// Binds `opts.host:opts.port` for `project`.
    pub fn bind(project: &Project, opts: &ServeOptions) -> Result<Server, ServerError> {
        let loopback = is_loopback(&opts.host);
        if !loopback && opts.token.is_none() {
            return Err(ServerError::TokenRequired {
                host: opts.host.clone(),
            });
        }
        let bind_host = opts.host.trim_start_matches('[').trim_end_matches(']');
        let spec = (bind_host, opts.port);
        let shown = format!("{}:{}", opts.host, opts.port);
        let addr = spec
            .to_socket_addrs()
            .map_err(|e| ServerError::Bind {
                addr: shown.clone(),
                message: e.to_string(),
            })?
            .next()
            .ok_or_else(|| ServerError::Bind {
                addr: shown.clone(),
                message: "the name resolves to no address".into(),
            })?;
        let http = tiny_http::Server::http(addr).map_err(|e| ServerError::Bind {
            addr: shown,
            message: e.to_string(),
        })?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| ServerError::Bind {
                addr: opts.host.clone(),
                message: "not an IP socket".into(),
            })?;
        let allowed_hosts = if loopback {
            let port = addr.port();
            let mut hosts = vec![
                format!("localhost:{port}"),
                format!("127.0.0.1:{port}"),
                format!("[::1]:{port}"),
            ];
            hosts.push(format!("{}:{port}", opts.host.to_ascii_lowercase()));
            hosts
        } else {
            Vec::new()
        };
        Ok(Server {
            http: Arc::new(http),
            shared: Arc::new(Shared {
                project: project.clone(),
                token: opts.token.clone(),
                allowed_hosts,
                series: SeriesCache::default(),
                run_objects: run_objects::RunObjects::default(),
            }),
            addr,
        })
    }

    /// The address actually bound (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers requests on `workers` threads until the process ends. The run objects of the
    /// full list are made in the background first, so the first page load finds them.
    pub fn run(self, workers: usize) {
        let warm = Arc::clone(&self.shared);
        std::thread::spawn(move || {
            let mut worker = http::Worker::new(&warm);
            if let Ok(catalog) = worker.catalog() {
                let _ = warm.run_objects.answer(catalog, "");
            }
        });
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                let http = Arc::clone(&self.http);
                let shared = Arc::clone(&self.shared);
                std::thread::spawn(move || http::worker(&http, &shared))
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("0.0.0.0"));
        assert!(!is_loopback("example.org"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[test]
    fn tokens_are_random_hex() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_public_address_needs_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::init(dir.path()).unwrap();
        let opts = ServeOptions {
            host: "0.0.0.0".into(),
            port: 0,
            token: None,
        };
        assert!(matches!(
            Server::bind(&project, &opts),
            Err(ServerError::TokenRequired { .. })
        ));
    }
}
