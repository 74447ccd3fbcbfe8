//! Kubernetes names: the DNS-1123 rules, and the names of the objects workergen
//! generates, in one place for `validate` (which checks them) and `render` (which writes
//! them).
//!
//! A generated name is part of what is deployed: renaming an `OCIRepository` or an
//! Argo CD `Application` replaces the object in every cluster. So each is built by its
//! own function here, never by a helper that words a hint, and the tests pin them.

/// Whether `name` is a DNS-1123 label: lowercase letters, digits and `-`, starting and
/// ending with a letter or digit, at most 63 characters.
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Whether `name` is a DNS-1123 subdomain, as Kubernetes wants object names such as
/// Secrets: dot-separated DNS-1123 labels, at most 253 characters in all.
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

/// A lowercase, DNS-safe spelling of `name`, for a hint.
pub fn dns_suggestion(name: &str) -> String {
    to_dns_label(name)
}

/// The name of a cluster's Flux `OCIRepository` for one chart and version, as the
/// worker's `HelmRelease` refers to it: `kubernetes-agent-3-13-2`.
pub fn oci_repository_name(chart: &str, version: &str) -> String {
    to_dns_label(&format!("{chart}-{version}"))
}

/// The name of a worker's Argo CD `Application`: `<environment>-<cluster>-<worker>`.
pub fn application_name(environment: &str, cluster: &str, worker: &str) -> String {
    format!("{environment}-{cluster}-{worker}")
}

/// The name of a cluster's own Argo CD `Application`, which deploys its Namespaces,
/// ExternalSecrets and the chart's CRD: `<environment>-<cluster>--cluster`. A worker
/// name cannot start with `-`, so only a worker named `...--cluster` could take it, and
/// validation refuses that.
pub fn cluster_application_name(environment: &str, cluster: &str) -> String {
    format!("{environment}-{cluster}--cluster")
}

/// The name of a cluster file's parent: the Flux `Kustomization` that applies its
/// folder, or the Argo CD `Application` that holds its Applications:
/// `<environment>.<cluster>`. Both are DNS-1123 labels, so the dot keeps every pair
/// apart (`a-b`/`c` and `a`/`b-c` differ).
pub fn parent_name(environment: &str, cluster: &str) -> String {
    format!("{environment}.{cluster}")
}

/// The folder (under `_flux/`) of a destination cluster's parents: its `name`, or its
/// server URL's host, port and path (the scheme, a default port and a trailing `/`
/// dropped), lowercased, with every other character than letters, digits, `.` and `-`
/// made a `-`: `https://prod-eu.k8s.example.com/` is `prod-eu.k8s.example.com`.
pub fn destination_folder(server: Option<&str>, name: Option<&str>) -> String {
    let text = match (server, name) {
        (Some(server), _) => {
            let lower = server.trim().to_ascii_lowercase();
            let (scheme, rest) = lower.split_once("://").unwrap_or(("https", lower.as_str()));
            let rest = rest.trim_end_matches('/');
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(host, path)| (host, path));
            let default_port = if scheme == "http" { ":80" } else { ":443" };
            let host = host.strip_suffix(default_port).unwrap_or(host);
            if path.is_empty() {
                host.to_string()
            } else {
                format!("{host}/{path}")
            }
        }
        (None, Some(name)) => name.to_ascii_lowercase(),
        (None, None) => String::new(),
    };
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches(|c| c == '-' || c == '.').to_string()
}

/// The namespace a worker is installed in when it names none (the install wizard's too).
pub fn default_namespace(worker: &str) -> String {
    format!("octopus-agent-{worker}")
}

/// The name of the `ConfigMap` that holds a worker's Helm values under Flux.
pub fn values_config_map(worker: &str) -> String {
    format!("{worker}-values")
}

/// `text` as a DNS-1123 label: lowercase, every run of other characters one `-`, no `-`
/// at either end, at most 63 characters.
fn to_dns_label(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out: String = out.trim_matches('-').chars().take(63).collect();
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_folder_is_one_spelling_of_the_server() {
        for server in [
            "https://Prod-EU.k8s.example.com",
            "https://prod-eu.k8s.example.com/",
            "https://prod-eu.k8s.example.com:443",
            "prod-eu.k8s.example.com",
        ] {
            assert_eq!(
                destination_folder(Some(server), None),
                "prod-eu.k8s.example.com",
                "{server}"
            );
        }
        assert_eq!(
            destination_folder(Some("http://10.0.0.1:6443/k8s/clusters/c-m-abc/"), None),
            "10.0.0.1-6443-k8s-clusters-c-m-abc"
        );
        assert_eq!(
            destination_folder(Some("http://a.example.com:80"), None),
            "a.example.com"
        );
        assert_eq!(destination_folder(None, Some("EU West_1")), "eu-west-1");
        assert_eq!(destination_folder(None, Some("..")), "");
        assert_eq!(parent_name("a-b", "c"), "a-b.c");
        assert_ne!(parent_name("a-b", "c"), parent_name("a", "b-c"));
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("build-linux"));
        assert!(is_dns_label("a1"));
        assert!(!is_dns_label("Build"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label("a-"));
        assert!(!is_dns_label("../etc"));
        assert!(!is_dns_label(""));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert_eq!(dns_suggestion("Build_Linux"), "build-linux");
    }

    #[test]
    fn dns_subdomains() {
        assert!(is_dns_subdomain("octopus-worker-token"));
        assert!(is_dns_subdomain("octopus.ca.v2"));
        assert!(is_dns_subdomain("42"));
        assert!(!is_dns_subdomain("Octopus_Token"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain(".a"));
        assert!(!is_dns_subdomain(""));
        assert!(!is_dns_subdomain(&"a.".repeat(127)));
    }

    /// These names are deployed: a change here renames objects in every cluster.
    #[test]
    fn generated_object_names_are_pinned() {
        assert_eq!(
            oci_repository_name("kubernetes-agent", "3.13.2"),
            "kubernetes-agent-3-13-2"
        );
        assert_eq!(
            oci_repository_name("kubernetes-agent", "3.14.0-rc.1+build.7"),
            "kubernetes-agent-3-14-0-rc-1-build-7"
        );
        assert_eq!(
            oci_repository_name("Kubernetes_Agent", "2.0.0"),
            "kubernetes-agent-2-0-0"
        );
        let long = oci_repository_name(&"a".repeat(60), "1.2.3");
        assert_eq!(long, format!("{}-1", "a".repeat(60)));
        assert!(is_dns_label(&long));
        assert_eq!(
            application_name("production", "eu-west-1", "build"),
            "production-eu-west-1-build"
        );
        assert_eq!(values_config_map("build"), "build-values");
    }
}
