//! The fleet report as markdown: a CI job summary or a pinned issue, with the same
//! sections and facts as the page (each cluster's workers in a `<details>`, as GitHub
//! and GitLab fold them).

use super::{ClusterReport, FleetReport, WorkerReport};

/// The report as markdown.
pub fn render(report: &FleetReport) -> String {
    let mut out = format!("# Fleet\n\n{}\n", report.summary_line());
    grid(report, &mut out);
    versions(report, &mut out);
    images(report, &mut out);
    pools(report, &mut out);
    resources(report, &mut out);
    workers(report, &mut out);
    orphans(report, &mut out);
    out
}

/// A table cell: no pipe or line break may end it early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn table(out: &mut String, headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    out.push_str(&format!("\n| {} |\n", headers.join(" | ")));
    out.push_str(&format!("|{}\n", " --- |".repeat(headers.len())));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|text| cell(text)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
}

/// The distinct cluster names, the grid's columns.
pub(super) fn cluster_names(report: &FleetReport) -> Vec<&str> {
    let names: std::collections::BTreeSet<&str> = report.clusters().map(|(_, cluster)| cluster.name.as_str()).collect();
    names.into_iter().collect()
}

/// One grid cell: workers, chart versions (marked when behind), rendered state.
pub(super) fn grid_cell(cluster: &ClusterReport) -> String {
    let installed = cluster.workers.iter().filter(|worker| worker.installed).count();
    let behind = if cluster.behind { " (behind)" } else { "" };
    format!(
        "{installed} of {} workers; chart {}{behind}; {}",
        cluster.workers.len(),
        cluster.chart_versions.join(", "),
        cluster.rendered.text()
    )
}

fn grid(report: &FleetReport, out: &mut String) {
    out.push_str("\n## Environments and clusters\n");
    let names = cluster_names(report);
    let mut headers = vec!["Environment"];
    headers.extend(names.iter().copied());
    let rows = report.environments.iter().map(|environment| {
        let mut row = vec![environment.name.clone()];
        row.extend(names.iter().map(|name| {
            let cluster = environment.clusters.iter().find(|cluster| cluster.name == *name);
            cluster.map_or_else(|| "-".to_string(), grid_cell)
        }));
        row
    });
    table(out, &headers, rows);
}

fn versions(report: &FleetReport, out: &mut String) {
    out.push_str("\n## Chart versions\n");
    let newest = report.summary.chart_versions.last().cloned().unwrap_or_default();
    out.push_str(&format!("\nNewest in use: {newest}.\n"));
    let rows = report.environments.iter().map(|environment| {
        let mark = if environment.behind { "behind" } else { "newest" };
        vec![
            environment.name.clone(),
            environment.chart_versions.join(", "),
            mark.to_string(),
        ]
    });
    table(out, &["Environment", "Chart versions", "Against the newest"], rows);
}

fn images(report: &FleetReport, out: &mut String) {
    out.push_str("\n## Images\n");
    let rows = report.images.iter().map(|image| {
        let clusters: Vec<String> = image
            .clusters
            .iter()
            .map(|use_| format!("{} ({})", use_.cluster, use_.workers))
            .collect();
        vec![
            image.kind.to_string(),
            format!("`{}`", image.image),
            clusters.join(", "),
        ]
    });
    table(out, &["Kind", "Image", "Clusters (workers)"], rows);
}

fn pools(report: &FleetReport, out: &mut String) {
    out.push_str("\n## Pools\n");
    let rows = report.pools.iter().map(|pool| {
        let served = match pool.served() {
            "several clusters" => "several clusters".to_string(),
            other => format!("**{other}**"),
        };
        vec![
            pool.environment.clone(),
            pool.name.clone(),
            served,
            pool.clusters.join(", "),
            pool.workers.to_string(),
            pool.idle_workers.to_string(),
        ]
    });
    table(
        out,
        &[
            "Environment",
            "Pool",
            "Served by",
            "Clusters",
            "Workers",
            "Idle (uninstalled or disabled)",
        ],
        rows,
    );
}

fn resources(report: &FleetReport, out: &mut String) {
    out.push_str("\n## Script pods and storage per cluster\n\nOne script pod of each installed worker, summed.\n");
    let rows = report.clusters().map(|(environment, cluster)| {
        let pods = &cluster.script_pods;
        vec![
            format!("{}/{}", environment.name, cluster.name),
            pods.requests.cpu.text(),
            pods.requests.memory.text(),
            pods.requests.ephemeral_storage.text(),
            pods.limits.cpu.text(),
            pods.limits.memory.text(),
            pods.limits.ephemeral_storage.text(),
            cluster.storage.text(),
        ]
    });
    let headers = [
        "Cluster",
        "CPU requests",
        "Memory requests",
        "Ephemeral requests",
        "CPU limits",
        "Memory limits",
        "Ephemeral limits",
        "Storage",
    ];
    table(out, &headers, rows);
}

/// A field's value and origin, `value (file:line)`.
fn field_text(worker: &WorkerReport, path: &str) -> String {
    worker.field(path).map_or_else(
        || "-".to_string(),
        |field| format!("{} ({})", field.value, field.origin_text()),
    )
}

/// The cells of one worker row.
fn worker_row(worker: &WorkerReport, status_asked: bool) -> Vec<String> {
    let sized = |paths: &[&str]| {
        let parts: Vec<String> = paths
            .iter()
            .filter_map(|path| worker.field(path))
            .map(|field| format!("{} {} ({})", field.label(), field.value, field.origin_text()))
            .collect();
        parts.join(", ")
    };
    let own: Vec<String> = worker
        .own
        .iter()
        .map(|field| format!("{}={} ({})", field.path, field.value, field.origin_text()))
        .collect();
    let status = match (&worker.status, status_asked) {
        (Some(status), _) => status.text(),
        (None, true) => "not registered".to_string(),
        (None, false) => "not asked".to_string(),
    };
    let name = match worker.state() {
        Some(state) => format!("{} ({state})", worker.name),
        None => worker.name.clone(),
    };
    vec![
        name,
        worker.namespace.clone().unwrap_or_default(),
        worker.chart_version.clone(),
        worker.pools.join(", "),
        field_text(worker, "agent.image"),
        field_text(worker, "scriptPods.worker.image"),
        sized(&super::REQUESTS),
        sized(&super::LIMITS),
        sized(&["persistence.size", "persistence.storageClassName"]),
        own.join(", "),
        status,
    ]
}

fn workers(report: &FleetReport, out: &mut String) {
    out.push_str("\n## Workers\n\nEach value with the file and line that set it. *Set on the worker* is how a worker differs from its cluster's defaults: what its own entry sets.\n");
    for (environment, cluster) in report.clusters() {
        out.push_str(&format!(
            "\n<details><summary>{}/{}: {} workers</summary>\n",
            environment.name,
            cluster.name,
            cluster.workers.len()
        ));
        let rows = cluster
            .workers
            .iter()
            .map(|worker| worker_row(worker, report.status_asked));
        table(out, &super::WORKER_HEADERS, rows);
        out.push_str("\n</details>\n");
    }
}

fn orphans(report: &FleetReport, out: &mut String) {
    out.push_str("\n## Octopus\n\n");
    if !report.status_asked {
        out.push_str("Status was not asked: run `workergen report --status` (with the API keys `status` reads) for each worker's health, version and findings.\n");
        return;
    }
    if report.orphans.is_empty() {
        out.push_str("Every worker registered in Octopus is declared.\n");
        return;
    }
    out.push_str("Registered in Octopus, declared nowhere:\n");
    let rows = report
        .orphans
        .iter()
        .map(|orphan| vec![orphan.name.clone(), orphan.text()]);
    table(out, &["Name", "Status"], rows);
}
