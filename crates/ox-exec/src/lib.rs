//! Running commands as tracked runs: the `ox run` supervisor, resource sampling, executors.
//!
//! [`Supervisor::prepare`] writes the run record (status `running`), then
//! [`PreparedRun::execute`] starts the command through an [`Executor`] in its own process
//! group, tees its output to the console and `stdout.log` (feeding an optional
//! [`LineObserver`]), samples CPU/RSS/GPU of its process tree into `<id>_system.jsonl`,
//! forwards stop signals to the whole group, and writes the final status.
//!
//! Invariant: ox-exec never touches the catalog (`ox.db`); it only writes the run's own
//! files, so compute nodes on a shared filesystem never contend for it.

mod error;
pub mod executor;
pub mod git;
pub mod gpu;
pub mod output;
pub mod procfs;
pub mod python_client;
pub mod record;
pub mod sampler;
pub mod seams;
mod supervisor;
pub mod watchdog;

pub use error::ExecError;
pub use executor::{
    CommandSpec, Executor, ExitInfo, LocalExecutor, Process, ProcessGroup, local_group,
};
pub use output::{LineObserver, ObservedMetrics, Stream, metrics_line};
pub use seams::{Clock, FixedClock, IdSource, ScriptedIds, SystemClock, UlidIds};
pub use supervisor::{
    ConsoleFactory, DEFAULT_KILL_GRACE, PreparedRun, RunOutcome, RunRequest, Supervisor,
};
pub use watchdog::{WatchOutcome, watch};
