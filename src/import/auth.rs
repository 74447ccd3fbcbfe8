//! Which credential and certificate Secrets the imported workers use: one for the
//! environment, or the cluster's own when the installs use another, and the
//! environment's `octopus` block to write when it has no file yet. Installs that
//! disagree with each other or with the environment file are errors.

use crate::diagnostic::Diagnostic;
use crate::source::Loc;
use crate::yaml::{self, Node};

use super::credentials::{self, Kind};
use super::plan::Existing;
use super::run::{environment_path, Import, Options};
use super::tree::{put, same};

/// The environment's credential and certificate Secrets, as decided.
#[derive(Debug, Clone)]
pub(super) struct Auth {
    pub(super) kind: Kind,
    pub(super) name: String,
    pub(super) certificate: Option<String>,
    /// The installs use another credential than the environment declares: it goes into
    /// the cluster file's own `octopus.auth`.
    pub(super) cluster: bool,
}

/// The environment's `octopus` block: the one to write when the environment file is
/// absent (`Some`), and the Secrets every worker uses. Disagreements are errors.
pub(super) fn environment(
    imports: &[Import],
    existing: &Existing,
    options: &Options,
    errors: &mut Vec<Diagnostic>,
) -> (Option<Node>, Auth) {
    let declared = existing.environment.as_ref().and_then(|root| root.get("octopus"));
    let auth = decide_auth(imports, existing, options, errors);
    let Some(first) = imports.first() else {
        return (None, auth);
    };
    for import in &imports[1..] {
        if !same(&import.octopus, &first.octopus) {
            errors.push(
                Diagnostic::error(
                    import.loc,
                    format!(
                        "`{}` and `{}` name different Octopus servers or spaces; one environment has one",
                        import.file, first.file
                    ),
                )
                .with_related(first.loc, "the other install")
                .with_hint("import the releases of each Octopus server and space into their own environment (`--env`)"),
            );
        }
    }
    if let Some(declared) = declared {
        agree_with_environment(first, declared, &environment_path(options), errors);
        return (None, auth);
    }
    let mut octopus = first.octopus.clone();
    put(
        &mut octopus,
        &["auth", auth.kind.field()],
        Node::string(&auth.name, first.loc),
    );
    if let Some(certificate) = &auth.certificate {
        put(
            &mut octopus,
            &["serverCertificateSecret"],
            Node::string(certificate, first.loc),
        );
    }
    (Some(octopus), auth)
}

/// Each `octopus` value of the install against the environment file's: the same, or
/// both the chart's default.
fn agree_with_environment(import: &Import, declared: &Node, path: &str, errors: &mut Vec<Diagnostic>) {
    let defaults = crate::chart::reference(3).map(|values| &values.root);
    for (field, value) in [
        ("serverUrl", "serverUrl"),
        ("serverCommsAddress", "serverCommsAddress"),
        ("serverCommsAddresses", "serverCommsAddresses"),
        ("space", "space"),
    ] {
        let default = defaults.and_then(|root| root.get_path(["agent", value]));
        let effective = |node: Option<&Node>| node.or(default).cloned();
        let ours = effective(import.octopus.get(field));
        let theirs = effective(declared.get(field));
        let agree = match (&ours, &theirs) {
            (Some(a), Some(b)) => same(a, b),
            (None, None) => true,
            _ => false,
        };
        if !agree {
            let shown = |node: &Option<Node>| {
                node.as_ref().map_or("nothing".to_owned(), |node| {
                    format!("`{}`", yaml::emit(node).trim_end())
                })
            };
            let at = import.octopus.get(field).map_or(import.loc, |node| node.loc);
            let mut diagnostic = Diagnostic::error(
                at,
                format!(
                    "`agent.{value}` of `{}` is {}, and {path} declares `octopus.{field}` {}",
                    import.release,
                    shown(&ours),
                    shown(&theirs)
                ),
            )
            .with_hint("an environment has one Octopus server and space: import this release into the environment it belongs to, or fix the environment file");
            if let Some(node) = declared.get(field) {
                diagnostic = diagnostic.with_related(node.loc, "the environment declares it here");
            }
            errors.push(diagnostic);
        }
    }
}

/// The credential kind and Secret names: the environment's when it declares them,
/// else the installs' (they must agree), with `--secret-name` or the default name. When
/// the environment declares another credential than the installs use, and they agree
/// among themselves, the cluster file gets its own `octopus.auth` (when it has no other
/// workers, whose credential that would change, and no `octopus.auth` of its own).
fn decide_auth(imports: &[Import], existing: &Existing, options: &Options, errors: &mut Vec<Diagnostic>) -> Auth {
    let declared = existing.environment.as_ref().and_then(|root| root.get("octopus"));
    let of_cluster = existing
        .cluster
        .as_ref()
        .and_then(|root| root.get_path(["octopus"]))
        .filter(|octopus| octopus.get("auth").is_some());
    let declared_auth = of_cluster.or(declared).and_then(|octopus| {
        Kind::ALL.into_iter().find_map(|kind| {
            let node = octopus.get_path(["auth", kind.field()])?;
            Some((kind, node.as_str()?.to_owned(), node.loc))
        })
    });
    let kind_of = |import: &Import| {
        import
            .found
            .reference
            .as_ref()
            .map(|(kind, _, loc)| (*kind, *loc))
            .or(import.found.plaintext)
    };
    let own_kind = imports.iter().find_map(|import| kind_of(import).map(|(kind, _)| kind));
    let referenced = imports.iter().find_map(|import| import.found.reference.clone());
    let agree_among_themselves = imports.iter().all(|import| {
        kind_of(import).is_none_or(|(kind, _)| Some(kind) == own_kind)
            && import
                .found
                .reference
                .as_ref()
                .is_none_or(|(_, name, _)| referenced.as_ref().is_some_and(|(_, first, _)| first == name))
    });
    let differs = declared_auth.as_ref().is_some_and(|(kind, name, _)| {
        own_kind.is_some_and(|own| own != *kind) || referenced.as_ref().is_some_and(|(_, own, _)| own != name)
    });
    let cluster_has_others = existing
        .workers()
        .iter()
        .any(|(name, _, _)| !imports.iter().any(|import| &import.release == name));
    let cluster = differs && agree_among_themselves && of_cluster.is_none() && !cluster_has_others;
    let declared_auth = if cluster { None } else { declared_auth };
    let kind = declared_auth
        .as_ref()
        .map(|(kind, _, _)| *kind)
        .or(own_kind)
        .unwrap_or(Kind::BearerToken);
    let name = match (&declared_auth, &referenced, &options.secret_name) {
        (Some((_, name, _)), _, _) | (None, Some((_, name, _)), _) | (None, None, Some(name)) => name.clone(),
        (None, None, None) => kind.default_name().to_owned(),
    };
    for import in imports {
        auth_errors(
            import,
            kind_of(import),
            (kind, &name),
            declared_auth.as_ref(),
            options,
            errors,
        );
    }
    let declared_certificate = declared
        .and_then(|octopus| octopus.get("serverCertificateSecret"))
        .and_then(|node| Some((node.as_str()?.to_owned(), node.loc)));
    let certificate = certificate(imports, declared_certificate, errors);
    Auth {
        kind,
        name,
        certificate,
        cluster,
    }
}

fn auth_errors(
    import: &Import,
    import_kind: Option<(Kind, Loc)>,
    (kind, name): (Kind, &str),
    declared: Option<&(Kind, String, Loc)>,
    options: &Options,
    errors: &mut Vec<Diagnostic>,
) {
    let related = |diagnostic: Diagnostic| match declared {
        Some((_, _, loc)) => diagnostic.with_related(*loc, "the environment's credential"),
        None => diagnostic,
    };
    if let Some((found, loc)) = import_kind.filter(|(found, _)| *found != kind) {
        errors.push(related(
            Diagnostic::error(
                loc,
                format!(
                    "`{}` authenticates with {}, and the other workers with {}",
                    import.release,
                    found.describe(),
                    kind.describe()
                ),
            )
            .with_hint("the workers of one cluster share one credential: import this release into a cluster of its own (`--cluster`), whose file then keeps its credential in `octopus.auth`")
            .redacted(),
        ));
    }
    if let Some((_, other, loc)) = import.found.reference.as_ref().filter(|(_, other, _)| other != name) {
        errors.push(related(
            Diagnostic::error(*loc, format!("`{}` reads its credential from Secret `{other}`, and the other workers from `{name}`", import.release))
                .with_hint("the workers of one cluster share one credential Secret: import this release into a cluster of its own (`--cluster`), whose file then keeps its Secret in `octopus.auth`, or rename the Secret"),
        ));
    }
    if let (Some((_, declared_name, loc)), Some(wanted)) = (declared, &options.secret_name) {
        if wanted != declared_name {
            errors.push(
                Diagnostic::error(
                    *loc,
                    format!("--secret-name `{wanted}`, and the environment already names Secret `{declared_name}`"),
                )
                .with_hint("leave `--secret-name` out to use the environment's Secret"),
            );
        }
    }
}

/// The server certificate Secret, when an install has a certificate.
fn certificate(imports: &[Import], declared: Option<(String, Loc)>, errors: &mut Vec<Diagnostic>) -> Option<String> {
    let referenced = imports
        .iter()
        .find_map(|import| import.found.certificate_reference.clone());
    let name = declared.clone().or(referenced).map(|(name, _)| name).or_else(|| {
        imports
            .iter()
            .any(|import| import.found.inline_certificate.is_some())
            .then(|| credentials::CERTIFICATE_SECRET.to_owned())
    })?;
    for import in imports {
        if let Some((other, loc)) = import
            .found
            .certificate_reference
            .as_ref()
            .filter(|(other, _)| *other != name)
        {
            let mut diagnostic = Diagnostic::error(
                *loc,
                format!("`{}` reads the server certificate from Secret `{other}`, and the environment's workers from `{name}`", import.release),
            )
            .with_hint("the workers of one environment share one server certificate Secret");
            if let Some((_, at)) = &declared {
                diagnostic = diagnostic.with_related(*at, "the environment's certificate Secret");
            }
            errors.push(diagnostic);
        }
    }
    Some(name)
}
