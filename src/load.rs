//! Reads a config repository from a [`FileTree`] into parsed YAML trees.
//!
//! Finds `workergen.yaml`, every `environments/<env>/environment.yaml` and every
//! cluster file beside it, reads them within the size limit and parses them (in
//! parallel). Problems with the input become diagnostics; only a failure to read
//! the tree itself is an error.

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Report};
use crate::source::{FileId, Loc, Sources};
use crate::tree::{join, Entry, FileTree, LinkError};
use crate::yaml::{self, Limits, Node};

/// The largest declaration file read.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

pub(crate) const REPO_FILE: &str = "workergen.yaml";
pub(crate) const ENVIRONMENTS: &str = "environments";
pub(crate) const ENVIRONMENT_FILE: &str = "environment.yaml";

/// A parsed declaration file; `root` is `None` when it could not be parsed.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub(crate) file: FileId,
    pub(crate) root: Option<Node>,
}

/// One environment folder and the files in it.
#[derive(Debug, Clone)]
pub(crate) struct EnvironmentFiles {
    pub(crate) name: String,
    pub(crate) environment: Option<Parsed>,
    /// Cluster name (the file stem) and file, sorted by name.
    pub(crate) clusters: Vec<(String, Parsed)>,
}

/// Everything read from a config repository.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub(crate) sources: Sources,
    pub(crate) repo: Option<Parsed>,
    pub(crate) environments: Vec<EnvironmentFiles>,
}

enum Role {
    Repo,
    Environment(usize),
    Cluster(usize, String),
}

/// The declaration files found in the tree, before any is read.
struct Listing {
    /// Each file to read and what it declares, the repository file first.
    paths: Vec<(String, Role)>,
    environments: Vec<EnvironmentFiles>,
    /// YAML files where none is read.
    loose: Vec<String>,
    /// Environment entries that are links which cannot be followed.
    broken_links: Vec<(String, LinkError)>,
    /// Folders inside an environment folder, where nothing is read.
    subfolders: Vec<String>,
    /// Whether `environments/` is there at all.
    has_environments: bool,
}

/// Reads and parses the declarations; input problems go to `report`.
pub fn load(tree: &dyn FileTree, report: &mut Report) -> std::io::Result<Loaded> {
    let Listing {
        paths,
        mut environments,
        loose,
        broken_links,
        subfolders,
        has_environments,
    } = list(tree)?;
    let reads = read_all(tree, &paths)?;
    let mut sources = Sources::new();
    let repo = assign_reads(paths, reads, &mut sources, &mut environments, report);
    if repo.is_none() {
        report_no_repo(tree, report);
    } else if !has_environments {
        // Not "0 environments: ok": `render` would then delete every rendered file.
        report.push(
            Diagnostic::error(None, format!("no `{ENVIRONMENTS}/` folder in {}", tree.describe())).with_hint(
                "declarations live in `environments/<env>/environment.yaml` and `environments/<env>/<cluster>.yaml`; `workergen init` creates an example",
            ),
        );
    }
    report_subfolders(subfolders, &mut sources, report);
    report_broken_links(broken_links, &mut sources, report);
    report_loose(loose, &mut sources, report);
    report_missing_environment_files(&environments, &mut sources, report);
    Ok(Loaded {
        sources,
        repo,
        environments,
    })
}

/// Finds the repository file and each environment folder's declaration files.
fn list(tree: &dyn FileTree) -> std::io::Result<Listing> {
    let mut listing = Listing {
        paths: vec![(REPO_FILE.to_string(), Role::Repo)],
        environments: Vec::new(),
        loose: Vec::new(),
        broken_links: Vec::new(),
        subfolders: Vec::new(),
        has_environments: false,
    };
    let entries = tree.list(ENVIRONMENTS)?;
    listing.has_environments = entries.is_some();
    for entry in entries.unwrap_or_default() {
        let path = join(ENVIRONMENTS, &entry.name);
        if !entry.is_dir && (entry.name.ends_with(".yaml") || entry.name.ends_with(".yml")) {
            listing.loose.push(path);
            continue;
        }
        // Listed even when not a folder: a dangling link, or one leaving the
        // repository, is an error there rather than a folder silently skipped.
        let files = match tree.list(&path) {
            Ok(Some(files)) if entry.is_dir => files,
            Ok(_) => continue,
            Err(error) => match LinkError::of(&error) {
                Some(link) => {
                    listing.broken_links.push((path, link.clone()));
                    continue;
                }
                None => return Err(error),
            },
        };
        listing.add_environment(&entry.name, &path, files);
    }
    Ok(listing)
}

impl Listing {
    /// Adds the environment folder at `path` and sorts its files by what they declare.
    fn add_environment(&mut self, name: &str, path: &str, files: Vec<Entry>) {
        let index = self.environments.len();
        self.environments.push(EnvironmentFiles {
            name: name.to_string(),
            environment: None,
            clusters: Vec::new(),
        });
        for file in files {
            let file_path = join(path, &file.name);
            if file.is_dir {
                self.subfolders.push(file_path);
                continue;
            }
            if file.name == ENVIRONMENT_FILE {
                self.paths.push((file_path, Role::Environment(index)));
            } else if let Some(stem) = file.name.strip_suffix(".yaml") {
                self.paths.push((file_path, Role::Cluster(index, stem.to_string())));
            } else if file.name.ends_with(".yml") {
                self.loose.push(file_path);
            }
        }
    }
}

/// Reads and parses every listed file in parallel; the `n`th path gets `FileId(n)`.
fn read_all(tree: &dyn FileTree, paths: &[(String, Role)]) -> std::io::Result<Vec<Read>> {
    paths
        .par_iter()
        .enumerate()
        .map(|(index, (path, _))| read_and_parse(tree, path, FileId(index as u32)))
        .collect()
}

/// Adds each read file to `sources` and gives it to the declaration its role names;
/// returns the repository file.
fn assign_reads(
    paths: Vec<(String, Role)>,
    reads: Vec<Read>,
    sources: &mut Sources,
    environments: &mut [EnvironmentFiles],
    report: &mut Report,
) -> Option<Parsed> {
    let mut repo = None;
    for ((path, role), read) in paths.into_iter().zip(reads) {
        let id = sources.add(path.clone(), read.text);
        if let Some(root) = &read.root {
            sources.set_secrets(id, credential_values(root));
        }
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
    repo
}

/// Reports that the tree has no repository file.
fn report_no_repo(tree: &dyn FileTree, report: &mut Report) {
    report.push(
        Diagnostic::error(None, format!("no `{REPO_FILE}` in {}", tree.describe()))
            .with_hint("run workergen in a config repository (or pass `-C DIR`), or create one with `workergen init`"),
    );
}

/// Reports each environment entry that is a link which cannot be followed.
fn report_broken_links(broken_links: Vec<(String, LinkError)>, sources: &mut Sources, report: &mut Report) {
    for (path, link) in broken_links {
        let id = sources.add(path, String::new());
        report.push(Diagnostic::error(Loc::new(id, 1, 1), link.to_string()).with_hint(link.hint()));
    }
}

/// Reports each YAML file that is not read where it is.
fn report_loose(loose: Vec<String>, sources: &mut Sources, report: &mut Report) {
    for path in loose {
        let id = sources.add(path.clone(), String::new());
        report.push(
            Diagnostic::error(Loc::new(id, 1, 1), format!("`{path}` is not read"))
                .with_hint("cluster files are `environments/<env>/<cluster>.yaml`, with the `.yaml` ending"),
        );
    }
}

/// Reports each folder inside an environment folder: nothing in it is read, so a
/// cluster file moved there would silently drop its workers.
fn report_subfolders(subfolders: Vec<String>, sources: &mut Sources, report: &mut Report) {
    for path in subfolders {
        let id = sources.add(format!("{path}/"), String::new());
        report.push(
            Diagnostic::error(Loc::new(id, 1, 1), format!("`{path}` is a folder, and nothing in it is read"))
                .with_hint("cluster files are `environments/<env>/<cluster>.yaml`: move its files up into the environment folder, or remove it"),
        );
    }
}

/// Reports each environment folder without an environment file.
fn report_missing_environment_files(environments: &[EnvironmentFiles], sources: &mut Sources, report: &mut Report) {
    for environment in environments {
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
}

/// The credentials in a parsed file: every scalar at or under a credential-like key
/// ([`crate::diagnostic::is_credential_key`]), aliases resolved, but the remote references of
/// `secrets.externalSecret.remoteRefs`, which name places in a store. Each is hidden
/// wherever it stands in the file (an anchor `&a S3CRET` on another line included).
fn credential_values(root: &Node) -> Vec<String> {
    fn walk(node: &Node, path: &mut Vec<String>, under: bool, out: &mut Vec<String>) {
        use crate::yaml::Value;
        match &node.value {
            Value::Map(map) => {
                for (key, child) in map.entries() {
                    path.push(key.name.clone());
                    let refs = path.len() > crate::diagnostic::REMOTE_REFS.len()
                        && path
                            .iter()
                            .zip(crate::diagnostic::REMOTE_REFS)
                            .all(|(name, want)| name == want);
                    walk(
                        child,
                        path,
                        !refs && (under || crate::diagnostic::is_credential_key(&key.name)),
                        out,
                    );
                    path.pop();
                }
            }
            Value::Seq(items) => items.iter().for_each(|item| walk(item, path, under, out)),
            Value::Str(text) if under => out.extend(crate::diagnostic::hidden_pieces(text)),
            Value::Int(_) | Value::Float(_) if under => out.extend(node.scalar_text()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), false, &mut out);
    // Short values (`pw`) would mangle unrelated text; a credential is longer.
    out.retain(|secret| secret.chars().count() >= 3);
    out.sort();
    out.dedup();
    out
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
        Err(error) if crate::tree::NotAFile::of(&error).is_some() => {
            let not_a_file = crate::tree::NotAFile::of(&error).expect("checked");
            let diagnostic =
                Diagnostic::error(Loc::new(id, 1, 1), not_a_file.to_string()).with_hint(crate::tree::NotAFile::HINT);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_finds_credentials_behind_aliases_but_not_remote_references() {
        let root = crate::yaml::parse_test(
            "a: &x S3CRET-anchored\nauth:\n  password: *x\n  token: {nested: S3CRET-nested, n: 12345}\n  automountServiceAccountToken: true\n  bearerTokenSecret: octopus-worker-token\nsecrets:\n  externalSecret:\n    remoteRefs:\n      password: {key: vault/path, property: pw}\n",
        );
        assert_eq!(credential_values(&root), ["12345", "S3CRET-anchored", "S3CRET-nested"]);
    }
}
