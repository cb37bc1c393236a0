//! Output helpers shared by commands: format selection and project discovery.

use std::path::PathBuf;

use ox_core::{CoreError, OX_DIR_ENV, Project};

use crate::CliError;

/// `--format` values: the one output-format enum of the CLI. A command that prints only
/// some of them declares its `--format` with [`Format::only`], so clap rejects the others
/// with the list of the ones it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Md,
    Latex,
}

impl Format {
    /// A `--format` parser that accepts only `allowed`.
    pub fn only(
        allowed: &'static [Format],
    ) -> impl clap::builder::TypedValueParser<Value = Format> {
        use clap::ValueEnum;
        use clap::builder::TypedValueParser;
        let values = allowed.iter().filter_map(ValueEnum::to_possible_value);
        clap::builder::PossibleValuesParser::new(values)
            .map(|name: String| Format::from_str(&name, true).unwrap_or(Format::Table))
    }

    /// The format to use: the one asked for, else a table (also when piped, so that
    /// `ox ls | head` shows what the terminal shows).
    pub fn or_default(f: Option<Format>) -> Format {
        f.unwrap_or(Format::Table)
    }
}

/// `--columns` and `--format`, shared by the commands that print runs.
#[derive(Debug, Clone, clap::Args)]
pub struct RowsArgs {
    /// Columns to show, comma-separated (e.g. `id,name,lr,metrics.loss.min`).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Finds the project for the current directory (or `OX_DIR`), with a hint to run
/// `ox init` when there is none.
pub fn find_project() -> Result<Project, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::failed(anyhow::anyhow!("cannot read the current directory: {e}")))?;
    let env = std::env::var_os(OX_DIR_ENV).map(PathBuf::from);
    Project::discover(&cwd, env.as_deref()).map_err(|e| match e {
        CoreError::NoProject { .. } => {
            CliError::usage(e).hint("run `ox init` in your project's top directory, or set OX_DIR")
        }
        other => CliError::usage(other),
    })
}

/// Opens the project's catalog (refreshing it) and prints what the refresh warned about.
pub fn open_catalog() -> Result<ox_store::Catalog, CliError> {
    let project = find_project()?;
    let catalog =
        ox_store::Catalog::open_with_progress(&project, refresh_progress()).map_err(store_error)?;
    if let Some(healed) = catalog.healed() {
        eprintln!("warning: {healed}");
    }
    print_refresh_warnings(catalog.last_refresh());
    Ok(catalog)
}

/// Whether a command failed because the catalog itself is damaged (pages that only show up
/// as malformed once a command reads them): then the catalog is rebuilt and the command run
/// again.
pub fn is_damaged_catalog(e: &CliError) -> bool {
    e.error
        .chain()
        .filter_map(|c| c.downcast_ref::<ox_store::StoreError>())
        .any(ox_store::StoreError::is_damaged_catalog)
}

/// Rebuilds the catalog from the files, saying why in one warning line.
pub fn rebuild_damaged_catalog(e: &CliError) -> Result<(), CliError> {
    let project = find_project()?;
    let catalog = ox_store::Catalog::rebuild(&project, refresh_progress()).map_err(store_error)?;
    eprintln!(
        "warning: the catalog {} was unusable ({}); rebuilt it from the run files",
        catalog.location(),
        crate::exit::error_chain(&e.error)
    );
    Ok(())
}

/// Prints refresh warnings on stderr (the first few, then a count).
pub fn print_refresh_warnings(report: &ox_store::RefreshReport) {
    const SHOWN: usize = 5;
    for w in report.warnings.iter().take(SHOWN) {
        eprintln!("warning: {w}");
    }
    if report.warnings.len() > SHOWN {
        eprintln!(
            "warning: … and {} more problems (see `ox reindex`)",
            report.warnings.len() - SHOWN
        );
    }
}

/// Maps catalog errors to exit codes and hints: an unknown or ambiguous run is a usage
/// error (2); anything else failed (1).
pub fn store_error(e: ox_store::StoreError) -> CliError {
    use ox_store::StoreError;
    match e {
        StoreError::NoSuchRun {
            ref suggestions, ..
        } => {
            let hint = if suggestions.is_empty() {
                "`ox ls` lists the runs; a run is named by its id, a unique id prefix, its name, or study/name".to_string()
            } else {
                format!("did you mean {}?", suggestions.join(" or "))
            };
            CliError::usage(e).hint(hint)
        }
        StoreError::AmbiguousRun {
            same_study_and_name,
            ..
        } => {
            let hint = if same_study_and_name {
                "these runs share their study and name: name one by its id (or 4+ of its first characters)"
            } else {
                "use more characters of the id, or study/name"
            };
            CliError::usage(e).hint(hint)
        }
        StoreError::PrefixTooShort { .. } => CliError::usage(e).hint(
            "give at least 4 characters of the id (`ox ls` shows ids), or the run's name or study/name",
        ),
        StoreError::Query(ref q) => {
            let hint = q
                .hint
                .clone()
                .unwrap_or_else(|| "see `ox query --help`".into());
            CliError::usage(e).hint(hint)
        }
        StoreError::CorruptEntry { .. } => {
            CliError::failed(e).hint("run `ox reindex` to rebuild the catalog")
        }
        other => CliError::failed(other),
    }
}

/// [`store_error`] for a run reference, except that a run directory the catalog leaves out
/// because it cannot be read is named with its problem (exit 1) instead of "no run matches".
pub fn run_error(
    catalog: &ox_store::Catalog,
    reference: &str,
    e: ox_store::StoreError,
) -> CliError {
    if let ox_store::StoreError::NoSuchRun { .. } = e
        && let Ok(Some((id, problem, files))) = catalog.broken_run(reference)
    {
        let files = if files.is_empty() {
            String::new()
        } else {
            format!(" (its files: {})", files.join(", "))
        };
        return CliError::failed(anyhow::anyhow!("run {id} cannot be read: {problem}{files}"))
            .hint(format!(
                "restore or fix its run.json, then run `ox reindex {id}`; or delete the run's files"
            ));
    }
    store_error(e)
}

/// Splits comma-separated `--columns` values.
pub fn split_columns(spec: &[String]) -> Vec<String> {
    spec.iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A progress bar on stderr for large catalog refreshes, drawn only on a terminal.
pub fn refresh_progress() -> ox_store::ProgressFn {
    use std::io::IsTerminal;
    let mut bar: Option<indicatif::ProgressBar> = None;
    let on_terminal = std::io::stderr().is_terminal();
    Box::new(move |done, total| {
        if !on_terminal {
            return;
        }
        let bar = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} {bar:30} {pos}/{len} runs ({eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_message("indexing");
            b
        });
        bar.set_position(done as u64);
        if done >= total {
            bar.finish_and_clear();
        }
    })
}
