//! The I/O floors of `workergen render`: the least a program can do to put the same
//! files with the same bytes on disk, or to read them back.
//!
//! ```text
//! io_floor REFERENCE OUTPUT
//! io_floor --read TREE
//! ```
//!
//! Reads every file under `REFERENCE` (a rendered tree) into memory, untimed. Then,
//! timed: creates each folder and writes each file with `std::fs::write` under
//! `OUTPUT`, which must be missing or empty. `render` into an empty folder is compared
//! against this figure. With `--read`, timed: lists `TREE` and reads every file, one
//! thread, as a re-render with nothing changed must at least do (issue 14). Prints the
//! elapsed seconds on stdout and a summary on stderr.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Every file under `root`, as (path relative to `root`, bytes), sorted by path.
fn read_tree(root: &Path) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        for entry in std::fs::read_dir(root.join(&rel))? {
            let entry = entry?;
            let child = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                pending.push(child);
            } else {
                let bytes = std::fs::read(entry.path())?;
                files.push((child, bytes));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Creates the folders and writes the files; the part that is timed.
fn write_tree(output: &Path, files: &[(PathBuf, Vec<u8>)]) -> std::io::Result<()> {
    let mut made: BTreeSet<&Path> = BTreeSet::new();
    for (rel, bytes) in files {
        let parent = rel.parent().unwrap_or(Path::new(""));
        if !made.contains(parent) {
            std::fs::create_dir_all(output.join(parent))?;
            made.insert(parent);
        }
        std::fs::write(output.join(rel), bytes)?;
    }
    Ok(())
}

fn run(reference: &Path, output: &Path) -> Result<(), String> {
    let files = read_tree(reference).map_err(|e| format!("cannot read `{}`: {e}", reference.display()))?;
    if files.is_empty() {
        return Err(format!("`{}` holds no files", reference.display()));
    }
    if let Ok(mut entries) = std::fs::read_dir(output) {
        if entries.next().is_some() {
            return Err(format!("`{}` is not empty", output.display()));
        }
    }
    let bytes: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
    let start = Instant::now();
    write_tree(output, &files).map_err(|e| format!("cannot write under `{}`: {e}", output.display()))?;
    let elapsed = start.elapsed();
    println!("{:.4}", elapsed.as_secs_f64());
    eprintln!(
        "io_floor: wrote {} files, {} bytes in {:.4} s",
        files.len(),
        bytes,
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// Reads every file under `tree`, timed.
fn read(tree: &Path) -> Result<(), String> {
    let start = Instant::now();
    let files = read_tree(tree).map_err(|e| format!("cannot read `{}`: {e}", tree.display()))?;
    let elapsed = start.elapsed();
    let bytes: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
    println!("{:.4}", elapsed.as_secs_f64());
    eprintln!(
        "io_floor: read {} files, {} bytes in {:.4} s",
        files.len(),
        bytes,
        elapsed.as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, tree] if flag == "--read" => read(Path::new(tree)),
        [reference, output] => run(Path::new(reference), Path::new(output)),
        _ => {
            eprintln!("usage: io_floor REFERENCE OUTPUT | io_floor --read TREE");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("io_floor: {message}");
            ExitCode::FAILURE
        }
    }
}
