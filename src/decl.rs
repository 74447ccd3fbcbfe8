//! The declaration files' schema: serde types that mirror what users write.
//!
//! These types check each fragment (a `defaults` block, a worker, an `octopus` block)
//! for types and unknown keys where it is written. Merging works on the [`Node`] trees
//! (so provenance survives), and only the resolved model in `model` reaches rendering.
//!
//! [`Node`]: crate::yaml::Node

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, PodSecurityContext, ResourceRequirements, Toleration};
use serde::de::IgnoredAny;
use serde::Deserialize;

/// `workergen.yaml` keys besides `chart` and `defaults`.
pub const REPO_KEYS: &[&str] = &["chart", "acceptEula", "output", "gitops", "defaults"];
/// `environment.yaml` keys.
pub const ENVIRONMENT_KEYS: &[&str] = &["octopus", "defaults", "chart"];
/// Cluster file keys.
pub const CLUSTER_KEYS: &[&str] = &["cluster", "defaults", "chart", "workers"];

/// The `chart:` block, in `workergen.yaml`, an environment or a cluster file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartSpec {
    pub repository: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

/// `gitops:` in `workergen.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitopsSpec {
    pub engine: Option<Engine>,
    pub argocd: Option<ArgocdSpec>,
    pub flux: Option<FluxSpec>,
}

/// How the rendered workers reach their clusters.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Flux,
    Argocd,
    None,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgocdSpec {
    pub namespace: Option<String>,
    pub project: Option<String>,
    #[serde(rename = "repoURL")]
    pub repo_url: Option<String>,
    pub target_revision: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FluxSpec {
    pub namespace: Option<String>,
    pub interval: Option<String>,
}

/// `octopus:` in `environment.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OctopusSpec {
    pub server_url: Option<String>,
    pub server_comms_address: Option<String>,
    pub server_comms_addresses: Option<Vec<String>>,
    pub space: Option<String>,
    pub auth: Option<AuthSpec>,
    pub server_certificate_secret: Option<String>,
}

/// `octopus.auth`: one credential kind, by Secret name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    pub bearer_token_secret: Option<String>,
    pub api_key_secret: Option<String>,
    pub username_password_secret: Option<String>,
}

/// `cluster:` in a cluster file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    pub destination: Option<DestinationSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationSpec {
    pub server: Option<String>,
    pub name: Option<String>,
}

/// Worker fields, as written in any layer: everything optional, `null` allowed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerSpec {
    pub display_name: Option<String>,
    pub namespace: Option<String>,
    pub enabled: Option<bool>,
    pub worker_pools: Option<Vec<String>>,
    pub machine_policy: Option<String>,
    pub log_level: Option<String>,
    pub polling_connection_count: Option<u32>,
    pub agent: Option<AgentSpec>,
    pub script_pods: Option<ScriptPodsSpec>,
    pub storage: Option<StorageSpec>,
    /// Free chart values, checked against the chart's key tree separately.
    pub values: Option<BTreeMap<String, IgnoredAny>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSpec {
    pub image: Option<ImageSpec>,
    pub resources: Option<ResourceRequirements>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub tolerations: Option<Vec<Toleration>>,
    pub affinity: Option<Affinity>,
    pub service_account: Option<ServiceAccountSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptPodsSpec {
    pub image: Option<ImageSpec>,
    pub resources: Option<ResourceRequirements>,
    pub tolerations: Option<Vec<Toleration>>,
    pub affinity: Option<Affinity>,
    pub security_context: Option<PodSecurityContext>,
    pub service_account: Option<ServiceAccountSpec>,
    pub proxies: Option<ProxiesSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountSpec {
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxiesSpec {
    pub http: Option<String>,
    pub https: Option<String>,
    pub no_proxy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImageObject {
    pub repository: Option<String>,
    pub tag: Option<String>,
    pub pull_policy: Option<PullPolicy>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
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
        if reference.contains('@') || reference.contains(char::is_whitespace) {
            return None;
        }
        let slash = reference.rfind('/').map_or(0, |index| index + 1);
        let colon = reference[slash..].rfind(':')? + slash;
        let (repository, tag) = (&reference[..colon], &reference[colon + 1..]);
        (!repository.is_empty() && !tag.is_empty()).then_some((repository, tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(ImageSpec::split_reference("img"), None);
        assert_eq!(ImageSpec::split_reference("img:"), None);
    }
}
