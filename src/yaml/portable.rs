//! Plain scalars that every reader of our output reads alike.
//!
//! Helm, kustomize, Flux and Argo CD read YAML with Go's YAML 1.1-style rules; workergen
//! reads YAML 1.2. A plain `yes` is true to one and the text "yes" to the other, `0777`
//! is 511 to one and 777 to the other. In a text field the question never arises: the
//! text is kept as written and written quoted. In `values`, whose scalars keep their YAML
//! type, [`check`] refuses every plain scalar the two read differently, with both
//! readings in the hint, and every number Helm cannot hold (its values pass through JSON
//! as 64-bit floats), so that what Helm reads is what was declared.

use super::{Node, Value};
use crate::diagnostic::Diagnostic;

/// Pushes an error for every scalar under `node` that a YAML 1.1 reader (Helm) would
/// read differently from workergen, or could not read at all.
pub fn check(node: &Node, diagnostics: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|item| check(item, diagnostics)),
        Value::Map(map) => {
            for (key, child) in map.entries() {
                diagnostics.extend(check_key(key));
                check(child, diagnostics);
            }
        }
        _ => {
            if let Some(diagnostic) = check_scalar(node) {
                diagnostics.push(diagnostic);
            }
        }
    }
}

/// Pushes an error for every number under `node` that Helm cannot read as written: for
/// typed fields, whose text fields hold text by now, so only number fields
/// (`tolerationSeconds`, `runAsUser`, `fsGroup`, ...) have numbers left.
pub fn check_numbers(node: &Node, diagnostics: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|item| check_numbers(item, diagnostics)),
        Value::Map(map) => map
            .entries()
            .iter()
            .for_each(|(_, child)| check_numbers(child, diagnostics)),
        value => {
            if let Some((message, hint)) = unreadable_number(value, Advice::SmallerNumber) {
                diagnostics.push(Diagnostic::error(node.loc, message).with_hint(hint));
            }
        }
    }
}

/// A plain key that only YAML 1.1 reads as a boolean (`yes`, `Off`, `n`): Helm's reader
/// (go-yaml v2 behind sigs.k8s.io/yaml) makes it the key "true" or "false", YAML 1.2 the
/// text. The keys YAML 1.2 itself reads as no text are refused by the parser, in every
/// file; these only where the text reaches Helm as it was written.
fn check_key(key: &super::Key) -> Option<Diagnostic> {
    let boolean = yaml11_bool(&key.name).filter(|_| key.plain)?;
    let text = &key.name;
    let reader = if helm_reads_as_bool(text) {
        "YAML 1.1 (Helm)"
    } else {
        "YAML 1.1 (Helm reads the text)"
    };
    Some(
        Diagnostic::error(
            key.loc,
            format!("the plain map key `{text}` is {boolean} to {reader} and the text \"{text}\" to YAML 1.2"),
        )
        .with_hint(format!(
            "quote it, `\"{text}\":`, so every reader (Helm included) reads the same text"
        )),
    )
}

fn check_scalar(node: &Node) -> Option<Diagnostic> {
    if let Some(text) = node.plain.as_deref() {
        if let Some((message, hint)) = ambiguity(text, &node.value) {
            return Some(Diagnostic::error(node.loc, message).with_hint(hint));
        }
    }
    let (message, hint) = unreadable_number(&node.value, Advice::QuoteOrSmaller)?;
    Some(Diagnostic::error(node.loc, message).with_hint(hint))
}

/// The boolean YAML 1.1 reads `text` as, in any case (`yes`, `Off`, `N`, ...).
pub fn yaml11_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" => Some(true),
        "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Whether Go's YAML reader (Helm's) takes `text` for a boolean: the YAML 1.1 spellings
/// in lowercase, Capitalised or UPPERCASE.
fn helm_reads_as_bool(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let capitalised = lower
        .chars()
        .enumerate()
        .map(|(index, c)| if index == 0 { c.to_ascii_uppercase() } else { c })
        .collect::<String>();
    text == lower || text == capitalised || text == text.to_ascii_uppercase()
}

/// The message and hint for a plain scalar that YAML 1.1 and YAML 1.2 read differently.
fn ambiguity(text: &str, value: &Value) -> Option<(String, String)> {
    let message = format!("YAML 1.1 and YAML 1.2 read the plain value `{text}` differently");
    if let Some(boolean) = yaml11_bool(text) {
        let hint = if helm_reads_as_bool(text) {
            format!("YAML 1.1 (Helm) reads `{text}` as {boolean}, YAML 1.2 as the text \"{text}\": quote it or write `{boolean}`")
        } else {
            format!("YAML 1.1 reads `{text}` as {boolean} (Helm as the text), YAML 1.2 as the text \"{text}\": quote it or write `{boolean}`")
        };
        return Some((message, hint));
    }
    if let Some(number) = sexagesimal(text) {
        return Some((
            message,
            format!("YAML 1.1 reads `{text}` as {number} (base 60), YAML 1.2 as the text \"{text}\": quote it or write `{number}`"),
        ));
    }
    let Some(helm) = go_number(text) else {
        // `0x10000000000000000`: a number to YAML 1.2, beyond Go's 64-bit integers, so
        // Helm's reader keeps the text.
        return (has_base_prefix(text) && matches!(value, Value::Int(_) | Value::Float(_))).then(|| {
            (
                format!("`{text}` is a number only to some YAML readers"),
                format!("`{text}` is beyond 64 bits: YAML 1.1 (Helm) reads it as the text \"{text}\", YAML 1.2 as a number: quote it to keep the text, or write a smaller number"),
            )
        });
    };
    let ours = match value {
        Value::Int(value) => Some(*value as f64),
        Value::Float(written) => written.parse::<f64>().ok(),
        _ => None,
    };
    let ours_text = match value {
        Value::Int(value) => value.to_string(),
        _ => format!("the text \"{text}\""),
    };
    if has_base_prefix(text) {
        // Even where Helm and workergen read the same number, YAML 1.2's JSON schema
        // (and the tools that use it) read the text: say the number plainly.
        let number = &helm.text;
        let hint = if matches!(value, Value::Int(_) | Value::Float(_)) {
            format!("Helm and YAML 1.2's core schema read `{text}` as {number}, YAML 1.2's JSON schema as the text \"{text}\": write `{number}`, or quote it to keep the text")
        } else {
            format!("YAML 1.1 (Helm) reads `{text}` as {number}, YAML 1.2 as the text \"{text}\": write `{number}`, or quote it to keep the text")
        };
        return Some((format!("`{text}` is a number only to some YAML readers"), hint));
    }
    if ours == Some(helm.value) {
        return None;
    }
    let hint = if text.contains('_') {
        format!(
            "YAML 1.1 (Helm) reads `{text}` as {}, YAML 1.2 as {ours_text}: write `{}`, or quote it to keep the text",
            helm.text, helm.text
        )
    } else {
        format!(
            "YAML 1.1 (Helm) reads `{text}` as {} (octal), YAML 1.2 as {ours_text}: write `{}` or `{ours_text}`, or quote it",
            helm.text, helm.text
        )
    };
    Some((message, hint))
}

/// `0x`, `0o`, `0b` in any case, after an optional sign.
fn has_base_prefix(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text).to_ascii_lowercase();
    ["0x", "0o", "0b"].iter().any(|prefix| digits.starts_with(prefix))
}

/// A number as Go's YAML reader reads it.
struct GoNumber {
    value: f64,
    /// How to write it so every reader reads the same number.
    text: String,
}

/// What Go's YAML reader (yaml.v2, used by Helm through sigs.k8s.io/yaml) makes of a
/// plain scalar that looks numeric: underscores dropped, then Go's `ParseInt` with base
/// 0 (`0x`, `0o`, `0b`, and a leading `0` for octal), then a float.
fn go_number(text: &str) -> Option<GoNumber> {
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return None;
    }
    let plain = text.replace('_', "");
    let (negative, unsigned) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let lower = unsigned.to_ascii_lowercase();
    let radix_digits = if let Some(digits) = lower.strip_prefix("0x") {
        Some((16, digits))
    } else if let Some(digits) = lower.strip_prefix("0o") {
        Some((8, digits))
    } else if let Some(digits) = lower.strip_prefix("0b") {
        Some((2, digits))
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        Some((8, &lower[1..]))
    } else if !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_digit()) {
        Some((10, lower.as_str()))
    } else {
        None
    };
    if let Some((radix, digits)) = radix_digits {
        if let Ok(magnitude) = u128::from_str_radix(digits, radix) {
            if !digits.is_empty() && magnitude <= u128::from(u64::MAX) {
                let sign = if negative { "-" } else { "" };
                return Some(GoNumber {
                    value: if negative {
                        -(magnitude as f64)
                    } else {
                        magnitude as f64
                    },
                    text: format!("{sign}{magnitude}"),
                });
            }
        }
    }
    is_go_float(&plain).then(|| {
        let value = plain.parse::<f64>().unwrap_or(f64::NAN);
        GoNumber {
            value,
            text: format!("{value}"),
        }
    })
}

/// Go's YAML float form: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_go_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(index) => (&body[..index], Some(&body[index + 1..])),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|exponent| digits(exponent.strip_prefix(['-', '+']).unwrap_or(exponent)))
}

/// YAML 1.1's base 60 numbers (`12:30` is 750, `1:30.5` is 90.5), as a decimal.
fn sexagesimal(text: &str) -> Option<String> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut parts: Vec<&str> = body.split(':').collect();
    let last = parts.pop()?;
    let (last, fraction) = match last.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (last, None),
    };
    let first = parts.first()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let sixty = |s: &str| match s.as_bytes() {
        [digit] => digit.is_ascii_digit(),
        [tens, digit] => (b'0'..=b'5').contains(tens) && digit.is_ascii_digit(),
        _ => false,
    };
    let fits = digits(first)
        && first.starts_with(|c: char| c.is_ascii_digit())
        && (fraction.is_some() || !first.starts_with('0'))
        && parts[1..].iter().all(|part| sixty(part))
        && sixty(last)
        && fraction.is_none_or(|fraction| fraction.bytes().all(|b| b.is_ascii_digit() || b == b'_'));
    if !fits {
        return None;
    }
    let mut whole: u128 = 0;
    for part in parts.iter().chain([&last]) {
        let part: u128 = part.replace('_', "").parse().ok()?;
        whole = whole.checked_mul(60)?.checked_add(part)?;
    }
    let sign = if negative { "-" } else { "" };
    Some(match fraction.map(|fraction| fraction.replace('_', "")) {
        Some(fraction) if !fraction.is_empty() => format!("{sign}{whole}.{fraction}"),
        _ => format!("{sign}{whole}"),
    })
}

/// What a hint for a number Helm cannot read suggests: in `values` the text may do
/// (quoted), in a typed number field only another number.
#[derive(Clone, Copy)]
enum Advice {
    QuoteOrSmaller,
    SmallerNumber,
}

impl Advice {
    fn text(self) -> &'static str {
        match self {
            Self::QuoteOrSmaller => "quote it to pass the text, or write a smaller number",
            Self::SmallerNumber => {
                "the field takes a number: write one a 64-bit float holds exactly (integers up to 9007199254740992)"
            }
        }
    }
}

/// A number that Helm cannot read as written: infinity and NaN (JSON has neither), and
/// integers that a 64-bit float cannot hold exactly.
fn unreadable_number(value: &Value, advice: Advice) -> Option<(String, String)> {
    let text = match value {
        Value::Int(value) => value.to_string(),
        Value::Float(text) => text.clone(),
        _ => return None,
    };
    let lower = text.to_ascii_lowercase();
    if lower.ends_with(".inf") || lower.ends_with(".nan") {
        return Some((
            format!("Helm cannot read the number `{text}`"),
            "Helm passes values through JSON, which has no infinity or NaN: quote it to pass the text".to_string(),
        ));
    }
    if matches!(value, Value::Float(_)) && is_go_float(&text) && text.parse::<f64>().is_ok_and(f64::is_infinite) {
        return Some((
            format!("Helm cannot read the number `{text}`"),
            format!(
                "it is beyond what a 64-bit float holds, so Helm would read the text: {}",
                advice.text()
            ),
        ));
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(&text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let float = digits.parse::<f64>().ok()?;
    let exact = format!("{float:.0}");
    if exact == digits.trim_start_matches('0') || (exact == "0" && digits.bytes().all(|b| b == b'0')) {
        return None;
    }
    let sign = if text.starts_with('-') { "-" } else { "" };
    Some((
        format!("Helm cannot hold the number `{text}` exactly"),
        format!(
            "Helm reads numbers as 64-bit floats, so it would read {sign}{exact}: {}",
            advice.text()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{parse, Limits};

    /// The message and hint for `values: {k: <text>}`, if refused.
    fn refused(text: &str) -> Option<String> {
        let node = parse(&format!("k: {text}\n"), FileId(0), Limits::default()).unwrap();
        let mut diagnostics = Vec::new();
        check(&node, &mut diagnostics);
        diagnostics
            .into_iter()
            .next()
            .map(|d| format!("{} | {}", d.message, d.hint.unwrap_or_default()))
    }

    #[test]
    fn refuses_yaml11_booleans_in_any_case() {
        for text in [
            "yes", "Yes", "YES", "no", "NO", "on", "On", "off", "OFF", "y", "Y", "n", "N", "yEs", "oN",
        ] {
            assert!(refused(text).is_some(), "{text}");
        }
        assert_eq!(
            refused("yes").unwrap(),
            "YAML 1.1 and YAML 1.2 read the plain value `yes` differently | YAML 1.1 (Helm) reads `yes` as true, YAML 1.2 as the text \"yes\": quote it or write `true`"
        );
        assert!(refused("oN").unwrap().contains("(Helm as the text)"));
        for text in ["\"yes\"", "'no'", "true", "False", "yess", "null", "~", "!!str on"] {
            assert_eq!(refused(text), None, "{text}");
        }
    }

    /// Every message for `text`, a `values` tree.
    fn all_refused(text: &str) -> Vec<String> {
        let node = parse(text, FileId(0), Limits::default()).unwrap();
        let mut diagnostics = Vec::new();
        check(&node, &mut diagnostics);
        diagnostics
            .into_iter()
            .map(|d| {
                format!(
                    "{}:{} {} | {}",
                    d.loc.unwrap().line,
                    d.loc.unwrap().col,
                    d.message,
                    d.hint.unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn refuses_plain_keys_yaml11_reads_as_booleans_in_any_case() {
        for key in ["yes", "Yes", "NO", "on", "Off", "y", "Y", "n", "N", "yEs"] {
            assert_eq!(all_refused(&format!("agent:\n  {key}: a\n")).len(), 1, "{key}");
            assert_eq!(all_refused(&format!("a: {{b: {{{key}: 1}}}}\n")).len(), 1, "{key}");
        }
        assert_eq!(
            all_refused("agent:\n  nodeSelector: {on: a}\n"),
            ["2:18 the plain map key `on` is true to YAML 1.1 (Helm) and the text \"on\" to YAML 1.2 | quote it, `\"on\":`, so every reader (Helm included) reads the same text"]
        );
        assert!(all_refused("yEs: a\n")[0].contains("(Helm reads the text)"));
        for text in [
            "\"yes\": a\n",
            "'n': a\n",
            "!!str on: a\n",
            "yess: a\n",
            "nn: a\n",
            "a: [{b: 1}]\n",
        ] {
            assert_eq!(all_refused(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn refuses_numbers_go_reads_otherwise() {
        assert_eq!(
            refused("0777").unwrap(),
            "YAML 1.1 and YAML 1.2 read the plain value `0777` differently | YAML 1.1 (Helm) reads `0777` as 511 (octal), YAML 1.2 as 777: write `511` or `777`, or quote it"
        );
        assert!(refused("-012").unwrap().contains("as -10 (octal)"));
        assert!(refused("+0777").is_some());
        assert_eq!(
            refused("1_000").unwrap(),
            "YAML 1.1 and YAML 1.2 read the plain value `1_000` differently | YAML 1.1 (Helm) reads `1_000` as 1000, YAML 1.2 as the text \"1_000\": write `1000`, or quote it to keep the text"
        );
        assert_eq!(
            refused("0x1F").unwrap(),
            "`0x1F` is a number only to some YAML readers | Helm and YAML 1.2's core schema read `0x1F` as 31, YAML 1.2's JSON schema as the text \"0x1F\": write `31`, or quote it to keep the text"
        );
        assert!(refused("0B101")
            .unwrap()
            .contains("as 5, YAML 1.2 as the text \"0B101\""));
        assert!(refused("0o17").unwrap().contains("read `0o17` as 15,"));
        assert!(refused("0x8000000000000000")
            .unwrap()
            .contains("as 9223372036854775808,"));
        assert!(refused("-0x1f").unwrap().contains("as -31"));
        assert!(refused("1_0.5").unwrap().contains("as 10.5"));
        // Numbers both read alike pass.
        for text in [
            "0", "00", "08", "-0", "+1", "1.10", "1e3", ".5", "1.", "-0.0", "6.5.0", "0x",
        ] {
            assert_eq!(refused(text), None, "{text}");
        }
    }

    #[test]
    fn refuses_base_60() {
        assert_eq!(
            refused("12:30").unwrap(),
            "YAML 1.1 and YAML 1.2 read the plain value `12:30` differently | YAML 1.1 reads `12:30` as 750 (base 60), YAML 1.2 as the text \"12:30\": quote it or write `750`"
        );
        assert!(refused("1:20:30").unwrap().contains("as 4830 (base 60)"));
        assert!(refused("-1:30.5").unwrap().contains("as -90.5 (base 60)"));
        for text in ["12:60", "a:30", ":30", "1:2:3:x", "12:300", "01:30", "1.5:30"] {
            assert_eq!(refused(text), None, "{text}");
        }
    }

    #[test]
    fn refuses_numbers_helm_cannot_hold() {
        assert_eq!(
            refused("9007199254740993").unwrap(),
            "Helm cannot hold the number `9007199254740993` exactly | Helm reads numbers as 64-bit floats, so it would read 9007199254740992: quote it to pass the text, or write a smaller number"
        );
        assert!(refused("-123456789012345678901234567890").is_some());
        assert!(refused(".inf")
            .unwrap()
            .starts_with("Helm cannot read the number `.inf`"));
        assert!(refused("-.Inf").is_some());
        assert!(refused(".NaN").is_some());
        assert!(refused("!!float .nan").is_some());
        for text in ["1e400", "-1e400", "1.8e308", "!!float 1e400", "1E+999"] {
            assert!(
                refused(text).is_some_and(|found| found.contains("beyond what a 64-bit float holds")),
                "{text}"
            );
        }
        for text in [
            "0x10000000000000000",
            "0o2000000000000000000000",
            "0xFFFFFFFFFFFFFFFFFF",
        ] {
            assert!(
                refused(text).is_some_and(|found| found.contains("is beyond 64 bits")),
                "{text}"
            );
        }
        for text in [
            "9007199254740992",
            "9223372036854775808",
            "-9223372036854775808",
            "18446744073709551616",
            "1e300",
            "1.7e308",
            "1e-400",
        ] {
            assert_eq!(refused(text), None, "{text}");
        }
    }

    #[test]
    fn looks_into_lists_and_maps() {
        let node = parse("a: [1, yes, {b: 0777}]\n", FileId(0), Limits::default()).unwrap();
        let mut diagnostics = Vec::new();
        check(&node, &mut diagnostics);
        let places: Vec<_> = diagnostics.iter().map(|d| d.loc.unwrap().col).collect();
        assert_eq!(places, [8, 17]);
    }
}
