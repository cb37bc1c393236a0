//! The browser helper itself: a page loads, scripts run, a screenshot is a PNG.

use ox_test_support::browser::Browser;

#[test]
fn browser_runs_scripts_and_takes_screenshots() {
    let Some(mut b) = Browser::launch(640, 400) else {
        return;
    };
    b.goto("data:text/html,<h1 id=t>hello</h1><script>document.title='x'+(1+2)</script>");
    assert!(b.wait_for("document.getElementById('t') !== null"));
    assert_eq!(b.eval("document.title"), "x3");
    assert_eq!(b.eval("innerWidth"), 640);
    let png = std::fs::read(b.screenshot("browser-helper")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    assert!(!b.wait_for_within("false", std::time::Duration::from_millis(100)));
    b.eval("setTimeout(() => { throw new Error('boom') }, 0)");
    assert!(b.wait_for_within("true", std::time::Duration::from_millis(100)));
    b.eval("new Promise(r => setTimeout(r, 100))");
    assert!(
        b.errors.iter().any(|e| e.contains("boom")),
        "{:?}",
        b.errors
    );
}
