//! `run`: each command as the pipeline of its stages, and what the user sees of it.

use std::io::{IsTerminal, Write};

use anyhow::Context as _;

use crate::cli::{Cli, ColorChoice, Command, GlobalArgs};
use crate::diagnostic::{Report, Severity};
use crate::model::Fleet;
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
        Command::Render(_) => Err(anyhow::anyhow!("render is not built yet")),
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
    if !context.quiet {
        eprintln!("{}", summary(&fleet, &report));
    }
    Ok(Outcome::Success)
}
