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
        major_of(&version)
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
        map.entries
            .iter()
            .map(|(key, node)| (key.name.clone(), key.loc, node.clone()))
            .collect()
    }
}

/// The major of a version or version constraint (`3.13.2`, `"2.*.*"`, `v2`).
pub(crate) fn major_of(version: &str) -> Option<u64> {
    let digits: String = version
        .trim_start_matches(['v', '^', '~', '='])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
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
pub(crate) fn cluster_file(existing: &Existing, imported: &[Planned], cluster: &str) -> ClusterPlan {
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
    take(&mut root, &["defaults"]);
    if defaults.as_map().is_some_and(|map| !map.is_empty()) {
        put(&mut root, &["defaults"], defaults.clone());
    }
    for (name, fields) in &workers {
        put(&mut root, &["workers", name], fields.clone());
    }
    let comments_dropped = existing
        .cluster_text
        .as_deref()
        .is_some_and(|text| !owns_defaults && text.lines().any(|line| line.trim_start().starts_with('#')));
    let header = if owns_defaults { CLUSTER_HEADER } else { "" };
    ClusterPlan {
        text: format!("{header}{}", crate::yaml::emit(&root)),
        workers,
        defaults_changed: !tree::same(&defaults, &old_defaults),
        comments_dropped,
    }
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
    for (key, node) in &target_map.entries {
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
    for (key, _) in &inherited_map.entries {
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
    use crate::source::FileId;
    use crate::yaml::{parse, Limits};

    fn node(text: &str) -> Node {
        parse(text, FileId(0), Limits::default()).unwrap()
    }

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
        let plan = cluster_file(&Existing::default(), &workers, "eu");
        assert_eq!(
            plan.text.lines().filter(|line| !line.starts_with('#')).collect::<Vec<_>>().join("\n"),
            "cluster:\n  destination:\n    name: eu\ndefaults:\n  workerPools:\n    - P\nworkers:\n  a:\n    logLevel: Debug\n    namespace: x\n  b:\n    logLevel: Info"
        );
        assert!(plan.defaults_changed && !plan.comments_dropped);
    }

    #[test]
    fn majors_of_versions_and_constraints() {
        assert_eq!(major_of("3.13.2"), Some(3));
        assert_eq!(major_of("2.*.*"), Some(2));
        assert_eq!(major_of("v2.1"), Some(2));
        assert_eq!(major_of("latest"), None);
    }
}
