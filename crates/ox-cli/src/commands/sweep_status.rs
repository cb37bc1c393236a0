//! `ox sweep status|ls|cancel`: a sweep's members as its runs and SLURM see them.

use std::path::Path;

use anyhow::{Context, anyhow};
use ox_core::{Project, RunId, Status};
use ox_sweep::SweepRecord;
use ox_sweep::slurm::{Scheduler, SlurmCli};
use ox_sweep::status::{MemberStatus, SlurmView};

use crate::output::{Format, find_project};
use crate::{CliError, Outcome};

/// Arguments of `ox sweep status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The sweep (default: the only or the latest one).
    pub sweep: Option<String>,
    /// Output format (table or json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Lines of each failed member's log to show.
    #[arg(long, default_value_t = 5)]
    pub tail: usize,
}

/// Arguments of `ox sweep ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Output format (table or json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Arguments of `ox sweep cancel`.
#[derive(Debug, clap::Args)]
pub struct CancelArgs {
    /// The sweep to stop.
    pub sweep: String,
}

/// This machine's host name (as the launcher's record holds it).
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
}

/// The sweep `name`, or the only/latest one when none is named.
fn load_sweep(project: &Project, name: Option<&str>) -> Result<SweepRecord, CliError> {
    let ids = SweepRecord::ids(project).map_err(CliError::failed)?;
    let id = match name {
        Some(n) => n.to_string(),
        None => {
            let mut records: Vec<SweepRecord> = ids
                .iter()
                .filter_map(|i| SweepRecord::load(project, i).ok().flatten())
                .collect();
            records.sort_by(|a, b| a.created.cmp(&b.created));
            return records.pop().ok_or_else(|| {
                CliError::usage(anyhow!("this project has no sweeps yet"))
                    .hint("start one with `ox sweep -s NAME --grid KEY=V1,V2 -- CMD {KEY}`")
            });
        }
    };
    match SweepRecord::load(project, &id).map_err(CliError::failed)? {
        Some(r) => Ok(r),
        None => {
            let close = ox_query::suggest::closest(&id, ids.iter().map(String::as_str));
            let hint = if close.is_empty() {
                "list the sweeps with `ox sweep ls`".to_string()
            } else {
                format!("did you mean {}?", ox_query::suggest::or_list(&close))
            };
            Err(CliError::usage(anyhow!("no sweep named {id:?}")).hint(hint))
        }
    }
}

/// Whether the local `ox sweep` that launched `record` still runs.
pub fn launcher_alive(record: &SweepRecord) -> bool {
    let Some(pid) = record.pid else {
        return false;
    };
    if record.host.is_some() && record.host != hostname() {
        return false;
    }
    Path::new(&format!("/proc/{pid}")).exists() && pid != std::process::id()
}

/// What SLURM says about the sweep's arrays (nothing when SLURM is not reachable).
pub fn slurm_view(record: &SweepRecord) -> Option<SlurmView> {
    if record.slurm_jobs.is_empty() {
        return None;
    }
    let mut view = SlurmView::default();
    for job in &record.slurm_jobs {
        if let Ok(Some(rows)) = SlurmCli.accounting(job) {
            for r in rows {
                view.tasks.insert((job.clone(), r.task), r);
            }
        }
        // squeue's view is the latest for tasks still queued or running.
        if let Ok(rows) = SlurmCli.queue(job) {
            if !rows.is_empty() || queue_has_pending(job) {
                view.queued_jobs.push(job.clone());
            }
            for r in rows {
                view.tasks.insert((job.clone(), r.task), r);
            }
        }
    }
    Some(view)
}

/// Whether the array still has a pending range not yet split into tasks (`12_[3-5%2]`).
fn queue_has_pending(job: &str) -> bool {
    std::process::Command::new("squeue")
        .args(["-h", "-j", job, "-o", "%i"])
        .output()
        .map(|o| !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(false)
}

/// The members' statuses, from `catalog` (opened once by the caller, however many sweeps).
fn statuses(
    project: &Project,
    catalog: &mut ox_store::Catalog,
    record: &SweepRecord,
) -> Result<Vec<MemberStatus>, CliError> {
    // A finished run rewritten by a later attempt (a requeued SLURM task resumes its run)
    // is not re-read by a plain refresh: re-read the member runs whose record changed.
    let stale: Vec<RunId> = record
        .members
        .iter()
        .flat_map(|m| record.steps.iter().filter_map(|s| m.latest(s.as_deref())))
        .filter(|id| {
            let on_disk = project.read_run(id).ok().map(|r| r.status);
            let cached = catalog.run(id.as_str()).ok().map(|v| v.run.status);
            on_disk.is_some() && on_disk != Some(Status::Running) && on_disk != cached
        })
        .cloned()
        .collect();
    if !stale.is_empty() {
        catalog
            .refresh_runs(&stale)
            .map_err(crate::output::store_error)?;
    }
    let view = slurm_view(record);
    let alive = launcher_alive(record);
    Ok(ox_sweep::status::member_statuses(
        record,
        &|id| catalog.run(id.as_str()).ok().map(|v| v.run.status),
        view.as_ref(),
        alive,
    ))
}

#[derive(serde::Serialize)]
struct StatusJson<'a> {
    id: &'a str,
    study: &'a str,
    executor: &'a str,
    slurm_jobs: &'a [String],
    members: usize,
    counts: std::collections::BTreeMap<String, usize>,
    member_status: &'a [MemberStatus],
}

/// `ox sweep status`.
pub fn status(a: StatusArgs) -> Result<Outcome, CliError> {
    let project = find_project()?;
    let record = load_sweep(&project, a.sweep.as_deref())?;
    let mut catalog = ox_store::Catalog::open(&project).map_err(crate::output::store_error)?;
    let members = statuses(&project, &mut catalog, &record)?;
    let counts = ox_sweep::status::counts(&members);
    if a.format == Some(Format::Json) {
        let json = StatusJson {
            id: &record.id,
            study: &record.study,
            executor: &record.executor,
            slurm_jobs: &record.slurm_jobs,
            members: members.len(),
            counts,
            member_status: &members,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("cannot write JSON")?
        );
        return Ok(Outcome::Success);
    }
    let steps = record.steps.iter().flatten().cloned().collect::<Vec<_>>();
    println!(
        "sweep {} · study {} · {} · {} members{}{}",
        record.id,
        record.study,
        record.executor,
        members.len(),
        if steps.is_empty() {
            String::new()
        } else {
            format!(" · steps {}", steps.join(" → "))
        },
        record
            .slurm_jobs
            .last()
            .map(|j| format!(" · SLURM job {j}"))
            .unwrap_or_default()
    );
    println!(
        "{}",
        counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    let running: Vec<&MemberStatus> = members
        .iter()
        .filter(|m| m.status == Status::Running)
        .collect();
    if !running.is_empty() {
        println!("\nrunning:");
        for m in running {
            println!("  {}  {}", m.name, run_label(m));
        }
    }
    for m in members
        .iter()
        .filter(|m| matches!(m.status, Status::Failed | Status::Killed | Status::Crashed))
    {
        println!(
            "\n{} {}  {}{}",
            m.status,
            m.name,
            run_label(m),
            m.reason
                .as_ref()
                .map(|r| format!("  ({r})"))
                .unwrap_or_default()
        );
        if let Some(id) = &m.run {
            for line in tail(&project.stdout_log_path(id), a.tail) {
                println!("  | {line}");
            }
        }
    }
    Ok(Outcome::Success)
}

fn run_label(m: &MemberStatus) -> String {
    let run = m.run.as_ref().map(RunId::as_str).unwrap_or("-");
    match &m.step {
        Some(s) => format!("step {s}, run {run}"),
        None => format!("run {run}"),
    }
}

fn tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[derive(serde::Serialize)]
struct SweepRow {
    id: String,
    study: String,
    executor: String,
    created: String,
    members: usize,
    counts: std::collections::BTreeMap<String, usize>,
}

/// `ox sweep ls`.
pub fn list(a: LsArgs) -> Result<Outcome, CliError> {
    let project = find_project()?;
    let mut rows = Vec::new();
    let ids = SweepRecord::ids(&project).map_err(CliError::failed)?;
    // One catalog for all sweeps (none opened when there is no sweep).
    let mut catalog = None;
    for id in ids {
        let Some(record) = SweepRecord::load(&project, &id).map_err(CliError::failed)? else {
            continue;
        };
        let catalog = match &mut catalog {
            Some(c) => c,
            None => catalog
                .insert(ox_store::Catalog::open(&project).map_err(crate::output::store_error)?),
        };
        let members = statuses(&project, catalog, &record)?;
        rows.push(SweepRow {
            id: record.id.clone(),
            study: record.study.clone(),
            executor: record.executor.clone(),
            created: record.created.clone(),
            members: members.len(),
            counts: ox_sweep::status::counts(&members),
        });
    }
    if a.format == Some(Format::Json) {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).context("cannot write JSON")?
        );
        return Ok(Outcome::Success);
    }
    if rows.is_empty() {
        eprintln!(
            "no sweeps yet; start one with `ox sweep -s NAME --grid KEY=V1,V2 -- CMD {{KEY}}`"
        );
        return Ok(Outcome::Success);
    }
    let mut table =
        ox_render::Table::new(["id", "study", "executor", "members", "status", "created"]);
    for r in rows {
        table.push(vec![
            ox_render::Cell::Text(r.id),
            ox_render::Cell::Text(r.study),
            ox_render::Cell::Text(r.executor),
            ox_render::Cell::Text(r.members.to_string()),
            ox_render::Cell::Text(
                r.counts
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ox_render::Cell::Text(r.created),
        ]);
    }
    print!("{}", table.to_text());
    Ok(Outcome::Success)
}

/// `ox sweep cancel`.
pub fn cancel(a: CancelArgs) -> Result<Outcome, CliError> {
    let project = find_project()?;
    let record = load_sweep(&project, Some(&a.sweep))?;
    let mut stopped = 0;
    for job in &record.slurm_jobs {
        if SlurmCli.queue(job).is_ok_and(|t| !t.is_empty()) || queue_has_pending(job) {
            SlurmCli.cancel(job).map_err(CliError::failed)?;
            eprintln!("ox sweep {}: cancelled SLURM job {job}", record.id);
            stopped += 1;
        }
    }
    if launcher_alive(&record)
        && let Some(pid) = record.pid.and_then(|p| libc::pid_t::try_from(p).ok())
    {
        // SAFETY: kill has no memory-safety preconditions. The launcher stops its members
        // (each marked killed) and exits.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        eprintln!(
            "ox sweep {}: stopping its local members (pid {pid})",
            record.id
        );
        stopped += 1;
    }
    if stopped == 0 {
        eprintln!("ox sweep {}: nothing is running", record.id);
    }
    Ok(Outcome::Success)
}
