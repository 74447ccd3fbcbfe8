//! The `import` command: every stage in order. Which Secrets the workers use is decided in
//! [`super::auth`], what the user sees of it is in [`super::print`], the writing in
//! [`super::write`].

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::console::Context;
use crate::diagnostic::{Diagnostic, Report};
use crate::failure::{Failure, Outcome};
use crate::load::{ENVIRONMENTS, ENVIRONMENT_FILE, MAX_FILE_BYTES, REPO_FILE};
use crate::source::{FileId, Loc, Sources};
use crate::tree::fs::FsTree;
use crate::tree::FileTree;
use crate::yaml::{self, Limits, Node};

use super::auth::Auth;
use super::credentials::{self, Found};
use super::input::{self, Input};
use super::manifests::Chart;
use super::plan::{self, Existing, Planned};
use super::roundtrip;
use super::tree::{from_set, put, same};
use super::{at_input, auth, print, write};
use super::{factor, helm_set::SetValue};

/// What the user asked for.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) environment: String,
    pub(crate) cluster: String,
    pub(crate) force: bool,
    pub(crate) secret_name: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) installed_version: Option<String>,
    pub(crate) chart: Option<PathBuf>,
    pub(crate) files: Vec<PathBuf>,
    pub(crate) from_octopus: bool,
}

impl Options {
    /// The options the command line gives.
    pub(crate) fn new(args: &crate::cli::ImportArgs) -> Self {
        Self {
            environment: args.environment.clone(),
            cluster: args.cluster.clone().unwrap_or_default(),
            force: args.force,
            secret_name: args.secret_name.clone(),
            dry_run: args.dry_run,
            installed_version: args.installed_version.clone(),
            chart: args.chart.clone(),
            files: args.files.clone(),
            from_octopus: args.from_octopus,
        }
    }
}

/// One install, read and taken apart.
#[derive(Debug)]
pub(super) struct Import {
    pub(super) release: String,
    pub(super) file: String,
    pub(super) loc: Loc,
    pub(super) namespace: Option<String>,
    /// The values, less credentials, migrated: what the render must give back.
    pub(super) values: Node,
    pub(super) found: Found,
    pub(super) octopus: Node,
    pub(super) migrated: Vec<&'static str>,
}

impl Import {
    /// The namespace the release runs in: the command's, else the default one (a `helm
    /// get values` file does not say).
    pub(super) fn namespace(&self) -> String {
        self.namespace
            .clone()
            .unwrap_or_else(|| crate::names::default_namespace(&self.release))
    }
}

/// Runs `workergen import` in the config repository `dir`.
pub(crate) fn run(dir: &Path, options: &Options, context: &Context) -> Result<Outcome, Failure> {
    if options.from_octopus {
        return from_octopus(dir, &options.environment, context);
    }
    check_options(options)?;
    let chart = options
        .chart
        .as_deref()
        .map(Chart::new)
        .transpose()
        .map_err(Failure::usage)?;
    let mut sources = Sources::new();
    let mut secrets = Vec::new();
    let existing = read_existing(dir, options, &mut sources)?;
    let mut errors = Vec::new();
    let imports = read_inputs(options, &existing, &mut sources, &mut secrets, &mut errors)?;
    let (octopus, auth) = auth::environment(&imports, &existing, options, &mut errors);
    let stop = |errors: Vec<Diagnostic>, sources: &Sources| {
        let mut report = Report::new();
        report.extend(errors);
        report.sort(sources);
        print::print(&report.render(sources, context.color), &secrets);
        eprintln!("nothing written");
        Err(Failure::Reported)
    };
    if !errors.is_empty() {
        return stop(errors, &sources);
    }
    let cluster_plan = plan_cluster(&imports, &existing, &auth, options);
    check_overwrites(&existing, &cluster_plan, options, &mut errors);
    if !errors.is_empty() {
        return stop(errors, &sources);
    }
    let files = planned_files(&existing, options, &cluster_plan, octopus.as_ref());
    let expected: Vec<(String, Node, Vec<String>)> = imports.iter().map(|import| expected(import, &auth)).collect();
    let major = existing.chart_major().unwrap_or(3);
    let mut outcomes = match roundtrip::check(
        dir,
        files.clone(),
        (&options.environment, &options.cluster),
        &expected,
        major,
    ) {
        Ok(outcomes) => outcomes,
        Err(stopped) => {
            let inputs = at_input::Inputs {
                imports: &imports,
                sources: &sources,
                planned: &cluster_path(options),
            };
            return Err(print::stopped_failure(stopped, &inputs, context, &secrets));
        }
    };
    let namespaces: Vec<String> = imports.iter().map(Import::namespace).collect();
    roundtrip::through_chart(chart.as_ref(), &mut outcomes, &expected, &namespaces);
    let text = print::round_trip_text(&outcomes);
    crate::console::write_stdout(&credentials::scrub(&text, &secrets))?;
    refuse_differences(&outcomes)?;
    print::notes(&imports, &auth, &cluster_plan, options, context);
    write::write(dir, &files, &existing, options, context)?;
    Ok(Outcome::Success)
}

/// The round trip's verdict: a worker that differs stops the import.
fn refuse_differences(outcomes: &[roundtrip::Outcome]) -> Result<(), Failure> {
    let failed = outcomes
        .iter()
        .filter(|outcome| !outcome.differences.is_empty())
        .count();
    if failed == 0 {
        return Ok(());
    }
    Err(Failure::usage_with_hint(
        format!(
            "{} would not render the values {} release runs with; nothing written",
            crate::console::plural(failed, "worker"),
            if failed == 1 { "its" } else { "their" }
        ),
        "the differing key paths are listed above; keep those releases out of this import, or change them first",
    ))
}

/// The cluster file the imports make: their declarations, and its own `octopus.auth`
/// when they use another credential than the environment's.
fn plan_cluster(imports: &[Import], existing: &Existing, auth: &Auth, options: &Options) -> plan::ClusterPlan {
    let planned: Vec<Planned> = imports
        .iter()
        .map(|import| Planned {
            name: import.release.clone(),
            fields: factor::declaration(
                without_octopus(&import.values),
                import.namespace.as_deref(),
                &import.release,
                &format!("{}-{}-{}", options.environment, options.cluster, import.release),
            ),
        })
        .collect();
    let cluster_octopus = auth.cluster.then(|| {
        let mut octopus = Node::map(Loc::default());
        put(
            &mut octopus,
            &["auth", auth.kind.field()],
            Node::string(&auth.name, Loc::default()),
        );
        octopus
    });
    plan::cluster_file(existing, &planned, &options.cluster, cluster_octopus.as_ref())
}

/// `--from-octopus`: the space's registered Kubernetes workers, and how to import them.
fn from_octopus(dir: &Path, environment: &str, context: &Context) -> Result<Outcome, Failure> {
    use super::octopus::{self, ListError};
    let tree = FsTree::new(dir);
    let (fleet, _) =
        crate::load_fleet(&tree).with_context(|| format!("cannot read the config repository `{}`", dir.display()))?;
    let client = crate::status::client::ClientOptions::from_env(crate::env::var_os).map_err(Failure::usage)?;
    let listed = octopus::list(&fleet, environment, &client, &crate::env::var).map_err(|error| match error {
        ListError::Api(error) => Failure::Status(error),
        ListError::NoKey { ref variable, .. } => {
            let hint = format!("export `{variable}` with an Octopus API key that may view workers, or name another variable in `octopus.apiKeyEnv`");
            Failure::usage_with_hint(error.to_string(), hint)
        }
        other => Failure::usage_with_hint(other.to_string(), "the environment's `environment.yaml` names the Octopus server and space to ask"),
    })?;
    crate::console::write_stdout(&octopus::render(&listed, environment))?;
    if !context.quiet {
        let declared = listed.iter().filter(|worker| worker.declared.is_some()).count();
        eprintln!(
            "{} registered, {declared} declared",
            crate::console::plural(listed.len(), "Kubernetes worker")
        );
    }
    Ok(Outcome::Success)
}

fn check_options(options: &Options) -> Result<(), Failure> {
    for (flag, name) in [("--env", &options.environment), ("--cluster", &options.cluster)] {
        if !crate::names::is_dns_label(name) {
            return Err(Failure::usage_with_hint(
                format!("{flag} `{name}` is not a DNS-1123 label"),
                "environment and cluster names are folder and file names: lowercase letters, digits and `-`",
            ));
        }
    }
    if let Some(version) = options.installed_version.as_deref() {
        if !plan::is_version(version) {
            return Err(Failure::usage_with_hint(
                format!("--installed-version `{version}` is not a chart version"),
                "the version `helm list -n NAMESPACE` shows in its CHART column (`kubernetes-agent-2.51.2` is `2.51.2`)",
            ));
        }
    }
    if let Some(name) = options.secret_name.as_deref() {
        if !crate::names::is_dns_subdomain(name) {
            return Err(Failure::usage_with_hint(
                "--secret-name is not a valid Secret name (the value is not shown: it may be a credential)",
                "give the name of the Secret that holds the credential, not the credential: Secret names are DNS-1123 subdomains (lowercase letters, digits, `-` and `.`)",
            ));
        }
    }
    if options.files.is_empty() {
        return Err(Failure::usage_with_hint(
            "no input files",
            "pass `helm get values -o yaml RELEASE` outputs saved as `<release>.yaml`, or files holding the wizard's `helm upgrade --install` command",
        ));
    }
    Ok(())
}

pub(super) fn cluster_path(options: &Options) -> String {
    format!("{ENVIRONMENTS}/{}/{}.yaml", options.environment, options.cluster)
}

pub(super) fn environment_path(options: &Options) -> String {
    format!("{ENVIRONMENTS}/{}/{ENVIRONMENT_FILE}", options.environment)
}

/// Reads `workergen.yaml`, the environment file and the cluster file (when present).
fn read_existing(dir: &Path, options: &Options, sources: &mut Sources) -> Result<Existing, Failure> {
    let tree = FsTree::new(dir);
    let mut read = |path: &str| -> Result<Option<(Node, String)>, Failure> {
        let bytes = tree
            .read(path, MAX_FILE_BYTES)
            .with_context(|| format!("cannot read `{path}`"))?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let text = String::from_utf8(bytes).map_err(|_| Failure::usage(format!("`{path}` is not UTF-8 text")))?;
        let id = sources.add(path, text.clone());
        match yaml::parse(&text, id, Limits::default()) {
            Ok(node) => Ok(Some((node, text))),
            Err(diagnostic) => {
                let mut report = Report::new();
                report.push(diagnostic);
                let _ = std::io::stderr().write_all(report.render(sources, false).as_bytes());
                Err(Failure::Reported)
            }
        }
    };
    let Some((settings, _)) = read(REPO_FILE)? else {
        return Err(Failure::usage_with_hint(
            format!(
                "no `{REPO_FILE}` in `{}`: not a workergen config repository",
                dir.display()
            ),
            "run `workergen init` first (or pass `-C DIR`)",
        ));
    };
    let environment = read(&environment_path(options))?.map(|(node, _)| node);
    let cluster = read(&cluster_path(options))?;
    Ok(Existing {
        settings: Some(settings),
        environment,
        cluster_text: cluster.as_ref().map(|(_, text)| text.clone()),
        cluster: cluster.map(|(node, _)| node),
    })
}

/// Reads every input; a file that does not read is an error, and so is a release
/// imported twice.
fn read_inputs(
    options: &Options,
    existing: &Existing,
    sources: &mut Sources,
    secrets: &mut Vec<String>,
    errors: &mut Vec<Diagnostic>,
) -> Result<Vec<Import>, Failure> {
    let mut imports: Vec<Import> = Vec::new();
    for path in &options.files {
        let file = path.display().to_string();
        // Only regular files, within the declarations' size limit: a FIFO would wait for
        // a writer forever, `/dev/zero` would fill memory, a folder is a usage mistake.
        let read = crate::tree::read_regular_file(&file, path, crate::load::MAX_FILE_BYTES).and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))
        });
        let text = match read {
            Ok(text) => text,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound
                        | std::io::ErrorKind::InvalidData
                        | std::io::ErrorKind::InvalidInput
                        | std::io::ErrorKind::FileTooLarge
                ) =>
            {
                let what = match error.kind() {
                    std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_string(),
                    std::io::ErrorKind::FileTooLarge => {
                        format!("it is larger than {} KiB", crate::load::MAX_FILE_BYTES / 1024)
                    }
                    _ => error.to_string(),
                };
                return Err(Failure::usage_with_hint(
                    format!("cannot read `{file}`: {what}"),
                    "pass regular files holding `helm get values -o yaml` output or a `helm upgrade --install` command (UTF-8 text)",
                ));
            }
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("cannot read `{file}`"))
                    .into())
            }
        };
        let id = FileId(u32::try_from(sources.len()).expect("fewer than 2^32 files"));
        let import = match input::read(&file, &text, sources, secrets) {
            Ok(read) => import_of(read, (&file, &text), id, options, existing, errors),
            Err(error) => {
                errors.push(error.diagnostic(id, &text, secrets));
                continue;
            }
        };
        let Some(import) = import else {
            continue;
        };
        if let Some(first) = imports.iter().find(|other| other.release == import.release) {
            errors.push(
                Diagnostic::error(import.loc, format!("release `{}` is imported twice", import.release))
                    .with_related(first.loc, "first imported here")
                    .with_hint("pass each release once"),
            );
            continue;
        }
        imports.push(import);
    }
    Ok(imports)
}

/// One read input taken apart: credentials out, 2.x migrated, the environment's values aside.
fn import_of(
    read: Input,
    (file, text): (&str, &str),
    id: FileId,
    options: &Options,
    existing: &Existing,
    errors: &mut Vec<Diagnostic>,
) -> Option<Import> {
    let start = Loc::new(id, 1, 1);
    let (release, namespace, version, mut values) = match read_values(read, (file, text), id) {
        Ok(read) => read,
        Err(diagnostic) => {
            errors.push(*diagnostic);
            return None;
        }
    };
    if let Some(diagnostic) = text_worker_enabled(&values, &release) {
        errors.push(diagnostic);
        return None;
    }
    let repo_major = existing.chart_major().unwrap_or(3);
    let version = version.or_else(|| options.installed_version.clone());
    // A guess would be wrong exactly where it matters: a 2.x release read as 3.x skips
    // the move to the 3.x layout, and the next sync changes the worker's storage.
    let Some(installed_major) = version.as_deref().and_then(crate::version::major) else {
        errors.push(
            Diagnostic::error(
                start,
                format!("the chart version `{release}` was installed with is not known"),
            )
            .with_hint(format!(
                "pass `--installed-version` with the version `helm list -n {}` shows (CHART `kubernetes-agent-2.51.2` is `2.51.2`), or see each worker's with `workergen import --env ENV --from-octopus`; a 2.x release needs the chart's move to the 3.x layout",
                namespace.clone().unwrap_or_else(|| crate::names::default_namespace(&release))
            )),
        );
        return None;
    };
    let mut migrated = Vec::new();
    match (installed_major, repo_major) {
        (2, 3) => migrated = factor::migrate_to_v3(&mut values, start),
        (installed, repo) if installed != repo => {
            errors.push(
                Diagnostic::error(start, format!("the release runs chart {installed}.x, and this cluster renders chart {repo}.x"))
                    .with_hint("import into a cluster on the release's chart major (a `chart:` block in its cluster file), then upgrade in Git"),
            );
            return None;
        }
        _ => {}
    }
    let found = credentials::take(&mut values, errors);
    let mut rest = values.clone();
    let octopus = factor::take_octopus(&mut rest);
    Some(Import {
        release,
        file: file.to_owned(),
        loc: start,
        namespace,
        values,
        found,
        octopus,
        migrated,
    })
}

/// An input's release, namespace (a command's), chart version (a command's) and values.
type ReadValues = (String, Option<String>, Option<String>, Node);

/// An input's release, namespace, chart version and values; a diagnostic for values no
/// declaration can reproduce (`--all` output, a `--set` integer printed in exponent form).
fn read_values(read: Input, (file, text): (&str, &str), id: FileId) -> Result<ReadValues, Box<Diagnostic>> {
    let start = Loc::new(id, 1, 1);
    match read {
        Input::Values { release, values } => {
            if let Some((held, of)) = holds_chart_defaults(&values) {
                return Err(Box::new(
                    Diagnostic::error(
                        start,
                        format!("`{file}` holds {held} of the chart's {of} default values: `helm get values --all` output, not what the install set"),
                    )
                    .with_hint(super::input::COMPUTED_HINT),
                ));
            }
            Ok((release, None, None, values))
        }
        Input::Command(install) => {
            let mut values = from_set(&SetValue::Map(install.values), start);
            super::tree::locate_in(&mut values, text, id, "");
            if let Some((path, number, loc)) = exponent_integer(&values) {
                return Err(Box::new(
                    Diagnostic::error(
                        loc,
                        format!("`{path}={number}`: `--set` keeps this integer whole, but from a values file Helm reads it as a float, which templates print as `{}`", exponent_form(number)),
                    )
                    .with_hint("no values file renders what this `--set` renders: keep the release out of the import, or set the value below 1000000 on the release first"),
                ));
            }
            Ok((install.release, install.namespace, install.version, values))
        }
    }
}

/// `agent.worker.enabled` given as text (`--set-string`): the chart tests it for truth,
/// so any text but the empty one (`"false"` too) makes a worker, which a declaration's
/// boolean cannot say.
fn text_worker_enabled(values: &Node, release: &str) -> Option<Diagnostic> {
    let node = values.get_path(["agent", "worker", "enabled"])?;
    let crate::yaml::Value::Str(text) = &node.value else {
        return None;
    };
    Some(
        Diagnostic::error(
            node.loc,
            format!("`agent.worker.enabled` of `{release}` is the text {text:?} (`--set-string`), not a boolean"),
        )
        .with_hint("the chart reads any non-empty text as true, `\"false\"` too: install with `--set agent.worker.enabled=true`, a boolean, and import that"),
    )
}

/// How many of a chart's default values (of either major) `values` holds with the
/// default's own value, and of how many, when that is most of them: the mark of `helm get
/// values --all`, whose every default would be pinned in Git. An install sets a handful.
fn holds_chart_defaults(values: &Node) -> Option<(usize, usize)> {
    [2, 3]
        .into_iter()
        .filter_map(crate::chart::reference)
        .map(|reference| {
            let (mut held, mut of) = (0, 0);
            reference.root.for_each_leaf(&mut Vec::new(), &mut |path, default| {
                of += 1;
                if values
                    .get_path(path.iter().copied())
                    .is_some_and(|value| super::tree::same(value, default))
                {
                    held += 1;
                }
            });
            (held, of)
        })
        .filter(|(held, of)| *held >= 20 && held * 2 >= *of)
        .max()
}

/// The first integer of a `--set` whose float form Go prints with an exponent (one of
/// 1000000 or more, either sign): its key path, value and place.
fn exponent_integer(values: &Node) -> Option<(String, i64, Loc)> {
    let mut found = None;
    values.for_each_leaf(&mut Vec::new(), &mut |path, leaf| {
        let mut check = |node: &Node| {
            if let yaml::Value::Int(number) = node.value {
                if number.unsigned_abs() >= 1_000_000 && found.is_none() {
                    found = Some((path.join("."), number, node.loc));
                }
            }
        };
        match &leaf.value {
            yaml::Value::Seq(items) => items.iter().for_each(&mut check),
            _ => check(leaf),
        }
    });
    found
}

/// How Go's `%v` prints `number` as a float64 (`1e+06`, `1.234567e+06`).
fn exponent_form(number: i64) -> String {
    let text = format!("{:e}", number as f64);
    match text.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

/// The values less those the environment declares.
fn without_octopus(values: &Node) -> Node {
    let mut rest = values.clone();
    factor::take_octopus(&mut rest);
    rest
}

/// What the render must give back: the values less credentials, plus the references;
/// and the paths added on purpose.
fn expected(import: &Import, auth: &Auth) -> (String, Node, Vec<String>) {
    let mut values = import.values.clone();
    let mut added = Vec::new();
    if import.found.plaintext.is_some() || import.found.reference.is_some() {
        let path = auth.kind.value_path();
        put(&mut values, &path, Node::string(&auth.name, import.loc));
        if import.found.reference.is_none() {
            added.push(path.join("."));
        }
    }
    let has_certificate = import.found.inline_certificate.is_some() || import.found.certificate_reference.is_some();
    if let (true, Some(certificate)) = (has_certificate, &auth.certificate) {
        put(
            &mut values,
            &["agent", "serverCertificateSecretName"],
            Node::string(certificate, import.loc),
        );
        if import.found.certificate_reference.is_none() {
            added.push("agent.serverCertificateSecretName".to_owned());
        }
    }
    // The migration's values are on both sides: named, so the output says so.
    added.extend(import.migrated.iter().map(|path| (*path).to_owned()));
    (import.release.clone(), values, added)
}

/// Existing workers the import would change need `--force`.
fn check_overwrites(existing: &Existing, plan: &plan::ClusterPlan, options: &Options, errors: &mut Vec<Diagnostic>) {
    if options.force {
        return;
    }
    for (name, loc, node) in existing.workers() {
        let Some((_, planned)) = plan.workers.iter().find(|(planned, _)| *planned == name) else {
            continue;
        };
        if !same(&node, planned) || plan.defaults_changed {
            errors.push(plan::overwrite_error(&name, loc, &cluster_path(options)));
        }
    }
}

/// The files to write, by path in the repository.
fn planned_files(
    existing: &Existing,
    options: &Options,
    plan: &plan::ClusterPlan,
    octopus: Option<&Node>,
) -> BTreeMap<String, String> {
    let mut files = BTreeMap::from([(cluster_path(options), plan.text.clone())]);
    if let (None, Some(octopus)) = (&existing.environment, octopus) {
        files.insert(environment_path(options), plan::environment_file(octopus));
    }
    files
}

#[cfg(test)]
mod tests {
    #[test]
    fn floats_print_as_go_prints_them() {
        assert_eq!(super::exponent_form(1_000_000), "1e+06");
        assert_eq!(super::exponent_form(1_234_567), "1.234567e+06");
        assert_eq!(super::exponent_form(-20_000_000_000), "-2e+10");
    }
}
