//! Each environment's Octopus server: URL, polling addresses, exactly one credential.

use crate::diagnostic::{Diagnostic, Report};
use crate::model::Destination;
use crate::model::{Environment, Fleet};
use crate::names::{dns_suggestion, is_dns_label, is_dns_subdomain};
use crate::source::Loc;
use crate::yaml::Node;

pub(crate) fn check(fleet: &Fleet, report: &mut Report) {
    for (index, environment) in fleet.environments.iter().enumerate() {
        // An environment whose every cluster names its own credential needs none.
        let mut clusters = fleet
            .clusters
            .iter()
            .filter(|cluster| cluster.environment == index)
            .peekable();
        let credential_needed = clusters.peek().is_none()
            || clusters.any(|cluster| {
                cluster
                    .octopus_written
                    .as_ref()
                    .is_none_or(|node| node.get("auth").is_none())
            });
        check_environment(environment, credential_needed, report);
    }
    for cluster in &fleet.clusters {
        if let Some(written) = &cluster.octopus_written {
            let octopus = crate::decl::OctopusSpec {
                auth: written.get("auth").and(cluster.octopus.auth.clone()),
                server_certificate_secret: written
                    .get("serverCertificateSecret")
                    .and(cluster.octopus.server_certificate_secret.clone()),
                ..crate::decl::OctopusSpec::default()
            };
            check_secret_names(written, &octopus, report);
            if written.get("auth").is_some() {
                check_credential(written, true, report);
            }
        }
        let top = Loc::new(cluster.file, 1, 1);
        if !is_dns_label(&cluster.name) {
            report.push(
                Diagnostic::error(
                    top,
                    format!(
                        "cluster name `{}` (from the file name) is not a DNS-1123 label",
                        cluster.name
                    ),
                )
                .with_hint(match dns_suggestion(&cluster.name) {
                    // `.yaml` alone: there is no name to mend.
                    suggestion if suggestion.is_empty() => {
                        "give the file the cluster's name, e.g. `eu-west-1.yaml`".to_string()
                    }
                    suggestion => format!("rename the file to `{suggestion}.yaml`"),
                }),
            );
        }
        if cluster.destination.is_none() && !cluster.destination_reported {
            report.push(
                Diagnostic::error(
                    cluster.destination_loc,
                    "the cluster needs `cluster.destination` with exactly one of `server` or `name`",
                )
                .with_hint("e.g. `cluster: { destination: { server: https://eu-west-1.k8s.example.com } }`"),
            );
        }
        check_destination(cluster, report);
    }
}

/// The Argo CD destination: a server URL, or the name of a cluster Argo CD knows.
fn check_destination(cluster: &crate::model::Cluster, report: &mut Report) {
    let value_loc = |key: &str| {
        cluster
            .destination_node
            .as_ref()
            .and_then(|node| node.get(key))
            .map_or(cluster.destination_loc, |node| node.loc)
    };
    match &cluster.destination {
        Some(Destination::Server(server)) if crate::validate::url_has_credentials(server, false) => report.push(
            crate::validate::url_with_credentials(value_loc("server"), "cluster.destination.server", server),
        ),
        Some(Destination::Server(server)) if !is_http_url(server) => report.push(
            Diagnostic::error(value_loc("server"), format!("`cluster.destination.server: {server}` is not an http(s) URL"))
                .with_hint("the Kubernetes API server's URL as Argo CD knows it, e.g. `https://eu-west-1.k8s.example.com` (or use `name:`)"),
        ),
        Some(Destination::Name(name)) if name.trim().is_empty() => report.push(
            Diagnostic::error(value_loc("name"), "`cluster.destination.name` is empty")
                .with_hint("the name of a cluster registered with Argo CD (`argocd cluster list`)"),
        ),
        Some(Destination::Name(name)) if name.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            report.push(
                Diagnostic::error(value_loc("name"), format!("`cluster.destination.name: {name}` is not a cluster name"))
                    .with_hint("the name of a cluster registered with Argo CD (`argocd cluster list`), without spaces"),
            );
        }
        _ => {}
    }
}

/// One environment: its folder name, then its `octopus` server settings.
fn check_environment(environment: &Environment, credential_needed: bool, report: &mut Report) {
    check_environment_name(environment, report);
    if !environment.readable {
        // Its file could not be read: that error is the one to fix first.
        return;
    }
    check_server_url(environment, report);
    check_comms_addresses(environment, report);
    check_secret_names(&environment.octopus_node, &environment.octopus, report);
    check_credential(&environment.octopus_node, credential_needed, report);
    check_status_credential(environment, report);
}

/// `status` reads one credential: an API key (`apiKeyEnv`) or an access token
/// (`accessTokenEnv`), never both.
fn check_status_credential(environment: &Environment, report: &mut Report) {
    let octopus = &environment.octopus;
    if octopus.api_key_env.is_some() && octopus.access_token_env.is_some() {
        report.push(
            Diagnostic::error(
                value_loc(&environment.octopus_node, "accessTokenEnv"),
                "`octopus.apiKeyEnv` and `octopus.accessTokenEnv` are both set; `status` sends one credential",
            )
            .with_related(value_loc(&environment.octopus_node, "apiKeyEnv"), "the API key variable is named here")
            .with_hint("keep `apiKeyEnv` for an API key (`API-...`), or `accessTokenEnv` for an access token (OIDC, a service account's)"),
        );
    }
}

/// The environment name (the folder name) is a DNS-1123 label.
fn check_environment_name(environment: &Environment, report: &mut Report) {
    if is_dns_label(&environment.name) {
        return;
    }
    report.push(
        Diagnostic::error(
            Loc::new(environment.file, 1, 1),
            format!(
                "environment name `{}` (from the folder name) is not a DNS-1123 label",
                environment.name
            ),
        )
        .with_hint(format!("rename the folder to `{}`", dns_suggestion(&environment.name))),
    );
}

/// Where `key` is written under `node`, or `node` itself when it is not.
fn value_loc(node: &Node, key: &str) -> Loc {
    node.get(key).map_or(node.loc, |child| child.loc)
}

/// Whether `key` is written under `node` with a value; a field written with a type
/// error reads as absent from the typed spec, and that error is reported already.
fn written(node: &Node, key: &str) -> bool {
    node.get(key).is_some_and(|child| !child.is_null())
}

/// `octopus.serverUrl` is given, as an http(s) URL.
fn check_server_url(environment: &Environment, report: &mut Report) {
    let node = &environment.octopus_node;
    match environment.octopus.server_url.as_deref() {
        None if written(node, "serverUrl") => {}
        None => report.push(
            Diagnostic::error(node.loc, "`octopus.serverUrl` is required")
                .with_hint("the Octopus Server's URL, e.g. `https://octopus.example.com/`"),
        ),
        Some(url) if crate::validate::url_has_credentials(url, false) => report.push(
            crate::validate::url_with_credentials(value_loc(node, "serverUrl"), "octopus.serverUrl", url),
        ),
        Some(url) if !is_http_url(url) => report.push(Diagnostic::error(
            value_loc(node, "serverUrl"),
            format!("`octopus.serverUrl: {url}` is not an http(s) URL"),
        )),
        Some(_) => {}
    }
}

/// At least one polling address is given, and each is an http(s) URL.
fn check_comms_addresses(environment: &Environment, report: &mut Report) {
    let node = &environment.octopus_node;
    let octopus = &environment.octopus;
    let addresses: Vec<&String> = octopus
        .server_comms_address
        .iter()
        .chain(octopus.server_comms_addresses.iter().flatten())
        .collect();
    if addresses.is_empty() && !written(node, "serverCommsAddress") && !written(node, "serverCommsAddresses") {
        report.push(
            Diagnostic::error(node.loc, "`octopus.serverCommsAddresses` is required")
                .with_hint("without a polling address the agent registers in listening mode, which the chart does not serve; e.g. `serverCommsAddresses: [https://octopus.example.com:10943/]`"),
        );
    }
    for address in addresses {
        if crate::validate::url_has_credentials(address, false) {
            // The list's item that holds it, or the key when it is the one address.
            let at = node
                .get("serverCommsAddresses")
                .and_then(|list| match &list.value {
                    crate::yaml::Value::Seq(items) => items.iter().find(|item| item.as_str() == Some(address.as_str())),
                    _ => None,
                })
                .map_or_else(|| value_loc(node, "serverCommsAddress"), |item| item.loc);
            report.push(crate::validate::url_with_credentials(
                at,
                "octopus.serverCommsAddresses",
                address,
            ));
        } else if !is_http_url(address) {
            report.push(Diagnostic::error(
                value_loc(node, "serverCommsAddresses"),
                format!("polling address `{address}` is not an http(s) URL"),
            ));
        }
    }
}

/// `octopus.auth` under `node` names exactly one credential kind (or none, when
/// `needed` is false: every cluster names its own).
fn check_credential(node: &Node, needed: bool, report: &mut Report) {
    if node.get("auth").is_some_and(has_plaintext_key) {
        // The plaintext credential error says what to do; a count would only repeat it.
        return;
    }
    let auth_node = node.get("auth").filter(|auth| !auth.is_null());
    if auth_node.is_some_and(|auth| auth.as_map().is_none()) {
        // Not a map: its type error is reported already.
        return;
    }
    // Counted as written: a kind given with a type error still counts as given.
    let kinds = ["bearerTokenSecret", "apiKeySecret", "usernamePasswordSecret"]
        .into_iter()
        .filter(|kind| auth_node.is_some_and(|auth| written(auth, kind)))
        .count();
    if kinds != 1 && (needed || kinds > 1) {
        let message = if kinds == 0 {
            "`octopus.auth` needs one credential, given as a Secret name"
        } else {
            "`octopus.auth` sets more than one credential kind; the agent uses only one"
        };
        report.push(Diagnostic::error(value_loc(node, "auth"), message).with_hint(
            "set exactly one of `bearerTokenSecret`, `apiKeySecret` or `usernamePasswordSecret` to the name of a Secret in each worker's namespace",
        ));
    }
}

/// The Secrets named in an `octopus` block (`node`, typed as `octopus`): Kubernetes
/// object names, DNS-1123 subdomains.
fn check_secret_names(node: &Node, octopus: &crate::decl::OctopusSpec, report: &mut Report) {
    let auth = octopus.auth.clone().unwrap_or_default();
    let names = [
        (&["auth", "bearerTokenSecret"][..], auth.bearer_token_secret),
        (&["auth", "apiKeySecret"][..], auth.api_key_secret),
        (&["auth", "usernamePasswordSecret"][..], auth.username_password_secret),
        (
            &["serverCertificateSecret"][..],
            octopus.server_certificate_secret.clone(),
        ),
    ];
    for (path, name) in names {
        let Some(name) = name else {
            continue;
        };
        if !is_dns_subdomain(&name) {
            let at = node.get_path(path.iter().copied()).map_or(node.loc, |found| found.loc);
            report.push(crate::validate::invalid_secret_name(
                at,
                &format!("octopus.{}", path.join(".")),
                &name,
            ));
        } else if crate::validate::yaml_reads_unquoted_as_non_string(&name) {
            let at = node.get_path(path.iter().copied()).map_or(node.loc, |found| found.loc);
            report.push(crate::validate::unquoted_secret_name(
                at,
                &format!("octopus.{}", path.join(".")),
                &name,
            ));
        }
    }
}

fn has_plaintext_key(node: &Node) -> bool {
    node.as_map()
        .is_some_and(|map| map.keys().any(crate::decl::is_plaintext_key))
}

pub(crate) fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace))
}
