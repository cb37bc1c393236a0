//! `ox ui`: serve the dashboard (ox-server) and say where to open it.

use std::io::Write;

use ox_server::{ServeOptions, Server, ServerError, generate_token, is_loopback};

use crate::output::{find_project, open_catalog};
use crate::{CliError, Outcome};

/// Worker threads answering requests (each holds its own catalog connection).
const WORKERS: usize = 4;

/// Arguments of `ox ui`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ox ui\n  ox ui --port 0 --open\n  ox ui --host 0.0.0.0            (prints a token; every request must carry it)\n\nOn a cluster's login node, keep the default host and tunnel from your laptop with the\n`ssh -L` line `ox ui` prints."
)]
pub struct Args {
    /// Address to listen on; anything but loopback requires a token.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// The token every request must carry (generated when listening beyond loopback).
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// Open the dashboard in the default browser.
    #[arg(long)]
    pub open: bool,
}

/// Serves the dashboard until interrupted.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let project = find_project()?;
    // Build or refresh the catalog now, with progress and warnings, not on the first request.
    drop(open_catalog()?);
    let token = match args.token {
        Some(t) if t.is_empty() => {
            return Err(CliError::usage(anyhow::anyhow!(
                "--token must not be empty"
            )));
        }
        Some(t) => Some(t),
        None if is_loopback(&args.host) => None,
        None => Some(
            generate_token()
                .map_err(|e| CliError::failed(anyhow::anyhow!("cannot generate a token: {e}")))?,
        ),
    };
    let opts = ServeOptions {
        host: args.host.clone(),
        port: args.port,
        token: token.clone(),
    };
    let server = Server::bind(&project, &opts).map_err(|e| match e {
        ServerError::Bind { .. } => CliError::usage(e)
            .hint("choose another port with `--port N`, or `--port 0` for any free one"),
        ServerError::TokenRequired { .. } => CliError::usage(e).hint("pass `--token T`"),
    })?;
    let port = server.local_addr().port();
    let shown_host = match args.host.as_str() {
        "0.0.0.0" | "::" | "[::]" => hostname(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_string(),
    };
    let mut url = format!("http://{shown_host}:{port}/");
    if let Some(t) = &token {
        url.push_str(&format!("?token={t}"));
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ox ui: serving {} at {url}", project.root().display());
    if is_loopback(&args.host) && std::env::var_os("SSH_CONNECTION").is_some() {
        let user = std::env::var("USER").unwrap_or_else(|_| "you".into());
        let _ = writeln!(
            out,
            "from your laptop: ssh -N -L {port}:127.0.0.1:{port} {user}@{} then open http://127.0.0.1:{port}/",
            hostname()
        );
    }
    let _ = writeln!(out, "press Ctrl-C to stop");
    let _ = out.flush();
    drop(out);
    if args.open {
        // Best effort: a headless machine has no browser to open.
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let _ = std::process::Command::new(opener)
            .arg(&url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
    server.run(WORKERS);
    Ok(Outcome::Success)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "HOST".into())
}
