//! Writing what `import` planned: each changed file through a temporary file and a
//! rename, or with `--dry-run` to stdout.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;

use crate::console::Context;
use crate::failure::Failure;

use super::plan::Existing;
use super::run::{cluster_path, Options};

/// Writes the files whose text changed (each through a temporary file and a rename),
/// or with `--dry-run` prints them.
pub(super) fn write(
    dir: &Path,
    files: &BTreeMap<String, String>,
    existing: &Existing,
    options: &Options,
    context: &Context,
) -> Result<(), Failure> {
    for (path, text) in files {
        let unchanged = *path == cluster_path(options) && existing.cluster_text.as_deref() == Some(text.as_str());
        if unchanged {
            if !context.quiet {
                eprintln!("unchanged {path}");
            }
            continue;
        }
        if options.dry_run {
            crate::console::write_stdout(&format!("# {path}\n{text}"))?;
            continue;
        }
        let full = dir.join(path);
        write_atomically(&full, text).with_context(|| format!("cannot write `{}`", full.display()))?;
        if !context.quiet {
            eprintln!("wrote {path}");
        }
    }
    if options.dry_run && !context.quiet {
        eprintln!("dry run: nothing written");
    }
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let name = path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let temporary = folder.join(format!(".{name}.workergen-import.tmp"));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}
