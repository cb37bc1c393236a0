//! Finding what to import: walks the given paths (recursively, never through symlinks, so a
//! W&B `latest-run` link is not a second run) and detects each source's format from its
//! content: ZIP magic plus inspect's members, TFRecord framing, the `:W&B` header, the SQLite
//! header plus MLflow's tables, an MLflow store's `meta.yaml` layout, JSON and text shapes.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{inspect, mlflow, ndjson, text, tfevents, wandb};

/// The format of one import unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnitKind {
    /// An inspect-ai log file (`.eval` or `.json`).
    Inspect,
    /// A directory of TensorBoard event files.
    TensorBoard,
    /// An MLflow file store root (`mlruns/`).
    MlflowFileStore,
    /// An MLflow SQLite database.
    MlflowSqlite,
    /// A W&B `run-<id>.wandb` file.
    Wandb,
    /// A text log (SLURM output, torchtune console or DiskLogger file, generic log).
    TextLog,
    /// A directory with `metrics.ndjson`.
    Ndjson,
    /// One JSON-lines metrics file (torchtune's `log_<ts>.jsonl`, or a `.jsonl`/`.ndjson`
    /// file named on the command line).
    JsonLines,
    /// A CSV file with a step column.
    Csv,
}

/// One thing to import: a file or directory of a known format. `root` is the path the user
/// gave that led to it (TensorBoard runs are named relative to it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportUnit {
    pub kind: UnitKind,
    pub path: PathBuf,
    pub root: PathBuf,
}

/// What walking the paths found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub units: Vec<ImportUnit>,
    /// Paths that could not be used at all: `(path, reason)`.
    pub failures: Vec<(PathBuf, String)>,
    /// Files met while walking directories that are of no known format.
    pub skipped: usize,
}

const HEAD_BYTES: usize = 64 * 1024;

/// Walks `paths` and detects the import units in them. A path given explicitly that is of
/// no known format is a failure; unknown files met inside directories are only counted.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut found = Discovery::default();
    let mut units = BTreeSet::new();
    for path in paths {
        let meta = match fs_err::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                found.failures.push((path.clone(), e.to_string()));
                continue;
            }
        };
        if meta.is_file() {
            let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
            match detect_file(path, true) {
                Ok(Some(unit)) => {
                    units.insert(ImportUnit {
                        kind: unit.0,
                        path: unit.1,
                        root,
                    });
                }
                Ok(None) => found
                    .failures
                    .push((path.clone(), "not a format ox can import".into())),
                Err(reason) => found.failures.push((path.clone(), reason)),
            }
            continue;
        }
        walk_dir(path, &mut units, &mut found);
    }
    found.units = units.into_iter().collect();
    found
}

fn walk_dir(root: &Path, units: &mut BTreeSet<ImportUnit>, found: &mut Discovery) {
    let mut tb_dirs = BTreeSet::new();
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                found.failures.push((path, e.to_string()));
                continue;
            }
        };
        let path = entry.path();
        let unit = |kind, path: &Path| ImportUnit {
            kind,
            path: path.to_path_buf(),
            root: root.to_path_buf(),
        };
        if entry.file_type().is_dir() {
            let name = entry.file_name().to_string_lossy();
            if entry.depth() > 0 && (name == ".ox" || name == ".git" || name == ".trash") {
                walker.skip_current_dir();
                continue;
            }
            if mlflow::is_file_store(path) {
                units.insert(unit(UnitKind::MlflowFileStore, path));
                walker.skip_current_dir();
                continue;
            }
            if path.join("metrics.ndjson").is_file() {
                units.insert(unit(UnitKind::Ndjson, path));
            }
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if name == "metrics.ndjson" || name == "params.ndjson" {
            continue;
        }
        match detect_file(path, false) {
            Ok(Some((UnitKind::TensorBoard, dir))) => {
                tb_dirs.insert(dir);
            }
            Ok(Some((kind, p))) => {
                units.insert(unit(kind, &p));
            }
            Ok(None) => found.skipped += 1,
            Err(reason) => found.failures.push((path.to_path_buf(), reason)),
        }
    }
    for dir in tb_dirs {
        units.insert(ImportUnit {
            kind: UnitKind::TensorBoard,
            path: dir,
            root: root.to_path_buf(),
        });
    }
}

fn read_head(path: &Path) -> Result<Vec<u8>, String> {
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    Ok(head)
}

/// Detects one file's format. `explicit` files (named on the command line) may be any text
/// log; walked files only when their name says so.
fn detect_file(path: &Path, explicit: bool) -> Result<Option<(UnitKind, PathBuf)>, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let head = read_head(path)?;
    let parent = || path.parent().map(Path::to_path_buf).unwrap_or_default();
    if tfevents::is_event_file_name(&name) || tfevents::looks_like_tfrecord(&head) {
        return Ok(Some((UnitKind::TensorBoard, parent())));
    }
    if wandb::has_header(&head) || ext == "wandb" {
        return Ok(Some((UnitKind::Wandb, path.to_path_buf())));
    }
    if head.starts_with(b"SQLite format 3\0") {
        return match mlflow::is_mlflow_sqlite(path) {
            Ok(true) => Ok(Some((UnitKind::MlflowSqlite, path.to_path_buf()))),
            Ok(false) if explicit => Err("an SQLite database without MLflow's tables".into()),
            Err(diagnosis) if explicit => Err(format!("damaged SQLite database: {diagnosis}")),
            Ok(false) | Err(_) => Ok(None),
        };
    }
    if ext == "eval" || (head.starts_with(b"PK\x03\x04") && zip_is_eval_log(path)) {
        return Ok(Some((UnitKind::Inspect, path.to_path_buf())));
    }
    if head.starts_with(b"PK\x03\x04") {
        return if explicit {
            Err("a ZIP file that is not an inspect .eval log".into())
        } else {
            Ok(None)
        };
    }
    if ext == "json" {
        if inspect::looks_like_json_log(&head) {
            return Ok(Some((UnitKind::Inspect, path.to_path_buf())));
        }
        return if explicit {
            Err("a JSON file that is not an inspect log".into())
        } else {
            Ok(None)
        };
    }
    if ext == "jsonl" || ext == "ndjson" {
        if name == "metrics.ndjson" {
            return Ok(Some((UnitKind::Ndjson, parent())));
        }
        if (explicit || ndjson::is_torchtune_jsonl_name(path))
            && ndjson::starts_with_json_object(&head)
        {
            return Ok(Some((UnitKind::JsonLines, path.to_path_buf())));
        }
        return if explicit {
            Err("a JSON-lines file whose first line is not a JSON object".into())
        } else {
            Ok(None)
        };
    }
    if ext == "csv" {
        let first = String::from_utf8_lossy(&head);
        let header: Vec<&str> = first.lines().next().unwrap_or("").split(',').collect();
        if ndjson::step_column(&header).is_some() {
            return Ok(Some((UnitKind::Csv, path.to_path_buf())));
        }
        return if explicit {
            Err("a CSV file without a step column".into())
        } else {
            Ok(None)
        };
    }
    let is_text = !head.contains(&0);
    let text_name = text::is_slurm_output_name(&name)
        || (name.starts_with("log_")
            && ext == "txt"
            && text::is_disk_logger(&String::from_utf8_lossy(&head)));
    if text_name || (explicit && is_text) {
        return Ok(Some((UnitKind::TextLog, path.to_path_buf())));
    }
    if explicit && !is_text {
        return Err("binary data of no known format".into());
    }
    Ok(None)
}

fn zip_is_eval_log(path: &Path) -> bool {
    let Ok(file) = fs_err::File::open(path) else {
        return false;
    };
    let Ok(zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return false;
    };
    zip.file_names()
        .any(|n| n == "header.json" || n == "_journal/start.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_and_skips_links_and_unknown_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("tb/a")).unwrap();
        std::fs::write(d.join("tb/a/events.out.tfevents.1.host"), b"").unwrap();
        std::fs::write(d.join("tb/a/events.out.tfevents.2.host"), b"").unwrap();
        std::fs::write(d.join("slurm-1.out"), b"loss=1 step=1\n").unwrap();
        std::fs::write(d.join("notes.txt"), b"hello").unwrap();
        std::fs::create_dir_all(d.join("offline-run-x")).unwrap();
        std::fs::write(d.join("offline-run-x/run-x.wandb"), b":W&B\xe1\xbe\x00").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.join("offline-run-x"), d.join("latest-run")).unwrap();
        std::fs::create_dir_all(d.join(".ox/runs")).unwrap();
        std::fs::write(d.join(".ox/runs/slurm-2.out"), b"x").unwrap();
        let found = discover(&[d.to_path_buf()]);
        let kinds: Vec<_> = found
            .units
            .iter()
            .map(|u| (u.kind, u.path.strip_prefix(d).unwrap().to_path_buf()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (UnitKind::TensorBoard, PathBuf::from("tb/a")),
                (UnitKind::Wandb, PathBuf::from("offline-run-x/run-x.wandb")),
                (UnitKind::TextLog, PathBuf::from("slurm-1.out")),
            ]
        );
        assert_eq!(found.skipped, 1);
        assert!(found.failures.is_empty());
        // torchtune's JSON-lines log is found by its name; other JSON-lines files only
        // when named on the command line; a metrics.ndjson file stands for its directory.
        std::fs::create_dir_all(d.join("tt/logs")).unwrap();
        std::fs::write(
            d.join("tt/logs/log_1795418615.jsonl"),
            b"{\"step\": 1, \"loss\": 2.5}\n",
        )
        .unwrap();
        std::fs::write(d.join("tt/other.jsonl"), b"{\"step\": 1, \"loss\": 2.5}\n").unwrap();
        std::fs::create_dir_all(d.join("nd")).unwrap();
        std::fs::write(
            d.join("nd/metrics.ndjson"),
            b"{\"step\": 1, \"loss\": 2.5}\n",
        )
        .unwrap();
        let tt = discover(&[d.join("tt")]);
        let tt_units: Vec<_> = tt.units.iter().map(|u| (u.kind, u.path.clone())).collect();
        assert_eq!(
            tt_units,
            vec![(UnitKind::JsonLines, d.join("tt/logs/log_1795418615.jsonl"))]
        );
        assert_eq!(tt.skipped, 1);
        let named = discover(&[d.join("tt/other.jsonl"), d.join("nd/metrics.ndjson")]);
        let named_units: Vec<_> = named
            .units
            .iter()
            .map(|u| (u.kind, u.path.clone()))
            .collect();
        assert_eq!(
            named_units,
            vec![
                (UnitKind::Ndjson, d.join("nd")),
                (UnitKind::JsonLines, d.join("tt/other.jsonl"))
            ]
        );
        std::fs::write(d.join("tt/bad.jsonl"), b"hello\n").unwrap();
        assert_eq!(discover(&[d.join("tt/bad.jsonl")]).failures.len(), 1);
        let explicit = discover(&[d.join("notes.txt"), d.join("missing")]);
        assert_eq!(explicit.units.len(), 1);
        assert_eq!(explicit.failures.len(), 1);
    }
}
