//! The round trip: the planned files laid over the repository in memory, then the very
//! pipeline `render` runs (load, merge, validate, render of the cluster), and each
//! worker's rendered `values.yaml` compared, as data, with the values it was imported
//! from (less plaintext credentials, plus the Secret references).
//!
//! Helm lays the chart's own values under a release's values, so a value one side sets
//! to exactly the chart's default and the other leaves out is the same install; such a
//! leaf is named but is no difference.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use crate::chart;
use crate::diagnostic::Report;
use crate::model::Fleet;
use crate::render::templates::{TemplateError, Templates};
use crate::render::{self, Scope};
use crate::tree::fs::FsTree;
use crate::tree::{Entry, FileTree};
use crate::yaml::{self, KeyPath, Node};

use super::manifests::Chart;
use super::tree;

/// The working tree with some files replaced or added (the planned ones).
pub(crate) struct Overlay {
    base: FsTree,
    files: BTreeMap<String, String>,
}

impl Overlay {
    pub(crate) fn new(root: &Path, files: BTreeMap<String, String>) -> Self {
        Self {
            base: FsTree::new(root),
            files,
        }
    }
}

impl FileTree for Overlay {
    fn list(&self, path: &str) -> io::Result<Option<Vec<Entry>>> {
        let mut entries: BTreeSet<Entry> = self.base.list(path)?.unwrap_or_default().into_iter().collect();
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let mut found = !entries.is_empty() || self.base.list(path)?.is_some();
        for file in self.files.keys() {
            let Some(rest) = file.strip_prefix(&prefix) else {
                continue;
            };
            found = true;
            let (name, is_dir) = match rest.split_once('/') {
                Some((folder, _)) => (folder, true),
                None => (rest, false),
            };
            entries.retain(|entry| entry.name != name);
            entries.insert(Entry {
                name: name.to_owned(),
                is_dir,
            });
        }
        Ok(found.then(|| entries.into_iter().collect()))
    }

    fn read(&self, path: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        match self.files.get(path) {
            // The limit a file on disk has, so that a planned file `validate` would refuse
            // for its size is refused here, before it is written.
            Some(text) if text.len() as u64 > limit => Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("{path} is larger than {limit} bytes"),
            )),
            Some(text) => Ok(Some(text.as_bytes().to_vec())),
            None => self.base.read(path, limit),
        }
    }

    fn describe(&self) -> String {
        format!("{} with the imported declarations", self.base.describe())
    }
}

/// Why the planned files did not round-trip at all.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Reading the repository failed.
    Io(io::Error),
    /// The planned files (with the repository) do not validate: the fleet holds the
    /// sources to show the report with.
    Invalid(Box<Fleet>, Report),
    /// A template failed.
    Template(TemplateError),
}

/// One worker's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) worker: String,
    /// Key paths only the rendered side has, as expected (the Secret references).
    pub(crate) added: Vec<String>,
    /// Key paths where one side has the chart's default and the other nothing.
    pub(crate) defaults: Vec<String>,
    /// Imported nulls that delete a chart default, which no declaration can do: whether
    /// that matters only the chart can tell ([`through_chart`]).
    pub(crate) deletions: Vec<String>,
    /// The chart rendered the same manifests from both sides ([`through_chart`]).
    pub(crate) same_manifests: bool,
    /// The rendered `values.yaml`, for the chart.
    pub(crate) rendered: Option<String>,
    /// Key paths that differ: the worker would not round-trip.
    pub(crate) differences: Vec<String>,
}

/// Loads, validates and renders cluster `environment`/`cluster` of the repository at
/// `root` with `files` laid over it, and compares each worker's values with `expected`
/// (by worker name). `added` names the paths the import adds on purpose.
pub(crate) fn check(
    root: &Path,
    files: BTreeMap<String, String>,
    (environment, cluster): (&str, &str),
    expected: &[(String, Node, Vec<String>)],
    major: u64,
) -> Result<Vec<Outcome>, Stop> {
    let tree = Overlay::new(root, files);
    let (fleet, report) = crate::load_fleet(&tree).map_err(Stop::Io)?;
    let scope = Scope::new(Some(environment), Some(cluster));
    let (report, _) = crate::scope::only_in_scope(report, &fleet, &scope);
    if report.has_errors() {
        return Err(Stop::Invalid(Box::new(fleet), report));
    }
    let templates = Templates::load(&tree).map_err(Stop::Template)?;
    let output = render::build(&fleet, &templates, &scope, false).map_err(Stop::Template)?;
    let defaults = chart::reference(major).map(|values| &values.root);
    let mut outcomes = Vec::new();
    for (worker, imported, added) in expected {
        let values = output
            .workers()
            .find(|(_, tree)| tree.name == *worker)
            .and_then(|(_, tree)| tree.values.as_ref());
        outcomes.push(match values.and_then(|document| Some((document, document.node()?))) {
            Some((document, values)) => Outcome {
                rendered: Some(document.bytes(&fleet)),
                ..compare(worker, imported, values, added, defaults)
            },
            None => Outcome {
                differences: vec!["(no values rendered: is the worker disabled?)".to_owned()],
                ..Outcome::new(worker)
            },
        });
    }
    Ok(outcomes)
}

/// Compares the `imported` values with the `rendered` ones, leaf by leaf.
pub(crate) fn compare(
    worker: &str,
    imported: &Node,
    rendered: &Node,
    added: &[String],
    defaults: Option<&Node>,
) -> Outcome {
    let left = chart::leaves(imported);
    let right = chart::leaves(rendered);
    let mut outcome = Outcome::new(worker);
    let paths: BTreeSet<&KeyPath> = left.keys().chain(right.keys()).collect();
    for path in paths {
        let (one, other) = (left.get(path), right.get(path));
        match (one, other) {
            (Some(a), Some(b)) if tree::same(a, b) => {
                if added.contains(&path.to_string()) {
                    outcome.added.push(path.to_string());
                }
            }
            (Some(node), None) | (None, Some(node)) if is_default(defaults, path, node) => {
                outcome.defaults.push(path.to_string());
            }
            // `--set a=null` deletes the chart's default; a declaration's null only removes
            // what another layer gives, and the rendered values.yaml holds no null.
            (Some(node), None) if node.is_null() => outcome.deletions.push(format!(
                "{path} (imported null, which deletes the chart's default{}; a declaration cannot delete a chart default, so it would stay)",
                defaults
                    .and_then(|defaults| defaults.get_path(path.to_string().split('.')))
                    .map_or_else(String::new, |default| {
                        if matches!(default.value, yaml::Value::Map(_) | yaml::Value::Seq(_)) {
                            format!(" ({})", default.kind())
                        } else {
                            format!(" `{}`", yaml::emit(default).trim_end())
                        }
                    })
            )),
            _ => outcome
                .differences
                .push(format!("{path} (imported {}, rendered {})", shown(one), shown(other))),
        }
    }
    outcome
}

impl Outcome {
    fn new(worker: &str) -> Self {
        Self {
            worker: worker.to_owned(),
            added: Vec::new(),
            defaults: Vec::new(),
            deletions: Vec::new(),
            same_manifests: false,
            rendered: None,
            differences: Vec::new(),
        }
    }
}

/// The round trip through the real chart, when there is one: each worker's manifests
/// from the `expected` values (the install's) and from its rendered `values.yaml`. Equal
/// manifests settle the deleted chart defaults (they change nothing); without a chart, or
/// when the manifests differ, each deletion is a difference.
pub(crate) fn through_chart(
    chart: Option<&Chart>,
    outcomes: &mut [Outcome],
    expected: &[(String, Node, Vec<String>)],
    namespaces: &[String],
) {
    for ((outcome, (release, imported, _)), namespace) in outcomes.iter_mut().zip(expected).zip(namespaces) {
        let Some(chart) = chart else {
            let deletions = std::mem::take(&mut outcome.deletions);
            outcome.differences.extend(
                deletions
                    .into_iter()
                    .map(|deletion| format!("{deletion}; `--chart` lets the chart tell whether that matters")),
            );
            continue;
        };
        let Some(rendered) = outcome.rendered.as_deref().filter(|_| outcome.differences.is_empty()) else {
            continue;
        };
        let install = chart.template(release, namespace, &yaml::emit(imported));
        let declared = chart.template(release, namespace, rendered);
        let difference = match (install, declared) {
            (Ok(install), Ok(declared)) => super::manifests::first_difference(&install, &declared),
            (Err(error), _) => Some(format!("the chart fails on the install's values: {error}")),
            (_, Err(error)) => Some(format!("the chart fails on the declared values: {error}")),
        };
        match difference {
            None => outcome.same_manifests = true,
            Some(difference) => {
                outcome.differences.append(&mut outcome.deletions);
                outcome.differences.push(difference);
            }
        }
    }
}

/// A value in a difference: a scalar as written, else its kind.
fn shown(node: Option<&&Node>) -> String {
    match node {
        None => "nothing".to_owned(),
        Some(node) => match node.scalar_text() {
            Some(text) if matches!(node.value, yaml::Value::Str(_)) => format!("{text:?}"),
            Some(text) => text,
            None => node.kind().to_owned(),
        },
    }
}

/// Whether `node` is the chart's own value at `path`.
fn is_default(defaults: Option<&Node>, path: &KeyPath, node: &Node) -> bool {
    let Some(defaults) = defaults else {
        return false;
    };
    chart::leaves(defaults)
        .get(path)
        .is_some_and(|default| tree::same(default, node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_test as node;

    #[test]
    fn compares_as_data_and_names_what_differs() {
        let defaults = node("agent: {space: Default, logLevel: Info}\n");
        let imported = node("agent: {name: a, logLevel: Info, bearerTokenSecretName: t, tolerations: [{key: k}]}\n");
        let rendered = node("agent: {name: a, space: Default, bearerTokenSecretName: t, tolerations: [{key: j}]}\n");
        let outcome = compare(
            "a",
            &imported,
            &rendered,
            &["agent.bearerTokenSecretName".to_owned()],
            Some(&defaults),
        );
        assert_eq!(outcome.added, ["agent.bearerTokenSecretName"]);
        assert_eq!(outcome.defaults, ["agent.logLevel", "agent.space"]);
        assert_eq!(
            outcome.differences,
            ["agent.tolerations (imported a list, rendered a list)"]
        );
        let defaults = node("a: {b: x, d: {e: 1}}\n");
        let outcome = compare(
            "a",
            &node("a: {b: null, c: '1', d: null}\n"),
            &node("a: {c: 1}\n"),
            &[],
            Some(&defaults),
        );
        assert_eq!(outcome.differences, ["a.c (imported \"1\", rendered 1)"]);
        assert_eq!(
            outcome.deletions,
            [
                "a.b (imported null, which deletes the chart's default `x`; a declaration cannot delete a chart default, so it would stay)",
                "a.d (imported null, which deletes the chart's default (a map); a declaration cannot delete a chart default, so it would stay)"
            ]
        );
        // Without a chart to ask, a deletion is a difference.
        let mut outcomes = [outcome];
        through_chart(
            None,
            &mut outcomes,
            &[("a".to_owned(), node("{}\n"), Vec::new())],
            &["n".to_owned()],
        );
        assert!(outcomes[0].deletions.is_empty());
        assert_eq!(outcomes[0].differences.len(), 3);
        assert!(outcomes[0].differences[2].ends_with("`--chart` lets the chart tell whether that matters"));
    }

    #[test]
    fn the_overlay_lists_planned_files_in_new_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("workergen.yaml"), "acceptEula: true\n").unwrap();
        let files = BTreeMap::from([("environments/e/c.yaml".to_owned(), "workers: {}\n".to_owned())]);
        let tree = Overlay::new(dir.path(), files);
        let names = |path: &str| -> Vec<String> {
            tree.list(path)
                .unwrap()
                .unwrap()
                .into_iter()
                .map(|entry| entry.name)
                .collect()
        };
        assert_eq!(names(""), ["environments", "workergen.yaml"]);
        assert_eq!(names("environments/e"), ["c.yaml"]);
        assert!(tree.list("nothing").unwrap().is_none());
        assert_eq!(
            tree.read("environments/e/c.yaml", 100).unwrap().unwrap(),
            b"workers: {}\n"
        );
    }

    mod property {
        use super::super::super::{factor, plan};
        use super::*;
        use crate::source::Loc;
        use crate::yaml::Value;
        use proptest::prelude::*;

        /// A scalar as an install may hold it: texts that read as other things unquoted,
        /// numbers, booleans.
        fn scalar() -> impl Strategy<Value = Node> {
            let loc = Loc::default();
            prop_oneof![
                "[a-z][a-z0-9.:/ -]{0,10}".prop_map(move |text| Node::string(text, loc)),
                prop::sample::select(vec!["9.20", "007", "yes", "1e3", "null", "~", "0x1F", "true"])
                    .prop_map(move |text| Node::string(text, loc)),
                (0i64..5000).prop_map(move |value| Node::new(Value::Int(value), loc)),
                any::<bool>().prop_map(move |value| Node::new(Value::Bool(value), loc)),
            ]
        }

        /// Chart values the table maps and some it does not, with random values.
        fn paths() -> Vec<&'static [&'static str]> {
            vec![
                &["agent", "machinePolicyName"],
                &["agent", "pollingConnectionCount"],
                &["agent", "image", "repository"],
                &["agent", "image", "tag"],
                &["agent", "nodeSelector", "kubernetes.io/os"],
                &["agent", "metadata", "labels", "team"],
                &["agent", "resources", "requests", "cpu"],
                &["agent", "serviceAccount", "annotations", "example.com/role"],
                &["scriptPods", "worker", "image", "tag"],
                &["scriptPods", "proxies", "no_proxy"],
                &["scriptPods", "pendingPodsTimeoutMinutes"],
                &["scriptPods", "disruptionBudgetEnabled"],
                &["scriptPods", "metadata", "annotations", "a"],
                &["persistence", "volumeName"],
                &["autoUpgrader", "clusterRoleRules"],
            ]
        }

        fn values() -> impl Strategy<Value = Node> {
            let chosen = prop::collection::vec((0..paths().len(), scalar(), 0..4usize), 0..8);
            chosen.prop_map(|picks| {
                let mut values = Node::map(Loc::default());
                for (index, value, quantity) in picks {
                    let path = paths()[index];
                    let value = match path.last() {
                        // A list where the chart has a list.
                        Some(&"clusterRoleRules") => Node::new(Value::Seq(vec![]), value.loc),
                        // Kubernetes takes only quantities (validate checks them), as text or number.
                        Some(&"cpu") => match quantity {
                            0 => Node::string("250m", value.loc),
                            1 => Node::string("1", value.loc),
                            2 => Node::new(Value::Int(2), value.loc),
                            _ => Node::new(Value::Float("0.5".into()), value.loc),
                        },
                        // Kubernetes takes only label values here (validate checks them).
                        Some(&"kubernetes.io/os") => Node::string("linux", value.loc),
                        _ => value,
                    };
                    super::super::super::tree::put(&mut values, path, value);
                }
                values
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
            /// Factored into fields and `values`, laid over the repository's defaults, and
            /// rendered by the real pipeline, any install's values come back as data.
            #[test]
            fn factor_then_render_gives_the_values_back(extra in values()) {
                let dir = tempfile::tempdir().unwrap();
                let settings = "acceptEula: true\ndefaults:\n  machinePolicy: Manual\n  scriptPods: {resources: {requests: {cpu: 250m}}}\n";
                std::fs::write(dir.path().join("workergen.yaml"), settings).unwrap();
                let environment = "octopus:\n  serverUrl: https://o.example.com/\n  serverCommsAddress: https://o.example.com:10943/\n  auth: {bearerTokenSecret: token}\n";
                let mut imported = node(
                    "agent:\n  serverUrl: https://o.example.com/\n  serverCommsAddress: https://o.example.com:10943/\n  bearerTokenSecretName: token\n  acceptEula: 'Y'\n  name: e-c-w\n  worker: {enabled: true, initial: {workerPools: [P]}}\n",
                );
                crate::merge::overlay(&mut imported, &extra);
                let mut values = imported.clone();
                take_reference(&mut values);
                factor::take_octopus(&mut values);
                let fields = factor::declaration(values, None, "w", "e-c-w");
                let existing = plan::Existing {
                    settings: Some(node(settings)),
                    ..plan::Existing::default()
                };
                let planned = [plan::Planned { name: "w".into(), fields }];
                let cluster = plan::cluster_file(&existing, &planned, "c", None);
                let files = BTreeMap::from([
                    ("environments/e/c.yaml".to_owned(), cluster.text.clone()),
                    ("environments/e/environment.yaml".to_owned(), environment.to_owned()),
                ]);
                let expected = [("w".to_owned(), imported, Vec::new())];
                let outcomes = match check(dir.path(), files, ("e", "c"), &expected, 3) {
                    Ok(outcomes) => outcomes,
                    Err(Stop::Invalid(fleet, report)) => {
                        panic!("{}\n{}", cluster.text, report.render(&fleet.sources, false))
                    }
                    Err(other) => panic!("{other:?}"),
                };
                prop_assert!(outcomes[0].differences.is_empty(), "{:?}\n{}", outcomes[0], cluster.text);
            }
        }

        /// The environment declares the credential Secret: the worker does not.
        fn take_reference(values: &mut Node) {
            super::super::super::tree::take(values, &["agent", "bearerTokenSecretName"]);
        }
    }
}
