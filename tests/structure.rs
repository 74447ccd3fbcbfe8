//! The shape the code keeps (issue 10): modules that import each other in one direction
//! only, short functions, and a thin command layer. These read `src/` as text, so a
//! change that breaks the shape fails here, whoever makes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a function in `src/` may be, in lines from `fn` to its closing brace.
const MAX_FUNCTION_LINES: usize = 80;
/// The most lines `src/app.rs`, the command layer, may have.
const MAX_APP_LINES: usize = 450;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level module a file of `src/` belongs to (`src/diff/text.rs` -> `diff`);
/// `None` for the crate root and `main.rs`.
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// The top-level modules a source text names through `crate::`, outside its unit tests
/// and comments (a doc link is no dependency).
fn imports(text: &str) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or(text)
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (index, _) in code.match_indices("crate::") {
        let rest = &code[index + "crate::".len()..];
        if rest.starts_with('{') {
            // `use crate::{a, b::c}`: every first segment inside the braces.
            let inner = &rest[1..rest.find('}').unwrap_or(rest.len())];
            for part in inner.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The module graph of `src/`: each top-level module and the others it imports.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src()) {
        let Some(module) = module_of(&file) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for imported in imports(&text) {
            if imported != module {
                edges.insert(imported);
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for edges in graph.values_mut() {
        // Crate-root items (`crate::Timings`, `crate::load_fleet`) are not modules.
        edges.retain(|name| modules.contains(name));
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|step| step == node).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

/// Functions of a source text longer than `limit` lines, as `(name, first line, length)`.
///
/// A function starts at a line holding `fn name(` and ends at the first later line
/// that is only `}` at the indentation of its start; one-line and bodiless functions
/// (trait declarations) end where they start.
fn long_functions(text: &str, limit: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(name) = function_name(trimmed) else { continue };
        if trimmed.ends_with(';') || trimmed.ends_with('}') {
            continue;
        }
        let indent = &line[..line.len() - trimmed.len()];
        let closing = format!("{indent}}}");
        let Some(end) = lines[index + 1..].iter().position(|later| *later == closing) else {
            continue;
        };
        let length = end + 2;
        if length > limit {
            long.push((name, index + 1, length));
        }
    }
    long
}

/// The name of the function a line starts, if it starts one.
fn function_name(trimmed: &str) -> Option<String> {
    if trimmed.starts_with("//") {
        return None;
    }
    let at = trimmed.find("fn ")?;
    let before = &trimmed[..at];
    let qualifiers = [
        "pub",
        "pub(crate)",
        "pub(super)",
        "const",
        "async",
        "unsafe",
        "extern",
        "\"C\"",
    ];
    if !before.split_whitespace().all(|word| qualifiers.contains(&word)) {
        return None;
    }
    let name: String = trimmed[at + 3..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

#[test]
fn the_modules_of_src_import_each_other_without_cycles() {
    let graph = module_graph();
    assert!(
        graph.contains_key("yaml") && graph.contains_key("app"),
        "module graph not found: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("a cycle among the modules of src/: {}", cycle.join(" -> "));
    }
}

/// `yaml` is the lowest stage: it knows places (`source`), reports problems
/// (`diagnostic`), which keys hold credentials (`decl`, the declaration schema) and what
/// a file holds under them (`redact`), and nothing of merging, validation or rendering.
#[test]
fn yaml_imports_only_what_lies_below_it() {
    let graph = module_graph();
    let allowed: BTreeSet<String> = ["source", "diagnostic", "decl", "redact"]
        .iter()
        .map(ToString::to_string)
        .collect();
    let imported = &graph["yaml"];
    let above: Vec<&String> = imported.difference(&allowed).collect();
    assert!(above.is_empty(), "`yaml` imports modules above it: {above:?}");
}

#[test]
fn no_function_in_src_is_over_80_lines() {
    let mut long = Vec::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (name, line, length) in long_functions(&text, MAX_FUNCTION_LINES) {
            let path = file.strip_prefix(src()).unwrap().display().to_string();
            long.push(format!("src/{path}:{line} `{name}` has {length} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn app_rs_stays_a_thin_command_layer() {
    let lines = std::fs::read_to_string(src().join("app.rs")).unwrap().lines().count();
    assert!(
        lines < MAX_APP_LINES,
        "src/app.rs has {lines} lines (at most {MAX_APP_LINES})"
    );
}

#[test]
fn the_checks_themselves_find_what_they_look_for() {
    // A cycle is found, and a graph without one passes.
    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph.entry(from.to_string()).or_default().insert(to.to_string());
            graph.entry(to.to_string()).or_default();
        }
        graph
    };
    let cyclic = graph(&[("a", "b"), ("b", "c"), ("c", "a")]);
    assert_eq!(find_cycle(&cyclic).unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(find_cycle(&graph(&[("a", "b"), ("a", "c"), ("b", "c")])), None);
    // Imports in every form are seen; unit tests are not.
    let text = "use crate::yaml::Node;\nuse crate::{merge::Layer, source};\n/// [`crate::render`]\nfn f() { crate::chart::x(); }\n#[cfg(test)]\nuse crate::app;\n";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["chart", "merge", "source", "yaml"]);
    // A long function is measured from `fn` to its closing brace.
    let body = "    let x = 1;\n".repeat(85);
    let text = format!("pub fn long() {{\n{body}}}\n\nfn short() {{\n    1;\n}}\n");
    assert_eq!(long_functions(&text, 80), [("long".to_string(), 1, 87)]);
    assert_eq!(function_name("pub(crate) fn name<T>("), Some("name".into()));
    assert_eq!(function_name("let f = |x| x; // fn not"), None);
}
