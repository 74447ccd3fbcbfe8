//! Command-line arguments: what the user typed, nothing more.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::decl::Engine;

/// Declare Octopus Deploy Kubernetes Workers in Git; render their Helm values and the
/// Argo CD or Flux objects that deploy them.
#[derive(Debug, Parser)]
#[command(name = "workergen", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Run in the config repository at DIR instead of the current folder.
    #[arg(short = 'C', value_name = "DIR", global = true, default_value = ".")]
    pub(crate) directory: PathBuf,
    /// When to colour messages; `auto` honours `NO_COLOR` and colours only terminals.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Print more: what was read and written.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Load and check every declaration; render nothing.
    Validate(ScopeArgs),
    /// Write the rendered tree (Helm values and GitOps manifests), or print it.
    Render(RenderArgs),
    /// Show what a change does, per worker and key path, against a Git revision.
    Diff(DiffArgs),
    /// Fail when `rendered/` on disk differs from a fresh render (for CI).
    Check(ScopeArgs),
    /// Commit the re-rendered tree on a branch (built in memory) and write the PR body.
    Propose(ProposeArgs),
    /// Show a worker's effective values and manifest, and which file:line set each.
    Explain(ExplainArgs),
    /// Scaffold a new config repository here (never overwrites).
    Init(InitArgs),
    /// Print (or write) the JSON Schemas of the declaration files, for editors.
    Schema(SchemaArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
    /// Compare the declared workers with what Octopus has registered; fix what Helm cannot.
    Status(StatusArgs),
    /// Write the fleet page: chart versions, images, pools, script-pod sums and every
    /// worker's effective fields with their file:line, as one HTML file (or markdown, JSON).
    Report(ReportArgs),
    /// Declarations from existing installs (`helm get values -o yaml` outputs or wizard
    /// command lines), checked to render the values the releases run with.
    Import(ImportArgs),
    /// Vendor chart versions into `charts/`, locked by digest in `workergen.lock`.
    #[command(subcommand)]
    Chart(ChartCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChartCommand {
    /// Fetch chart versions from `chart.repository` (OCI) into `charts/<name>-<version>.tgz`
    /// and record their digests in `workergen.lock`; a version already vendored with the
    /// locked bytes is left as it is, without the network.
    Pull(ChartPullArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ChartPullArgs {
    /// The versions to pull (default: every version the declarations use).
    #[arg(value_name = "VERSION")]
    pub(crate) versions: Vec<String>,
    /// Talk plain HTTP to a registry on this machine (127.0.0.1, localhost).
    #[arg(long)]
    pub(crate) plain_http: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The environment to import into (`environments/ENV/`).
    #[arg(long = "env", value_name = "ENV")]
    pub(crate) environment: String,
    /// The cluster to import into (`environments/ENV/CLUSTER.yaml`).
    #[arg(long, value_name = "CLUSTER", required_unless_present = "from_octopus")]
    pub(crate) cluster: Option<String>,
    /// Replace workers already declared in the cluster file.
    #[arg(long)]
    pub(crate) force: bool,
    /// The Secret that will hold the credential, when the environment names none
    /// [default: `octopus-worker-token`, `octopus-worker-api-key` or `octopus-worker-credentials`].
    // The doc comment is the `--help` text: `[default: ..]` is clap's convention, not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "NAME")]
    pub(crate) secret_name: Option<String>,
    /// Check and print the files instead of writing them.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// The chart version the `helm get values` inputs were installed with (`helm list`
    /// shows it); a command line's `--version` says it itself [default: the cluster's].
    // The doc comment is the `--help` text: `[default: ..]` is clap's convention, not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "VERSION")]
    pub(crate) installed_version: Option<String>,
    /// The chart the installs ran (a folder or a `.tgz`, as `helm pull --version V`
    /// saves it): each worker's manifests are then rendered by Helm from the install's
    /// values and from the declared ones, and must be the same.
    #[arg(long, value_name = "PATH")]
    pub(crate) chart: Option<PathBuf>,
    /// `helm get values -o yaml RELEASE` outputs saved as `<release>.yaml`, or files
    /// holding the wizard's `helm upgrade --install ...` command.
    #[arg(value_name = "FILE", required_unless_present = "from_octopus")]
    pub(crate) files: Vec<PathBuf>,
    /// Only list the Kubernetes workers ENV's Octopus space has registered (release,
    /// namespace, pools, declared or not) and how to save their values; writes nothing.
    #[arg(long, conflicts_with_all = ["cluster", "files", "force", "secret_name", "dry_run", "installed_version", "chart"])]
    pub(crate) from_octopus: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExplainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The worker, as `<env>/<cluster>/<worker>`.
    #[arg(value_name = "ENV/CLUSTER/WORKER")]
    pub(crate) worker: String,
    /// Only this key path and what is below it, e.g. `scriptPods.resources`.
    #[arg(value_name = "KEY")]
    pub(crate) key: Option<String>,
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub(crate) format: ExplainFormat,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The GitOps engine to set up.
    #[arg(long, value_enum, default_value_t = Engine::Flux)]
    pub(crate) engine: Engine,
    /// You accept the Octopus customer agreement (https://octopus.com/company/customer-agreement).
    // The doc comment is the `--help` text, where a bare URL reads best.
    #[allow(rustdoc::bare_urls)]
    #[arg(long)]
    pub(crate) accept_eula: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemaFile {
    Workergen,
    Environment,
    Cluster,
}

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// Only this file's schema [default: all three, as one JSON object by file name].
    #[arg(value_enum)]
    pub(crate) file: Option<SchemaFile>,
    /// Write the schema files (`workergen.schema.json`, `environment.schema.json` and
    /// `cluster.schema.json`, or only the one named) into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub(crate) write: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProposeOutput {
    /// The PR body on stdout (or in `--body-file`).
    Text,
    /// `{branch, commit, parent, created, pushed, body}` on stdout.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ProposeArgs {
    /// The revision whose declarations are rendered and which becomes the parent.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub(crate) base: String,
    /// The branch to create [default: `workergen/<short hash of the rendered tree>`].
    // The doc comment is the `--help` text: `[default: ..]` is clap's convention, not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "BRANCH")]
    pub(crate) branch: Option<String>,
    /// Author and committer, as `Name <email>` [default: from git config].
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub(crate) author: Option<String>,
    /// Write the PR body (markdown) to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ProposeOutput::Text)]
    pub(crate) output: ProposeOutput,
    /// Push the branch to this remote (`WORKERGEN_GIT_TOKEN` serves https remotes in CI).
    #[arg(long, value_name = "REMOTE")]
    pub(crate) push: Option<String>,
    /// Replace an existing branch (pushed with force-with-lease), and files in the way.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// Key paths, then unified diffs of the values files.
    Text,
    /// A pull-request body or comment (at most 65,536 characters).
    Markdown,
    /// A stable, versioned document (docs/diff-json.md).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The revision to compare with [default: the merge-base of HEAD and the branch's
    /// upstream, else `origin/main`, else `main`].
    #[arg(long, value_name = "REV")]
    pub(crate) base: Option<String>,
    /// Compare this revision instead of the working tree.
    #[arg(long, value_name = "REV")]
    pub(crate) head: Option<String>,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub(crate) format: DiffFormat,
    /// Exit 1 when there are changes, 0 when there are none.
    #[arg(long)]
    pub(crate) exit_code: bool,
    /// Treat a base without `workergen.yaml` as empty: every worker is added.
    #[arg(long)]
    pub(crate) allow_empty_base: bool,
    #[command(flatten)]
    pub(crate) scope: ScopeArgs,
}

/// `--env` and `--cluster`: a part of the fleet. Problems in files outside it do not
/// stop the command, unless they collide with it (the Argo CD plugin renders one
/// Application's part). An empty value means all, so `--cluster "$ARGOCD_ENV_CLUSTER"`
/// works with the variable unset.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ScopeArgs {
    /// Only this environment (`""`: all).
    #[arg(long, value_name = "ENV")]
    pub(crate) env: Option<String>,
    /// Only this cluster, with `--env` or of every environment (`""`: all).
    #[arg(long, value_name = "CLUSTER")]
    pub(crate) cluster: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusFormat {
    /// For a terminal: per environment and cluster, the problems first.
    Text,
    /// A CI comment or issue body (at most 65,536 characters).
    Markdown,
    /// A stable, versioned document (docs/status-json.md).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Only this environment.
    #[arg(long, value_name = "ENV")]
    pub(crate) env: Option<String>,
    /// Only this cluster's workers (orphans are then not reported).
    #[arg(long, value_name = "CLUSTER")]
    pub(crate) cluster: Option<String>,
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub(crate) format: StatusFormat,
    /// Exit 1 when anything is found (and not fixed by `--apply` / `--prune`).
    #[arg(long)]
    pub(crate) exit_code: bool,
    /// Set the worker pools and machine policy of registered declared workers in Octopus.
    #[arg(long)]
    pub(crate) apply: bool,
    /// Delete orphaned workers (registered, declared nowhere) from Octopus; those that
    /// are Healthy only with `--force`.
    #[arg(long)]
    pub(crate) prune: bool,
    /// With `--prune`: delete Healthy orphans too (an agent that still runs somewhere).
    #[arg(long, requires = "prune")]
    pub(crate) force: bool,
    /// Print the writes `--apply` and `--prune` would make, and make none.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub(crate) format: ReportFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Only this environment (`""`: all).
    #[arg(long, value_name = "ENV")]
    pub(crate) env: Option<String>,
    /// Only this cluster, with `--env` or of every environment (`""`: all).
    #[arg(long, value_name = "CLUSTER")]
    pub(crate) cluster: Option<String>,
    /// Ask Octopus (as `status` does, reading only) for each worker's health, version
    /// and findings; needs the environments' API keys.
    #[arg(long)]
    pub(crate) status: bool,
}

impl From<&ReportArgs> for ScopeArgs {
    fn from(args: &ReportArgs) -> Self {
        Self {
            env: args.env.clone(),
            cluster: args.cluster.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// One self-contained page: no network, readable without scripts, printable.
    Html,
    /// A CI job summary or a pinned issue.
    Markdown,
    /// A stable, versioned document (docs/report-json.md).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub(crate) scope: ScopeArgs,
    /// Write all objects as one multi-document YAML stream to stdout, values inlined.
    #[arg(long)]
    pub(crate) stdout: bool,
    /// Replace files in the output folder that workergen did not write.
    #[arg(long)]
    pub(crate) force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = Cli::try_parse_from(["workergen", "validate", "-C", "repo", "--color", "never", "-q"]).unwrap();
        assert_eq!(cli.global.directory, PathBuf::from("repo"));
        assert_eq!(cli.global.color, ColorChoice::Never);
        assert!(cli.global.quiet);
        assert!(matches!(cli.command, Command::Validate(_)));
    }

    #[test]
    fn diff_takes_revisions_and_a_format() {
        let cli = Cli::try_parse_from([
            "workergen",
            "diff",
            "--base",
            "main",
            "--format",
            "markdown",
            "--exit-code",
        ])
        .unwrap();
        let Command::Diff(args) = cli.command else {
            panic!("diff")
        };
        assert_eq!(args.base.as_deref(), Some("main"));
        assert_eq!(args.format, DiffFormat::Markdown);
        assert!(args.exit_code && !args.allow_empty_base && args.head.is_none());
        assert!(Cli::try_parse_from(["workergen", "diff", "--format", "html"]).is_err());
    }

    #[test]
    fn explain_takes_a_worker_and_a_key() {
        let cli = Cli::try_parse_from([
            "workergen",
            "explain",
            "prod/eu/build",
            "agent.name",
            "--format",
            "json",
        ])
        .unwrap();
        let Command::Explain(args) = cli.command else {
            panic!("explain")
        };
        assert_eq!(args.worker, "prod/eu/build");
        assert_eq!(args.key.as_deref(), Some("agent.name"));
        assert_eq!(args.format, ExplainFormat::Json);
    }

    #[test]
    fn import_takes_env_cluster_and_files() {
        let cli = Cli::try_parse_from([
            "workergen",
            "import",
            "--env",
            "production",
            "--cluster",
            "eu",
            "--secret-name",
            "token",
            "--force",
            "a.yaml",
            "b.sh",
        ])
        .unwrap();
        let Command::Import(args) = cli.command else {
            panic!("import")
        };
        assert_eq!(
            (args.environment.as_str(), args.cluster.as_deref()),
            ("production", Some("eu"))
        );
        assert_eq!(args.secret_name.as_deref(), Some("token"));
        assert!(args.force && !args.dry_run && args.installed_version.is_none());
        assert_eq!(args.files, [PathBuf::from("a.yaml"), PathBuf::from("b.sh")]);
        // The files and both names are required.
        assert!(Cli::try_parse_from(["workergen", "import", "--env", "p", "--cluster", "c"]).is_err());
        assert!(Cli::try_parse_from(["workergen", "import", "--env", "p", "a.yaml"]).is_err());
        // Listing needs neither, and takes neither.
        let listing = Cli::try_parse_from(["workergen", "import", "--env", "p", "--from-octopus"]).unwrap();
        assert!(matches!(listing.command, Command::Import(args) if args.from_octopus));
        assert!(Cli::try_parse_from(["workergen", "import", "--env", "p", "--from-octopus", "a.yaml"]).is_err());
    }

    #[test]
    fn init_and_completions() {
        let cli = Cli::try_parse_from(["workergen", "init", "--engine", "argocd", "--accept-eula"]).unwrap();
        let Command::Init(args) = cli.command else {
            panic!("init")
        };
        assert!(args.accept_eula && args.engine == Engine::Argocd);
        assert!(Cli::try_parse_from(["workergen", "completions", "zsh"]).is_ok());
        assert!(Cli::try_parse_from(["workergen", "completions", "tcsh"]).is_err());
    }

    #[test]
    fn quiet_and_verbose_conflict() {
        assert!(Cli::try_parse_from(["workergen", "-q", "-v", "validate"]).is_err());
    }

    #[test]
    fn status_takes_scope_format_and_write_flags() {
        let cli = Cli::try_parse_from([
            "workergen",
            "status",
            "--env",
            "production",
            "--format",
            "markdown",
            "--exit-code",
            "--apply",
            "--prune",
        ])
        .unwrap();
        let Command::Status(args) = cli.command else {
            panic!("status")
        };
        assert_eq!(args.env.as_deref(), Some("production"));
        assert_eq!(args.format, StatusFormat::Markdown);
        assert!(args.exit_code && args.apply && args.prune && args.cluster.is_none());
        let Command::Status(args) = Cli::try_parse_from(["workergen", "status"]).unwrap().command else {
            panic!("status")
        };
        assert!(!args.apply && !args.prune && args.format == StatusFormat::Text);
        assert!(!args.force && !args.dry_run);
        assert!(
            Cli::try_parse_from(["workergen", "status", "--force"]).is_err(),
            "`--force` only with `--prune`"
        );
        let Command::Status(args) = Cli::try_parse_from(["workergen", "status", "--prune", "--force", "--dry-run"])
            .unwrap()
            .command
        else {
            panic!("status")
        };
        assert!(args.prune && args.force && args.dry_run);
    }

    #[test]
    fn render_takes_scope_and_stdout() {
        let cli = Cli::try_parse_from([
            "workergen",
            "render",
            "--env",
            "production",
            "--cluster",
            "eu-west-1",
            "--stdout",
        ])
        .unwrap();
        let Command::Render(args) = cli.command else {
            panic!("render")
        };
        assert_eq!(args.scope.env.as_deref(), Some("production"));
        assert_eq!(args.scope.cluster.as_deref(), Some("eu-west-1"));
        assert!(args.stdout && !args.force);
    }

    #[test]
    fn check_validate_and_diff_take_a_scope() {
        for command in ["check", "validate", "diff"] {
            let cli = Cli::try_parse_from(["workergen", command, "--env", "staging", "--cluster", ""]).unwrap();
            let scope = match cli.command {
                Command::Check(scope) | Command::Validate(scope) => scope,
                Command::Diff(args) => args.scope,
                _ => panic!("{command}"),
            };
            assert_eq!(scope.env.as_deref(), Some("staging"));
            assert_eq!(scope.cluster.as_deref(), Some(""));
        }
    }
}
