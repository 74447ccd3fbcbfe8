//! Kubernetes resource quantities (`500m`, `1.5Gi`, `1e3`), parsed for real.
//!
//! `k8s-openapi`'s `Quantity` is only a wrapper around the string: it accepts
//! `2GB` or `1gi` without complaint and cannot tell whether `500m` is below
//! `1`. Workers declared in Git should fail here, with a hint, rather than at
//! `kubectl apply` time, and checks such as "the limit is at least the
//! request" need the numeric value. This module follows the serialization
//! grammar documented on `Quantity` in `k8s.io/apimachinery/pkg/api/resource`:
//!
//! ```text
//! <quantity>        ::= <signedNumber><suffix>
//! <signedNumber>    ::= <number> | <sign><number>
//! <sign>            ::= "+" | "-"
//! <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//! <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
//! <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
//! <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
//! <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>
//! ```
//!
//! Where that grammar and Go's `ParseQuantity` disagree, the text accepted is
//! the part both allow:
//!
//! - an exponent must be a whole number that fits in 64 bits (`1e3`, `1E-3`,
//!   `1e+3`), as `ParseQuantity` reads it with `strconv.ParseInt`; `1e1.5`
//!   is rejected;
//! - the number needs at least one digit, as the grammar says; `ParseQuantity`
//!   quietly reads digitless text such as `Gi`, `.`, `-` or `e3` as zero;
//! - no whitespace anywhere, as in `ParseQuantity` (the JSON decoder of the
//!   API server trims it first, but a stray space is a mistake worth naming).
//!
//! The value follows `ParseQuantity` too: it is kept exactly down to nano
//! units, a finer non-zero value is rounded away from zero (`0.1n` is `1n`),
//! and a binary-suffixed value is capped at 2^63-1 (`8Ei` equals `9Ei`).
//! Beyond that, values saturate at about ±1.7e29, the range of an `i128`
//! count of nano units, far above any real resource.
//!
//! One limit is ours: at most [`MAX_SIGNIFICANT_DIGITS`] significant digits (from
//! the first non-zero digit to the last). `ParseQuantity` reads any length with
//! arbitrary-precision decimals, but keeps nothing finer than a nano unit, and a
//! real resource needs a handful of digits; exact arithmetic on a 900,000-digit
//! value took 69 s, so such a value is refused, after one scan, with a
//! message that shows only its start.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A parsed Kubernetes quantity; equality and ordering are numeric, so
/// `1Gi == 1024Mi`, `0.5 == 500m` and `1G < 1Gi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    /// The value times 10^9, rounded away from zero, saturated.
    nanos: i128,
}

/// Why a text is not a quantity; `message` and `hint` follow the
/// diagnostic style: lowercase, no trailing period, literals in backticks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuantityError {
    pub message: String,
    pub hint: Option<String>,
}

impl Quantity {
    /// Parses `text` exactly as written: no trimming, case-sensitive suffixes.
    ///
    /// # Errors
    ///
    /// When `text` is not a quantity; the error names it and, where it can
    /// tell, hints at the fix (`1gi` → `1Gi`, `2GB` → `2Gi` or `2G`).
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let number = match scan(text) {
            Ok(parts) => {
                let digits = significant_digits(parts.integer, parts.fraction);
                if digits > MAX_SIGNIFICANT_DIGITS {
                    return Err(too_many_digits(text, digits));
                }
                return Ok(Quantity { nanos: parts.nanos() });
            }
            Err(Failure::Suffix { number, .. }) => number,
            Err(Failure::Empty | Failure::NoDigits) => "",
        };
        // A long number is the problem to name first, before any suffix hint that
        // would repeat it.
        let digits = significant_digits(number, "");
        if digits > MAX_SIGNIFICANT_DIGITS {
            return Err(too_many_digits(text, digits));
        }
        Err(QuantityError {
            message: if text.is_empty() {
                "an empty string is not a Kubernetes quantity".to_owned()
            } else {
                format!("`{}` is not a Kubernetes quantity", shown(text))
            },
            hint: if text.len() > MAX_ECHOED_BYTES {
                Some(format!("a quantity is a number with an optional suffix, {EXAMPLES}"))
            } else {
                hint_for(text)
            },
        })
    }

    /// The value times 10^9: `1` is `1_000_000_000`, `1n` is `1`.
    // Only the unit tests below read it.
    #[cfg(test)]
    #[must_use]
    pub fn as_nanos(&self) -> i128 {
        self.nanos
    }

    /// Zero, where a sum starts.
    pub const ZERO: Quantity = Quantity { nanos: 0 };

    /// The value as Kubernetes would write it: a byte count (`bytes`) in the largest
    /// binary suffix that divides it exactly, then the largest decimal one; anything
    /// else (CPU) in whole units; a fraction in `m`, or `n` below that.
    #[must_use]
    pub fn to_text(self, bytes: bool) -> String {
        const NANOS: i128 = 1_000_000_000;
        if self.nanos % NANOS != 0 {
            return match self.nanos % 1_000_000 {
                0 => format!("{}m", self.nanos / 1_000_000),
                _ => format!("{}n", self.nanos),
            };
        }
        let units = self.nanos / NANOS;
        if bytes && units != 0 {
            let binary = [("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)];
            if let Some((suffix, shift)) = binary.iter().find(|(_, shift)| units % (1_i128 << shift) == 0) {
                return format!("{}{suffix}", units >> shift);
            }
            let decimal = [("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3)];
            if let Some((suffix, power)) = decimal.iter().find(|(_, power)| units % 10_i128.pow(*power) == 0) {
                return format!("{}{suffix}", units / 10_i128.pow(*power));
            }
        }
        units.to_string()
    }

    /// Whether the value is below zero (`-1`, but not `-0`).
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the value is zero (`0`, `0Gi`, `-0.0`).
    // Only the unit tests below read it.
    #[cfg(test)]
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }
}

/// Sums saturate, as values do.
impl std::ops::Add for Quantity {
    type Output = Quantity;

    fn add(self, other: Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
        }
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Quantity::parse(text)
    }
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for QuantityError {}

/// The most significant digits a quantity may have (see the module docs).
pub const MAX_SIGNIFICANT_DIGITS: usize = 64;

/// Texts longer than this are shown cut in messages, and hints do not repeat them.
const MAX_ECHOED_BYTES: usize = 128;

/// `ParseQuantity` caps binary-suffixed values at 2^63-1 units.
const BINARY_CAP_NANOS: u128 = (i64::MAX as u128) * 1_000_000_000;

const EXAMPLES: &str = "such as `500m`, `2`, or `1Gi`";

/// What the suffix multiplies the number by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// Times 10^n (`m`, `k`, `e3`, ...).
    Decimal(i64),
    /// Times 2^n (`Ki`, `Mi`, ...).
    Binary(u32),
}

/// A quantity split by the grammar.
#[derive(Debug)]
struct Parts<'a> {
    negative: bool,
    integer: &'a str,
    fraction: &'a str,
    scale: Scale,
}

/// Where the grammar stopped matching.
#[derive(Debug)]
enum Failure<'a> {
    Empty,
    /// The number has no digit (`Gi`, `.`, `-`, `abc`).
    NoDigits,
    /// A well-formed number followed by something that is not a suffix.
    Suffix {
        number: &'a str,
        suffix: &'a str,
    },
}

fn scan(text: &str) -> Result<Parts<'_>, Failure<'_>> {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(Failure::Empty);
    };
    let mut pos = usize::from(first == b'-' || first == b'+');
    let integer_start = pos;
    pos += leading_digits(&bytes[pos..]);
    let integer = &text[integer_start..pos];
    let mut fraction = "";
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let fraction_start = pos;
        pos += leading_digits(&bytes[pos..]);
        fraction = &text[fraction_start..pos];
    }
    if integer.is_empty() && fraction.is_empty() {
        return Err(Failure::NoDigits);
    }
    let (number, suffix) = text.split_at(pos);
    let scale = suffix_scale(suffix).ok_or(Failure::Suffix { number, suffix })?;
    Ok(Parts {
        negative: first == b'-',
        integer,
        fraction,
        scale,
    })
}

fn leading_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

const DECIMAL_SUFFIXES: [(&str, i64); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

const BINARY_SUFFIXES: [(&str, u32); 6] = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)];

fn suffix_scale(suffix: &str) -> Option<Scale> {
    if let Some(&(_, exponent)) = DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some(Scale::Decimal(exponent));
    }
    if let Some(&(_, exponent)) = BINARY_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some(Scale::Binary(exponent));
    }
    let (digits, _) = exponent_parts(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Like Go's `strconv.ParseInt(_, 10, 64)`: optional sign, digits, 64 bits.
    suffix[1..].parse::<i64>().ok().map(Scale::Decimal)
}

/// For a suffix starting with `e` or `E`: what follows the optional sign, and
/// the `e` itself.
fn exponent_parts(suffix: &str) -> Option<(&str, char)> {
    let letter = suffix.chars().next().filter(|c| matches!(c, 'e' | 'E'))?;
    let rest = &suffix[1..];
    Some((rest.strip_prefix(['+', '-']).unwrap_or(rest), letter))
}

impl Parts<'_> {
    /// The value times 10^9, rounded away from zero as `ParseQuantity` does,
    /// with its binary cap, saturated to the `i128` range.
    fn nanos(&self) -> i128 {
        let all = format!("{}{}", self.integer, self.fraction);
        let significant = all.trim_start_matches('0');
        let digits = significant.trim_end_matches('0');
        if digits.is_empty() {
            return 0;
        }
        let (exponent, binary) = match self.scale {
            Scale::Decimal(exponent) => (i128::from(exponent), 0),
            Scale::Binary(exponent) => (0, exponent),
        };
        // value = digits * 10^power10 * 2^binary nano units
        let trailing_zeros = (significant.len() - digits.len()) as i128;
        let power10 = exponent + 9 + trailing_zeros - self.fraction.len() as i128;
        let length = digits.len() as i128;
        let magnitude = if length - 1 + power10 >= 39 {
            // at least 10^39 > i128::MAX
            u128::MAX
        } else if power10 >= 0 {
            let mut big = BigUint::from_digits(digits);
            big.shift_left(binary);
            big.scale_up(power10 as u32);
            big.to_u128().unwrap_or(u128::MAX)
        } else if -power10 > length + 19 {
            // digits * 2^binary < 10^length * 2^60 < 10^(length + 19):
            // a non-zero amount below one nano unit
            1
        } else {
            let mut big = BigUint::from_digits(digits);
            big.shift_left(binary);
            let inexact = big.scale_down((-power10) as u32);
            big.to_u128()
                .map_or(u128::MAX, |q| q.saturating_add(u128::from(inexact)))
        };
        let magnitude = if binary > 0 {
            magnitude.min(BINARY_CAP_NANOS)
        } else {
            magnitude
        };
        let magnitude = magnitude.min(i128::MAX as u128) as i128;
        if self.negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// Just enough of an arbitrary-size unsigned integer for exact rounding of
/// long inputs: little-endian base-2^32 limbs, no trailing zero limbs.
struct BigUint(Vec<u32>);

impl BigUint {
    fn from_digits(digits: &str) -> Self {
        let mut big = BigUint(Vec::new());
        for chunk in digits.as_bytes().chunks(9) {
            let value = chunk.iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
            big.mul_add(10u32.pow(chunk.len() as u32), value);
        }
        big
    }

    fn mul_add(&mut self, factor: u32, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.0 {
            let value = u64::from(*limb) * u64::from(factor) + carry;
            *limb = value as u32;
            carry = value >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    /// Divides in place; returns the remainder.
    fn div_rem(&mut self, divisor: u32) -> u32 {
        let mut remainder = 0u64;
        for limb in self.0.iter_mut().rev() {
            let value = (remainder << 32) | u64::from(*limb);
            *limb = (value / u64::from(divisor)) as u32;
            remainder = value % u64::from(divisor);
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        remainder as u32
    }

    fn shift_left(&mut self, bits: u32) {
        for _ in 0..bits / 10 {
            self.mul_add(1 << 10, 0);
        }
    }

    fn scale_up(&mut self, power10: u32) {
        for _ in 0..power10 / 9 {
            self.mul_add(1_000_000_000, 0);
        }
        self.mul_add(10u32.pow(power10 % 9), 0);
    }

    /// Divides by 10^power10; returns whether anything was cut off.
    fn scale_down(&mut self, power10: u32) -> bool {
        let mut inexact = false;
        for _ in 0..power10 / 9 {
            inexact |= self.div_rem(1_000_000_000) != 0;
        }
        inexact |= self.div_rem(10u32.pow(power10 % 9)) != 0;
        inexact
    }

    fn to_u128(&self) -> Option<u128> {
        if self.0.len() > 4 {
            return None;
        }
        Some(
            self.0
                .iter()
                .rev()
                .fold(0u128, |acc, &limb| (acc << 32) | u128::from(limb)),
        )
    }
}

/// How many digits of `integer` then `fraction` lie between the first non-zero
/// digit and the last (`0.0120` has 2, `1200` has 2, `0` has 0).
fn significant_digits(integer: &str, fraction: &str) -> usize {
    let non_zero = |digit: &u8| *digit != b'0';
    let Some(first) = integer
        .bytes()
        .chain(fraction.bytes())
        .position(|digit| non_zero(&digit))
    else {
        return 0;
    };
    let last = match fraction.bytes().rposition(|digit| non_zero(&digit)) {
        Some(position) => integer.len() + position,
        None => integer.bytes().rposition(|digit| non_zero(&digit)).unwrap_or(first),
    };
    last - first + 1
}

fn too_many_digits(text: &str, digits: usize) -> QuantityError {
    QuantityError {
        message: format!(
            "`{}` has {digits} significant digits; a quantity may have at most {MAX_SIGNIFICANT_DIGITS}",
            shown(text)
        ),
        hint: Some(
            "Kubernetes keeps a quantity only to the nano unit (`1n`): round it to a few digits, \
             such as `0.5`, `500m`, or `1.5Gi`"
                .to_owned(),
        ),
    }
}

/// `text` with control characters escaped, for messages; a long text is cut after
/// its first 32 characters, with how long it was.
fn shown(text: &str) -> String {
    if text.len() > MAX_ECHOED_BYTES {
        let start: String = text.chars().take(32).collect();
        return format!("{}…", shown(&start));
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A suggestion for a text that failed to parse; corrections are offered only
/// when they parse.
fn hint_for(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return Some(format!("write a number with an optional suffix, {EXAMPLES}"));
    }
    if text.contains(char::is_whitespace) {
        let squeezed: String = text.split_whitespace().collect();
        if scan(&squeezed).is_ok() {
            return Some(format!("write it without whitespace: `{squeezed}`"));
        }
        return hint_for(&squeezed);
    }
    let unquoted = text.trim_matches(['"', '\'', '`']);
    if unquoted != text && scan(unquoted).is_ok() {
        return Some(format!("remove the quotes: `{unquoted}`"));
    }
    match scan(text) {
        Ok(_) => None,
        Err(Failure::Empty) => Some(format!("write a number with an optional suffix, {EXAMPLES}")),
        Err(Failure::NoDigits) => Some(no_digits_hint(text)),
        Err(Failure::Suffix { number, suffix }) => Some(suffix_hint(text, number, suffix)),
    }
}

fn no_digits_hint(text: &str) -> String {
    let sign = if text.starts_with(['+', '-']) { &text[..1] } else { "" };
    let body = &text[sign.len()..];
    let body = body.strip_prefix('.').unwrap_or(body);
    if body.is_empty() {
        return "a quantity needs at least one digit, such as `0` or `1`".to_owned();
    }
    let suffix = if suffix_scale(body).is_some() {
        Some(body.to_owned())
    } else {
        case_fix(body)
    };
    match suffix {
        Some(suffix) => format!("put a number before the suffix, such as `{sign}1{suffix}`"),
        None => format!("a quantity is a number with an optional suffix, {EXAMPLES}"),
    }
}

/// The one valid suffix that `suffix` matches ignoring ASCII case, if any;
/// `e` is left out, being more likely an unfinished exponent than `E`.
fn case_fix(suffix: &str) -> Option<String> {
    if suffix == "e" {
        return None;
    }
    DECIMAL_SUFFIXES
        .iter()
        .map(|(s, _)| *s)
        .chain(BINARY_SUFFIXES.iter().map(|(s, _)| *s))
        .find(|s| !s.is_empty() && s.eq_ignore_ascii_case(suffix))
        .map(str::to_owned)
}

fn suffix_hint(text: &str, number: &str, suffix: &str) -> String {
    const SEPARATORS: [char; 3] = [',', '_', '\''];
    if suffix.starts_with('.') {
        return "a quantity has at most one decimal point".to_owned();
    }
    if suffix.starts_with(SEPARATORS) {
        if let Some(hint) = separator_hint(text) {
            return hint;
        }
    }
    if suffix == "K" {
        return format!(
            "suffixes are case-sensitive: write `{number}k` for multiples of 1000 or `{number}Ki` for multiples of 1024"
        );
    }
    if let Some(fixed) = case_fix(suffix) {
        return format!("suffixes are case-sensitive: did you mean `{number}{fixed}`?");
    }
    if let Some(hint) = byte_unit_hint(number, suffix) {
        return hint;
    }
    if matches!(suffix, "µ" | "μ") {
        return format!("write micro as `u`: `{number}u`");
    }
    if let Some((digits, letter)) = exponent_parts(suffix) {
        return if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            "the exponent is out of range".to_owned()
        } else if digits.is_empty() {
            format!("an exponent needs digits after `{letter}`, such as `{number}{letter}3`")
        } else {
            format!(
                "an exponent is a whole number with nothing after it, such as `{number}{letter}3` or `{number}{letter}-3`"
            )
        };
    }
    match suffix.to_ascii_lowercase().as_str() {
        "c" | "core" | "cores" | "cpu" | "cpus" | "vcpu" | "vcpus" => {
            return format!(
                "write CPU cores without a unit, such as `{number}`, or millicores with `m`, such as `500m`"
            );
        }
        "mc" | "mcpu" | "millicore" | "millicores" | "millicpu" | "millicpus" => {
            return format!("write millicores with `m`: `{number}m`");
        }
        _ => {}
    }
    "valid suffixes are `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei` (powers of 1024), \
     `n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E` (powers of 1000), \
     or an exponent such as `e3`"
        .to_owned()
}

/// `1,5` and `1_000` style numbers.
fn separator_hint(text: &str) -> Option<String> {
    if text.matches(',').count() == 1 && !text.contains(['_', '\'']) {
        let (_, after) = text.split_once(',')?;
        if leading_digits(after.as_bytes()) != 3 {
            let pointed = text.replacen(',', ".", 1);
            if scan(&pointed).is_ok() {
                return Some(format!("use `.` as the decimal point: `{pointed}`"));
            }
        }
    }
    let joined: String = text.chars().filter(|c| !matches!(c, ',' | '_' | '\'')).collect();
    scan(&joined)
        .is_ok()
        .then(|| format!("remove the digit separators: `{joined}`"))
}

/// `2GB`, `2GiB`, `512kb`, `100B`, `10bytes`.
fn byte_unit_hint(number: &str, suffix: &str) -> Option<String> {
    let lower = suffix.to_ascii_lowercase();
    let unit = ["bytes", "byte", "b"].iter().find_map(|b| lower.strip_suffix(b))?;
    let letter = match unit.as_bytes() {
        [] => return Some(format!("byte quantities have no unit: write `{number}`")),
        [letter] | [letter, b'i'] => *letter,
        _ => return None,
    };
    if !b"kmgtpe".contains(&letter) {
        return None;
    }
    let binary = char::from(letter.to_ascii_uppercase());
    let decimal = if letter == b'k' { 'k' } else { binary };
    Some(if unit.len() == 2 {
        format!("binary suffixes have no `B`: write `{number}{binary}i`")
    } else {
        format!("memory uses binary suffixes such as `{number}{binary}i` or decimal ones such as `{number}{decimal}`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn nanos(text: &str) -> i128 {
        q(text).as_nanos()
    }

    fn err(text: &str) -> QuantityError {
        match Quantity::parse(text) {
            Ok(quantity) => panic!("{text:?} parsed as {quantity:?}"),
            Err(e) => e,
        }
    }

    fn hint(text: &str) -> String {
        err(text).hint.unwrap_or_default()
    }

    const ONE: i128 = 1_000_000_000;

    #[test]
    fn plain_numbers() {
        assert_eq!(nanos("0"), 0);
        assert_eq!(nanos("1"), ONE);
        assert_eq!(nanos("+1"), ONE);
        assert_eq!(nanos("-1"), -ONE);
        assert_eq!(nanos("00012"), 12 * ONE);
        assert_eq!(nanos("0.5"), ONE / 2);
        assert_eq!(nanos(".5"), ONE / 2);
        assert_eq!(nanos("-.5"), -ONE / 2);
        assert_eq!(nanos("5."), 5 * ONE);
        assert_eq!(nanos("1.000"), ONE);
        assert_eq!(nanos("9.01"), 9_010_000_000);
        assert_eq!(nanos("123456789012345678901234567"), 123456789012345678901234567 * ONE);
    }

    #[test]
    fn decimal_suffixes() {
        assert_eq!(nanos("5n"), 5);
        assert_eq!(nanos("4u"), 4_000);
        assert_eq!(nanos("100m"), 100_000_000);
        assert_eq!(nanos("8k"), 8_000 * ONE);
        assert_eq!(nanos("7M"), 7_000_000 * ONE);
        assert_eq!(nanos("6G"), 6_000_000_000 * ONE);
        assert_eq!(nanos("5T"), 5 * 10i128.pow(12) * ONE);
        assert_eq!(nanos("2P"), 2 * 10i128.pow(15) * ONE);
        assert_eq!(nanos("1E"), 10i128.pow(18) * ONE);
        assert_eq!(nanos("12E"), 12 * 10i128.pow(18) * ONE, "decimal is not capped");
        assert_eq!(nanos("100.035k"), 100_035 * ONE);
        assert_eq!(nanos("0.0005k"), ONE / 2);
        assert_eq!(nanos(".0001k"), ONE / 10);
        assert_eq!(nanos("1.G"), ONE * ONE);
    }

    #[test]
    fn binary_suffixes() {
        assert_eq!(nanos("1Ki"), 1024 * ONE);
        assert_eq!(nanos("7Mi"), 7 * (1 << 20) * ONE);
        assert_eq!(nanos("6Gi"), 6 * (1 << 30) * ONE);
        assert_eq!(nanos("5Ti"), 5 * (1 << 40) * ONE);
        assert_eq!(nanos("4Pi"), 4 * (1 << 50) * ONE);
        assert_eq!(nanos("3Ei"), 3 * (1 << 60) * ONE);
        assert_eq!(nanos("1.5Gi"), 3 * (1 << 29) * ONE);
        assert_eq!(nanos("100.035Ki"), 10_243_584 * ONE / 100);
        assert_eq!(nanos("0.5Mi"), (1 << 19) * ONE);
        assert_eq!(nanos("0.05Gi"), 536_870_912 * ONE / 10);
        assert_eq!(nanos("-1Ki"), -1024 * ONE);
    }

    #[test]
    fn exponents() {
        assert_eq!(nanos("1e3"), 1_000 * ONE);
        assert_eq!(nanos("1E3"), 1_000 * ONE);
        assert_eq!(nanos("1e+3"), 1_000 * ONE);
        assert_eq!(nanos("1e-3"), ONE / 1_000);
        assert_eq!(nanos("1E-3"), ONE / 1_000);
        assert_eq!(nanos("1.3E+6"), 1_300_000 * ONE);
        assert_eq!(nanos("0.5e-2"), 5_000_000);
        assert_eq!(nanos("1e0"), ONE);
        assert_eq!(nanos("1e007"), 10_000_000 * ONE);
        assert_eq!(nanos("-2e2"), -200 * ONE);
    }

    #[test]
    fn rounds_below_nano_away_from_zero_like_kubernetes() {
        assert_eq!(nanos("3.001n"), 4);
        assert_eq!(nanos("1.1E-9"), 2);
        assert_eq!(nanos("0.0000000001"), 1);
        assert_eq!(nanos("0.00000000050"), 1);
        assert_eq!(nanos("0.9n"), 1);
        assert_eq!(nanos("-0.9n"), -1);
        assert_eq!(nanos("0.00000012345"), 124);
        assert_eq!(nanos("0.000000000001Ki"), 2);
        assert_eq!(nanos("1e-999999999999"), 1);
        let tiny = format!("0.{}1", "0".repeat(500));
        assert_eq!(nanos(&tiny), 1);
        let long = format!("1.{}1", "0".repeat(62));
        assert_eq!(nanos(&long), ONE + 1);
    }

    #[test]
    fn zero_in_any_form() {
        for text in ["0", "-0", "+0", "0.0", ".0", "0.", "0Gi", "0m", "0e5", "-0E-5", "000"] {
            assert!(q(text).is_zero(), "{text}");
            assert!(!q(text).is_negative(), "{text}");
        }
        assert_eq!(q("-0"), q("0"));
    }

    #[test]
    fn saturates_and_caps_like_kubernetes() {
        let cap = i128::from(i64::MAX) * ONE;
        assert_eq!(nanos("8Ei"), cap, "2^63 is capped to 2^63-1");
        assert_eq!(q("8Ei"), q("9Ei"));
        assert_eq!(nanos("-9Ei"), -cap);
        assert_eq!(nanos("9223372036854775807Ki"), cap);
        assert_eq!(nanos("7Ei"), 7 * (1 << 60) * ONE);
        assert_eq!(nanos("1e29"), 10i128.pow(38));
        assert_eq!(nanos("1e30"), i128::MAX);
        assert_eq!(nanos("-1e30"), -i128::MAX);
        assert_eq!(nanos("1e9223372036854775807"), i128::MAX);
        assert_eq!(nanos(&"9".repeat(64)), i128::MAX);
        assert!(q("1e30") > q("9Ei"));
    }

    /// A hostile quantity of 900,000 digits took 69 s of big-integer arithmetic.
    #[test]
    fn refuses_more_than_64_significant_digits() {
        let digits_64 = format!("1.{}", "3".repeat(63));
        assert!(q(&digits_64) > q("1"));
        let digits_65 = format!("1.{}", "3".repeat(64));
        let e = err(&digits_65);
        assert_eq!(
            e.message,
            "`1.3333333333333333333333333333333333333333333333333333333333333333` has 65 significant digits; \
             a quantity may have at most 64"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("Kubernetes keeps a quantity only to the nano unit (`1n`): round it to a few digits, such as `0.5`, `500m`, or `1.5Gi`")
        );
        // Zeros before the first and after the last non-zero digit do not count.
        let padded = format!("{}1.5{}Ki", "0".repeat(1000), "0".repeat(1000));
        assert_eq!(q(&padded), q("1.5Ki"));
        assert_eq!(nanos(&format!("0.{}1", "0".repeat(100_000))), 1);
        assert_eq!(nanos(&format!("1{}", "0".repeat(100_000))), i128::MAX);
        assert!(q(&format!("-{}", "9".repeat(64))).is_negative());
        assert!(Quantity::parse(&format!("-{}", "9".repeat(65))).is_err());
        assert!(Quantity::parse(&format!("1{}1e-3", "0".repeat(63))).is_err());
    }

    #[test]
    fn a_huge_quantity_gets_a_short_message() {
        let huge = format!("0.{}", "7".repeat(900_000));
        let e = err(&huge);
        assert_eq!(
            e.message,
            "`0.777777777777777777777777777777…` has 900000 significant digits; a quantity may have at most 64"
        );
        // With a bad suffix the digits are still the problem named, and nothing repeats them.
        for text in [
            format!("{}cores", "7".repeat(900_000)),
            format!("1 {}", "7".repeat(900_000)),
        ] {
            let e = err(&text);
            let all = format!("{} {}", e.message, e.hint.unwrap_or_default());
            assert!(all.len() < 300, "{all}");
        }
    }

    #[test]
    fn counts_significant_digits() {
        assert_eq!(significant_digits("0", ""), 0);
        assert_eq!(significant_digits("", "000"), 0);
        assert_eq!(significant_digits("0", "0120"), 2);
        assert_eq!(significant_digits("1200", ""), 2);
        assert_eq!(significant_digits("1200", "05"), 6);
        assert_eq!(significant_digits("007", "0"), 1);
    }

    #[test]
    fn sums_are_written_as_kubernetes_writes_them() {
        let sum = |texts: &[&str], bytes: bool| {
            texts
                .iter()
                .map(|text| q(text))
                .fold(Quantity::ZERO, |sum, next| sum + next)
                .to_text(bytes)
        };
        assert_eq!(sum(&["250m", "250m", "500m"], false), "1");
        assert_eq!(sum(&["250m", "1"], false), "1250m");
        assert_eq!(sum(&["512Mi", "512Mi", "1Gi"], true), "2Gi");
        assert_eq!(sum(&["512Mi", "256Mi"], true), "768Mi");
        assert_eq!(sum(&["1G", "2G"], true), "3G");
        assert_eq!(sum(&["100"], true), "100");
        assert_eq!(sum(&["0.5n", "1n"], false), "2n");
        assert_eq!(Quantity::ZERO.to_text(true), "0");
    }

    #[test]
    fn comparisons() {
        assert!(q("500m") < q("1"));
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert!(q("1G") < q("1Gi"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("1m"), q("1000u"));
        assert_eq!(q("1u"), q("1000n"));
        assert!(q("-1") < q("0"));
        assert!(q("999m") < q("1"));
        assert!(q("10000T") > q("100Gi"));
        assert_eq!(q("1").partial_cmp(&q("1000m")), Some(Ordering::Equal));
        assert!(q("-1") < q("-500m"));
    }

    #[test]
    fn negative_is_valid_syntax() {
        assert!(q("-1").is_negative());
        assert!(q("-0.5Gi").is_negative());
        assert!(q("-1n").is_negative());
        assert!(!q("1").is_negative());
        assert!(!q("+1").is_negative());
    }

    #[test]
    fn from_str() {
        assert_eq!("250m".parse::<Quantity>(), Ok(q("0.25")));
        assert!("2GB".parse::<Quantity>().is_err());
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for text in [
            "",
            " 1",
            "1 ",
            "1 Gi",
            "1.5.3",
            "1.1.M",
            "1+1.0M",
            "0.1mi",
            "0.1am",
            "aoeu",
            ".5i",
            "1i",
            "-3.01i",
            "-3.01e-",
            "1gi",
            "1GB",
            "1K",
            "1ki",
            "1e",
            "1E+",
            "1e1.5",
            "1e3Gi",
            "1e99999999999999999999",
            "--1",
            "+-1",
            "1Gi3",
            "1Mb",
            "1\n",
            "1,5",
            "1_000",
            "٣",
            "1\u{00b5}",
        ] {
            assert!(Quantity::parse(text).is_err(), "{text:?} should be rejected");
        }
    }

    #[test]
    fn rejects_digitless_text_kubernetes_reads_as_zero() {
        for text in ["Gi", "m", "-", "+", ".", "-.", "+.Ki", "e3", "E", "-Mi"] {
            assert!(Quantity::parse(text).is_err(), "{text:?} should be rejected");
        }
    }

    #[test]
    fn messages() {
        let e = err("2GB");
        assert_eq!(e.message, "`2GB` is not a Kubernetes quantity");
        assert_eq!(
            e.hint.as_deref(),
            Some("memory uses binary suffixes such as `2Gi` or decimal ones such as `2G`")
        );
        assert_eq!(err("").message, "an empty string is not a Kubernetes quantity");
        assert_eq!(err("1.5.3").message, "`1.5.3` is not a Kubernetes quantity");
        assert_eq!(err(" 1").message, "` 1` is not a Kubernetes quantity");
        assert_eq!(err("1\t").message, "`1\\t` is not a Kubernetes quantity");
        assert_eq!(
            err("2GB").to_string(),
            "`2GB` is not a Kubernetes quantity (hint: memory uses binary suffixes such as \
             `2Gi` or decimal ones such as `2G`)"
        );
        for text in ["", "1.5.3", " 1", "1 Gi", "Gi", "1gi", "abc", "1x", "1e", "."] {
            let e = err(text);
            assert!(!e.message.ends_with('.'), "{text:?}: {}", e.message);
            assert!(e.message.starts_with(|c: char| !c.is_uppercase()), "{}", e.message);
            let hint = e.hint.unwrap_or_else(|| panic!("{text:?} has no hint"));
            assert!(!hint.ends_with('.'), "{text:?}: {hint}");
            assert!(hint.starts_with(|c: char| c.is_lowercase()), "{text:?}: {hint}");
        }
    }

    #[test]
    fn hints() {
        assert_eq!(
            hint(""),
            "write a number with an optional suffix, such as `500m`, `2`, or `1Gi`"
        );
        assert_eq!(hint("  "), hint(""));
        assert_eq!(hint(" 1"), "write it without whitespace: `1`");
        assert_eq!(hint("1.5Gi\n"), "write it without whitespace: `1.5Gi`");
        assert_eq!(hint("1 Gi"), "write it without whitespace: `1Gi`");
        assert_eq!(
            hint("1 GB"),
            "memory uses binary suffixes such as `1Gi` or decimal ones such as `1G`"
        );
        assert_eq!(hint("1.5.3"), "a quantity has at most one decimal point");
        assert_eq!(hint("Gi"), "put a number before the suffix, such as `1Gi`");
        assert_eq!(hint("-Mi"), "put a number before the suffix, such as `-1Mi`");
        assert_eq!(hint("gi"), "put a number before the suffix, such as `1Gi`");
        assert_eq!(hint("."), "a quantity needs at least one digit, such as `0` or `1`");
        assert_eq!(hint("-"), hint("."));
        assert_eq!(
            hint("abc"),
            "a quantity is a number with an optional suffix, such as `500m`, `2`, or `1Gi`"
        );
        assert_eq!(hint("1gi"), "suffixes are case-sensitive: did you mean `1Gi`?");
        assert_eq!(hint("1.5GI"), "suffixes are case-sensitive: did you mean `1.5Gi`?");
        assert_eq!(hint("1ki"), "suffixes are case-sensitive: did you mean `1Ki`?");
        assert_eq!(hint("0.1mi"), "suffixes are case-sensitive: did you mean `0.1Mi`?");
        assert_eq!(hint("2g"), "suffixes are case-sensitive: did you mean `2G`?");
        assert_eq!(hint("1ei"), "suffixes are case-sensitive: did you mean `1Ei`?");
        assert_eq!(
            hint("1K"),
            "suffixes are case-sensitive: write `1k` for multiples of 1000 or `1Ki` for multiples of 1024"
        );
        assert_eq!(
            hint("512kb"),
            "memory uses binary suffixes such as `512Ki` or decimal ones such as `512k`"
        );
        assert_eq!(
            hint("100MB"),
            "memory uses binary suffixes such as `100Mi` or decimal ones such as `100M`"
        );
        assert_eq!(hint("2GiB"), "binary suffixes have no `B`: write `2Gi`");
        assert_eq!(hint("10B"), "byte quantities have no unit: write `10`");
        assert_eq!(hint("10bytes"), "byte quantities have no unit: write `10`");
        assert_eq!(hint("5µ"), "write micro as `u`: `5u`");
        assert_eq!(hint("1e"), "an exponent needs digits after `e`, such as `1e3`");
        assert_eq!(hint("1E-"), "an exponent needs digits after `E`, such as `1E3`");
        assert_eq!(
            hint("1e1.5"),
            "an exponent is a whole number with nothing after it, such as `1e3` or `1e-3`"
        );
        assert_eq!(hint("1e99999999999999999999"), "the exponent is out of range");
        assert_eq!(hint("1,5"), "use `.` as the decimal point: `1.5`");
        assert_eq!(hint("1,000"), "remove the digit separators: `1000`");
        assert_eq!(hint("1_000_000"), "remove the digit separators: `1000000`");
        assert_eq!(hint("\"1Gi\""), "remove the quotes: `1Gi`");
        assert_eq!(
            hint("2cores"),
            "write CPU cores without a unit, such as `2`, or millicores with `m`, such as `500m`"
        );
        assert_eq!(hint("250mcpu"), "write millicores with `m`: `250m`");
        assert!(hint("1x").starts_with("valid suffixes are `Ki`, `Mi`"));
        assert!(hint("1Gi3").starts_with("valid suffixes are"));
    }

    #[test]
    fn suggested_corrections_parse() {
        for text in [
            " 1", "1 Gi", "Gi", "-Mi", "1gi", "1ki", "1K", "2GB", "2GiB", "10B", "5µ", "1e", "1e1.5", "1,5", "1,000",
            "2cores", "250mcpu", "'1'",
        ] {
            let hint = hint(text);
            let suggestions: Vec<&str> = hint.split('`').skip(1).step_by(2).collect();
            assert!(!suggestions.is_empty(), "{text:?}: {hint}");
            for suggestion in suggestions {
                // literals that name a character rather than suggest a value
                if !["B", "e", "E", "m", ".", "u"].contains(&suggestion) {
                    assert!(
                        Quantity::parse(suggestion).is_ok(),
                        "{text:?}: hint suggests `{suggestion}`"
                    );
                }
            }
        }
    }
}
