//! Where `workergen render` spends its wall time, stage by stage.
//!
//! ```text
//! stages CONFIG_REPO [OUTPUT]
//! ```
//!
//! Runs the pipeline of `workergen render` through the library, timing each stage:
//! load, credential walk, resolve, validate, report sort, templates, render for disk
//! and for `--stdout`, the stream, and, when `OUTPUT` is given, `write_tree` into it
//! twice (the second time nothing changes). Prints one line per stage on stdout.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use workergen::diagnostic::Report;
use workergen::render::output::{self, WriteOptions};
use workergen::render::templates::Templates;
use workergen::render::{self, Scope};
use workergen::tree::fs::FsTree;

struct Timer {
    start: Instant,
    total: Duration,
}

impl Timer {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            total: Duration::ZERO,
        }
    }

    /// Prints the time since the last lap under `name`.
    fn lap(&mut self, name: &str) {
        let elapsed = self.start.elapsed();
        self.total += elapsed;
        println!("{:>9.3} s  {name}", elapsed.as_secs_f64());
        self.start = Instant::now();
    }
}

fn run(repo: &Path, output_root: Option<&Path>) -> Result<(), String> {
    let tree = FsTree::new(repo);
    let mut timer = Timer::new();
    let mut report = Report::new();
    let loaded = workergen::load::load(&tree, &mut report).map_err(|e| e.to_string())?;
    timer.lap("load: list, read and parse the declarations");
    workergen::validate::credentials::check_files(&loaded, &mut report);
    timer.lap("validate::credentials::check_files");
    let fleet = workergen::model::resolve(loaded, &mut report);
    timer.lap("model::resolve (merge the layers, type every worker)");
    workergen::validate::validate(&fleet, &mut report);
    timer.lap("validate::validate");
    report.sort(&fleet.sources);
    timer.lap("Report::sort");
    if report.has_errors() {
        return Err(report.render(&fleet.sources, false));
    }
    let templates = Templates::load(&tree).map_err(|e| e.to_string())?;
    timer.lap("Templates::load");
    let scope = Scope::default();
    let rendered = render::render(&fleet, &templates, &scope, false).map_err(|e| e.to_string())?;
    timer.lap("render::render (files for disk)");
    let inline = render::render(&fleet, &templates, &scope, true).map_err(|e| e.to_string())?;
    timer.lap("render::render (inline, for --stdout)");
    let bytes: usize = render::stream(&inline).map(str::len).sum();
    timer.lap("render::stream");
    drop(inline);
    timer.lap("drop the --stdout render");
    if let Some(root) = output_root {
        let options = WriteOptions::default();
        let first = output::write_tree(root, &rendered.files, &rendered.scope, &options).map_err(|e| e.to_string())?;
        timer.lap(&format!("output::write_tree ({} files written)", first.written.len()));
        let second = output::write_tree(root, &rendered.files, &rendered.scope, &options).map_err(|e| e.to_string())?;
        timer.lap(&format!(
            "output::write_tree again ({} written, {} unchanged)",
            second.written.len(),
            second.unchanged
        ));
    }
    let files = rendered.files.len();
    drop(rendered);
    drop(fleet);
    timer.lap("drop the fleet and the render");
    println!(
        "{:>9.3} s  total ({files} files, --stdout stream {bytes} bytes)",
        timer.total.as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (repo, output_root) = match args.as_slice() {
        [repo] => (repo, None),
        [repo, output_root] => (repo, Some(Path::new(output_root))),
        _ => {
            eprintln!("usage: stages CONFIG_REPO [OUTPUT]");
            return ExitCode::from(2);
        }
    };
    match run(Path::new(repo), output_root) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("stages: {message}");
            ExitCode::FAILURE
        }
    }
}
