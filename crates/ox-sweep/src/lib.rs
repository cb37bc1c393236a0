//! Sweeps: the spec (TOML or flags), its expansion into members, and their local and SLURM executors.
//!
//! A [`SweepSpec`] (base params, grid, random search, seeds, one command or pipeline steps)
//! expands into [`Member`]s, each identified by a [`MemberKey`]: a hash of its params and
//! its commands, so the same member keeps its identity when the spec gains grid values or
//! the members come out in another order. Members run as ordinary `ox run` runs: the
//! [`local`] pool starts at most `max_parallel` at once, the [`slurm`] executor submits one
//! job array. A sweep's own record ([`SweepRecord`], `.ox/sweeps/<id>/sweep.json`) maps each
//! member to the runs made for it; it is written by the process that plans the sweep, never
//! by compute processes, which only write their own run's files.

mod error;
pub mod expand;
pub mod local;
pub mod plan;
pub mod record;
pub mod slurm;
pub mod spec;
pub mod status;
pub mod template;

pub use error::SpecError;
pub use expand::{Member, MemberKey, expand};
pub use plan::{Plan, PlannedMember, PlannedStep, RunFiles, ox_run_argv, plan};
pub use record::{MemberRecord, SlurmTask, StepRun, SweepRecord};
pub use spec::{Distribution, ExecutorKind, SlurmOptions, Step, SweepSpec};
pub use template::Template;
