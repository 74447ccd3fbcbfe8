//! Planning the files: the workers' own fields against the layers they inherit, the
//! values every imported worker shares moved into the cluster's `defaults`, and the
//! texts of the cluster file and (when absent) the environment file.
//!
//! A worker inherits `workergen.yaml`'s, the environment's and the cluster's `defaults`.
//! Its own fields are what it needs on top of them: a value the layers give the same is
//! left out, one they give but the install does not have is removed with `null` (so the
//! chart's default applies, as it did for the install).

use crate::diagnostic::Diagnostic;
use crate::source::Loc;
use crate::yaml::{Node, Value};

use super::tree::{self, put, take};

/// The declaration files the import reads, as parsed.
#[derive(Debug, Default)]
pub(crate) struct Existing {
    pub(crate) settings: Option<Node>,
    pub(crate) environment: Option<Node>,
    pub(crate) cluster: Option<Node>,
    pub(crate) cluster_text: Option<String>,
}

impl Existing {
    fn defaults_of(root: Option<&Node>) -> Node {
        root.and_then(|root| root.get("defaults"))
            .filter(|node| !node.is_null())
            .cloned()
            .unwrap_or_else(|| Node::map(Loc::default()))
    }

    /// The chart major the cluster renders with (its `chart:` layers over the
    /// environment's and `workergen.yaml`'s, else workergen's default version).
    pub(crate) fn chart_major(&self) -> Option<u64> {
        let version = [&self.cluster, &self.environment, &self.settings]
            .into_iter()
            .find_map(|root| root.as_ref()?.get_path(["chart", "version"])?.scalar_text())
            .unwrap_or_else(|| crate::model::DEFAULT_CHART_VERSION.to_owned());
        crate::version::major(&version)
    }

    /// The workers of the cluster file, by name.
    pub(crate) fn workers(&self) -> Vec<(String, Loc, Node)> {
        let Some(map) = self
            .cluster
            .as_ref()
            .and_then(|root| root.get("workers"))
            .and_then(Node::as_map)
        else {
            return Vec::new();
        };
        map.entries()
            .iter()
            .map(|(key, node)| (key.name.clone(), key.loc, node.clone()))
            .collect()
    }
}

/// Whether `text` is a chart version as `helm list` shows it: SemVer, with an optional
/// leading `v`.
pub(crate) fn is_version(text: &str) -> bool {
    crate::version::is_semver(text.strip_prefix('v').unwrap_or(text))
}

/// One imported worker, ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) name: String,
    /// The worker fields of the install, before layering.
    pub(crate) fields: Node,
}

/// What the planned cluster file holds, and whether its `defaults` were rewritten.
#[derive(Debug)]
pub(crate) struct ClusterPlan {
    pub(crate) text: String,
    /// The workers as written (their own fields), by name.
    pub(crate) workers: Vec<(String, Node)>,
    /// The cluster `defaults` changed (existing workers of the import are rewritten).
    pub(crate) defaults_changed: bool,
    /// Comments of the existing file that re-writing it drops.
    pub(crate) comments_dropped: bool,
}

/// Plans the cluster file for `imported` workers in cluster `cluster`.
///
/// When the file is new, or every worker in it is one of this import, the import owns
/// the cluster's `defaults`: they become the values every imported worker shares.
/// Otherwise the file's `defaults` and its other workers stay, and each imported worker
/// is written against them.
/// `octopus` is the cluster's own `octopus:` block to write, when its workers use another
/// credential than the environment's.
pub(crate) fn cluster_file(
    existing: &Existing,
    imported: &[Planned],
    cluster: &str,
    octopus: Option<&Node>,
) -> ClusterPlan {
    let higher = crate::merge::merge(
        [
            &Existing::defaults_of(existing.settings.as_ref()),
            &Existing::defaults_of(existing.environment.as_ref()),
        ],
        Node::map(Loc::default()),
    );
    let others: Vec<String> = existing
        .workers()
        .into_iter()
        .map(|(name, _, _)| name)
        .filter(|name| !imported.iter().any(|worker| &worker.name == name))
        .collect();
    let owns_defaults = others.is_empty();
    let old_defaults = Existing::defaults_of(existing.cluster.as_ref());
    let (defaults, workers) = if owns_defaults {
        let own: Vec<Node> = imported
            .iter()
            .map(|worker| own_fields(&worker.fields, &higher))
            .collect();
        share(own, imported)
    } else {
        let inherited = crate::merge::merge([&higher, &old_defaults], Node::map(Loc::default()));
        let workers = imported
            .iter()
            .map(|worker| (worker.name.clone(), own_fields(&worker.fields, &inherited)))
            .collect();
        (old_defaults.clone(), workers)
    };
    let root = planned_root(existing, cluster, octopus, &defaults, &workers);
    let spliced = match (&existing.cluster, &existing.cluster_text) {
        (Some(old_root), Some(text)) if !owns_defaults => splice(text, old_root, &workers).filter(|spliced| {
            // Kept only when it reads back as exactly the planned file.
            crate::yaml::parse(
                spliced,
                crate::source::FileId::default(),
                crate::yaml::Limits::default(),
            )
            .is_ok_and(|parsed| tree::same(&parsed, &root))
        }),
        _ => None,
    };
    let header = if owns_defaults { CLUSTER_HEADER } else { "" };
    let text = spliced.unwrap_or_else(|| format!("{header}{}", crate::yaml::emit(&root)));
    // A line of the existing file with a comment (or a `#` in a text) that the new
    // text does not hold.
    let comments_dropped = existing.cluster_text.as_deref().is_some_and(|old| {
        old.lines()
            .filter(|line| line.contains('#'))
            .any(|comment| !text.lines().any(|line| line == comment))
    });
    ClusterPlan {
        text,
        workers,
        defaults_changed: !tree::same(&defaults, &old_defaults),
        comments_dropped,
    }
}

/// The planned cluster file as a tree: the existing one (or a new one naming the cluster
/// as its destination) with `octopus`, `defaults` and the imported `workers` set.
fn planned_root(
    existing: &Existing,
    cluster: &str,
    octopus: Option<&Node>,
    defaults: &Node,
    workers: &[(String, Node)],
) -> Node {
    let mut root = existing
        .cluster
        .clone()
        .filter(|root| root.as_map().is_some())
        .unwrap_or_else(|| Node::map(Loc::default()));
    if root.get("cluster").is_none() {
        let mut destination = Node::map(Loc::default());
        put(
            &mut destination,
            &["destination", "name"],
            Node::string(cluster, Loc::default()),
        );
        put(&mut root, &["cluster"], destination);
    }
    if let Some(octopus) = octopus {
        put(&mut root, &["octopus"], octopus.clone());
    }
    take(&mut root, &["defaults"]);
    if defaults.as_map().is_some_and(|map| !map.is_empty()) {
        put(&mut root, &["defaults"], defaults.clone());
    }
    for (name, fields) in workers {
        put(&mut root, &["workers", name], fields.clone());
    }
    root
}

/// The existing cluster file `text` (parsed as `root`) with `workers` written into its
/// block-style `workers:` map as text: a worker it has is replaced in place, a new one is
/// added at the end of the map; every other line (comments included) stays. `None` when
/// the file's `workers` is not a block map of at least one worker.
fn splice(text: &str, root: &Node, workers: &[(String, Node)]) -> Option<String> {
    let (workers_key, workers_node) = root.as_map()?.get_entry("workers")?;
    let entries = workers_node.as_map()?.entries();
    let first = entries.first()?;
    if first.0.loc.line <= workers_key.loc.line {
        return None; // a flow map
    }
    let indent = usize::try_from(first.0.loc.col).ok()?.checked_sub(1)?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let top_level = |line: &str| line.starts_with(|c: char| !c.is_whitespace() && c != '#');
    let start = usize::try_from(workers_key.loc.line).ok()?;
    let mut block_end = lines[start..]
        .iter()
        .position(|line| top_level(line))
        .map_or(lines.len(), |offset| start + offset);
    while block_end > start && is_blank_or_outer_comment(&lines[block_end - 1]) {
        block_end -= 1;
    }
    let line_of = |loc: Loc| usize::try_from(loc.line).ok().map(|line| line - 1);
    // Edits from the bottom up, so earlier line numbers stay right.
    let mut edits: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut added = Vec::new();
    for (name, fields) in workers {
        let text = indented(name, fields, indent);
        match entries.iter().position(|(key, _)| &key.name == name) {
            Some(index) => {
                let from = line_of(entries[index].0.loc)?;
                let mut to = entries
                    .get(index + 1)
                    .map_or(Some(block_end), |(key, _)| line_of(key.loc))?;
                while to > from + 1 && lines[to - 1].trim().is_empty() {
                    to -= 1;
                }
                edits.push((from, to, text));
            }
            None => added.extend(text),
        }
    }
    // The new workers, in order, after the last one.
    edits.push((block_end, block_end, added));
    edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    for (from, to, text) in edits {
        lines.splice(from..to, text);
    }
    Some(lines.join("\n") + "\n")
}

/// A blank line, or a comment at the start of a line (it belongs to what follows).
fn is_blank_or_outer_comment(line: &str) -> bool {
    line.trim().is_empty() || line.starts_with('#')
}

/// `name: fields` as block YAML lines, indented by `indent` spaces.
fn indented(name: &str, fields: &Node, indent: usize) -> Vec<String> {
    let mut entry = Node::map(Loc::default());
    put(&mut entry, &[name], fields.clone());
    crate::yaml::emit(&entry)
        .lines()
        .map(|line| format!("{}{line}", " ".repeat(indent)))
        .collect()
}

const CLUSTER_HEADER: &str = "# yaml-language-server: $schema=../../schemas/cluster.schema.json
# One cluster of the environment (its name is this file's name) and its workers, adopted
# from their Helm releases with `workergen import`: each worker renders the values its
# release runs with. `cluster.destination` is where Argo CD deploys them (the cluster's
# name in Argo CD, or `server:` with its API server URL): import cannot know it, check it.
# `defaults` holds what every worker here shares.
";

/// The text of a new environment file holding `octopus`.
pub(crate) fn environment_file(octopus: &Node) -> String {
    let mut root = Node::map(Loc::default());
    put(&mut root, &["octopus"], octopus.clone());
    format!("{ENVIRONMENT_HEADER}{}", crate::yaml::emit(&root))
}

const ENVIRONMENT_HEADER: &str = "# yaml-language-server: $schema=../../schemas/environment.schema.json
# One environment: its Octopus Server, from the values of the releases `workergen import`
# adopted. `octopus.auth` names the Secret (in each worker's namespace) that holds the
# credential: workergen never writes the credential itself.
";

/// A worker's own fields over the `inherited` ones: what differs, and `null` for what
/// they have and it does not.
pub(crate) fn own_fields(target: &Node, inherited: &Node) -> Node {
    let (Some(target_map), Some(inherited_map)) = (target.as_map(), inherited.as_map()) else {
        return target.clone();
    };
    let mut own = Node::map(target.loc);
    for (key, node) in target_map.entries() {
        match inherited_map.get(&key.name) {
            Some(lower) if tree::same(node, lower) => {}
            Some(lower) if node.as_map().is_some_and(|map| !map.is_empty()) && lower.as_map().is_some() => {
                let child = own_fields(node, lower);
                if child.as_map().is_some_and(|map| !map.is_empty()) {
                    put(&mut own, &[&key.name], child);
                }
            }
            _ => put(&mut own, &[&key.name], node.clone()),
        }
    }
    for (key, _) in inherited_map.entries() {
        if target_map.get(&key.name).is_none() {
            put(&mut own, &[&key.name], Node::null(target.loc));
        }
    }
    own
}

/// Moves the leaves every worker of `own` has alike into the cluster defaults (with at
/// least two workers: one worker's values are its own).
fn share(own: Vec<Node>, imported: &[Planned]) -> (Node, Vec<(String, Node)>) {
    let mut defaults = Node::map(Loc::default());
    if own.len() >= 2 {
        let (first, rest) = own.split_first().expect("two or more");
        for (path, leaf) in tree::leaves(first) {
            if path.is_empty() || matches!(&leaf.value, Value::Map(_)) {
                continue;
            }
            let names: Vec<&str> = path.iter().map(String::as_str).collect();
            let everywhere = rest.iter().all(|other| {
                other
                    .get_path(names.iter().copied())
                    .is_some_and(|node| tree::same(node, leaf))
            });
            if everywhere {
                put(&mut defaults, &names, leaf.clone());
            }
        }
    }
    let mut workers = Vec::new();
    for (mut fields, worker) in own.into_iter().zip(imported) {
        for (path, _) in tree::leaves(&defaults) {
            let names: Vec<&str> = path.iter().map(String::as_str).collect();
            take(&mut fields, &names);
        }
        workers.push((worker.name.clone(), fields));
    }
    (defaults, workers)
}

/// An error for an existing worker the import would change, without `--force`.
pub(crate) fn overwrite_error(name: &str, loc: Loc, path: &str) -> Diagnostic {
    Diagnostic::error(
        loc,
        format!("worker `{name}` is already declared in {path}, differently"),
    )
    .with_hint("pass `--force` to replace its declaration with the imported one")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_test as node;

    #[test]
    fn own_fields_leave_out_what_is_inherited_and_remove_what_the_install_lacks() {
        let inherited = node("machinePolicy: M\nscriptPods: {resources: {requests: {cpu: 250m}}}\nlogLevel: Info\n");
        let target =
            node("logLevel: Info\nworkerPools: [A]\nvalues: {scriptPods: {resources: {requests: {cpu: 1}}}}\n");
        let own = own_fields(&target, &inherited);
        let expected = node("machinePolicy: null\nscriptPods: null\nworkerPools: [A]\nvalues: {scriptPods: {resources: {requests: {cpu: 1}}}}\n");
        assert!(tree::same(&own, &expected), "{}", crate::yaml::emit(&own));
        // And layered again, it is the install's.
        let merged = crate::merge::merge([&inherited, &own], Node::map(Loc::default()));
        assert!(tree::same(&merged, &target));
    }

    #[test]
    fn shared_values_go_to_the_cluster_defaults() {
        let workers = [
            Planned {
                name: "a".into(),
                fields: node("workerPools: [P]\nlogLevel: Debug\nnamespace: x\n"),
            },
            Planned {
                name: "b".into(),
                fields: node("workerPools: [P]\nlogLevel: Info\n"),
            },
        ];
        let plan = cluster_file(&Existing::default(), &workers, "eu", None);
        assert_eq!(
            plan.text.lines().filter(|line| !line.starts_with('#')).collect::<Vec<_>>().join("\n"),
            "cluster:\n  destination:\n    name: eu\ndefaults:\n  workerPools:\n    - P\nworkers:\n  a:\n    logLevel: Debug\n    namespace: x\n  b:\n    logLevel: Info"
        );
        assert!(plan.defaults_changed && !plan.comments_dropped);
    }

    #[test]
    fn a_file_with_other_workers_keeps_its_comments() {
        let text = "# the EU cluster\ncluster:\n  destination: {name: eu}\nworkers:\n  # hand-written\n  manual:\n    workerPools: [M]   # the manual pool\n\n  old:\n    workerPools: [O]\n\n# trailing note\n";
        let existing = Existing {
            cluster: Some(node(text)),
            cluster_text: Some(text.to_owned()),
            ..Existing::default()
        };
        let workers = [
            Planned {
                name: "old".into(),
                fields: node("workerPools: [Q]\n"),
            },
            Planned {
                name: "new".into(),
                fields: node("workerPools: [P]\n"),
            },
        ];
        let plan = cluster_file(&existing, &workers, "eu", None);
        assert_eq!(
            plan.text,
            "# the EU cluster\ncluster:\n  destination: {name: eu}\nworkers:\n  # hand-written\n  manual:\n    workerPools: [M]   # the manual pool\n\n  old:\n    workerPools:\n      - Q\n  new:\n    workerPools:\n      - P\n\n# trailing note\n"
        );
        assert!(!plan.comments_dropped);
        // A flow `workers` map is written anew, and the output says its comments go.
        let flow = "# note\nworkers: {manual: {workerPools: [M]}}\n";
        let existing = Existing {
            cluster: Some(node(flow)),
            cluster_text: Some(flow.to_owned()),
            ..Existing::default()
        };
        let plan = cluster_file(&existing, &workers[1..], "eu", None);
        assert!(plan.comments_dropped && !plan.text.contains("# note"));
    }

    #[test]
    fn versions_are_major_minor_patch() {
        for good in ["2.51.2", "v3.13.2", "3.0.0-rc.1", "3.1.0+build.5"] {
            assert!(is_version(good), "{good}");
        }
        for bad in ["banana", "2", "2.51", "2.*.*", "2.51.x", "", "v", "1.2.3.4"] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}
