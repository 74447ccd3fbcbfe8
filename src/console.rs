//! The terminal side of a run: what it reads from its environment ([`Context`]), and
//! how diagnostics, summaries, progress and failures are printed. Data goes to stdout
//! ([`write_stdout`]), everything else to stderr.

use std::io::{IsTerminal, Write};

use anyhow::Context as _;

use crate::cli::{ColorChoice, GlobalArgs};
use crate::diagnostic::{Report, Severity};
use crate::failure::Failure;
use crate::hint::Hint;
use crate::model::Fleet;
use crate::propose::{ProposeError, PushAuth};
use crate::render::output;
use crate::render::templates::TemplateError;
use crate::render::Drift;

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
        let no_color = crate::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
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
            progress: std::io::stderr().is_terminal() && crate::env::var_os("CI").is_none(),
            push_auth: PushAuth {
                token: crate::env::non_empty("WORKERGEN_GIT_TOKEN"),
                username: crate::env::non_empty("WORKERGEN_GIT_USERNAME"),
            },
        }
    }
}

/// Prints why a command stopped: the one place a failure reaches the terminal.
pub fn print_failure(failure: &Failure, context: &Context) {
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

pub fn print_report(report: &Report, fleet: &Fleet, context: &Context) {
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
pub fn print_invalid(label: &str, fleet: &Fleet, report: &Report, context: &Context) {
    print_report(report, fleet, context);
    eprintln!("the declarations of {label} are invalid: {}", summary(fleet, report));
}

fn print_template_error(error: &TemplateError, context: &Context) {
    let (sources, report) = error.to_report();
    let _ = std::io::stderr().write_all(report.render(&sources, context.color).as_bytes());
}

pub fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// `2 environments, 4 clusters, 9 workers: ok` (or how many errors and warnings).
pub fn summary(fleet: &Fleet, report: &Report) -> String {
    summary_of(fleet, report, &crate::render::Scope::default())
}

/// [`summary`] counting only the environments, clusters and workers `scope` selects
/// (`validate --cluster eu-west-1` counted the whole fleet).
pub fn summary_of(fleet: &Fleet, report: &Report, scope: &crate::render::Scope) -> String {
    let in_scope = |cluster: usize| {
        let cluster = &fleet.clusters[cluster];
        scope.matches(&fleet.environments[cluster.environment].name, &cluster.name)
    };
    let workers: Vec<_> = fleet.workers.iter().filter(|worker| in_scope(worker.cluster)).collect();
    let installed = workers.iter().filter(|worker| worker.installed).count();
    let uninstalled = workers.len() - installed;
    let disabled = workers
        .iter()
        .filter(|worker| worker.installed && worker.disabled)
        .count();
    let clusters = (0..fleet.clusters.len()).filter(|index| in_scope(*index)).count();
    let environments = if scope.environment.is_none() && scope.cluster.is_none() {
        fleet.environments.len()
    } else {
        let mut names: Vec<usize> = (0..fleet.clusters.len())
            .filter(|index| in_scope(*index))
            .map(|index| fleet.clusters[index].environment)
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    let mut text = format!(
        "{}, {}, {}",
        plural(environments, "environment"),
        plural(clusters, "cluster"),
        plural(installed, "worker")
    );
    let notes: Vec<String> = [(disabled, "disabled in Octopus"), (uninstalled, "uninstalled")]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
    if !notes.is_empty() {
        text.push_str(&format!(" ({})", notes.join(", ")));
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

/// Runs `work` with a progress bar for long renders, on a terminal only (never piped,
/// never in CI); `work` calls its argument once per cluster rendered.
pub fn with_progress<T>(context: &Context, clusters: usize, work: impl FnOnce(&(dyn Fn() + Sync)) -> T) -> T {
    let wanted = context.progress && !context.quiet && clusters >= 50;
    let bar = wanted.then(|| {
        let bar = indicatif::ProgressBar::new(clusters as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("rendering {bar:40} {pos}/{len} clusters {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let tick = || {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let result = work(&tick);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    result
}

/// `rendered 9 workers into `rendered`: 12 files written, 3 unchanged, 0 deleted`.
pub fn render_summary(workers: usize, output_name: &str, written: &output::WriteSummary) -> String {
    format!(
        "rendered {} into `{output_name}`: {} written, {} unchanged, {} deleted",
        plural(workers, "worker"),
        plural(written.written.len(), "file"),
        written.unchanged,
        written.deleted.len()
    )
}

/// Writes data to stdout; a closed pipe (`| head`) is not a failure.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    write_stdout_parts([text])
}

/// Writes `parts` to stdout one after the other through one buffer; a closed pipe
/// (`| head`) is not a failure.
pub fn write_stdout_parts<'a>(parts: impl IntoIterator<Item = &'a str>) -> anyhow::Result<()> {
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = parts
        .into_iter()
        .try_for_each(|part| stdout.write_all(part.as_bytes()))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(error).context("cannot write to stdout"),
    }
}

/// With `-v`, the files a render wrote and deleted; always, the ones `--force` replaced.
pub fn print_written(summary: &output::WriteSummary, root: &std::path::Path, context: &Context) {
    if context.verbose {
        // A whole fleet's paths would drown the terminal: the first few, then a count.
        const SHOWN: usize = 20;
        for (verb, paths) in [("wrote", &summary.written), ("deleted", &summary.deleted)] {
            for path in paths.iter().take(SHOWN) {
                eprintln!("{verb} {}", root.join(path).display());
            }
            if paths.len() > SHOWN {
                eprintln!("{verb} {} more files", paths.len() - SHOWN);
            }
        }
    }
    for path in &summary.forced {
        eprintln!(
            "warning: replaced `{}`, which workergen did not write (`--force`)",
            root.join(path).display()
        );
    }
}

/// `stale: rendered/...` lines, one per drifted file, for stdout.
pub fn drift_listing(drift: &Drift, output_name: &str) -> String {
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
    listing
}

/// What `status` hears while it works: a progress bar on a terminal (large fleets only:
/// a handful of servers answer before a bar would show), and each write printed.
pub struct StatusEvents {
    bar: Option<indicatif::ProgressBar>,
}

impl StatusEvents {
    pub fn new(context: &Context, workers: usize) -> Self {
        let bar = (context.progress && !context.quiet && workers >= 500).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("asking Octopus {bar:40} {pos}/{len} servers {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self { bar }
    }

    /// Clears the progress bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl crate::status::Events for StatusEvents {
    fn reading(&self, servers: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(servers as u64);
        }
    }

    fn server_read(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn deleting(&self, write: &crate::status::Write) {
        self.println(&format!("deleting: {}", write.change));
    }

    fn wrote(&self, write: &crate::status::Write) {
        self.println(&format!(
            "{} {} {}: {} [{}]",
            write.method,
            write.environment,
            crate::status::shown(&write.path),
            write.change,
            crate::status::text::outcome(write.outcome)
        ));
    }

    fn waiting(&self, message: &str) {
        self.println(&format!("waiting: {}", crate::status::shown(message)));
    }

    fn warning(&self, message: &str) {
        self.println(&format!("warning: {message}"));
    }
}

impl StatusEvents {
    /// A line on stderr, above the progress bar when one shows.
    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

/// After a `status` failure part-way: how many writes were done, and each one not done.
pub fn print_writes_not_done(report: &crate::status::StatusReport) {
    use crate::status::WriteOutcome;
    let done = report.writes.iter().filter(|w| w.outcome == WriteOutcome::Done).count();
    let planned = report.writes.iter().filter(|w| w.outcome != WriteOutcome::Kept).count();
    eprintln!("{done} of {planned} writes done before the failure; not done:");
    for write in report
        .writes
        .iter()
        .filter(|w| matches!(w.outcome, WriteOutcome::NotDone | WriteOutcome::Failed))
    {
        eprintln!(
            "  {} {} {}: {}",
            write.method, write.environment, write.path, write.change
        );
    }
}

/// A `status` failure: one at a place in a declaration (the API key variable) is shown
/// there, like any input error.
pub fn status_failure(error: crate::status::StatusError, fleet: &Fleet, context: &Context) -> Failure {
    match error.diagnostic().filter(|_| error.is_input()) {
        Some(diagnostic) => {
            let mut report = Report::new();
            report.push(diagnostic);
            print_report(&report, fleet, context);
            Failure::Reported
        }
        None => Failure::Status(error),
    }
}
