//! Durations as Go writes them (`1h30m`, `1.5h`, `500ms`), the one reader for the
//! durations the GitOps tools read: Flux's `interval` and ESO's `refreshInterval`. The
//! two differ only in the units they accept and in ESO's bare `0`.

/// The units of Go's `time.ParseDuration`, which ESO reads `refreshInterval` with.
pub(crate) const GO_UNITS: [&str; 7] = ["ns", "us", "µs", "ms", "s", "m", "h"];

/// The units Flux's CRDs accept, from their pattern `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`.
pub(crate) const FLUX_UNITS: [&str; 4] = ["ms", "s", "m", "h"];

/// Whether `text` is one or more numbers (`1`, `1.5`, never `1.` or `.5`), each followed
/// by one of `units` (the longest that fits: `ms` is not `m` then `s`).
pub(crate) fn is_duration(text: &str, units: &[&str]) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = units
            .iter()
            .filter(|unit| rest.starts_with(**unit))
            .max_by_key(|unit| unit.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// Whether `text` is a duration as ESO (Go's `time.ParseDuration`) reads it: one or more
/// numbers, each with a unit, or `0`.
pub(crate) fn is_go_duration(text: &str) -> bool {
    text == "0" || is_duration(text, &GO_UNITS)
}

/// Whether `text` is a duration Flux's API accepts.
pub(crate) fn is_flux_duration(text: &str) -> bool {
    is_duration(text, &FLUX_UNITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_reads_them() {
        for good in [
            "1h", "15m", "1h30m", "0", "90s", "1.5h", "500ms", "2h45m30s", "10us", "3µs",
        ] {
            assert!(is_go_duration(good), "{good}");
        }
        for bad in ["", "1", "h", "1d", "1 h", "-1h", "1.h", ".5h", "1h-", "one hour", "1H"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn flux_durations() {
        for good in ["10m", "1h30m", "1.5h", "500ms", "30s"] {
            assert!(is_flux_duration(good), "{good}");
        }
        for bad in ["", "0", "10", "m", "10 m", "1d", "1..5h", "10us"] {
            assert!(!is_flux_duration(bad), "{bad}");
        }
    }
}
