//! Problems of the planned declarations, pointed at the input they came from: the user
//! has the `helm get values` file or command line, not the cluster file import would
//! write.

use crate::diagnostic::{Diagnostic, Report};
use crate::source::{FileId, Loc, Sources};
use crate::yaml::{self, Node};

use super::run::Import;

/// The inputs of an import, to point a problem of the planned declarations at the input
/// it came from.
pub(super) struct Inputs<'a> {
    pub(super) imports: &'a [Import],
    /// The inputs' texts (credentials masked), by the file ids of the imports' places.
    pub(super) sources: &'a Sources,
    /// The planned cluster file's path.
    pub(super) planned: &'a str,
}

/// `report` with each problem of a planned worker moved to the input line its value came
/// from (the planned, unwritten file is named beside it): the input is what the user has.
pub(super) fn at_inputs(report: &Report, fleet: &mut crate::model::Fleet, inputs: &Inputs<'_>) -> Report {
    let mut ids = std::collections::HashMap::new();
    for import in inputs.imports {
        let old = import.loc.file;
        ids.entry(old).or_insert_with(|| {
            fleet
                .sources
                .add(inputs.sources.path(old), inputs.sources.text(old).to_owned())
        });
    }
    let mut moved = Report::new();
    for diagnostic in report.diagnostics() {
        moved.push(at_input(diagnostic.clone(), fleet, inputs, &ids));
    }
    moved
}

fn at_input(
    mut diagnostic: Diagnostic,
    fleet: &crate::model::Fleet,
    inputs: &Inputs<'_>,
    ids: &std::collections::HashMap<FileId, FileId>,
) -> Diagnostic {
    let Some(loc) = diagnostic.loc else {
        return diagnostic;
    };
    if fleet.sources.path(loc.file) != inputs.planned {
        return diagnostic;
    }
    for worker in &fleet.workers {
        if worker.name_loc.file != loc.file {
            continue;
        }
        let Some(import) = inputs.imports.iter().find(|import| import.release == worker.name) else {
            continue;
        };
        let field = if worker.name_loc == loc {
            Some(Vec::new())
        } else {
            path_at(&worker.fields, loc)
        };
        let Some(field) = field else {
            continue;
        };
        let field = field.join(".");
        let chart_path = match field.strip_prefix("values.") {
            Some(rest) => Some(rest.to_owned()),
            None => crate::chart::chart_path_of_field(&field),
        };
        let found = chart_path
            .and_then(|path| import.values.get_path(path.split('.')).map(|node| node.loc))
            .filter(|found| found.line > 0 && found.file == import.loc.file)
            .unwrap_or(import.loc);
        let Some(&file) = ids.get(&found.file) else {
            return diagnostic;
        };
        diagnostic
            .related
            .insert(0, (loc, "in the declaration import would write".to_owned()));
        diagnostic.loc = Some(Loc::new(file, found.line, found.col));
        return diagnostic;
    }
    diagnostic
}

/// The key path below `node` of the value or key at `loc`.
fn path_at(node: &Node, loc: Loc) -> Option<Vec<String>> {
    if node.loc == loc {
        return Some(Vec::new());
    }
    match &node.value {
        yaml::Value::Map(map) => map.entries().iter().find_map(|(key, child)| {
            if key.loc == loc {
                return Some(vec![key.name.clone()]);
            }
            path_at(child, loc).map(|mut rest| {
                rest.insert(0, key.name.clone());
                rest
            })
        }),
        yaml::Value::Seq(items) => items.iter().find_map(|item| path_at(item, loc)),
        _ => None,
    }
}
