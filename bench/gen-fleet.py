#!/usr/bin/env python3
"""Writes a synthetic, deterministic workergen config repository for benchmarks.

    bench/gen-fleet.py OUT_DIR [--envs 20] [--clusters-per-env 50]
                               [--workers-per-cluster 10] [--engine flux]

The defaults make 20 environments x 50 clusters x 10 workers = 10,000 workers.
OUT_DIR gets `workergen.yaml` and `environments/`; any previous `environments/`
in it is replaced, and nothing else in it is touched. Same parameters, same bytes.
Standard library only.
"""

import argparse
import os
import shutil
import sys

WORKERGEN_YAML = """\
# Synthetic benchmark fleet written by bench/gen-fleet.py. Do not edit by hand.
chart:
  repository: oci://registry-1.docker.io/octopusdeploy
  name: kubernetes-agent
  version: 3.13.2
acceptEula: true
output: rendered
gitops:
  engine: {engine}
  argocd:
    namespace: argocd
    project: platform-workers
    repoURL: https://git.example.com/platform/workers.git
    targetRevision: main
  flux:
    namespace: flux-system
    interval: 10m
defaults:
  # Chart upgrades go through Git, never through Octopus.
  machinePolicy: GitOps Workers - manual updates
  agent:
    resources:
      requests:
        cpu: 100m
        memory: 256Mi
      limits:
        memory: 512Mi
  scriptPods:
    image: octopusdeploy/worker-tools:6.5.0-ubuntu.22.04
    resources:
      requests:
        cpu: 250m
        memory: 512Mi
      limits:
        memory: 2Gi
"""

ENVIRONMENT_YAML = """\
# Environment {env}: its own Octopus Server.
octopus:
  serverUrl: https://octopus-{env}.example.com/
  serverCommsAddresses:
    - https://octopus-{env}.example.com:10943/
  space: Default
  auth:
    bearerTokenSecret: octopus-worker-token
defaults:
  pollingConnectionCount: {polling}
  storage:
    size: {size}Gi
"""

CLUSTER_HEAD = """\
# Cluster {cluster} of environment {env}.
cluster:
  destination:
    server: https://{cluster}.{env}.k8s.example.com
defaults:
  workerPools:
    - {env} Deploy Workers
  storage:
    storageClassName: gp3
workers:
"""


def worker_yaml(env, cluster, index):
    """One worker entry (indented under `workers:`); its shape cycles with the index."""
    name = f"worker-{index}"
    kind = index % 5
    lines = [f"  {name}:"]
    if kind == 0:
        # A build worker: its own pool and bigger script pods.
        lines += [
            "    workerPools:",
            "      - Linux Build Workers",
            f"      - {env} Build Workers",
            "    scriptPods:",
            "      resources:",
            "        requests:",
            '          cpu: "1"',
            "          memory: 2Gi",
            "        limits:",
            "          memory: 4Gi",
        ]
    elif kind == 1:
        # A migration worker: chart values passthrough.
        lines += [
            "    workerPools:",
            "      - Database Workers",
            "    values:",
            "      scriptPods:",
            f"        pendingPodsTimeoutMinutes: {10 + index}",
        ]
    elif kind == 2:
        # A plain deploy worker: everything from the layers above.
        lines[0] += " {}"
    elif kind == 3:
        # Smaller script pods, its own namespace and display name.
        lines += [
            f"    namespace: octopus-{name}-ns",
            f"    displayName: {env}-{cluster}-{name}-small",
            "    logLevel: Debug",
            "    scriptPods:",
            "      resources:",
            "        requests:",
            "          cpu: 100m",
            "          memory: 256Mi",
        ]
    else:
        # Both kinds at once, plus tolerations.
        lines += [
            "    workerPools:",
            "      - Terraform Workers",
            "    pollingConnectionCount: 5",
            "    scriptPods:",
            "      tolerations:",
            "        - key: dedicated",
            "          operator: Equal",
            "          value: octopus-workers",
            "          effect: NoSchedule",
            "      resources:",
            "        requests:",
            "          cpu: 500m",
            "          memory: 1Gi",
            "    values:",
            "      scriptPods:",
            "        pendingPodsTimeoutMinutes: 30",
            "        disruptionBudgetEnabled: false",
        ]
    return "\n".join(lines) + "\n"


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the config repository folder to write")
    parser.add_argument("--envs", type=int, default=20)
    parser.add_argument("--clusters-per-env", type=int, default=50)
    parser.add_argument("--workers-per-cluster", type=int, default=10)
    parser.add_argument("--engine", choices=["flux", "argocd", "none"], default="flux")
    args = parser.parse_args()
    if args.envs < 1 or args.clusters_per_env < 1 or args.workers_per_cluster < 1:
        parser.error("counts must be at least 1")

    os.makedirs(args.out, exist_ok=True)
    environments = os.path.join(args.out, "environments")
    if os.path.isdir(environments):
        shutil.rmtree(environments)
    write(os.path.join(args.out, "workergen.yaml"), WORKERGEN_YAML.format(engine=args.engine))

    env_width = max(2, len(str(args.envs - 1)))
    total_clusters = args.envs * args.clusters_per_env
    cluster_width = max(3, len(str(total_clusters - 1)))
    cluster_index = 0
    for e in range(args.envs):
        env = f"env-{e:0{env_width}d}"
        folder = os.path.join(environments, env)
        os.makedirs(folder)
        write(
            os.path.join(folder, "environment.yaml"),
            ENVIRONMENT_YAML.format(env=env, polling=2 + e % 9, size=5 + 5 * (e % 4)),
        )
        for _ in range(args.clusters_per_env):
            cluster = f"cluster-{cluster_index:0{cluster_width}d}"
            cluster_index += 1
            parts = [CLUSTER_HEAD.format(env=env, cluster=cluster)]
            parts += [worker_yaml(env, cluster, w) for w in range(args.workers_per_cluster)]
            write(os.path.join(folder, f"{cluster}.yaml"), "".join(parts))

    workers = total_clusters * args.workers_per_cluster
    print(
        f"{args.out}: {args.envs} environments, {total_clusters} clusters, {workers} workers ({args.engine})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
