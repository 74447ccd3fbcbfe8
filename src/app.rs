//! `run`: each command as the pipeline of its stages, and what the user sees of it.

use std::io::{IsTerminal, Write};

use anyhow::Context as _;

use crate::cli::{Cli, ColorChoice, Command, GlobalArgs, RenderArgs};
use crate::diagnostic::{Report, Severity};
use crate::model::Fleet;
use crate::render::output::{self, OutputError, WriteOptions};
use crate::render::templates::Templates;
use crate::render::{self, Scope};
use crate::tree::fs::FsTree;

/// How a run ended; the process exit code (DESIGN section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: success.
    Success,
    /// 1: changes found (`diff --exit-code`, `check`).
    Changes,
    /// 2: invalid input or usage.
    Invalid,
    /// 3: I/O, Git or internal failure.
    Failure,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(outcome: Outcome) -> Self {
        std::process::ExitCode::from(match outcome {
            Outcome::Success => 0,
            Outcome::Changes => 1,
            Outcome::Invalid => 2,
            Outcome::Failure => 3,
        })
    }
}

/// What a run takes from its environment, read in one place so tests can set it.
#[derive(Debug, Clone)]
pub struct Context {
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
}

impl Context {
    /// Reads `NO_COLOR` and whether stderr is a terminal.
    pub fn from_process(global: &GlobalArgs) -> Self {
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()) && std::io::stderr().is_terminal()
            }
        };
        Self {
            color,
            quiet: global.quiet,
            verbose: global.verbose,
        }
    }
}

/// Runs the command and prints what it has to say.
pub fn run(cli: &Cli, context: &Context) -> Outcome {
    let result = match &cli.command {
        Command::Validate => validate(cli, context),
        Command::Render(args) => render(cli, args, context),
    };
    match result {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("error: {error:#}");
            Outcome::Failure
        }
    }
}

/// Loads and validates, printing the diagnostics; `Err(Outcome::Invalid)` when there
/// were errors.
fn load(cli: &Cli, context: &Context) -> anyhow::Result<Result<(Fleet, Report), Outcome>> {
    let tree = FsTree::new(&cli.global.directory);
    let (fleet, report) = crate::load_fleet(&tree)
        .with_context(|| format!("cannot read the config repository `{}`", cli.global.directory.display()))?;
    print_report(&report, &fleet, context);
    if report.has_errors() {
        eprintln!("{}", summary(&fleet, &report));
        return Ok(Err(Outcome::Invalid));
    }
    Ok(Ok((fleet, report)))
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

fn validate(cli: &Cli, context: &Context) -> anyhow::Result<Outcome> {
    let (fleet, report) = match load(cli, context)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(outcome),
    };
    let tree = FsTree::new(&cli.global.directory);
    if let Err(error) = Templates::load(&tree).and_then(|templates| render::check_templates(&fleet, &templates)) {
        print_template_error(&error, context);
        return Ok(Outcome::Invalid);
    }
    if !context.quiet {
        eprintln!("{}", summary(&fleet, &report));
    }
    Ok(Outcome::Success)
}

/// Checks that `--env` / `--cluster` name something that exists.
fn check_scope(fleet: &Fleet, scope: &Scope) -> Result<(), String> {
    if let Some(environment) = &scope.environment {
        if !fleet.environments.iter().any(|e| &e.name == environment) {
            let known: Vec<_> = fleet.environments.iter().map(|e| e.name.as_str()).collect();
            return Err(format!(
                "no environment `{environment}`; there are: {}",
                known.join(", ")
            ));
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
            return Err(format!("no cluster `{cluster}` in the selected environments"));
        }
    }
    Ok(())
}

fn render(cli: &Cli, args: &RenderArgs, context: &Context) -> anyhow::Result<Outcome> {
    let (fleet, _) = match load(cli, context)? {
        Ok(loaded) => loaded,
        Err(outcome) => return Ok(outcome),
    };
    let scope = Scope {
        environment: args.env.clone(),
        cluster: args.cluster.clone(),
    };
    if let Err(message) = check_scope(&fleet, &scope) {
        eprintln!("error: {message}");
        return Ok(Outcome::Invalid);
    }
    let tree = FsTree::new(&cli.global.directory);
    let rendered =
        match Templates::load(&tree).and_then(|templates| render::render(&fleet, &templates, &scope, args.stdout)) {
            Ok(rendered) => rendered,
            Err(error) => {
                print_template_error(&error, context);
                return Ok(Outcome::Invalid);
            }
        };
    if args.stdout {
        let mut stdout = std::io::stdout().lock();
        return match stdout
            .write_all(render::stream(&rendered).as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => Ok(Outcome::Success),
            // A closed pipe (`| head`) is not a failure.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(Outcome::Success),
            Err(error) => Err(error).context("cannot write to stdout"),
        };
    }
    let root = cli.global.directory.join(&fleet.settings.output.value);
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create `{}`", root.display()))?;
    let options = WriteOptions { force: args.force };
    let report = match output::write_tree(&root, &rendered.files, &rendered.scope, &options) {
        Ok(report) => report,
        Err(error @ OutputError::Foreign { .. }) => {
            eprintln!("error: {error}");
            eprintln!(
                "  hint: workergen owns `{}/`; move those files away, or pass `--force` to replace them",
                fleet.settings.output.value
            );
            return Ok(Outcome::Invalid);
        }
        Err(error) => return Err(error).context("cannot write the rendered tree"),
    };
    if context.verbose {
        for path in &report.written {
            eprintln!("wrote {}", root.join(path).display());
        }
        for path in &report.deleted {
            eprintln!("deleted {}", root.join(path).display());
        }
    }
    for path in &report.forced {
        eprintln!(
            "warning: replaced `{}`, which workergen did not write (`--force`)",
            root.join(path).display()
        );
    }
    if !context.quiet {
        eprintln!(
            "rendered {} into `{}`: {} written, {} unchanged, {} deleted",
            plural(rendered.workers, "worker"),
            fleet.settings.output.value,
            plural(report.written.len(), "file"),
            report.unchanged,
            report.deleted.len()
        );
    }
    Ok(Outcome::Success)
}
