//! The reports `ox report` wrote into the project's `reports/` folder: which study has one
//! (for `/api/studies`), and their files under `/reports/…`, confined to that folder as run
//! files are to the run's directory.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use ox_core::Project;
use serde::Serialize;

use crate::files::{FileError, confined_path};
use crate::http::Reply;

/// The page of a report, inside its directory.
const REPORT_PAGE: &str = "report.html";

/// The policy of everything under `/reports/`: the report's inline style and `data:`
/// images, nothing else (no scripts, not even the dashboard's own).
const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                          frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Where a study's latest report is, for `/api/studies`.
#[derive(Debug, Serialize)]
pub(crate) struct ReportRef {
    /// The page's address on this server (`/reports/<slug>/report.html`).
    pub url: String,
    /// When `report.html` was last written, RFC 3339 in UTC.
    pub modified: String,
}

/// The report `ox report -s STUDY` writes by default (`reports/<slug>/report.html`), if
/// that file exists inside `reports/`.
pub(crate) fn report_of(project: &Project, study: &str) -> Option<ReportRef> {
    let slug = ox_core::slug(study);
    let relative = format!("{slug}/{REPORT_PAGE}");
    let path = confined_path(&project.reports_dir(), &relative).ok()?;
    let modified = path.metadata().and_then(|m| m.modified()).ok()?;
    Some(ReportRef {
        // A slug is ASCII letters, digits, `-`, `_` and `.`: nothing to escape.
        url: format!("/reports/{relative}"),
        modified: DateTime::<Utc>::from(modified).to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

/// `GET /reports/PATH`: a file under the project's `reports/` folder (`PATH` decoded),
/// shown in the browser for pages, figures and text, downloaded otherwise; always under
/// [`REPORT_CSP`].
pub(crate) fn file(project: &Project, relative: &str) -> Reply {
    let mut reply = serve(&project.reports_dir(), relative);
    reply
        .headers
        .push(("Content-Security-Policy", REPORT_CSP.to_string()));
    reply
}

fn serve(reports_dir: &Path, relative: &str) -> Reply {
    let path = match confined_path(reports_dir, relative) {
        Ok(p) => p,
        Err(FileError::NotFound(_)) => {
            return Reply::error(
                404,
                format!("no file {relative:?} in reports/ (`ox report -s STUDY` writes one)"),
            );
        }
        Err(FileError::Outside(_) | FileError::EscapesRunDir(_)) => {
            return Reply::error(403, format!("{relative:?} is not a file inside reports/"));
        }
    };
    let body = match fs_err::read(&path) {
        Ok(b) => b,
        Err(e) => return Reply::error(500, e.to_string()),
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let shown = match extension.as_str() {
        "html" | "htm" => Some("text/html; charset=utf-8"),
        "png" => Some("image/png"),
        "svg" => Some("image/svg+xml"),
        "md" | "csv" | "log" | "txt" => Some("text/plain; charset=utf-8"),
        _ => None,
    };
    match shown {
        Some(content_type) => Reply {
            status: 200,
            content_type,
            body,
            headers: Vec::new(),
        },
        None => Reply::download(&path, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_study_has_a_report_when_its_page_exists_inside_reports() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::init(dir.path()).unwrap();
        assert!(report_of(&project, "My Study").is_none());
        let page = project.report_dir("My Study").join(REPORT_PAGE);
        std::fs::create_dir_all(page.parent().unwrap()).unwrap();
        std::fs::write(&page, "<h1>r</h1>").unwrap();
        let r = report_of(&project, "My Study").unwrap();
        assert_eq!(r.url, "/reports/my-study/report.html");
        assert!(
            DateTime::parse_from_rfc3339(&r.modified).is_ok(),
            "{}",
            r.modified
        );
        // A report directory that is a symlink out of reports/ does not count.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join(REPORT_PAGE), "x").unwrap();
        std::os::unix::fs::symlink(&elsewhere, project.reports_dir().join("out")).unwrap();
        assert!(report_of(&project, "out").is_none());
    }

    #[test]
    fn files_are_typed_and_confined() {
        let dir = tempfile::tempdir().unwrap();
        let reports = dir.path().join("reports");
        std::fs::create_dir_all(reports.join("s/plots")).unwrap();
        std::fs::write(reports.join("s/report.html"), "<p>").unwrap();
        std::fs::write(reports.join("s/plots/a.svg"), "<svg/>").unwrap();
        std::fs::write(reports.join("s/data.parquet"), "PAR1").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        assert_eq!(
            serve(&reports, "s/report.html").content_type,
            "text/html; charset=utf-8"
        );
        assert_eq!(
            serve(&reports, "s/plots/a.svg").content_type,
            "image/svg+xml"
        );
        let other = serve(&reports, "s/data.parquet");
        assert_eq!(other.content_type, "application/octet-stream");
        assert!(other.headers[0].1.starts_with("attachment"));
        assert_eq!(serve(&reports, "../secret").status, 403);
        assert_eq!(serve(&reports, "s/none.html").status, 404);
        assert_eq!(serve(&reports, "s").status, 404);
    }
}
