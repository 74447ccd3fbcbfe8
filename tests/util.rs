//! Test plumbing: config repositories in temp dirs and a fluent way to run workergen.

#![allow(dead_code)] // each test file uses its own part of the plumbing

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
    let output = Command::new(env!("CARGO_BIN_EXE_workergen"))
        .arg("-C")
        .arg(dir)
        .arg("--color")
        .arg("never")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("workergen runs");
    Run::from_output(output)
}
