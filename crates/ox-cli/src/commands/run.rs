//! `ox run`: run a command as a tracked run (see `ox_exec::Supervisor`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use ox_exec::{ExecError, RunRequest, Stream, Supervisor};
use serde_json::Map;

use crate::{CliError, Outcome, output};

/// Arguments of `ox run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  ox run -- python train.py --lr 3e-4
  ox run -s sparse-attention -n lr-3e4 -p lr=3e-4 -p model.layers=12 -t baseline -- python train.py

The command gets OX_DIR, OX_RUN_ID, OX_METRICS_FILE, OX_STUDY, OX_RUN_NAME and OX_PARAMS in its
environment. Its output is shown and saved in .ox/runs/<id>/stdout.log; CPU, memory and GPU use
are sampled into .ox/metrics/<id>_system.jsonl (every OX_SAMPLE_INTERVAL seconds, default 2).
Ctrl-C or SIGTERM stops the command and everything it started (SIGKILL after OX_KILL_GRACE
seconds, default 10). ox exits with the command's exit code. The command runs in its own process
group, so it cannot read from the terminal: its stdin is /dev/null unless ox's stdin is a pipe
or a file.")]
pub struct Args {
    /// Study the run belongs to (default: "default").
    #[arg(short, long)]
    pub study: Option<String>,
    /// Name of the run (unique within its study, so that it can name the run).
    #[arg(short, long)]
    pub name: Option<String>,
    /// A parameter, typed like YAML (3e-4, 12, true, adam); dotted keys nest (model.layers=12).
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// A tag (repeat for several).
    #[arg(short = 't', long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// The run id to use (chosen by `ox sweep` for its members).
    #[arg(long = "id", hide = true)]
    pub id: Option<String>,
    /// The sweep this run is a member of (set by `ox sweep`).
    #[arg(long, hide = true)]
    pub sweep: Option<String>,
    /// The run this one is a pipeline step of (set by `ox sweep`).
    #[arg(long, hide = true)]
    pub parent: Option<String>,
    /// All params as one JSON object, exactly typed (set by `ox sweep`).
    #[arg(long, hide = true, value_name = "JSON")]
    pub params_json: Option<String>,
    /// The sweep member's key (set by `ox sweep`).
    #[arg(long, hide = true)]
    pub member: Option<String>,
    /// The pipeline step's name (set by `ox sweep`).
    #[arg(long, hide = true)]
    pub step: Option<String>,
    /// The command and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// Supervises the command and exits with its exit code.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let project = output::find_project()?;
    let mut params = Map::new();
    for spec in &args.params {
        ox_core::set_param_spec(&mut params, spec).map_err(|e| {
            CliError::usage(e)
                .hint("write parameters as -p KEY=VALUE, e.g. -p lr=3e-4 -p model.layers=12")
        })?;
    }
    if let Some(text) = &args.params_json {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(m)) => params.extend(m),
            _ => {
                return Err(CliError::usage(anyhow!(
                    "--params-json {text:?} is not a JSON object"
                ))
                .hint("give the params as one JSON object, e.g. --params-json '{\"lr\": 0.001}'"));
            }
        }
    }
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::failed(anyhow!("cannot read the current directory: {e}")))?;
    let kill_grace = seconds_from_env("OX_KILL_GRACE", ox_exec::DEFAULT_KILL_GRACE)?;
    // The watchdog is this same binary in its hidden `__watchdog` mode.
    let executor = match std::env::current_exe() {
        Ok(ox) => ox_exec::LocalExecutor::with_watchdog(vec![
            ox.into_os_string(),
            "__watchdog".into(),
            "--grace".into(),
            kill_grace.as_secs_f64().to_string().into(),
        ]),
        Err(_) => ox_exec::LocalExecutor::default(),
    };
    let supervisor = Supervisor {
        sample_interval: seconds_from_env(
            "OX_SAMPLE_INTERVAL",
            ox_exec::sampler::DEFAULT_INTERVAL,
        )?,
        kill_grace,
        executor: Arc::new(executor),
        console: Some(Arc::new(|stream| match stream {
            Stream::Stdout => Box::new(std::io::stdout()),
            Stream::Stderr => Box::new(std::io::stderr()),
        })),
        ..Supervisor::default()
    };
    let id = parse_id("--id", args.id.as_deref())?;
    let parent = parse_id("--parent", args.parent.as_deref())?;
    let mut extra = serde_json::Map::new();
    if let Some(m) = &args.member {
        extra.insert("member".into(), m.clone().into());
    }
    if let Some(s) = &args.step {
        extra.insert("step".into(), s.clone().into());
    }
    // A sweep member's inspect-ai logs land in its run directory, to be attached at the end.
    let is_member = args.sweep.is_some();
    let inspect_dir = match (&args.sweep, &id) {
        (Some(_), Some(id)) if std::env::var_os("INSPECT_LOG_DIR").is_none() => {
            Some(project.run_dir(id).join("inspect"))
        }
        _ => None,
    };
    let env = inspect_dir
        .iter()
        .map(|d| {
            (
                "INSPECT_LOG_DIR".to_string(),
                d.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let request = RunRequest {
        study: args.study,
        name: args.name,
        params,
        tags: args.tags,
        command: args.command,
        cwd,
        id,
        sweep: args.sweep,
        parent,
        extra,
        env,
    };
    let mut prepared = supervisor
        .prepare(&project, request)
        .map_err(CliError::failed)?;
    let run = prepared.run();
    // A sweep member (maybe on a compute node) never reads the catalog; its name is its
    // member's, shared by design with the member's earlier attempts.
    let same_name = match &run.name {
        Some(name) if !is_member => ox_store::runs_named(&project, &run.study, name),
        _ => Vec::new(),
    };
    if let (Some(name), Some(first)) = (&run.name, same_name.iter().find(|id| **id != run.id)) {
        eprintln!(
            "ox: warning: study {:?} already has a run named {name:?} ({first}); the name no longer names one run, use the id",
            run.study
        );
    }
    let id = run.id.clone();
    eprintln!("ox: run {id} started");
    if let Some(dir) = inspect_dir {
        let (project, id) = (project.clone(), id.clone());
        prepared.before_finish(Box::new(move || {
            collate_inspect_logs(&project, &id, &dir);
        }));
    }
    match prepared.execute(line_observer(&project)) {
        Ok(outcome) => {
            for warning in &outcome.warnings {
                eprintln!("ox: warning: run {id}: {warning}");
            }
            let status = outcome.run.status;
            if status != ox_core::Status::Completed {
                eprintln!("ox: run {id} {status} (exit code {})", outcome.exit_code);
            }
            Ok(match u8::try_from(outcome.exit_code & 0xff).unwrap_or(1) {
                0 => Outcome::Success,
                code => Outcome::Code(code),
            })
        }
        Err(e @ ExecError::Spawn { .. }) => Err(spawn_error(e)),
        Err(e) => Err(CliError::failed(e)),
    }
}

/// A run id given on the command line (by `ox sweep`).
fn parse_id(flag: &str, text: Option<&str>) -> Result<Option<ox_core::RunId>, CliError> {
    text.map(|t| {
        ox_core::RunId::parse(t).ok_or_else(|| {
            CliError::usage(anyhow!("{flag} {t:?} is not a run id"))
                .hint("run ids are lowercase letters and digits, as `ox ls` shows them")
        })
    })
    .transpose()
}

/// Imports the inspect-ai logs the command wrote into `dir` and attaches their metrics and
/// per-sample scores to run `id`. Problems are warnings: the run itself already ended.
fn collate_inspect_logs(project: &ox_core::Project, id: &ox_core::RunId, dir: &std::path::Path) {
    if !dir.is_dir() {
        return;
    }
    let found = ox_ingest::discover(&[dir.to_path_buf()]);
    let mut imported = Vec::new();
    for unit in found
        .units
        .iter()
        .filter(|u| u.kind == ox_ingest::UnitKind::Inspect)
    {
        match ox_ingest::parse_unit(unit, &ox_ingest::LogPatterns::default()) {
            Ok(runs) => imported.extend(runs),
            Err(e) => eprintln!("ox: warning: run {id}: inspect log not attached: {e}"),
        }
    }
    if imported.is_empty() {
        return;
    }
    match ox_ingest::attach_to_run(project, id, &mut imported) {
        Ok(()) => eprintln!(
            "ox: run {id}: attached {} inspect log(s) from {}",
            imported.len(),
            dir.display()
        ),
        Err(e) => eprintln!("ox: warning: run {id}: inspect logs not attached: {e}"),
    }
}

/// A command that could not be started: exit 127 (not found) or 126, like a shell.
fn spawn_error(e: ExecError) -> CliError {
    let (code, hint) = match &e {
        ExecError::Spawn {
            exit_code: 127,
            program,
            ..
        } => (
            127,
            format!(
                "check that {program:?} is installed and on PATH, or give its path (e.g. ./{program}); the run is recorded as failed"
            ),
        ),
        ExecError::Spawn { program, .. } => (
            126,
            format!(
                "check that {program:?} is an executable file (chmod +x) with a valid #! line; the run is recorded as failed"
            ),
        ),
        _ => (1, String::new()),
    };
    let mut err = CliError::failed(e).hint(hint);
    err.code = code;
    err
}

/// Reads a duration in seconds (fractions allowed) from an environment variable.
fn seconds_from_env(var: &str, default: Duration) -> Result<Duration, CliError> {
    let Some(raw) = std::env::var_os(var) else {
        return Ok(default);
    };
    let text = raw.to_string_lossy();
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            CliError::usage(anyhow!(
                "{var}={text:?} is not a positive number of seconds"
            ))
            .hint(format!("unset {var} or set it to e.g. 2 or 0.5"))
        })
}

/// The observer that turns printed lines into metrics with the log patterns of
/// `.ox/config.toml`; none when there are no patterns.
fn line_observer(project: &ox_core::Project) -> Option<Box<dyn ox_exec::LineObserver>> {
    // The user's `[[log_patterns]]` (the same ones `ox import` applies to text logs).
    let patterns = match ox_ingest::LogPatterns::from_config_file(&project.config_path()) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => return None,
        Err(e) => {
            eprintln!("ox: warning: log patterns not applied: {e}");
            return None;
        }
    };
    Some(Box::new(move |_stream: Stream, line: &str| {
        let m = patterns.metrics_from_line(line);
        (!m.values.is_empty()).then_some(ox_exec::ObservedMetrics {
            step: m.step,
            values: m.values,
        })
    }))
}

/// Arguments of the hidden `ox __watchdog` mode (started by `ox run`, not by people).
#[derive(Debug, clap::Args)]
pub struct WatchdogArgs {
    /// The process group to end once stdin closes.
    #[arg(long)]
    pub pgid: u32,
    /// Seconds between SIGTERM and SIGKILL.
    #[arg(long, default_value_t = 10.0)]
    pub grace: f64,
}

/// Waits for the supervisor (on the other end of stdin) to go, then ends what is left of
/// the command's process group (see `ox_exec::watchdog`).
pub fn watchdog(args: WatchdogArgs) -> Result<Outcome, CliError> {
    let grace =
        std::time::Duration::try_from_secs_f64(args.grace).unwrap_or(ox_exec::DEFAULT_KILL_GRACE);
    let group = ox_exec::local_group(args.pgid);
    ox_exec::watch(std::io::stdin().lock(), group.as_ref(), grace);
    Ok(Outcome::Success)
}
