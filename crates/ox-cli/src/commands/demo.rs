//! `ox demo`: a real, small sweep (learning rates × seeds of a pure-Python MLP) run with
//! `ox sweep` in a new directory, then listed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

use crate::{CliError, Outcome};

/// The training script, embedded so the binary is self-contained (`import ox` in it finds
/// the client `ox run` offers, see `ox_exec::python_client`).
const TRAIN_PY: &str = include_str!("../../../../examples/demo/train.py");

const LEARNING_RATES: [&str; 3] = ["0.01", "0.1", "1.0"];
const SEEDS: [u32; 3] = [1, 2, 3];

/// Arguments of `ox demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to create the demo project in (must not exist yet).
    #[arg(long, default_value = "ox-demo")]
    pub dir: PathBuf,
    /// Python interpreter to run the training script with.
    #[arg(long, default_value = "python3")]
    pub python: String,
}

/// Creates the demo project, runs the sweep, and prints `ox ls`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    if args.dir.join(".ox").exists() {
        return Err(CliError::usage(anyhow::anyhow!(
            "{} already holds an ox project",
            args.dir.display()
        ))
        .hint(format!(
            "look at it with `cd {} && ox ls`, or pass `--dir NEW_DIR`",
            args.dir.display()
        )));
    }
    check_python(&args.python)?;
    let project = ox_core::Project::init(&args.dir).context("cannot create the demo project")?;
    let root = project.root().to_path_buf();
    write_file(&root.join("train.py"), TRAIN_PY)?;
    let ox = std::env::current_exe().context("cannot locate the ox binary")?;

    eprintln!(
        "ox demo: training a small MLP for {} learning rates × {} seeds in {}",
        LEARNING_RATES.len(),
        SEEDS.len(),
        root.display()
    );
    // The demo is an ordinary sweep: the same command a user would type.
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let swept = Command::new(&ox)
        .current_dir(&root)
        .env_remove("OX_DIR")
        .args(["sweep", "-s", "demo", "--grid"])
        .arg(format!("lr={}", LEARNING_RATES.join(",")))
        .arg("--seeds")
        .arg(SEEDS.map(|s| s.to_string()).join(","))
        .args(["--max-parallel", &parallel.to_string(), "--no-hints"])
        .args(["--", &args.python, "train.py"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("cannot start `ox sweep`")?;
    println!();
    let listed = Command::new(&ox)
        .current_dir(&root)
        .env_remove("OX_DIR")
        .args([
            "ls",
            "--columns",
            "name,status,duration,lr,seed,metrics.val_loss,metrics.val_accuracy",
        ])
        .status()
        .context("cannot run `ox ls`")?;
    if !listed.success() {
        return Ok(Outcome::Failed);
    }
    // The study's report (issue 13): `ox report` prints where report.html and report.md are.
    let reported = Command::new(&ox)
        .current_dir(&root)
        .env_remove("OX_DIR")
        .args(["report", "-s", "demo"])
        .stdout(Stdio::piped())
        .output()
        .context("cannot run `ox report`")?;
    let report_path = String::from_utf8_lossy(&reported.stdout);
    if let Some(html) = report_path.lines().next() {
        eprintln!(
            "
report: {html}"
        );
    }
    eprintln!(
        "\nnext: cd {dir} && {ox} sweep status demo   # the sweep's members and failures\n      cd {dir} && {ox} show 'lr=0.1,seed=1'   # one run with its curves\n      cd {dir} && {ox} query \"lr = 0.1 ORDER BY metrics.val_loss\"\n      cd {dir} && {ox} stats --where \"sweep = 'demo'\" --metric val_loss --group-by lr   # seeds grouped, intervals, tests",
        dir = args.dir.display(),
        ox = invocation(&ox)
    );
    Ok(if swept.success() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

/// How to call this binary in a printed hint: `ox` when that is what PATH finds, else its
/// full path (after `cargo run -- demo`, `ox` is usually not installed yet).
fn invocation(exe: &Path) -> String {
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let candidate = dir.join("ox");
            candidate.is_file() && candidate.canonicalize().ok() == exe.canonicalize().ok()
        })
    });
    if on_path {
        "ox".to_string()
    } else {
        ox_core::shell::quote(&exe.display().to_string())
    }
}

fn check_python(python: &str) -> Result<(), CliError> {
    match Command::new(python)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        _ => Err(CliError::failed(anyhow::anyhow!(
            "`{python}` is not available; the demo trains with Python 3 (standard library only)"
        ))
        .hint("install Python 3.9 or newer, or pass `--python PATH`")),
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
