//! Plaintext credentials in imported values: found, taken out, and never shown.
//!
//! An install's values may hold `agent.bearerToken`, `agent.serverApiKey`,
//! `agent.username`/`password` or an inline server certificate. workergen writes Git, so
//! none of them is written anywhere: each becomes a Secret reference of the environment
//! (`octopus.auth.*Secret`, `octopus.serverCertificateSecret`), and the user creates the
//! Secret. Before any input is parsed, [`mask`] finds the values written after a
//! credential key and hides them in the text kept for messages, so no excerpt and no
//! message ever shows one, not even for an input that does not parse.

use crate::diagnostic::Diagnostic;
use crate::redact::is_credential_key;
use crate::source::Loc;
use crate::yaml::{Node, Value};

use super::tree;

/// A credential kind, as `octopus.auth` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    BearerToken,
    ApiKey,
    UsernamePassword,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::BearerToken, Kind::ApiKey, Kind::UsernamePassword];

    /// The `octopus.auth` field.
    pub(crate) fn field(self) -> &'static str {
        match self {
            Kind::BearerToken => "bearerTokenSecret",
            Kind::ApiKey => "apiKeySecret",
            Kind::UsernamePassword => "usernamePasswordSecret",
        }
    }

    /// The chart value that names the Secret.
    pub(crate) fn value_path(self) -> [&'static str; 2] {
        match self {
            Kind::BearerToken => ["agent", "bearerTokenSecretName"],
            Kind::ApiKey => ["agent", "serverApiKeySecretName"],
            Kind::UsernamePassword => ["agent", "usernamePasswordSecretName"],
        }
    }

    /// The plaintext chart values of this kind.
    fn plaintext(self) -> &'static [&'static str] {
        match self {
            Kind::BearerToken => &["bearerToken"],
            Kind::ApiKey => &["serverApiKey"],
            Kind::UsernamePassword => &["username", "password"],
        }
    }

    /// The Secret's data keys (the chart reads exactly these).
    pub(crate) fn data_keys(self) -> &'static [&'static str] {
        match self {
            Kind::BearerToken => &["bearer-token"],
            Kind::ApiKey => &["api-key"],
            Kind::UsernamePassword => &["username", "password"],
        }
    }

    /// The `secrets.externalSecret.remoteRefs` entries that would deliver it.
    pub(crate) fn remote_refs(self) -> &'static str {
        match self {
            Kind::BearerToken => "`remoteRefs.bearerToken`",
            Kind::ApiKey => "`remoteRefs.apiKey`",
            Kind::UsernamePassword => "`remoteRefs.username` and `remoteRefs.password`",
        }
    }

    /// The Secret name used when neither the environment nor `--secret-name` gives one.
    pub(crate) fn default_name(self) -> &'static str {
        match self {
            Kind::BearerToken => "octopus-worker-token",
            Kind::ApiKey => "octopus-worker-api-key",
            Kind::UsernamePassword => "octopus-worker-credentials",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::BearerToken => "a bearer token",
            Kind::ApiKey => "an API key",
            Kind::UsernamePassword => "a username and password",
        }
    }
}

/// The server certificate Secret's data key.
pub(crate) const CERTIFICATE_KEY: &str = "octopus-server-certificate.pem";
/// The server certificate Secret's name when the environment names none.
pub(crate) const CERTIFICATE_SECRET: &str = "octopus-internal-ca";
/// The chart values that hold a server certificate inline.
const INLINE_CERTIFICATES: [[&str; 2]; 2] = [["agent", "serverCertificate"], ["global", "serverCertificate"]];
const CERTIFICATE_REFERENCE: [&str; 2] = ["agent", "serverCertificateSecretName"];

/// What one install's values say about its credentials.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    /// The kind of plaintext credential taken out, and where its key stood.
    pub(crate) plaintext: Option<(Kind, Loc)>,
    /// A Secret the values already name, and where.
    pub(crate) reference: Option<(Kind, String, Loc)>,
    /// Where an inline server certificate stood.
    pub(crate) inline_certificate: Option<Loc>,
    /// The server certificate Secret the values name.
    pub(crate) certificate_reference: Option<(String, Loc)>,
}

/// Takes every credential out of `values`: plaintext ones (their values are dropped),
/// and the Secret names of the credential and the server certificate (the environment
/// declares them). A plaintext credential the chart can only take inline, or two kinds
/// at once, is an error.
pub(crate) fn take(values: &mut Node, errors: &mut Vec<Diagnostic>) -> Found {
    let mut found = Found::default();
    for kind in Kind::ALL {
        for name in kind.plaintext() {
            if let Some(loc) = take_secret(values, &["agent", name]) {
                match found.plaintext {
                    Some((other, _)) if other != kind => errors.push(two_kinds(loc, kind, other)),
                    _ => found.plaintext = Some((kind, loc)),
                }
            }
        }
        if let Some((name, loc)) = take_name(values, &kind.value_path()) {
            found.reference = Some((kind, name, loc));
        }
    }
    for path in INLINE_CERTIFICATES {
        if let Some(loc) = take_secret(values, &path) {
            found.inline_certificate = Some(loc);
        }
    }
    found.certificate_reference = take_name(values, &CERTIFICATE_REFERENCE);
    let mut path = Vec::new();
    refuse_others(values, &mut path, errors);
    found
}

fn two_kinds(loc: Loc, kind: Kind, other: Kind) -> Diagnostic {
    Diagnostic::error(
        loc,
        format!(
            "the install gives both {} and {}; the agent uses only one",
            other.describe(),
            kind.describe()
        ),
    )
    .with_hint("keep the one the agent registered with (the chart reads an API key first, then a bearer token)")
    .redacted()
}

/// Takes a plaintext credential out; its key's place when it held a value (`""` and
/// `null` are the chart's "not set", taken out silently).
fn take_secret(values: &mut Node, path: &[&str]) -> Option<Loc> {
    let loc = key_loc(values, path)?;
    let node = tree::take(values, path)?;
    match &node.value {
        Value::Null => None,
        Value::Str(text) if text.is_empty() => None,
        _ => Some(loc),
    }
}

/// Takes a Secret name out; `""` is the chart's "not set".
fn take_name(values: &mut Node, path: &[&str]) -> Option<(String, Loc)> {
    let name = values.get_path(path.iter().copied())?.as_str()?.to_owned();
    let node = tree::take(values, path)?;
    (!name.is_empty()).then_some((name, node.loc))
}

/// Where the key at `path` is written.
fn key_loc(values: &Node, path: &[&str]) -> Option<Loc> {
    let (last, parents) = path.split_last()?;
    let parent = values.get_path(parents.iter().copied())?;
    parent.as_map()?.get_entry(last).map(|(key, _)| key.loc)
}

/// Any other plaintext credential (`agent.certificate`, `agent.pollingProxy.password`,
/// `agent.upgrade.dockerAuth.password`, ...): the chart has no Secret for it, and
/// workergen writes none, so the install cannot be adopted as it is. Empty ones are
/// the chart's defaults and are taken out.
fn refuse_others(node: &mut Node, path: &mut Vec<String>, errors: &mut Vec<Diagnostic>) {
    let Some(map) = node.as_map_mut() else {
        return;
    };
    map.retain_mut(|key, child| {
        if !crate::decl::is_plaintext_key(&key.name) {
            path.push(key.name.clone());
            refuse_others(child, path, errors);
            path.pop();
            return true;
        }
        let empty = matches!(&child.value, Value::Null) || child.as_str() == Some("");
        if !empty {
            path.push(key.name.clone());
            errors.push(
                Diagnostic::error(
                    key.loc,
                    format!(
                        "`{}` is a credential the chart only takes inline; workergen never writes credentials, so this install cannot be adopted as it is",
                        tree::dotted(path)
                    ),
                )
                .with_hint("clear it on the release first (or keep this release out of Git): import adopts only what a declaration can reproduce")
                .redacted(),
            );
            path.pop();
        }
        false
    });
}

/// `text` with every value written after a credential key (`password: x`,
/// `--set agent.bearerToken=x`) and every text of `secrets` replaced by `*`s, character
/// for character (line breaks kept, so places stay right), and the values it hid.
pub(crate) fn mask(text: &str, secrets: &[String]) -> (String, Vec<String>) {
    let mut chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if !(chars[at] == '=' || chars[at] == ':') {
            at += 1;
            continue;
        }
        let start = chars[..at]
            .iter()
            .rposition(|c| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
            .map_or(0, |p| p + 1);
        let name: String = chars[start..at].iter().collect();
        at += 1;
        if name.is_empty() || !hides(&name) {
            continue;
        }
        let range = value_range(&chars, at);
        let value: String = chars[range.clone()].iter().collect();
        if !value.trim().is_empty() {
            found.push(value);
        }
        for c in &mut chars[range.clone()] {
            if *c != '\n' {
                *c = '*';
            }
        }
        at = range.end.max(at);
    }
    let mut masked: String = chars.into_iter().collect();
    for secret in secrets.iter().chain(found.clone().iter()) {
        for piece in secret.lines().map(str::trim).filter(|piece| piece.chars().count() >= 3) {
            masked = masked.replace(piece, &"*".repeat(piece.chars().count()));
        }
    }
    (masked, found)
}

/// The value after a `:` or `=` at `from`: a quoted text, or up to a blank, comma,
/// brace or line end.
fn value_range(chars: &[char], from: usize) -> std::ops::Range<usize> {
    let mut start = from;
    while start < chars.len() && (chars[start] == ' ' || chars[start] == '\t') {
        start += 1;
    }
    if let Some(&quote @ ('"' | '\'')) = chars.get(start) {
        let end = chars[start + 1..]
            .iter()
            .position(|c| *c == quote)
            .map_or(chars.len(), |p| start + 1 + p);
        return start + 1..end;
    }
    let end = chars[start..]
        .iter()
        .position(|c| c.is_whitespace() || matches!(c, ',' | '}' | '\\'))
        .map_or(chars.len(), |p| start + p);
    start..end
}

/// Every scalar text below a credential key of `node`, for [`mask`].
pub(crate) fn secret_texts(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Map(map) => {
            for (key, child) in map.entries() {
                if hides(&key.name) {
                    child.for_each_leaf(&mut Vec::new(), &mut |_, leaf| {
                        out.extend(leaf.scalar_text().filter(|text| text.chars().count() >= 3));
                    });
                } else {
                    secret_texts(child, out);
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|item| secret_texts(item, out)),
        _ => {}
    }
}

/// Whether the value of a key of this name is never shown: a credential, or an inline
/// certificate (`serverCertificate`; a Secret's name, `serverCertificateSecretName`, is shown).
fn hides(name: &str) -> bool {
    is_credential_key(name) || crate::redact::normalize_key(name).ends_with("certificate")
}

/// `text` with every text of `secrets` replaced by `<redacted>`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for secret in secrets {
        for piece in secret.lines().map(str::trim).filter(|piece| piece.chars().count() >= 3) {
            text = text.replace(piece, "<redacted>");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_test as node;

    #[test]
    fn plaintext_is_taken_out_and_names_are_kept_aside() {
        let mut values = node(
            "agent:\n  bearerToken: abc123\n  serverCertificateSecretName: ca\n  serverCertificate: ''\n  name: w\n",
        );
        let mut errors = Vec::new();
        let found = take(&mut values, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            found.plaintext.map(|(kind, loc)| (kind, loc.line)),
            Some((Kind::BearerToken, 2))
        );
        assert_eq!(found.certificate_reference.map(|(name, _)| name).as_deref(), Some("ca"));
        assert!(found.inline_certificate.is_none());
        assert!(tree::same(&values, &node("agent: {name: w}\n")));
    }

    #[test]
    fn credentials_without_a_secret_form_and_two_kinds_are_refused() {
        let mut values =
            node("agent:\n  serverApiKey: API-1\n  bearerToken: t0k\n  pollingProxy: {password: pw1, host: h}\n");
        let mut errors = Vec::new();
        take(&mut values, &mut errors);
        let messages: Vec<&str> = errors.iter().map(|error| error.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("both a bearer token and an API key"));
        assert!(messages[1].contains("`agent.pollingProxy.password`"));
        assert!(errors.iter().all(|error| error.redact));
        assert!(tree::same(&values, &node("agent: {pollingProxy: {host: h}}\n")));
    }

    #[test]
    fn masking_hides_values_after_credential_keys_and_keeps_places() {
        let text = "helm upgrade --install \\\n  --set agent.bearerToken=\"s3cret-token\" \\\n  --set agent.name=w,agent.password=pw9 r c\n";
        let (masked, found) = mask(text, &[]);
        assert_eq!(found, ["s3cret-token", "pw9"]);
        assert!(!masked.contains("s3cret") && !masked.contains("pw9"));
        assert_eq!(masked.lines().count(), text.lines().count());
        assert_eq!(masked.chars().count(), text.chars().count());
        assert!(masked.contains("agent.name=w"));
        let yaml = "agent:\n  serverCertificate: |\n    MIIBfirst\n    MIIBsecond\n";
        let secrets = vec!["MIIBfirst\nMIIBsecond\n".to_owned()];
        let (masked, _) = mask(yaml, &secrets);
        assert!(!masked.contains("MIIB"));
        assert_eq!(scrub("bad MIIBsecond here", &secrets), "bad <redacted> here");
    }
}
