//! The declaration files' schema: serde types that mirror what users write.
//!
//! These types check each fragment (a `defaults` block, a worker, an `octopus` block)
//! for types and unknown keys where it is written. Merging works on the [`Node`] trees
//! (so provenance survives), and only the resolved model in `model` reaches rendering.
//!
//! [`Node`]: crate::yaml::Node

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, PodSecurityContext, ResourceRequirements, Toleration};
use schemars::JsonSchema;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::redact::normalize_key;

/// `workergen.yaml` keys.
pub const REPO_KEYS: &[&str] = &["chart", "acceptEula", "output", "gitops", "labelPrefix", "defaults"];
/// `environment.yaml` keys.
pub const ENVIRONMENT_KEYS: &[&str] = &["octopus", "defaults", "chart", "secrets"];
/// Cluster file keys.
pub const CLUSTER_KEYS: &[&str] = &["cluster", "octopus", "defaults", "chart", "secrets", "workers"];

/// The path of the remote references under `secrets:` whose keys (`bearerToken`,
/// `apiKey`, `username`, `password`) name a credential's place in the secret store, not
/// the credential: the one place such keys are not refused as plaintext.
pub const REMOTE_REFS_PATH: [&str; 3] = ["secrets", "externalSecret", "remoteRefs"];

/// Keys that hold a secret value in the chart or that a user might reach for, as
/// [`normalize_key`] spells them: `Password`, `bearer_token` and `serverApikey` are
/// refused like `password`, `bearerToken` and `serverApiKey`. Keys that name a Secret
/// (`bearerTokenSecret`) are not among them.
pub const PLAINTEXT_KEYS: &[&str] = &[
    "bearertoken",
    "serverapikey",
    "apikey",
    "username",
    "password",
    "certificate",
    "token",
];

/// Worker fields that no longer exist but are still read, so that a file that sets
/// one gets an error that says what replaced it (`enabled`: `installed` and `disabled`).
pub const RETIRED_FIELDS: [&str; 1] = ["enabled"];

/// Whether a key of this name would hold a plaintext credential, whatever its case or
/// separators. Every such key is also hidden in excerpts ([`crate::redact::is_credential_key`]).
pub fn is_plaintext_key(name: &str) -> bool {
    PLAINTEXT_KEYS.contains(&normalize_key(name).as_str())
}

/// The `chart:` block, in `workergen.yaml`, an environment or a cluster file.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartSpec {
    pub repository: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

/// `gitops:` in `workergen.yaml`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitopsSpec {
    pub engine: Option<Engine>,
    pub argocd: Option<ArgocdSpec>,
    pub flux: Option<FluxSpec>,
}

/// How the rendered workers reach their clusters.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Flux,
    Argocd,
    // `init --engine` scaffolds a GitOps engine; `none` is only for `workergen.yaml`.
    #[value(skip)]
    None,
}

impl Engine {
    /// The engine as `workergen.yaml` spells it; templates and messages see the same.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Flux => "flux",
            Engine::Argocd => "argocd",
            Engine::None => "none",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgocdSpec {
    pub namespace: Option<String>,
    pub project: Option<String>,
    #[serde(rename = "repoURL")]
    pub repo_url: Option<String>,
    pub target_revision: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FluxSpec {
    pub namespace: Option<String>,
    pub interval: Option<String>,
    /// The Flux source that holds this repository, which the rendered `Kustomization`s
    /// read: default `{ kind: GitRepository, name: flux-system }` (what `flux bootstrap` makes).
    pub source_ref: Option<SourceRefSpec>,
}

/// `gitops.flux.sourceRef`: a Flux source in `gitops.flux.namespace`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRefSpec {
    /// `GitRepository` (default), `OCIRepository` or `Bucket`.
    pub kind: Option<String>,
    pub name: Option<String>,
}

/// `octopus:` in `environment.yaml`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OctopusSpec {
    pub server_url: Option<String>,
    pub server_comms_address: Option<String>,
    pub server_comms_addresses: Option<Vec<String>>,
    pub space: Option<String>,
    pub auth: Option<AuthSpec>,
    pub server_certificate_secret: Option<String>,
    /// The environment variable that holds the API key `workergen status` uses for this
    /// server (default `OCTOPUS_API_KEY`); the key itself is never written in a file.
    pub api_key_env: Option<String>,
    /// Instead of `apiKeyEnv`: the environment variable that holds an access token (a
    /// service account's, or one from an OIDC exchange), sent as `Authorization: Bearer`.
    pub access_token_env: Option<String>,
}

/// `octopus:` in a cluster file: the credentials its workers use where they differ from
/// the environment's (installs of one environment made with other Secrets). The server,
/// space and polling addresses are the environment's: one environment, one server.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterOctopusSpec {
    /// Replaces the environment's `octopus.auth` whole.
    pub auth: Option<AuthSpec>,
    /// Replaces the environment's `octopus.serverCertificateSecret`.
    pub server_certificate_secret: Option<String>,
}

/// `octopus.auth`: one credential kind, by Secret name.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthSpec {
    pub bearer_token_secret: Option<String>,
    pub api_key_secret: Option<String>,
    pub username_password_secret: Option<String>,
}

/// `secrets:` in an environment or cluster file (layered like `chart:`): how the
/// credential Secrets reach each worker's namespace. Without it they must exist already.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The schema: serde type-checks `secrets:` where it is written; the model merges the
// layers' `Node`s and reads the merged `externalSecret` itself.
#[allow(dead_code)]
pub struct SecretsSpec {
    /// One External Secrets Operator `ExternalSecret` (`external-secrets.io/v1`) per
    /// credential Secret, in each worker's namespace.
    pub external_secret: Option<ExternalSecretSpec>,
}

/// `secrets.externalSecret`: where ESO reads each credential. Every field may be set in
/// another layer (a cluster file overrides its environment's), so all are optional here;
/// validation asks for what the merged block lacks.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretSpec {
    /// The ESO store to read from: `{ kind: ClusterSecretStore | SecretStore, name }`.
    pub store_ref: Option<StoreRefSpec>,
    /// How often ESO reads the store again, a duration such as `1h` or `15m`; default `1h`.
    pub refresh_interval: Option<String>,
    /// One remote reference per Secret key the credential kind needs.
    pub remote_refs: Option<RemoteRefsSpec>,
}

/// `secrets.externalSecret.storeRef`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoreRefSpec {
    /// `ClusterSecretStore` or `SecretStore` (a `SecretStore` must then stand in each
    /// worker's namespace).
    pub kind: Option<String>,
    /// The store's name.
    pub name: Option<String>,
}

/// `secrets.externalSecret.remoteRefs`: what `octopus.auth` and
/// `octopus.serverCertificateSecret` need, no more: `bearerToken` for
/// `bearerTokenSecret`, `apiKey` for `apiKeySecret`, `username` and `password` for
/// `usernamePasswordSecret`, `serverCertificate` for `serverCertificateSecret`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteRefsSpec {
    /// The Secret key `bearer-token`.
    pub bearer_token: Option<RemoteRefSpec>,
    /// The Secret key `api-key`.
    pub api_key: Option<RemoteRefSpec>,
    /// The Secret key `username`.
    pub username: Option<RemoteRefSpec>,
    /// The Secret key `password`.
    pub password: Option<RemoteRefSpec>,
    /// The Secret key `octopus-server-certificate.pem` (the PEM).
    pub server_certificate: Option<RemoteRefSpec>,
}

/// One value in the secret store (ESO's `remoteRef`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteRefSpec {
    /// The key (path) in the store.
    pub key: Option<String>,
    /// A property of a structured value (a JSON field), when the value is not the secret itself.
    pub property: Option<String>,
    /// A version of the value, when the store keeps versions.
    pub version: Option<String>,
}

/// `cluster:` in a cluster file.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    pub destination: Option<DestinationSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DestinationSpec {
    pub server: Option<String>,
    pub name: Option<String>,
}

/// Worker fields, as written in any layer: everything optional, `null` allowed.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The fields no code reads are still the schema: serde type-checks each one
// (deny_unknown_fields), schemars documents it; `chart` reads the merged `Node`.
#[allow(dead_code)]
pub struct WorkerSpec {
    /// The worker's name in Octopus (`agent.name`); default `<env>-<cluster>-<worker>`.
    pub display_name: Option<String>,
    /// The release namespace; default `octopus-agent-<worker>`.
    pub namespace: Option<String>,
    /// Replaced by `installed` and `disabled`, which say which of its two meanings is
    /// wanted; kept in the type only so a file that still sets it gets an error at its line.
    #[schemars(skip)]
    pub enabled: Option<bool>,
    /// `false` uninstalls the worker: its release, Application or HelmRelease is removed
    /// from the cluster (its namespace stays). Default `true`.
    pub installed: Option<bool>,
    /// `true` keeps the worker installed but disabled in Octopus (`IsDisabled`, set by
    /// `workergen status --apply`): Octopus sends it no work. Default `false`.
    pub disabled: Option<bool>,
    /// The worker pools to join (names, slugs or IDs): `agent.worker.initial.workerPools`.
    pub worker_pools: Option<Vec<String>>,
    /// `agent.machinePolicyName`; use a policy with manual machine updates.
    pub machine_policy: Option<String>,
    /// `agent.logLevel`.
    pub log_level: Option<String>,
    /// `agent.pollingConnectionCount`: at least 1 (the agent opens that many connections).
    pub polling_connection_count: Option<std::num::NonZeroU32>,
    /// The agent (tentacle) pod.
    pub agent: Option<AgentSpec>,
    /// The pods that run each deployment step.
    pub script_pods: Option<ScriptPodsSpec>,
    /// The agent's persistent volume (`persistence.*`).
    pub storage: Option<StorageSpec>,
    /// Any values of the kubernetes-agent chart, merged last; every key must exist in
    /// the chart, and none may also be set by a field above.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    // Only the keys are read here: the values are checked against the chart later.
    #[allow(clippy::zero_sized_map_values)]
    pub values: Option<BTreeMap<String, IgnoredAny>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The fields no code reads are still the schema: serde type-checks each one
// (deny_unknown_fields), schemars documents it; `chart` reads the merged `Node`.
#[allow(dead_code)]
pub struct AgentSpec {
    pub image: Option<ImageSpec>,
    pub resources: Option<ResourceRequirements>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub tolerations: Option<Vec<Toleration>>,
    pub affinity: Option<Affinity>,
    pub service_account: Option<ServiceAccountSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The fields no code reads are still the schema: serde type-checks each one
// (deny_unknown_fields), schemars documents it; `chart` reads the merged `Node`.
#[allow(dead_code)]
pub struct ScriptPodsSpec {
    pub image: Option<ImageSpec>,
    pub resources: Option<ResourceRequirements>,
    pub tolerations: Option<Vec<Toleration>>,
    pub affinity: Option<Affinity>,
    pub security_context: Option<PodSecurityContext>,
    pub service_account: Option<ServiceAccountSpec>,
    pub proxies: Option<ProxiesSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The fields no code reads are still the schema: serde type-checks each one
// (deny_unknown_fields), schemars documents it; `chart` reads the merged `Node`.
#[allow(dead_code)]
pub struct ServiceAccountSpec {
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The fields no code reads are still the schema: serde type-checks each one
// (deny_unknown_fields), schemars documents it; `chart` reads the merged `Node`.
#[allow(dead_code)]
pub struct ProxiesSpec {
    pub http: Option<String>,
    pub https: Option<String>,
    pub no_proxy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The fields no code reads are still the schema: serde type-checks each one
// (deny_unknown_fields), schemars documents it; `chart` reads the merged `Node`.
#[allow(dead_code)]
pub struct StorageSpec {
    pub storage_class_name: Option<String>,
    pub size: Option<String>,
    pub access_modes: Option<Vec<String>>,
}

/// An image as `repository:tag` or as the chart's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSpec {
    Reference(String),
    Object(ImageObject),
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageObject {
    pub repository: Option<String>,
    pub tag: Option<String>,
    pub pull_policy: Option<PullPolicy>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl JsonSchema for ImageSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Image".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An image as `repository:tag`, or as the chart's object.",
            "oneOf": [
                { "type": "string", "pattern": "^[^@\\s]+:[^:/@\\s]+$" },
                generator.subschema_for::<ImageObject>()
            ]
        })
    }
}

/// `workergen.yaml`: the config repository's settings.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct RepoFile {
    /// The kubernetes-agent chart: `repository` (an `oci://` registry), `name`, exact `version`.
    chart: Option<ChartSpec>,
    /// You accept the Octopus customer agreement; rendering refuses without `true`.
    accept_eula: bool,
    /// The output folder; default `rendered`.
    output: Option<String>,
    /// How workers reach their clusters: `flux` (default), `argocd` or `none`.
    gitops: Option<GitopsSpec>,
    /// The prefix of the labels workergen adds (`<prefix>/environment`, `/cluster`,
    /// `/worker`): a DNS subdomain of your own; default `workergen`.
    label_prefix: Option<String>,
    /// Worker fields for every worker (the lowest layer).
    defaults: Option<WorkerSpec>,
}

/// `environments/<env>/environment.yaml`: one environment, its Octopus Server and defaults.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct EnvironmentFile {
    /// The environment's Octopus Server.
    octopus: OctopusSpec,
    /// Worker fields for every worker of this environment.
    defaults: Option<WorkerSpec>,
    /// Layered over `workergen.yaml`'s `chart:`.
    chart: Option<ChartSpec>,
    /// How the credential Secrets reach the workers' namespaces (External Secrets).
    secrets: Option<SecretsSpec>,
}

/// `environments/<env>/<cluster>.yaml`: one cluster and its workers.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct ClusterFile {
    /// Where the cluster's workers are deployed.
    cluster: ClusterSpec,
    /// The credentials of this cluster's workers, over the environment's `octopus:`.
    octopus: Option<ClusterOctopusSpec>,
    /// Worker fields for every worker of this cluster.
    defaults: Option<WorkerSpec>,
    /// Layered over the environment's `chart:`.
    chart: Option<ChartSpec>,
    /// Layered over the environment's `secrets:`.
    secrets: Option<SecretsSpec>,
    /// The workers, by name (the Helm release name: a DNS-1123 label of at most 49 characters).
    workers: Option<BTreeMap<String, Option<WorkerSpec>>>,
}

/// The JSON Schemas of the three declaration files, by file name under `schemas/`.
pub fn schemas() -> Vec<(&'static str, String)> {
    let render = |schema: schemars::Schema| {
        let mut schema = schema;
        let definitions = schema.as_object_mut().and_then(|root| root.get_mut("$defs"));
        if let Some(definitions) = definitions.and_then(|defs| defs.as_object_mut()) {
            definitions.values_mut().for_each(allow_null_values);
        }
        let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
        text.push('\n');
        text
    };
    vec![
        ("workergen.schema.json", render(schemars::schema_for!(RepoFile))),
        (
            "environment.schema.json",
            render(schemars::schema_for!(EnvironmentFile)),
        ),
        ("cluster.schema.json", render(schemars::schema_for!(ClusterFile))),
    ]
}

/// Lets every map value below `schema` be `null`, as a layer may write it to remove an
/// inherited value (`requests: {cpu: null}`, `nodeSelector: {pool: null}`).
/// List items stay as they are: a `null` in a list is no removal.
fn allow_null_values(schema: &mut serde_json::Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(properties) = object.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for property in properties.values_mut() {
            allow_null_values(property);
            make_nullable(property);
        }
    }
    if let Some(values) = object.get_mut("additionalProperties").filter(|v| v.is_object()) {
        allow_null_values(values);
        make_nullable(values);
    }
    for key in ["items", "anyOf", "oneOf", "allOf"] {
        match object.get_mut(key) {
            Some(serde_json::Value::Array(schemas)) => schemas.iter_mut().for_each(allow_null_values),
            Some(schema @ serde_json::Value::Object(_)) => allow_null_values(schema),
            _ => {}
        }
    }
}

fn allows_null(schema: &serde_json::Value) -> bool {
    let null = serde_json::Value::from("null");
    match schema.get("type") {
        Some(serde_json::Value::String(kind)) if kind == "null" => return true,
        Some(serde_json::Value::Array(kinds)) if kinds.contains(&null) => return true,
        _ => {}
    }
    ["anyOf", "oneOf"].iter().any(|key| {
        schema
            .get(key)
            .and_then(|options| options.as_array())
            .is_some_and(|options| options.iter().any(allows_null))
    })
}

fn make_nullable(schema: &mut serde_json::Value) {
    if allows_null(schema) {
        return;
    }
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let plain = ["$ref", "anyOf", "oneOf", "allOf", "enum", "const"]
        .iter()
        .all(|key| !object.contains_key(*key));
    if let (true, Some(serde_json::Value::String(kind))) = (plain, object.get("type")) {
        let kinds = serde_json::json!([kind, "null"]);
        object.insert("type".into(), kinds);
        return;
    }
    let description = object.remove("description");
    let inner = serde_json::Value::Object(std::mem::take(object));
    object.insert("anyOf".into(), serde_json::json!([inner, {"type": "null"}]));
    if let Some(description) = description {
        object.insert("description".into(), description);
    }
}

impl<'de> Deserialize<'de> for ImageSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ImageVisitor;
        impl<'de> serde::de::Visitor<'de> for ImageVisitor {
            type Value = ImageSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`repository:tag` or a map of `repository`, `tag`, `pullPolicy`")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ImageSpec, E> {
                Ok(ImageSpec::Reference(text.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ImageSpec, A::Error> {
                ImageObject::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ImageSpec::Object)
            }
        }
        deserializer.deserialize_any(ImageVisitor)
    }
}

impl ImageSpec {
    /// Splits `repository:tag` at a `:` after the last `/`. Digests (`@sha256:...`) are
    /// refused: the chart always joins repository and tag with a `:`.
    pub fn split_reference(reference: &str) -> Option<(&str, &str)> {
        if reference.contains(char::is_whitespace) {
            return None;
        }
        // `repo:tag@sha256:…`: the digest stays with the tag, as the object form's
        // `tag: "6.5.0@sha256:…"` holds it (the chart writes `repository:tag`).
        let name = match reference.split_once('@') {
            Some((name, digest)) if !digest.is_empty() && !digest.contains('@') => name,
            Some(_) => return None,
            None => reference,
        };
        let slash = name.rfind('/').map_or(0, |index| index + 1);
        let colon = name[slash..].rfind(':')? + slash;
        let (repository, tag) = (&reference[..colon], &reference[colon + 1..]);
        (!repository.is_empty() && colon + 1 < name.len()).then_some((repository, tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::is_credential_key;

    #[test]
    fn committed_schemas_are_up_to_date() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        for (name, text) in schemas() {
            let committed = std::fs::read_to_string(folder.join(name)).unwrap_or_default();
            assert!(
                committed == text,
                "schemas/{name} is stale: run `cargo run -- schema --write schemas` and commit it"
            );
        }
    }

    #[test]
    fn splits_image_references() {
        assert_eq!(
            ImageSpec::split_reference("octopusdeploy/worker-tools:6.5.0-ubuntu.22.04"),
            Some(("octopusdeploy/worker-tools", "6.5.0-ubuntu.22.04"))
        );
        assert_eq!(
            ImageSpec::split_reference("registry:5000/team/img:1.2"),
            Some(("registry:5000/team/img", "1.2"))
        );
        assert_eq!(ImageSpec::split_reference("registry:5000/team/img"), None);
        assert_eq!(
            ImageSpec::split_reference("harbor.dc1/worker-tools:6.5.0@sha256:0123abcd"),
            Some(("harbor.dc1/worker-tools", "6.5.0@sha256:0123abcd"))
        );
        assert_eq!(ImageSpec::split_reference("img@sha256:0123abcd"), None);
        assert_eq!(ImageSpec::split_reference("img:1@"), None);
        assert_eq!(ImageSpec::split_reference("img:@sha256:1"), None);
        assert_eq!(ImageSpec::split_reference("img"), None);
        assert_eq!(ImageSpec::split_reference("img:"), None);
    }

    #[test]
    fn plaintext_keys_in_any_spelling() {
        for key in [
            "bearerToken",
            "BearerToken",
            "bearer_token",
            "Password",
            "PASSWORD",
            "serverApikey",
            "server-api-key",
            "apiKey",
            "username",
            "token",
            "certificate",
        ] {
            assert!(is_plaintext_key(key), "{key}");
        }
        for key in [
            "bearerTokenSecret",
            "apiKeySecret",
            "usernamePasswordSecret",
            "serverCertificateSecret",
            "serverCertificate",
            "tokens",
            "passwordless",
        ] {
            assert!(!is_plaintext_key(key), "{key}");
        }
    }

    #[test]
    fn every_refused_key_is_hidden_in_excerpts() {
        for key in PLAINTEXT_KEYS {
            assert!(is_credential_key(key), "{key}");
        }
    }
}
