//! `ox sweep`: launch a sweep (locally or as a SLURM array), and `ox sweep status|ls|cancel`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow};
use ox_core::{Project, RunId, Status};
use ox_sweep::local::{PoolCounts, PoolEvent, PoolJob, PoolOptions};
use ox_sweep::slurm::{Scheduler, SlurmCli};
use ox_sweep::{ExecutorKind, RunFiles, SweepRecord, SweepSpec};

use super::sweep_status::{
    CancelArgs, LsArgs, StatusArgs, cancel, hostname, launcher_alive, list, slurm_view, status,
};
use crate::output::find_project;
use crate::{CliError, Outcome};

/// Arguments of `ox sweep`.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  ox sweep -s lr-study --grid lr=1e-4,5e-5,1e-5 --grid model.layers=6,12 --seeds 1,2,3 \\\n      -- python train.py --lr {lr} --layers {model.layers} --seed {seed}\n  ox sweep sweep.toml --max-parallel 4\n  ox sweep sweep.toml --executor slurm --partition gpu --time 2:00:00 --gres gpu:1\n  ox sweep status lr-study\n  ox stats --where \"sweep = 'lr-study'\" --metric accuracy --group-by lr\n\nParams reach the command through {key} placeholders (dotted keys nest; also {seed},\n{sweep}, {member}, and {steps.NAME.dir} of an earlier pipeline step) and through OX_PARAMS.\nRunning the same spec again resumes it: completed members are skipped; failed ones run\nagain with --retry-failed."
)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    #[command(flatten)]
    pub launch: LaunchArgs,
}

/// `ox sweep status|ls|cancel`.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Counts per status, running members, failures with the tail of their logs.
    Status(StatusArgs),
    /// List the project's sweeps.
    Ls(LsArgs),
    /// Stop a sweep: its local members, or its SLURM arrays (scancel).
    Cancel(CancelArgs),
}

/// Launch options of `ox sweep`.
#[derive(Debug, clap::Args)]
pub struct LaunchArgs {
    /// A sweep spec file (TOML); flags add to it or override it.
    #[arg(value_name = "SPEC.toml")]
    pub spec: Option<PathBuf>,
    /// Study of the member runs (also the sweep's id unless --name is given).
    #[arg(short, long)]
    pub study: Option<String>,
    /// The sweep's id (default: the study, else the spec file's name).
    #[arg(long)]
    pub name: Option<String>,
    /// A base param of every member (KEY=VALUE, dotted keys nest).
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// A grid axis: KEY=V1,V2,... (repeat; members are the cartesian product).
    #[arg(long, value_name = "KEY=V1,V2")]
    pub grid: Vec<String>,
    /// A random-search param: KEY=uniform:LO,HI | loguniform:LO,HI | int:LO,HI | choice:A,B.
    #[arg(long, value_name = "KEY=DIST:ARGS")]
    pub random: Vec<String>,
    /// Number of random draws.
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Seed of the random search's sampler.
    #[arg(long, value_name = "N")]
    pub sampling_seed: Option<u64>,
    /// Values of the `seed` param: every combination runs once per seed.
    #[arg(long, value_name = "1,2,3")]
    pub seeds: Option<String>,
    /// Members running at once (default: 1 locally; on SLURM every member, at most 64).
    #[arg(long, value_name = "N")]
    pub max_parallel: Option<usize>,
    /// Where members run.
    #[arg(long, value_name = "local|slurm")]
    pub executor: Option<String>,
    /// GPU ids to hand out (CUDA_VISIBLE_DEVICES), e.g. 0,1,2,3.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub gpus: Vec<String>,
    /// GPUs per member (with --gpus).
    #[arg(long, value_name = "K")]
    pub gpus_per_member: Option<usize>,
    /// SLURM partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// SLURM time limit per member (e.g. 2:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// SLURM generic resources per member (e.g. gpu:1).
    #[arg(long)]
    pub gres: Option<String>,
    /// SLURM CPUs per member.
    #[arg(long)]
    pub cpus: Option<u32>,
    /// SLURM memory per member (e.g. 16G).
    #[arg(long)]
    pub mem: Option<String>,
    /// SLURM account.
    #[arg(long)]
    pub account: Option<String>,
    /// Any other sbatch option (repeat), e.g. --sbatch-arg=--qos=low.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// Let SLURM requeue a preempted member; it resumes the same run.
    #[arg(long)]
    pub requeue: bool,
    /// Print the members (and the sbatch script) without starting anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Run members that failed before again.
    #[arg(long)]
    pub retry_failed: bool,
    /// Leave out the closing `next:` hints (for `ox demo`, which prints its own).
    #[arg(long, hide = true)]
    pub no_hints: bool,
    /// The command, with {key} placeholders (after `--`).
    #[arg(last = true, allow_hyphen_values = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Dispatches `ox sweep`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    match args.action {
        Some(Action::Status(a)) => status(a),
        Some(Action::Ls(a)) => list(a),
        Some(Action::Cancel(a)) => cancel(a),
        None => launch(args.launch),
    }
}

fn spec_error(e: ox_sweep::SpecError) -> CliError {
    CliError::usage(e).hint("fix the spec; nothing was started (see `ox sweep --help`)")
}

/// The spec from the file and the flags.
fn build_spec(a: &LaunchArgs) -> Result<(SweepSpec, String), CliError> {
    let mut spec = match &a.spec {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(anyhow!("cannot read {}: {e}", path.display()))
                    .hint("give the path of a sweep spec (TOML), or only flags and `-- CMD`")
            })?;
            SweepSpec::from_toml(&text, &path.display().to_string()).map_err(spec_error)?
        }
        None => SweepSpec::default(),
    };
    if a.study.is_some() {
        spec.study.clone_from(&a.study);
    }
    if a.name.is_some() {
        spec.name.clone_from(&a.name);
    }
    for p in &a.params {
        ox_core::set_param_spec(&mut spec.base, p)
            .map_err(|e| CliError::usage(e).hint("write base params as -p KEY=VALUE"))?;
    }
    for g in &a.grid {
        spec.add_grid_flag(g).map_err(spec_error)?;
    }
    for r in &a.random {
        spec.add_random_flag(r).map_err(spec_error)?;
    }
    if a.samples.is_some() {
        spec.samples = a.samples;
    }
    if let Some(s) = a.sampling_seed {
        spec.sampling_seed = s;
    }
    if let Some(s) = &a.seeds {
        spec.set_seeds_flag(s);
    }
    if a.max_parallel.is_some() {
        spec.max_parallel = a.max_parallel;
    }
    if let Some(e) = &a.executor {
        spec.executor = ExecutorKind::parse(e).map_err(spec_error)?;
    }
    if !a.gpus.is_empty() {
        spec.gpus.clone_from(&a.gpus);
    }
    if a.gpus_per_member.is_some() {
        spec.gpus_per_member = a.gpus_per_member;
    }
    let slurm = &mut spec.slurm;
    for (slot, flag) in [
        (&mut slurm.partition, &a.partition),
        (&mut slurm.time, &a.time),
        (&mut slurm.gres, &a.gres),
        (&mut slurm.mem, &a.mem),
        (&mut slurm.account, &a.account),
    ] {
        if flag.is_some() {
            slot.clone_from(flag);
        }
    }
    if a.cpus.is_some() {
        slurm.cpus = a.cpus;
    }
    slurm.sbatch_args.extend(a.sbatch_args.iter().cloned());
    slurm.requeue |= a.requeue;
    if !a.command.is_empty() {
        spec.set_command(a.command.clone());
    }
    let stem = a
        .spec
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned());
    spec.check().map_err(spec_error)?;
    let id = spec.sweep_id(stem.as_deref()).ok_or_else(|| {
        CliError::usage(anyhow!("the sweep has no name"))
            .hint("name it with -s STUDY (or --name ID), or give a spec file")
    })?;
    Ok((spec, id))
}

/// The run files, with SLURM's verdict over runs it ended (a member cancelled or timed out
/// whose command died before its supervisor saw the signal is recorded failed, yet is to be
/// resumed like any killed member).
struct ProjectFiles<'a> {
    project: &'a Project,
    slurm_ended: std::collections::HashMap<RunId, Status>,
}

impl<'a> ProjectFiles<'a> {
    fn new(project: &'a Project, record: &SweepRecord) -> Self {
        let mut slurm_ended = std::collections::HashMap::new();
        if let Some(view) = slurm_view(record) {
            let on_disk = |id: &RunId| project.read_run(id).ok().map(|r| r.status);
            for m in ox_sweep::status::member_statuses(record, &on_disk, Some(&view), false) {
                if let (Some(id), Status::Killed | Status::Crashed) = (m.run, m.status) {
                    slurm_ended.insert(id, m.status);
                }
            }
        }
        ProjectFiles {
            project,
            slurm_ended,
        }
    }
}

impl RunFiles for ProjectFiles<'_> {
    fn run_dir(&self, id: &RunId) -> PathBuf {
        self.project.run_dir(id)
    }
    fn status(&self, id: &RunId) -> Option<Status> {
        let on_disk = self.project.read_run(id).ok().map(|r| r.status);
        match (on_disk, self.slurm_ended.get(id)) {
            (Some(Status::Failed), Some(s)) => Some(*s),
            (s, _) => s,
        }
    }
}

fn now_text() -> String {
    ox_core::now_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn launch(a: LaunchArgs) -> Result<Outcome, CliError> {
    let (spec, id) = build_spec(&a)?;
    let hints = !a.no_hints;
    let project = find_project()?;
    let study = spec.study.clone().unwrap_or_else(|| id.clone());
    let mut record = match SweepRecord::load(&project, &id).map_err(CliError::failed)? {
        Some(r) => r,
        None => SweepRecord {
            id: id.clone(),
            study: study.clone(),
            executor: String::new(),
            steps: Vec::new(),
            created: now_text(),
            members: Vec::new(),
            slurm_jobs: Vec::new(),
            pid: None,
            host: None,
        },
    };
    if !a.dry_run {
        refuse_if_still_going(&record)?;
    }
    record.study.clone_from(&study);
    record.steps = spec.steps.iter().map(|s| s.name.clone()).collect();
    record.executor = match spec.executor {
        ExecutorKind::Local => "local".into(),
        ExecutorKind::Slurm => "slurm".into(),
    };
    let members = ox_sweep::expand(&spec);
    let total = members.len();
    let files = ProjectFiles::new(&project, &record);
    let plan = ox_sweep::plan(
        &spec,
        members,
        &mut record,
        &files,
        a.retry_failed,
        &mut RunId::generate,
    );
    let ox = std::env::current_exe().context("cannot locate the ox binary")?;
    let commands: Vec<Vec<Vec<String>>> = plan
        .todo
        .iter()
        .map(|p| {
            let member = &plan.members[p.member];
            p.steps
                .iter()
                .map(|s| ox_sweep::ox_run_argv(&ox, &study, &id, member, &p.name, s))
                .collect()
        })
        .collect();
    eprintln!(
        "ox sweep {id}: {total} members, {} to run{}{}",
        plan.todo.len(),
        if plan.done > 0 {
            format!(", {} already completed", plan.done)
        } else {
            String::new()
        },
        if plan.failed_kept > 0 {
            format!(
                ", {} failed before (--retry-failed runs them again)",
                plan.failed_kept
            )
        } else {
            String::new()
        },
    );
    let max_parallel = spec.max_parallel.unwrap_or(match spec.executor {
        ExecutorKind::Local => 1,
        ExecutorKind::Slurm => plan.todo.len().clamp(1, 64),
    });
    if a.dry_run {
        for (p, cmds) in plan.todo.iter().zip(&commands) {
            println!("{}  [{}]", p.name, plan.members[p.member].key);
            for (s, c) in p.steps.iter().zip(cmds) {
                let label = s
                    .step
                    .as_deref()
                    .map(|n| format!("{n}: "))
                    .unwrap_or_default();
                println!(
                    "    {label}{}",
                    ox_core::shell::join(
                        &c[c.iter().position(|w| w == "--").map_or(0, |i| i + 1)..]
                    )
                );
            }
        }
        if spec.executor == ExecutorKind::Slurm && !plan.todo.is_empty() {
            let dir = SweepRecord::dir(&project, &id).join("slurm").join("next");
            println!(
                "\n# sbatch script:\n{}",
                ox_sweep::slurm::sbatch_script(
                    &id,
                    plan.todo.len(),
                    max_parallel,
                    &spec.slurm,
                    &dir.join("tasks"),
                    &dir.join("logs"),
                )
            );
        }
        return Ok(Outcome::Success);
    }
    if plan.todo.is_empty() {
        record.save(&project).map_err(CliError::failed)?;
        eprintln!("ox sweep {id}: nothing to run");
        print_next_steps(&id, hints);
        return Ok(if plan.failed_kept > 0 {
            Outcome::Failed
        } else {
            Outcome::Success
        });
    }
    match spec.executor {
        ExecutorKind::Local => run_local(
            hints,
            &project,
            record,
            &spec,
            &plan,
            &commands,
            max_parallel,
        ),
        ExecutorKind::Slurm => submit_slurm(
            hints,
            &project,
            record,
            &spec,
            &plan,
            &commands,
            max_parallel,
        ),
    }
}

/// A second launch while members of the first are still queued or running would start
/// them twice.
fn refuse_if_still_going(record: &SweepRecord) -> Result<(), CliError> {
    if launcher_alive(record) {
        return Err(CliError::usage(anyhow!(
            "sweep {} is running (ox sweep, pid {})",
            record.id,
            record.pid.unwrap_or_default()
        ))
        .hint(format!(
            "wait for it, or stop it with `ox sweep cancel {}`",
            record.id
        )));
    }
    if let Some(job) = record.slurm_jobs.last()
        && let Ok(tasks) = SlurmCli.queue(job)
        && !tasks.is_empty()
    {
        return Err(CliError::usage(anyhow!(
            "sweep {} still has {} task(s) of SLURM job {job} queued or running",
            record.id,
            tasks.len()
        ))
        .hint(format!(
            "wait for them (`ox sweep status {0}`), or `ox sweep cancel {0}`",
            record.id
        )));
    }
    Ok(())
}

fn print_next_steps(id: &str, hints: bool) {
    if !hints {
        return;
    }
    eprintln!(
        "next: ox sweep status {id}\n      ox ls --where \"sweep = '{id}'\"\n      ox stats --where \"sweep = '{id}'\" --metric METRIC --group-by PARAM"
    );
}

fn run_local(
    hints: bool,
    project: &Project,
    mut record: SweepRecord,
    spec: &SweepSpec,
    plan: &ox_sweep::Plan,
    commands: &[Vec<Vec<String>>],
    max_parallel: usize,
) -> Result<Outcome, CliError> {
    let id = record.id.clone();
    record.pid = Some(std::process::id());
    record.host = hostname();
    record.save(project).map_err(CliError::failed)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install the signal handler")?;
    }
    let jobs: Vec<PoolJob> = commands
        .iter()
        .map(|steps| PoolJob {
            commands: steps
                .iter()
                .map(|c| c.iter().map(Into::into).collect())
                .collect(),
        })
        .collect();
    let options = PoolOptions {
        max_parallel,
        gpus: spec.gpus.clone(),
        gpus_per_member: spec.gpus_per_member.unwrap_or(1),
    };
    let started = Instant::now();
    let mut progress = Progress::new(jobs.len());
    let counts = ox_sweep::local::run_pool(&jobs, &options, &stop, &mut |event, counts| {
        progress.event(event, counts, plan, started);
    });
    progress.finish();
    record.pid = None;
    record.host = None;
    record.save(project).map_err(CliError::failed)?;
    let interrupted = stop.load(Ordering::SeqCst);
    eprintln!(
        "ox sweep {id}: {} of {} ran, {} failed{} in {:.1}s",
        counts.done,
        counts.total,
        counts.failed,
        if interrupted {
            "; stopped (run the same command again to resume)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64()
    );
    print_next_steps(&id, hints);
    Ok(if interrupted {
        Outcome::Code(130)
    } else if counts.failed > 0 {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

/// Live progress on a terminal (a bar), one line per finished member otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total: usize) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
            {
                b.set_style(style);
            }
            b
        });
        Progress { bar }
    }

    fn event(
        &mut self,
        event: &PoolEvent,
        c: &PoolCounts,
        plan: &ox_sweep::Plan,
        started: Instant,
    ) {
        let eta = ox_sweep::local::eta(started, c)
            .map(|d| format!(", ETA {}s", d.as_secs()))
            .unwrap_or_default();
        let summary = format!(
            "done {} · running {} · failed {}{eta}",
            c.done, c.running, c.failed
        );
        let PoolEvent::Finished {
            index,
            ok,
            step,
            code,
        } = event
        else {
            if let Some(bar) = &self.bar {
                bar.set_message(summary);
            }
            return;
        };
        let p = &plan.todo[*index];
        let what = if *ok {
            "completed".to_string()
        } else {
            let step = p.steps.get(*step).and_then(|s| s.step.clone());
            format!(
                "failed{}{}",
                step.map(|s| format!(" at step {s}")).unwrap_or_default(),
                code.map(|c| format!(" (exit code {c})"))
                    .unwrap_or_default()
            )
        };
        match &self.bar {
            Some(bar) => {
                // Failures stay on screen above the bar; successes only move it.
                if !*ok {
                    bar.println(format!("{} {what}", p.name));
                }
                bar.set_position(c.done as u64);
                bar.set_message(summary);
            }
            None => eprintln!("[{}/{}] {} {what} ({summary})", c.done, c.total, p.name),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn submit_slurm(
    hints: bool,
    project: &Project,
    mut record: SweepRecord,
    spec: &SweepSpec,
    plan: &ox_sweep::Plan,
    commands: &[Vec<Vec<String>>],
    max_parallel: usize,
) -> Result<Outcome, CliError> {
    let id = record.id.clone();
    let attempt = format!("a{}", record.slurm_jobs.len() + 1);
    let dir = SweepRecord::dir(project, &id).join("slurm").join(&attempt);
    let tasks_dir = dir.join("tasks");
    let logs_dir = dir.join("logs");
    for d in [&tasks_dir, &logs_dir] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    for (i, cmds) in commands.iter().enumerate() {
        let path = tasks_dir.join(format!("{i}.sh"));
        std::fs::write(&path, ox_sweep::slurm::task_script(&cwd, cmds))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let script = ox_sweep::slurm::sbatch_script(
        &id,
        commands.len(),
        max_parallel,
        &spec.slurm,
        &tasks_dir,
        &logs_dir,
    );
    let script_path = dir.join("sbatch.sh");
    std::fs::write(&script_path, script)
        .with_context(|| format!("cannot write {}", script_path.display()))?;
    let job = SlurmCli.submit(&script_path).map_err(|e| {
        CliError::failed(e).hint("check that SLURM's sbatch is on PATH and the options are valid for this cluster; nothing was queued")
    })?;
    for (task, p) in plan.todo.iter().enumerate() {
        let key = &plan.members[p.member].key;
        if let Some(m) = record.members.iter_mut().find(|m| &m.key == key) {
            m.slurm = Some(ox_sweep::SlurmTask {
                job: job.clone(),
                task: u32::try_from(task).unwrap_or(u32::MAX),
            });
        }
    }
    record.slurm_jobs.push(job.clone());
    record.save(project).map_err(CliError::failed)?;
    eprintln!(
        "ox sweep {id}: submitted SLURM array {job} ({} tasks, at most {max_parallel} at once)",
        commands.len()
    );
    print_next_steps(&id, hints);
    Ok(Outcome::Success)
}
