//! `workergen propose` against real Git repositories in temp dirs: a bare remote and a
//! clone holding the example fleet with `rendered/` committed, driven and inspected with
//! the git CLI (never this crate's own history). Propose writes a branch (and pushes it);
//! the checkout itself — HEAD, index, working tree, other refs — must never change.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{copy_config, example_repo, workergen_env, Run};

/// The clone's `user.name <user.email>`.
const ALICE: &str = "Alice Platform <alice@example.com>";

/// Environment variables git reads that must come from the test, not from the caller.
const GIT_VARIABLES: [&str; 10] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_EXEC_PATH",
];

/// Keeps git and libgit2 away from the user's and the system's configuration.
fn isolated(home: &Path) -> [(&'static str, PathBuf); 3] {
    [
        ("HOME", home.to_path_buf()),
        ("XDG_CONFIG_HOME", home.to_path_buf()),
        ("GIT_CONFIG_NOSYSTEM", PathBuf::from("1")),
    ]
}

fn git_command(home: &Path, dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.current_dir(dir).envs(isolated(home)).stdin(Stdio::null());
    for name in GIT_VARIABLES {
        command.env_remove(name);
    }
    command
}

/// Runs git in `dir`; `None` when it fails.
fn try_git(home: &Path, dir: &Path, args: &[&str]) -> Option<String> {
    let output = git_command(home, dir).args(args).output().expect("git runs");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim_end().to_string())
}

/// Runs git in `dir` and returns its stdout, trimmed; panics when it fails.
fn git(home: &Path, dir: &Path, args: &[&str]) -> String {
    let output = git_command(home, dir).args(args).output().expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim_end().to_string()
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Every file under `dir` except `.git`, by relative path, with a hash of its bytes.
fn hash_files(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, u64>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            hash_files(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            out.insert(relative, hash(&std::fs::read(&path).unwrap()));
        }
    }
}

/// What propose must leave alone in a checkout.
#[derive(Debug, PartialEq, Eq)]
struct Checkout {
    head: String,
    symbolic_head: String,
    status: String,
    index: u64,
    config: u64,
    refs: Vec<String>,
    files: BTreeMap<PathBuf, u64>,
}

/// A bare remote `remote.git` and a clone of it, `clone/`, with the example fleet (in
/// `clone/<sub>`) and its `rendered/` committed on `main` and pushed.
struct Fixture {
    _temp: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
    remote: PathBuf,
    clone: PathBuf,
    /// The config repository: `clone/` or a folder of it.
    config: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        Self::with_config_in("")
    }

    fn with_config_in(sub: &str) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().canonicalize().unwrap();
        let (home, remote, clone) = (root.join("home"), root.join("remote.git"), root.join("clone"));
        std::fs::create_dir_all(&home).unwrap();
        git(&home, &root, &["init", "-q", "--bare", "-b", "main", "remote.git"]);
        git(&home, &root, &["init", "-q", "-b", "main", "clone"]);
        let fixture = Self {
            _temp: temp,
            config: clone.join(sub),
            root,
            home,
            remote,
            clone,
        };
        fixture.git(&["config", "user.name", "Alice Platform"]);
        fixture.git(&["config", "user.email", "alice@example.com"]);
        std::fs::create_dir_all(&fixture.config).unwrap();
        copy_config(&example_repo(), &fixture.config);
        let render = fixture.run(&["render"]);
        assert_eq!(render.code, 0, "{}", render.stderr);
        fixture.write("README.md", "# Workers\n");
        fixture.git(&["add", "-A"]);
        fixture.git(&["commit", "-q", "-m", "Workers, rendered"]);
        let remote = fixture.remote.to_str().unwrap().to_string();
        fixture.git(&["remote", "add", "origin", &remote]);
        fixture.git(&["push", "-q", "-u", "origin", "main"]);
        fixture
    }

    /// git in the clone.
    fn git(&self, args: &[&str]) -> String {
        git(&self.home, &self.clone, args)
    }

    /// `workergen -C <config> <args>`.
    fn run(&self, args: &[&str]) -> Run {
        workergen_env(&self.config, args, isolated(&self.home))
    }

    fn rev(&self, revision: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", revision])
    }

    fn has_ref(&self, name: &str) -> bool {
        try_git(&self.home, &self.clone, &["rev-parse", "--verify", "-q", name]).is_some()
    }

    /// The commit of `refs/heads/<branch>` in the bare remote.
    fn remote_rev(&self, branch: &str) -> Option<String> {
        let reference = format!("refs/heads/{branch}");
        try_git(&self.home, &self.remote, &["rev-parse", "--verify", "-q", &reference])
    }

    /// Writes a file of the clone (not committed).
    fn write(&self, path: &str, text: &str) {
        let path = self.clone.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Commits a new production default for `pollingConnectionCount` without rendering:
    /// it changes the values of the 8 enabled production workers.
    fn set_polling(&self, count: u32) {
        let path = self.config.join("environments/production/environment.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text
            .lines()
            .find(|line| line.trim_start().starts_with("pollingConnectionCount:"))
            .expect("the production environment sets pollingConnectionCount");
        let indent = &line[..line.len() - line.trim_start().len()];
        let text = text.replacen(line, &format!("{indent}pollingConnectionCount: {count}"), 1);
        std::fs::write(&path, text).unwrap();
        self.git(&[
            "commit",
            "-q",
            "-am",
            &format!("Production: {count} polling connections"),
        ]);
    }

    /// The local branches under `workergen/`.
    fn workergen_branches(&self) -> Vec<String> {
        let listing = self.git(&["for-each-ref", "--format=%(refname:short)", "refs/heads/workergen/"]);
        listing.lines().map(str::to_string).collect()
    }

    /// The checkout as propose must leave it; refs named in `except` are left out.
    fn checkout(&self, except: &[&str]) -> Checkout {
        let dot_git = self.clone.join(".git");
        // Read before `git status`, which must not refresh it either (no optional locks).
        let index = hash(&std::fs::read(dot_git.join("index")).unwrap());
        let refs = self.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);
        let mut files = BTreeMap::new();
        hash_files(&self.clone, &self.clone, &mut files);
        Checkout {
            head: self.rev("HEAD"),
            symbolic_head: self.git(&["symbolic-ref", "HEAD"]),
            status: self.git(&[
                "--no-optional-locks",
                "status",
                "--porcelain=v2",
                "--branch",
                "--untracked-files=all",
            ]),
            index,
            config: hash(&std::fs::read(dot_git.join("config")).unwrap()),
            refs: refs
                .lines()
                .filter(|line| !except.iter().any(|name| line.split(' ').next() == Some(*name)))
                .map(str::to_string)
                .collect(),
            files,
        }
    }
}

/// The branch of a run's `created branch B at …` line.
fn created_branch(run: &Run) -> String {
    let line = run
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("created branch "))
        .unwrap_or_else(|| panic!("no `created branch` in:\n{}", run.stderr));
    line.split(' ').next().unwrap().to_string()
}

fn assert_code(run: &Run, code: i32) {
    assert_eq!(run.code, code, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
}

/// The 8 values files of the production workers.
fn production_values() -> Vec<String> {
    let workers = [
        "ap-southeast-2/deploy",
        "ap-southeast-2/k8s-deploy",
        "eu-west-1/build-linux",
        "eu-west-1/db-migrations",
        "eu-west-1/deploy",
        "eu-west-1/smoke-tests",
        "us-east-1/aws-infra",
        "us-east-1/deploy",
    ];
    workers
        .iter()
        .map(|worker| format!("rendered/production/{worker}/values.yaml"))
        .collect()
}

#[test]
fn commits_the_fresh_render_on_a_new_branch_and_pushes_it() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    let head = fleet.rev("HEAD");
    let body_file = fleet.root.join("body.md");
    let run = fleet.run(&[
        "propose",
        "--push",
        "origin",
        "--body-file",
        body_file.to_str().unwrap(),
    ]);
    assert_code(&run, 0);
    let branch = created_branch(&run);
    let hex = branch
        .strip_prefix("workergen/")
        .expect("the default branch is workergen/<hash>");
    assert!(
        hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "{branch}"
    );
    assert!(
        run.stderr.contains(&format!("pushed {branch} to origin")),
        "{}",
        run.stderr
    );
    assert_eq!(fleet.workergen_branches(), std::slice::from_ref(&branch));

    let commit = fleet.rev(&branch);
    assert_eq!(fleet.remote_rev(&branch).as_deref(), Some(commit.as_str()));
    assert_eq!(fleet.rev(&format!("refs/remotes/origin/{branch}")), commit);
    let parents = fleet.git(&["log", "-1", "--format=%P", &branch]);
    assert_eq!(parents, head, "one parent: the base");

    let changed = fleet.git(&["diff", "--name-only", &head, &branch]);
    assert_eq!(changed.lines().collect::<Vec<_>>(), production_values());
    let values = fleet.git(&[
        "show",
        &format!("{branch}:rendered/production/eu-west-1/deploy/values.yaml"),
    ]);
    assert!(values.contains("  pollingConnectionCount: 12\n"), "{values}");
    let staging = fleet.git(&[
        "show",
        &format!("{branch}:rendered/staging/eu-west-1/deploy/values.yaml"),
    ]);
    assert!(staging.contains("  pollingConnectionCount: 2\n"), "{staging}");

    let subject = fleet.git(&["log", "-1", "--format=%s", &branch]);
    assert_eq!(subject, "workergen: update 8 workers in production");
    let message = fleet.git(&["log", "-1", "--format=%b", &branch]);
    assert!(message.contains("- production/eu-west-1/deploy (changed)"), "{message}");
    assert_eq!(
        message.lines().filter(|line| line.starts_with("- ")).count(),
        8,
        "{message}"
    );
    let people = fleet.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", &branch]);
    assert_eq!(people, format!("{ALICE}|{ALICE}"));

    let body = std::fs::read_to_string(&body_file).unwrap();
    assert!(body.starts_with("## workergen diff\n"), "{body}");
    assert!(body.contains("**0 added, 8 changed, 0 removed**"), "{body}");
    assert!(body.contains("`agent.pollingConnectionCount` `10` → `12`"), "{body}");
    assert!(run.stdout.is_empty(), "the body went to --body-file: {}", run.stdout);
}

#[test]
fn leaves_the_checkout_alone() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    // An uncommitted edit and an untracked file must survive as they are.
    fleet.write("README.md", "# Workers\n\nwork in progress\n");
    fleet.write("notes.txt", "untracked\n");
    let before = fleet.checkout(&[]);
    let body_file = fleet.root.join("body.md");
    let run = fleet.run(&[
        "propose",
        "--push",
        "origin",
        "--body-file",
        body_file.to_str().unwrap(),
    ]);
    assert_code(&run, 0);
    let branch = created_branch(&run);
    let (local, tracking) = (format!("refs/heads/{branch}"), format!("refs/remotes/origin/{branch}"));
    assert_eq!(fleet.checkout(&[&local, &tracking]), before);
    assert_eq!(
        git(&fleet.home, &fleet.clone, &["symbolic-ref", "HEAD"]),
        "refs/heads/main"
    );
}

#[test]
fn a_second_run_makes_no_new_commit() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    let first = fleet.run(&["propose", "--push", "origin"]);
    assert_code(&first, 0);
    let branch = created_branch(&first);
    let commit = fleet.rev(&branch);
    let before = fleet.checkout(&[]);

    let second = fleet.run(&["propose", "--push", "origin"]);
    assert_code(&second, 0);
    assert!(
        second.stderr.contains(&format!("unchanged: branch {branch}")),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("created branch"), "{}", second.stderr);
    assert_eq!(fleet.rev(&branch), commit);
    assert_eq!(fleet.remote_rev(&branch), Some(commit));
    assert_eq!(fleet.workergen_branches(), [branch]);
    assert!(second.stdout.starts_with("## workergen diff\n"), "{}", second.stdout);
    assert_eq!(fleet.checkout(&[]), before);
}

#[test]
fn an_up_to_date_revision_makes_no_branch() {
    let fleet = Fixture::new();
    let before = fleet.checkout(&[]);
    let run = fleet.run(&["propose", "--push", "origin"]);
    assert_code(&run, 0);
    assert!(run.stderr.contains("up to date"), "{}", run.stderr);
    assert!(run.stderr.contains("no branch"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let json = fleet.run(&["propose", "--output", "json"]);
    assert_code(&json, 0);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).expect("propose prints JSON");
    // The documented fields, also when nothing changed (#9).
    assert_eq!(
        document,
        serde_json::json!({
            "changed": false,
            "branch": null,
            "commit": null,
            "parent": fleet.rev("HEAD"),
            "created": false,
            "pushed": null,
            "body": "",
        })
    );

    assert!(fleet.workergen_branches().is_empty());
    let remote = git(&fleet.home, &fleet.remote, &["for-each-ref", "--format=%(refname)"]);
    assert_eq!(remote, "refs/heads/main");
    assert_eq!(fleet.checkout(&[]), before);
}

#[test]
fn an_existing_branch_is_replaced_only_with_force_and_a_fresh_lease() {
    const BRANCH: &str = "workers/update";
    let fleet = Fixture::new();
    fleet.set_polling(12);
    assert_code(&fleet.run(&["propose", "--branch", BRANCH, "--push", "origin"]), 0);
    let first = fleet.rev(BRANCH);

    fleet.set_polling(13);
    let refused = fleet.run(&["propose", "--branch", BRANCH]);
    assert_code(&refused, 2);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(fleet.rev(BRANCH), first);

    let forced = fleet.run(&["propose", "--branch", BRANCH, "--force", "--push", "origin"]);
    assert_code(&forced, 0);
    let second = fleet.rev(BRANCH);
    assert_ne!(second, first);
    assert_eq!(fleet.rev(&format!("{BRANCH}^")), fleet.rev("HEAD"));
    assert_eq!(fleet.remote_rev(BRANCH).as_deref(), Some(second.as_str()));
    assert_eq!(fleet.rev(&format!("refs/remotes/origin/{BRANCH}")), second);

    // Someone else pushes to the branch; the first clone does not fetch.
    let theirs = someone_else_pushes(&fleet, BRANCH);
    fleet.set_polling(14);
    let stale = fleet.run(&["propose", "--branch", BRANCH, "--force", "--push", "origin"]);
    assert_code(&stale, 3);
    assert!(stale.stderr.contains("someone else pushed"), "{}", stale.stderr);
    assert!(
        stale.stderr.contains(&theirs[..7]),
        "names the commit found: {}",
        stale.stderr
    );
    assert_eq!(fleet.remote_rev(BRANCH), Some(theirs));
}

/// Commits on `branch` in a second clone and pushes it; returns the new commit.
fn someone_else_pushes(fleet: &Fixture, branch: &str) -> String {
    let remote = fleet.remote.to_str().unwrap();
    git(&fleet.home, &fleet.root, &["clone", "-q", remote, "other"]);
    let other = fleet.root.join("other");
    git(&fleet.home, &other, &["checkout", "-q", branch]);
    let identity = ["-c", "user.name=Bob", "-c", "user.email=bob@example.com"];
    let commit = [&identity[..], &["commit", "-q", "--allow-empty", "-m", "Bob's fix"]].concat();
    git(&fleet.home, &other, &commit);
    git(&fleet.home, &other, &["push", "-q", "origin", branch]);
    git(&fleet.home, &other, &["rev-parse", "HEAD"])
}

#[test]
fn author_sets_author_and_committer() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    let bot = "Workers Bot <bot@example.com>";
    let run = fleet.run(&["propose", "--author", bot, "--branch", "by-bot"]);
    assert_code(&run, 0);
    let people = fleet.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", "by-bot"]);
    assert_eq!(people, format!("{bot}|{bot}"));

    for malformed in [
        "Workers Bot",
        "Workers Bot <bot@example.com",
        "<bot@example.com>",
        "Bot <>",
    ] {
        let run = fleet.run(&["propose", "--author", malformed, "--branch", "bad-author"]);
        assert_code(&run, 2);
        assert!(run.stderr.contains("--author"), "{malformed}: {}", run.stderr);
        assert!(!fleet.has_ref("refs/heads/bad-author"), "{malformed}");
    }
}

/// A `git daemon` serving the fixture's root, killed when dropped (also on panic).
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(fleet: &Fixture) -> Self {
        let exec_path = git(&fleet.home, &fleet.root, &["--exec-path"]);
        let program = Path::new(&exec_path).join("git-daemon");
        assert!(
            program.is_file(),
            "`git daemon` is missing: no {} (install git's daemon, e.g. the `git-daemon-run` package)",
            program.display()
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&program)
            .args([
                "--export-all",
                "--enable=receive-pack",
                "--reuseaddr",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--base-path={}", fleet.root.display()))
            .arg(format!("--port={port}"))
            .current_dir(&fleet.root)
            .envs(isolated(&fleet.home))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let mut daemon = Self { child, port };
        daemon.wait_until_listening();
        daemon
    }

    fn wait_until_listening(&mut self) {
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("git daemon exited before listening on {address}: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "git daemon does not listen on {address} after 5 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn pushes_over_the_git_protocol() {
    let fleet = Fixture::new();
    let daemon = Daemon::start(&fleet);
    fleet.git(&[
        "remote",
        "add",
        "daemon",
        &format!("git://127.0.0.1:{}/remote.git", daemon.port),
    ]);
    fleet.set_polling(12);
    let run = fleet.run(&["propose", "--push", "daemon"]);
    assert_code(&run, 0);
    let branch = created_branch(&run);
    assert!(
        run.stderr.contains(&format!("pushed {branch} to daemon")),
        "{}",
        run.stderr
    );
    assert_eq!(fleet.remote_rev(&branch), Some(fleet.rev(&branch)));
    drop(daemon);
}

#[test]
fn json_output_describes_the_commit() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    let run = fleet.run(&["propose", "--output", "json"]);
    assert_code(&run, 0);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).expect("propose prints JSON");
    assert_eq!(document["changed"], true);
    assert_eq!(document["created"], true);
    assert_eq!(document["pushed"], serde_json::Value::Null);
    let branch = document["branch"].as_str().expect("branch");
    let commit = document["commit"].as_str().expect("commit");
    assert!(
        commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{commit}"
    );
    assert_eq!(fleet.rev(branch), commit);
    assert_eq!(document["parent"], fleet.rev("HEAD"));
    let body = document["body"].as_str().expect("body");
    assert!(body.starts_with("## workergen diff\n"), "{body}");
}

#[test]
fn a_config_repository_in_a_subfolder_replaces_only_its_rendered_folder() {
    let fleet = Fixture::with_config_in("config");
    // Outside the config repository: a top-level `rendered/`, even with the marker.
    fleet.write("rendered/keep.txt", "not workergen's\n");
    fleet.write(
        "rendered/old.yaml",
        "# Generated by workergen from elsewhere. Do not edit.\n",
    );
    // Inside its output folder, a file workergen did not write: kept.
    fleet.write("config/rendered/NOTES.md", "# Notes\n");
    fleet.git(&["add", "-A"]);
    fleet.git(&["commit", "-q", "-m", "Other files"]);
    fleet.set_polling(12);
    let head = fleet.rev("HEAD");

    let run = fleet.run(&["propose"]);
    assert_code(&run, 0);
    let branch = created_branch(&run);
    let changed = fleet.git(&["diff", "--name-only", &head, &branch]);
    let expected: Vec<String> = production_values()
        .iter()
        .map(|path| format!("config/{path}"))
        .collect();
    assert_eq!(changed.lines().collect::<Vec<_>>(), expected);
    for kept in [
        "README.md",
        "rendered/keep.txt",
        "rendered/old.yaml",
        "config/rendered/NOTES.md",
    ] {
        assert_eq!(
            fleet.rev(&format!("{branch}:{kept}")),
            fleet.rev(&format!("{head}:{kept}")),
            "{kept}"
        );
    }
}

#[test]
fn never_moves_a_checked_out_branch() {
    let fleet = Fixture::new();
    let worktree = fleet.root.join("worktree");
    fleet.git(&["worktree", "add", "-q", "-b", "in-worktree", worktree.to_str().unwrap()]);
    fleet.set_polling(12);
    for branch in ["main", "in-worktree"] {
        let before = (fleet.rev(branch), fleet.checkout(&[]));
        let run = fleet.run(&["propose", "--branch", branch, "--force"]);
        assert_code(&run, 2);
        assert!(run.stderr.contains("checked out"), "{branch}: {}", run.stderr);
        assert_eq!((fleet.rev(branch), fleet.checkout(&[])), before, "{branch}");
    }
}

/// Issue 9: what propose can check, it checks before the branch exists; a failure after
/// it (the push) puts the branch back; libgit2's errors come with a hint in words.
#[test]
fn issue_9_a_failed_push_leaves_no_branch_behind() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    let missing = fleet.root.join("missing.git");
    fleet.git(&["remote", "add", "broken", missing.to_str().unwrap()]);
    let before = fleet.checkout(&[]);
    let run = fleet.run(&["propose", "--push", "broken", "--branch", "pushed-nowhere"]);
    assert_code(&run, 3);
    assert!(!fleet.has_ref("refs/heads/pushed-nowhere"), "{}", run.stderr);
    assert!(run.stderr.contains("  hint: "), "{}", run.stderr);
    assert!(!run.stderr.contains("class="), "{}", run.stderr);
    assert_eq!(fleet.checkout(&[]), before);

    // A replaced branch is moved back where it was.
    let first = fleet.run(&["propose", "--branch", "replaced"]);
    assert_code(&first, 0);
    let old = fleet.rev("refs/heads/replaced");
    fleet.set_polling(13);
    let run = fleet.run(&["propose", "--push", "broken", "--branch", "replaced", "--force"]);
    assert_code(&run, 3);
    assert_eq!(fleet.rev("refs/heads/replaced"), old, "{}", run.stderr);
}

/// A host that refuses the connection is said to be unreachable, with the remote's URL
/// and the network to check: nothing is wrong with the local `.git` folder.
#[test]
fn an_unreachable_remote_host_is_said_to_be_unreachable() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    // A port that was free a moment ago: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fleet.git(&["remote", "add", "far", &format!("http://127.0.0.1:{port}/workers.git")]);
    let run = fleet.run(&["propose", "--push", "far", "--branch", "pushed-nowhere"]);
    assert_code(&run, 3);
    assert!(
        run.stderr.contains("error: cannot reach the remote `far`: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("  hint: the remote's host could not be reached: check the remote's URL (`git remote -v`) and the network\n"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("writable"), "{}", run.stderr);
    assert!(!fleet.has_ref("refs/heads/pushed-nowhere"), "{}", run.stderr);
}

#[test]
fn issue_9_an_unknown_remote_or_unwritable_body_file_stops_before_the_branch() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    let before = fleet.checkout(&[]);
    let run = fleet.run(&["propose", "--push", "upstream", "--branch", "no-remote"]);
    assert_code(&run, 2);
    assert!(
        run.stderr.contains("error: no remote `upstream`; there are: origin"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("  hint: "), "{}", run.stderr);
    assert!(!fleet.has_ref("refs/heads/no-remote"));

    let body = fleet.root.join("no/such/folder/body.md");
    let run = fleet.run(&["propose", "--body-file", body.to_str().unwrap(), "--branch", "no-body"]);
    assert_code(&run, 3);
    assert!(run.stderr.contains("cannot write the PR body to"), "{}", run.stderr);
    assert!(run.stderr.contains("  hint: "), "{}", run.stderr);
    assert!(!fleet.has_ref("refs/heads/no-body"));

    let run = fleet.run(&["propose", "--branch", "bad..name"]);
    assert_code(&run, 2);
    assert!(run.stderr.contains("not a valid branch name"), "{}", run.stderr);
    assert_eq!(fleet.checkout(&[]), before);

    // A body file that can be written is written, and no temporary file stays beside it.
    let body = fleet.root.join("body.md");
    let run = fleet.run(&[
        "propose",
        "--body-file",
        body.to_str().unwrap(),
        "--branch",
        "with-body",
    ]);
    assert_code(&run, 0);
    assert!(std::fs::read_to_string(&body).unwrap().contains("production"));
    let beside: Vec<_> = std::fs::read_dir(&fleet.root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("body.md"))
        .collect();
    assert_eq!(beside, ["body.md"]);
}

#[test]
fn issue_9_no_author_is_said_in_words_before_the_branch() {
    let fleet = Fixture::new();
    fleet.set_polling(12);
    fleet.git(&["config", "--unset", "user.name"]);
    fleet.git(&["config", "--unset", "user.email"]);
    let run = fleet.run(&["propose", "--branch", "nobody"]);
    assert_code(&run, 3);
    assert!(run.stderr.contains("error: no author: "), "{}", run.stderr);
    assert!(!run.stderr.contains("class="), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: set `user.name` and `user.email`"),
        "{}",
        run.stderr
    );
    assert!(!fleet.has_ref("refs/heads/nobody"));
}

/// A cluster file deleted while its committed folder still installs workers: propose,
/// like render, refuses to commit the folder's deletion (the two-step retirement), and
/// makes no branch; `--force` proposes it.
#[test]
fn a_deleted_cluster_file_whose_folder_installs_workers_is_refused() {
    let fleet = Fixture::new();
    fleet.git(&["rm", "--quiet", "environments/production/us-east-1.yaml"]);
    fleet.git(&["commit", "--quiet", "-m", "retire us-east-1 in one step"]);
    let run = fleet.run(&["propose"]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("`rendered/production/us-east-1` (aws-infra, deploy, terraform) is gone, but its folder still installs workers"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: retire in two changes"), "{}", run.stderr);
    assert!(fleet.workergen_branches().is_empty());
    let forced = fleet.run(&["propose", "--force"]);
    assert_code(&forced, 0);
    assert_eq!(fleet.workergen_branches().len(), 1);
}
