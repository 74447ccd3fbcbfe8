//! `workergen.lock`: per vendored chart version, the OCI manifest digest and the sha256 of
//! the chart layer (the exact bytes of `charts/<name>-<version>.tgz`), and the registry it
//! came from. YAML, written whole by [`Lock::to_text`]: entries sorted by name, then by
//! SemVer precedence, every value on its own line, so a pull that changes nothing writes
//! the same bytes and a version added is a few added lines in review.

use std::collections::BTreeMap;

use super::oci::is_sha256;
use super::VendorError;

pub(crate) const FILE: &str = "workergen.lock";

/// One locked chart version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) repository: String,
    /// `sha256:…` of the OCI manifest.
    pub(crate) manifest: String,
    /// `sha256:…` of the chart layer, the vendored `.tgz`.
    pub(crate) layer: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Lock {
    /// By (name, version).
    entries: BTreeMap<(String, String), Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    charts: Vec<Entry>,
}

impl Lock {
    /// The lock in `text`; `None` text (no file) is the empty lock.
    pub(crate) fn parse(text: Option<&str>) -> Result<Self, VendorError> {
        let Some(text) = text else { return Ok(Self::default()) };
        let bad = |detail: String| {
            VendorError::input(
                format!("`{FILE}` is not a lock file: {detail}"),
                "restore it from Git, or delete it and run `workergen chart pull`",
            )
        };
        let node = crate::yaml::parse(text, crate::source::FileId(0), crate::yaml::Limits::default())
            .map_err(|diagnostic| bad(diagnostic.message))?;
        let mut diagnostics = Vec::new();
        let file: Option<File> = crate::yaml::from_node(&node, &mut diagnostics);
        let file = file.ok_or_else(|| bad(diagnostics.first().map(|d| d.message.clone()).unwrap_or_default()))?;
        let mut lock = Self::default();
        for entry in file.charts {
            if !is_sha256(&entry.manifest) || !is_sha256(&entry.layer) {
                return Err(bad(format!(
                    "the digests of {} {} are not `sha256:<64 hex digits>`",
                    entry.name, entry.version
                )));
            }
            lock.insert(entry);
        }
        Ok(lock)
    }

    pub(crate) fn get(&self, name: &str, version: &str) -> Option<&Entry> {
        self.entries.get(&(name.to_string(), version.to_string()))
    }

    pub(crate) fn insert(&mut self, entry: Entry) {
        self.entries.insert((entry.name.clone(), entry.version.clone()), entry);
    }

    /// The file's text: a header, then the entries in name and SemVer order.
    pub(crate) fn to_text(&self) -> String {
        let mut entries: Vec<&Entry> = self.entries.values().collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| version_order(&a.version, &b.version)));
        let mut text = String::from(
            "# Written by `workergen chart pull`: the chart versions vendored in charts/, each with\n\
             # its OCI manifest digest and the sha256 of its chart layer (the .tgz bytes). Do not edit.\n",
        );
        if entries.is_empty() {
            text.push_str("charts: []\n");
            return text;
        }
        text.push_str("charts:\n");
        for entry in entries {
            text.push_str(&format!(
                "  - name: {}\n    version: \"{}\"\n    repository: {}\n    manifest: {}\n    layer: {}\n",
                entry.name, entry.version, entry.repository, entry.manifest, entry.layer
            ));
        }
        text
    }
}

/// SemVer precedence where both parse, text order otherwise (and as the tie-break, so the
/// order is total).
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: &str) -> Entry {
        Entry {
            name: "kubernetes-agent".into(),
            version: version.into(),
            repository: "oci://127.0.0.1:15000/octopusdeploy".into(),
            manifest: format!("sha256:{}", "a".repeat(64)),
            layer: format!("sha256:{}", "b".repeat(64)),
        }
    }

    #[test]
    fn entries_are_written_in_semver_order_and_read_back() {
        let mut lock = Lock::default();
        for version in ["3.13.2", "3.8.0", "2.51.2"] {
            lock.insert(entry(version));
        }
        let text = lock.to_text();
        let versions: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("    version: "))
            .collect();
        assert_eq!(versions, ["\"2.51.2\"", "\"3.8.0\"", "\"3.13.2\""]);
        assert_eq!(Lock::parse(Some(&text)).unwrap(), lock);
        assert_eq!(Lock::parse(None).unwrap().to_text(), "# Written by `workergen chart pull`: the chart versions vendored in charts/, each with\n# its OCI manifest digest and the sha256 of its chart layer (the .tgz bytes). Do not edit.\ncharts: []\n");
    }

    #[test]
    fn a_malformed_digest_is_refused() {
        let text = Lock {
            entries: [(
                ("a".into(), "1".into()),
                Entry {
                    layer: "sha256:xyz".into(),
                    ..entry("1")
                },
            )]
            .into(),
        }
        .to_text();
        assert!(Lock::parse(Some(&text)).is_err());
    }
}
