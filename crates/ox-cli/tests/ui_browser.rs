#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox ui` in a real headless Chromium: the runs page, filtering, the query error caret,
//! selecting runs and a drawn chart, the compare view, a run page, a running run that
//! updates and then crashes, and names that try to inject HTML. Screenshots are saved under
//! `target/ui-screenshots/`.

use std::time::Duration;

use ox_core::Status;
use ox_test_support::TestProject;
use ox_test_support::browser::Browser;
use ox_test_support::http::UiServer;
use serde_json::json;

/// How many non-background pixels the first canvas matching `selector` has.
fn inked_pixels(b: &mut Browser, selector: &str) -> u64 {
    let v = b.eval(&format!(
        "(() => {{ const c = document.querySelector({selector:?}); if (!c) return 0;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i+3] > 0 && (d[i] < 200 || d[i+1] < 200 || d[i+2] < 200)) n++;
          return n; }})()"
    ));
    v.as_u64().unwrap_or(0)
}

/// The x tick labels of the main chart (uPlot draws them on the canvas; the chart keeps
/// their text in `data-xticks`) are whole steps, and these are among them.
fn assert_integer_step_ticks(b: &mut Browser, expected: &[i64]) {
    assert!(b.wait_for("document.querySelector('#main-chart [data-xticks]') !== null"));
    let ticks = b.eval("document.querySelector('#main-chart [data-xticks]').dataset.xticks");
    let ticks: Vec<&str> = ticks.as_str().unwrap().split('|').collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    for t in &ticks {
        assert!(
            t.replace(',', "").parse::<i64>().is_ok(),
            "a step tick that is not a whole number: {t:?} in {ticks:?}"
        );
    }
    let numbers: Vec<i64> = ticks
        .iter()
        .map(|t| t.replace(',', "").parse().unwrap())
        .collect();
    for e in expected {
        assert!(numbers.contains(e), "{e} not among {ticks:?}");
    }
}

fn rows(b: &mut Browser) -> u64 {
    b.eval("document.querySelectorAll('#runs-grid .row').length")
        .as_u64()
        .unwrap()
}

/// The sweep fixture with longer curves and a stdout.log for its first run.
fn project() -> TestProject {
    let mut p = TestProject::sweep(env!("CARGO_BIN_EXE_ox"));
    for seed in 3..=4 {
        let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..200)
            .map(|s| {
                (
                    s,
                    vec![("loss", 2.0 / (1.0 + s as f64 * 0.05 * seed as f64))],
                )
            })
            .collect();
        p.add_run(
            "sweep",
            &format!("long-s{seed}"),
            Status::Completed,
            json!({"lr": 0.05, "seed": seed, "model": {"layers": 2}}),
            &metrics,
        );
    }
    p
}

#[test]
fn runs_page_filter_error_select_chart_compare_and_run_page() {
    let p = project();
    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        return;
    };
    b.goto(&ui.url);
    assert!(b.wait_for("document.body.dataset.loaded === 'runs'"));
    assert_eq!(rows(&mut b), 7);
    assert_eq!(
        b.eval("document.getElementById('count').textContent"),
        "7 runs"
    );
    assert!(
        b.wait_for("document.querySelectorAll('#runs-grid canvas.spark[data-drawn]').length >= 6")
    );
    b.screenshot("runs-1280x800");

    // A query narrows the table and goes into the address.
    b.eval("document.getElementById('query').value = \"lr < 0.05\"; document.querySelector('form.toolbar button[type=submit]').click()");
    assert!(b.wait_for("document.getElementById('count').textContent === '2 runs'"));
    assert_eq!(rows(&mut b), 2);
    let hash = b.eval("location.hash").as_str().unwrap().to_string();
    assert!(hash.contains("q=lr+%3C+0.05"), "{hash}");

    // A bad query shows the message with its caret.
    b.eval("document.getElementById('query').value = 'lrr > 1'; document.querySelector('form.toolbar button[type=submit]').click()");
    assert!(b.wait_for("!document.getElementById('query-error').hidden"));
    let err = b.eval("document.getElementById('query-error').textContent");
    let err = err.as_str().unwrap();
    assert!(err.contains("lrr > 1\n  ^^^"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    b.screenshot("runs-query-error");

    // A bookmarked view: the address alone restores query, selection and metric.
    b.goto(&format!(
        "{}#/runs?q=study+%3D+%27sweep%27&sort=name",
        ui.url
    ));
    assert!(b.wait_for("document.body.dataset.loaded === 'runs' && document.querySelectorAll('#runs-grid .row').length === 6"));
    let first = b.eval("document.querySelector('#runs-grid .row a').textContent");
    assert_eq!(first, "long-s3");
    // Select the four runs of lr 0.1/0.01 × seed 1/2: their curves are drawn.
    b.eval("[...document.querySelectorAll('#runs-grid .row')].slice(2, 6).forEach(r => r.querySelector('input').click())");
    assert!(b.wait_for("document.querySelector('#main-chart canvas') !== null"));
    std::thread::sleep(Duration::from_millis(300));
    let ink = inked_pixels(&mut b, "#main-chart canvas");
    assert!(ink > 500, "the chart canvas is empty ({ink} pixels)");
    assert_integer_step_ticks(&mut b, &[0, 1, 2, 3, 4]);
    // The hover read-out names a whole step too.
    hover_main_chart(&mut b);
    // Which colour is which run: a legend entry per run, above the plot.
    assert_eq!(
        b.eval(
            "[...document.querySelectorAll('#main-chart .chart-legend .entry .label')].map(e => e.textContent)"
        ),
        serde_json::json!(["lr0-s1", "lr0-s2", "lr1-s1", "lr1-s2"])
    );
    assert!(
        b.wait_for("document.querySelectorAll('#runs-grid canvas.spark[data-drawn]').length >= 6")
    );
    b.screenshot("runs-selected-chart");

    // Grouped by lr: a mean line and band per learning rate, over two seeds each, and a
    // legend of the groups (not of the bands' edges), above the plot.
    b.eval("const g = [...document.querySelectorAll('#chart-panel select')].pop(); g.value = 'lr'; g.dispatchEvent(new Event('change'))");
    assert!(
        b.wait_for("document.querySelectorAll('#main-chart .chart-legend .entry').length === 2")
    );
    let entries = b.eval(
        "[...document.querySelectorAll('#main-chart .chart-legend .entry .label')].map(e => e.textContent)",
    );
    assert_eq!(entries, json!(["0.01 (n=2)", "0.1 (n=2)"]));
    let legend = b.eval("document.querySelector('#main-chart .chart-legend').textContent");
    let legend = legend.as_str().unwrap();
    assert!(
        !legend.contains("high") && !legend.contains("low"),
        "{legend}"
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#main-chart .u-legend').length"),
        0,
        "uPlot's legend (which lists the band edges) is not shown"
    );
    // Each swatch has its group's line colour, and the two differ.
    let swatches = b.eval(
        "[...document.querySelectorAll('#main-chart .chart-legend .swatch')].map(s => getComputedStyle(s).borderTopColor)",
    );
    assert_ne!(swatches[0], swatches[1], "{swatches}");
    let ink = inked_pixels(&mut b, "#main-chart canvas");
    assert!(ink > 500, "the grouped chart is empty ({ink} pixels)");
    assert_integer_step_ticks(&mut b, &[0, 1, 2, 3, 4]);
    // Hovering shows the groups' means at an integer step.
    hover_main_chart(&mut b);
    assert!(b.wait_for(
        "[...document.querySelectorAll('#main-chart .chart-legend .value')].every(v => v.textContent !== '')"
    ));
    b.eval("document.getElementById('main-chart').scrollIntoView()");
    b.screenshot("runs-chart-grouped");
    // A click on an entry hides that group; another shows it again.
    b.eval("document.querySelector('#main-chart .chart-legend .entry').click()");
    assert!(b.wait_for(
        "document.querySelector('#main-chart .chart-legend .entry').classList.contains('off')"
    ));
    b.eval("document.querySelector('#main-chart .chart-legend .entry').click()");
    assert!(b.wait_for(
        "!document.querySelector('#main-chart .chart-legend .entry').classList.contains('off')"
    ));

    // Compare view.
    b.eval("document.getElementById('compare').click()");
    assert!(b.wait_for("document.body.dataset.loaded === 'compare'"));
    let diff = b.eval("document.getElementById('params-diff').textContent");
    let diff = diff.as_str().unwrap();
    assert!(diff.contains("seed"), "{diff}");
    assert!(
        !diff.contains("model.layers"),
        "equal params are not shown: {diff}"
    );
    assert!(b.wait_for("document.getElementById('metrics-side').textContent.includes('loss')"));
    // The `ox stats` table of the selection, with its verdict.
    assert!(b.wait_for("document.getElementById('verdict') && document.getElementById('stats-table').rows.length === 3"));
    let verdict = b.eval("document.getElementById('verdict').textContent");
    assert!(
        verdict.as_str().unwrap().starts_with("Verdict: "),
        "{verdict}"
    );
    b.screenshot("compare");

    // A run page: metrics, a chart per metric, files, log.
    b.goto(&format!("{}#/run/lr0-s1", ui.url));
    assert!(b.wait_for("document.body.dataset.loaded === 'run'"));
    assert!(b.wait_for("document.querySelectorAll('#run-charts canvas').length >= 2"));
    let metrics = b.eval("document.getElementById('run-metrics').textContent");
    assert!(metrics.as_str().unwrap().contains("train/acc"));
    b.screenshot("run-page");

    // At 1920 × 1080 the table fills the width without overlapping.
    b.set_viewport(1920, 1080);
    b.goto(&ui.url);
    assert!(b.wait_for("document.body.dataset.loaded === 'runs'"));
    // The sparklines of the runs with metrics are drawn (after scrolling settles).
    assert!(
        b.wait_for("document.querySelectorAll('#runs-grid canvas.spark[data-drawn]').length >= 6")
    );
    b.screenshot("runs-1920x1080");
    assert!(b.errors.is_empty(), "page errors: {:?}", b.errors);
}

#[test]
fn names_and_values_that_look_like_html_render_as_text() {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    let evil = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"];
    for (i, name) in evil.iter().enumerate() {
        let id = p.add_run(
            name,
            name,
            Status::Completed,
            json!({"note": name, "k": i}),
            &[(0, vec![(*name, 1.0), ("loss", 0.5)])],
        );
        let dir = p.root().join(".ox/runs").join(id.as_str());
        std::fs::write(dir.join("stdout.log"), format!("{name}\n")).unwrap();
        let mut run = p.project.read_run(&id).unwrap();
        run.tags = vec![name.to_string()];
        run.extra.insert("notes".into(), json!(name));
        run.command = vec!["echo".into(), name.to_string()];
        p.project.write_run(&run).unwrap();
    }
    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        return;
    };
    b.eval("window.alerted = 0");
    b.goto(&ui.url);
    assert!(b.wait_for("document.body.dataset.loaded === 'runs'"));
    let text = b.eval("document.getElementById('runs-grid').textContent");
    for name in evil {
        assert!(
            text.as_str().unwrap().contains(name),
            "{name} shown as text"
        );
    }
    let injected = "document.querySelectorAll('main script, main img').length";
    assert_eq!(b.eval(injected), 0);
    b.screenshot("xss-runs");
    // Every page that shows these strings.
    let ids = b
        .eval("[...document.querySelectorAll('#runs-grid .row')].map(r => r.dataset.id).join(',')");
    let ids = ids.as_str().unwrap().to_string();
    for page in [
        format!("#/run/{}", ids.split(',').next().unwrap()),
        format!("#/compare?ids={ids}"),
        "#/studies".to_string(),
    ] {
        b.goto(&format!("{}{page}", ui.url));
        assert!(
            b.wait_for("['run', 'compare', 'studies'].includes(document.body.dataset.loaded)"),
            "{page}"
        );
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(b.eval(injected), 0, "{page}");
        let shown = b.eval("document.getElementById('app').textContent");
        assert!(shown.as_str().unwrap().contains(evil[0]), "{page}");
    }
    b.screenshot("xss-studies");
    // No alert ran (Page.javascriptDialogOpening would block; none was raised).
    assert!(b.errors.is_empty(), "page errors: {:?}", b.errors);
}

#[test]
fn a_running_run_updates_live_and_turns_crashed_when_its_process_dies() {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    let id = p.add_run(
        "live",
        "training",
        Status::Running,
        json!({"lr": 0.1}),
        &[(0, vec![("loss", 1.0)])],
    );
    let mut sleeper = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let mut run = p.project.read_run(&id).unwrap();
    run.pid = Some(sleeper.id());
    run.host = Some(
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
            .to_string(),
    );
    run.ended = None;
    p.project.write_run(&run).unwrap();
    let log_path = p.project.stdout_log_path(&id);
    std::fs::write(&log_path, "epoch 0\n").unwrap();
    // Two resource samples, as the supervisor writes them: the run page charts them.
    let samples: Vec<u8> = [(1.0e9, 50.0), (1.0e9 + 2.0, 150.0)]
        .iter()
        .flat_map(|&(time, cpu_percent)| {
            ox_core::SystemSample {
                time,
                cpu_percent,
                rss_bytes: 1 << 26,
                processes: 2,
                gpu_util_percent: None,
                gpu_mem_bytes: None,
            }
            .to_line()
            .unwrap()
        })
        .collect();
    std::fs::write(p.project.system_path(&id), samples).unwrap();

    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        return;
    };
    b.goto(&format!("{}#/run/{}", ui.url, id.as_str()));
    assert!(b.wait_for("document.body.dataset.loaded === 'run'"));
    assert_eq!(
        b.eval("document.getElementById('run-status').textContent"),
        "running"
    );
    // New points and log lines arrive without a reload.
    let metrics_path = p.project.metrics_path(&id);
    let mut text = std::fs::read_to_string(&metrics_path).unwrap();
    for step in 1..50 {
        text.push_str(&format!(
            "{{\"type\":\"metrics\",\"step\":{step},\"loss\":{}}}\n",
            1.0 / f64::from(step + 1)
        ));
    }
    std::fs::write(&metrics_path, text).unwrap();
    std::fs::write(&log_path, "epoch 0\nepoch 1 done\n").unwrap();
    assert!(b.wait_for("document.getElementById('log').textContent.includes('epoch 1 done')"));
    assert!(b.wait_for("document.querySelector('#run-metrics').textContent.includes('49')"));
    assert!(b.wait_for("document.querySelector('#run-charts .chart')?.dataset.points === '50'"));
    // CPU, RSS and process count, each a chart of its two samples.
    assert!(b.wait_for(
        "[...document.querySelectorAll('#system-charts .chart')].filter(c => c.dataset.points === '2').length === 3"
    ));
    b.screenshot("live-running");

    // On the runs page, the chart of the selected running run grows by the points logged
    // since (fetched by cursor), and the row turns crashed when the process dies.
    b.goto(&format!("{}#/runs?sel={}", ui.url, id.as_str()));
    assert!(b.wait_for("document.body.dataset.loaded === 'runs'"));
    assert!(b.wait_for("document.getElementById('main-chart')?.dataset.points === '50'"));
    let more: String = (50..60)
        .map(|step| format!("{{\"type\":\"metrics\",\"step\":{step},\"loss\":0.01}}\n"))
        .collect();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&metrics_path)
        .unwrap();
    std::io::Write::write_all(&mut f, more.as_bytes()).unwrap();
    assert!(b.wait_for("document.getElementById('main-chart')?.dataset.points === '60'"));
    b.screenshot("live-runs-chart");

    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert!(b.wait_for("document.getElementById('runs-grid').textContent.includes('crashed')"));
    // A run added meanwhile (a sweep's next member) appears without a reload; the catalog
    // sees new runs by runs/'s modification time, so let the clock move on first.
    std::thread::sleep(Duration::from_millis(1100));
    p.add_run(
        "live",
        "newcomer",
        Status::Completed,
        json!({"lr": 0.2}),
        &[(0, vec![("loss", 0.5)])],
    );
    assert!(b.wait_for(
        "[...document.querySelectorAll('#runs-grid .row a')].some(a => a.textContent === 'newcomer')"
    ));
    assert_eq!(
        b.eval("document.getElementById('count').textContent"),
        "2 runs"
    );
    b.goto(&format!("{}#/run/{}", ui.url, id.as_str()));
    assert!(b.wait_for("document.getElementById('run-status')?.textContent === 'crashed'"));
    b.screenshot("live-crashed");
}

#[test]
fn metric_columns_are_chosen_sorted_and_kept_in_the_address() {
    let p = project();
    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        return;
    };
    let headers =
        "[...document.querySelectorAll('#runs-grid .head > div')].map(d => d.textContent)";
    b.goto(&format!("{}#/runs?q=study+%3D+%27sweep%27", ui.url));
    assert!(b.wait_for("document.body.dataset.loaded === 'runs'"));
    // The default: the most common metrics, their last value.
    let shown = b.eval(headers);
    assert!(
        shown.as_array().unwrap().contains(&json!("loss")),
        "{shown}"
    );
    assert!(
        shown.as_array().unwrap().contains(&json!("train/acc")),
        "{shown}"
    );
    assert!(
        b.eval("document.querySelector('#columns summary').textContent")
            .as_str()
            .unwrap()
            .contains("default")
    );

    // Open the control and add loss's minimum: a column, and the address holds it.
    b.eval("document.querySelector('#columns summary').click()");
    assert!(b.wait_for("document.querySelector('#columns').open && document.querySelectorAll('#columns input[type=checkbox]').length === 8"));
    b.eval("document.querySelector('#columns input[data-metric=\"loss\"][data-summary=\"min\"]').click()");
    assert!(b.wait_for(&format!("{headers}.includes('loss (min)')")));
    let hash = b.eval("decodeURIComponent(location.hash)");
    let hash = hash.as_str().unwrap();
    assert!(
        hash.contains("cols=loss:last,train/acc:last,loss:min"),
        "{hash}"
    );
    b.screenshot("runs-columns-picker");

    // Remove train/acc; filter the list.
    b.eval("document.querySelector('#columns input[data-metric=\"train/acc\"][data-summary=\"last\"]').click()");
    assert!(b.wait_for(&format!("!{headers}.includes('train/acc')")));
    b.eval("const f = document.querySelector('#columns input[type=search]'); f.value = 'acc'; f.dispatchEvent(new Event('input'))");
    assert!(b.wait_for("document.querySelectorAll('#columns td.name').length === 1"));
    // A click elsewhere closes the control.
    b.eval("document.getElementById('count').dispatchEvent(new MouseEvent('mousedown', { bubbles: true }))");
    assert!(b.wait_for("!document.querySelector('#columns').open"));

    // Sorting by the new column: the run with the lowest minimum loss first, then last.
    b.eval("[...document.querySelectorAll('#runs-grid .head > div')].find(d => d.textContent === 'loss (min)').click()");
    assert!(b.wait_for("location.hash.includes('sort=metrics.loss%3Amin')"));
    let first = |b: &mut Browser| {
        b.eval("document.querySelector('#runs-grid .row a').textContent")
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(first(&mut b), "long-s4");
    b.eval("[...document.querySelectorAll('#runs-grid .head > div')].find(d => d.textContent.startsWith('loss (min)')).click()");
    assert!(b.wait_for("location.hash.includes('sort=-metrics.loss%3Amin')"));
    assert_eq!(first(&mut b), "lr1-s1");

    // The address alone restores the columns and the order.
    let url = b.eval("location.href").as_str().unwrap().to_string();
    b.goto("about:blank");
    b.goto(&url);
    assert!(b.wait_for("document.body.dataset.loaded === 'runs'"));
    let shown = b.eval(headers);
    let shown: Vec<&str> = shown
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        shown.contains(&"loss") && shown.contains(&"loss (min) ▼"),
        "{shown:?}"
    );
    assert!(!shown.contains(&"train/acc"), "{shown:?}");
    assert_eq!(first(&mut b), "lr1-s1");
    assert_eq!(
        b.eval("document.querySelector('#columns summary').textContent"),
        "Metric columns: 2"
    );

    // Back to the default.
    b.eval("document.querySelector('#columns summary').click()");
    b.eval("[...document.querySelectorAll('#columns button')].pop().click()");
    assert!(b.wait_for("!location.hash.includes('cols=')"));
    assert!(b.wait_for(&format!("{headers}.includes('train/acc')")));
    assert!(b.errors.is_empty(), "page errors: {:?}", b.errors);
}

#[test]
fn the_studies_page_links_each_study_s_latest_report() {
    let mut p = project();
    let o = p.ox(&["report", "-s", "sweep"]);
    assert!(o.status.success(), "{}", ox_test_support::stderr(&o));
    // A page under reports/ that tries to run script: the policy stops it.
    let evil = p.root().join("reports/evil");
    std::fs::create_dir_all(&evil).unwrap();
    std::fs::write(
        evil.join("report.html"),
        "<!doctype html><title>evil</title><h1>evil</h1><script>document.title = 'ran'</script>\
         <img src=x onerror=\"document.title = 'ran'\">",
    )
    .unwrap();
    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        return;
    };
    b.goto(&format!("{}#/studies", ui.url));
    assert!(b.wait_for("document.body.dataset.loaded === 'studies'"));
    let link = b.eval(
        "(() => { const row = [...document.querySelectorAll('#studies tr')].find(r => r.cells[0].textContent === 'sweep');
          const a = row.querySelector('a.report'); return a ? [a.textContent, a.getAttribute('href')] : null; })()",
    );
    let text = link[0].as_str().unwrap();
    assert!(
        text.starts_with("report (20") && text.ends_with(')'),
        "{link}"
    );
    assert_eq!(link[1], "reports/sweep/report.html");
    let other = b.eval(
        "[...document.querySelectorAll('#studies tr')].find(r => r.cells[0].textContent === 'other').lastElementChild.textContent",
    );
    assert_eq!(other, "none");
    b.screenshot("studies-report-link");
    // Counts move without a reload: a run of a new study appears.
    std::thread::sleep(Duration::from_millis(1100));
    p.add_run(
        "fresh",
        "f1",
        Status::Completed,
        json!({}),
        &[(0, vec![("loss", 1.0)])],
    );
    assert!(b.wait_for(
        "[...document.querySelectorAll('#studies tr')].some(r => r.cells[0].textContent === 'fresh')"
    ));

    // Following the link shows the report: its style applied, its figures drawn.
    b.eval("document.querySelector('#studies a.report').click()");
    assert!(b.wait_for(
        "location.pathname.endsWith('/reports/sweep/report.html') && document.readyState === 'complete'"
    ));
    assert!(b.wait_for("document.querySelector('h1') !== null"));
    let h1 = b.eval("document.querySelector('h1').textContent");
    assert!(h1.as_str().unwrap().ends_with("sweep"), "{h1}");
    assert_eq!(
        b.eval("getComputedStyle(document.querySelector('main')).maxWidth"),
        "960px",
        "the report's inline style applies"
    );
    assert!(b.wait_for(
        "document.images.length > 0 && [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    ));
    b.screenshot("report-page");
    b.eval("document.querySelector('figure').scrollIntoView()");
    b.screenshot("report-page-figure");

    b.goto(&format!("{}reports/evil/report.html", ui.url));
    assert!(b.wait_for("document.querySelector('h1') !== null"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(b.eval("document.title"), "evil", "no script ran");
}

#[test]
fn long_names_and_many_groups_fit_the_legend_and_the_columns_control() {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    let long_metric = "validation/per_task/reading_comprehension/exact_match_accuracy";
    for g in 0..8 {
        let optimizer = format!("adamw-warmup-cosine-schedule-with-a-long-configuration-name-{g}");
        for seed in 0..2 {
            let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..3000)
                .step_by(10)
                .map(|s| {
                    let loss =
                        (1.0 + f64::from(g)) / (1.0 + s as f64 * 0.01) + f64::from(seed) * 0.01;
                    (s, vec![("loss", loss), (long_metric, 1.0 - loss / 10.0)])
                })
                .collect();
            p.add_run(
                "long",
                &format!("run-{g}-{seed}"),
                Status::Completed,
                json!({"optimizer": optimizer, "seed": seed}),
                &metrics,
            );
        }
    }
    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        return;
    };
    for (w, h) in [(1280, 800), (1920, 1080)] {
        b.set_viewport(w, h);
        b.goto("about:blank");
        b.goto(&format!("{}#/runs?sort=name", ui.url));
        assert!(b.wait_for("document.querySelectorAll('#runs-grid .row').length >= 16"));
        // Long param values are cut in the middle: the rows' optimizers read apart.
        let shown = b.eval(
            "[...document.querySelectorAll('#runs-grid .cell[title^=\"adamw\"]')].map(c => c.textContent)",
        );
        let shown: Vec<&str> = shown
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(shown.iter().all(|t| t.contains('…')), "{shown:?}");
        assert_eq!(shown[0].chars().last(), Some('0'), "{shown:?}");
        assert_eq!(shown[2].chars().last(), Some('1'), "{shown:?}");
        let fits = b.eval(
            "[...document.querySelectorAll('#runs-grid .cell[title^=\"adamw\"]')].every(c => c.scrollWidth <= c.clientWidth + 1)",
        );
        assert_eq!(fits, true, "the cut values fit their cells at {w}x{h}");
        b.eval("document.querySelectorAll('#runs-grid .row input').forEach(i => i.click())");
        assert!(b.wait_for("document.querySelector('#main-chart canvas') !== null"));
        b.eval("const g = [...document.querySelectorAll('#chart-panel select')].pop(); g.value = 'optimizer'; g.dispatchEvent(new Event('change'))");
        assert!(b.wait_for(
            "document.querySelectorAll('#main-chart .chart-legend .entry').length === 8"
        ));
        // Every entry stays inside the chart; the long names are cut with their full text
        // as the tooltip.
        let outside = b.eval(
            "(() => { const c = document.getElementById('main-chart').getBoundingClientRect();
              return [...document.querySelectorAll('#main-chart .chart-legend .entry')]
                .filter(e => { const r = e.getBoundingClientRect(); return r.right > c.right + 1 || r.left < c.left - 1; }).length; })()",
        );
        assert_eq!(outside, 0, "legend entries outside the chart at {w}x{h}");
        let title = b.eval("document.querySelector('#main-chart .chart-legend .entry').title");
        assert!(
            title
                .as_str()
                .unwrap()
                .contains("long-configuration-name-0 (n=2)"),
            "{title}"
        );
        // Cut in the middle: the end that tells the groups apart, and n, stay readable.
        let labels = b.eval(
            "[...document.querySelectorAll('#main-chart .chart-legend .entry .label')].map(e => e.textContent)",
        );
        for (i, l) in labels.as_array().unwrap().iter().enumerate() {
            let l = l.as_str().unwrap();
            assert!(
                l.contains('…') && l.ends_with(&format!("name-{i} (n=2)")),
                "{l}"
            );
        }
        let clipped = b.eval(
            "[...document.querySelectorAll('#main-chart .chart-legend .name')].filter(e => e.scrollWidth > e.clientWidth + 1).length",
        );
        assert_eq!(clipped, 0, "the shortened names are shown whole at {w}x{h}");
        assert_integer_step_ticks(&mut b, &[0]);
        b.eval("document.getElementById('main-chart').scrollIntoView()");
        b.screenshot(&format!("long-names-grouped-{w}x{h}"));

        b.eval("window.scrollTo(0, 0); document.querySelector('#columns summary').click()");
        assert!(b.wait_for("document.querySelector('#columns').open"));
        b.eval(&format!(
            "document.querySelector('#columns input[data-metric=\"{long_metric}\"][data-summary=\"max\"]').click()"
        ));
        assert!(
            b.wait_for("decodeURIComponent(location.hash).includes('exact_match_accuracy:max')")
        );
        let menu = b.eval(
            "(() => { const r = document.querySelector('#columns .menu').getBoundingClientRect();
              return r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight; })()",
        );
        assert_eq!(menu, true, "the columns control fits the window at {w}x{h}");
        let cut = b.eval(
            "(() => { const l = document.querySelector('#columns .list'); const t = l.querySelector('table');
              return t.getBoundingClientRect().right > l.getBoundingClientRect().right + 1; })()",
        );
        assert_eq!(
            cut, false,
            "the summaries' checkboxes are all visible at {w}x{h}"
        );
        // A metric header keeps its summary visible.
        let headers = b.eval(
            "[...document.querySelectorAll('#runs-grid .head > div')].filter(d => d.textContent.endsWith('(max)')).map(d => d.scrollWidth <= d.clientWidth + 1)",
        );
        assert_eq!(headers, json!([true]), "at {w}x{h}");
        b.screenshot(&format!("long-names-columns-{w}x{h}"));
        b.eval("document.querySelector('#columns summary').click()");
    }
    assert!(b.errors.is_empty(), "page errors: {:?}", b.errors);
}

/// Moves the mouse over the main chart (60 % across) and waits until the legend reads out a
/// whole step.
fn hover_main_chart(b: &mut Browser) {
    b.eval(
        "(() => { const o = document.querySelector('#main-chart .u-over'); const r = o.getBoundingClientRect();
          o.dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + r.width * 0.6, clientY: r.top + r.height / 2, bubbles: true })); })()",
    );
    assert!(b.wait_for(
        "/^step \\d+$/.test(document.querySelector('#main-chart .chart-legend .x').textContent)"
    ));
}

#[test]
fn ids_are_shown_to_the_prefix_that_tells_the_runs_apart() {
    // Runs created in the same millisecond (a sweep) share their ids' first 10 characters.
    let p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    let at = ox_test_support::base_time();
    for (i, random) in [(0, 0x10_u128), (1, 0x11), (2, 0x2000)] {
        let mut run = ox_core::Run::new(ox_core::RunId::from_parts(at, random), Status::Completed);
        run.name = Some(format!("twin-{i}"));
        run.created = at;
        p.project.write_run(&run).unwrap();
    }
    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        return;
    };
    b.goto(&format!("{}#/runs?sort=name", ui.url));
    assert!(b.wait_for("document.querySelectorAll('#runs-grid .row').length === 3"));
    let shown =
        b.eval("[...document.querySelectorAll('#runs-grid .cell.id')].map(c => c.textContent)");
    let shown: Vec<&str> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(shown.len(), 3);
    assert!(
        shown[0] != shown[1] && shown[1] != shown[2] && shown[0] != shown[2],
        "{shown:?}"
    );
    // One length for all (the column lines up), the shortest that tells them apart: the
    // first two differ only in the last character.
    assert!(shown.iter().all(|s| s.len() == 26), "{shown:?}");
    // `ox show` takes what is shown.
    let o = p.ox(&["show", shown[1], "--format", "json"]);
    assert!(o.status.success(), "{}", ox_test_support::stderr(&o));
}

#[test]
fn zooming_a_long_curve_fetches_the_window_at_full_resolution() {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    let points: Vec<(i64, Vec<(&str, f64)>)> = (0..20_000)
        .map(|s| (s, vec![("loss", ((s * 7919) % 1000) as f64 / 1000.0)]))
        .collect();
    let id = p.add_run(
        "long",
        "long",
        Status::Completed,
        json!({"lr": 0.1}),
        &points,
    );
    let ui = UiServer::start(&p, &[]);
    let Some(mut b) = Browser::launch(1280, 800) else {
        return;
    };
    b.goto(&format!("{}#/runs?sel={}", ui.url, id.as_str()));
    assert!(b.wait_for("document.getElementById('main-chart')?.dataset.points > 0"));
    let whole = b.eval("Number(document.getElementById('main-chart').dataset.points)");
    let whole = whole.as_f64().unwrap();
    assert!(whole <= 1000.0, "downsampled on the server: {whole}");
    // Drag across 2 % of the plot (real mouse events): about 400 steps, a handful of the
    // whole curve's columns.
    let rect = b.eval(
        "(() => { const r = document.querySelector('#main-chart .u-over').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()",
    );
    let r: Vec<f64> = rect
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let y = r[1] + r[3] / 2.0;
    for (kind, f) in [
        ("mouseMoved", 0.40),
        ("mousePressed", 0.40),
        ("mouseMoved", 0.41),
        ("mouseMoved", 0.42),
        ("mouseReleased", 0.42),
    ] {
        b.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": r[0] + r[2] * f, "y": y, "button": "left", "clickCount": 1,
                   "buttons": if kind == "mouseReleased" { 0 } else { 1 }}),
        )
        .unwrap();
    }
    assert!(b.wait_for("document.getElementById('main-chart').dataset.zoom !== ''"));
    let zoom = b.eval("document.getElementById('main-chart').dataset.zoom");
    let (from, to) = zoom.as_str().unwrap().split_once(',').unwrap();
    let (from, to): (f64, f64) = (from.parse().unwrap(), to.parse().unwrap());
    assert!(to - from > 100.0 && to - from < 1000.0, "{zoom}");
    // Every step inside the window is drawn now (400 or so), not the few coarse points.
    let shown = b.eval("Number(document.getElementById('main-chart').dataset.shown)");
    assert!(
        shown.as_f64().unwrap() >= whole + (to - from) * 0.8,
        "{shown} shown, {whole} before the zoom, window {zoom}"
    );
    b.screenshot("runs-chart-zoomed");
    // A double-click goes back to the whole curve.
    for kind in ["mousePressed", "mouseReleased"] {
        b.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": r[0] + r[2] / 2.0, "y": y, "button": "left", "clickCount": 2}),
        )
        .unwrap();
    }
    assert!(b.wait_for("document.getElementById('main-chart').dataset.zoom === ''"));
    assert!(b.errors.is_empty(), "page errors: {:?}", b.errors);
}
