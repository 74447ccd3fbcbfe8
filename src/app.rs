//! `run`: each command as the pipeline of its stages, and what the user sees of it.

use anyhow::Context as _;

use crate::about;
use crate::cli::{
    Cli, Command, DiffArgs, DiffFormat, ExplainArgs, ExplainFormat, InitArgs, ProposeArgs, ProposeOutput, RenderArgs,
    ScopeArgs,
};
pub use crate::console::Context;
use crate::console::{
    drift_listing, plural, print_failure, print_invalid, print_report, print_writes_not_done, print_written,
    render_summary, summary, with_progress, write_stdout, write_stdout_parts, StatusEvents,
};
use crate::diagnostic::Report;
use crate::diff::committed::{Committed, CommittedFiles};
use crate::failure::Failure;
pub use crate::failure::Outcome;
use crate::git::{ConfigRepo, Revision};
use crate::model::Fleet;
use crate::propose::{self as proposal, Proposal, ProposeOptions};
use crate::render::output::{self, WriteOptions};
use crate::render::templates::Templates;
use crate::render::{self, Scope};
use crate::tree::fs::FsTree;
use crate::tree::FileTree;
use crate::Timings;

/// Runs the command and prints what it has to say.
pub fn run(cli: &Cli, context: &Context) -> Outcome {
    let result = crate::failure::directory_is_a_folder(&cli.global.directory).and_then(|()| match &cli.command {
        Command::Validate(scope) => validate(cli, &scope_of(scope), context),
        Command::Render(args) => render(cli, args, context),
        Command::Diff(args) => diff(cli, args, context),
        Command::Check(scope) => check(cli, &scope_of(scope), context),
        Command::Propose(args) => propose(cli, args, context),
        Command::Explain(args) => explain(cli, args, context),
        Command::Init(args) => init(cli, args, context),
        Command::Schema(args) => about::schema(args),
        Command::Completions(args) => about::completions(args.shell),
        Command::Man => about::man(),
        Command::Status(args) => status(cli, args, context),
        Command::Report(args) => load_timed(cli, context, &scope_of(&args.into()), &mut Timings::default())
            .and_then(|(fleet, _)| crate::report::run(&fleet, &cli.global.directory, args, context)),
        Command::Import(args) => crate::import::run(&cli.global.directory, &crate::import::Options::new(args), context),
        Command::Chart(crate::cli::ChartCommand::Pull(args)) => {
            load_timed(cli, context, &Scope::default(), &mut Timings::default())
                .and_then(|(fleet, _)| crate::vendor::run(&cli.global.directory, &fleet, args, context))
        }
    });
    result.unwrap_or_else(|failure| {
        print_failure(&failure, context);
        failure.exit_code()
    })
}

fn scope_of(args: &ScopeArgs) -> Scope {
    Scope::new(args.env.as_deref(), args.cluster.as_deref())
}

/// Loads and validates, printing the diagnostics; [`Failure::Reported`] when there were
/// errors. With a scope, problems in files outside it are left out ([`scoped`]).
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

/// The report less the problems outside the scope (unless they point into it), with a
/// note counting the errors left out.
fn scoped(report: Report, fleet: &Fleet, scope: &Scope, context: &Context) -> Report {
    let (report, errors_left_out) = crate::scope::only_in_scope(report, fleet, scope);
    if errors_left_out > 0 && !context.quiet {
        eprintln!(
            "note: {} in files outside the selected environments and clusters left out; run without `--env`/`--cluster` to see them",
            plural(errors_left_out, "error")
        );
    }
    report
}

fn validate(cli: &Cli, scope: &Scope, context: &Context) -> Result<Outcome, Failure> {
    let mut timings = Timings::default();
    let loaded = load_timed(cli, context, scope, &mut timings);
    if context.verbose {
        eprintln!("{}", timings.summary());
    }
    let (fleet, report) = loaded?;
    crate::scope::check(&fleet, scope)?;
    crate::vendor::verify(&cli.global.directory, &fleet)?;
    let templates = Templates::load(&FsTree::new(&cli.global.directory))?;
    render::check_templates(&fleet, &templates)?;
    if !context.quiet {
        eprintln!("{}", crate::console::summary_of(&fleet, &report, scope));
    }
    // As in `render`: the process ends next, freeing the fleet would only cost time.
    std::mem::forget(fleet);
    Ok(Outcome::Success)
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
    crate::scope::check(&fleet, &scope)?;
    let tree = FsTree::new(&cli.global.directory);
    let rendered = timings.time("render", || {
        with_progress(context, fleet.clusters.len(), |tick| {
            Templates::load(&tree)
                .and_then(|templates| render::render_with_progress(&fleet, &templates, &scope, args.stdout, tick))
        })
    })?;
    if args.stdout {
        write_stdout_parts(render::stream(&rendered))?;
        return Ok(Outcome::Success);
    }
    let output_name = &fleet.settings.output.value;
    let root = cli.global.directory.join(output_name);
    let refusal = render::retire::refusal(&root, output_name, &rendered, args.force);
    if let Some((message, hint)) = refusal.with_context(|| format!("cannot read `{output_name}`"))? {
        return Err(Failure::usage_with_hint(message, hint));
    }
    // `write_tree` creates the folder: one that did not exist needs no sweep.
    let options = WriteOptions { force: args.force };
    let written = timings
        .time("write", || {
            output::write_tree(&root, &rendered.files, &rendered.scope, &options)
        })
        .map_err(|error| Failure::Output {
            output: output_name.clone(),
            error,
        })?;
    print_written(&written, &root, context);
    let summary_line = render_summary(rendered.workers, output_name, &written);
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
    let (head_label, head_tree) = head_tree(&repo, head.as_ref(), cli)?;
    let base_tree = base_tree
        .as_ref()
        .map(|tree| (tree as &dyn FileTree, base.label.as_str()));
    let (base_side, head_side) = load_sides(base_tree, (head_tree.as_ref(), &head_label), &scope, context)?;
    crate::scope::check(&head_side.0, &scope)?;
    // The head's committed rendered/ files, to report drift against its declarations.
    let output_name = head_side.0.settings.output.value.clone();
    let at = Committed::new(&repo, head.as_ref(), cli.global.directory.join(&output_name));
    let committed = CommittedFiles::new(at, &output_name, &scope);
    let (base, head) = (side(&base.label, &base_side), side(&head_label, &head_side));
    let diff = compare(&base, &head, &committed, context)?;
    committed
        .finish()
        .with_context(|| format!("cannot compare with the committed `{output_name}/`"))?;
    write_stdout(&diff_text(&diff, args.format, context))?;
    Ok(Outcome::changes_if(args.exit_code && !diff.is_empty()))
}

/// The head side's declarations: at `--head`, else in the working tree.
fn head_tree(
    repo: &ConfigRepo,
    head: Option<&Revision<'_>>,
    cli: &Cli,
) -> Result<(String, Box<dyn FileTree>), Failure> {
    Ok(match head {
        Some(head) => (head.label.clone(), Box::new(repo.required_declarations(head)?)),
        None => ("working tree".to_string(), Box::new(FsTree::new(&cli.global.directory))),
    })
}

/// Renders both sides and compares them, with the time it took for `-v`.
fn compare(
    base: &crate::diff::Side<'_>,
    head: &crate::diff::Side<'_>,
    committed: &CommittedFiles<'_>,
    context: &Context,
) -> Result<crate::diff::Diff, Failure> {
    let start = std::time::Instant::now();
    let computed = crate::diff::compute_with_committed(base, head, Some(&|clusters| committed.read(clusters)));
    if context.verbose {
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        eprintln!("timings: diff (render both sides and compare) {elapsed:.1} ms");
    }
    Ok(computed?)
}

fn diff_text(diff: &crate::diff::Diff, format: DiffFormat, context: &Context) -> String {
    match format {
        DiffFormat::Text => crate::diff::text::render(diff, context.color_stdout),
        DiffFormat::Markdown => crate::diff::markdown::render(diff),
        DiffFormat::Json => crate::diff::json::render(diff),
    }
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

fn check(cli: &Cli, scope: &Scope, context: &Context) -> Result<Outcome, Failure> {
    let (fleet, _) = load_timed(cli, context, scope, &mut Timings::default())?;
    crate::scope::check(&fleet, scope)?;
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
    write_stdout(&drift_listing(&drift, output_name))?;
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
    let (fleet, _) = load_timed(cli, context, &Scope::default(), &mut Timings::default())?;
    let worker = find_worker(&fleet, &args.worker)?;
    let templates = Templates::load(&FsTree::new(&cli.global.directory))?;
    let explanation = crate::explain::explain(&fleet, &templates, worker, args.key.as_deref())?;
    if let Some(key) = &args.key {
        if explanation.installed && explanation.is_empty() {
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
    let ids = || {
        fleet
            .workers
            .iter()
            .map(|worker| fleet.worker_id(worker))
            .collect::<Vec<_>>()
    };
    let found = fleet.workers.iter().find(|worker| fleet.worker_id(worker) == id);
    found.ok_or_else(|| Failure::no_worker(id, &ids()))
}

fn init(cli: &Cli, args: &InitArgs, context: &Context) -> Result<Outcome, Failure> {
    let dir = &cli.global.directory;
    let written = crate::init::init(dir, args.engine, args.accept_eula)?;
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
fn status_output(report: &crate::status::StatusReport, format: crate::cli::StatusFormat) -> anyhow::Result<()> {
    let text = match format {
        crate::cli::StatusFormat::Text => crate::status::text::render(report),
        crate::cli::StatusFormat::Markdown => crate::status::markdown::render(report),
        crate::cli::StatusFormat::Json => crate::status::json::render(report),
    };
    write_stdout(&text)
}

/// `status`: declared workers against what Octopus has registered; with `--apply` and
/// `--prune`, the fixes Helm cannot make.
fn status(cli: &Cli, args: &crate::cli::StatusArgs, context: &Context) -> Result<Outcome, Failure> {
    use crate::status::{client::ClientOptions, StatusError, StatusOptions};
    let (fleet, _) = load_timed(cli, context, &Scope::default(), &mut Timings::default())?;
    let client = ClientOptions::from_env(crate::env::var_os).map_err(Failure::usage)?;
    let options = StatusOptions {
        environment: args.env.clone(),
        cluster: args.cluster.clone(),
        apply: args.apply,
        prune: args.prune,
        force: args.force,
        dry_run: args.dry_run,
        client,
    };
    let events = StatusEvents::new(context, fleet.workers.len());
    let result = crate::status::status(&fleet, &options, &crate::env::var, &events);
    events.finish();
    let report = match result {
        Ok(report) => report,
        Err(StatusError::Incomplete { report, cause }) => {
            // What was done is data too; the failure, then what was not done, follow.
            status_output(&report, args.format)?;
            let failure = crate::console::status_failure(*cause, &fleet, context);
            print_failure(&failure, context);
            print_writes_not_done(&report);
            return Ok(failure.exit_code());
        }
        Err(error) => return Err(crate::console::status_failure(error, &fleet, context)),
    };
    status_output(&report, args.format)?;
    if context.verbose {
        eprintln!("{} HTTP requests", report.requests);
    }
    if !context.quiet && args.format != crate::cli::StatusFormat::Text {
        eprintln!("{}", crate::status::text::summary(&report));
    }
    Ok(Outcome::changes_if(args.exit_code && report.open_findings() > 0))
}
