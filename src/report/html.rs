//! The fleet page: one self-contained HTML file. Its style and its one script are inline
//! and nothing is fetched from anywhere, so it opens from a CI artifact, a Pages site or
//! a laptop alike. Every row is in the markup: with scripts off the page reads whole,
//! and the script only adds the filters (which a URL hash such as `#p=Terraform%20Workers`
//! also sets). Light and dark follow `prefers-color-scheme`; printing opens every fold.
//!
//! At 10,000 workers the page must still open in about a second: each cluster's worker
//! rows sit in a `<details>` (closed above [`OPEN_UP_TO`] workers), which Chromium neither
//! lays out nor paints until opened, and a row's origins are a file name and line, not a
//! path (its cluster's files are named once, above its rows).

use std::fmt::Write as _;

use super::{ClusterReport, EnvironmentReport, Field, FleetReport, WorkerReport};

/// The most workers for which the worker folds start open.
const OPEN_UP_TO: usize = 200;

const STYLE: &str = r"
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--head:#f6f8fa;--warn:#9a3412;--warnbg:#fff1e6;--ok:#116329}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9da7b3;--line:#30363d;--head:#161b22;--warn:#ffb77c;--warnbg:#3a1d0b;--ok:#56d364}}
body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:0 1.5rem 2rem;max-width:110rem}
h1{font-size:1.5rem;margin:1rem 0 .25rem}h2{font-size:1.2rem;margin:1.75rem 0 .5rem;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;margin:.25rem 0 .75rem}th,td{border:1px solid var(--line);padding:.2rem .45rem;text-align:left;vertical-align:top}
thead th{background:var(--head)}small{color:var(--muted);display:block;font-size:.78rem}
.warn{color:var(--warn);background:var(--warnbg);font-weight:600}.ok{color:var(--ok)}
nav a{margin-right:1rem;color:inherit}form{margin:.75rem 0;display:flex;gap:1rem;flex-wrap:wrap}
label{font-weight:600}select{margin-left:.3rem}summary{cursor:pointer;font-weight:600;margin:.4rem 0}
code{font-size:.85rem}
@media print{nav,form{display:none}body{max-width:none;padding:0}details>summary{list-style:none}table{font-size:.7rem}}
";

/// Filters: a URL hash or the form sets them; an element is shown when, for every
/// filter set, it carries no such attribute or names the value in it (`|`-separated).
const SCRIPT: &str = r"
(function(){
var f=document.getElementById('filters'),keys=['e','c','p','v','f'];f.hidden=false;
function apply(){var want={},hash=[];
keys.forEach(function(k){var v=f.elements[k].value;if(v){want[k]=v;hash.push(k+'='+encodeURIComponent(v));}});
history.replaceState(null,'','#'+hash.join('&'));
document.querySelectorAll('[data-e],[data-p]').forEach(function(el){var show=true;
for(var k in want){var a=el.getAttribute('data-'+k);if(a!==null&&a.split('|').indexOf(want[k])<0){show=false;}}
el.hidden=!show;if(show&&hash.length&&el.tagName==='DETAILS'){el.open=true;}});}
location.hash.slice(1).split('&').forEach(function(part){var at=part.indexOf('=');
if(at>0&&f.elements[part.slice(0,at)]){f.elements[part.slice(0,at)].value=decodeURIComponent(part.slice(at+1));}});
f.addEventListener('change',apply);if(location.hash.length>1){apply();}
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
})();
";

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page.
pub fn render(report: &FleetReport) -> String {
    let mut out = String::with_capacity(4096 + report.summary.workers * 900);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n<title>Fleet: workergen report</title>\n");
    let _ = write!(
        out,
        "<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>Fleet</h1>\n"
    );
    let _ = writeln!(out, "<p id=\"summary\">{}</p>", escape(&report.summary_line()));
    out.push_str("<nav aria-label=\"Sections\"><a href=\"#grid\">Environments and clusters</a><a href=\"#versions\">Chart versions</a><a href=\"#images\">Images</a><a href=\"#pools\">Pools</a><a href=\"#resources\">Script pods</a><a href=\"#workers\">Workers</a><a href=\"#octopus\">Octopus</a></nav>\n</header>\n");
    filters(report, &mut out);
    out.push_str("<main>\n");
    grid(report, &mut out);
    versions(report, &mut out);
    images(report, &mut out);
    pools(report, &mut out);
    resources(report, &mut out);
    workers(report, &mut out);
    octopus(report, &mut out);
    out.push_str("</main>\n<footer><p><small>Written by <code>workergen report</code>; every value on this page comes from the declarations in Git (and, with <code>--status</code>, from Octopus).</small></p></footer>\n");
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// The filter form, hidden until the script shows it (with scripts off it would do
/// nothing).
fn filters(report: &FleetReport, out: &mut String) {
    let environments: Vec<String> = report
        .environments
        .iter()
        .map(|environment| environment.name.clone())
        .collect();
    let clusters: Vec<String> = super::markdown::cluster_names(report)
        .into_iter()
        .map(str::to_string)
        .collect();
    let pools: Vec<String> = report
        .pools
        .iter()
        .map(|pool| pool.name.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let versions = report.summary.chart_versions.clone();
    out.push_str("<form id=\"filters\" hidden aria-label=\"Filters\">\n");
    select(out, "e", "Environment", &environments);
    select(out, "c", "Cluster", &clusters);
    select(out, "p", "Pool", &pools);
    select(out, "v", "Chart version", &versions);
    if report.status_asked {
        let mut kinds: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let all = report.clusters().flat_map(|(_, cluster)| &cluster.workers);
        for status in all.filter_map(|worker| worker.status.as_ref()) {
            kinds.extend(status.findings.iter().map(|finding| finding.kind.to_string()));
        }
        kinds.insert("none".to_string());
        select(out, "f", "Finding", &kinds.into_iter().collect::<Vec<_>>());
    } else {
        out.push_str("<input type=\"hidden\" name=\"f\" value=\"\">\n");
    }
    out.push_str("</form>\n");
}

fn select(out: &mut String, key: &str, label: &str, options: &[String]) {
    let _ = write!(
        out,
        "<label>{label}<select name=\"{key}\"><option value=\"\">all</option>"
    );
    for option in options {
        let option = escape(option);
        let _ = write!(out, "<option>{option}</option>");
    }
    out.push_str("</select></label>\n");
}

/// The filter attributes of a set of workers: environment, cluster, pools, chart
/// versions and (with `--status`) finding kinds.
/// A worker row leaves out `place` (its environment and cluster): its fold has them, and
/// at 10,000 rows the bytes count.
fn data(place: Option<(&str, &str)>, workers: &[&WorkerReport], status_asked: bool) -> String {
    let mut pools = std::collections::BTreeSet::new();
    let mut versions = std::collections::BTreeSet::new();
    let mut findings = std::collections::BTreeSet::new();
    for worker in workers {
        pools.extend(worker.pools.iter().map(String::as_str));
        versions.insert(worker.chart_version.as_str());
        match &worker.status {
            Some(status) if !status.findings.is_empty() => {
                findings.extend(status.findings.iter().map(|finding| finding.kind));
            }
            _ => {
                findings.insert("none");
            }
        }
    }
    let join = |set: std::collections::BTreeSet<&str>| escape(&set.into_iter().collect::<Vec<_>>().join("|"));
    let mut out = match place {
        Some((environment, cluster)) => format!(" data-e=\"{}\" data-c=\"{}\"", escape(environment), escape(cluster)),
        None => String::new(),
    };
    let _ = write!(out, " data-p=\"{}\" data-v=\"{}\"", join(pools), join(versions));
    if status_asked {
        let _ = write!(out, " data-f=\"{}\"", join(findings));
    }
    out
}

fn section(out: &mut String, id: &str, title: &str) {
    let _ = write!(
        out,
        "<section id=\"{id}\" aria-labelledby=\"{id}-title\">\n<h2 id=\"{id}-title\">{title}</h2>\n"
    );
}

fn head(out: &mut String, headers: &[&str]) {
    out.push_str("<table>\n<thead><tr>");
    for header in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(header));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

/// The most distinct cluster names the grid shows as columns; past that (clusters named
/// per environment), each environment lists its clusters in one cell, or the table
/// would be thousands of mostly empty cells wide.
const GRID_COLUMNS: usize = 20;

fn grid(report: &FleetReport, out: &mut String) {
    section(out, "grid", "Environments and clusters");
    out.push_str("<p>Installed of declared workers per cluster, the chart version they run (behind the newest in use stands out), and whether the committed output matches a fresh render.</p>\n");
    let names = super::markdown::cluster_names(report);
    let columns = names.len() <= GRID_COLUMNS;
    let mut headers = vec!["Environment"];
    if columns {
        headers.extend(names.iter().copied());
    } else {
        headers.push("Clusters");
    }
    head(out, &headers);
    for environment in &report.environments {
        let _ = write!(
            out,
            "<tr data-e=\"{0}\"><th scope=\"row\">{0}</th>",
            escape(&environment.name)
        );
        if columns {
            for name in &names {
                match environment.clusters.iter().find(|cluster| cluster.name == *name) {
                    Some(cluster) => grid_cell(out, cluster, false),
                    None => out.push_str("<td>-</td>"),
                }
            }
        } else {
            out.push_str("<td>");
            for cluster in &environment.clusters {
                grid_cell(out, cluster, true);
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// One cluster of the grid: a cell of its own, or (`named`) a line in its environment's.
fn grid_cell(out: &mut String, cluster: &ClusterReport, named: bool) {
    let warn = cluster.behind || matches!(cluster.rendered, super::Rendered::Stale { .. });
    let class = if warn { " class=\"warn\"" } else { "" };
    let text = escape(&super::markdown::grid_cell(cluster));
    if named {
        let _ = write!(out, "<div{class}><b>{}</b>: {text}</div>", escape(&cluster.name));
    } else {
        let _ = write!(out, "<td{class}>{text}</td>");
    }
}

fn versions(report: &FleetReport, out: &mut String) {
    section(out, "versions", "Chart versions");
    let newest = report.summary.chart_versions.last().cloned().unwrap_or_default();
    let _ = writeln!(out, "<p>Newest in use: <strong>{}</strong>.</p>", escape(&newest));
    head(out, &["Environment", "Chart versions", "Against the newest"]);
    for environment in &report.environments {
        let mark = if environment.behind {
            "<td class=\"warn\">behind</td>"
        } else {
            "<td class=\"ok\">newest</td>"
        };
        let _ = writeln!(
            out,
            "<tr data-e=\"{0}\"><th scope=\"row\">{0}</th><td>{1}</td>{mark}</tr>",
            escape(&environment.name),
            escape(&environment.chart_versions.join(", "))
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

fn images(report: &FleetReport, out: &mut String) {
    section(out, "images", "Images");
    head(out, &["Image", "Kind", "Clusters (workers)"]);
    for image in &report.images {
        let clusters: Vec<String> = image
            .clusters
            .iter()
            .map(|use_| format!("{} ({})", use_.cluster, use_.workers))
            .collect();
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td>{}</td></tr>",
            escape(&image.image),
            image.kind,
            escape(&clusters.join(", "))
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

fn pools(report: &FleetReport, out: &mut String) {
    section(out, "pools", "Pools");
    out.push_str("<p>Every pool a declared worker names (each environment's Octopus has its own), and the clusters whose installed, enabled workers serve it. A pool served by one cluster only, or by none, stands out.</p>\n");
    head(
        out,
        &[
            "Environment",
            "Pool",
            "Served by",
            "Clusters",
            "Workers",
            "Idle (uninstalled or disabled)",
        ],
    );
    for pool in &report.pools {
        let served = pool.served();
        let class = if pool.clusters.len() < 2 { " class=\"warn\"" } else { "" };
        let _ = writeln!(
            out,
            "<tr data-e=\"{4}\" data-p=\"{0}\"><td>{4}</td><th scope=\"row\">{0}</th><td{class}>{served}</td><td>{1}</td><td>{2}</td><td>{3}</td></tr>",
            escape(&pool.name),
            escape(&pool.clusters.join(", ")),
            pool.workers,
            pool.idle_workers,
            escape(&pool.environment)
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

fn workers_of(cluster: &ClusterReport) -> Vec<&WorkerReport> {
    cluster.workers.iter().collect()
}

fn resources(report: &FleetReport, out: &mut String) {
    section(out, "resources", "Script pods and storage per cluster");
    out.push_str("<p>One script pod of each installed worker, summed: what a burst of deployments asks of the cluster's autoscaler. <q>unset</q> counts the workers that set no such request or limit.</p>\n");
    let headers = [
        "Cluster",
        "CPU requests",
        "Memory requests",
        "Ephemeral-storage requests",
        "CPU limits",
        "Memory limits",
        "Ephemeral-storage limits",
        "Storage (persistent volumes)",
    ];
    let open = if report.summary.workers <= OPEN_UP_TO {
        " open"
    } else {
        ""
    };
    for environment in &report.environments {
        // Per environment, folded in a large fleet: a closed fold is neither laid out
        // nor painted, and a thousand clusters' rows are most of the page's layout.
        let _ = writeln!(
            out,
            "<details data-e=\"{0}\"{open}><summary>{0}: {1} clusters</summary>",
            escape(&environment.name),
            environment.clusters.len()
        );
        head(out, &headers);
        for cluster in &environment.clusters {
            resources_row(report, environment, cluster, out);
        }
        out.push_str("</tbody></table>\n</details>\n");
    }
    out.push_str("</section>\n");
}

fn resources_row(report: &FleetReport, environment: &EnvironmentReport, cluster: &ClusterReport, out: &mut String) {
    let pods = &cluster.script_pods;
    let data = data(
        Some((&environment.name, &cluster.name)),
        &workers_of(cluster),
        report.status_asked,
    );
    let _ = write!(
        out,
        "<tr{data}><th scope=\"row\">{}/{}</th>",
        escape(&environment.name),
        escape(&cluster.name)
    );
    for sum in [
        &pods.requests.cpu,
        &pods.requests.memory,
        &pods.requests.ephemeral_storage,
        &pods.limits.cpu,
        &pods.limits.memory,
        &pods.limits.ephemeral_storage,
        &cluster.storage,
    ] {
        let _ = write!(out, "<td>{}</td>", escape(&sum.text()));
    }
    out.push_str("</tr>\n");
}

fn workers(report: &FleetReport, out: &mut String) {
    section(out, "workers", "Workers");
    out.push_str("<p>Each worker's effective values, each with the file and line that set it (as <code>workergen explain</code> shows them). <em>Set on the worker</em> is how it differs from its cluster's defaults: what its own entry sets.</p>\n");
    let open = if report.summary.workers <= OPEN_UP_TO {
        " open"
    } else {
        ""
    };
    for (environment, cluster) in report.clusters() {
        cluster_workers(report, environment, cluster, open, out);
    }
    out.push_str("</section>\n");
}

fn cluster_workers(
    report: &FleetReport,
    environment: &EnvironmentReport,
    cluster: &ClusterReport,
    open: &str,
    out: &mut String,
) {
    let data = data(
        Some((&environment.name, &cluster.name)),
        &workers_of(cluster),
        report.status_asked,
    );
    let _ = writeln!(
        out,
        "<details{data}{open}><summary>{}/{}: {} workers</summary>",
        escape(&environment.name),
        escape(&cluster.name),
        cluster.workers.len()
    );
    let _ = writeln!(
        out,
        "<p><small>Files: workergen.yaml, environments/{0}/environment.yaml, environments/{0}/{1}.yaml</small></p>",
        escape(&environment.name),
        escape(&cluster.name)
    );
    head(out, &super::WORKER_HEADERS);
    for worker in &cluster.workers {
        worker_row(report, worker, out);
    }
    out.push_str("</tbody></table>\n</details>\n");
}

/// One value and, below it, where it came from.
fn value(out: &mut String, field: &Field, label: bool) {
    if label {
        let _ = write!(out, "{} ", escape(field.label()));
    }
    let _ = write!(
        out,
        "{}<small>{}</small>",
        escape(&field.value),
        escape(&field.origin_text())
    );
}

fn cell(out: &mut String, worker: &WorkerReport, paths: &[&str], label: bool) {
    out.push_str("<td>");
    for path in paths {
        if let Some(field) = worker.field(path) {
            value(out, field, label);
        }
    }
    out.push_str("</td>");
}

fn worker_row(report: &FleetReport, worker: &WorkerReport, out: &mut String) {
    let data = data(None, &[worker], report.status_asked);
    let state = worker
        .state()
        .map(|state| format!("<small class=\"warn\">{state}</small>"))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<tr{data}><th scope=\"row\">{}{state}</th><td>{}</td><td>{}</td><td>{}</td>",
        escape(&worker.name),
        escape(worker.namespace.as_deref().unwrap_or("")),
        escape(&worker.chart_version),
        escape(&worker.pools.join(", "))
    );
    cell(out, worker, &["agent.image"], false);
    cell(out, worker, &["scriptPods.worker.image"], false);
    cell(out, worker, &super::REQUESTS, true);
    cell(out, worker, &super::LIMITS, true);
    cell(
        out,
        worker,
        &["persistence.size", "persistence.storageClassName"],
        false,
    );
    out.push_str("<td>");
    for field in &worker.own {
        let _ = write!(out, "{}=", escape(&field.path));
        value(out, field, false);
    }
    out.push_str("</td><td>");
    match (&worker.status, report.status_asked) {
        (Some(status), _) => {
            let class = if status.findings.is_empty() {
                ""
            } else {
                " class=\"warn\""
            };
            let _ = write!(out, "<span{class}>{}</span>", escape(&status.text()));
        }
        (None, true) => out.push_str("not registered"),
        (None, false) => out.push_str("not asked"),
    }
    out.push_str("</td></tr>\n");
}

fn octopus(report: &FleetReport, out: &mut String) {
    section(out, "octopus", "Octopus");
    if !report.status_asked {
        out.push_str("<p>Status was not asked: <code>workergen report --status</code> (with the API keys <code>workergen status</code> reads) adds each worker's health, version and findings.</p>\n</section>\n");
        return;
    }
    if report.orphans.is_empty() {
        out.push_str("<p>Every worker registered in Octopus is declared.</p>\n</section>\n");
        return;
    }
    out.push_str("<p>Registered in Octopus, declared nowhere:</p>\n");
    head(out, &["Name", "Status"]);
    for orphan in &report.orphans {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            escape(&orphan.name),
            escape(&orphan.text())
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}
