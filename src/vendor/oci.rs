//! The OCI distribution API as `chart pull` uses it: one manifest and one blob per chart
//! version, `GET` only.
//!
//! The client is the ureq agent `status` already builds (rustls on ring, `SSL_CERT_FILE`
//! as its roots): a chart is two small requests, so a second HTTP stack (the `oci-client`
//! crate brings reqwest, hyper and tokio) would add build time for nothing these calls
//! need. Authentication follows the registry's `401`: `Bearer realm=…,service=…,scope=…`
//! is the token flow (anonymous, or with the credentials of a registry config file),
//! `Basic` sends the credentials themselves. Redirects (registries send blobs to object
//! storage) are followed here, and the `Authorization` header only ever goes to the
//! registry's own origin. Proxies come from the environment as ureq's default agent
//! reads them (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, and `NO_PROXY`).

use std::io::Read as _;
use std::time::Duration;

use super::auth::Credentials;
use super::VendorError;

/// The OCI image manifest, the only manifest a Helm chart is pushed as.
pub(crate) const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The chart's own layer: the `.tgz` `helm package` wrote.
pub(crate) const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// A manifest is a few hundred bytes; anything much larger is not a chart's.
const MANIFEST_LIMIT: u64 = 4_000_000;
/// The kubernetes-agent chart is about 40 KB; a chart layer past this is refused.
const LAYER_LIMIT: u64 = 100_000_000;
const MAX_REDIRECTS: usize = 5;

/// `oci://host[:port]/path` split into what requests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// `host[:port]`.
    pub(crate) host: String,
    /// The repository path under `/v2/`, the chart name last (`octopusdeploy/kubernetes-agent`).
    pub(crate) repository: String,
}

impl Reference {
    /// The chart `name` in the registry `url` (`oci://registry-1.docker.io/octopusdeploy`).
    pub(crate) fn new(url: &str, name: &str) -> Result<Self, VendorError> {
        let rest = url.strip_prefix("oci://").ok_or_else(|| {
            VendorError::input(
                format!("`chart.repository` `{url}` is not an OCI registry"),
                "`chart pull` reads OCI registries: write it as `oci://HOST/PATH`",
            )
        })?;
        let rest = rest.trim_end_matches('/');
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(VendorError::input(
                format!("`chart.repository` `{url}` names no registry host"),
                "write it as `oci://HOST/PATH`",
            ));
        }
        let repository = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}/{name}")
        };
        Ok(Self {
            host: host.to_string(),
            repository,
        })
    }

    /// Whether the host is this machine, where a registry without TLS is a test or a
    /// local mirror, not a path for someone else's bytes.
    pub(crate) fn is_loopback(&self) -> bool {
        is_loopback(&self.host)
    }
}

/// Whether `host[:port]` is this machine.
fn is_loopback(host: &str) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// One registry, one repository.
pub(crate) struct Registry {
    agent: ureq::Agent,
    reference: Reference,
    /// `https://host` or `http://host`.
    origin: String,
    credentials: Option<Credentials>,
    /// The `Authorization` header that worked last, sent first on later requests.
    authorization: Option<String>,
}

/// A manifest as fetched: its exact bytes and their digest.
pub(crate) struct Manifest {
    pub(crate) digest: String,
    pub(crate) layer_digest: String,
    pub(crate) layer_size: u64,
}

impl Registry {
    pub(crate) fn new(
        reference: Reference,
        plain_http: bool,
        credentials: Option<Credentials>,
        ca_certificates: Option<&[u8]>,
        timeout: Duration,
    ) -> Self {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = ca_certificates {
            let certificates: Vec<_> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
                    _ => None,
                })
                .collect();
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certificates));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .user_agent(format!("workergen/{}", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build()
            .new_agent();
        let scheme = if plain_http { "http" } else { "https" };
        Self {
            agent,
            origin: format!("{scheme}://{}", reference.host),
            reference,
            credentials,
            authorization: None,
        }
    }

    /// The manifest of `tag`, its digest checked against the one the registry states.
    pub(crate) fn manifest(&mut self, tag: &str) -> Result<Manifest, VendorError> {
        let url = format!("{}/v2/{}/manifests/{tag}", self.origin, self.reference.repository);
        let missing = format!("{} has no `{}:{tag}`", self.reference.host, self.reference.repository);
        let response = self.get(&url, MANIFEST_MEDIA_TYPE, &missing)?;
        let stated = header(&response, "docker-content-digest");
        let bytes = read_limited(response, MANIFEST_LIMIT, &url)?;
        let digest = sha256_digest(&bytes);
        if let Some(stated) = stated.filter(|stated| *stated != digest) {
            return Err(VendorError::mismatch(format!(
                "the registry sent a manifest for `{tag}` whose sha256 is `{digest}`, not the `{stated}` it states"
            )));
        }
        parse_manifest(&bytes, digest, tag)
    }

    /// The blob `digest`, at most `size` bytes, checked to hash to `digest`.
    pub(crate) fn blob(&mut self, digest: &str, size: u64) -> Result<Vec<u8>, VendorError> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.origin, self.reference.repository);
        let missing = format!(
            "{} has no blob `{digest}`, which its manifest names",
            self.reference.host
        );
        let response = self.get(&url, "*/*", &missing)?;
        let bytes = read_limited(response, size.min(LAYER_LIMIT), &url)?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(VendorError::mismatch(format!(
                "the registry sent a chart layer whose sha256 is `{actual}`, not the manifest's `{digest}`"
            )));
        }
        Ok(bytes)
    }

    /// `GET url`, answering one `401` with the scheme the registry asks for and following
    /// redirects; a status other than 200 is an error, `missing` the one for 404.
    fn get(&mut self, url: &str, accept: &str, missing: &str) -> Result<ureq::http::Response<ureq::Body>, VendorError> {
        let mut response = self.send(url, accept, self.authorization.clone())?;
        if response.status() == 401 {
            let challenge = header(&response, "www-authenticate").unwrap_or_default();
            let authorization = self.authorize(&challenge, url)?;
            response = self.send(url, accept, Some(authorization.clone()))?;
            self.authorization = Some(authorization);
        }
        match response.status().as_u16() {
            200 => Ok(response),
            401 | 403 => Err(VendorError::input(
                format!(
                    "{} refused `GET {url}` (HTTP {})",
                    self.reference.host,
                    response.status().as_u16()
                ),
                format!(
                    "log in with `helm registry login {}` (or `docker login`), or check the credentials there",
                    self.reference.host
                ),
            )),
            404 => Err(VendorError::input(
                format!("{missing} (HTTP 404 from `{url}`)"),
                "check the version, `chart.repository` and `chart.name`",
            )),
            status => Err(VendorError::network(format!("`GET {url}` answered HTTP {status}"))),
        }
    }

    /// Sends a GET, following up to [`MAX_REDIRECTS`] redirects; `authorization` goes
    /// only to the registry's origin.
    fn send(
        &self,
        url: &str,
        accept: &str,
        authorization: Option<String>,
    ) -> Result<ureq::http::Response<ureq::Body>, VendorError> {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.agent.get(&url).header("Accept", accept);
            if let Some(value) = authorization.as_deref().filter(|_| same_origin(&url, &self.origin)) {
                request = request.header("Authorization", value);
            }
            let response = request.call().map_err(|error| transport(&url, &error))?;
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let Some(location) = header(&response, "location") else {
                return Ok(response);
            };
            url = resolve(&url, &location);
        }
        Err(VendorError::network(format!(
            "`GET {url}` redirected more than {MAX_REDIRECTS} times"
        )))
    }

    /// The `Authorization` header that answers `challenge`.
    fn authorize(&self, challenge: &str, url: &str) -> Result<String, VendorError> {
        let (scheme, parameters) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return match &self.credentials {
                Some(credentials) => credentials.basic_header().ok_or_else(|| self.needs_login(url)),
                None => Err(self.needs_login(url)),
            };
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(VendorError::network(format!(
                "{} asks for `{scheme}` authentication, which workergen does not speak (Basic, Bearer)",
                self.reference.host
            )));
        }
        if let Some(token) = self
            .credentials
            .as_ref()
            .and_then(|credentials| credentials.registry_token.clone())
        {
            return Ok(format!("Bearer {token}"));
        }
        let parameters = challenge_parameters(parameters);
        let realm = parameters
            .iter()
            .find(|(name, _)| name == "realm")
            .map(|(_, value)| value.clone())
            .ok_or_else(|| {
                VendorError::network(format!("{} asks for a token without a `realm`", self.reference.host))
            })?;
        let scope = format!("repository:{}:pull", self.reference.repository);
        let mut query: Vec<(String, String)> = parameters
            .into_iter()
            .filter(|(name, _)| name == "service" || name == "scope")
            .collect();
        if !query.iter().any(|(name, _)| name == "scope") {
            query.push(("scope".into(), scope));
        }
        self.token(&realm, &query)
    }

    /// A token from the `realm`, asked with the credentials when there are some
    /// (anonymously otherwise, as Docker Hub answers for public repositories).
    fn token(&self, realm: &str, query: &[(String, String)]) -> Result<String, VendorError> {
        let mut request = self.agent.get(realm);
        for (name, value) in query {
            request = request.query(name, value);
        }
        // Credentials go to a token service over TLS, or over plain HTTP on this machine
        // only, as to the registry itself.
        let protected = realm.starts_with("https://")
            || realm
                .strip_prefix("http://")
                .is_some_and(|rest| is_loopback(rest.split('/').next().unwrap_or_default()));
        if let Some(basic) = self
            .credentials
            .as_ref()
            .and_then(Credentials::basic_header)
            .filter(|_| protected)
        {
            request = request.header("Authorization", basic);
        }
        let response = request.call().map_err(|error| transport(realm, &error))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(VendorError::input(
                format!("the token service `{realm}` refused a pull token (HTTP {status})"),
                format!(
                    "log in with `helm registry login {}`, or check the credentials",
                    self.reference.host
                ),
            ));
        }
        let bytes = read_limited(response, MANIFEST_LIMIT, realm)?;
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = serde_json::from_slice(&bytes)
            .map_err(|error| VendorError::network(format!("the token service `{realm}` answered no token: {error}")))?;
        token
            .token
            .or(token.access_token)
            .filter(|token| !token.is_empty())
            .map(|token| format!("Bearer {token}"))
            .ok_or_else(|| VendorError::network(format!("the token service `{realm}` answered no token")))
    }

    fn needs_login(&self, url: &str) -> VendorError {
        VendorError::input(
            format!("{} needs credentials for `GET {url}`", self.reference.host),
            format!(
                "log in with `helm registry login {}` (or `docker login`); workergen reads `HELM_REGISTRY_CONFIG` and `DOCKER_CONFIG`",
                self.reference.host
            ),
        )
    }
}

/// `sha256:<hex>` of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut text = String::with_capacity(71);
    text.push_str("sha256:");
    for byte in digest.as_ref() {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

fn parse_manifest(bytes: &[u8], digest: String, tag: &str) -> Result<Manifest, VendorError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Descriptor {
        media_type: String,
        digest: String,
        size: u64,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Image {
        media_type: Option<String>,
        #[serde(default)]
        layers: Vec<Descriptor>,
    }
    let image: Image = serde_json::from_slice(bytes).map_err(|error| {
        VendorError::network(format!("the manifest of `{tag}` is not an OCI image manifest: {error}"))
    })?;
    if let Some(media_type) = image.media_type.filter(|media_type| media_type != MANIFEST_MEDIA_TYPE) {
        return Err(VendorError::input(
            format!("`{tag}` is a `{media_type}`, not a Helm chart's OCI manifest"),
            "check that the tag was pushed with `helm push`",
        ));
    }
    let layer = image
        .layers
        .into_iter()
        .find(|layer| layer.media_type == CHART_LAYER_MEDIA_TYPE)
        .ok_or_else(|| {
            VendorError::input(
                format!("the manifest of `{tag}` has no `{CHART_LAYER_MEDIA_TYPE}` layer"),
                "check that the tag was pushed with `helm push`",
            )
        })?;
    if !is_sha256(&layer.digest) {
        return Err(VendorError::network(format!(
            "the chart layer of `{tag}` has digest `{}`, not a sha256",
            layer.digest
        )));
    }
    Ok(Manifest {
        digest,
        layer_digest: layer.digest,
        layer_size: layer.size,
    })
}

/// `sha256:` and 64 lowercase hex digits.
pub(crate) fn is_sha256(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The `name=value` (or `name="value"`) pairs of a challenge, names lowercased.
fn challenge_parameters(text: &str) -> Vec<(String, String)> {
    let mut parameters = Vec::new();
    let mut rest = text.trim();
    while let Some((name, after)) = rest.split_once('=') {
        let name = name.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        parameters.push((name, value.to_string()));
        rest = next.trim_start().trim_start_matches(',');
    }
    parameters
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response.headers().get(name)?.to_str().ok().map(str::to_string)
}

fn same_origin(url: &str, origin: &str) -> bool {
    url.strip_prefix(origin)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `location` against `url`: absolute, or a path on `url`'s origin.
fn resolve(url: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let origin_end = url.find("://").map_or(0, |start| start + 3);
    let origin = url[origin_end..]
        .find('/')
        .map_or(url, |slash| &url[..origin_end + slash]);
    format!("{origin}/{}", location.trim_start_matches('/'))
}

fn read_limited(response: ureq::http::Response<ureq::Body>, limit: u64, url: &str) -> Result<Vec<u8>, VendorError> {
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| VendorError::network(format!("reading `{url}`: {error}")))?;
    if bytes.len() as u64 > limit {
        return Err(VendorError::mismatch(format!(
            "`{url}` sent more than the {limit} bytes expected"
        )));
    }
    Ok(bytes)
}

fn transport(url: &str, error: &ureq::Error) -> VendorError {
    VendorError::network(format!("`GET {url}` failed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_quoted_and_bare_values() {
        let parameters = challenge_parameters(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:octopusdeploy/kubernetes-agent:pull""#,
        );
        assert_eq!(
            parameters,
            [
                ("realm".to_string(), "https://auth.docker.io/token".to_string()),
                ("service".to_string(), "registry.docker.io".to_string()),
                (
                    "scope".to_string(),
                    "repository:octopusdeploy/kubernetes-agent:pull".to_string()
                ),
            ]
        );
    }

    #[test]
    fn references_split_host_and_repository() {
        let reference = Reference::new("oci://registry-1.docker.io/octopusdeploy", "kubernetes-agent").unwrap();
        assert_eq!(reference.host, "registry-1.docker.io");
        assert_eq!(reference.repository, "octopusdeploy/kubernetes-agent");
        assert!(!reference.is_loopback());
        assert!(Reference::new("oci://127.0.0.1:15000/x", "c").unwrap().is_loopback());
        assert!(Reference::new("https://example.com/charts", "c").is_err());
        assert!(is_loopback("[::1]:5000") && is_loopback("localhost") && !is_loopback("localhost.example.com:80"));
    }

    #[test]
    fn redirects_resolve_against_the_origin() {
        assert_eq!(
            resolve("https://r.example/v2/a/blobs/x", "/store/1"),
            "https://r.example/store/1"
        );
        assert_eq!(
            resolve("https://r.example/v2/a", "https://s3.example/b"),
            "https://s3.example/b"
        );
        assert!(same_origin("https://r.example/v2", "https://r.example"));
        assert!(!same_origin("https://r.example.evil/v2", "https://r.example"));
    }
}
