//! One module per subcommand: its clap `Args` and a `run` function.

pub mod init;
pub mod ls;
pub mod reindex;
pub mod show;
pub mod stats;
