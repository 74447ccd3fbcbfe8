//! An Octopus server URL as a key: the same server written two ways (`HTTPS://Octopus.example.com:443/`
//! and `https://octopus.example.com`) is one server, for `status` (whose orphans are judged
//! per server) and for the `displayName` rule (two workers of one server and space must
//! not share a name).

/// The URL's origin and path, compared as a server compares them: scheme and host in
/// lowercase, the scheme's default port dropped, no trailing `/`, no query or fragment.
/// The path keeps its case (a reverse proxy may route on it).
///
/// ```
/// use workergen::server_url::normalize;
/// assert_eq!(normalize("HTTPS://Octopus.Example.com:443/"), "https://octopus.example.com");
/// assert_eq!(normalize("https://octopus.example.com/Octo/"), "https://octopus.example.com/Octo");
/// ```
pub fn normalize(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.trim_end_matches('/').to_string();
    };
    let scheme = scheme.to_ascii_lowercase();
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let path = tail.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
    // Credentials in the URL are not part of the server's identity.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host_port = host_port.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    let host = match default_port {
        Some(port) => host_port.strip_suffix(port).unwrap_or(&host_port),
        None => &host_port,
    };
    let host = host.trim_end_matches('.');
    format!("{scheme}://{host}{path}")
}

/// `scheme://host[:port]` of `url` (normalized): what may receive the API key.
pub fn origin(url: &str) -> String {
    let normalized = normalize(url);
    match normalized.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or_default();
            format!("{scheme}://{host}")
        }
        None => normalized,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_written_many_ways_is_one_key() {
        let key = normalize("https://octopus.example.com");
        for spelling in [
            "https://octopus.example.com/",
            "HTTPS://OCTOPUS.example.com:443",
            "https://Octopus.Example.Com:443/",
            "https://octopus.example.com//",
            "https://octopus.example.com/?x=1",
            "https://user@octopus.example.com/",
            " https://octopus.example.com. ",
        ] {
            assert_eq!(normalize(spelling), key, "{spelling}");
        }
    }

    #[test]
    fn different_servers_stay_different() {
        let key = normalize("https://octopus.example.com");
        for other in [
            "http://octopus.example.com",
            "https://octopus.example.com:8443",
            "https://octopus.example.com/octo",
            "https://octopus2.example.com",
        ] {
            assert_ne!(normalize(other), key, "{other}");
        }
        assert_eq!(normalize("http://a.example.com:80/x/"), "http://a.example.com/x");
        assert_eq!(normalize("http://a.example.com:443/"), "http://a.example.com:443");
    }

    #[test]
    fn origins_leave_the_path_out() {
        assert_eq!(origin("HTTPS://A.example.com:443/octo/api"), "https://a.example.com");
        assert_eq!(origin("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_ne!(origin("http://a.example.com/"), origin("https://a.example.com/"));
    }
}
