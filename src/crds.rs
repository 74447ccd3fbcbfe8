//! The chart's CustomResourceDefinition, `scriptpodtemplates.agent.octopus.com`, which
//! workergen deploys once per cluster instead of letting every release own it.
//!
//! The chart ships the CRD in its `crds/` folder (426 KB). Helm installs such a CRD only
//! when absent and Argo CD applies it with every Application, so with two workers in a
//! cluster two owners fight over one object, and deleting one worker's Application can
//! delete the CRD and every `ScriptPodTemplate` of the cluster. Every release therefore
//! skips the chart's CRDs, and the cluster's GitOps objects apply this copy, from the
//! newest chart version used in the cluster.
//!
//! The bytes are the chart's own (`chart/crds/`, embedded at build time); they are never
//! parsed or re-emitted. Charts 2.51.2 and 3.13.2 ship the same file.
//!
//! For a chart version workergen has no copy for, the rule is: the CRD of the newest
//! known version not newer than it (3.14.0 gets 3.13.2's), else the oldest known one;
//! validation warns and names both versions.

/// The CRD's name, as the chart ships it.
pub(crate) const NAME: &str = "scriptpodtemplates.agent.octopus.com";

/// The CRD file's name inside the chart's `crds/` folder, and in `rendered/_crds/<version>/`.
pub(crate) const FILE: &str = "script-pod-template.yaml";

/// The folder of the output that holds one copy of the CRD per version: not a possible
/// environment name (those are DNS-1123 labels), so it never collides with one.
pub(crate) const FOLDER: &str = "_crds";

/// The chart's `crds/script-pod-template.yaml`, byte for byte (identical in 2.51.2 and 3.13.2).
const SCRIPT_POD_TEMPLATE: &[u8] = include_bytes!("../chart/crds/script-pod-template.yaml");

/// The chart versions whose CRD workergen carries, oldest first, with its bytes.
const SHIPPED: &[(&str, &[u8])] = &[("2.51.2", SCRIPT_POD_TEMPLATE), ("3.13.2", SCRIPT_POD_TEMPLATE)];

/// The CRD to deploy for one chart version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Crd {
    /// The chart version the CRD comes from: the one asked for, or the one chosen by the
    /// rule in the module doc.
    pub(crate) version: &'static str,
    /// The CRD file, as the chart ships it.
    pub(crate) bytes: &'static [u8],
    /// Whether `version` is the chart version asked for.
    pub(crate) exact: bool,
}

/// The CRD for chart `version` (see the module doc for versions workergen has no copy of).
pub(crate) fn for_chart(version: &str) -> Crd {
    if let Some((shipped, bytes)) = SHIPPED.iter().find(|(shipped, _)| *shipped == version) {
        return Crd {
            version: shipped,
            bytes,
            exact: true,
        };
    }
    let not_newer = SHIPPED
        .iter()
        .rev()
        .find(|(shipped, _)| crate::version::not_newer(shipped, version) == Some(true));
    let (shipped, bytes) = not_newer.unwrap_or(&SHIPPED[0]);
    Crd {
        version: shipped,
        bytes,
        exact: false,
    }
}

/// The newest of chart versions (by SemVer precedence; unparsable ones count as oldest).
pub(crate) fn newest<'a>(versions: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    versions.into_iter().max_by(|a, b| crate::version::compare(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_versions_get_their_own_crd() {
        for version in ["2.51.2", "3.13.2"] {
            let crd = for_chart(version);
            assert_eq!((crd.version, crd.exact), (version, true));
        }
    }

    #[test]
    fn other_versions_get_the_newest_known_crd_not_newer_else_the_oldest() {
        let chosen = |version: &str| {
            let crd = for_chart(version);
            (crd.version, crd.exact)
        };
        assert_eq!(chosen("3.14.0"), ("3.13.2", false));
        assert_eq!(chosen("4.0.0"), ("3.13.2", false));
        assert_eq!(chosen("3.13.1"), ("2.51.2", false));
        assert_eq!(chosen("3.13.2-rc.1"), ("2.51.2", false));
        assert_eq!(chosen("3.13.2+build.5"), ("3.13.2", false));
        assert_eq!(chosen("3.13.2-rc.10"), ("2.51.2", false));
        assert_eq!(chosen("2.51.3"), ("2.51.2", false));
        assert_eq!(chosen("2.40.0"), ("2.51.2", false));
        assert_eq!(chosen("not-a-version"), ("2.51.2", false));
    }

    #[test]
    fn newest_follows_semver_precedence() {
        assert_eq!(newest(["3.9.0", "3.13.2", "2.51.2"]), Some("3.13.2"));
        assert_eq!(newest(["3.14.0-rc.1", "3.13.2"]), Some("3.14.0-rc.1"));
        assert_eq!(newest(["3.14.0-rc.1", "3.14.0"]), Some("3.14.0"));
        assert_eq!(newest(["3.14.0-rc.10", "3.14.0-rc.2"]), Some("3.14.0-rc.10"));
        assert_eq!(newest(["x", "2.0.0"]), Some("2.0.0"));
        assert_eq!(newest(Vec::<&str>::new()), None);
    }

    #[test]
    fn the_embedded_crd_is_the_charts_own() {
        let text = std::str::from_utf8(SCRIPT_POD_TEMPLATE).unwrap();
        assert!(text.contains(&format!("  name: {NAME}\n")));
        assert_eq!(SCRIPT_POD_TEMPLATE.len(), 425_646);
        // The copies in both reference charts, when the tests have them; without them the
        // skip is said as the integration tests' `util::skipping` says it, on the
        // process's stderr, which the test harness does not capture.
        let Some(charts) = crate::env::var_os("WORKERGEN_TEST_CHARTS") else {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipping crds::tests::the_embedded_crd_is_the_charts_own: it needs the reference charts \
                 and WORKERGEN_TEST_CHARTS is not set (`bash .ci/run` sets it)"
            );
            return;
        };
        for version in ["2.51.2", "3.13.2"] {
            let path = std::path::Path::new(&charts).join(format!("chart-{version}/crds/{FILE}"));
            assert_eq!(std::fs::read(&path).unwrap(), SCRIPT_POD_TEMPLATE, "{}", path.display());
        }
    }
}
