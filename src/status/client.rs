//! The Octopus REST API as `status` uses it: four reads (`spaces/all`, and per space
//! `workers/all`, `workerpools/all`, `machinepolicies/all`), two writes (`PUT` and `DELETE`
//! of `workers/{id}`, only for `--apply`/`--prune`),
//! timeouts on every request, 429 and 5xx retried with backoff, other 4xx never.
//!
//! The client is ureq 3, blocking, with rustls on the ring provider: a handful of small
//! requests per environment needs no async runtime (environments run on plain threads,
//! see `mod.rs`), ureq has few dependencies and builds without cmake or aws-lc (reqwest's
//! blocking client would bring tokio and hyper along for the same calls), and it is
//! actively maintained. Status codes come back as values (`http_status_as_error(false)`)
//! so that the retry rule lives here, in one place.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::StatusError;

/// How requests are sent: the knobs tests and users may turn.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// For one request, connection to last byte.
    pub timeout: Duration,
    /// The first retry's delay; it doubles with each further try (unless the server
    /// says `Retry-After`).
    pub backoff: Duration,
    /// Tries per request, the first included.
    pub attempts: u32,
    /// PEM certificates to trust instead of the built-in (Mozilla) roots, for a server
    /// behind a private CA.
    pub ca_certificates: Option<Vec<u8>>,
}

impl ClientOptions {
    /// The options the environment sets, through `var` (the process's variables, or a
    /// test's): `WORKERGEN_HTTP_TIMEOUT` (seconds per request, default 30),
    /// `SSL_CERT_FILE` (PEM roots to trust instead of the built-in ones), and, for tests,
    /// `WORKERGEN_HTTP_BACKOFF_MS`. The error says which variable is wrong.
    pub fn from_env(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Self, String> {
        let mut options = Self::default();
        let text = |name: &str| var(name).map(|value| value.to_string_lossy().into_owned());
        if let Some(text) = text("WORKERGEN_HTTP_TIMEOUT") {
            let seconds: f64 = text
                .trim()
                .parse()
                .ok()
                .filter(|seconds: &f64| seconds.is_finite() && *seconds > 0.0)
                .ok_or_else(|| {
                    format!("`WORKERGEN_HTTP_TIMEOUT={text}` is not a number of seconds, e.g. `30` or `0.5`")
                })?;
            options.timeout = Duration::from_secs_f64(seconds);
        }
        if let Some(text) = text("WORKERGEN_HTTP_BACKOFF_MS") {
            let millis: u64 = text
                .trim()
                .parse()
                .map_err(|_| format!("`WORKERGEN_HTTP_BACKOFF_MS={text}` is not a number of milliseconds"))?;
            options.backoff = Duration::from_millis(millis);
        }
        if let Some(path) = var("SSL_CERT_FILE") {
            let pem = std::fs::read(&path).map_err(|error| {
                format!(
                    "cannot read `SSL_CERT_FILE` `{}`: {error}",
                    std::path::Path::new(&path).display()
                )
            })?;
            options.ca_certificates = Some(pem);
        }
        Ok(options)
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
            attempts: 4,
            ca_certificates: None,
        }
    }
}

/// The longest `Retry-After` we honour; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What one response body may weigh: a `workers/all` of tens of thousands of workers.
const BODY_LIMIT: u64 = 512 * 1024 * 1024;

/// One Octopus server, one API key.
pub struct Client {
    agent: ureq::Agent,
    /// The server URL without its trailing `/`.
    base: String,
    api_key: String,
    /// Named in errors.
    environment: String,
    options: ClientOptions,
    requests: Arc<AtomicUsize>,
}

/// An HTTP method, named in errors and in the printed writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Delete,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        })
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TransportKind {
    Timeout,
    Tls,
    Connect,
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timed out",
            TransportKind::Tls => "TLS failed",
            TransportKind::Connect => "cannot connect",
            TransportKind::Other => "failed",
        })
    }
}

/// What one attempt gave.
enum Attempt {
    Done(Vec<u8>),
    /// Worth another try, after at least this long (`Retry-After`).
    Retry(Option<Duration>, StatusError),
    Failed(StatusError),
}

impl Client {
    /// A client for `server_url`; `requests` counts every request sent (retries too).
    pub fn new(
        server_url: &str,
        api_key: &str,
        environment: &str,
        options: &ClientOptions,
        requests: Arc<AtomicUsize>,
    ) -> Result<Self, StatusError> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = &options.ca_certificates {
            let certificates: Vec<_> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
                    _ => None,
                })
                .collect();
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certificates));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(options.timeout))
            .user_agent(format!("workergen/{}", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        Ok(Self {
            agent: config.new_agent(),
            base: server_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            environment: environment.to_string(),
            options: options.clone(),
            requests,
        })
    }

    /// `GET path` as JSON.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, StatusError> {
        let bytes = self.send(Method::Get, path, None)?;
        serde_json::from_slice(&bytes).map_err(|error| StatusError::Response {
            environment: self.environment.clone(),
            url: self.url(path),
            detail: error.to_string(),
        })
    }

    /// `PUT path` with a JSON body.
    pub fn put(&self, path: &str, body: &serde_json::Value) -> Result<(), StatusError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.send(Method::Put, path, Some(&bytes)).map(drop)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Result<(), StatusError> {
        self.send(Method::Delete, path, None).map(drop)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send(&self, method: Method, path: &str, body: Option<&[u8]>) -> Result<Vec<u8>, StatusError> {
        let mut delay = self.options.backoff;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.attempt(method, path, body) {
                Attempt::Done(bytes) => return Ok(bytes),
                Attempt::Failed(error) => return Err(error),
                Attempt::Retry(_, error) if tries >= self.options.attempts.max(1) => return Err(error),
                Attempt::Retry(retry_after, _) => {
                    std::thread::sleep(retry_after.map_or(delay, |after| after.min(MAX_RETRY_AFTER)));
                    delay = delay.saturating_mul(2);
                }
            }
        }
    }

    fn attempt(&self, method: Method, path: &str, body: Option<&[u8]>) -> Attempt {
        let url = self.url(path);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = match method {
            Method::Get => self.with_headers(self.agent.get(&url)).call(),
            Method::Delete => self.with_headers(self.agent.delete(&url)).call(),
            Method::Put => self
                .with_headers(self.agent.put(&url))
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_default()),
        };
        let mut response = match result {
            Ok(response) => response,
            Err(error) => return Attempt::Failed(self.transport_error(method, &url, &error)),
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return match response.body_mut().with_config().limit(BODY_LIMIT).read_to_vec() {
                Ok(bytes) => Attempt::Done(bytes),
                Err(error) => Attempt::Failed(self.transport_error(method, &url, &error)),
            };
        }
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let message = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_vec()
            .ok()
            .and_then(|bytes| error_message(&bytes))
            .map(|message| message.replace(&self.api_key, "***"));
        let error = StatusError::Http {
            environment: self.environment.clone(),
            method,
            url,
            status,
            message,
        };
        if status == 429 || status >= 500 {
            Attempt::Retry(retry_after, error)
        } else {
            Attempt::Failed(error)
        }
    }

    fn with_headers<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        request
            .header("X-Octopus-ApiKey", &self.api_key)
            .header("Accept", "application/json")
    }

    // `dyn Error::is` named in full, with its bounds, is longer than the closure.
    #[allow(clippy::redundant_closure_for_method_calls)]
    fn transport_error(&self, method: Method, url: &str, error: &ureq::Error) -> StatusError {
        let kind = match error {
            ureq::Error::Timeout(_) => TransportKind::Timeout,
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => TransportKind::Tls,
            // rustls's own errors reach us wrapped in `io::Error`.
            ureq::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => TransportKind::Tls,
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => TransportKind::Timeout,
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportKind::Connect,
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                TransportKind::Connect
            }
            _ => TransportKind::Other,
        };
        StatusError::Transport {
            environment: self.environment.clone(),
            method,
            url: url.to_string(),
            kind,
            detail: error.to_string().replace(&self.api_key, "***"),
        }
    }
}

/// Octopus explains a refusal in `ErrorMessage` (and `Errors`).
fn error_message(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct ErrorBody {
        error_message: Option<String>,
        #[serde(default)]
        errors: Vec<String>,
    }
    let body: ErrorBody = serde_json::from_slice(bytes).ok()?;
    let mut parts: Vec<String> = body.error_message.into_iter().collect();
    parts.extend(body.errors);
    let text = parts.join("; ");
    (!text.is_empty()).then(|| text.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_octopus_error_messages() {
        let body = br#"{"ErrorMessage":"You must be logged in","Errors":["API key invalid"]}"#;
        assert_eq!(
            error_message(body).as_deref(),
            Some("You must be logged in; API key invalid")
        );
        assert_eq!(error_message(b"<html>"), None);
        assert_eq!(error_message(b"{}"), None);
    }
}
