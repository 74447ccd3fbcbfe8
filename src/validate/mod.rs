//! Every rule the declarations must follow, one file per family, all problems collected.
//!
//! [`validate`] runs after [`crate::model::resolve`]; the plaintext credential walk
//! ([`credentials::check_files`]) runs on the parsed files before that, since a
//! credential may stand anywhere.

mod cluster_objects;
pub mod credentials;
mod destinations;
mod duration;
mod environments;
mod kubernetes;
mod names;
mod settings;
mod workers;

use rayon::prelude::*;

pub(crate) use settings::check_output_link;

use crate::diagnostic::Report;
use crate::model::Fleet;

/// Checks the resolved fleet; problems go to `report`.
pub fn validate(fleet: &Fleet, report: &mut Report) {
    // The fleet-wide checks (one pass over every worker) run beside the per-worker
    // ones; their problems are reported in this order all the same, so
    // the output does not depend on which finished first.
    let (fleet_wide, per_worker) = rayon::join(
        || {
            let mut found = Report::new();
            settings::check(fleet, &mut found);
            environments::check(fleet, &mut found);
            names::check(fleet, &mut found);
            destinations::check(fleet, &mut found);
            cluster_objects::check(fleet, &mut found);
            found
        },
        || -> Vec<_> {
            // Uninstalled workers too: installing one again must not reveal its mistakes.
            fleet
                .workers
                .par_iter()
                .map(|worker| workers::check(fleet, worker))
                .collect()
        },
    );
    report.append(fleet_wide);
    for diagnostics in per_worker {
        report.extend(diagnostics);
    }
}

/// Warns about files in `templates/` that override no built-in template: a misspelt
/// override is otherwise silently ignored. Their text joins `fleet.sources` so the
/// warning can point at them.
pub(crate) fn check_templates_folder(
    tree: &dyn crate::tree::FileTree,
    fleet: &mut Fleet,
    report: &mut Report,
) -> std::io::Result<()> {
    use crate::render::templates::{BUILTIN, OVERRIDES};
    let Some(entries) = tree.list(OVERRIDES)? else {
        return Ok(());
    };
    let builtin = || BUILTIN.iter().map(|(name, _)| *name);
    for entry in entries {
        // Hidden files (`.gitkeep`) are no attempt at an override.
        if entry.name.starts_with('.') || builtin().any(|name| name == entry.name) {
            continue;
        }
        let path = crate::tree::join(OVERRIDES, &entry.name);
        let text = if entry.is_dir {
            String::new()
        } else {
            match tree.read(&path, crate::load::MAX_FILE_BYTES) {
                Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => String::new(),
            }
        };
        let file = fleet.sources.add(path.clone(), text);
        let hint = match crate::diagnostic::did_you_mean(&entry.name, builtin()) {
            Some(close) => format!("did you mean `{OVERRIDES}/{close}`?"),
            None => format!(
                "the templates that can be overridden are {}",
                builtin().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        report.push(
            crate::diagnostic::Diagnostic::warning(
                crate::source::Loc::new(file, 1, 1),
                format!("`{path}` overrides no built-in template and is not used"),
            )
            .with_hint(hint),
        );
    }
    Ok(())
}

/// Whether YAML (1.1, as Helm's reader, or 1.2) reads the plain scalar `name` as
/// something other than the text: a number (`42`, `1e3`, `0x1f`, `1.10`), a boolean
/// (`true`, `yes`, `n`), null, or a date (`2001-12-14`). The chart writes Secret names
/// into its manifests unquoted (`name: {{ .Values.agent.bearerTokenSecretName }}`), so
/// such a name reaches Kubernetes as a number or a boolean (found by rendering the real
/// chart in the tests).
pub(crate) fn yaml_reads_unquoted_as_non_string(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let is_date = {
        let parts: Vec<&str> = lower.split('-').collect();
        parts.len() == 3
            && parts[0].len() == 4
            && (1..=2).contains(&parts[1].len())
            && (1..=2).contains(&parts[2].len())
            && parts.iter().all(|part| part.bytes().all(|byte| byte.is_ascii_digit()))
    };
    let radix = |prefix: &str, digits: fn(&u8) -> bool| {
        lower
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|byte| digits(&byte)))
    };
    matches!(lower.as_str(), "true" | "false" | "null" | "~")
        || crate::yaml::portable::yaml11_bool(name).is_some()
        || (lower.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.')
            && lower.parse::<f64>().is_ok())
        || radix("0x", u8::is_ascii_hexdigit)
        || radix("0o", |byte| (b'0'..=b'7').contains(byte))
        || radix("0b", |byte| *byte == b'0' || *byte == b'1')
        || is_date
}

/// The error for a Secret name the chart would write as a number or boolean.
/// A value where a Secret name belongs that is no Kubernetes name. Such a value is as
/// often the credential itself, pasted where its Secret's name goes, as a misspelt name:
/// it is never printed, and the hint suggests no name made from it.
pub(crate) fn invalid_secret_name(at: crate::source::Loc, field: &str, name: &str) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::error(
        at,
        format!("`{field}` is not a valid Secret name (the value is not shown: it may be a credential)"),
    )
    .with_hint(
        "give the name of a Secret that holds the credential, not the credential: Secret names are DNS-1123 subdomains (lowercase letters, digits, `-` and `.`)",
    )
    .hiding(name)
}

/// Whether `url` carries user info (`user:password@` in `https://user:password@host/`,
/// `user:password@proxy:3128`): a credential, which would be written into files that are
/// committed to Git and printed by `diff` and `explain`. With `user_name_ok`, a user name
/// alone (`ssh://git@host/repo`, `git@host:repo`) is no credential.
pub(crate) fn url_has_credentials(url: &str, user_name_ok: bool) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((user_info, _)) = authority.rsplit_once('@') else {
        return false;
    };
    !user_name_ok || user_info.contains(':')
}

/// A URL that carries user info ([`url_has_credentials`]), at `at`: never printed.
pub(crate) fn url_with_credentials(at: crate::source::Loc, field: &str, url: &str) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::error(
        at,
        format!("`{field}` holds a user name or password in its URL (the value is not shown)"),
    )
    .with_hint(
        "workergen writes this URL into files committed to Git: remove the `user:password@` part and give the credential through a Secret",
    )
    .hiding(url)
}

pub(crate) fn unquoted_secret_name(at: crate::source::Loc, field: &str, name: &str) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::error(
        at,
        format!("`{field}: {name}` would reach Kubernetes as a number or boolean, not a Secret name"),
    )
    .with_hint(format!(
        "the chart writes Secret names into its manifests unquoted, so YAML reads `{name}` as something other than text: use a name with a letter, e.g. `octopus-{name}`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_user_info_carry_credentials() {
        for url in [
            "https://admin:S3CR3T@octopus.example.com/",
            "https://token@octopus.example.com",
            "http://user:S3CR3T@proxy:3128",
            "user:S3CR3T@proxy:3128",
            "https://bot:S3CR3T@git.example.com/a/b.git",
        ] {
            assert!(url_has_credentials(url, false), "{url}");
        }
        assert!(url_has_credentials("ssh://git:S3CR3T@host/repo", true));
        for url in [
            "https://octopus.example.com/a@b",
            "http://proxy:3128",
            "https://octopus.example.com/?user=a@b",
        ] {
            assert!(!url_has_credentials(url, false), "{url}");
        }
        assert!(!url_has_credentials("git@git.example.com:platform/workers.git", true));
        assert!(!url_has_credentials(
            "ssh://git@git.example.com/platform/workers.git",
            true
        ));
    }

    #[test]
    fn names_yaml_reads_unquoted_as_non_strings() {
        for name in [
            "42",
            "1e3",
            "1.10",
            "0x1f",
            "0o17",
            "0b101",
            "true",
            "yes",
            "n",
            "null",
            "2001-12-14",
            "-1",
        ] {
            assert!(yaml_reads_unquoted_as_non_string(name), "{name}");
        }
        for name in ["octopus-42", "inf", "nan", "6.5.0", "a1", "42a", "0x", "1-2-3", "e3"] {
            assert!(!yaml_reads_unquoted_as_non_string(name), "{name}");
        }
    }
}
