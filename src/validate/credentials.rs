//! No plaintext credential is ever read: such keys are refused wherever they stand.

use crate::decl::is_plaintext_key;
use crate::diagnostic::{normalize_key, Diagnostic, Report};
use crate::load::{Loaded, Parsed};
use crate::yaml::{Node, Value};

/// Refuses plaintext credential keys anywhere in the declaration files, `values` included.
pub fn check_files(loaded: &Loaded, report: &mut Report) {
    let files = loaded
        .repo
        .iter()
        .chain(loaded.environments.iter().flat_map(|environment| {
            environment
                .environment
                .iter()
                .chain(environment.clusters.iter().map(|(_, parsed)| parsed))
        }));
    for Parsed { root, .. } in files {
        if let Some(root) = root {
            walk(root, report);
        }
    }
}

fn walk(node: &Node, report: &mut Report) {
    match &node.value {
        Value::Map(map) => {
            for (key, child) in &map.entries {
                if is_plaintext_key(&key.name) && !child.is_null() {
                    report.push(
                        Diagnostic::error(key.loc, format!("plaintext credential `{}` is refused", key.name))
                            .with_hint(hint(&key.name))
                            .redacted(),
                    );
                } else {
                    walk(child, report);
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|item| walk(item, report)),
        _ => {}
    }
}

fn hint(name: &str) -> &'static str {
    match normalize_key(name).as_str() {
        "bearertoken" | "token" => "store the token in a Secret (key `bearer-token`) and set `octopus.auth.bearerTokenSecret` to its name",
        "serverapikey" | "apikey" => "store the API key in a Secret (key `api-key`) and set `octopus.auth.apiKeySecret` to its name",
        "username" | "password" => "store them in a Secret (keys `username`, `password`) and set `octopus.auth.usernamePasswordSecret` to its name",
        _ => "keep certificates in a Secret and name it (e.g. `octopus.serverCertificateSecret`); workergen writes Git, and Git is no place for secrets",
    }
}
