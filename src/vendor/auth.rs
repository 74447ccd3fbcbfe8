//! Registry credentials where Helm and Docker keep them: `helm registry login` writes
//! `HELM_REGISTRY_CONFIG` (default `~/.config/helm/registry/config.json`), `docker login`
//! writes `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`). Both are Docker's
//! format, `{"auths": {"HOST": {"auth": base64("user:password")}}}`, with an optional
//! `registrytoken` (sent as a bearer token). Helm's file is read first, as `helm pull`
//! does. Credential helpers (`credsStore`, `credHelpers`) are not run: workergen starts
//! no programs named by a config file.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::VendorError;

/// What a registry config holds for one host.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) registry_token: Option<String>,
    /// The file they came from, named in errors.
    pub(crate) file: PathBuf,
}

// Never print the secrets, even in a debug dump.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// `Basic base64(user:password)`, when there is a user and a password.
    pub(crate) fn basic_header(&self) -> Option<String> {
        let (username, password) = (self.username.as_ref()?, self.password.as_ref()?);
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        Some(format!("Basic {encoded}"))
    }
}

/// The config files to read, in order, as the environment `var` names them.
pub(crate) fn config_files(var: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let home = var("HOME").map(PathBuf::from);
    let mut files = Vec::new();
    match var("HELM_REGISTRY_CONFIG") {
        Some(file) => files.push(PathBuf::from(file)),
        None => {
            let config = var("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|home| home.join(".config")));
            if let Some(config) = config {
                files.push(config.join("helm/registry/config.json"));
            }
        }
    }
    match var("DOCKER_CONFIG") {
        Some(folder) => files.push(Path::new(&folder).join("config.json")),
        None => files.extend(home.map(|home| home.join(".docker/config.json"))),
    }
    files
}

/// The first credentials for `host` in `files`; a missing file is skipped, an unreadable
/// or malformed one is an error naming it.
pub(crate) fn find(host: &str, files: &[PathBuf]) -> Result<Option<Credentials>, VendorError> {
    for file in files {
        let text = match std::fs::read(file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                return Err(VendorError::input(
                    format!("cannot read the registry config `{}`: {error}", file.display()),
                    "fix its permissions, or point `HELM_REGISTRY_CONFIG`/`DOCKER_CONFIG` elsewhere",
                ))
            }
        };
        if let Some(credentials) = in_config(&text, host, file)? {
            return Ok(Some(credentials));
        }
    }
    Ok(None)
}

fn in_config(text: &[u8], host: &str, file: &Path) -> Result<Option<Credentials>, VendorError> {
    #[derive(serde::Deserialize)]
    struct Config {
        #[serde(default)]
        auths: std::collections::BTreeMap<String, Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        auth: Option<String>,
        username: Option<String>,
        password: Option<String>,
        registrytoken: Option<String>,
    }
    let malformed = |detail: String| {
        VendorError::input(
            format!(
                "the registry config `{}` is not a registry config: {detail}",
                file.display()
            ),
            "log in again with `helm registry login HOST`",
        )
    };
    let config: Config = serde_json::from_slice(text).map_err(|error| malformed(error.to_string()))?;
    let Some(entry) = config
        .auths
        .iter()
        .find(|(key, _)| names_host(key, host))
        .map(|(_, entry)| entry)
    else {
        return Ok(None);
    };
    let mut credentials = Credentials {
        username: entry.username.clone(),
        password: entry.password.clone(),
        registry_token: entry.registrytoken.clone().filter(|token| !token.is_empty()),
        file: file.to_path_buf(),
    };
    if let Some(auth) = entry.auth.as_deref().filter(|auth| !auth.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| malformed(format!("the `auth` of `{host}` is not base64 of `user:password`")))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| malformed(format!("the `auth` of `{host}` is not `user:password`")))?;
        credentials.username = Some(username.to_string());
        credentials.password = Some(password.to_string());
    }
    Ok(Some(credentials))
}

/// Whether an `auths` key names `host`: the host itself, or as a URL (`https://host/v1/`),
/// and Docker Hub under the name `docker login` gives it.
fn names_host(key: &str, host: &str) -> bool {
    let bare = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key)
        .split('/')
        .next()
        .unwrap_or_default();
    let docker_hub = |name: &str| matches!(name, "registry-1.docker.io" | "index.docker.io" | "docker.io");
    bare == host || (docker_hub(bare) && docker_hub(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_and_docker_entries_are_found_by_host() {
        let text = br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},"127.0.0.1:5000":{"auth":"YTpiOmM="}}}"#;
        let file = Path::new("config.json");
        let hub = in_config(text, "registry-1.docker.io", file).unwrap().unwrap();
        assert_eq!(
            (hub.username.as_deref(), hub.password.as_deref()),
            (Some("user"), Some("pass"))
        );
        let local = in_config(text, "127.0.0.1:5000", file).unwrap().unwrap();
        assert_eq!(local.password.as_deref(), Some("b:c"));
        assert!(in_config(text, "ghcr.io", file).unwrap().is_none());
        assert_eq!(hub.basic_header().unwrap(), "Basic dXNlcjpwYXNz");
    }

    #[test]
    fn files_follow_the_environment() {
        let var = |name: &str| match name {
            "HOME" => Some("/home/u".to_string()),
            "DOCKER_CONFIG" => Some("/etc/docker".to_string()),
            _ => None,
        };
        assert_eq!(
            config_files(&var),
            [
                PathBuf::from("/home/u/.config/helm/registry/config.json"),
                PathBuf::from("/etc/docker/config.json")
            ]
        );
    }
}
