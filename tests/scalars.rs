//! Helm must read what was declared (issue 9): scalars go through declarations and
//! `render`, and come back out of the readers our users' tools use.
//!
//! - [`property_random_scalars_read_back_by_an_independent_reader`]: random strings
//!   (biased to YAML indicators, whitespace, line and paragraph separators, non-characters,
//!   long keys) and numbers through typed text fields and `values`, read back from
//!   values.yaml by libyaml (`serde_yaml`), a reader independent of ours.
//! - [`helm_reads_every_tricky_scalar_as_declared`]: the real `helm template` on an echo
//!   chart (`tests/fixtures/echo-chart`) with the rendered values.yaml of a table of
//!   tricky scalars, in typed fields and in `values`. It needs `helm` from
//!   `WORKERGEN_TEST_TOOLS` and says it skipped when that is not set. The same files,
//!   and those of the property test's first cases, also go through `helm template` of
//!   the real chart 3.13.2 and must register as declared (pools, server, credential).
//! - [`render_stdout_inlines_values_byte_for_byte`]: the values inlined by
//!   `render --stdout` are values.yaml's, byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value as Json;

use crate::util::{self, workergen};

/// Strings that some YAML reader takes for something else, or that YAML cannot hold raw.
const TRICKY: &[&str] = &[
    // Numbers to YAML 1.1 or 1.2.
    "9.20",
    "1.10",
    "007",
    "010",
    "0x1F",
    "0X1F",
    "0o17",
    "0b101",
    "1e3",
    "1E3",
    "-1e-3",
    ".5",
    "1.",
    "42",
    "-0",
    "+1",
    "0777",
    "08",
    "1_000",
    "12:30",
    "190:20:30.15",
    "9007199254740993",
    "0x8000000000000000",
    "123456789012345678901234567890",
    ".inf",
    "-.inf",
    "+.inf",
    ".Inf",
    ".nan",
    ".NaN",
    "NaN",
    "inf",
    "Infinity",
    // Booleans and null to YAML 1.1 or 1.2.
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    "true",
    "True",
    "TRUE",
    "false",
    "False",
    "FALSE",
    "~",
    "null",
    "Null",
    "NULL",
    "",
    // Timestamps, YAML 1.1's value and merge keys.
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "=",
    "<<",
    "<<x",
    // Indicators.
    "-",
    "--",
    "---",
    "...",
    "- a",
    "-a",
    "?",
    "? a",
    ":",
    ":a",
    "a:",
    "a: b",
    "a:b",
    "a,b",
    "a, b",
    "[a]",
    "{a: b}",
    "#x",
    "a #x",
    "a#x",
    "&a",
    "*a",
    "!t",
    "!!str",
    "%",
    "%TAG",
    "@",
    "`",
    "'",
    "\"",
    "'a'",
    "\"a\"",
    "|",
    ">",
    "|-",
    ">+",
    "\\",
    "\\n",
    "a'b",
    "a\"b",
    "a\\b",
    "{{ .Values }}",
    "${HOME}",
    "%!s(float64=9.2)",
    // Whitespace and line breaks, YAML 1.1's included.
    " lead",
    "trail ",
    " ",
    "  ",
    "\t",
    "\ta",
    "a\tb",
    "a\nb",
    "a\n",
    "\n",
    "\r\n",
    "a\rb",
    "a\u{2028}b",
    " \u{2028} ",
    "\u{2029}",
    "\u{85}",
    "a \u{85} b",
    // Characters a reader may refuse raw.
    "\u{FEFF}",
    "\u{FEFF}a",
    "\u{FFFE}",
    "\u{FFFF}",
    "\u{FDD0}",
    "\u{FDEF}",
    "\u{1FFFE}",
    "\u{10FFFF}",
    "\u{0}",
    "\u{1}",
    "\u{7}",
    "\u{1b}[2K",
    "\u{7f}",
    "\u{80}",
    "\u{9f}",
    "\u{a0}",
    "\u{200B}",
    "\u{D7FF}",
    "\u{E000}",
    "\u{FFFD}",
    "é",
    "日本語",
    "😀",
    // Ordinary values, to be sure they stay ordinary.
    "Linux Workers",
    "octopusdeploy/worker-tools:6.5.0-ubuntu.22.04",
    "https://proxy.example.com:3128",
    "a=b",
];

/// Plain (unquoted) scalars that a typed text field must keep exactly as written.
const PLAIN_TEXTS: &[&str] = &[
    "9.20",
    "1.10",
    "007",
    "010",
    "0x1F",
    "0o17",
    "0b101",
    "1e3",
    "42",
    "-0",
    "+1",
    "0777",
    "1_000",
    "12:30",
    "9007199254740993",
    "0x8000000000000000",
    ".inf",
    ".nan",
    "yes",
    "No",
    "on",
    "y",
    "true",
    "False",
    "1.",
    ".5",
    "2001-12-14",
    "6.5.0",
];

/// Plain numbers and booleans that `values` takes, and Helm must read as the same value.
const PLAIN_NUMBERS: &[&str] = &[
    "1",
    "-0",
    "0",
    "00",
    "08",
    "+1",
    "0.5",
    ".5",
    "1.",
    "1.10",
    "1e3",
    "1E3",
    "-1.5e-3",
    "0.1",
    "3.141592653589793",
    "9007199254740992",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "1e300",
    "-1e-300",
    "100000000000000000000.0",
    "123456789.123456789",
    "true",
    "false",
    "True",
    "FALSE",
];

const WORKERGEN_YAML: &str = "acceptEula: true\ngitops:\n  engine: flux\ndefaults:\n  machinePolicy: manual\n";

fn environment_yaml(bearer_token_secret: &str) -> String {
    format!(
        "octopus:\n  serverUrl: https://octopus.example.com/\n  serverCommsAddresses: [https://octopus.example.com:10943/]\n  space: Default\n  auth:\n    bearerTokenSecret: {bearer_token_secret}\n"
    )
}

/// A config repository whose one cluster, `prod/c1`, has the `workers:` block `workers`.
fn repo(settings: &str, environment: &str, workers: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("environments/prod");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(dir.path().join("workergen.yaml"), settings).unwrap();
    std::fs::write(folder.join("environment.yaml"), environment).unwrap();
    std::fs::write(
        folder.join("c1.yaml"),
        format!("cluster:\n  destination: {{server: https://c1.k8s.example.com}}\nworkers:\n{workers}"),
    )
    .unwrap();
    dir
}

fn render(dir: &Path) {
    let run = workergen(dir, &["render"]);
    assert_eq!(run.code, 0, "render failed:\n{}", run.stderr);
}

fn values_path(dir: &Path, worker: &str) -> PathBuf {
    dir.join("rendered/prod/c1").join(worker).join("values.yaml")
}

/// `text` as a YAML double-quoted scalar with everything but printable ASCII escaped:
/// our own writer, so that the input does not lean on the emitter under test.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// A block map at `indent` from `(key, value source)` pairs, every key explicit (`? `)
/// so that keys longer than YAML's 1024 characters for implicit keys can be written.
fn block_map(indent: usize, entries: impl IntoIterator<Item = (String, String)>) -> String {
    let pad = " ".repeat(indent);
    entries
        .into_iter()
        .map(|(key, value)| format!("{pad}? {}\n{pad}: {value}\n", quoted(&key)))
        .collect()
}

/// libyaml's reading of a file (through `serde_yaml`), as JSON.
fn read_independently(path: &Path) -> serde_yaml::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text)
        .unwrap_or_else(|error| panic!("libyaml cannot read {}: {error}\n{text}", path.display()))
}

fn yaml_get<'a>(value: &'a serde_yaml::Value, path: &[&str]) -> &'a serde_yaml::Value {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .unwrap_or_else(|| panic!("no {path:?} in {value:?}"))
}

// ---------------------------------------------------------------------------------------
// One promise at a time, read by libyaml (no tools needed).

/// `agent.image.tag: 9.20` is the text "9.20" (the chart made the image
/// `tentacle:%!s(float64=9.2)` of the number), and so for every text field.
#[test]
fn typed_text_fields_keep_plain_scalars_as_written() {
    // `bearerTokenSecret: 42` is refused: the chart writes Secret names unquoted
    // (corpus `secret-name-reads-as-number`).
    let environment = environment_yaml("octopus-42");
    let workers = "  w:\n    displayName: 007\n    machinePolicy: 1.10\n    workerPools: [0x1F, 1e3]\n    agent:\n      image: {repository: octopusdeploy/kubernetes-agent-tentacle, tag: 9.20}\n      nodeSelector: {zone: 010}\n      serviceAccount: {annotations: {example.com/id: 42}}\n    scriptPods:\n      proxies: {http: 8080}\n      resources: {requests: {cpu: 1.10}}\n";
    let dir = repo(WORKERGEN_YAML, &environment, workers);
    render(dir.path());
    let read = read_independently(&values_path(dir.path(), "w"));
    let text = |path: &[&str]| yaml_get(&read, path).clone();
    let string = |text: &str| serde_yaml::Value::String(text.to_string());
    assert_eq!(text(&["agent", "name"]), string("007"));
    assert_eq!(text(&["agent", "machinePolicyName"]), string("1.10"));
    assert_eq!(
        text(&["agent", "worker", "initial", "workerPools"]),
        serde_yaml::Value::Sequence(vec![string("0x1F"), string("1e3")])
    );
    assert_eq!(text(&["agent", "image", "tag"]), string("9.20"));
    assert_eq!(text(&["agent", "nodeSelector", "zone"]), string("010"));
    assert_eq!(text(&["agent", "bearerTokenSecretName"]), string("octopus-42"));
    assert_eq!(
        text(&["agent", "serviceAccount", "annotations", "example.com/id"]),
        string("42")
    );
    assert_eq!(text(&["scriptPods", "proxies", "http_proxy"]), string("8080"));
    assert_eq!(text(&["scriptPods", "resources", "requests", "cpu"]), string("1.10"));
    let written = std::fs::read_to_string(values_path(dir.path(), "w")).unwrap();
    assert!(written.contains("  tag: \"9.20\"\n"), "written quoted:\n{written}");
}

/// A quoted `"<<"` is an ordinary key; only a plain `<<` is YAML 1.1's merge key.
#[test]
fn a_quoted_merge_key_is_an_ordinary_key() {
    let workers = "  w:\n    workerPools: [Pool]\n    values:\n      agent:\n        metadata:\n          annotations: {\"<<\": a}\n          labels: {'<<': b}\n";
    let dir = repo(WORKERGEN_YAML, &environment_yaml("octopus-worker-token"), workers);
    render(dir.path());
    let read = read_independently(&values_path(dir.path(), "w"));
    assert_eq!(
        yaml_get(&read, &["agent", "metadata", "annotations", "<<"]).as_str(),
        Some("a")
    );
    assert_eq!(
        yaml_get(&read, &["agent", "metadata", "labels", "<<"]).as_str(),
        Some("b")
    );
}

/// Line and paragraph separators keep the spaces around them, and non-characters no
/// longer make the file unreadable: every character a reader may not take raw is escaped.
#[test]
fn characters_yaml_may_not_hold_raw_are_escaped() {
    let texts = [
        " \u{2028} ",
        "a \u{2029} b",
        "\u{85}",
        "\u{FEFF}x",
        "\u{FFFE}",
        "\u{FFFF}",
        "\u{FDD0}",
        "\u{1FFFE}",
        "\u{9f}",
    ];
    let entries = block_map(
        10,
        texts
            .iter()
            .enumerate()
            .map(|(index, text)| (format!("k{index}"), quoted(text))),
    );
    let workers =
        format!("  w:\n    workerPools: [Pool]\n    agent:\n      serviceAccount:\n        annotations:\n{entries}");
    let dir = repo(WORKERGEN_YAML, &environment_yaml("octopus-worker-token"), &workers);
    render(dir.path());
    let read = read_independently(&values_path(dir.path(), "w"));
    for (index, text) in texts.iter().enumerate() {
        assert_eq!(
            yaml_get(&read, &["agent", "serviceAccount", "annotations", &format!("k{index}")]).as_str(),
            Some(*text)
        );
    }
    if let Some(tools) = test_tools() {
        let helm = helm_reads(&tools, &values_path(dir.path(), "w"));
        for (index, text) in texts.iter().enumerate() {
            assert_eq!(
                json_get(&helm, &["agent", "serviceAccount", "annotations", &format!("k{index}")]),
                text
            );
        }
    }
}

/// A key longer than YAML's 1024 characters for an implicit key is written as an
/// explicit `? ` key (render wrote a file nobody could read).
#[test]
fn long_keys_are_written_as_explicit_keys() {
    let long = "k".repeat(1100);
    let workers = format!(
        "  w:\n    workerPools: [Pool]\n    values:\n      agent:\n        metadata:\n          annotations:\n            ? {long}\n            : plain\n          labels:\n            ? \"{long}\"\n            : values\n"
    );
    let dir = repo(WORKERGEN_YAML, &environment_yaml("octopus-worker-token"), &workers);
    render(dir.path());
    let read = read_independently(&values_path(dir.path(), "w"));
    assert_eq!(
        yaml_get(&read, &["agent", "metadata", "annotations", &long]).as_str(),
        Some("plain")
    );
    assert_eq!(
        yaml_get(&read, &["agent", "metadata", "labels", &long]).as_str(),
        Some("values")
    );
    // And workergen reads its own output.
    let run = workergen(dir.path(), &["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// The property test.

/// One random declaration: text in typed fields, text and numbers in `values`.
#[derive(Debug, Clone)]
struct Declared {
    worker_pools: Vec<String>,
    display_name: String,
    machine_policy: String,
    node_selector: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    numbers: BTreeMap<String, Number>,
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

/// Pieces of text YAML readers trip over; random strings are made of them.
fn piece() -> impl Strategy<Value = String> {
    let indicators: Vec<String> = "-?:,[]{}#&*!|>'\"%@`\\=~<".chars().map(String::from).collect();
    let words: Vec<String> = [
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "null",
        "~",
        "true",
        "0x1F",
        "1e3",
        "007",
        "9.20",
        "12:30",
        "<<",
        ".inf",
        "- ",
        ": ",
        " #",
        "---",
        "...",
        "1_000",
        "0777",
        "2001-12-14",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .collect();
    let special: Vec<String> = [
        ' ',
        '\t',
        '\n',
        '\r',
        '\u{2028}',
        '\u{2029}',
        '\u{85}',
        '\u{FEFF}',
        '\u{FFFE}',
        '\u{FFFF}',
        '\u{FDD0}',
        '\u{1FFFE}',
        '\u{10FFFF}',
        '\u{0}',
        '\u{1b}',
        '\u{7f}',
        '\u{9f}',
        '\u{a0}',
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .collect();
    prop_oneof![
        3 => prop::sample::select(indicators),
        3 => prop::sample::select(words),
        3 => prop::sample::select(special),
        2 => "[a-zA-Z0-9 ]{1,6}",
        1 => any::<char>().prop_map(String::from),
    ]
}

fn random_text() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => prop::collection::vec(piece(), 0..8).prop_map(|pieces| pieces.concat()),
        // Longer than YAML's 1024 characters for an implicit key.
        1 => (1025usize..1400, piece()).prop_map(|(length, tail)| "k".repeat(length) + &tail),
    ]
}

fn random_number() -> impl Strategy<Value = Number> {
    const EXACT: i64 = 1 << 53;
    prop_oneof![
        (-EXACT..=EXACT).prop_map(Number::Int),
        prop::sample::select(vec![0, -1, 1, i64::MIN, EXACT, -EXACT]).prop_map(Number::Int),
        any::<f64>()
            .prop_filter("finite", |value| value.is_finite())
            .prop_map(Number::Float),
        prop::sample::select(vec![0.5, -0.0, 1e300, 1e-300, 0.1, 100.0]).prop_map(Number::Float),
    ]
}

/// A pool name: random text without a comma (the chart joins pools with commas, and
/// workergen refuses a comma in a pool), unique by its `p<index>-` prefix.
fn random_pools() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(random_text(), 1..4).prop_map(|texts| {
        texts
            .iter()
            .enumerate()
            .map(|(index, text)| format!("p{index}-{}", text.replace(',', "")))
            .collect()
    })
}

fn declared() -> impl Strategy<Value = Declared> {
    (
        random_pools(),
        random_text(),
        random_text(),
        prop::collection::btree_map(random_text(), random_text(), 0..6),
        prop::collection::btree_map(random_text(), random_text(), 0..6),
        prop::collection::btree_map("n[0-9]{1,3}", random_number(), 0..6),
    )
        .prop_map(
            |(worker_pools, display_name, machine_policy, node_selector, annotations, numbers)| Declared {
                worker_pools,
                // A display name must not be blank.
                display_name: format!("d{display_name}"),
                machine_policy,
                node_selector,
                annotations,
                numbers,
            },
        )
}

fn number_source(number: Number) -> String {
    match number {
        Number::Int(value) => value.to_string(),
        // `{:?}` keeps a `.0` or an exponent: a YAML float.
        Number::Float(value) => format!("{value:?}"),
    }
}

/// The typed annotations of a declaration: every random text as a value, under keys
/// Kubernetes takes.
fn typed_annotations(declared: &Declared) -> BTreeMap<String, String> {
    declared
        .node_selector
        .values()
        .chain(declared.annotations.values())
        .enumerate()
        .map(|(index, text)| (format!("t{index}"), text.clone()))
        .collect()
}

fn declaration(declared: &Declared) -> String {
    let mut text = format!(
        "  w:\n    workerPools: [{}]\n    displayName: {}\n    machinePolicy: {}\n    agent:\n      serviceAccount:\n        annotations:\n{}",
        declared.worker_pools.iter().map(|pool| quoted(pool)).collect::<Vec<_>>().join(", "),
        quoted(&declared.display_name),
        quoted(&declared.machine_policy),
        block_map(10, typed_annotations(declared).into_iter().map(|(k, v)| (k, quoted(&v)))),
    );
    // Random keys go where Kubernetes does not check them, `values`' metadata; in typed
    // fields, whose keys must be label or annotation keys, the texts are values.
    text.push_str("    values:\n      agent:\n        metadata:\n          labels:\n");
    text.push_str(&block_map(
        12,
        declared.node_selector.iter().map(|(k, v)| (k.clone(), quoted(v))),
    ));
    text.push_str("          annotations:\n");
    let values = declared
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), quoted(v)))
        .chain(declared.numbers.iter().map(|(k, n)| (k.clone(), number_source(*n))));
    // `values` keys of a map must be unique: the number keys (`n…`) are quoted strings
    // here like the others, so a clash would be a duplicate key; keep the first.
    let mut seen = std::collections::BTreeSet::new();
    let values: Vec<_> = values.filter(|(k, _)| seen.insert(k.clone())).collect();
    text.push_str(&block_map(12, values));
    text
}

fn check_read_back(declared: &Declared, read: &serde_yaml::Value) -> Result<(), TestCaseError> {
    let text = |path: &[&str]| yaml_get(read, path).as_str().map(str::to_string);
    let pools: Vec<serde_yaml::Value> = declared
        .worker_pools
        .iter()
        .map(|pool| serde_yaml::Value::String(pool.clone()))
        .collect();
    prop_assert_eq!(
        yaml_get(read, &["agent", "worker", "initial", "workerPools"]),
        &serde_yaml::Value::Sequence(pools)
    );
    prop_assert_eq!(text(&["agent", "name"]), Some(declared.display_name.clone()));
    prop_assert_eq!(
        text(&["agent", "machinePolicyName"]),
        Some(declared.machine_policy.clone())
    );
    let map_of = |path: &[&str]| -> BTreeMap<String, serde_yaml::Value> {
        match read
            .get("agent")
            .and_then(|agent| path.iter().try_fold(agent, |value, key| value.get(key)))
        {
            Some(serde_yaml::Value::Mapping(map)) => map
                .iter()
                .map(|(k, v)| (k.as_str().expect("string keys").to_string(), v.clone()))
                .collect(),
            _ => BTreeMap::new(),
        }
    };
    let strings = |map: &BTreeMap<String, String>| -> BTreeMap<String, serde_yaml::Value> {
        map.iter()
            .map(|(k, v)| (k.clone(), serde_yaml::Value::String(v.clone())))
            .collect()
    };
    prop_assert_eq!(map_of(&["metadata", "labels"]), strings(&declared.node_selector));
    prop_assert_eq!(
        map_of(&["serviceAccount", "annotations"]),
        strings(&typed_annotations(declared))
    );
    let metadata = map_of(&["metadata", "annotations"]);
    for (key, value) in &declared.annotations {
        prop_assert_eq!(metadata.get(key), Some(&serde_yaml::Value::String(value.clone())));
    }
    for (key, number) in &declared.numbers {
        if declared.annotations.contains_key(key) {
            continue;
        }
        let read = metadata.get(key);
        match number {
            Number::Int(value) => prop_assert_eq!(read.and_then(serde_yaml::Value::as_i64), Some(*value), "{}", key),
            Number::Float(value) => {
                let read = read.and_then(serde_yaml::Value::as_f64);
                prop_assert_eq!(read.map(f64::to_bits), Some(value.to_bits()), "{}: {:?}", key, read);
            }
        }
    }
    Ok(())
}

/// Random strings and numbers, declared in typed fields and `values`, rendered, and
/// read back from values.yaml by libyaml: every string byte for byte, every number
/// with its type and value. Seeded, so every run tries the same cases.
#[test]
fn property_random_scalars_read_back_by_an_independent_reader() {
    let config = Config {
        cases: 48,
        failure_persistence: None,
        max_shrink_iters: 64,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    // The first cases that pass also go through the real chart, after the run.
    let for_helm = std::cell::RefCell::new(Vec::new());
    let result = runner.run(&declared(), |declared| {
        let dir = repo(
            WORKERGEN_YAML,
            &environment_yaml("octopus-worker-token"),
            &declaration(&declared),
        );
        let run = workergen(dir.path(), &["render"]);
        prop_assert_eq!(run.code, 0, "render failed:\n{}", run.stderr);
        check_read_back(&declared, &read_independently(&values_path(dir.path(), "w")))?;
        let mut for_helm = for_helm.borrow_mut();
        if for_helm.len() < REAL_CHART_CASES {
            for_helm.push((dir, declared));
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    real_chart_registers_as_declared(&for_helm.into_inner());
}

/// How many of the property test's cases also go through `helm template` of the real
/// chart (0.2–0.5 s each, two at a time).
const REAL_CHART_CASES: usize = 16;

/// The rendered values.yaml of each case through `helm template` of the real chart
/// 3.13.2: the agent registers with the declared pools (comma-joined), server URL and
/// credential, and its `AgentName` and `MachinePolicy` are the random texts exactly.
fn real_chart_registers_as_declared(cases: &[(tempfile::TempDir, Declared)]) {
    if util::real_helm().is_none() {
        return;
    }
    assert_eq!(cases.len(), REAL_CHART_CASES);
    let runs: Vec<util::HelmRun> = cases
        .iter()
        .map(|(dir, _)| util::HelmRun {
            values: values_path(dir.path(), "w"),
            chart_version: "3.13.2".into(),
            release: "w".into(),
            namespace: "octopus-agent-w".into(),
        })
        .collect();
    let results = util::helm_template_all(&runs);
    let mut problems = Vec::new();
    for ((_, declared), result) in cases.iter().zip(results) {
        let manifests = match result {
            Ok(manifests) => manifests,
            Err(error) => {
                problems.push(format!("{declared:?}: {error}"));
                continue;
            }
        };
        let expected = util::Registration {
            worker_pools: declared.worker_pools.clone(),
            server_url: "https://octopus.example.com/".into(),
            credential: util::Credential::BearerToken("octopus-worker-token".into()),
        };
        if let Err(found) = util::check_registration(&manifests, &expected) {
            problems.push(format!("{declared:?}: {found:#?}"));
        }
        // The chart leaves `MachinePolicy` out for an empty policy (`with`).
        let policy =
            (!declared.machine_policy.is_empty()).then(|| util::EnvValue::Text(declared.machine_policy.clone()));
        for (owner, env) in util::agent_containers(&manifests).unwrap() {
            let value = |name: &str| env.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
            if value("AgentName") != Some(util::EnvValue::Text(declared.display_name.clone())) {
                problems.push(format!(
                    "{owner}: `AgentName` is {:?}, declared {:?}",
                    value("AgentName"),
                    declared.display_name
                ));
            }
            if value("MachinePolicy") != policy {
                problems.push(format!(
                    "{owner}: `MachinePolicy` is {:?}, declared {:?}",
                    value("MachinePolicy"),
                    declared.machine_policy
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the real chart did not register as declared:\n{}",
        problems.join("\n")
    );
}

/// `agent.image.tag: 9.20`, plain, gives the real chart's agent the image `…:9.20`
/// (it made `tentacle:%!s(float64=9.2)` of the number).
#[test]
fn real_chart_image_tag_is_the_text_as_written() {
    let dir = repo(
        WORKERGEN_YAML,
        &environment_yaml("octopus-worker-token"),
        "  w:\n    workerPools: [Pool]\n    agent:\n      image: {repository: octopusdeploy/kubernetes-agent-tentacle, tag: 9.20}\n",
    );
    render(dir.path());
    if util::real_helm().is_none() {
        return;
    }
    let manifests = util::helm_template(&values_path(dir.path(), "w"), "3.13.2", "w", "octopus-agent-w").unwrap();
    let images: Vec<&str> = manifests
        .lines()
        .filter_map(|line| line.trim().strip_prefix("image: "))
        .filter(|image| image.contains("kubernetes-agent-tentacle"))
        .collect();
    // The registration hook Pod and the agent's Deployment.
    assert_eq!(
        images, ["\"octopusdeploy/kubernetes-agent-tentacle:9.20\""; 2],
        "{manifests}"
    );
}

// ---------------------------------------------------------------------------------------
// Helm on an echo chart.

/// The folder of `helm` and the other test tools, or `None` after [`util::skipping`].
fn test_tools() -> Option<PathBuf> {
    util::tool("helm").map(|helm| helm.parent().unwrap().to_path_buf())
}

/// The values Helm read from `values`, as the echo chart writes them back (JSON).
fn helm_reads(tools: &Path, values: &Path) -> Json {
    let home = tempfile::tempdir().unwrap();
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/echo-chart");
    let output = Command::new(tools.join("helm"))
        .args(["template", "echo"])
        .arg(&chart)
        .arg("--values")
        .arg(values)
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .expect("helm runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "helm template failed on {}:\n{}\n{}",
        values.display(),
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(values).unwrap_or_default()
    );
    let encoded = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("values.json: "))
        .unwrap_or_else(|| panic!("no values.json in helm's output:\n{stdout}"))
        .trim_matches('"');
    serde_json::from_slice(&base64_decode(encoded)).unwrap()
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let digit = ALPHABET.iter().position(|a| *a == byte).expect("base64") as u32;
        buffer = (buffer << 6) | digit;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

fn json_get<'a>(json: &'a Json, path: &[&str]) -> &'a Json {
    path.iter()
        .try_fold(json, |json, key| json.get(key))
        .unwrap_or_else(|| panic!("Helm read no {path:?}"))
}

fn tricky_with_long() -> Vec<String> {
    let mut texts: Vec<String> = TRICKY.iter().map(std::string::ToString::to_string).collect();
    texts.push("k".repeat(1100));
    texts.push(format!("{}: x", "a".repeat(1030)));
    texts
}

/// Each tricky string as a typed text field (annotation values: Kubernetes takes any
/// text there, while label values and keys have rules) and as a `values` string, as
/// values and as keys; each plain scalar in typed text fields; each plain number in `values`: what
/// Helm reads (through an echo chart) is exactly what was declared.
#[test]
fn helm_reads_every_tricky_scalar_as_declared() {
    let texts = tricky_with_long();
    assert!(texts.len() >= 100, "the table holds {} strings", texts.len());
    let unique: std::collections::BTreeSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "the table holds a string twice");
    let indexed = |prefix: &str| -> Vec<(String, String)> {
        texts
            .iter()
            .enumerate()
            .map(|(index, text)| (format!("{prefix}{index:03}"), quoted(text)))
            .collect()
    };
    let as_keys = || texts.iter().map(|text| (text.clone(), quoted("v"))).collect::<Vec<_>>();
    let plain_selector: String = PLAIN_TEXTS
        .iter()
        .enumerate()
        .map(|(index, text)| format!("          p{index:02}: {text}\n"))
        .collect();
    let plain_numbers: String = PLAIN_NUMBERS
        .iter()
        .enumerate()
        .map(|(index, text)| format!("            n{index:02}: {text}\n"))
        .collect();
    let workers = format!(
        "  typed:\n    workerPools: [Pool]\n    machinePolicy: {policy}\n    agent:\n      image: {{repository: octopusdeploy/kubernetes-agent-tentacle, tag: {tag}}}\n      serviceAccount:\n        annotations:\n{selector}    scriptPods:\n      proxies: {{http: {http}, https: {https}, noProxy: {no_proxy}}}\n\
         \x20 plain:\n    displayName: 007\n    machinePolicy: 1.10\n    workerPools: [{pools}]\n    agent:\n      image: {{repository: octopusdeploy/kubernetes-agent-tentacle, tag: 9.20}}\n      serviceAccount:\n        annotations:\n          example.com/id: 42\n{plain_selector}    scriptPods:\n      proxies: {{http: 8080, noProxy: 0x1F}}\n      resources: {{requests: {{cpu: 1.10, memory: 1e3}}}}\n\
         \x20 values:\n    workerPools: [Pool]\n    values:\n      agent:\n        metadata:\n          annotations:\n{strings}{plain_numbers}          labels:\n{labels}",
        policy = quoted(&texts[0]),
        tag = quoted("\u{2028}9.20 "),
        selector = block_map(10, indexed("s")),
        http = quoted("yes"),
        https = quoted("\u{FFFE}"),
        no_proxy = quoted(" a, b "),
        pools = PLAIN_TEXTS.join(", "),
        strings = block_map(12, indexed("s")),
        labels = block_map(12, as_keys()),
    );
    let dir = repo(WORKERGEN_YAML, &environment_yaml("octopus-42"), &workers);
    render(dir.path());
    let Some(tools) = test_tools() else {
        return;
    };

    let typed = helm_reads(&tools, &values_path(dir.path(), "typed"));
    assert_eq!(json_get(&typed, &["agent", "machinePolicyName"]), texts[0].as_str());
    assert_eq!(json_get(&typed, &["agent", "image", "tag"]), "\u{2028}9.20 ");
    assert_eq!(json_get(&typed, &["scriptPods", "proxies", "http_proxy"]), "yes");
    assert_eq!(json_get(&typed, &["scriptPods", "proxies", "https_proxy"]), "\u{FFFE}");
    assert_eq!(json_get(&typed, &["scriptPods", "proxies", "no_proxy"]), " a, b ");
    let typed_annotations = json_get(&typed, &["agent", "serviceAccount", "annotations"]);
    let values_doc = helm_reads(&tools, &values_path(dir.path(), "values"));
    let value_annotations = json_get(&values_doc, &["agent", "metadata", "annotations"]);
    let value_labels = json_get(&values_doc, &["agent", "metadata", "labels"]);
    for (index, text) in texts.iter().enumerate() {
        let key = format!("s{index:03}");
        assert_eq!(typed_annotations[&key], text.as_str(), "typed {text:?}");
        assert_eq!(value_annotations[&key], text.as_str(), "values {text:?}");
        assert_eq!(value_labels[text.as_str()], "v", "values key {text:?}");
    }
    assert_eq!(value_labels.as_object().unwrap().len(), texts.len());

    // Plain scalars in typed text fields: the text as written.
    let plain = helm_reads(&tools, &values_path(dir.path(), "plain"));
    assert_eq!(json_get(&plain, &["agent", "name"]), "007");
    assert_eq!(json_get(&plain, &["agent", "machinePolicyName"]), "1.10");
    assert_eq!(json_get(&plain, &["agent", "image", "tag"]), "9.20");
    assert_eq!(json_get(&plain, &["agent", "bearerTokenSecretName"]), "octopus-42");
    assert_eq!(
        json_get(&plain, &["agent", "serviceAccount", "annotations", "example.com/id"]),
        "42"
    );
    assert_eq!(json_get(&plain, &["scriptPods", "proxies", "http_proxy"]), "8080");
    assert_eq!(json_get(&plain, &["scriptPods", "proxies", "no_proxy"]), "0x1F");
    assert_eq!(
        json_get(&plain, &["scriptPods", "resources", "requests", "cpu"]),
        "1.10"
    );
    assert_eq!(
        json_get(&plain, &["scriptPods", "resources", "requests", "memory"]),
        "1e3"
    );
    let pools = json_get(&plain, &["agent", "worker", "initial", "workerPools"]);
    assert_eq!(pools, &Json::from(PLAIN_TEXTS.to_vec()));
    for (index, text) in PLAIN_TEXTS.iter().enumerate() {
        assert_eq!(
            json_get(
                &plain,
                &["agent", "serviceAccount", "annotations", &format!("p{index:02}")]
            ),
            text,
            "plain {text}"
        );
    }

    // Plain numbers and booleans in `values`: the same number, the same boolean.
    for (index, text) in PLAIN_NUMBERS.iter().enumerate() {
        let read = &value_annotations[format!("n{index:02}")];
        match text.to_ascii_lowercase().as_str() {
            "true" => assert_eq!(read, &Json::Bool(true), "{text}"),
            "false" => assert_eq!(read, &Json::Bool(false), "{text}"),
            _ => {
                let declared: f64 = text.parse().unwrap();
                assert_eq!(read.as_f64(), Some(declared), "{text}: Helm read {read}");
            }
        }
    }

    // The same values.yaml files through the real chart register as declared.
    if util::real_helm().is_none() {
        return;
    }
    let workers = [
        ("typed", vec!["Pool".to_string()]),
        (
            "plain",
            PLAIN_TEXTS.iter().map(std::string::ToString::to_string).collect(),
        ),
        ("values", vec!["Pool".to_string()]),
    ];
    let runs: Vec<util::HelmRun> = workers
        .iter()
        .map(|(worker, _)| util::HelmRun {
            values: values_path(dir.path(), worker),
            chart_version: "3.13.2".into(),
            release: (*worker).into(),
            namespace: format!("octopus-agent-{worker}"),
        })
        .collect();
    for ((worker, pools), result) in workers.iter().zip(util::helm_template_all(&runs)) {
        let manifests = result.unwrap_or_else(|error| panic!("{error}"));
        let expected = util::Registration {
            worker_pools: pools.clone(),
            server_url: "https://octopus.example.com/".into(),
            credential: util::Credential::BearerToken("octopus-42".into()),
        };
        if let Err(problems) = util::check_registration(&manifests, &expected) {
            panic!("{worker} does not register as declared on the real chart: {problems:#?}");
        }
    }
}

/// A map written empty (`{}`) in a lower layer stays when a higher layer removes a key it
/// does not hold: Helm reads `{}` (the removal deleted the whole map, and the map above it).
#[test]
fn helm_reads_an_empty_map_that_a_removal_found_empty() {
    let settings = format!(
        "{WORKERGEN_YAML}  values: {{agent: {{metadata: {{annotations: {{}}}}}}, scriptPods: {{metadata: {{annotations: {{}}, labels: {{}}}}}}}}\n"
    );
    let workers = "  w:\n    workerPools: [Pool]\n    values:\n      agent: {metadata: {annotations: {x: null}}}\n      scriptPods: {metadata: {annotations: {x: null}, labels: {z: null}}}\n";
    let dir = repo(&settings, &environment_yaml("octopus-worker-token"), workers);
    render(dir.path());
    let read = read_independently(&values_path(dir.path(), "w"));
    let empty = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
    assert_eq!(yaml_get(&read, &["agent", "metadata", "annotations"]), &empty);
    assert_eq!(yaml_get(&read, &["scriptPods", "metadata", "labels"]), &empty);
    if let Some(tools) = test_tools() {
        let helm = helm_reads(&tools, &values_path(dir.path(), "w"));
        assert_eq!(
            json_get(&helm, &["agent", "metadata", "annotations"]),
            &serde_json::json!({})
        );
        assert_eq!(
            json_get(&helm, &["scriptPods", "metadata", "annotations"]),
            &serde_json::json!({})
        );
        assert_eq!(
            json_get(&helm, &["scriptPods", "metadata", "labels"]),
            &serde_json::json!({})
        );
    }
}

/// Plain scalars in `values` that YAML 1.1 (Helm) and YAML 1.2 read differently, and
/// numbers Helm cannot hold, are refused, each at its own line and column, in one run.
#[test]
fn values_refuse_scalars_yaml11_reads_otherwise() {
    let refused = [
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "N",
        "0777",
        "-012",
        "0x1F",
        "0X1F",
        "0o17",
        "0b101",
        "1_000",
        "12:30",
        ".inf",
        "-.inf",
        ".nan",
        "9007199254740993",
        "0x8000000000000000",
        // Beyond a 64-bit float, or beyond Go's 64-bit integers: Helm reads the text.
        "1e400",
        "-1e400",
        "1.8e308",
        "0x10000000000000000",
        "0o2000000000000000000000",
    ];
    let entries: String = refused
        .iter()
        .enumerate()
        .map(|(index, text)| format!("            k{index:02}: {text}\n"))
        .collect();
    // `k00` stands on line 10 of the cluster file, at column 13; its value at 18.
    let workers = format!(
        "  w:\n    workerPools: [Pool]\n    values:\n      agent:\n        metadata:\n          annotations:\n{entries}"
    );
    let dir = repo(WORKERGEN_YAML, &environment_yaml("octopus-worker-token"), &workers);
    let run = workergen(dir.path(), &["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for (index, text) in refused.iter().enumerate() {
        let line = 10 + index;
        let place = format!("environments/prod/c1.yaml:{line}:18: error: ");
        assert!(
            run.stderr.contains(&place),
            "`{text}` not refused at {place}\n{}",
            run.stderr
        );
    }
    assert!(!dir.path().join("rendered").exists());
    // Quoted, the same texts are fine, and so is a quoted `<<` key.
    let quoted_entries = refused
        .iter()
        .enumerate()
        .map(|(index, text)| format!("            k{index:02}: \"{text}\"\n"))
        .collect::<String>();
    let workers = format!(
        "  w:\n    workerPools: [Pool]\n    values:\n      agent:\n        metadata:\n          annotations:\n{quoted_entries}            \"<<\": merge\n"
    );
    let dir = repo(WORKERGEN_YAML, &environment_yaml("octopus-worker-token"), &workers);
    render(dir.path());
    let read = read_independently(&values_path(dir.path(), "w"));
    let annotations = yaml_get(&read, &["agent", "metadata", "annotations"]);
    assert_eq!(annotations.get("k00").and_then(serde_yaml::Value::as_str), Some("yes"));
    assert_eq!(annotations.get("<<").and_then(serde_yaml::Value::as_str), Some("merge"));
}

/// Whether YAML 1.2 reads the plain scalar `text`, as a map key, as no text: as
/// serde_yaml reads it, but for decimal digits with a leading zero (`007`), which it keeps
/// as text while YAML 1.2's core schema reads the integer 7.
fn key_reads_as_no_text(text: &str) -> bool {
    let digits = text.trim_start_matches(['+', '-']);
    if digits.len() > 1 && digits.starts_with('0') && digits.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    let read: serde_yaml::Mapping = serde_yaml::from_str(&format!("{text}: v\n")).unwrap();
    !read.keys().next().unwrap().is_string()
}

/// A plain map key: text, or something YAML reads as a number, boolean or null.
fn random_plain_key() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => "[a-z][a-z0-9.-]{0,8}",
        1 => "[+-]?[0-9]{1,4}",
        1 => "[+-]?[0-9]{1,3}\\.[0-9]{0,3}",
        1 => "[0-9]e[+-]?[0-9]{1,2}",
        1 => "0x[0-9A-F]{1,4}",
        1 => "0o[0-7]{1,4}",
        // Weighted so that the few fixed spellings, YAML 1.1's booleans among them, come up
        // in every seeded run.
        4 => prop::sample::select(vec![
            "~", "null", "Null", "NULL", "true", "TRUE", "False", ".inf", "-.Inf", ".nan", "007", "y", "N", "yes",
            "Off", "ON", "no"
        ])
        .prop_map(str::to_string),
    ]
}

/// A plain number as a YAML float or integer, some beyond what a 64-bit float holds.
fn random_number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ("-?[1-9]", "[0-9]{0,3}", -420i32..420)
            .prop_map(|(sign, digits, exponent)| format!("{sign}.{digits}e{exponent}")),
        ("-?[1-9][0-9]{0,2}", -420i32..420).prop_map(|(mantissa, exponent)| format!("{mantissa}e{exponent}")),
        "-?[1-9][0-9]{0,24}",
    ]
}

/// Random plain keys and random plain numbers in `values`: each is refused at its line, or reaches values.yaml as YAML read it. A key
/// YAML reads as a number, boolean or null is refused (Helm would make `0x1F` "31"); a
/// number is refused when a 64-bit float cannot hold it (Helm would read the text), and
/// otherwise read back as the same finite number. Seeded: every run tries the same cases.
#[test]
fn property_plain_keys_and_numbers_are_refused_or_read_as_yaml_reads_them() {
    let config = Config {
        cases: 40,
        failure_persistence: None,
        max_shrink_iters: 32,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let result = runner.run(&(random_plain_key(), random_number_text()), |(key, number)| {
        let workers = format!(
            "  w:\n    workerPools: [Pool]\n    values:\n      agent:\n        metadata:\n          labels:\n            {key}: v\n          annotations:\n            k: {number}\n"
        );
        let dir = repo(WORKERGEN_YAML, &environment_yaml("octopus-worker-token"), &workers);
        let run = workergen(dir.path(), &["render"]);
        let key_refused = run.stderr.contains("environments/prod/c1.yaml:10:13: error: ");
        // Refused too: a key only YAML 1.1 (Helm's reader) takes for a boolean, `y` or `on`.
        let yaml11_boolean = ["y", "yes", "n", "no", "on", "off"].contains(&key.to_lowercase().as_str());
        prop_assert_eq!(
            key_refused,
            key_reads_as_no_text(&key) || yaml11_boolean,
            "key `{}`:\n{}",
            key,
            run.stderr
        );
        if key_refused && !yaml11_boolean {
            // A file that does not parse is not checked further.
            return Ok(());
        }
        let declared: f64 = number.parse().unwrap();
        let holdable = if number.contains('e') {
            declared.is_finite()
        } else {
            let digits = number.trim_start_matches('-');
            format!("{:.0}", declared.abs()) == digits
        };
        let number_refused = run.stderr.contains("environments/prod/c1.yaml:12:16: error: ");
        prop_assert_eq!(number_refused, !holdable, "number `{}`:\n{}", number, run.stderr);
        prop_assert_eq!(run.code == 0, holdable && !key_refused, "{}", run.stderr);
        if run.code == 0 {
            let read = read_independently(&values_path(dir.path(), "w"));
            let selector = yaml_get(&read, &["agent", "metadata", "labels"]);
            prop_assert_eq!(selector.get(key.as_str()).and_then(serde_yaml::Value::as_str), Some("v"));
            let read = yaml_get(&read, &["agent", "metadata", "annotations", "k"]).as_f64();
            prop_assert_eq!(read, Some(declared), "number `{}`", number);
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

// ---------------------------------------------------------------------------------------
// `render --stdout`.

/// The block under the line `header` of a rendered document, de-indented.
fn inline_block(document: &str, header: &str) -> String {
    let mut lines = document.lines().skip_while(|line| *line != header).skip(1);
    let indent = header.len() - header.trim_start().len() + 2;
    let mut block = String::new();
    for line in lines.by_ref() {
        if line.len() < indent || !line[..indent].trim().is_empty() {
            break;
        }
        block.push_str(&line[indent..]);
        block.push('\n');
    }
    block
}

/// values.yaml without its marker line.
fn values_body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_once('\n').unwrap().1.to_string()
}

/// The values inlined by `render --stdout` (Flux `spec.values`, Argo CD
/// `helm.valuesObject`) are values.yaml's, byte for byte: numbers as written (`1e3`,
/// `1.10`, `9223372036854775808`), strings escaped alike, long keys explicit.
#[test]
fn render_stdout_inlines_values_byte_for_byte() {
    let numbers: String = PLAIN_NUMBERS
        .iter()
        .enumerate()
        // Beyond 64 bits: libyaml's reader (`serde_yaml`) cannot hold it; Helm can.
        .filter(|(_, text)| **text != "18446744073709551616")
        .map(|(index, text)| format!("            n{index:02}: {text}\n"))
        .collect();
    let texts = tricky_with_long();
    let strings = block_map(
        12,
        texts
            .iter()
            .enumerate()
            .map(|(index, text)| (format!("s{index:03}"), quoted(text))),
    );
    let workers = format!(
        "  w:\n    workerPools: [Pool]\n    pollingConnectionCount: 3\n    values:\n      agent:\n        metadata:\n          annotations:\n{numbers}{strings}"
    );
    for (engine, header) in [("flux", "  values:"), ("argocd", "        valuesObject:")] {
        let settings = format!(
            "acceptEula: true\ngitops:\n  engine: {engine}\n  argocd: {{repoURL: https://git.example.com/workers.git}}\ndefaults:\n  machinePolicy: manual\n"
        );
        let dir = repo(&settings, &environment_yaml("octopus-worker-token"), &workers);
        let run = workergen(dir.path(), &["render", "--stdout"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        render(dir.path());
        let values = values_path(dir.path(), "w");
        let document = run
            .stdout
            .split("\n---\n")
            .find(|document| document.contains(header) && !document.contains("kind: CustomResourceDefinition"))
            .unwrap_or_else(|| panic!("{engine}: no `{header}` in\n{}", run.stdout));
        let inline = inline_block(document, header);
        assert_eq!(
            inline,
            values_body(&values),
            "{engine}: inline values differ from values.yaml"
        );
        let inline_read: serde_yaml::Value = serde_yaml::from_str(&inline).unwrap();
        assert_eq!(inline_read, read_independently(&values), "{engine}");
        assert!(
            inline.contains("n10: 1e3\n") && inline.contains("n09: 1.10\n"),
            "{engine}: {inline}"
        );
    }
}
