//! Every rule of DESIGN section 4, one file per family, all problems collected.
//!
//! [`validate`] runs after [`crate::model::resolve`]; the plaintext credential walk
//! ([`credentials::check_files`]) runs on the parsed files before that, since a
//! credential may stand anywhere.

pub mod credentials;
mod environments;
mod names;
mod settings;
mod workers;

use rayon::prelude::*;

use crate::diagnostic::Report;
use crate::model::Fleet;

/// Checks the resolved fleet; problems go to `report`.
pub fn validate(fleet: &Fleet, report: &mut Report) {
    settings::check(fleet, report);
    environments::check(fleet, report);
    names::check(fleet, report);
    let per_worker: Vec<_> = fleet
        .workers
        .par_iter()
        .filter(|worker| worker.enabled)
        .map(|worker| workers::check(fleet, worker))
        .collect();
    per_worker
        .into_iter()
        .for_each(|diagnostics| report.extend(diagnostics));
}

/// Whether `name` is a DNS-1123 label: lowercase letters, digits and `-`, starting and
/// ending with a letter or digit, at most 63 characters.
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A lowercase, DNS-safe spelling of `name`, for a hint.
pub fn dns_suggestion(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out: String = out.trim_matches('-').chars().take(63).collect();
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("build-linux"));
        assert!(is_dns_label("a1"));
        assert!(!is_dns_label("Build"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label("a-"));
        assert!(!is_dns_label("../etc"));
        assert!(!is_dns_label(""));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert_eq!(dns_suggestion("Build_Linux"), "build-linux");
    }
}
