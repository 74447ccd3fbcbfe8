//! The round trip through the real chart: `helm template` of the chart the installs ran,
//! once with the values each install runs with (less plaintext credentials, plus the
//! Secret references) and once with the `values.yaml` workergen renders, and the two
//! manifests compared byte for byte.
//!
//! The data comparison cannot decide everything: `--set a=null` deletes a chart default,
//! which no declaration can do (a declaration's `null` restores the default), and whether
//! that deletion matters is the chart's business (deleting an empty `machinePolicyName`
//! changes nothing; deleting `agent.securityContext` breaks the templates). Only the chart
//! can say, so Helm is asked.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Helm, and the chart to render.
pub(crate) struct Chart {
    helm: OsString,
    chart: PathBuf,
}

impl Chart {
    /// The chart at `chart` (a folder holding `Chart.yaml`, or a `.tgz` as `helm pull`
    /// saves it), rendered by the `helm` on `PATH`. The error says what is missing.
    pub(crate) fn new(chart: &Path) -> Result<Self, String> {
        let shown = chart.display();
        let is_chart = chart.join("Chart.yaml").is_file()
            || (chart.is_file() && chart.extension().is_some_and(|extension| extension == "tgz"));
        if !is_chart {
            return Err(format!(
                "`--chart {shown}` is neither a chart folder (with `Chart.yaml`) nor a `.tgz` chart"
            ));
        }
        let helm = OsString::from("helm");
        let found = Command::new(&helm)
            .arg("version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !found {
            return Err(format!(
                "`--chart {shown}` renders with Helm, and no working `helm` is on PATH"
            ));
        }
        Ok(Self {
            helm,
            chart: chart.to_path_buf(),
        })
    }

    /// `helm template RELEASE CHART --namespace NAMESPACE --values <values>`: the
    /// manifests, or Helm's error output.
    pub(crate) fn template(&self, release: &str, namespace: &str, values: &str) -> Result<String, String> {
        // Helm keeps no state for `template` of a local chart; its folders point into a
        // temp dir all the same, so no user setting, plugin or cache changes the result.
        let home = tempfile::tempdir().map_err(|error| error.to_string())?;
        let file = home.path().join("values.yaml");
        std::fs::write(&file, values).map_err(|error| error.to_string())?;
        let homes = [
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ];
        let output = Command::new(&self.helm)
            .args(["template", release])
            .arg(&self.chart)
            .args(["--namespace", namespace, "--values"])
            .arg(&file)
            .envs(homes.map(|(name, folder)| (name, home.path().join(folder))))
            .env_remove("KUBECONFIG")
            .output()
            .map_err(|error| format!("cannot run helm: {error}"))?;
        // Helm's own words, as its error: they name the template and the value.
        let said = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
        output
            .status
            .success()
            .then(|| said(&output.stdout) + "\n")
            .ok_or_else(|| said(&output.stderr))
    }
}

/// Where two renders of the chart part: the first differing line, with the template it
/// comes from (Helm's `# Source:` comment); `None` when they are the same.
pub(crate) fn first_difference(install: &str, declared: &str) -> Option<String> {
    let mut source = "";
    let mut one = install.lines();
    let mut other = declared.lines();
    loop {
        let (left, right) = (one.next(), other.next());
        if left == right {
            match left {
                None => return None,
                Some(line) => {
                    if let Some(name) = line.strip_prefix("# Source: ") {
                        source = name;
                    }
                    continue;
                }
            }
        }
        let shown = |line: Option<&str>| line.map_or_else(|| "nothing".to_owned(), |line| format!("`{}`", line.trim()));
        let place = if source.is_empty() {
            String::new()
        } else {
            format!(" in {source}")
        };
        return Some(format!(
            "the chart renders different manifests{place}: {} from the install, {} from the declarations",
            shown(left),
            shown(right)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_names_its_template() {
        let install =
            "---\n# Source: agent/templates/a.yaml\nkind: A\n---\n# Source: agent/templates/b.yaml\nkind: B\nspec: 1\n";
        assert_eq!(first_difference(install, install), None);
        let declared = install.replace("spec: 1", "spec: 2");
        assert_eq!(
            first_difference(install, &declared).as_deref(),
            Some("the chart renders different manifests in agent/templates/b.yaml: `spec: 1` from the install, `spec: 2` from the declarations")
        );
        assert_eq!(
            first_difference(install, "---\n").as_deref(),
            Some("the chart renders different manifests: `# Source: agent/templates/a.yaml` from the install, nothing from the declarations")
        );
    }

    #[test]
    fn a_path_that_is_no_chart_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = Chart::new(dir.path()).err().unwrap();
        assert!(error.contains("is neither a chart folder"), "{error}");
    }
}
