#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Keeps the dependency rules of ARCHITECTURE.md true: a crate that gains a forbidden
//! dependency fails this test.

use std::collections::BTreeMap;

use serde_json::Value;

/// (crate, dependencies it must never have, directly).
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "ox-core",
        &[
            "ox-store",
            "ox-query",
            "ox-ingest",
            "ox-exec",
            "ox-analysis",
            "ox-render",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
        ],
    ),
    (
        "ox-store",
        &[
            "ox-ingest",
            "ox-exec",
            "ox-analysis",
            "ox-render",
            "ox-cli",
            "clap",
            "anyhow",
        ],
    ),
    (
        "ox-query",
        &[
            "ox-store",
            "ox-ingest",
            "ox-exec",
            "ox-analysis",
            "ox-render",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
        ],
    ),
    // Compute processes never write the catalog.
    (
        "ox-exec",
        &[
            "ox-store",
            "ox-query",
            "ox-analysis",
            "ox-render",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
        ],
    ),
    // Sweeps plan and launch runs; members write their own run files, never the catalog.
    (
        "ox-sweep",
        &[
            "ox-store",
            "ox-query",
            "ox-analysis",
            "ox-render",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
            "tokio",
        ],
    ),
    (
        "ox-ingest",
        &[
            "ox-exec",
            "ox-analysis",
            "ox-render",
            "ox-cli",
            "clap",
            "anyhow",
        ],
    ),
    // Analysis and rendering take values and return values or bytes.
    (
        "ox-analysis",
        &[
            "ox-store",
            "ox-query",
            "ox-ingest",
            "ox-exec",
            "ox-render",
            "ox-plot",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
            "tokio",
        ],
    ),
    (
        "ox-render",
        &[
            "ox-store",
            "ox-query",
            "ox-ingest",
            "ox-exec",
            "ox-analysis",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
            "tokio",
        ],
    ),
    // Figures are values in, SVG/PNG bytes out.
    (
        "ox-plot",
        &[
            "ox-store",
            "ox-query",
            "ox-ingest",
            "ox-exec",
            "ox-render",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
            "tokio",
        ],
    ),
    // The dashboard serves; it does not run or import anything, and only ox-cli prints.
    (
        "ox-server",
        &["ox-exec", "ox-ingest", "ox-cli", "clap", "anyhow"],
    ),
    // Reports and exports: values in, bytes out; the CLI reads and writes the files.
    (
        "ox-report",
        &[
            "ox-store",
            "ox-query",
            "ox-ingest",
            "ox-exec",
            "ox-cli",
            "rusqlite",
            "clap",
            "anyhow",
            "tokio",
        ],
    ),
];

#[test]
fn crates_keep_their_dependency_direction() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut deps: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap().to_string();
        let list = pkg["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_string(),
                    d["kind"].as_str().map(String::from),
                )
            })
            .collect();
        deps.insert(name, list);
    }
    let mut violations = Vec::new();
    for (krate, forbidden) in FORBIDDEN {
        let Some(list) = deps.get(*krate) else {
            violations.push(format!("{krate} is missing from the workspace"));
            continue;
        };
        for (dep, kind) in list {
            // Dev-dependencies (tests) may reach further.
            if kind.as_deref() != Some("dev") && forbidden.contains(&dep.as_str()) {
                violations.push(format!("{krate} depends on {dep}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "dependency rules broken (see ARCHITECTURE.md): {violations:#?}"
    );
}
