//! Chart versions: SemVer 2.0 as the `semver` crate reads it, the one parser of
//! versions here.
//!
//! Helm and OCI registries order chart versions by SemVer precedence, so that is the
//! order used to pick the newest version of a cluster; a prerelease's numeric
//! identifiers compare as numbers (`-rc.2` before `-rc.10`) and build metadata does not
//! count.

use std::cmp::Ordering;

use semver::Version;

/// `text` as a SemVer 2.0 version: three numbers without leading zeros, then an
/// optional `-prerelease` and `+build`.
pub(crate) fn parse(text: &str) -> Option<Version> {
    Version::parse(text).ok()
}

/// Whether `text` is a SemVer 2.0 version.
pub(crate) fn is_semver(text: &str) -> bool {
    parse(text).is_some()
}

/// Orders two versions by SemVer precedence; versions that do not parse come first,
/// and ties (such as `+build` metadata alone) are broken by the text.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let precedence = |text: &str| parse(text).map(|version| (version.major, version.minor, version.patch, version.pre));
    precedence(a).cmp(&precedence(b)).then_with(|| a.cmp(b))
}

/// Whether `a` has no higher precedence than `b`, both versions; `None` if either does
/// not parse.
pub(crate) fn not_newer(a: &str, b: &str) -> Option<bool> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(a.cmp_precedence(&b) != Ordering::Greater)
}

/// Whether `text` reads as one version rather than a range: three dot-separated
/// numbers, then only the characters a prerelease or build may hold. Tells a range
/// (`^3.13.2`, `3.x`, `3.13`) from a version that breaks a SemVer rule (`03.13.2`), for
/// the hint; [`is_semver`] decides whether it is valid.
pub(crate) fn looks_exact(text: &str) -> bool {
    let core = text.split(['-', '+']).next().unwrap_or_default();
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|number| !number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit()))
        && text[core.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
}

/// The major of a version or version constraint (`3.13.2`, `"2.*.*"`, `v2`, `^3`): the
/// number it starts with.
pub(crate) fn major(text: &str) -> Option<u64> {
    let digits: String = text
        .trim_start_matches(['v', '^', '~', '='])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_versions_only() {
        for good in [
            "3.13.2",
            "0.1.0",
            "3.0.0-beta.1",
            "3.0.0-0",
            "3.1.0+build.5",
            "1.0.0-x-y.z+001",
        ] {
            assert!(is_semver(good), "{good}");
        }
        for bad in [
            "03.13.2",
            "3.013.2",
            "3.13.02",
            "3.0.0-01",
            "3.0.0-",
            "3.0.0+",
            "3.0.0-a..b",
            "3.13",
            "v3.13.2",
            "",
        ] {
            assert!(!is_semver(bad), "{bad}");
        }
    }

    #[test]
    fn exact_versions_only() {
        for good in ["3.13.2", "2.51.2", "3.0.0-beta.1", "3.1.0+build.5", "03.13.2"] {
            assert!(looks_exact(good), "{good}");
        }
        for bad in [
            "3",
            "3.13",
            "^3.13.2",
            "~3.13.2",
            "3.*.*",
            "3.x",
            ">=3.0.0",
            "3.13.2 || 3.14.0",
            "",
        ] {
            assert!(!looks_exact(bad), "{bad}");
        }
    }

    /// Prerelease identifiers that are numbers compare as numbers: compared as text,
    /// `rc.10` came before `rc.2`.
    #[test]
    fn prereleases_compare_their_numbers_as_numbers() {
        assert_eq!(compare("3.13.2-rc.2", "3.13.2-rc.10"), Ordering::Less);
        assert_eq!(compare("3.13.2-rc.10", "3.13.2"), Ordering::Less);
        assert_eq!(compare("3.13.2-alpha", "3.13.2-alpha.1"), Ordering::Less);
        assert_eq!(compare("3.13.2-rc.1", "3.13.2-rc.a"), Ordering::Less);
        assert_eq!(compare("not-a-version", "0.0.1"), Ordering::Less);
        assert_eq!(compare("3.13.2+build.5", "3.13.2"), Ordering::Greater);
        assert_eq!(not_newer("3.13.2+build.5", "3.13.2"), Some(true));
        assert_eq!(not_newer("3.13.2-rc.10", "3.13.2-rc.2"), Some(false));
        assert_eq!(not_newer("3.13", "3.13.2"), None);
    }

    #[test]
    fn majors_of_versions_and_constraints() {
        assert_eq!(major("3.13.2"), Some(3));
        assert_eq!(major("2.*.*"), Some(2));
        assert_eq!(major("v2.1"), Some(2));
        assert_eq!(major("^3"), Some(3));
        assert_eq!(major("latest"), None);
    }
}
