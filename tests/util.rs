//! Test plumbing: config repositories in temp dirs and a fluent way to run workergen.

#![allow(dead_code)] // each test file uses its own part of the plumbing

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example config repository at the root of this crate.
pub fn example_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Copies the files `workergen.yaml` and `environments/` of `from` into `to`.
pub fn copy_config(from: &Path, to: &Path) {
    std::fs::copy(from.join("workergen.yaml"), to.join("workergen.yaml")).unwrap();
    copy_dir(&from.join("environments"), &to.join("environments"));
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A run of the workergen binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `workergen -C dir --color never <args>`.
pub fn workergen(dir: &Path, args: &[&str]) -> Run {
    workergen_env(dir, args, std::iter::empty::<(&str, &str)>())
}

/// Runs `workergen -C dir --color never <args>` with extra environment variables.
pub fn workergen_env<K, V>(dir: &Path, args: &[&str], envs: impl IntoIterator<Item = (K, V)>) -> Run
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_workergen"))
        .arg("-C")
        .arg(dir)
        .arg("--color")
        .arg("never")
        .args(args)
        .env_remove("NO_COLOR")
        .envs(envs)
        .output()
        .expect("workergen runs");
    Run::from_output(output)
}

/// Runs `git <args>` in `dir` with a fixed identity and date, no user or system
/// configuration, and no inherited repository variables; panics unless it succeeds.
/// Returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2025-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-01-01T00:00:00Z")
        // `git status` must not refresh the index behind a test's back.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `git init -b main` in `dir`.
pub fn git_init(dir: &Path) {
    git(dir, &["init", "--quiet", "-b", "main"]);
}

/// Stages everything and commits it; returns the new commit's id.
pub fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "--all"]);
    git(dir, &["commit", "--quiet", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

/// A Git repository in a temp dir whose one commit, on `main`, is the example fleet.
pub fn example_git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    copy_config(&example_repo(), dir.path());
    commit_all(dir.path(), "the example fleet");
    dir
}

/// Replaces the one occurrence of `from` in the file at `path` with `to`; panics when
/// `from` is absent or not unique, so an edit of the example fleet never goes unnoticed.
pub fn replace_once(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` should occur once in {}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The 1-based line and column where `needle` starts in the file at `path`; it must
/// occur once.
pub fn position_of(path: &Path, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(needle).count(),
        1,
        "`{needle}` should occur once in {}",
        path.display()
    );
    let offset = text.find(needle).unwrap();
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    (line, column)
}
