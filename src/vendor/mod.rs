//! Vendored charts: `workergen chart pull` fetches `kubernetes-agent` versions from
//! `chart.repository` into `charts/<name>-<version>.tgz` (the registry's chart layer,
//! byte for byte) and records their digests in `workergen.lock`; [`verify`] checks the
//! vendored bytes against the lock without the network.
//!
//! A registry that answers other bytes for a locked version is refused, never taken:
//! the lock is what was reviewed, as Cargo treats a checksum mismatch.

pub(crate) mod archive;
pub(crate) mod auth;
pub(crate) mod lock;
pub(crate) mod oci;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::failure::{Failure, Outcome};
use crate::model::Fleet;
use lock::{Entry, Lock};

/// The folder of the vendored charts, in the config repository.
pub(crate) const FOLDER: &str = "charts";

/// Why a pull or a check stopped.
#[derive(Debug)]
pub(crate) struct VendorError {
    kind: Kind,
    message: String,
    hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The input or the registry's answer is at fault (exit 2).
    Input,
    /// Bytes that do not match their digest (exit 2: the lock or the registry is wrong).
    Mismatch,
    /// The network or the machine (exit 3).
    Network,
}

impl VendorError {
    pub(crate) fn input(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            kind: Kind::Input,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub(crate) fn mismatch(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Mismatch,
            message: message.into(),
            hint: Some(
                "nothing was written; if the registry really replaced the chart, review why, then delete its entry from `workergen.lock` and run `workergen chart pull` again".into(),
            ),
        }
    }

    pub(crate) fn network(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Network,
            message: message.into(),
            hint: None,
        }
    }
}

impl From<VendorError> for Failure {
    fn from(error: VendorError) -> Self {
        match (error.kind, error.hint) {
            (Kind::Network, _) => Failure::Other(anyhow::anyhow!(error.message)),
            (_, Some(hint)) => Failure::usage_with_hint(error.message, hint),
            (_, None) => Failure::usage(error.message),
        }
    }
}

/// What `chart pull` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct PullOptions {
    /// The versions to pull; empty: every declared version.
    pub(crate) versions: Vec<String>,
    /// Plain HTTP, allowed only for a registry on this machine.
    pub(crate) plain_http: bool,
}

impl From<&crate::cli::ChartPullArgs> for PullOptions {
    fn from(args: &crate::cli::ChartPullArgs) -> Self {
        Self {
            versions: args.versions.clone(),
            plain_http: args.plain_http,
        }
    }
}

/// One chart version to vendor, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Wanted {
    repository: String,
    name: String,
    version: String,
}

/// `charts/<name>-<version>.tgz`, relative to the config repository.
pub(crate) fn chart_file(name: &str, version: &str) -> String {
    format!("{FOLDER}/{name}-{version}.tgz")
}

/// The chart versions the declarations use, each with its registry and name.
fn declared(fleet: &Fleet) -> BTreeSet<Wanted> {
    fleet
        .workers
        .iter()
        .map(|worker| Wanted {
            repository: worker.chart.repository.value.clone(),
            name: worker.chart.name.value.clone(),
            version: worker.chart.version.value.clone(),
        })
        .collect()
}

/// `workergen chart pull` with the process's environment.
pub(crate) fn run(
    directory: &Path,
    fleet: &Fleet,
    args: &crate::cli::ChartPullArgs,
    context: &crate::console::Context,
) -> Result<Outcome, Failure> {
    pull(directory, fleet, &args.into(), context.quiet, &crate::env::non_empty)
}

/// `workergen chart pull`: vendors each version asked for (or every declared one) that is
/// not vendored with the bytes the lock names; writes nothing for a version already in
/// place, so a second run is a no-op that needs no network.
pub(crate) fn pull(
    directory: &Path,
    fleet: &Fleet,
    options: &PullOptions,
    quiet: bool,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Outcome, Failure> {
    let wanted = wanted(fleet, &options.versions)?;
    let lock_path = directory.join(lock::FILE);
    let mut lock_text = read_optional(&lock_path)?;
    let mut lock = Lock::parse(lock_text.as_deref())?;
    let mut registries: Vec<(String, oci::Registry)> = Vec::new();
    for chart in &wanted {
        let file = directory.join(chart_file(&chart.name, &chart.version));
        let locked = lock.get(&chart.name, &chart.version).cloned();
        if let Some(entry) = &locked {
            if read_optional_bytes(&file)?.is_some_and(|bytes| oci::sha256_digest(&bytes) == entry.layer) {
                if !quiet {
                    eprintln!(
                        "{} {} is vendored and matches {}",
                        chart.name,
                        chart.version,
                        lock::FILE
                    );
                }
                continue;
            }
        }
        let at = match registries
            .iter()
            .position(|(repository, _)| *repository == chart.repository)
        {
            Some(at) => at,
            None => {
                registries.push((chart.repository.clone(), registry(chart, options.plain_http, var)?));
                registries.len() - 1
            }
        };
        let entry = fetch(&mut registries[at].1, chart, locked.as_ref(), &file)?;
        if !quiet {
            eprintln!(
                "pulled {} {} into {} ({})",
                chart.name,
                chart.version,
                chart_file(&chart.name, &chart.version),
                entry.layer
            );
        }
        lock.insert(entry);
        // The lock after each chart, not once at the end: a later version that fails must
        // not leave this one's `.tgz` unlocked.
        write_lock(&lock_path, &lock, &mut lock_text)?;
    }
    write_lock(&lock_path, &lock, &mut lock_text)?;
    Ok(Outcome::Success)
}

/// Writes `lock` unless the file already holds its text (`written`, updated).
fn write_lock(path: &Path, lock: &Lock, written: &mut Option<String>) -> Result<(), Failure> {
    let text = lock.to_text();
    if written.as_deref() != Some(text.as_str()) {
        write_atomically(path, text.as_bytes())?;
        *written = Some(text);
    }
    Ok(())
}

/// The charts to pull: the versions named (in the declared registry), else every declared one.
fn wanted(fleet: &Fleet, versions: &[String]) -> Result<BTreeSet<Wanted>, Failure> {
    let declared = declared(fleet);
    // The version becomes a file name and a URL path: only SemVer (which Helm requires of
    // a chart in an OCI registry) gets that far.
    if let Some(bad) = versions
        .iter()
        .chain(declared.iter().map(|chart| &chart.version))
        .find(|version| semver::Version::parse(version).is_err())
    {
        return Err(Failure::usage_with_hint(
            format!("`{bad}` is not a chart version"),
            "chart versions are SemVer, such as `3.13.2`",
        ));
    }
    if versions.is_empty() {
        return Ok(declared);
    }
    let sources: BTreeSet<(String, String)> = declared
        .iter()
        .map(|chart| (chart.repository.clone(), chart.name.clone()))
        .collect();
    let mut sources = sources.into_iter();
    let (Some((repository, name)), None) = (sources.next(), sources.next()) else {
        return Err(Failure::usage_with_hint(
            "the declarations do not name one chart registry to pull from",
            "declare workers (with `chart.repository` in workergen.yaml) and pull with one registry in use",
        ));
    };
    Ok(versions
        .iter()
        .map(|version| Wanted {
            repository: repository.clone(),
            name: name.clone(),
            version: version.clone(),
        })
        .collect())
}

fn registry(chart: &Wanted, plain_http: bool, var: &dyn Fn(&str) -> Option<String>) -> Result<oci::Registry, Failure> {
    let reference = oci::Reference::new(&chart.repository, &chart.name)?;
    if plain_http && !reference.is_loopback() {
        return Err(Failure::usage_with_hint(
            format!(
                "`--plain-http` is for a registry on this machine, not `{}`",
                reference.host
            ),
            "a registry elsewhere is read over TLS; give a private CA with `SSL_CERT_FILE`",
        ));
    }
    let credentials = auth::find(&reference.host, &auth::config_files(var))?;
    // The HTTP settings `status` reads (`SSL_CERT_FILE` checked to hold a certificate,
    // `WORKERGEN_HTTP_TIMEOUT`), so both commands trust and wait alike.
    let http = crate::status::client::ClientOptions::from_env(|name| var(name).map(std::ffi::OsString::from))
        .map_err(Failure::usage)?;
    Ok(oci::Registry::new(
        reference,
        plain_http,
        credentials,
        http.ca_certificates.as_deref(),
        http.timeout,
    ))
}

/// Fetches one version and writes its `.tgz`, every digest checked first (the
/// registry's, then the lock's when the version is locked).
fn fetch(registry: &mut oci::Registry, chart: &Wanted, locked: Option<&Entry>, file: &Path) -> Result<Entry, Failure> {
    // `helm push` tags a version's build metadata with `_`, since a tag cannot hold `+`.
    let manifest = registry.manifest(&chart.version.replace('+', "_"))?;
    if let Some(entry) = locked.filter(|entry| entry.manifest != manifest.digest) {
        return Err(VendorError::mismatch(format!(
            "the registry's manifest of {} {} is `{}`, but {} locks `{}`",
            chart.name,
            chart.version,
            manifest.digest,
            lock::FILE,
            entry.manifest
        ))
        .into());
    }
    let bytes = registry.blob(&manifest.layer_digest, manifest.layer_size)?;
    if let Some(entry) = locked.filter(|entry| entry.layer != manifest.layer_digest) {
        return Err(VendorError::mismatch(format!(
            "the registry's chart layer of {} {} is `{}`, but {} locks `{}`",
            chart.name,
            chart.version,
            manifest.layer_digest,
            lock::FILE,
            entry.layer
        ))
        .into());
    }
    is_the_chart(&bytes, chart)?;
    write_atomically(file, &bytes)?;
    Ok(Entry {
        name: chart.name.clone(),
        version: chart.version.clone(),
        repository: chart.repository.clone(),
        manifest: manifest.digest,
        layer: manifest.layer_digest,
    })
}

/// Whether the layer is the chart asked for: an archive whose `<name>/Chart.yaml` says
/// that name and version (a tag can point at anything; the digests only say the bytes
/// arrived as the registry stated them).
fn is_the_chart(tgz: &[u8], chart: &Wanted) -> Result<(), VendorError> {
    let wrong = |detail: String| {
        VendorError::mismatch(format!(
            "the registry's layer for {} {} is not that chart: {detail}",
            chart.name, chart.version
        ))
    };
    let files = archive::files(tgz).map_err(wrong)?;
    let chart_yaml = format!("{}/Chart.yaml", chart.name);
    let file = files
        .iter()
        .find(|file| file.path == chart_yaml)
        .ok_or_else(|| wrong(format!("it has no `{chart_yaml}`")))?;
    let text = String::from_utf8_lossy(&file.bytes);
    let node = crate::yaml::parse(&text, crate::source::FileId(0), crate::yaml::Limits::default())
        .map_err(|diagnostic| wrong(format!("`{chart_yaml}`: {}", diagnostic.message)))?;
    let field = |key: &str| {
        node.as_map()
            .and_then(|map| map.get(key))
            .and_then(|node| node.as_str().map(str::to_string))
    };
    match (field("name"), field("version")) {
        (Some(name), Some(version)) if name == chart.name && version == chart.version => Ok(()),
        (name, version) => Err(wrong(format!(
            "its `Chart.yaml` says {} {}",
            name.as_deref().unwrap_or("no name"),
            version.as_deref().unwrap_or("no version")
        ))),
    }
}

/// For `validate`: each declared version that is vendored has the bytes the lock names.
/// A version not vendored is not checked yet (the compiled-in chart data still serves it).
pub(crate) fn verify(directory: &Path, fleet: &Fleet) -> Result<(), Failure> {
    let charts: Vec<(Wanted, PathBuf)> = declared(fleet)
        .into_iter()
        .filter(|chart| semver::Version::parse(&chart.version).is_ok())
        .map(|chart| {
            let file = directory.join(chart_file(&chart.name, &chart.version));
            (chart, file)
        })
        .filter(|(_, file)| file.is_file())
        .collect();
    if charts.is_empty() {
        return Ok(());
    }
    let lock = Lock::parse(read_optional(&directory.join(lock::FILE))?.as_deref())?;
    for (chart, file) in charts {
        let shown = chart_file(&chart.name, &chart.version);
        let Some(entry) = lock.get(&chart.name, &chart.version) else {
            return Err(Failure::usage_with_hint(
                format!("`{shown}` is not in {}", lock::FILE),
                format!(
                    "run `workergen chart pull {}` to vendor it from the registry with its digests",
                    chart.version
                ),
            ));
        };
        let bytes = std::fs::read(&file).map_err(|error| read_error(&file, &error))?;
        let actual = oci::sha256_digest(&bytes);
        if actual != entry.layer {
            return Err(Failure::usage_with_hint(
                format!(
                    "`{shown}` has sha256 `{actual}`, but {} locks `{}`",
                    lock::FILE,
                    entry.layer
                ),
                format!(
                    "restore it from Git, or delete it and run `workergen chart pull {}`",
                    chart.version
                ),
            ));
        }
    }
    Ok(())
}

fn read_optional(path: &Path) -> Result<Option<String>, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(read_error(path, &error)),
    }
}

fn read_optional_bytes(path: &Path) -> Result<Option<Vec<u8>>, Failure> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(read_error(path, &error)),
    }
}

fn read_error(path: &Path, error: &std::io::Error) -> Failure {
    Failure::Other(anyhow::anyhow!("cannot read `{}`: {error}", path.display()))
}

/// Writes `bytes` under a temporary name beside `path`, then renames it into place: a
/// reader sees the old file or the new one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write as _;
    let folder = path.parent().unwrap_or(Path::new("."));
    let fail = |error: std::io::Error| Failure::Other(anyhow::anyhow!("cannot write `{}`: {error}", path.display()));
    std::fs::create_dir_all(folder).map_err(fail)?;
    let mut file = tempfile::NamedTempFile::new_in(folder).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    // A temporary file is private (0600); a vendored chart and the lock are repository
    // files like any other.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(fail)?;
    }
    file.persist(path).map_err(|error| fail(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::archive::tests::{entry, gzip};
    use super::*;

    fn wanted(version: &str) -> Wanted {
        Wanted {
            repository: "oci://127.0.0.1:5000/octopusdeploy".into(),
            name: "kubernetes-agent".into(),
            version: version.into(),
        }
    }

    #[test]
    fn a_layer_is_the_chart_its_chart_yaml_names() {
        let chart = |text: &str| gzip(&entry("kubernetes-agent/Chart.yaml", b'0', text.as_bytes()));
        let good = chart("apiVersion: v2\nname: kubernetes-agent\nversion: \"3.8.0\"\n");
        assert!(is_the_chart(&good, &wanted("3.8.0")).is_ok());
        let other = is_the_chart(&good, &wanted("3.13.2")).unwrap_err();
        assert!(
            other.message.contains("says kubernetes-agent 3.8.0"),
            "{}",
            other.message
        );
        let renamed = chart("name: other\nversion: 3.8.0\n");
        assert!(is_the_chart(&renamed, &wanted("3.8.0")).is_err());
        let elsewhere = gzip(&entry(
            "other/Chart.yaml",
            b'0',
            b"name: kubernetes-agent\nversion: 3.8.0\n",
        ));
        assert!(is_the_chart(&elsewhere, &wanted("3.8.0"))
            .unwrap_err()
            .message
            .contains("has no"));
        assert!(is_the_chart(b"not a tgz", &wanted("3.8.0")).is_err());
    }
}
