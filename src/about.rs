//! What the binary prints about itself rather than about a config repository: the JSON
//! schemas of the declarations, shell completions and the man page.

use anyhow::Context as _;

use crate::cli::{Cli, SchemaArgs, SchemaFile};
use crate::console::write_stdout;
use crate::failure::{Failure, Outcome};

pub fn schema(args: &SchemaArgs) -> Result<Outcome, Failure> {
    let mut schemas = crate::decl::schemas();
    if let Some(file) = args.file {
        let name = match file {
            SchemaFile::Workergen => "workergen.schema.json",
            SchemaFile::Environment => "environment.schema.json",
            SchemaFile::Cluster => "cluster.schema.json",
        };
        schemas.retain(|(n, _)| *n == name);
    }
    if let Some(dir) = &args.write {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        for (name, text) in &schemas {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        return Ok(Outcome::Success);
    }
    let text = if args.file.is_some() {
        schemas.pop().map(|(_, text)| text).unwrap_or_default()
    } else {
        let all: serde_json::Map<String, serde_json::Value> = schemas
            .into_iter()
            .map(|(name, text)| Ok((name.to_string(), serde_json::from_str(&text)?)))
            .collect::<anyhow::Result<_>>()?;
        format!("{:#}\n", serde_json::Value::Object(all))
    };
    write_stdout(&text)?;
    Ok(Outcome::Success)
}

pub fn completions(shell: clap_complete::Shell) -> Result<Outcome, Failure> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "workergen", &mut out);
    write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Success)
}

pub fn man() -> Result<Outcome, Failure> {
    write_stdout(&man_page()?)?;
    Ok(Outcome::Success)
}

/// The man page: clap's sections, then the commands (one page: there are no
/// `workergen-<command>(1)` pages to point at), exit status and environment.
fn man_page() -> anyhow::Result<String> {
    let command = <Cli as clap::CommandFactory>::command();
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut text = String::from_utf8(out)?;
    text.push_str(".SH COMMANDS\n");
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        text.push_str(&format!(".TP\n\\fBworkergen {}\\fR\n", roff_escape(sub.get_name())));
        if let Some(about) = sub.get_about() {
            text.push_str(&format!("{}\n", roff_escape(&about.to_string())));
        }
    }
    text.push_str(".PP\nRun \\fBworkergen help\\fR \\fICOMMAND\\fR for a command's options.\n");
    text.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in [
        ("0", "success (`diff` without `--exit-code` exits 0 whatever it finds)"),
        (
            "1",
            "changes found (`diff --exit-code`, `check`); findings (`status --exit-code`)",
        ),
        ("2", "invalid input or usage"),
        (
            "3",
            "I/O, Git or internal failure; for `status`, an Octopus API or network failure",
        ),
    ] {
        text.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_escape(meaning)));
    }
    text.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in [
        ("NO_COLOR", "when set and not empty, `--color auto` colours nothing"),
        ("WORKERGEN_GIT_TOKEN", "a token for `propose --push` to https remotes"),
        (
            "WORKERGEN_GIT_USERNAME",
            "the user name to pair with the token (default `x-access-token`)",
        ),
        (
            "OCTOPUS_API_KEY",
            "the Octopus API key for `status`, unless an environment's `octopus.apiKeyEnv` names another variable (or `octopus.accessTokenEnv` one holding an access token, sent as a bearer token)",
        ),
        (
            "WORKERGEN_HTTP_MAX_BODY_MB",
            "the largest `workers/all` answer `status` reads, in megabytes (default 100)",
        ),
        (
            "WORKERGEN_HTTP_TIMEOUT",
            "seconds per Octopus API request for `status` (default 30)",
        ),
        (
            "SSL_CERT_FILE",
            "PEM certificates `status` trusts instead of its built-in roots",
        ),
    ] {
        text.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_escape(name),
            roff_escape(meaning)
        ));
    }
    let mut out = Vec::new();
    man.render_version_section(&mut out)?;
    text.push_str(&String::from_utf8(out)?);
    Ok(text)
}

/// Text for a roff line: backslashes and hyphens escaped, no control character first.
fn roff_escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
