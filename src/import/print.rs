//! What `import` tells the user: the round trip on stdout, what to do about each
//! worker (Secrets to create, guessed namespaces, migrations) on stderr, and why nothing
//! was written. Anything that may quote an input has every credential scrubbed.

use std::io::Write as _;

use crate::console::Context;
use crate::failure::Failure;

use super::at_input::{at_inputs, Inputs};
use super::auth::Auth;
use super::credentials;
use super::plan;
use super::roundtrip::{self, Stop};
use super::run::{cluster_path, environment_path, Import, Options};

/// Prints text that may quote an input, with every credential scrubbed.
pub(super) fn print(text: &str, secrets: &[String]) {
    let _ = std::io::stderr().write_all(credentials::scrub(text, secrets).as_bytes());
}

/// Per worker: the Secret to create, the namespace when it was a guess, the migration.
pub(super) fn notes(imports: &[Import], auth: &Auth, plan: &plan::ClusterPlan, options: &Options, context: &Context) {
    if context.quiet {
        return;
    }
    let environment_file = environment_path(options);
    if auth.cluster {
        eprintln!(
            "note: these releases authenticate with {} from Secret `{}`, not with the environment's credential: {} keeps it in its own `octopus.auth`",
            auth.kind.describe(),
            auth.name,
            cluster_path(options)
        );
    }
    for import in imports {
        let namespace = import.namespace();
        if import.found.plaintext.is_some() {
            let literals: Vec<String> = auth
                .kind
                .data_keys()
                .iter()
                .map(|key| format!("--from-literal={key}=<the {key}>"))
                .collect();
            eprintln!(
                "warning: `{}` had its credential in plaintext, which is not written: create Secret `{}` in namespace `{namespace}` with key{} {} before the next sync:\n  kubectl create secret generic {} -n {namespace} {}\n  (or let External Secrets deliver it: `secrets.externalSecret` in {environment_file} with {})",
                import.release,
                auth.name,
                if auth.kind.data_keys().len() > 1 { "s" } else { "" },
                auth.kind.data_keys().iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(" and "),
                auth.name,
                literals.join(" "),
                auth.kind.remote_refs(),
            );
        }
        if let (Some(_), Some(certificate)) = (import.found.inline_certificate, &auth.certificate) {
            eprintln!(
                "warning: `{}` had its server certificate inline: create Secret `{certificate}` in namespace `{namespace}` with key `{}`:\n  kubectl create secret generic {certificate} -n {namespace} --from-file={}=<the PEM file>\n  (or `secrets.externalSecret` with `remoteRefs.serverCertificate`)",
                import.release,
                credentials::CERTIFICATE_KEY,
                credentials::CERTIFICATE_KEY,
            );
        }
        if import.namespace.is_none() {
            eprintln!(
                "note: `helm get values` does not say the namespace: `{}` is declared in the default namespace `{namespace}`; if `helm list -A` shows it in another, add `namespace:` to it",
                import.release
            );
        }
        if !import.migrated.is_empty() {
            eprintln!(
                "note: `{}` runs chart 2.x: the chart's to-v3 migration sets {} so it keeps its storage on 3.x",
                import.release,
                import
                    .migrated
                    .iter()
                    .map(|path| format!("`{path}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            );
        }
    }
    if plan.comments_dropped {
        eprintln!(
            "note: {} is rewritten in workergen's layout: its comments are not kept",
            cluster_path(options)
        );
    }
}

/// The round trip, a line per worker.
pub(super) fn round_trip_text(outcomes: &[roundtrip::Outcome]) -> String {
    let mut text = String::new();
    for outcome in outcomes {
        if outcome.differences.is_empty() {
            let mut notes: Vec<String> = outcome
                .added
                .iter()
                .map(|path| match path.as_str() {
                    "persistence.accessModes" | "persistence.nfs.enabled" => format!("+ {path} (to-v3 migration)"),
                    _ => format!("+ {path}"),
                })
                .collect();
            notes.extend(outcome.defaults.iter().map(|path| format!("{path} = chart default")));
            notes.extend(outcome.deletions.iter().map(|deletion| {
                let path = deletion.split(' ').next().unwrap_or(deletion);
                format!("{path} deleted by the install changes nothing")
            }));
            let manifests = if outcome.same_manifests {
                " and the same manifests"
            } else {
                ""
            };
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join(", "))
            };
            text.push_str(&format!(
                "ok      {}: renders the imported values{manifests}{notes}\n",
                outcome.worker
            ));
        } else {
            text.push_str(&format!(
                "differs {}: {}\n",
                outcome.worker,
                outcome.differences.join(", ")
            ));
        }
    }
    text
}

pub(super) fn stopped_failure(stopped: Stop, inputs: &Inputs<'_>, context: &Context, secrets: &[String]) -> Failure {
    match stopped {
        Stop::Io(error) => Failure::Other(anyhow::Error::new(error).context("cannot read the config repository")),
        Stop::Template(error) => Failure::Template(error),
        Stop::Invalid(mut fleet, report) => {
            let report = at_inputs(&report, &mut fleet, inputs);
            print(&report.render(&fleet.sources, context.color), secrets);
            eprintln!("the imported declarations would not validate; nothing written");
            Failure::Reported
        }
    }
}
