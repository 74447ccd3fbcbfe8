//! No plaintext credential is ever read: such keys are refused wherever they stand.

use crate::diagnostic::{normalize_key, Diagnostic, Report};
use crate::load::{Loaded, Parsed};
use crate::yaml::{Node, Value};

/// Keys that hold a secret value in the chart or that a user might reach for, as
/// [`normalize_key`] spells them: `Password`, `bearer_token` and `serverApikey` are
/// refused like `password`, `bearerToken` and `serverApiKey`. Keys that name a Secret
/// (`bearerTokenSecret`) are not among them.
const PLAINTEXT_KEYS: &[&str] = &[
    "bearertoken",
    "serverapikey",
    "apikey",
    "username",
    "password",
    "certificate",
    "token",
];

/// Whether a key of this name would hold a plaintext credential, whatever its case or
/// separators. Every such key is also hidden in excerpts ([`crate::diagnostic::is_credential_key`]).
pub fn is_plaintext_key(name: &str) -> bool {
    PLAINTEXT_KEYS.contains(&normalize_key(name).as_str())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::is_credential_key;

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
