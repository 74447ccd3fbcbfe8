//! The install wizard's command line: `helm upgrade --install ... RELEASE CHART` as a shell
//! would split it, read into the release, namespace, chart version and `--set` values.
//!
//! Only what a reinstall can reproduce is accepted: flags that change where values come
//! from (`-f`, `--set-file`, `--reuse-values`, ...) or anything unknown is refused, naming
//! the flag. Flags that only change how Helm waits or rolls back are ignored.

use super::helm_set::{self, SetError, SetMap, Typing};

/// One wizard install, as the command line gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Install {
    pub release: String,
    pub namespace: Option<String>,
    pub version: Option<String>,
    pub chart: String,
    /// Every `--set`, then every `--set-string` (Helm's order, whatever the command's).
    pub values: SetMap,
}

/// Why a command line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unterminated {quote} quote")]
    Unterminated { quote: char },
    #[error("{found:?} needs a shell to expand it; write the value itself")]
    Expansion { found: char },
    #[error("PowerShell reads an unquoted {found:?} as syntax, not as part of the value; quote the value (`\"...\"`) as the install wizard does")]
    PowerShellSyntax { found: char },
    #[error("not a `helm upgrade --install` or `helm install` command (it starts {found:?})")]
    NotInstall { found: String },
    #[error("{flag} cannot be reproduced from the command line alone; remove it or import `helm get values -o yaml` output instead")]
    Unsupported { flag: String },
    #[error("{flag} needs a value")]
    MissingValue { flag: String },
    #[error("expected RELEASE and CHART after the flags, found {found:?}")]
    Positionals { found: Vec<String> },
    #[error("the chart {chart:?} is not the Kubernetes agent chart")]
    NotAgentChart { chart: String },
    #[error("in {flag} {arg:?}: {source}")]
    Set {
        flag: &'static str,
        arg: String,
        source: SetError,
    },
}

/// Flags that change nothing a reinstall must reproduce; the second item says whether
/// they take a value.
const IGNORED: &[(&str, bool)] = &[
    ("--install", false),
    ("-i", false),
    ("--atomic", false),
    ("--rollback-on-failure", false),
    ("--create-namespace", false),
    ("--wait", false),
    ("--wait-for-jobs", false),
    ("--debug", false),
    ("--timeout", true),
];

/// Splits `text` into words as a POSIX shell does for a plain command: `\` newline joins
/// lines, single quotes keep everything, double quotes keep all but `\"`, `\\`, `\$`,
/// `` \` ``; an unquoted backslash makes the next character literal. `$` and backquotes
/// outside single quotes are refused (they would need a shell to expand).
pub fn words(text: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(next) => word.get_or_insert_with(String::new).push(next),
            },
            '\'' => {
                let quoted = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => quoted.push(c),
                        None => return Err(CommandError::Unterminated { quote: '\'' }),
                    }
                }
            }
            '"' => double_quoted(&mut chars, word.get_or_insert_with(String::new))?,
            '$' | '`' => return Err(CommandError::Expansion { found: c }),
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

fn double_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, into: &mut String) -> Result<(), CommandError> {
    loop {
        match chars.next() {
            Some('"') => return Ok(()),
            Some('\\') => match chars.next() {
                Some('\n') => {}
                Some(c @ ('"' | '\\' | '$' | '`')) => into.push(c),
                Some(c) => {
                    into.push('\\');
                    into.push(c);
                }
                None => return Err(CommandError::Unterminated { quote: '"' }),
            },
            Some(c @ ('$' | '`')) => return Err(CommandError::Expansion { found: c }),
            Some(c) => into.push(c),
            None => return Err(CommandError::Unterminated { quote: '"' }),
        }
    }
}

/// Whether `text` is written for PowerShell, as the wizard's PowerShell tab prints it: a
/// line continued with a backtick.
pub fn is_powershell(text: &str) -> bool {
    text.lines().any(|line| line.trim_end().ends_with('`'))
}

/// Splits `text` into words as PowerShell passes them to a native command: a backtick
/// at the end of a line continues it, elsewhere it makes the next character literal;
/// single quotes keep everything (`''` is one quote); double quotes keep all but
/// `` `" ``, ``` `` ```, `` `$ `` and `""`; a backslash is an ordinary character. `$`
/// outside single quotes is refused (it would need PowerShell to expand it), and so is
/// an unquoted character PowerShell reads as syntax (`,` would split the value into
/// separate arguments, `{` open a script block).
pub fn powershell_words(text: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => match chars.next() {
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some('\n') | None => {}
                Some(next) => word.get_or_insert_with(String::new).push(next),
            },
            '\'' => {
                let quoted = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            quoted.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => quoted.push(c),
                        None => return Err(CommandError::Unterminated { quote: '\'' }),
                    }
                }
            }
            '"' => powershell_double_quoted(&mut chars, word.get_or_insert_with(String::new))?,
            '$' => return Err(CommandError::Expansion { found: c }),
            ',' | '{' | '}' | '(' | ')' | ';' | '|' | '&' | '<' | '>' => {
                return Err(CommandError::PowerShellSyntax { found: c })
            }
            '@' if word.is_none() => return Err(CommandError::PowerShellSyntax { found: c }),
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

fn powershell_double_quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    into: &mut String,
) -> Result<(), CommandError> {
    loop {
        match chars.next() {
            Some('"') if chars.peek() == Some(&'"') => {
                chars.next();
                into.push('"');
            }
            Some('"') => return Ok(()),
            Some('`') => match chars.next() {
                Some('n') => into.push('\n'),
                Some('t') => into.push('\t'),
                Some('\n') => {}
                Some(c) => into.push(c),
                None => return Err(CommandError::Unterminated { quote: '"' }),
            },
            Some('$') => return Err(CommandError::Expansion { found: '$' }),
            Some(c) => into.push(c),
            None => return Err(CommandError::Unterminated { quote: '"' }),
        }
    }
}

/// Reads a wizard command line, for bash or for PowerShell.
pub fn parse(text: &str) -> Result<Install, CommandError> {
    let words = if is_powershell(text) {
        powershell_words(text)?
    } else {
        words(text)?
    };
    let rest = match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["helm", "upgrade" | "install", ..] => &words[2..],
        _ => {
            return Err(CommandError::NotInstall {
                found: words.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
            })
        }
    };
    let flags = Flags::read(rest)?;
    let [release, chart] = flags.positionals.as_slice() else {
        return Err(CommandError::Positionals {
            found: flags.positionals,
        });
    };
    if !chart.trim_end_matches('/').ends_with("/kubernetes-agent") && chart != "kubernetes-agent" {
        return Err(CommandError::NotAgentChart { chart: chart.clone() });
    }
    let mut values = SetMap::new();
    for (flag, typing, args) in [
        ("--set", Typing::Infer, &flags.set),
        ("--set-string", Typing::Strings, &flags.set_string),
    ] {
        for arg in args {
            helm_set::parse_into(arg, typing, &mut values).map_err(|source| CommandError::Set {
                flag,
                arg: arg.clone(),
                source,
            })?;
        }
    }
    Ok(Install {
        release: release.clone(),
        namespace: flags.namespace,
        version: flags.version,
        chart: chart.clone(),
        values,
    })
}

/// The flags of one command, in the order given.
#[derive(Default)]
struct Flags {
    namespace: Option<String>,
    version: Option<String>,
    set: Vec<String>,
    set_string: Vec<String>,
    positionals: Vec<String>,
}

impl Flags {
    fn read(words: &[String]) -> Result<Flags, CommandError> {
        let mut flags = Flags::default();
        let mut words = words.iter();
        while let Some(word) = words.next() {
            if !word.starts_with('-') || word == "-" {
                flags.positionals.push(word.clone());
                continue;
            }
            let (flag, inline) = match word.split_once('=') {
                Some((flag, value)) if word.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (word.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| words.next().cloned())
                    .ok_or_else(|| CommandError::MissingValue { flag: flag.to_owned() })
            };
            match flag {
                "-n" | "--namespace" => flags.namespace = Some(value()?),
                "--version" => flags.version = Some(value()?),
                "--set" => flags.set.push(value()?),
                "--set-string" => flags.set_string.push(value()?),
                _ => match IGNORED.iter().find(|(name, _)| *name == flag) {
                    Some((_, true)) => {
                        value()?;
                    }
                    Some((_, false)) => {}
                    None => return Err(CommandError::Unsupported { flag: flag.to_owned() }),
                },
            }
        }
        Ok(flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::helm_set::SetValue;

    const WIZARD: &str = r#"helm upgrade --install --atomic \
--set agent.acceptEula="Y" \
--set agent.serverUrl="https://octo.example.com/" \
--set agent.serverCommsAddresses="{https://octo.example.com:10943/}" \
--set agent.space="Default" \
--set agent.name="build-01" \
--set 'agent.workerPools={Linux Pool,Build\, Big}' \
--set-string agent.bearerToken=TOKEN-123 \
--set-string 'podAnnotations.example\.com/team=ci' \
--version "3.*.*" \
--create-namespace --namespace octopus-agent-build-01 \
build-01 \
oci://registry-1.docker.io/octopusdeploy/kubernetes-agent"#;

    fn get<'a>(map: &'a SetMap, path: &[&str]) -> &'a SetValue {
        let (first, rest) = path.split_first().unwrap();
        let value = &map.iter().find(|(k, _)| k == first).unwrap().1;
        match (rest.is_empty(), value) {
            (true, _) => value,
            (false, SetValue::Map(inner)) => get(inner, rest),
            _ => panic!("{path:?}"),
        }
    }

    #[test]
    fn the_wizard_command_reads() {
        let install = parse(WIZARD).unwrap();
        assert_eq!(install.release, "build-01");
        assert_eq!(install.namespace.as_deref(), Some("octopus-agent-build-01"));
        assert_eq!(install.version.as_deref(), Some("3.*.*"));
        let pools = get(&install.values, &["agent", "workerPools"]);
        assert_eq!(
            pools,
            &SetValue::List(vec![
                SetValue::Str("Linux Pool".into()),
                SetValue::Str("Build, Big".into())
            ])
        );
        assert_eq!(
            get(&install.values, &["podAnnotations", "example.com/team"]),
            &SetValue::Str("ci".into())
        );
        assert_eq!(
            get(&install.values, &["agent", "bearerToken"]),
            &SetValue::Str("TOKEN-123".into())
        );
    }

    #[test]
    fn shell_quoting_is_a_shells() {
        let got = words("a 'b c'\"d\\\"e\\x\" f\\ g \\\n h 'it'\\''s'").unwrap();
        assert_eq!(got, vec!["a", "b cd\"e\\x", "f g", "h", "it's"]);
        assert_eq!(words("'open"), Err(CommandError::Unterminated { quote: '\'' }));
        assert_eq!(words("\"open"), Err(CommandError::Unterminated { quote: '"' }));
        assert_eq!(words("a=$TOKEN"), Err(CommandError::Expansion { found: '$' }));
        assert_eq!(words("'$TOKEN'").unwrap(), vec!["$TOKEN"]);
    }

    #[test]
    fn powershell_splits_as_powershell_passes_arguments() {
        let text = "helm upgrade `\r\n  --set agent.name=\"a`\"b\" `\n  --set 'x\\.y=it''s' `\n  --set z=\"{p,q}\" r";
        assert!(is_powershell(text));
        assert_eq!(
            powershell_words(text).unwrap(),
            [
                "helm",
                "upgrade",
                "--set",
                "agent.name=a\"b",
                "--set",
                "x\\.y=it's",
                "--set",
                "z={p,q}",
                "r"
            ]
        );
        assert_eq!(
            powershell_words("a\\.b \"c\"\"d\"").unwrap(),
            ["a\\.b", "c\"d"],
            "a backslash is no escape"
        );
        assert_eq!(
            powershell_words("--set a=1,b=2"),
            Err(CommandError::PowerShellSyntax { found: ',' })
        );
        assert_eq!(
            powershell_words("--set a={x}"),
            Err(CommandError::PowerShellSyntax { found: '{' })
        );
        assert_eq!(
            powershell_words("\"$env:TOKEN\""),
            Err(CommandError::Expansion { found: '$' })
        );
        assert_eq!(powershell_words("'$env:TOKEN'").unwrap(), ["$env:TOKEN"]);
        assert_eq!(
            powershell_words("'open"),
            Err(CommandError::Unterminated { quote: '\'' })
        );
        assert!(!is_powershell("helm upgrade \\\n --set a=b r c"));
    }

    #[test]
    fn set_string_wins_over_set_whatever_the_order() {
        let install = parse("helm install --set-string a=1 --set a=2 -n ns --timeout 5m r kubernetes-agent").unwrap();
        assert_eq!(install.values, vec![("a".to_owned(), SetValue::Str("1".into()))]);
        assert_eq!(install.namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn what_cannot_be_reproduced_is_refused_by_name() {
        let cases = [
            ("helm upgrade --install -f values.yaml r kubernetes-agent", "-f"),
            ("helm upgrade --install --set-file a=b r kubernetes-agent", "--set-file"),
            (
                "helm upgrade --install --reuse-values r kubernetes-agent",
                "--reuse-values",
            ),
            ("helm upgrade --install --values=x.yaml r kubernetes-agent", "--values"),
        ];
        for (text, flag) in cases {
            assert_eq!(
                parse(text),
                Err(CommandError::Unsupported { flag: flag.to_owned() }),
                "{text}"
            );
        }
        assert!(matches!(
            parse("kubectl apply -f x"),
            Err(CommandError::NotInstall { .. })
        ));
        assert!(matches!(
            parse("helm upgrade --install r oci://x/other"),
            Err(CommandError::NotAgentChart { .. })
        ));
        assert!(matches!(
            parse("helm upgrade --install r"),
            Err(CommandError::Positionals { .. })
        ));
        assert!(matches!(
            parse("helm upgrade --install --namespace"),
            Err(CommandError::MissingValue { .. })
        ));
        assert!(matches!(
            parse("helm install --set a r kubernetes-agent"),
            Err(CommandError::Set { .. })
        ));
    }
}
