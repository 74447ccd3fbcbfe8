//! `workergen report`, the fleet page (DESIGN section 17): its markdown and JSON as
//! snapshots, and the page itself opened from a file in a real headless Chromium
//! (`WORKERGEN_TEST_BROWSER`): every environment, cluster, worker, pool and chart version
//! in the DOM, the filters hiding and showing rows, a screenshot that is not empty, and
//! nothing fetched from anywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use crate::util::{assert_matches_schema, browser, example_repo, schema_errors, workergen};

/// The example fleet's page, written to a temp folder.
fn example_page(dir: &Path) -> PathBuf {
    let page = dir.join("fleet.html");
    let run = workergen(&example_repo(), &["report", "--output", page.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    page
}

fn example_json() -> Json {
    let run = workergen(&example_repo(), &["report", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// Runs the browser on `url` with `args`; its stdout.
fn chromium(browser: &Path, profile: &Path, args: &[&str], url: &str) -> String {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .env("HOME", profile)
        .output()
        .expect("the browser runs");
    assert!(
        output.status.success(),
        "{} failed: {}",
        browser.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn url_of(page: &Path) -> String {
    format!("file://{}", page.display())
}

#[test]
fn the_markdown_and_json_of_the_example_fleet() {
    let markdown = workergen(&example_repo(), &["report", "--format", "markdown"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    insta::assert_snapshot!("report_markdown", markdown.stdout);
    let json = workergen(&example_repo(), &["report", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let mut document: Json = serde_json::from_str(&json.stdout).unwrap();
    assert_matches_schema("report-json.schema.json", &document);
    // The schema is no formality: an undocumented field is refused.
    document["summary"]["undocumented"] = 1.into();
    assert!(!schema_errors("report-json.schema.json", &document).is_empty());
    insta::assert_snapshot!("report_json", json.stdout);
}

#[test]
fn the_page_is_the_same_bytes_twice_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = std::fs::read_to_string(example_page(dir.path())).unwrap();
    let again = workergen(&example_repo(), &["report"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(first == again.stdout, "two runs wrote different pages");
    // Nothing the page loads may come from elsewhere: no external script, style, image,
    // font or frame, and no `url(...)` in the style.
    for forbidden in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "<link",
        "<img",
        "<iframe",
        "@import",
        "url(",
    ] {
        assert!(!first.contains(forbidden), "the page has `{forbidden}`");
    }
    // Landmarks and table headers with their scope, for screen readers.
    for needed in [
        "<main>",
        "<header>",
        "<nav aria-label=",
        "<footer>",
        "<th scope=\"col\">",
        "<th scope=\"row\">",
        "prefers-color-scheme",
        "@media print",
    ] {
        assert!(first.contains(needed), "the page lacks `{needed}`");
    }
    assert!(
        first.contains("Status was not asked"),
        "the page should say status was not asked"
    );
}

#[test]
fn env_and_cluster_select_part_of_the_fleet() {
    let run = workergen(
        &example_repo(),
        &[
            "report",
            "--format",
            "json",
            "--env",
            "production",
            "--cluster",
            "us-east-1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_matches_schema("report-json.schema.json", &report);
    let environments = report["environments"].as_array().unwrap();
    assert_eq!(environments.len(), 1);
    assert_eq!(environments[0]["name"], "production");
    let clusters = environments[0]["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0]["name"], "us-east-1");
    let unknown = workergen(&example_repo(), &["report", "--env", "nowhere"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
}

/// Every environment, cluster, worker, pool and chart version of the example fleet.
fn names(report: &Json) -> Vec<String> {
    let mut names = Vec::new();
    for environment in report["environments"].as_array().unwrap() {
        names.push(environment["name"].as_str().unwrap().to_string());
        for cluster in environment["clusters"].as_array().unwrap() {
            names.push(cluster["name"].as_str().unwrap().to_string());
            for worker in cluster["workers"].as_array().unwrap() {
                names.push(worker["name"].as_str().unwrap().to_string());
                names.push(worker["chartVersion"].as_str().unwrap().to_string());
            }
        }
    }
    for pool in report["pools"].as_array().unwrap() {
        names.push(pool["name"].as_str().unwrap().to_string());
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn a_browser_shows_every_environment_cluster_worker_pool_and_chart_version() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = example_page(dir.path());
    let dom = chromium(&browser, &dir.path().join("profile"), &["--dump-dom"], &url_of(&page));
    let names = names(&example_json());
    assert!(names.len() > 15, "{names:?}");
    for name in &names {
        assert!(dom.contains(name.as_str()), "the page does not show `{name}`");
    }
    // The script ran: the filters are shown, and nothing is hidden without a filter.
    assert!(
        dom.contains("<form id=\"filters\" aria-label=\"Filters\">"),
        "the filters stayed hidden"
    );
    assert_eq!(hidden_rows(&dom).len(), 0);
}

/// The filterable `<tr>` rows the DOM hides, by their header cell.
fn hidden_rows(dom: &str) -> Vec<String> {
    rows(dom)
        .into_iter()
        .filter(|(_, hidden)| *hidden)
        .map(|(name, _)| name)
        .collect()
}

/// Each filterable `<tr>`'s header cell and whether it is hidden.
fn rows(dom: &str) -> Vec<(String, bool)> {
    dom.split("<tr ")
        .skip(1)
        .filter(|row| row.starts_with("data-"))
        .map(|row| {
            let tag = &row[..row.find('>').unwrap()];
            let name = row
                .split("<th scope=\"row\">")
                .nth(1)
                .map(|rest| rest[..rest.find('<').unwrap()].to_string())
                .unwrap_or_default();
            (name, tag.contains(" hidden"))
        })
        .collect()
}

#[test]
fn the_filters_hide_and_show_rows() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = example_page(dir.path());
    let profile = dir.path().join("profile");
    // A URL hash sets the filters, as choosing them in the form does.
    let dom = chromium(
        &browser,
        &profile,
        &["--dump-dom"],
        &format!("{}#p=Terraform%20Workers", url_of(&page)),
    );
    let all = rows(&dom);
    let shown: Vec<&str> = all
        .iter()
        .filter(|(_, hidden)| !hidden)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(shown.contains(&"terraform"), "{all:?}");
    assert!(!shown.contains(&"deploy") && !shown.contains(&"build-linux"), "{all:?}");
    assert!(!hidden_rows(&dom).is_empty());
    // Two filters at once: one environment's Terraform workers only.
    let dom = chromium(
        &browser,
        &profile,
        &["--dump-dom"],
        &format!("{}#e=staging&p=Terraform%20Workers", url_of(&page)),
    );
    // A worker row carries its pools; its cluster's fold, its environment.
    let fold = |environment: &str, cluster: &str| {
        let start = dom
            .find(&format!("<details data-e=\"{environment}\" data-c=\"{cluster}\""))
            .unwrap();
        dom[start..start + dom[start..].find('>').unwrap()].to_string()
    };
    assert!(fold("production", "us-east-1").contains(" hidden"), "{dom}");
    assert!(!fold("staging", "eu-west-1").contains(" hidden"), "{dom}");
    assert!(fold("staging", "eu-west-1").contains(" open"), "a matching fold opens");
    // With scripts off (the page as written: `--dump-dom` itself needs scripts), every
    // row shows and the filters stay hidden.
    let written = std::fs::read_to_string(&page).unwrap();
    assert_eq!(hidden_rows(&written).len(), 0);
    assert!(!rows(&written).is_empty());
    assert!(
        written.contains("<form id=\"filters\" hidden"),
        "the filters show without a script"
    );
}

#[test]
fn a_screenshot_of_the_page_is_not_empty() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = example_page(dir.path());
    let shot = dir.path().join("fleet.png");
    chromium(
        &browser,
        &dir.path().join("profile"),
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,1600"],
        &url_of(&page),
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 1600));
    // A blank page compresses to a few kilobytes; text and tables do not.
    assert!(
        png.len() > 40_000,
        "the screenshot is {} bytes: is the page empty?",
        png.len()
    );
}
