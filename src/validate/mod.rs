//! Every rule the declarations must follow, one file per family, all problems collected.
//!
//! [`validate`] runs after [`crate::model::resolve`]; the plaintext credential walk
//! ([`credentials::check_files`]) runs on the parsed files before that, since a
//! credential may stand anywhere.

pub mod credentials;
mod environments;
mod names;
mod settings;
mod workers;

use rayon::prelude::*;

pub use settings::check_output_link;

use crate::diagnostic::Report;
use crate::model::Fleet;

/// Checks the resolved fleet; problems go to `report`.
pub fn validate(fleet: &Fleet, report: &mut Report) {
    settings::check(fleet, report);
    environments::check(fleet, report);
    names::check(fleet, report);
    let per_worker: Vec<_> = fleet
        .workers
        .par_iter()
        .filter(|worker| worker.enabled)
        .map(|worker| workers::check(fleet, worker))
        .collect();
    per_worker
        .into_iter()
        .for_each(|diagnostics| report.extend(diagnostics));
}

/// Warns about files in `templates/` that override no built-in template: a misspelt
/// override is otherwise silently ignored. Their text joins `fleet.sources` so the
/// warning can point at them.
pub fn check_templates_folder(
    tree: &dyn crate::tree::FileTree,
    fleet: &mut Fleet,
    report: &mut Report,
) -> std::io::Result<()> {
    use crate::render::templates::{BUILTIN, OVERRIDES};
    let Some(entries) = tree.list(OVERRIDES)? else {
        return Ok(());
    };
    let builtin = || BUILTIN.iter().map(|(name, _)| *name);
    for entry in entries {
        // Hidden files (`.gitkeep`) are no attempt at an override.
        if entry.name.starts_with('.') || builtin().any(|name| name == entry.name) {
            continue;
        }
        let path = crate::tree::join(OVERRIDES, &entry.name);
        let text = if entry.is_dir {
            String::new()
        } else {
            match tree.read(&path, crate::load::MAX_FILE_BYTES) {
                Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => String::new(),
            }
        };
        let file = fleet.sources.add(path.clone(), text);
        let hint = match crate::diagnostic::did_you_mean(&entry.name, builtin()) {
            Some(close) => format!("did you mean `{OVERRIDES}/{close}`?"),
            None => format!(
                "the templates that can be overridden are {}",
                builtin().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        report.push(
            crate::diagnostic::Diagnostic::warning(
                crate::source::Loc::new(file, 1, 1),
                format!("`{path}` overrides no built-in template and is not used"),
            )
            .with_hint(hint),
        );
    }
    Ok(())
}
