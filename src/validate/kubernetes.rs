//! Kubernetes fields checked for meaning, not only shape: what the API server (or the
//! agent's script pods, which read the same fields as JSON) would refuse at install,
//! long after the merge, is refused here at its line, with the allowed values.
//!
//! The rules are those Kubernetes validation applies (`apimachinery`'s
//! `IsQualifiedName`, `IsValidLabelValue` and `ValidateAnnotationsSize`, `core/v1`
//! validation of tolerations, node selector requirements and field selectors, label
//! selectors and security contexts), for the fields a worker sets, typed or through
//! `values` at the same chart path.

use crate::diagnostic::Diagnostic;
use crate::model::Worker;
use crate::yaml::{Node, Value};

/// Where a worker sets each kind of field: typed, and through `values`.
const NODE_SELECTORS: &[&[&str]] = &[&["agent", "nodeSelector"], &["values", "agent", "nodeSelector"]];
const TOLERATIONS: &[&[&str]] = &[
    &["agent", "tolerations"],
    &["scriptPods", "tolerations"],
    &["values", "agent", "tolerations"],
    &["values", "scriptPods", "tolerations"],
];
const AFFINITIES: &[&[&str]] = &[
    &["agent", "affinity"],
    &["scriptPods", "affinity"],
    &["values", "agent", "affinity"],
    &["values", "scriptPods", "affinity"],
];
const ANNOTATIONS: &[&[&str]] = &[
    &["agent", "serviceAccount", "annotations"],
    &["scriptPods", "serviceAccount", "annotations"],
    &["values", "agent", "serviceAccount", "annotations"],
    &["values", "scriptPods", "serviceAccount", "annotations"],
];
const PULL_POLICIES: &[&[&str]] = &[
    &["agent", "image", "pullPolicy"],
    &["scriptPods", "image", "pullPolicy"],
    &["values", "agent", "image", "pullPolicy"],
    &["values", "scriptPods", "worker", "image", "pullPolicy"],
];

/// Every annotation map the chart writes onto an object, for the size limit.
const ANNOTATION_MAPS: &[&[&str]] = &[
    &["agent", "serviceAccount", "annotations"],
    &["scriptPods", "serviceAccount", "annotations"],
    &["values", "agent", "serviceAccount", "annotations"],
    &["values", "scriptPods", "serviceAccount", "annotations"],
    &["values", "agent", "metadata", "annotations"],
    &["values", "scriptPods", "metadata", "annotations"],
    &["values", "scriptPods", "podTemplate", "podMetadata", "annotations"],
];
/// The pod security contexts the chart takes: the script pods' (typed), the agent's, and
/// the pod specs it merges in, through `values`.
const POD_SECURITY_CONTEXTS: &[&[&str]] = &[
    &["scriptPods", "securityContext"],
    &["values", "agent", "securityContext"],
    &["values", "scriptPods", "securityContext"],
    &["values", "agent", "spec", "securityContext"],
    &["values", "scriptPods", "podTemplate", "podSpec", "securityContext"],
];
/// The container security contexts the chart takes, all through `values`.
const CONTAINER_SECURITY_CONTEXTS: &[&[&str]] = &[
    &["values", "agent", "containers", "tentacle", "spec", "securityContext"],
    &[
        "values",
        "scriptPods",
        "podTemplate",
        "scriptContainerSpec",
        "securityContext",
    ],
    &[
        "values",
        "scriptPods",
        "podTemplate",
        "watchdogContainerSpec",
        "securityContext",
    ],
];

/// Kubernetes' `TotalAnnotationSizeLimitB`: the keys and values of one object's
/// annotations, in bytes, together.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
const PROFILE_TYPES: &[&str] = &["RuntimeDefault", "Unconfined", "Localhost"];
const NODE_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const LABEL_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist"];

pub(crate) fn check(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    let at = |path: &[&str]| worker.fields.get_path(path.iter().copied());
    for node in NODE_SELECTORS.iter().filter_map(|path| at(path)) {
        check_labels(node, diagnostics);
    }
    for node in TOLERATIONS.iter().filter_map(|path| at(path)) {
        items(node).for_each(|toleration| check_toleration(toleration, diagnostics));
    }
    for node in AFFINITIES.iter().filter_map(|path| at(path)) {
        check_affinity(node, diagnostics);
    }
    for node in ANNOTATIONS.iter().filter_map(|path| at(path)) {
        if let Some(map) = node.as_map() {
            for (key, _) in map.entries() {
                check_key(&key.name, key.loc, "annotation key", diagnostics);
            }
        }
    }
    for node in PULL_POLICIES.iter().filter_map(|path| at(path)) {
        one_of(node, "pullPolicy", &["Always", "IfNotPresent", "Never"], diagnostics);
    }
    for node in ANNOTATION_MAPS.iter().filter_map(|path| at(path)) {
        check_annotations_size(node, diagnostics);
    }
    for node in POD_SECURITY_CONTEXTS.iter().filter_map(|path| at(path)) {
        check_security_context(node, Context::Pod, diagnostics);
    }
    for node in CONTAINER_SECURITY_CONTEXTS.iter().filter_map(|path| at(path)) {
        check_security_context(node, Context::Container, diagnostics);
    }
}

/// One object's annotations: keys and values together within [`ANNOTATIONS_MAX_BYTES`],
/// as Kubernetes' `ValidateAnnotationsSize` counts them.
fn check_annotations_size(node: &Node, diagnostics: &mut Vec<Diagnostic>) {
    let Some(map) = node.as_map() else {
        return;
    };
    let bytes: usize = map
        .entries()
        .iter()
        .map(|(key, value)| key.name.len() + value.as_str().map_or(0, str::len))
        .sum();
    if bytes > ANNOTATIONS_MAX_BYTES {
        diagnostics.push(
            Diagnostic::error(
                node.loc,
                format!("these annotations hold {bytes} bytes; Kubernetes allows at most {ANNOTATIONS_MAX_BYTES} (256 KiB), keys and values together"),
            )
            .with_hint("keep large data out of annotations: a ConfigMap holds up to 1 MiB"),
        );
    }
}

/// What a security context belongs to: a pod's and a container's take different fields.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Pod,
    Container,
}

/// A security context's enumerated fields and its seccomp and AppArmor profiles.
/// Capability names are not checked: Kubernetes takes any, and the runtime decides.
fn check_security_context(context: &Node, kind: Context, diagnostics: &mut Vec<Diagnostic>) {
    let fields: &[(&str, &[&str])] = match kind {
        Context::Pod => &[
            ("fsGroupChangePolicy", &["OnRootMismatch", "Always"]),
            ("supplementalGroupsPolicy", &["Merge", "Strict"]),
            ("seLinuxChangePolicy", &["MountOption", "Recursive"]),
        ],
        Context::Container => &[("procMount", &["Default", "Unmasked"])],
    };
    for (field, allowed) in fields {
        if let Some(node) = context.get(field) {
            one_of(node, field, allowed, diagnostics);
        }
    }
    for profile in ["seccompProfile", "appArmorProfile"] {
        if let Some(node) = context.get(profile).filter(|node| node.as_map().is_some()) {
            check_profile(node, profile, diagnostics);
        }
    }
}

/// A `seccompProfile` or `appArmorProfile`: a `type` of [`PROFILE_TYPES`], and a
/// `localhostProfile` exactly when the type is `Localhost`.
fn check_profile(profile: &Node, field: &str, diagnostics: &mut Vec<Diagnostic>) {
    let Some(type_node) = profile.get("type").filter(|node| !node.is_null()) else {
        diagnostics.push(
            Diagnostic::error(profile.loc, format!("`{field}` needs a `type`"))
                .with_hint(format!("one of {}", listed(PROFILE_TYPES))),
        );
        return;
    };
    let Some(kind) = type_node.as_str() else {
        return;
    };
    if !PROFILE_TYPES.contains(&kind) {
        one_of(type_node, &format!("{field}.type"), PROFILE_TYPES, diagnostics);
        return;
    }
    let localhost = profile
        .get("localhostProfile")
        .filter(|node| !node.is_null() && node.as_str() != Some(""));
    let where_profiles_are = if field == "seccompProfile" {
        "the profile's path below the kubelet's seccomp folder, e.g. `profiles/audit.json`"
    } else {
        "the name of a profile loaded on the node"
    };
    match (kind == "Localhost", localhost) {
        (true, None) => diagnostics.push(
            Diagnostic::error(
                type_node.loc,
                format!("`{field}.type: Localhost` needs a `localhostProfile`"),
            )
            .with_hint(format!("set `localhostProfile` to {where_profiles_are}")),
        ),
        (false, Some(node)) => diagnostics.push(
            Diagnostic::error(
                node.loc,
                format!("`{field}.localhostProfile` is only for `type: Localhost`, not `{kind}`"),
            )
            .with_hint("remove `localhostProfile`, or set `type: Localhost`"),
        ),
        _ => {}
    }
}

/// The items of a list node (none for anything else).
fn items(node: &Node) -> impl Iterator<Item = &Node> {
    match &node.value {
        Value::Seq(items) => items.as_slice(),
        _ => &[],
    }
    .iter()
}

/// The text of `key` under `node`, with the node, when it is text.
fn text<'a>(node: &'a Node, key: &str) -> Option<(&'a str, &'a Node)> {
    let child = node.get(key)?;
    child.as_str().map(|text| (text, child))
}

/// `field` (a text under some node) is one of `allowed`.
fn one_of(node: &Node, field: &str, allowed: &[&str], diagnostics: &mut Vec<Diagnostic>) {
    let Some(value) = node.as_str() else {
        return;
    };
    if !allowed.contains(&value) {
        let hint = match crate::diagnostic::did_you_mean(value, allowed.iter().copied()) {
            Some(close) => format!("did you mean `{close}`? ({})", listed(allowed)),
            None => format!("one of {}", listed(allowed)),
        };
        diagnostics.push(
            Diagnostic::error(node.loc, format!("`{field}: {value}` is not one Kubernetes knows")).with_hint(hint),
        );
    }
}

fn listed(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|value| format!("`{value}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A map of labels (a node selector, `matchLabels`): keys and values.
fn check_labels(node: &Node, diagnostics: &mut Vec<Diagnostic>) {
    let Some(map) = node.as_map() else {
        return;
    };
    for (key, value) in map.entries() {
        check_key(&key.name, key.loc, "label key", diagnostics);
        if let Some(text) = value.as_str() {
            check_label_value(text, value, diagnostics);
        }
    }
}

/// A qualified name, as label and annotation keys are: an optional DNS-1123 subdomain
/// prefix of at most 253 characters and `/`, then a name of at most 63 characters of
/// letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
fn check_key(key: &str, loc: crate::source::Loc, what: &str, diagnostics: &mut Vec<Diagnostic>) {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let problem = if let Some(prefix) =
        prefix.filter(|prefix| prefix.len() > 253 || !crate::names::is_dns_subdomain(prefix))
    {
        Some(format!(
            "its prefix `{}` is not a DNS-1123 subdomain of at most 253 characters",
            shorten(prefix)
        ))
    } else if name.is_empty() || name.len() > 63 {
        Some(format!(
            "its name part has {} characters; 1 to 63 are allowed",
            name.chars().count()
        ))
    } else if !is_label_text(name) {
        Some("its name part holds a character other than letters, digits, `-`, `_` and `.`, or does not start and end with a letter or digit".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        diagnostics.push(
            Diagnostic::error(loc, format!("{what} `{}` is not valid in Kubernetes: {problem}", shorten(key)))
                .with_hint("a key is `[prefix/]name`: the prefix a DNS subdomain such as `example.com`, the name at most 63 of `a-z A-Z 0-9 - _ .`, starting and ending with a letter or digit"),
        );
    }
}

/// A label value: at most 63 characters, empty or like a key's name part.
fn check_label_value(value: &str, node: &Node, diagnostics: &mut Vec<Diagnostic>) {
    if value.is_empty() || (value.len() <= 63 && is_label_text(value)) {
        return;
    }
    let problem = if value.len() > 63 {
        format!("it has {} characters, at most 63 are allowed", value.chars().count())
    } else {
        "it holds a character other than letters, digits, `-`, `_` and `.`, or does not start and end with a letter or digit".to_string()
    };
    diagnostics.push(
        Diagnostic::error(
            node.loc,
            format!("label value `{}` is not valid in Kubernetes: {problem}", shorten(value)),
        )
        .with_hint(
            "a label value is empty or at most 63 of `a-z A-Z 0-9 - _ .`, starting and ending with a letter or digit",
        ),
    );
}

fn is_label_text(text: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    text.starts_with(alphanumeric)
        && text.ends_with(alphanumeric)
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// At most 80 characters of `text`, for a message about a long key.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(80).collect::<String>())
    }
}

/// One toleration: its operator and effect, `Exists` without a value, an empty key
/// only with `Exists`, `tolerationSeconds` only with `NoExecute`.
fn check_toleration(toleration: &Node, diagnostics: &mut Vec<Diagnostic>) {
    // An empty operator is `Equal`, an empty effect every effect.
    let operator = text(toleration, "operator").filter(|(operator, _)| !operator.is_empty());
    if let Some((_, node)) = operator {
        one_of(node, "operator", &["Exists", "Equal"], diagnostics);
    }
    if let Some(node) = toleration.get("effect").filter(|node| node.as_str() != Some("")) {
        one_of(node, "effect", EFFECTS, diagnostics);
    }
    let exists = operator.is_some_and(|(operator, _)| operator == "Exists");
    let value = text(toleration, "value").filter(|(value, _)| !value.is_empty());
    if let (true, Some((_, node))) = (exists, value) {
        diagnostics.push(
            Diagnostic::error(node.loc, "a toleration with `operator: Exists` takes no `value`")
                .with_hint("remove `value`, or use `operator: Equal` to match it"),
        );
    }
    let key = text(toleration, "key").map_or("", |(key, _)| key);
    if key.is_empty() && !exists {
        diagnostics.push(
            Diagnostic::error(toleration.loc, "a toleration without a `key` needs `operator: Exists`")
                .with_hint("set `key`, or `operator: Exists` to tolerate every taint"),
        );
    } else if !key.is_empty() {
        let loc = toleration.get("key").map_or(toleration.loc, |node| node.loc);
        check_key(key, loc, "toleration key", diagnostics);
    }
    let seconds = toleration.get("tolerationSeconds").filter(|node| !node.is_null());
    let effect = text(toleration, "effect").map(|(effect, _)| effect);
    if let (Some(node), false) = (seconds, effect == Some("NoExecute")) {
        diagnostics.push(
            Diagnostic::error(node.loc, "`tolerationSeconds` applies only to `effect: NoExecute`")
                .with_hint("set `effect: NoExecute`, or remove `tolerationSeconds`"),
        );
    }
}

/// Node affinity's selector terms and pod (anti-)affinity's label selectors.
fn check_affinity(affinity: &Node, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(node_affinity) = affinity.get("nodeAffinity") {
        let required = node_affinity.get_path(["requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]);
        let preferred = node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution");
        let terms = required.into_iter().flat_map(items).chain(
            preferred
                .into_iter()
                .flat_map(items)
                .filter_map(|item| item.get("preference")),
        );
        for term in terms {
            for requirement in term.get("matchExpressions").into_iter().flat_map(items) {
                check_requirement(requirement, NODE_OPERATORS, diagnostics);
            }
            for requirement in term.get("matchFields").into_iter().flat_map(items) {
                check_field_requirement(requirement, diagnostics);
            }
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pod_affinity) = affinity.get(kind) else {
            continue;
        };
        let required = pod_affinity.get("requiredDuringSchedulingIgnoredDuringExecution");
        let preferred = pod_affinity.get("preferredDuringSchedulingIgnoredDuringExecution");
        let terms = required.into_iter().flat_map(items).chain(
            preferred
                .into_iter()
                .flat_map(items)
                .filter_map(|item| item.get("podAffinityTerm")),
        );
        for term in terms {
            check_pod_affinity_term(term, diagnostics);
        }
    }
}

fn check_pod_affinity_term(term: &Node, diagnostics: &mut Vec<Diagnostic>) {
    for selector in ["labelSelector", "namespaceSelector"]
        .iter()
        .filter_map(|key| term.get(key))
    {
        if let Some(labels) = selector.get("matchLabels") {
            check_labels(labels, diagnostics);
        }
        for requirement in selector.get("matchExpressions").into_iter().flat_map(items) {
            check_requirement(requirement, LABEL_OPERATORS, diagnostics);
        }
    }
    match text(term, "topologyKey") {
        Some((key, node)) => check_key(key, node.loc, "topology key", diagnostics),
        None => diagnostics.push(
            Diagnostic::error(term.loc, "a pod affinity term needs a `topologyKey`")
                .with_hint("e.g. `topologyKey: kubernetes.io/hostname`"),
        ),
    }
}

/// One `matchFields` item of node affinity: Kubernetes selects nodes by one field only,
/// `metadata.name`, with `In` or `NotIn` and exactly one value.
fn check_field_requirement(requirement: &Node, diagnostics: &mut Vec<Diagnostic>) {
    if let Some((key, node)) = text(requirement, "key") {
        if key != "metadata.name" {
            diagnostics.push(
                Diagnostic::error(
                    node.loc,
                    format!("`matchFields` cannot select nodes by `{}`", shorten(key)),
                )
                .with_hint(
                    "the one field Kubernetes takes is `metadata.name`; select by labels with `matchExpressions`",
                ),
            );
        }
    }
    let Some((operator, operator_node)) = text(requirement, "operator") else {
        return;
    };
    if !["In", "NotIn"].contains(&operator) {
        one_of(operator_node, "operator", &["In", "NotIn"], diagnostics);
        return;
    }
    let count = requirement.get("values").into_iter().flat_map(items).count();
    if count != 1 {
        let at = requirement.get("values").map_or(operator_node.loc, |node| node.loc);
        diagnostics.push(
            Diagnostic::error(
                at,
                format!("`matchFields` with `operator: {operator}` takes exactly one value, found {count}"),
            )
            .with_hint("to match several nodes, give each its own `nodeSelectorTerms` entry: terms are ORed, the items of one term ANDed"),
        );
    }
}

/// One `matchExpressions` item: an operator of `operators` and the values it takes.
fn check_requirement(requirement: &Node, operators: &[&str], diagnostics: &mut Vec<Diagnostic>) {
    if let Some((key, node)) = text(requirement, "key") {
        check_key(key, node.loc, "label key", diagnostics);
    }
    let Some((operator, operator_node)) = text(requirement, "operator") else {
        return;
    };
    if !operators.contains(&operator) {
        one_of(operator_node, "operator", operators, diagnostics);
        return;
    }
    let values: Vec<&Node> = requirement.get("values").into_iter().flat_map(items).collect();
    let at = requirement.get("values").map_or(operator_node.loc, |node| node.loc);
    let problem = match operator {
        "In" | "NotIn" if values.is_empty() => {
            Some(format!("`operator: {operator}` needs at least one value in `values`"))
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => Some(format!("`operator: {operator}` takes no `values`")),
        "Gt" | "Lt" if values.len() != 1 || values[0].as_str().is_none_or(|value| value.parse::<i64>().is_err()) => {
            Some(format!("`operator: {operator}` takes exactly one value, an integer"))
        }
        _ => None,
    };
    if let Some(problem) = problem {
        diagnostics.push(Diagnostic::error(at, problem).with_hint(
            "`In` and `NotIn` take one or more values, `Exists` and `DoesNotExist` none, `Gt` and `Lt` one integer",
        ));
        return;
    }
    if !matches!(operator, "Gt" | "Lt") {
        for value in values {
            if let Some(text) = value.as_str() {
                check_label_value(text, value, diagnostics);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Loc;

    fn key_problems(key: &str) -> usize {
        let mut diagnostics = Vec::new();
        check_key(key, Loc::default(), "label key", &mut diagnostics);
        diagnostics.len()
    }

    /// The messages for the annotations `map` (keys and values written out).
    fn annotation_problems(map: &[(String, String)]) -> Vec<String> {
        let text: String = map.iter().map(|(key, value)| format!("{key}: {value}\n")).collect();
        let node = crate::yaml::parse_test(&text);
        let mut diagnostics = Vec::new();
        check_annotations_size(&node, &mut diagnostics);
        diagnostics.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn annotations_together_fit_256_kib() {
        // Four annotations of 65,536 bytes, keys included: exactly the limit.
        let value = |key: &str| "v".repeat(65_536 - key.len());
        let at_limit: Vec<(String, String)> = ["a", "b", "c", "d"]
            .iter()
            .map(|key| ((*key).to_string(), value(key)))
            .collect();
        assert_eq!(annotation_problems(&at_limit), Vec::<String>::new());
        let mut over = at_limit;
        over.push(("e".to_string(), String::new()));
        assert_eq!(
            annotation_problems(&over),
            ["these annotations hold 262145 bytes; Kubernetes allows at most 262144 (256 KiB), keys and values together"]
        );
    }

    #[test]
    fn keys_follow_kubernetes_qualified_names() {
        for good in [
            "a",
            "kubernetes.io/os",
            "node.kubernetes.io/instance-type",
            "A_b.c-D",
            &"k".repeat(63),
            &format!("{}/x", ["a"; 127].join(".")),
        ] {
            assert_eq!(key_problems(good), 0, "{good}");
        }
        for bad in [
            "",
            "bad key!",
            "-a",
            "a-",
            &"k".repeat(64),
            &"k".repeat(1001),
            "Example.com/x",
            "example.com/",
            "/x",
            &format!("{}/x", ["a"; 128].join(".")),
        ] {
            assert_eq!(key_problems(bad), 1, "{bad}");
        }
    }

    #[test]
    fn label_values_are_short_names_or_empty() {
        let node = crate::yaml::Node::string("", Loc::default());
        let problems = |value: &str| {
            let mut diagnostics = Vec::new();
            check_label_value(value, &node, &mut diagnostics);
            diagnostics.len()
        };
        for good in ["", "a", "v1.2_3-x", &"v".repeat(63)] {
            assert_eq!(problems(good), 0, "{good}");
        }
        for bad in [&"v".repeat(64) as &str, "a b", "-a", "a.", "é"] {
            assert_eq!(problems(bad), 1, "{bad}");
        }
    }
}
