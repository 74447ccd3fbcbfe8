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
//!
//! Nothing the server answers can make the client lie or stall: redirects are not
//! followed by ureq but here, and only a GET to the same origin (a PUT or DELETE turned
//! into a GET would be reported as done with nothing written; another origin must never
//! see the key); `Retry-After` (seconds or an HTTP date) is waited at most
//! [`ClientOptions::max_wait`] at a time and [`RETRY_BUDGET`] in all, with a message;
//! bodies are read through a size limit, as a stream.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    /// The longest wait a `Retry-After` gets; a longer one is cut to this.
    pub max_wait: Duration,
    /// The most bytes one response body may have.
    pub body_limit: u64,
    /// Milliseconds waited for retries so far by every client made from these options
    /// (clones share it): one run waits at most [`RETRY_BUDGET`] in all, however many
    /// requests, environments or servers it has.
    pub waited_ms: Arc<AtomicU64>,
    /// The most one run waits for retries in all ([`RETRY_BUDGET`] unless a test says).
    pub retry_budget: Duration,
}

impl ClientOptions {
    /// The options the environment sets, through `var` (the process's variables, or a
    /// test's): `WORKERGEN_HTTP_TIMEOUT` (seconds per request, default 30),
    /// `SSL_CERT_FILE` (PEM roots to trust instead of the built-in ones; a file without a
    /// certificate is an error), `WORKERGEN_HTTP_MAX_BODY_MB` (default 100), and, for
    /// tests, `WORKERGEN_HTTP_BACKOFF_MS` and `WORKERGEN_HTTP_MAX_WAIT_MS`. The error says
    /// which variable is wrong.
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
        if let Some(text) = text("WORKERGEN_HTTP_MAX_WAIT_MS") {
            let millis: u64 = text
                .trim()
                .parse()
                .map_err(|_| format!("`WORKERGEN_HTTP_MAX_WAIT_MS={text}` is not a number of milliseconds"))?;
            options.max_wait = Duration::from_millis(millis);
        }
        if let Some(text) = text("WORKERGEN_HTTP_RETRY_BUDGET_MS") {
            let millis: u64 = text
                .trim()
                .parse()
                .map_err(|_| format!("`WORKERGEN_HTTP_RETRY_BUDGET_MS={text}` is not a number of milliseconds"))?;
            options.retry_budget = Duration::from_millis(millis);
        }
        if let Some(text) = text("WORKERGEN_HTTP_MAX_BODY_MB") {
            let megabytes: u64 = text
                .trim()
                .parse()
                .ok()
                .filter(|megabytes| *megabytes > 0)
                .ok_or_else(|| {
                    format!("`WORKERGEN_HTTP_MAX_BODY_MB={text}` is not a number of megabytes, e.g. `500`")
                })?;
            options.body_limit = megabytes.saturating_mul(1_000_000);
        }
        if let Some(path) = var("SSL_CERT_FILE") {
            let shown = std::path::Path::new(&path).display().to_string();
            let pem =
                std::fs::read(&path).map_err(|error| format!("cannot read `SSL_CERT_FILE` `{shown}`: {error}"))?;
            if certificates(&pem).is_empty() {
                // rustls would take an empty root store and fail every handshake later,
                // as a TLS error that does not name the file.
                return Err(format!(
                    "`SSL_CERT_FILE` `{shown}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)"
                ));
            }
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
            max_wait: Duration::from_secs(60),
            // A `workers/all` of 40,000 workers (about 2.5 KB each as JSON).
            body_limit: 100_000_000,
            waited_ms: Arc::new(AtomicU64::new(0)),
            retry_budget: RETRY_BUDGET,
        }
    }
}

/// The most one run waits for retries in all, `Retry-After` included, across every
/// request and server: past it, the last answer is the error.
pub const RETRY_BUDGET: Duration = Duration::from_secs(180);

/// What the answers other than `workers/all` may weigh: a thousand spaces, pools or
/// policies are well under a megabyte.
pub const SMALL_BODY_LIMIT: u64 = 10_000_000;

/// Same-origin redirects a GET follows before giving up.
const MAX_REDIRECTS: usize = 5;

/// How a request proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key (`API-...`), sent as `X-Octopus-ApiKey`.
    ApiKey(String),
    /// An access token (OIDC, a service account's), sent as `Authorization: Bearer`.
    Bearer(String),
    /// Nothing: `GET /api`, which Octopus answers to anyone.
    None,
}

impl Credential {
    fn secret(&self) -> Option<&str> {
        match self {
            Credential::ApiKey(secret) | Credential::Bearer(secret) => Some(secret),
            Credential::None => None,
        }
    }
}

/// One Octopus server, one credential.
pub struct Client<'a> {
    agent: ureq::Agent,
    /// The server URL without its trailing `/`.
    base: String,
    /// `scheme://host[:port]` of `base`: the only origin that receives the credential.
    origin: String,
    credential: Credential,
    /// Named in errors.
    environment: String,
    options: ClientOptions,
    requests: Arc<AtomicUsize>,
    /// Told of each wait before a retry.
    waiting: &'a (dyn Fn(&str) + Sync),
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

/// The certificates of a PEM file.
fn certificates(pem: &[u8]) -> Vec<ureq::tls::Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect()
}

/// What one attempt gave.
enum Attempt {
    Done(Body),
    /// Worth another try, after at least this long (`Retry-After`).
    Retry(Option<RetryAfter>, StatusError),
    Failed(StatusError),
}

/// A successful answer, its body not read yet: JSON is parsed from it as it arrives.
struct Body {
    response: ureq::http::Response<ureq::Body>,
    url: String,
}

/// A body read up to a limit; past it, an error and `exceeded` set (the parser's error
/// alone would not say why the input ended).
struct Limited<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R: std::io::Read> std::io::Read for Limited<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        // One byte past the limit tells a body of exactly the limit from a longer one.
        let room = usize::try_from(self.left.saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        let read = self.inner.read(&mut buffer[..room])?;
        if read as u64 > self.left {
            self.exceeded = true;
            return Err(std::io::Error::other("response body over the limit"));
        }
        self.left -= read as u64;
        Ok(read)
    }
}

/// What a `Retry-After` header asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RetryAfter(Duration);

impl<'a> Client<'a> {
    /// A client for `server_url`; `requests` counts every request sent (retries too),
    /// `waiting` hears of each wait before a retry.
    pub fn new(
        server_url: &str,
        credential: Credential,
        environment: &str,
        options: &ClientOptions,
        requests: Arc<AtomicUsize>,
        waiting: &'a (dyn Fn(&str) + Sync),
    ) -> Self {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = &options.ca_certificates {
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certificates(pem)));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are ours to judge (see the module doc).
            .max_redirects(0)
            .timeout_global(Some(options.timeout))
            .user_agent(format!("workergen/{}", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        let base = server_url.trim_end_matches('/').to_string();
        Self {
            agent: config.new_agent(),
            origin: crate::server_url::origin(&base),
            base,
            credential,
            environment: environment.to_string(),
            options: options.clone(),
            requests,
            waiting,
        }
    }

    /// `GET path` as JSON, parsed as it is read (a body is never held whole as bytes), at
    /// most [`SMALL_BODY_LIMIT`]: spaces, pools and policies are a few kilobytes.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, StatusError> {
        self.get_limited(path, self.options.body_limit.min(SMALL_BODY_LIMIT))
    }

    /// `GET path` as JSON, up to [`ClientOptions::body_limit`]: for `workers/all`, which
    /// grows with the fleet.
    pub fn get_large<T: DeserializeOwned>(&self, path: &str) -> Result<T, StatusError> {
        self.get_limited(path, self.options.body_limit)
    }

    fn get_limited<T: DeserializeOwned>(&self, path: &str, limit: u64) -> Result<T, StatusError> {
        let body = self.send(Method::Get, path, None)?;
        let mut reader = Limited {
            inner: body.response.into_body().into_reader(),
            left: limit,
            exceeded: false,
        };
        let parsed = serde_json::from_reader(std::io::BufReader::new(&mut reader));
        parsed.map_err(|error| {
            if reader.exceeded {
                StatusError::TooLarge {
                    environment: self.environment.clone(),
                    url: body.url.clone(),
                    limit,
                }
            } else {
                StatusError::Response {
                    environment: self.environment.clone(),
                    url: body.url.clone(),
                    detail: super::shown(&error.to_string()).into_owned(),
                }
            }
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

    fn send(&self, method: Method, path: &str, body: Option<&[u8]>) -> Result<Body, StatusError> {
        let mut delay = self.options.backoff;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.attempt(method, &self.url(path), body) {
                Attempt::Done(body) => return Ok(body),
                Attempt::Failed(error) => return Err(error),
                Attempt::Retry(_, error) if tries >= self.options.attempts.max(1) => return Err(error),
                Attempt::Retry(retry_after, error) => {
                    let Some(wait) = self.reserve_wait(retry_after, delay) else {
                        return Err(error);
                    };
                    (self.waiting)(&waiting_message(&error, retry_after, wait));
                    std::thread::sleep(wait);
                    delay = delay.saturating_mul(2);
                }
            }
        }
    }

    /// The next wait, taken from the run's budget (shared with the other threads' clients);
    /// `None` when the budget cannot hold it.
    fn reserve_wait(&self, retry_after: Option<RetryAfter>, backoff: Duration) -> Option<Duration> {
        let mut wait = None;
        self.options
            .waited_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |waited_ms| {
                let waited = Duration::from_millis(waited_ms);
                wait = next_wait(
                    retry_after,
                    backoff,
                    self.options.max_wait,
                    self.options.retry_budget,
                    waited,
                );
                wait.map(|wait| waited_ms.saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)))
            })
            .ok()?;
        wait
    }

    /// One request, with the same-origin redirects of a GET followed.
    fn attempt(&self, method: Method, url: &str, body: Option<&[u8]>) -> Attempt {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut response = match self.request(method, &url, body) {
                Ok(response) => response,
                Err(error) => return Attempt::Failed(error),
            };
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Attempt::Done(Body { response, url });
            }
            if (300..400).contains(&status) {
                let location = response
                    .headers()
                    .get("Location")
                    .and_then(|value| value.to_str().ok())
                    .map(|location| resolve(&url, location));
                let Some(location) = location else {
                    return Attempt::Failed(self.http_error(method, url, status, None));
                };
                let cross_origin = crate::server_url::origin(&location) != self.origin;
                if method != Method::Get || cross_origin {
                    return Attempt::Failed(StatusError::Redirect {
                        environment: self.environment.clone(),
                        method,
                        url,
                        status,
                        location: super::shown(&location).into_owned(),
                        cross_origin,
                    });
                }
                url = location;
                continue;
            }
            return self.refusal(method, url, status, &mut response);
        }
        Attempt::Failed(self.http_error(method, url, 310, Some("too many redirects".into())))
    }

    /// Sends one request to `url`, with the credential only when `url` is the server's own
    /// origin.
    fn request(
        &self,
        method: Method,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<ureq::http::Response<ureq::Body>, StatusError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let same_origin = crate::server_url::origin(url) == self.origin;
        let result = match method {
            Method::Get => self.with_headers(self.agent.get(url), same_origin).call(),
            Method::Delete => self.with_headers(self.agent.delete(url), same_origin).call(),
            Method::Put => self
                .with_headers(self.agent.put(url), same_origin)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_default()),
        };
        result.map_err(|error| self.transport_error(method, url, &error))
    }

    fn http_error(&self, method: Method, url: String, status: u16, message: Option<String>) -> StatusError {
        StatusError::Http {
            environment: self.environment.clone(),
            method,
            url,
            status,
            message,
        }
    }

    /// A 4xx or 5xx answer: retried when the server may recover (429, 5xx).
    fn refusal(
        &self,
        method: Method,
        url: String,
        status: u16,
        response: &mut ureq::http::Response<ureq::Body>,
    ) -> Attempt {
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, std::time::SystemTime::now()));
        let message = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_vec()
            .ok()
            .and_then(|bytes| error_message(&bytes))
            .map(|message| match self.credential.secret() {
                Some(secret) => message.replace(secret, "***"),
                None => message,
            });
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

    fn with_headers<B>(&self, request: ureq::RequestBuilder<B>, same_origin: bool) -> ureq::RequestBuilder<B> {
        let request = request.header("Accept", "application/json");
        match &self.credential {
            _ if !same_origin => request,
            Credential::ApiKey(key) => request.header("X-Octopus-ApiKey", key),
            Credential::Bearer(token) => request.header("Authorization", format!("Bearer {token}")),
            Credential::None => request,
        }
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
            detail: match self.credential.secret() {
                Some(secret) => error.to_string().replace(secret, "***"),
                None => error.to_string(),
            },
        }
    }
}

/// `location` as an absolute URL, relative to `url` when it is a path.
fn resolve(url: &str, location: &str) -> String {
    let location = location.trim();
    if location.contains("://") {
        return location.to_string();
    }
    let origin_end = url
        .find("://")
        .map(|start| start + 3 + url[start + 3..].find('/').unwrap_or(url.len() - start - 3))
        .unwrap_or(url.len());
    if let Some(path) = location.strip_prefix('/') {
        if location.starts_with("//") {
            let scheme = url.split("://").next().unwrap_or("https");
            return format!("{scheme}:{location}");
        }
        return format!("{}/{path}", &url[..origin_end]);
    }
    let folder_end = url.rfind('/').filter(|&end| end >= origin_end).unwrap_or(origin_end);
    format!("{}/{location}", &url[..folder_end])
}

/// `Retry-After` as seconds or as an HTTP date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37
/// GMT`), as the time left from `now`.
fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<RetryAfter> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(RetryAfter(Duration::from_secs(seconds)));
    }
    let when = http_date(value)?;
    let now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(RetryAfter(Duration::from_secs(when.saturating_sub(now))))
}

/// Seconds since 1970 of an IMF-fixdate; `None` for anything else.
fn http_date(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|name| name == month)? as i64 + 1;
    let day: i64 = day.parse().ok().filter(|day| (1..=31).contains(day))?;
    let year: i64 = year.parse().ok().filter(|year| *year >= 1970)?;
    let clock: Vec<i64> = time.split(':').map(str::parse).collect::<Result<_, _>>().ok()?;
    let [hour, minute, second] = clock.as_slice() else {
        return None;
    };
    if *hour > 23 || *minute > 59 || *second > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), March-based years.
    let year_from_march = if month <= 2 { year - 1 } else { year };
    let era = year_from_march.div_euclid(400);
    let year_of_era = year_from_march - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// How long to wait before the next try: what the server asked (at most `max_wait`), or
/// the backoff; `None` when that would pass the `budget` the run has already `waited` into.
fn next_wait(
    retry_after: Option<RetryAfter>,
    backoff: Duration,
    max_wait: Duration,
    budget: Duration,
    waited: Duration,
) -> Option<Duration> {
    let wait = retry_after.map_or(backoff, |RetryAfter(asked)| asked.min(max_wait));
    (waited + wait <= budget).then_some(wait)
}

fn waiting_message(error: &StatusError, retry_after: Option<RetryAfter>, wait: Duration) -> String {
    let asked = match retry_after {
        Some(RetryAfter(asked)) if asked > wait => format!(
            " (it asked for {} s; waits are cut to {} s)",
            asked.as_secs(),
            wait.as_secs_f64()
        ),
        Some(_) => " (as it asked)".to_string(),
        None => String::new(),
    };
    format!("{error}; retrying in {} s{asked}", wait.as_secs_f64())
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

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(RetryAfter(Duration::from_secs(120)))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now),
            Some(RetryAfter(Duration::from_secs(120)))
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date("Tue, 29 Feb 2028 23:59:59 GMT"), Some(1_835_481_599));
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(RetryAfter(Duration::ZERO)),
            "a date in the past: no wait"
        );
        for bad in [
            "soon",
            "-1",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn waits_are_capped_and_budgeted() {
        let max = Duration::from_secs(60);
        let backoff = Duration::from_millis(500);
        let asked = |seconds| Some(RetryAfter(Duration::from_secs(seconds)));
        assert_eq!(
            next_wait(asked(100_000), backoff, max, RETRY_BUDGET, Duration::ZERO),
            Some(max)
        );
        assert_eq!(
            next_wait(asked(3), backoff, max, RETRY_BUDGET, Duration::ZERO),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            next_wait(None, backoff, max, RETRY_BUDGET, Duration::ZERO),
            Some(backoff)
        );
        assert_eq!(
            next_wait(asked(60), backoff, max, RETRY_BUDGET, Duration::from_secs(120)),
            Some(max)
        );
        assert_eq!(
            next_wait(asked(60), backoff, max, RETRY_BUDGET, Duration::from_secs(121)),
            None,
            "past the budget"
        );
    }

    #[test]
    fn redirect_locations_resolve_against_the_request() {
        let url = "http://127.0.0.1:8080/api/Spaces-1/workers/Workers-1";
        assert_eq!(
            resolve(url, "https://octopus.example.com/x"),
            "https://octopus.example.com/x"
        );
        assert_eq!(resolve(url, "/api/x"), "http://127.0.0.1:8080/api/x");
        assert_eq!(
            resolve(url, "Workers-2"),
            "http://127.0.0.1:8080/api/Spaces-1/workers/Workers-2"
        );
        assert_eq!(resolve(url, "//evil.example.com/api"), "http://evil.example.com/api");
    }
}
