//! Choosing runs the way `ox stats` does: `-s STUDY`, `--status S`, `--where EXPR`, shared by
//! `ox export` and `ox report`.

use ox_core::Status;
use ox_store::{Catalog, RunFilter, RunView};

use crate::CliError;
use crate::commands::query;
use crate::output::store_error;

/// The selection flags of a command, already parsed.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub study: Option<String>,
    pub status: Option<Status>,
    pub where_expr: Option<String>,
}

/// The runs a selection picks, and whether the user chose their statuses (`--status`, or a
/// `status` condition in `--where`); when not, only completed runs enter statistics.
pub struct Selected {
    pub views: Vec<RunView>,
    pub status_chosen: bool,
}

/// Loads the runs `sel` picks, in creation order.
pub fn select(catalog: &Catalog, sel: &Selection) -> Result<Selected, CliError> {
    if let Some(expr) = &sel.where_expr {
        let mut q = ox_query::parse(expr).map_err(|e| query::query_error(expr, e))?;
        if let Some(study) = &sel.study {
            query::and_equals(&mut q, "study", study);
        }
        if let Some(status) = sel.status {
            query::and_equals(&mut q, "status", status.as_str());
        }
        let selected = query::select(catalog, &q, expr)?;
        let status_chosen = selected
            .compiled
            .fields
            .contains(&ox_query::Field::Run(ox_query::RunField::Status));
        return Ok(Selected {
            views: selected.views,
            status_chosen,
        });
    }
    let filter = RunFilter {
        study: sel.study.clone(),
        status: sel.status,
        sort: None,
        limit: None,
    };
    let views = catalog.runs(&filter).map_err(store_error)?;
    if views.is_empty()
        && let Some(study) = &sel.study
    {
        let all = catalog.runs(&RunFilter::default()).map_err(store_error)?;
        let mut studies: Vec<&str> = all.iter().map(|v| v.run.study.as_str()).collect();
        studies.sort_unstable();
        studies.dedup();
        let close = ox_query::suggest::closest(study, studies.iter().copied());
        let err = CliError::usage(anyhow::anyhow!("no runs in study {study:?}"));
        return Err(if studies.is_empty() {
            err.hint("the project has no runs yet: `ox run` or `ox import` adds some")
        } else if close.is_empty() {
            err.hint(format!("studies: {}", studies.join(", ")))
        } else {
            err.hint(format!(
                "did you mean {}? studies: {}",
                ox_query::suggest::or_list(&close),
                studies.join(", ")
            ))
        });
    }
    Ok(Selected {
        views,
        status_chosen: sel.status.is_some(),
    })
}
