//! `run`: each command as the pipeline of its stages, and what the user sees of it.

use std::io::{IsTerminal, Write};

use anyhow::Context as _;

use crate::cli::{
    Cli, ColorChoice, Command, DiffArgs, DiffFormat, ExplainArgs, ExplainFormat, GlobalArgs, InitArgs, InitEngine,
    ProposeArgs, ProposeOutput, RenderArgs, SchemaArgs, SchemaFile, ScopeArgs,
};
use crate::diagnostic::{Report, Severity};
use crate::diff::committed::{Committed, CommittedFiles};
use crate::failure::Failure;
pub use crate::failure::Outcome;
use crate::git::ConfigRepo;
use crate::hint::Hint;
use crate::model::Fleet;
use crate::propose::{self as proposal, Proposal, ProposeError, ProposeOptions, PushAuth};
use crate::render::output::{self, WriteOptions};
use crate::render::templates::Templates;
use crate::render::{self, Scope};
use crate::tree::fs::FsTree;
use crate::tree::FileTree;
use crate::Timings;

/// What a run takes from its environment, read in one place so tests can set it.
#[derive(Debug, Clone)]
pub struct Context {
    pub color: bool,
    /// Whether data on stdout may be coloured.
    pub color_stdout: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// Credentials for `propose --push` from the environment.
    pub push_auth: PushAuth,
    /// Whether a progress bar may be shown: stderr is a terminal and not in CI.
    pub progress: bool,
}

impl Context {
    /// Reads `NO_COLOR` and whether stderr is a terminal.
    pub fn from_process(global: &GlobalArgs) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        let wants = |is_terminal: bool| match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && is_terminal,
        };
        let color = wants(std::io::stderr().is_terminal());
        let color_stdout = wants(std::io::stdout().is_terminal());
        Self {
            color,
            color_stdout,
            quiet: global.quiet,
            verbose: global.verbose,
            progress: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
            push_auth: PushAuth {
                token: std::env::var("WORKERGEN_GIT_TOKEN")
                    .ok()
                    .filter(|token| !token.is_empty()),
                username: std::env::var("WORKERGEN_GIT_USERNAME")
                    .ok()
                    .filter(|name| !name.is_empty()),
            },
        }
    }
}

/// Runs the command and prints what it has to say.
pub fn run(cli: &Cli, context: &Context) -> Outcome {
    let result = match &cli.command {
        Command::Validate(scope) => validate(cli, &scope_of(scope), context),
        Command::Render(args) => render(cli, args, context),
        Command::Diff(args) => diff(cli, args, context),
        Command::Check(scope) => check(cli, &scope_of(scope), context),
        Command::Propose(args) => propose(cli, args, context),
        Command::Explain(args) => explain(cli, args, context),
        Command::Init(args) => init(cli, args, context),
        Command::Schema(args) => schema(args),
        Command::Completions(args) => completions(args.shell),
        Command::Man => man(),
    };
    result.unwrap_or_else(|failure| {
        print_failure(&failure, context);
        failure.exit_code()
    })
}

/// Prints why a command stopped: the one place a failure reaches the terminal.
fn print_failure(failure: &Failure, context: &Context) {
    match failure {
        Failure::Reported => {}
        Failure::Template(error) | Failure::Propose(ProposeError::Template(error)) => {
            print_template_error(error, context);
        }
        Failure::Propose(ProposeError::Declarations { label, fleet, report }) => {
            print_invalid(label, fleet, report, context);
        }
        _ => {
            eprintln!("error: {failure}");
            if let Some(hint) = failure.hint() {
                eprintln!("  hint: {hint}");
            }
            if let Failure::Propose(error) = failure {
                if let Some(note) = error.rollback_note() {
                    eprintln!("{note}");
                }
            }
        }
    }
}

fn scope_of(args: &ScopeArgs) -> Scope {
    Scope::new(args.env.as_deref(), args.cluster.as_deref())
}

/// Loads and validates, printing the diagnostics; [`Failure::Reported`] when there were
/// errors.
fn load(cli: &Cli, context: &Context) -> Result<(Fleet, Report), Failure> {
    load_timed(cli, context, &Scope::default(), &mut Timings::default())
}

/// Loads and validates; with a scope, problems in files outside it are left out
/// ([`scoped`]).
fn load_timed(cli: &Cli, context: &Context, scope: &Scope, timings: &mut Timings) -> Result<(Fleet, Report), Failure> {
    let tree = FsTree::new(&cli.global.directory);
    let (fleet, mut report) = crate::load_fleet_timed(&tree, timings)
        .with_context(|| format!("cannot read the config repository `{}`", cli.global.directory.display()))?;
    crate::validate::check_output_link(&cli.global.directory, &fleet, &mut report);
    report.sort(&fleet.sources);
    let report = scoped(report, &fleet, scope, context);
    print_report(&report, &fleet, context);
    if report.has_errors() {
        eprintln!("{}", summary(&fleet, &report));
        return Err(Failure::Reported);
    }
    Ok((fleet, report))
}

/// Whether the declaration file at `path` can change what the scope renders:
/// everything outside `environments/` (`workergen.yaml`, templates), the scope's
/// cluster files, and the `environment.yaml` of environments with a cluster in it.
fn file_in_scope(path: &str, scope: &Scope, fleet: &Fleet) -> bool {
    let Some(rest) = path
        .strip_prefix(crate::load::ENVIRONMENTS)
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return true;
    };
    let Some((environment, file)) = rest.split_once('/') else {
        return false;
    };
    if file == crate::load::ENVIRONMENT_FILE {
        return scope.environment.as_ref().is_none_or(|wanted| wanted == environment)
            && scope.cluster.as_ref().is_none_or(|cluster| {
                let wanted = format!("{}/{environment}/{cluster}.yaml", crate::load::ENVIRONMENTS);
                (0..fleet.sources.len()).any(|id| fleet.sources.path(crate::source::FileId(id as u32)) == wanted)
            });
    }
    let stem = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .unwrap_or(file);
    scope.matches(environment, stem)
}

/// The problems that concern the scope: those in its files (see [`file_in_scope`]),
/// those that also point into them (a collision across its boundary), and those of no
/// file. The others are counted in a note: they do not stop a scoped command.
fn scoped(report: Report, fleet: &Fleet, scope: &Scope, context: &Context) -> Report {
    if scope.is_all() {
        return report;
    }
    let concerns = |diagnostic: &crate::diagnostic::Diagnostic| {
        let in_scope = |loc: &crate::source::Loc| file_in_scope(fleet.sources.path(loc.file), scope, fleet);
        diagnostic.loc.as_ref().is_none_or(in_scope) || diagnostic.related.iter().any(|(loc, _)| in_scope(loc))
    };
    let (kept, left): (Vec<_>, Vec<_>) = report.diagnostics().iter().cloned().partition(concerns);
    let errors = left.iter().filter(|d| d.severity == Severity::Error).count();
    if errors > 0 && !context.quiet {
        eprintln!(
            "note: {} in files outside the selected environments and clusters left out; run without `--env`/`--cluster` to see them",
            plural(errors, "error")
        );
    }
    let mut report = Report::new();
    report.extend(kept);
    report
}

fn print_report(report: &Report, fleet: &Fleet, context: &Context) {
    let mut shown = Report::new();
    shown.extend(
        report
            .diagnostics()
            .iter()
            .filter(|d| !context.quiet || d.severity == Severity::Error)
            .cloned(),
    );
    let text = shown.render(&fleet.sources, context.color);
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// The problems of a side of a diff, or of the base of a proposal, that stop the command.
fn print_invalid(label: &str, fleet: &Fleet, report: &Report, context: &Context) {
    print_report(report, fleet, context);
    eprintln!("the declarations of {label} are invalid: {}", summary(fleet, report));
}

fn print_template_error(error: &crate::render::templates::TemplateError, context: &Context) {
    let (sources, report) = error.to_report();
    let _ = std::io::stderr().write_all(report.render(&sources, context.color).as_bytes());
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// `2 environments, 4 clusters, 9 workers: ok` (or how many errors and warnings).
fn summary(fleet: &Fleet, report: &Report) -> String {
    let enabled = fleet.workers.iter().filter(|worker| worker.enabled).count();
    let disabled = fleet.workers.len() - enabled;
    let mut text = format!(
        "{}, {}, {}",
        plural(fleet.environments.len(), "environment"),
        plural(fleet.clusters.len(), "cluster"),
        plural(enabled, "worker")
    );
    if disabled > 0 {
        text.push_str(&format!(" ({disabled} disabled)"));
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let verdict = match (errors, warnings) {
        (0, 0) => "ok".to_string(),
        (0, _) => format!("ok, {}", plural(warnings, "warning")),
        (_, 0) => plural(errors, "error"),
        _ => format!("{}, {}", plural(errors, "error"), plural(warnings, "warning")),
    };
    format!("{text}: {verdict}")
}

fn validate(cli: &Cli, scope: &Scope, context: &Context) -> Result<Outcome, Failure> {
    let mut timings = Timings::default();
    let loaded = load_timed(cli, context, scope, &mut timings);
    if context.verbose {
        eprintln!("{}", timings.summary());
    }
    let (fleet, report) = loaded?;
    check_scope(&fleet, scope)?;
    let templates = Templates::load(&FsTree::new(&cli.global.directory))?;
    render::check_templates(&fleet, &templates)?;
    if !context.quiet {
        eprintln!("{}", summary(&fleet, &report));
    }
    Ok(Outcome::Success)
}

/// Checks that `--env` / `--cluster` name something that exists.
fn check_scope(fleet: &Fleet, scope: &Scope) -> Result<(), Failure> {
    if let Some(environment) = &scope.environment {
        if !fleet.environments.iter().any(|e| &e.name == environment) {
            let known: Vec<_> = fleet.environments.iter().map(|e| e.name.as_str()).collect();
            return Err(Failure::usage(format!(
                "no environment `{environment}`; there are: {}",
                known.join(", ")
            )));
        }
    }
    if let Some(cluster) = &scope.cluster {
        let found = fleet.clusters.iter().any(|c| {
            &c.name == cluster
                && scope
                    .environment
                    .as_ref()
                    .is_none_or(|e| e == &fleet.environments[c.environment].name)
        });
        if !found {
            return Err(Failure::usage(format!(
                "no cluster `{cluster}` in the selected environments"
            )));
        }
    }
    Ok(())
}

/// A progress bar for long renders, on a terminal only (never piped, never in CI).
fn progress_bar(context: &Context, clusters: usize) -> Option<indicatif::ProgressBar> {
    let wanted = context.progress && !context.quiet && clusters >= 50;
    wanted.then(|| {
        let bar = indicatif::ProgressBar::new(clusters as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("rendering {bar:40} {pos}/{len} clusters {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

fn render(cli: &Cli, args: &RenderArgs, context: &Context) -> Result<Outcome, Failure> {
    let mut timings = Timings::default();
    let outcome = render_timed(cli, args, context, &mut timings);
    if context.verbose {
        eprintln!("{}", timings.summary());
    }
    outcome
}

fn render_timed(cli: &Cli, args: &RenderArgs, context: &Context, timings: &mut Timings) -> Result<Outcome, Failure> {
    let scope = scope_of(&args.scope);
    let (fleet, _) = load_timed(cli, context, &scope, timings)?;
    check_scope(&fleet, &scope)?;
    let tree = FsTree::new(&cli.global.directory);
    let bar = progress_bar(context, fleet.clusters.len());
    let tick = || {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let result = timings.time("render", || {
        Templates::load(&tree)
            .and_then(|templates| render::render_with_progress(&fleet, &templates, &scope, args.stdout, &tick))
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let rendered = result?;
    if args.stdout {
        write_stdout(&render::stream(&rendered))?;
        return Ok(Outcome::Success);
    }
    let root = cli.global.directory.join(&fleet.settings.output.value);
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create `{}`", root.display()))?;
    let options = WriteOptions { force: args.force };
    let report = timings
        .time("write", || {
            output::write_tree(&root, &rendered.files, &rendered.scope, &options)
        })
        .map_err(|error| Failure::Output {
            output: fleet.settings.output.value.clone(),
            error,
        })?;
    if context.verbose {
        // A whole fleet's paths would drown the terminal: the first few, then a count.
        const SHOWN: usize = 20;
        for (verb, paths) in [("wrote", &report.written), ("deleted", &report.deleted)] {
            for path in paths.iter().take(SHOWN) {
                eprintln!("{verb} {}", root.join(path).display());
            }
            if paths.len() > SHOWN {
                eprintln!("{verb} {} more files", paths.len() - SHOWN);
            }
        }
    }
    for path in &report.forced {
        eprintln!(
            "warning: replaced `{}`, which workergen did not write (`--force`)",
            root.join(path).display()
        );
    }
    let summary_line = format!(
        "rendered {} into `{}`: {} written, {} unchanged, {} deleted",
        plural(rendered.workers, "worker"),
        fleet.settings.output.value,
        plural(report.written.len(), "file"),
        report.unchanged,
        report.deleted.len()
    );
    // The process ends next: freeing a whole fleet's trees one by one would only cost
    // time (about 0.1 s at 10,000 workers).
    std::mem::forget(rendered);
    std::mem::forget(fleet);
    if !context.quiet {
        eprintln!("{summary_line}");
    }
    Ok(Outcome::Success)
}

/// Reports a loaded side's problems; its fleet and templates when it is valid.
fn finish_side(
    tree: &dyn FileTree,
    loaded: std::io::Result<(Fleet, Report)>,
    label: &str,
    scope: &Scope,
    context: &Context,
) -> Result<Loaded, Failure> {
    let (mut fleet, report) = loaded.with_context(|| format!("cannot read the declarations of {label}"))?;
    let report = scoped(report, &fleet, scope, context);
    if !scope.is_all() {
        // Only the scope's workers are compared.
        let clusters: Vec<bool> = fleet
            .clusters
            .iter()
            .map(|cluster| scope.includes(&fleet, cluster))
            .collect();
        fleet.workers.retain(|worker| clusters[worker.cluster]);
    }
    if report.has_errors() {
        print_invalid(label, &fleet, &report, context);
        return Err(Failure::Reported);
    }
    Ok((fleet, Templates::load(tree)?))
}

fn diff(cli: &Cli, args: &DiffArgs, context: &Context) -> Result<Outcome, Failure> {
    let scope = scope_of(&args.scope);
    let repo = ConfigRepo::open(&cli.global.directory)?;
    let base = args
        .base
        .as_deref()
        .map_or_else(|| repo.default_base(), |rev| repo.revision(rev))?;
    if !context.quiet {
        eprintln!("base: {}", base.label);
    }
    let base_tree = if args.allow_empty_base {
        repo.declarations(&base)?
    } else {
        Some(repo.required_declarations(&base)?)
    };
    let head = args.head.as_deref().map(|rev| repo.revision(rev)).transpose()?;
    let (head_label, head_tree): (String, Box<dyn FileTree>) = match &head {
        Some(head) => (head.label.clone(), Box::new(repo.required_declarations(head)?)),
        None => ("working tree".to_string(), Box::new(FsTree::new(&cli.global.directory))),
    };
    let base_tree = base_tree
        .as_ref()
        .map(|tree| (tree as &dyn FileTree, base.label.as_str()));
    let (base_side, head_side) = load_sides(base_tree, (head_tree.as_ref(), &head_label), &scope, context)?;
    check_scope(&head_side.0, &scope)?;
    // The head's committed rendered/ files, to report drift against its declarations.
    let output = head_side.0.settings.output.value.clone();
    let at = match &head {
        Some(revision) => Committed::Revision { repo: &repo, revision },
        None => Committed::WorkingTree(cli.global.directory.join(&output)),
    };
    let committed = CommittedFiles::new(at, &output, &scope);
    let start = std::time::Instant::now();
    let (base, head) = (side(&base.label, &base_side), side(&head_label, &head_side));
    let computed = crate::diff::compute_with_committed(&base, &head, Some(&|clusters| committed.read(clusters)));
    if context.verbose {
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        eprintln!("timings: diff (render both sides and compare) {elapsed:.1} ms");
    }
    let diff = computed?;
    committed
        .finish()
        .with_context(|| format!("cannot compare with the committed `{output}/`"))?;
    write_stdout(&match args.format {
        DiffFormat::Text => crate::diff::text::render(&diff, context.color_stdout),
        DiffFormat::Markdown => crate::diff::markdown::render(&diff),
        DiffFormat::Json => crate::diff::json::render(&diff),
    })?;
    Ok(if args.exit_code && !diff.is_empty() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}

/// A valid side of a diff: its fleet and templates.
type Loaded = (Fleet, Templates);

fn side<'a>(label: &str, (fleet, templates): &'a Loaded) -> crate::diff::Side<'a> {
    crate::diff::Side {
        label: label.to_string(),
        fleet,
        templates,
    }
}

/// Loads both sides of a diff at once, then reports their problems in order. A base
/// without declarations (`--allow-empty-base`) is an empty fleet.
fn load_sides(
    base: Option<(&dyn FileTree, &str)>,
    (head_tree, head_label): (&dyn FileTree, &str),
    scope: &Scope,
    context: &Context,
) -> Result<(Loaded, Loaded), Failure> {
    let (base_loaded, head_loaded) = rayon::join(
        || base.map(|(tree, _)| crate::load_fleet(tree)),
        || crate::load_fleet(head_tree),
    );
    let base_side = match (base, base_loaded) {
        (Some((tree, label)), Some(loaded)) => finish_side(tree, loaded, label, scope, context)?,
        _ => (Fleet::empty(), Templates::load(&crate::tree::git::GitTree::default())?),
    };
    let head_side = finish_side(head_tree, head_loaded, head_label, scope, context)?;
    Ok((base_side, head_side))
}

/// Writes data to stdout; a closed pipe (`| head`) is not a failure.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(error).context("cannot write to stdout"),
    }
}

fn check(cli: &Cli, scope: &Scope, context: &Context) -> Result<Outcome, Failure> {
    let (fleet, _) = load_timed(cli, context, scope, &mut Timings::default())?;
    check_scope(&fleet, scope)?;
    let templates = Templates::load(&FsTree::new(&cli.global.directory))?;
    let rendered = render::render(&fleet, &templates, scope, false)?;
    let output_name = &fleet.settings.output.value;
    let root = cli.global.directory.join(output_name);
    let mut found = output::read_owned(&root).context("cannot read the rendered tree")?;
    found.retain(|path, _| rendered.scope.iter().any(|folder| path.starts_with(folder)));
    let drift = render::Drift::between(&rendered.files, &found);
    if drift.is_empty() {
        if !context.quiet {
            eprintln!("`{output_name}/` is up to date ({} files)", rendered.files.len());
        }
        return Ok(Outcome::Success);
    }
    let mut listing = String::new();
    for (label, paths) in [
        ("stale", &drift.stale),
        ("missing", &drift.missing),
        ("extra", &drift.extra),
    ] {
        for path in paths {
            listing.push_str(&format!("{label}: {output_name}/{}\n", path.display()));
        }
    }
    write_stdout(&listing)?;
    eprintln!(
        "`{output_name}/` is out of date: {} stale, {} missing, {} extra\n  hint: run `workergen render` and commit the result",
        drift.stale.len(),
        drift.missing.len(),
        drift.extra.len()
    );
    Ok(Outcome::Changes)
}

fn propose(cli: &Cli, args: &ProposeArgs, context: &Context) -> Result<Outcome, Failure> {
    let options = ProposeOptions {
        base: args.base.clone(),
        branch: args.branch.clone(),
        author: args.author.clone(),
        push: args.push.clone(),
        force: args.force,
        body_file: args.body_file.clone(),
        auth: context.push_auth.clone(),
    };
    // The flags that need no repository are checked before it is looked for.
    options.check()?;
    let repo = ConfigRepo::open(&cli.global.directory)?;
    let proposal = proposal::propose(&repo, &options)?;
    if !context.quiet {
        eprintln!("{}", proposal.summary());
    }
    match (args.output, &proposal) {
        (ProposeOutput::Json, _) => write_stdout(&format!("{:#}\n", proposal.json()))?,
        (ProposeOutput::Text, Proposal::Branch { body, .. }) if args.body_file.is_none() => write_stdout(body)?,
        (ProposeOutput::Text, _) => {}
    }
    Ok(Outcome::Success)
}

fn explain(cli: &Cli, args: &ExplainArgs, context: &Context) -> Result<Outcome, Failure> {
    let (fleet, _) = load(cli, context)?;
    let worker = find_worker(&fleet, &args.worker)?;
    let templates = Templates::load(&FsTree::new(&cli.global.directory))?;
    let explanation = crate::explain::explain(&fleet, &templates, worker, args.key.as_deref())?;
    if let Some(key) = &args.key {
        if explanation.enabled && explanation.values.is_empty() && explanation.manifest.is_empty() {
            return Err(Failure::usage_with_hint(
                format!("`{}` has no value at or below `{key}`", args.worker),
                "key paths are dotted chart values or declaration fields, e.g. `scriptPods.resources`, `workerPools` or `spec.chartRef`",
            ));
        }
    }
    let text = match args.format {
        ExplainFormat::Text => crate::explain::render_text(&explanation),
        ExplainFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&explanation).map_err(anyhow::Error::from)?
        ),
    };
    write_stdout(&text)?;
    Ok(Outcome::Success)
}

/// The worker `id` (`<env>/<cluster>/<worker>`) names, or a usage failure with the
/// closest id.
fn find_worker<'f>(fleet: &'f Fleet, id: &str) -> Result<&'f crate::model::Worker, Failure> {
    if let Some(worker) = fleet.workers.iter().find(|worker| fleet.worker_id(worker) == id) {
        return Ok(worker);
    }
    let ids: Vec<String> = fleet.workers.iter().map(|worker| fleet.worker_id(worker)).collect();
    let hint = match crate::diagnostic::did_you_mean(id, ids.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!(
            "name it as `<env>/<cluster>/<worker>`, e.g. `{}`",
            ids.first().map_or("production/eu-west-1/deploy", String::as_str)
        ),
    };
    Err(Failure::usage_with_hint(format!("no worker `{id}`"), hint))
}

fn init(cli: &Cli, args: &InitArgs, context: &Context) -> Result<Outcome, Failure> {
    let engine = match args.engine {
        InitEngine::Flux => crate::decl::Engine::Flux,
        InitEngine::Argocd => crate::decl::Engine::Argocd,
    };
    let dir = &cli.global.directory;
    let written = crate::init::init(dir, engine, args.accept_eula)?;
    if context.quiet {
        return Ok(Outcome::Success);
    }
    for path in &written {
        eprintln!("created {}", path.display());
    }
    if args.accept_eula {
        eprintln!("next: edit the files (your editor completes them from schemas/), then `workergen validate` and `workergen render`");
    } else {
        eprintln!("next: read the Octopus customer agreement (https://octopus.com/company/customer-agreement) and, if you agree, set `acceptEula: true` in workergen.yaml (or run `workergen init --accept-eula` in an empty folder); then `workergen validate` and `workergen render`");
    }
    Ok(Outcome::Success)
}

fn schema(args: &SchemaArgs) -> Result<Outcome, Failure> {
    let schemas = crate::decl::schemas();
    if let Some(dir) = &args.write {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        for (name, text) in &schemas {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        return Ok(Outcome::Success);
    }
    let text = match args.file {
        Some(file) => {
            let name = match file {
                SchemaFile::Workergen => "workergen.schema.json",
                SchemaFile::Environment => "environment.schema.json",
                SchemaFile::Cluster => "cluster.schema.json",
            };
            schemas
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| text)
                .unwrap_or_default()
        }
        None => {
            let all: serde_json::Map<String, serde_json::Value> = schemas
                .into_iter()
                .map(|(name, text)| Ok((name.to_string(), serde_json::from_str(&text)?)))
                .collect::<anyhow::Result<_>>()?;
            format!("{:#}\n", serde_json::Value::Object(all))
        }
    };
    write_stdout(&text)?;
    Ok(Outcome::Success)
}

fn completions(shell: clap_complete::Shell) -> Result<Outcome, Failure> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "workergen", &mut out);
    write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Success)
}

fn man() -> Result<Outcome, Failure> {
    write_stdout(&man_page()?)?;
    Ok(Outcome::Success)
}

/// The man page: clap's sections, then the commands (one page: there are no
/// `workergen-<command>(1)` pages to point at), exit status and environment.
fn man_page() -> anyhow::Result<String> {
    let command = <Cli as clap::CommandFactory>::command();
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut text = String::from_utf8(out)?;
    text.push_str(".SH COMMANDS\n");
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        text.push_str(&format!(".TP\n\\fBworkergen {}\\fR\n", roff_escape(sub.get_name())));
        if let Some(about) = sub.get_about() {
            text.push_str(&format!("{}\n", roff_escape(&about.to_string())));
        }
    }
    text.push_str(".PP\nRun \\fBworkergen help\\fR \\fICOMMAND\\fR for a command's options.\n");
    text.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in [
        ("0", "success (`diff` without `--exit-code` exits 0 whatever it finds)"),
        ("1", "changes found (`diff --exit-code`, `check`)"),
        ("2", "invalid input or usage"),
        ("3", "I/O, Git or internal failure"),
    ] {
        text.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_escape(meaning)));
    }
    text.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in [
        ("NO_COLOR", "when set and not empty, `--color auto` colours nothing"),
        ("WORKERGEN_GIT_TOKEN", "a token for `propose --push` to https remotes"),
        (
            "WORKERGEN_GIT_USERNAME",
            "the user name to pair with the token (default `x-access-token`)",
        ),
    ] {
        text.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_escape(name),
            roff_escape(meaning)
        ));
    }
    let mut out = Vec::new();
    man.render_version_section(&mut out)?;
    text.push_str(&String::from_utf8(out)?);
    Ok(text)
}

/// Text for a roff line: backslashes and hyphens escaped, no control character first.
fn roff_escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
