//! Reads a config repository from a [`FileTree`] into parsed YAML trees.
//!
//! Finds `workergen.yaml`, every `environments/<env>/environment.yaml` and every
//! cluster file beside it, reads them within the size limit and parses them (in
//! parallel). Problems with the input become diagnostics; only a failure to read
//! the tree itself is an error.

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Report};
use crate::source::{FileId, Loc, Sources};
use crate::tree::{join, FileTree};
use crate::yaml::{self, Limits, Node};

/// The largest declaration file read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

pub const REPO_FILE: &str = "workergen.yaml";
pub const ENVIRONMENTS: &str = "environments";
pub const ENVIRONMENT_FILE: &str = "environment.yaml";

/// A parsed declaration file; `root` is `None` when it could not be parsed.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub file: FileId,
    pub root: Option<Node>,
}

/// One environment folder and the files in it.
#[derive(Debug, Clone)]
pub struct EnvironmentFiles {
    pub name: String,
    pub environment: Option<Parsed>,
    /// Cluster name (the file stem) and file, sorted by name.
    pub clusters: Vec<(String, Parsed)>,
}

/// Everything read from a config repository.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub sources: Sources,
    pub repo: Option<Parsed>,
    pub environments: Vec<EnvironmentFiles>,
}

enum Role {
    Repo,
    Environment(usize),
    Cluster(usize, String),
}

/// Reads and parses the declarations; input problems go to `report`.
pub fn load(tree: &dyn FileTree, report: &mut Report) -> std::io::Result<Loaded> {
    let mut paths = vec![(REPO_FILE.to_string(), Role::Repo)];
    let mut environments = Vec::new();
    let mut loose = Vec::new();
    let mut broken_links = Vec::new();
    for entry in tree.list(ENVIRONMENTS)?.unwrap_or_default() {
        let path = join(ENVIRONMENTS, &entry.name);
        if !entry.is_dir && (entry.name.ends_with(".yaml") || entry.name.ends_with(".yml")) {
            loose.push(path);
            continue;
        }
        // Listed even when not a folder: a dangling link, or one leaving the
        // repository, is an error there rather than a folder silently skipped.
        let files = match tree.list(&path) {
            Ok(Some(files)) if entry.is_dir => files,
            Ok(_) => continue,
            Err(error) => match crate::tree::LinkError::of(&error) {
                Some(link) => {
                    broken_links.push((path, link.clone()));
                    continue;
                }
                None => return Err(error),
            },
        };
        let index = environments.len();
        environments.push(EnvironmentFiles {
            name: entry.name.clone(),
            environment: None,
            clusters: Vec::new(),
        });
        for file in files {
            let file_path = join(&path, &file.name);
            if file.is_dir {
                continue;
            }
            if file.name == ENVIRONMENT_FILE {
                paths.push((file_path, Role::Environment(index)));
            } else if let Some(stem) = file.name.strip_suffix(".yaml") {
                paths.push((file_path, Role::Cluster(index, stem.to_string())));
            } else if file.name.ends_with(".yml") {
                loose.push(file_path);
            }
        }
    }

    let texts: Vec<_> = paths
        .par_iter()
        .enumerate()
        .map(|(index, (path, _))| read_and_parse(tree, path, FileId(index as u32)))
        .collect::<std::io::Result<_>>()?;

    let mut sources = Sources::new();
    let mut repo = None;
    for ((path, role), read) in paths.into_iter().zip(texts) {
        let id = sources.add(path.clone(), read.text);
        if let Some(diagnostic) = read.problem {
            report.push(diagnostic);
        }
        let parsed = read.exists.then_some(Parsed {
            file: id,
            root: read.root,
        });
        match role {
            Role::Repo => repo = parsed,
            Role::Environment(index) => environments[index].environment = parsed,
            Role::Cluster(index, name) => environments[index].clusters.extend(parsed.map(|p| (name, p))),
        }
    }

    if repo.is_none() {
        report.push(
            Diagnostic::error(None, format!("no `{REPO_FILE}` in {}", tree.describe())).with_hint(
                "run workergen in a config repository (or pass `-C DIR`), or create one with `workergen init`",
            ),
        );
    }
    for (path, link) in broken_links {
        let id = sources.add(path, String::new());
        report.push(Diagnostic::error(Loc::new(id, 1, 1), link.to_string()).with_hint(link.hint()));
    }
    for path in loose {
        let id = sources.add(path.clone(), String::new());
        report.push(
            Diagnostic::error(Loc::new(id, 1, 1), format!("`{path}` is not read"))
                .with_hint("cluster files are `environments/<env>/<cluster>.yaml`, with the `.yaml` ending"),
        );
    }
    for environment in &environments {
        if environment.environment.is_none() {
            // At the folder, so a command scoped to another environment leaves it out.
            let folder = sources.add(format!("{ENVIRONMENTS}/{}/", environment.name), String::new());
            report.push(
                Diagnostic::error(
                    Loc::new(folder, 1, 1),
                    format!(
                        "environment folder `{ENVIRONMENTS}/{}` has no `{ENVIRONMENT_FILE}`",
                        environment.name
                    ),
                )
                .with_hint("every environment folder holds an `environment.yaml` with its `octopus:` server"),
            );
        }
    }
    Ok(Loaded {
        sources,
        repo,
        environments,
    })
}

struct Read {
    exists: bool,
    text: String,
    root: Option<Node>,
    problem: Option<Diagnostic>,
}

fn read_and_parse(tree: &dyn FileTree, path: &str, id: FileId) -> std::io::Result<Read> {
    let bytes = match tree.read(path, MAX_FILE_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(problem(false, String::new(), None)),
        Err(error) if error.kind() == std::io::ErrorKind::FileTooLarge => {
            let diagnostic = Diagnostic::error(
                Loc::new(id, 1, 1),
                format!("file is larger than {} KiB", MAX_FILE_BYTES / 1024),
            )
            .with_hint("split the cluster's workers over more cluster files");
            return Ok(problem(true, String::new(), Some(diagnostic)));
        }
        Err(error) if crate::tree::LinkError::of(&error).is_some() => {
            let link = crate::tree::LinkError::of(&error).expect("checked");
            let diagnostic = Diagnostic::error(Loc::new(id, 1, 1), link.to_string()).with_hint(link.hint());
            return Ok(problem(true, String::new(), Some(diagnostic)));
        }
        Err(error) => {
            return Err(std::io::Error::new(
                error.kind(),
                format!("cannot read `{path}`: {error}"),
            ))
        }
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(error) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let valid = &bytes[..error.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
            let diagnostic = Diagnostic::error(Loc::new(id, line as u32, col as u32), "file is not valid UTF-8")
                .with_hint("save the file as UTF-8");
            return Ok(problem(true, text, Some(diagnostic)));
        }
    };
    Ok(match yaml::parse(&text, id, Limits::default()) {
        Ok(root) => Read {
            exists: true,
            text,
            root: Some(root),
            problem: None,
        },
        Err(diagnostic) => problem(true, text, Some(diagnostic)),
    })
}

fn problem(exists: bool, text: String, problem: Option<Diagnostic>) -> Read {
    Read {
        exists,
        text,
        root: None,
        problem,
    }
}
