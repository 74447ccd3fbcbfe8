//! Factoring: one install's chart values turned into worker fields, by reading the one
//! field → value table ([`crate::chart::FIELD_VALUES`]) backwards.
//!
//! Each row's chart value becomes its typed field when the field would render it back
//! as the same data (a typed text field turns `tag: 9.20` into the text "9.20", so a
//! number there stays under `values`); the environment's rows (`octopus.*`) are taken
//! out for the environment file; whatever no row maps stays under `values`. The special
//! rows: `agent.name` is left out when it is the default name, `workerPools` takes
//! `agent.worker.enabled: true` with it, and an image becomes `repo:tag` when that says
//! all of it.

use crate::chart::{Set, FIELD_VALUES};
use crate::decl::{ImageSpec, WorkerSpec};
use crate::source::Loc;
use crate::yaml::{Node, Value};

use super::tree::{self, put, take};

/// The environment's `octopus` settings one install's values give (`agent.serverUrl`,
/// `agent.serverCommsAddress(es)`, `agent.space`), as `octopus` fields; taken out of
/// `values`.
pub(crate) fn take_octopus(values: &mut Node) -> Node {
    let mut octopus = Node::map(values.loc);
    for row in FIELD_VALUES {
        let Some(field) = row.field.strip_prefix("octopus.") else {
            continue;
        };
        if field.contains("Secret") {
            // The credential and certificate Secrets: see `credentials`.
            continue;
        }
        let path: Vec<&str> = row.value.split('.').collect();
        if let Some(node) = take(values, &path) {
            put(&mut octopus, &[field], node);
        }
    }
    octopus
}

/// The worker fields of one install: `values` less what the environment declares.
///
/// `default_name` is the `agent.name` the worker gets when it sets no `displayName`.
pub(crate) fn declaration(mut values: Node, namespace: Option<&str>, release: &str, default_name: &str) -> Node {
    let mut fields = Node::map(values.loc);
    if values.get_path(["agent", "acceptEula"]).and_then(Node::as_str) == Some("Y") {
        // `acceptEula: true` in workergen.yaml renders it.
        take(&mut values, &["agent", "acceptEula"]);
    }
    for row in FIELD_VALUES.iter().filter(|row| !row.field.starts_with("octopus.")) {
        let path: Vec<&str> = row.value.split('.').collect();
        let field: Vec<&str> = row.field.split('.').collect();
        match row.set {
            Set::OrWorkerKey => display_name(&mut values, &mut fields, &path, default_name),
            Set::Pools => pools(&mut values, &mut fields, &path),
            Set::Image => image(&mut values, &mut fields, &path, &field),
            Set::Copy => {
                if let Some(node) = values.get_path(path.iter().copied()) {
                    if typed_as_is(&field, node) {
                        let node = take(&mut values, &path).expect("just read");
                        put(&mut fields, &field, node);
                    }
                }
            }
        }
    }
    if let Some(namespace) = namespace.filter(|namespace| *namespace != crate::names::default_namespace(release)) {
        put(&mut fields, &["namespace"], Node::string(namespace, values.loc));
    }
    if values.as_map().is_some_and(|map| !map.is_empty()) {
        put(&mut fields, &["values"], values);
    }
    fields
}

/// `agent.name` as `displayName`, unless it is the default name.
fn display_name(values: &mut Node, fields: &mut Node, path: &[&str], default_name: &str) {
    let Some(name) = values.get_path(path.iter().copied()).and_then(Node::as_str) else {
        return;
    };
    let is_default = name == default_name;
    let node = take(values, path).expect("just read");
    if !is_default {
        put(fields, &["displayName"], node);
    }
}

/// The pools, with the `agent.worker.enabled: true` the field also sets.
fn pools(values: &mut Node, fields: &mut Node, path: &[&str]) {
    let enabled = [&path[..path.len() - 2], &["enabled"]].concat();
    let is_enabled = matches!(
        values.get_path(enabled.iter().copied()).map(|node| &node.value),
        Some(Value::Bool(true))
    );
    let Some(pools) = values.get_path(path.iter().copied()) else {
        return;
    };
    if is_enabled && typed_as_is(&["workerPools"], pools) {
        let pools = take(values, path).expect("just read");
        take(values, &enabled);
        put(fields, &["workerPools"], pools);
    }
}

/// An image's `repository`, `tag` and `pullPolicy` as the image field: `repo:tag` when
/// that is all of it, else the object. Other keys (`tagSuffix`) stay in `values`.
fn image(values: &mut Node, fields: &mut Node, path: &[&str], field: &[&str]) {
    let Some(image) = values.get_path(path.iter().copied()).and_then(Node::as_map) else {
        return;
    };
    let mut object = Node::map(values.loc);
    for name in ["repository", "tag", "pullPolicy"] {
        if let Some(node) = image.get(name) {
            put(&mut object, &[name], node.clone());
        }
    }
    if object.as_map().is_none_or(crate::yaml::Map::is_empty) || !typed_as_is(field, &object) {
        return;
    }
    for name in ["repository", "tag", "pullPolicy"] {
        let at = [path, &[name]].concat();
        take(values, &at);
    }
    let reference = match (object.get("repository"), object.get("tag"), object.get("pullPolicy")) {
        (Some(repository), Some(tag), None) => {
            let text = format!("{}:{}", repository.as_str().unwrap_or(""), tag.as_str().unwrap_or(""));
            let splits_back = ImageSpec::split_reference(&text)
                == Some((repository.as_str().unwrap_or(""), tag.as_str().unwrap_or("")));
            splits_back.then(|| Node::string(text, repository.loc))
        }
        _ => None,
    };
    put(fields, field, reference.unwrap_or(object));
}

/// Whether `node`, written at the worker field `field`, reads without a type error and
/// keeps its data (a typed text field would turn a number into its text).
pub(crate) fn typed_as_is(field: &[&str], node: &Node) -> bool {
    let mut worker = Node::map(node.loc);
    put(&mut worker, field, node.clone());
    let before = worker.clone();
    let mut diagnostics = Vec::new();
    let read = crate::yaml::from_node_keeping_text::<WorkerSpec>(&mut worker, &mut diagnostics);
    read.is_some() && diagnostics.is_empty() && tree::same(&before, &worker)
}

/// The chart's `to-v3` value migration for a 2.x install adopted on a 3.x chart: 2.x
/// defaulted to `ReadWriteMany` and an NFS volume unless a storage class or volume was
/// named; 3.x defaults to `ReadWriteOnce` without NFS. Writing the 2.x behaviour down
/// keeps the install's storage. An `accessModes` the install set itself is kept (it is
/// what the install runs with). The paths it set, for the output.
pub(crate) fn migrate_to_v3(values: &mut Node, loc: Loc) -> Vec<&'static str> {
    let mut set = Vec::new();
    if values.get_path(["persistence", "accessModes"]).is_none() {
        let modes = Node::new(Value::Seq(vec![Node::string("ReadWriteMany", loc)]), loc);
        put(values, &["persistence", "accessModes"], modes);
        set.push("persistence.accessModes");
    }
    if values.get_path(["persistence", "nfs", "enabled"]).is_none() {
        let named = |name: &str| {
            values
                .get_path(["persistence", name])
                .is_some_and(|node| truthy(&node.value))
        };
        let nfs = !(named("storageClassName") || named("volumeName"));
        put(
            values,
            &["persistence", "nfs", "enabled"],
            Node::new(Value::Bool(nfs), loc),
        );
        set.push("persistence.nfs.enabled");
    }
    set
}

/// Go template truth, as the migration's `or` reads a value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(value) => *value,
        Value::Int(value) => *value != 0,
        Value::Float(text) => text.parse::<f64>().is_ok_and(|value| value != 0.0),
        Value::Str(text) => !text.is_empty(),
        Value::Seq(items) => !items.is_empty(),
        Value::Map(map) => !map.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_test as node;

    #[test]
    fn typed_fields_where_the_table_maps_the_rest_under_values() {
        let values = node(concat!(
            "agent:\n  acceptEula: \"Y\"\n  name: prod-eu-build\n  worker: {enabled: true, initial: {workerPools: [Build]}}\n",
            "  image: {repository: octopusdeploy/kubernetes-agent-tentacle, tag: 9.2.4285}\n",
            "  logLevel: Debug\n  pollingConnectionCount: 10\n  metadata: {labels: {team: a}}\n",
            "scriptPods:\n  worker: {image: {repository: octopusdeploy/worker-tools, tag: 9.20, pullPolicy: Always}}\n",
            "  resources: {requests: {cpu: 1, memory: 2Gi}}\n  proxies: {http_proxy: 'http://proxy:3128'}\n",
            "persistence: {size: 20Gi}\n",
        ));
        let fields = declaration(values, Some("octopus-agent-build"), "build", "prod-eu-build");
        let expected = node(concat!(
            "workerPools: [Build]\nlogLevel: Debug\npollingConnectionCount: 10\n",
            "agent: {image: 'octopusdeploy/kubernetes-agent-tentacle:9.2.4285'}\n",
            "scriptPods: {proxies: {http: 'http://proxy:3128'}}\nstorage: {size: 20Gi}\n",
            "values:\n  agent: {metadata: {labels: {team: a}}}\n",
            "  scriptPods:\n    worker: {image: {repository: octopusdeploy/worker-tools, tag: 9.20, pullPolicy: Always}}\n",
            "    resources: {requests: {cpu: 1, memory: 2Gi}}\n",
        ));
        assert!(tree::same(&fields, &expected), "{}", crate::yaml::emit(&fields));
    }

    #[test]
    fn names_and_namespaces_only_when_not_the_default() {
        let values = node("agent: {name: custom, worker: {initial: {workerPools: [A]}}}\n");
        let fields = declaration(values, Some("agents"), "w", "e-c-w");
        // Pools without `worker.enabled: true` would gain it: they stay as they are.
        let expected =
            node("displayName: custom\nnamespace: agents\nvalues: {agent: {worker: {initial: {workerPools: [A]}}}}\n");
        assert!(tree::same(&fields, &expected), "{}", crate::yaml::emit(&fields));
    }

    #[test]
    fn the_octopus_rows_go_to_the_environment() {
        let mut values =
            node("agent: {serverUrl: 'https://o/', serverCommsAddress: 'https://o:10943/', space: S, name: n}\n");
        let octopus = take_octopus(&mut values);
        assert!(tree::same(
            &octopus,
            &node("{serverUrl: 'https://o/', serverCommsAddress: 'https://o:10943/', space: S}\n")
        ));
        assert!(tree::same(&values, &node("agent: {name: n}\n")));
    }

    #[test]
    fn to_v3_keeps_nfs_or_the_named_class() {
        let mut values = node("agent: {name: a}\n");
        assert_eq!(
            migrate_to_v3(&mut values, Loc::default()),
            ["persistence.accessModes", "persistence.nfs.enabled"]
        );
        assert!(tree::same(
            &values,
            &node("agent: {name: a}\npersistence: {accessModes: [ReadWriteMany], nfs: {enabled: true}}\n")
        ));
        let mut values = node("persistence: {storageClassName: azurefile, accessModes: [ReadWriteOnce]}\n");
        assert_eq!(migrate_to_v3(&mut values, Loc::default()), ["persistence.nfs.enabled"]);
        assert!(tree::same(
            &values,
            &node("persistence: {storageClassName: azurefile, accessModes: [ReadWriteOnce], nfs: {enabled: false}}\n")
        ));
    }
}
