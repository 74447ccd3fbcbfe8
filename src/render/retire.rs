//! Retiring a cluster file safely: the folder an engine applies for a cluster file must
//! not vanish while it still installs workers.
//!
//! Removing the last worker of a cluster file leaves its folder building to nothing,
//! so the engine prunes the workers. Deleting the cluster file (or its environment)
//! removes the folder and the file's parent too; when the folder still installs
//! workers, what the engine then does depends on how its parent was set up (Flux
//! prunes through the parent's inventory, Argo CD through its finalizer, a hand-made
//! parent may do neither), so `render` refuses it: retire the workers in one change,
//! delete the declaration in a later one.

use std::path::{Path, PathBuf};

use super::output::{Files, MARKER};
use super::parents::{ARGOCD_FOLDER, FLUX_FOLDER};

/// The manifests that install a worker, in its folder.
const WORKER_MANIFESTS: [&str; 2] = ["helmrelease.yaml", "application.yaml"];

/// A cluster folder on disk that the render would delete while it installs workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Retired {
    /// `<env>/<cluster>`, relative to the output folder.
    pub(crate) folder: String,
    /// The workers its folder still installs, by name.
    pub(crate) workers: Vec<String>,
}

/// The cluster folders under `root` (inside `scope`) that hold workergen's worker
/// manifests and that `wanted` no longer has: [`retired_in`] of the manifests found
/// in the folders it no longer has.
pub(crate) fn retired(root: &Path, wanted: &Files, scope: &[PathBuf]) -> std::io::Result<Vec<Retired>> {
    let mut found = Vec::new();
    // `_crds/`, `_flux/` and `_argocd/` hold no cluster folder: not listed at all.
    for environment in folders(root)?.into_iter().filter(|name| !name.starts_with('_')) {
        for cluster in folders(&root.join(&environment))? {
            let relative = Path::new(&environment).join(&cluster);
            let in_scope = scope.iter().any(|folder| relative.starts_with(folder));
            if in_scope && !is_wanted(wanted, &relative) {
                found.extend(manifest_heads(root, &environment, &cluster)?);
            }
        }
    }
    Ok(retired_in(&found, wanted))
}

/// The worker manifests in the cluster folder `<environment>/<cluster>` under `root`,
/// by their path relative to `root`, each with its first bytes (enough for the marker).
fn manifest_heads(root: &Path, environment: &str, cluster: &str) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let folder = root.join(environment).join(cluster);
    let mut heads = Vec::new();
    for worker in folders(&folder)? {
        for file in WORKER_MANIFESTS {
            let mut head = vec![0u8; MARKER.len()];
            let read = std::fs::File::open(folder.join(&worker).join(file))
                .and_then(|mut file| std::io::Read::read(&mut file, &mut head));
            if let Ok(read) = read {
                head.truncate(read);
                heads.push((format!("{environment}/{cluster}/{worker}/{file}"), head));
            }
        }
    }
    Ok(heads)
}

/// Whether any wanted file is in `folder`.
fn is_wanted(wanted: &Files, folder: &Path) -> bool {
    wanted
        .range::<Path, _>((std::ops::Bound::Included(folder), std::ops::Bound::Unbounded))
        .next()
        .is_some_and(|(path, _)| path.starts_with(folder))
}

/// The names of the real folders (not links) in `folder`, sorted; none if it is absent.
fn folders(folder: &Path) -> std::io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// The cluster folders among the committed `found` files (paths relative to the output
/// folder, with their bytes) that hold workergen's worker manifests and that `wanted`
/// no longer has: what a commit of `wanted` over them would delete.
pub(crate) fn retired_in(found: &[(String, Vec<u8>)], wanted: &Files) -> Vec<Retired> {
    let mut by_folder: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (path, bytes) in found {
        let parts: Vec<&str> = path.split('/').collect();
        let [environment, cluster, worker, file] = parts[..] else {
            continue;
        };
        let folder = format!("{environment}/{cluster}");
        let installs = !environment.starts_with('_')
            && !cluster.starts_with('_')
            && WORKER_MANIFESTS.contains(&file)
            && bytes.starts_with(MARKER.as_bytes())
            && !is_wanted(wanted, Path::new(&folder));
        if installs {
            by_folder.entry(folder).or_default().push(worker.to_string());
        }
    }
    by_folder
        .into_iter()
        .map(|(folder, mut workers)| {
            // A worker with both manifests (an engine switched) is one worker.
            workers.dedup();
            Retired { folder, workers }
        })
        .collect()
}

/// The error (message and hint) for `retired` folders, if any; `output` is the output
/// folder as configured.
pub(crate) fn message(output: &str, retired: &[Retired]) -> Option<(String, String)> {
    if retired.is_empty() {
        return None;
    }
    let list: Vec<String> = retired
        .iter()
        .map(|retired| format!("`{output}/{}` ({})", retired.folder, retired.workers.join(", ")))
        .collect();
    let message = format!(
        "the cluster file of {} is gone, but its folder still installs workers: deleting it now could leave them running",
        list.join(", ")
    );
    Some((message, steps(retired)))
}

/// The error (message and hint) when `rendered` would delete a folder under `root`
/// that still installs workers (see [`retired`]), unless `force`; `output` is the output
/// folder as configured.
pub(crate) fn refusal(
    root: &Path,
    output: &str,
    rendered: &super::Rendered,
    force: bool,
) -> std::io::Result<Option<(String, String)>> {
    if force {
        return Ok(None);
    }
    Ok(message(output, &retired(root, &rendered.files, &rendered.scope)?))
}

/// What to do instead, for the error.
fn steps(retired: &[Retired]) -> String {
    let folders: Vec<&str> = retired.iter().map(|retired| retired.folder.as_str()).collect();
    format!(
        "retire in two changes: first keep the cluster file(s) with no workers (remove them, or set `installed: false`) and merge that, so the engine uninstalls them; then delete the file(s) in a later change. `--force` deletes {} now, leaving what the engine does to the parent ({FLUX_FOLDER}/ or {ARGOCD_FOLDER}/) that applied them",
        folders.join(", ")
    )
}
