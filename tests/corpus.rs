//! The bad-input corpus: every way a config repository can be wrong, and the exact
//! message workergen gives for it.
//!
//! DESIGN section 4 promises that every input error names `file:line:column`, shows
//! the line with a caret and, where it helps, a hint, and section 9 that bad input
//! exits 2 and never panics. Each case here is one such mistake, written as the
//! files that differ from a small valid repository (`tests/corpus/_base/`):
//!
//! - `tests/corpus/<case>/...`: files copied over a fresh copy of `_base`;
//! - `tests/corpus/<case>/DELETE`: optional, paths of `_base` to remove, one a line;
//! - `tests/corpus/<case>/EXPECT`: first line the `path:line:column` the message must
//!   name, or `nowhere` for a problem with no place in a file; then a comment;
//! - `tests/corpus/<case>/SECRET`: optional, strings (one a line) of credentials in the
//!   case's files. No case's credential may appear in any case's stdout or stderr, of
//!   `validate`, `render`, `render --stdout`, `diff` (text, json and markdown, against
//!   `_base` committed) and `explain` (of `_base`'s worker `build`), nor in
//!   any file `render` writes.
//!
//! Cases named `warn-*` are valid input with a warning: they must exit 0. Input that
//! cannot be a committed text file (bad bytes) is in [`BYTE_CASES`]. The whole
//! `exit code + stderr` of each case is an insta snapshot, `tests/snapshots/corpus@<case>.snap`,
//! so any change to a message shows up in review.

use std::path::{Path, PathBuf};

use crate::util::{commit_all, copy_dir, git_init, workergen, workergen_within, Run};

/// What `EXPECT` says when the message has no file location.
const NOWHERE: &str = "nowhere";

/// A case whose input is built from bytes here rather than read from `tests/corpus/`.
struct ByteCase {
    name: &'static str,
    path: &'static str,
    bytes: &'static [u8],
    expect: &'static str,
}

const BYTE_CASES: &[ByteCase] = &[
    ByteCase {
        // Latin-1 `é` in the environment file.
        name: "non-utf8-environment-file",
        path: "environments/prod/environment.yaml",
        bytes: b"octopus:\n  serverUrl: https://octopus.example.com/\n  serverCommsAddresses:\n    - https://octopus.example.com:10943/\n  space: D\xe9fault\n  auth:\n    bearerTokenSecret: octopus-worker-token\n",
        expect: "environments/prod/environment.yaml:5:11",
    },
    ByteCase {
        // Latin-1 `é` in a cluster file.
        name: "non-utf8-cluster-file",
        path: "environments/prod/eu-west-1.yaml",
        bytes: b"cluster:\n  destination:\n    server: https://eu-west-1.k8s.example.com\ndefaults:\n  workerPools: [Deploy Workers]\nworkers:\n  build:\n    displayName: Caf\xe9 builder\n",
        expect: "environments/prod/eu-west-1.yaml:8:21",
    },
    ByteCase {
        // A NUL byte inside a quoted string.
        name: "nul-byte",
        path: "environments/prod/eu-west-1.yaml",
        bytes: b"cluster:\n  destination:\n    server: https://eu-west-1.k8s.example.com\ndefaults:\n  workerPools: [Deploy Workers]\nworkers:\n  build:\n    displayName: \"a\x00b\"\n",
        expect: "environments/prod/eu-west-1.yaml:8:18",
    },
    ByteCase {
        // A terminal escape sequence inside a misspelt key.
        name: "escape-sequence-in-key",
        path: "environments/prod/eu-west-1.yaml",
        bytes: b"cluster:\n  destination:\n    server: https://eu-west-1.k8s.example.com\ndefaults:\n  workerPools: [Deploy Workers]\nworkers:\n  build:\n    workerPool\x1b[2K: [Build Workers]\n",
        expect: "environments/prod/eu-west-1.yaml:8:5",
    },
];

/// A case whose input is generated here: hostile input within the limits (issue 9),
/// too large to commit. `validate` must finish within [`TIME_LIMIT`] (each took tens of
/// seconds before) and print a bounded report.
struct GeneratedCase {
    name: &'static str,
    path: &'static str,
    generate: fn() -> Vec<u8>,
    expect: &'static str,
}

const GENERATED_CASES: &[GeneratedCase] = &[
    GeneratedCase {
        // A 1 MiB cluster file with 73,000 unknown keys under `values.agent`: 73,000
        // errors, of which the first 50 are printed.
        name: "hostile-73000-values-keys",
        path: "environments/prod/eu-west-1.yaml",
        generate: many_values_keys,
        expect: "environments/prod/eu-west-1.yaml:7:7",
    },
    GeneratedCase {
        // A 900,000-digit quantity: refused for its digits, after one scan.
        name: "hostile-900000-digit-quantity",
        path: "environments/prod/eu-west-1.yaml",
        generate: huge_quantity,
        expect: "environments/prod/eu-west-1.yaml:8:14",
    },
    GeneratedCase {
        // 900 unknown keys in the cluster's `defaults.values.agent` under 1,000 workers:
        // each key is checked once where it is written, not once per worker (900,000
        // findings before), and the merged workers stay within the merge limit.
        name: "hostile-900-defaults-keys-1000-workers",
        path: "environments/prod/eu-west-1.yaml",
        generate: defaults_keys_under_many_workers,
        expect: "environments/prod/eu-west-1.yaml:7:7",
    },
    GeneratedCase {
        // 20,000 valid keys in a free-form map of the defaults under 1,000 workers (a
        // 300 KB file that merged to 20 million nodes): refused at `workers:` for the
        // merge limit, without merging.
        name: "hostile-20000-free-form-keys-1000-workers",
        path: "environments/prod/eu-west-1.yaml",
        generate: free_form_keys_under_many_workers,
        expect: "environments/prod/eu-west-1.yaml:20010:1",
    },
];

/// Far above what any corpus case needs in a debug build (about a second); the hostile
/// cases took minutes there before issue 9.
const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Generated cases' snapshots keep the first this many characters of each line: a
/// source line of 900,000 characters is cut by the report itself (DESIGN section 4),
/// and its start is what the snapshot needs.
const SNAPSHOT_LINE_CHARS: usize = 200;

/// `_base`'s cluster file with `lines` added at the top of its `defaults`.
fn base_cluster_with_defaults(lines: &str) -> Vec<u8> {
    let base = std::fs::read_to_string(corpus_dir().join("_base/environments/prod/eu-west-1.yaml")).unwrap();
    assert_eq!(
        base.matches("\ndefaults:\n").count(),
        1,
        "_base's cluster file has one `defaults:`"
    );
    base.replacen("\ndefaults:\n", &format!("\ndefaults:\n{lines}"), 1)
        .into_bytes()
}

fn many_values_keys() -> Vec<u8> {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut lines = String::from("  values:\n    agent:\n");
    for i in 0..73_000 {
        let letter = |place: usize| char::from(LETTERS[i / place % LETTERS.len()]);
        lines.push_str(&format!("      x{}{}{}: 0\n", letter(52 * 52), letter(52), letter(1)));
    }
    let bytes = base_cluster_with_defaults(&lines);
    assert!(
        bytes.len() <= 1024 * 1024,
        "{} bytes is over the 1 MiB limit",
        bytes.len()
    );
    bytes
}

/// `_base`'s cluster file with `keys` keys under `defaults.values.agent` (or under its
/// free-form `nodeSelector`) and 1,000 more workers.
fn defaults_under_many_workers(keys: usize, free_form: bool) -> Vec<u8> {
    let mut lines = String::from("  values:\n    agent:\n");
    let indent = if free_form {
        lines.push_str("      nodeSelector:\n");
        "        "
    } else {
        "      "
    };
    for key in 0..keys {
        lines.push_str(&format!("{indent}x{key}: v\n"));
    }
    let mut bytes = base_cluster_with_defaults(&lines);
    for worker in 0..1_000 {
        bytes.extend_from_slice(format!("  w{worker}: {{}}\n").as_bytes());
    }
    assert!(
        bytes.len() <= 1024 * 1024,
        "{} bytes is over the 1 MiB limit",
        bytes.len()
    );
    bytes
}

fn defaults_keys_under_many_workers() -> Vec<u8> {
    defaults_under_many_workers(900, false)
}

fn free_form_keys_under_many_workers() -> Vec<u8> {
    defaults_under_many_workers(20_000, true)
}

fn huge_quantity() -> Vec<u8> {
    let digits = "7".repeat(900_000);
    base_cluster_with_defaults(&format!(
        "  scriptPods:\n    resources:\n      requests:\n        cpu: 0.{digits}\n"
    ))
}

/// One bad repository: the files that differ from `_base` and what must be said.
struct Case {
    name: String,
    files: Vec<(PathBuf, Vec<u8>)>,
    delete: Vec<String>,
    expect: String,
    /// Credentials that no output may show.
    secrets: Vec<String>,
    generated: bool,
}

impl Case {
    fn is_warning(&self) -> bool {
        self.name.starts_with("warn-")
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The cases of `tests/corpus/` and [`BYTE_CASES`], sorted by name.
fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir() && path.file_name().unwrap() != "_base")
        .map(|path| case_from_dir(&path))
        .chain(BYTE_CASES.iter().map(case_from_bytes))
        .chain(GENERATED_CASES.iter().map(case_from_generator))
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    let mut names: Vec<&str> = cases.iter().map(|case| case.name.as_str()).collect();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "two corpus cases share a name");
    cases
}

fn case_from_dir(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let expect = std::fs::read_to_string(dir.join("EXPECT")).unwrap_or_else(|_| panic!("{name} has no EXPECT"));
    let delete = std::fs::read_to_string(dir.join("DELETE")).unwrap_or_default();
    let secrets = std::fs::read_to_string(dir.join("SECRET")).unwrap_or_default();
    let mut files = Vec::new();
    collect_files(dir, Path::new(""), &mut files);
    files.retain(|(path, _)| {
        !["EXPECT", "DELETE", "SECRET"]
            .iter()
            .any(|name| path == Path::new(name))
    });
    Case {
        expect: expect.lines().next().unwrap_or_default().trim().to_string(),
        delete: delete
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(String::from)
            .collect(),
        secrets: secrets
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(String::from)
            .collect(),
        name,
        files,
        generated: false,
    }
}

fn case_from_bytes(case: &ByteCase) -> Case {
    Case {
        name: case.name.to_string(),
        files: vec![(PathBuf::from(case.path), case.bytes.to_vec())],
        delete: Vec::new(),
        expect: case.expect.to_string(),
        secrets: Vec::new(),
        generated: false,
    }
}

fn case_from_generator(case: &GeneratedCase) -> Case {
    Case {
        name: case.name.to_string(),
        files: vec![(PathBuf::from(case.path), (case.generate)())],
        delete: Vec::new(),
        expect: case.expect.to_string(),
        secrets: Vec::new(),
        generated: true,
    }
}

/// Every file under `dir`, as its path relative to the case folder and its bytes.
fn collect_files(dir: &Path, relative: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = relative.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            collect_files(&entry.path(), &path, files);
        } else {
            files.push((path, std::fs::read(entry.path()).unwrap()));
        }
    }
}

/// `_base` as a Git repository with one commit on `main`, made once per run: each case's
/// repository is a copy of it, so `diff --base HEAD` compares the case with `_base`.
fn base_git_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&corpus_dir().join("_base"), repo.path());
    git_init(repo.path());
    commit_all(repo.path(), "the base");
    repo
}

/// A temporary copy of `base` (a [`base_git_repo`]) with the case's deletions and files
/// applied in its working tree.
fn build_repo(case: &Case, base: &Path) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(base, repo.path());
    for path in &case.delete {
        let target = repo.path().join(path);
        let removed = if target.is_dir() {
            std::fs::remove_dir_all(&target)
        } else {
            std::fs::remove_file(&target)
        };
        removed.unwrap_or_else(|error| panic!("{}: cannot delete `{path}`: {error}", case.name));
    }
    for (path, bytes) in &case.files {
        let target = repo.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    repo
}

/// Checks the exit code and that the message names the expected place.
fn check_run(case: &Case, run: &Run) {
    let (code, severity) = if case.is_warning() {
        (0, "warning")
    } else {
        (2, "error")
    };
    assert_eq!(run.code, code, "{}: exit code\n{}", case.name, run.stderr);
    assert_eq!(run.stdout, "", "{}: validate writes nothing to stdout", case.name);
    let named = if case.expect == NOWHERE {
        run.stderr.lines().any(|line| line.starts_with("error: "))
    } else {
        run.stderr.contains(&format!("{}: {severity}: ", case.expect))
    };
    assert!(
        named,
        "{}: no {severity} at `{}`\n{}",
        case.name, case.expect, run.stderr
    );
}

/// The snapshot text: the exit code and stderr, with the temporary path and control
/// characters made stable and visible.
fn snapshot_text(run: &Run, repo: &Path) -> String {
    let stderr = run.stderr.replace(&repo.display().to_string(), "[REPO]");
    let visible: String = stderr
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("exit code: {}\n{visible}", run.code)
}

/// A generated case's report is bounded: at most 50 problems of its file are printed,
/// and no message or hint repeats a huge input (source lines are the excerpt's job).
fn check_bounded(case: &Case, run: &Run) {
    let problems = run.stderr.lines().filter(|line| line.contains(": error: ")).count();
    assert!(problems <= 50, "{}: {problems} problems printed", case.name);
    for line in run
        .stderr
        .lines()
        .filter(|line| !line.trim_start().starts_with(|c: char| c.is_ascii_digit()))
    {
        assert!(
            line.len() < 500,
            "{}: a {}-byte line: {:.200}…",
            case.name,
            line.len(),
            line
        );
    }
}

fn cut_lines(text: &str) -> String {
    text.lines()
        .map(|line| line.chars().take(SNAPSHOT_LINE_CHARS).collect::<String>() + "\n")
        .collect()
}

/// No credential of `secrets` in `text`, which is `what` of `case`.
fn check_no_secret(case: &Case, secrets: &[String], what: &str, text: &str) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{}: the credential `{secret}` reached {what}\n{text}",
            case.name
        );
    }
}

/// `render` and `render --stdout` print no credential and write none; a case with an
/// error renders nothing.
fn check_render_hides_secrets(case: &Case, repo: &Path, secrets: &[String]) {
    for args in [&["render", "--stdout"][..], &["render"][..]] {
        let run = workergen_within(repo, args, TIME_LIMIT);
        assert_eq!(
            run.code,
            if case.is_warning() { 0 } else { 2 },
            "{}: {args:?}\n{}",
            case.name,
            run.stderr
        );
        check_no_secret(case, secrets, &format!("the stdout of {args:?}"), &run.stdout);
        check_no_secret(case, secrets, &format!("the stderr of {args:?}"), &run.stderr);
    }
    let mut files = Vec::new();
    if repo.join("rendered").is_dir() {
        collect_files(&repo.join("rendered"), Path::new("rendered"), &mut files);
    }
    assert!(
        case.is_warning() || files.is_empty(),
        "{}: an error, and `render` wrote files",
        case.name
    );
    for (path, bytes) in files {
        check_no_secret(
            case,
            secrets,
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}

/// `diff` against `_base` in each format and `explain` of `_base`'s worker `build` print
/// no credential, whatever they make of the case (a change, or the case's errors), and
/// never fail for another reason than the input (exit 3) or crash.
fn check_diff_and_explain_hide_secrets(case: &Case, repo: &Path, secrets: &[String]) {
    let runs: [&[&str]; 4] = [
        &["diff", "--base", "HEAD", "--format", "text"],
        &["diff", "--base", "HEAD", "--format", "json"],
        &["diff", "--base", "HEAD", "--format", "markdown"],
        &["explain", "prod/eu-west-1/build"],
    ];
    for args in runs {
        let run = workergen_within(repo, args, TIME_LIMIT);
        assert!(
            [0, 1, 2].contains(&run.code),
            "{}: {args:?} exited {}\n{}",
            case.name,
            run.code,
            run.stderr
        );
        check_no_secret(case, secrets, &format!("the stdout of {args:?}"), &run.stdout);
        check_no_secret(case, secrets, &format!("the stderr of {args:?}"), &run.stderr);
    }
}

fn run_case(case: &Case, base: &Path, secrets: &[String]) {
    let repo = build_repo(case, base);
    let run = workergen_within(repo.path(), &["validate"], TIME_LIMIT);
    check_run(case, &run);
    check_no_secret(case, secrets, "the stdout of `validate`", &run.stdout);
    check_no_secret(case, secrets, "the stderr of `validate`", &run.stderr);
    if !case.generated {
        check_diff_and_explain_hide_secrets(case, repo.path(), secrets);
        check_render_hides_secrets(case, repo.path(), secrets);
    }
    let mut text = snapshot_text(&run, repo.path());
    let mut description = format!("expects {}", case.expect);
    if case.generated {
        check_bounded(case, &run);
        text = cut_lines(&text);
        description.push_str(&format!("; lines cut at {SNAPSHOT_LINE_CHARS} characters"));
    }
    insta::with_settings!({
        snapshot_suffix => case.name.as_str(),
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => description,
    }, {
        insta::assert_snapshot!("corpus", text);
    });
}

#[test]
fn the_base_validates() {
    let run = workergen(&corpus_dir().join("_base"), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "1 environment, 1 cluster, 2 workers: ok\n");
}

/// Every case runs, whichever fails: one assertion per fixture, the failures listed at the
/// end (each with its own message above). `insta::glob!` would collect only snapshot
/// mismatches, not a wrong exit code or place, and would rename the snapshots.
#[test]
fn every_bad_input_gets_its_message() {
    let cases = cases();
    assert!(cases.len() >= 24, "the corpus shrank to {} cases", cases.len());
    let secrets: Vec<String> = cases.iter().flat_map(|case| case.secrets.iter().cloned()).collect();
    let base = base_git_repo();
    // Cases are independent: run on every core, each thread taking the next case.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let mut failed: Vec<&str> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut failed = Vec::new();
                    while let Some(case) = cases.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                        let run = || run_case(case, base.path(), &secrets);
                        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
                            failed.push(case.name.as_str());
                        }
                    }
                    failed
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect()
    });
    failed.sort_unstable();
    assert!(
        failed.is_empty(),
        "{} of {} corpus cases failed (each message is above): {}",
        failed.len(),
        cases.len(),
        failed.join(", ")
    );
}
