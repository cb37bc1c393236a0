#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The query language against a catalog built from real project files: the catalog's
//! representation of params and metrics must give the semantics ox-query promises.

use ox_core::{Project, Run, RunId, Status};
use ox_store::{Catalog, StoreError};
use serde_json::json;

struct Fixture {
    _dir: tempfile::TempDir,
    project: Project,
    n: u64,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::init(dir.path()).unwrap();
        Fixture {
            _dir: dir,
            project,
            n: 0,
        }
    }

    fn run(
        &mut self,
        name: &str,
        status: Status,
        params: serde_json::Value,
        tags: &[&str],
        metrics: &str,
    ) {
        self.n += 1;
        let created = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
            + chrono::Duration::hours(i64::try_from(self.n).unwrap());
        let mut run = Run::new(RunId::from_parts(created, u128::from(self.n)), status);
        run.name = Some(name.into());
        run.study = "s".into();
        run.created = created;
        run.started = Some(created);
        run.ended = status
            .is_final()
            .then(|| created + chrono::Duration::seconds(i64::try_from(self.n).unwrap() * 100));
        run.params = params.as_object().unwrap().clone();
        run.tags = tags.iter().map(|t| (*t).to_string()).collect();
        self.project.write_run(&run).unwrap();
        std::fs::write(self.project.metrics_path(&run.id), metrics).unwrap();
    }
}

fn names(c: &Catalog, q: &str) -> Vec<String> {
    c.query(q)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .into_iter()
        .map(|v| v.run.name.unwrap_or_default())
        .collect()
}

#[test]
fn queries_over_real_files() {
    let mut f = Fixture::new();
    f.run(
        "a",
        Status::Completed,
        json!({"lr": 0.0003, "model": {"layers": 12}, "opt": "adam", "amp": true}),
        &["baseline"],
        "{\"step\":0,\"loss\":2.0,\"train/loss\":3}\n{\"step\":1,\"loss\":0.5,\"train/loss\":1}\n",
    );
    f.run(
        "b",
        Status::Completed,
        json!({"lr": "3e-4", "model": {"layers": 24}, "opt": null}),
        &[],
        "{\"step\":0,\"loss\":1.0}\n{\"step\":1,\"loss\":0.25}\n{\"step\":2,\"loss\":NaN}\n",
    );
    f.run(
        "c",
        Status::Failed,
        json!({"lr": 0.01, "opt": "sgd", "amp": false}),
        &["baseline", "x"],
        "",
    );
    f.run(
        "d",
        Status::Completed,
        json!({"lr": "auto"}),
        &[],
        "{\"step\":5,\"loss\":0.75}\n",
    );
    let c = Catalog::open(&f.project).unwrap();

    // A param logged as 3e-4 (a string) equals the number 0.0003.
    assert_eq!(names(&c, "lr = 3e-4"), ["a", "b"]);
    assert_eq!(names(&c, "lr = '3e-4'"), ["b"]);
    assert_eq!(names(&c, "lr != 0.0003"), ["c", "d"]);
    assert_eq!(names(&c, "NOT lr < 0.001"), ["c"]);
    assert_eq!(names(&c, "params.model.layers > 12"), ["b"]);
    assert_eq!(names(&c, "NOT model.layers > 12"), ["a"]);
    assert_eq!(names(&c, "opt IS NULL"), ["b", "d"]);
    assert_eq!(names(&c, "opt != 'adam'"), ["c"]);
    assert_eq!(names(&c, "amp = true"), ["a"]);
    assert_eq!(names(&c, "amp = false"), ["c"]);
    assert_eq!(names(&c, "tags = 'baseline'"), ["a", "c"]);
    assert_eq!(names(&c, "'x' NOT IN tags"), ["a", "b", "d"]);
    assert_eq!(
        names(&c, "status = 'failed' OR metrics.loss.min < 0.3"),
        ["b", "c"]
    );
    assert_eq!(names(&c, "metrics.loss.count = 3"), ["b"]);
    assert_eq!(names(&c, "metrics.loss.last_step = 5"), ["d"]);
    assert_eq!(names(&c, "metrics.`train/loss`.first = 3"), ["a"]);
    assert_eq!(names(&c, "duration >= '200s'"), ["b", "c", "d"]);
    assert_eq!(names(&c, "ended IS NULL"), Vec::<String>::new());
    assert_eq!(names(&c, "created > '2026-01-01T02'"), ["b", "c", "d"]);
    // Sorting puts runs without the metric last in both directions.
    assert_eq!(names(&c, "ORDER BY metrics.loss.min"), ["b", "a", "d", "c"]);
    assert_eq!(
        names(&c, "ORDER BY metrics.loss.min DESC"),
        ["d", "a", "b", "c"]
    );
    assert_eq!(names(&c, "ORDER BY lr DESC LIMIT 2"), ["c", "a"]);
    assert_eq!(names(&c, ""), ["a", "b", "c", "d"]);

    match c.query("metrics.los < 1") {
        Err(StoreError::Query(e)) => {
            assert_eq!(e.message, "unknown metric `metrics.los`");
            assert_eq!(
                e.hint.as_deref(),
                Some("did you mean metrics.loss (metric) or metrics.`train/loss` (metric)?")
            );
        }
        other => panic!("{other:?}"),
    }
    let keys = c.known_keys().unwrap();
    assert!(
        keys.has_param("model.layers") && keys.has_param("amp") && keys.has_metric("train/loss")
    );
}
