//! Init: scaffold a config repository, commented field by field, with editor schemas.

use std::path::{Path, PathBuf};

use crate::decl::Engine;

/// Why init stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("refusing to overwrite {}", .0.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "))]
    Exists(Vec<PathBuf>),
    #[error("cannot write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn repo_file(engine: Engine, accept_eula: bool) -> String {
    let engine_name = engine.as_str();
    let eula = if accept_eula {
        "# You accepted the Octopus customer agreement (https://octopus.com/company/customer-agreement)\n# with `workergen init --accept-eula`; rendering refuses without this.\nacceptEula: true"
    } else {
        "# Read the Octopus customer agreement (https://octopus.com/company/customer-agreement);\n# if you agree, set this to true. Rendering refuses until then.\nacceptEula: false"
    };
    format!(
        r#"# yaml-language-server: $schema=schemas/workergen.schema.json
# workergen settings. Every key has a default except acceptEula.

# The Octopus kubernetes-agent Helm chart. The version is exact (no ranges), so renders
# are reproducible; an environment or cluster file may carry its own `chart:` block to
# roll a new version out step by step.
chart:
  repository: oci://registry-1.docker.io/octopusdeploy
  name: kubernetes-agent
  version: 3.13.2

{eula}

# Where rendered files go; workergen owns this folder.
output: rendered

gitops:
  # flux: a HelmRelease per worker, applied by one Kustomization per cluster file;
  # argocd: an Application per worker, held by one parent Application per cluster file;
  # none: Helm values only. Point one object at rendered/_flux/<destination> (Flux, per
  # cluster) or rendered/_argocd (Argo CD, once): README "Running a fleet".
  engine: {engine_name}
  flux:
    namespace: flux-system   # where the Flux objects live
    interval: 10m            # how often Flux reconciles
    # The Flux source of this repository that the rendered Kustomizations read.
    sourceRef: {{ kind: GitRepository, name: flux-system }}
  argocd:
    namespace: argocd        # where the Applications live
    project: default         # the Argo CD project
    # This repository's clone URL: Argo CD reads each worker's values.yaml from it.
    repoURL: https://git.example.com/platform/workers.git
    targetRevision: main

# The prefix of workergen's labels (<prefix>/environment, /cluster, /worker): a domain
# of your own, or `workergen`.
labelPrefix: workergen

# Worker fields for every worker: the lowest of the four layers (then the environment's
# defaults, the cluster's defaults, the worker itself).
defaults:
  # A machine policy whose machine updates are "Manually": otherwise Octopus upgrades
  # the release behind Git's back.
  machinePolicy: GitOps Workers - manual updates
  scriptPods:
    resources:
      requests: {{ cpu: 250m, memory: 512Mi }}
"#
    )
}

const ENVIRONMENT_FILE: &str = r"# yaml-language-server: $schema=../../schemas/environment.schema.json
# One environment: its Octopus Server and defaults for its workers.
octopus:
  serverUrl: https://octopus.example.com/
  # The polling addresses (with HA, every node). Without them the agent would register
  # in listening mode, which the chart does not serve.
  serverCommsAddresses:
    - https://octopus.example.com:10943/
  space: Default
  # Exactly one credential, as the name of a Secret in each worker's namespace:
  # bearerTokenSecret (key `bearer-token`), apiKeySecret (key `api-key`) or
  # usernamePasswordSecret (keys `username`, `password`). Never a plaintext credential.
  auth:
    bearerTokenSecret: octopus-worker-token
  # serverCertificateSecret: octopus-internal-ca   # a Secret with `octopus-server-certificate.pem`

# Where those Secrets come from. Without `secrets:` they must already exist in each
# worker's namespace (README: Creating the Secrets by hand). With the External Secrets
# Operator, workergen renders one ExternalSecret per Secret in each worker's namespace;
# you provide the store. A cluster file may carry its own `secrets:`, layered over this.
# secrets:
#   externalSecret:
#     storeRef: { kind: ClusterSecretStore, name: octopus }   # or kind: SecretStore
#     refreshInterval: 1h
#     remoteRefs:                     # exactly what `auth` needs: bearerToken, apiKey,
#                                     # or username + password
#       bearerToken: { key: octopus/example/worker-token }   # + optional property, version
#       # serverCertificate: { key: octopus/example/ca }    # with serverCertificateSecret

# Worker fields for every worker of this environment.
defaults:
  pollingConnectionCount: 5
";

const CLUSTER_FILE: &str = r#"# yaml-language-server: $schema=../../schemas/cluster.schema.json
# One cluster of the environment (its name is this file's name) and its workers.
cluster:
  # Where the workers are deployed: the API server URL, or the cluster's name in Argo CD.
  destination:
    server: https://kubernetes.default.svc

# Worker fields for every worker of this cluster.
defaults:
  workerPools: [Default Worker Pool]

workers:
  # The key is the Helm release name: a DNS-1123 label of at most 49 characters.
  # Its namespace defaults to octopus-agent-<worker>, its Octopus name to
  # <environment>-<cluster>-<worker>. `installed: false` uninstalls a worker (its
  # namespace stays); `disabled: true` keeps it installed but disabled in Octopus.
  deploy:
    scriptPods:
      image: octopusdeploy/worker-tools:6.5.0-ubuntu.22.04
      resources:
        requests: { cpu: "1", memory: 1Gi }
        limits: { memory: 2Gi }
"#;

/// The files `init` writes, relative to the config repo.
pub fn files(engine: Engine, accept_eula: bool) -> Vec<(PathBuf, String)> {
    let mut files = vec![
        (PathBuf::from("workergen.yaml"), repo_file(engine, accept_eula)),
        (
            PathBuf::from("environments/example/environment.yaml"),
            ENVIRONMENT_FILE.to_string(),
        ),
        (
            PathBuf::from("environments/example/cluster-1.yaml"),
            CLUSTER_FILE.to_string(),
        ),
    ];
    for (name, text) in crate::decl::schemas() {
        files.push((Path::new("schemas").join(name), text));
    }
    files
}

/// Writes the scaffold into `dir`, refusing to overwrite anything.
pub fn init(dir: &Path, engine: Engine, accept_eula: bool) -> Result<Vec<PathBuf>, InitError> {
    let files = files(engine, accept_eula);
    let existing: Vec<PathBuf> = files
        .iter()
        .map(|(path, _)| dir.join(path))
        .filter(|path| path.exists())
        .collect();
    if !existing.is_empty() {
        return Err(InitError::Exists(existing));
    }
    let mut written = Vec::new();
    for (path, text) in files {
        let target = dir.join(&path);
        let io = |source| InitError::Io {
            path: target.clone(),
            source,
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&target, text).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}
