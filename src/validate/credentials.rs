//! No plaintext credential is ever read: such keys are refused wherever they stand.
//!
//! One place is exempt: the keys `bearerToken`, `apiKey`, `username` and `password`
//! directly under `secrets.externalSecret.remoteRefs` of an environment or cluster file
//! name where the secret store keeps each credential (`{ key: octopus/worker-token }`),
//! not the credential itself. Any other spelling there, any other key, and the
//! same keys anywhere else are still refused.

use crate::decl::{is_plaintext_key, REMOTE_REFS_PATH};
use crate::diagnostic::{Diagnostic, Report};
use crate::load::{Loaded, Parsed};
use crate::redact::normalize_key;
use crate::yaml::{Node, Value};

use rayon::prelude::*;

/// Refuses plaintext credential keys anywhere in the declaration files, `values` included.
pub fn check_files(loaded: &Loaded, report: &mut Report) {
    if let Some(Parsed { root: Some(root), .. }) = &loaded.repo {
        walk(root, &mut Vec::new(), false, report);
    }
    let declarations: Vec<&Parsed> = loaded
        .environments
        .iter()
        .flat_map(|environment| {
            environment
                .environment
                .iter()
                .chain(environment.clusters.iter().map(|(_, parsed)| parsed))
        })
        .collect();
    // Every node of every file: one file per task, the problems in file order whatever
    // the tasks' order.
    let found: Vec<Report> = declarations
        .par_iter()
        .map(|parsed| {
            let mut found = Report::new();
            if let Some(root) = &parsed.root {
                walk(root, &mut Vec::new(), true, &mut found);
            }
            found
        })
        .collect();
    for file in found {
        report.append(file);
    }
}

/// The remote reference keys that name a credential's place in the store, spelt as the
/// schema spells them (`decl::RemoteRefsSpec`).
const REMOTE_REF_KEYS: [&str; 4] = ["bearerToken", "apiKey", "username", "password"];

/// Whether `key` at `path` is a remote reference of `secrets.externalSecret.remoteRefs`.
fn is_remote_ref(path: &[&str], key: &str, declaration: bool) -> bool {
    declaration && path == REMOTE_REFS_PATH && REMOTE_REF_KEYS.contains(&key)
}

fn walk<'a>(node: &'a Node, path: &mut Vec<&'a str>, declaration: bool, report: &mut Report) {
    match &node.value {
        Value::Map(map) => {
            for (key, child) in map.entries() {
                if is_plaintext_key(&key.name) && !child.is_null() && !is_remote_ref(path, &key.name, declaration) {
                    report.push(
                        Diagnostic::error(key.loc, format!("plaintext credential `{}` is refused", key.name))
                            .with_hint(hint(&key.name, path))
                            .redacted(),
                    );
                } else {
                    path.push(&key.name);
                    walk(child, path, declaration, report);
                    path.pop();
                }
            }
        }
        Value::Seq(items) => {
            // A list item has no key: nothing below it is at the remote references' path.
            path.push("[]");
            for item in items {
                walk(item, path, declaration, report);
            }
            path.pop();
        }
        _ => {}
    }
}

fn hint(name: &str, path: &[&str]) -> &'static str {
    if path
        .last()
        .is_some_and(|parent| normalize_key(parent) == "pollingproxy")
    {
        // Not the Octopus login: the chart takes the proxy's credentials only as values.
        return "the chart takes the polling proxy's user name and password only as plain values, which workergen would commit to Git: use a proxy that admits the cluster without a password, or leave the proxy out of the declarations";
    }
    match normalize_key(name).as_str() {
        "bearertoken" | "token" => "store the token in a Secret (key `bearer-token`) and set `octopus.auth.bearerTokenSecret` to its name",
        "serverapikey" | "apikey" => "store the API key in a Secret (key `api-key`) and set `octopus.auth.apiKeySecret` to its name",
        "username" | "password" => "store them in a Secret (keys `username`, `password`) and set `octopus.auth.usernamePasswordSecret` to its name",
        _ => "keep certificates in a Secret and name it (e.g. `octopus.serverCertificateSecret`); workergen writes Git, and Git is no place for secrets",
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Report;

    const ENVIRONMENT: &str =
        "octopus:\n  serverUrl: https://octopus.example.com/\n  auth:\n    bearerTokenSecret: octopus-worker-token\n";

    /// The plaintext refusals of a repository whose environment file ends with `extra` and
    /// whose `workergen.yaml` is `repo`, as `file:line` of each.
    fn refused(repo: &str, extra: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("workergen.yaml", repo);
        write("environments/prod/environment.yaml", &format!("{ENVIRONMENT}{extra}"));
        write("environments/prod/eu.yaml", "cluster: {}\n");
        let mut report = Report::new();
        let loaded = crate::load::load(&crate::tree::fs::FsTree::new(dir.path()), &mut report).unwrap();
        let mut found = Report::new();
        super::check_files(&loaded, &mut found);
        found
            .diagnostics()
            .iter()
            .map(|diagnostic| {
                format!(
                    "{}:{}",
                    loaded.sources.path(diagnostic.loc.unwrap().file),
                    diagnostic.loc.unwrap().line
                )
            })
            .collect()
    }

    #[test]
    fn remote_refs_name_places_in_the_store_not_credentials() {
        let refs = "secrets:\n  externalSecret:\n    remoteRefs:\n      bearerToken: { key: a }\n      apiKey: { key: b }\n      username: { key: c }\n      password: { key: d, property: p }\n";
        assert_eq!(refused("acceptEula: true\n", refs), Vec::<String>::new());
    }

    #[test]
    fn the_exemption_is_exactly_those_keys_at_that_path() {
        let env = "environments/prod/environment.yaml";
        // Another spelling, a key beside `remoteRefs`, one below a reference.
        let cases = [
            ("secrets:\n  externalSecret:\n    remoteRefs:\n      Password: { key: d }\n", 8),
            ("secrets:\n  externalSecret:\n    remoteRefs:\n      token: { key: d }\n", 8),
            ("secrets:\n  externalSecret:\n    bearerToken: x\n", 7),
            ("secrets:\n  externalSecret:\n    remoteRefs:\n      bearerToken:\n        password: x\n", 9),
            ("secrets:\n  remoteRefs:\n    bearerToken: x\n", 7),
            ("defaults:\n  values:\n    secrets:\n      externalSecret:\n        remoteRefs:\n          password: x\n", 10),
        ];
        for (extra, line) in cases {
            assert_eq!(
                refused("acceptEula: true\n", extra),
                [format!("{env}:{line}")],
                "{extra}"
            );
        }
        // `workergen.yaml` has no `secrets:`: the same keys there are refused.
        let repo = "acceptEula: true\nsecrets:\n  externalSecret:\n    remoteRefs:\n      bearerToken: x\n";
        assert_eq!(refused(repo, ""), ["workergen.yaml:5"]);
        // In a list, nothing is at the path.
        let listed = "secrets:\n  - externalSecret:\n      remoteRefs:\n        bearerToken: x\n";
        assert_eq!(refused("acceptEula: true\n", listed), [format!("{env}:8")]);
    }
}
