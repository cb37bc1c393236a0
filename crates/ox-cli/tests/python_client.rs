//! Runs the Python client's unittest suite (`python/tests`) against the built `ox` binary,
//! so `cargo test` covers the client, the demo script and their contract with the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

/// Environment a surrounding `ox run` may have set; the suite must not attach to it.

#[test]
fn python_client_suite_passes() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python_dir = repo.join("python");
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(python_dir.join("tests"))
        .current_dir(&repo)
        .env("OX_BIN", env!("CARGO_BIN_EXE_ox"))
        .env("PYTHONPATH", &python_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for key in ox_test_support::OX_ENV_VARS {
        cmd.env_remove(key);
    }
    let output = match cmd.output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run python3 (needed for the Python client's tests): {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Python client tests failed ({}):\n{stdout}{stderr}",
        output.status
    );
    // unittest before 3.12 exits 0 when it finds no tests: insist that some ran.
    let ran = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")?
                .split_whitespace()
                .next()?
                .parse::<u32>()
                .ok()
        })
        .unwrap_or(0);
    assert!(ran > 0, "no Python tests ran:\n{stdout}{stderr}");
    // Show the per-test lines (including skips) under `cargo test -- --nocapture`.
    println!("{stderr}");
}
