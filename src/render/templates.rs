//! The manifest templates: built in, or overridden by the config repo's `templates/`.
//!
//! One `minijinja` environment per run with strict undefined behaviour, so a typo in a
//! template fails instead of rendering an empty string. A `yaml` filter writes any
//! value as correctly quoted YAML.
//!
//! Values reach the templates through `values_value`, which keeps every number as
//! written (`1e3`, `1.10`, `.inf`), so the values inlined by `render --stdout` are byte
//! for byte the scalars of values.yaml.

use std::sync::Arc;

use minijinja::value::{Object, ObjectRepr, ValueKind};
use minijinja::{Environment, UndefinedBehavior, Value as JinjaValue};

use crate::source::Loc;
use crate::tree::{join, FileTree};
use crate::yaml::{self, Key, Map, Node, Value};

/// The built-in templates, embedded at build time.
pub(crate) const BUILTIN: &[(&str, &str)] = &[
    (
        "application.yaml.j2",
        include_str!("../../templates/application.yaml.j2"),
    ),
    (
        "helmrelease.yaml.j2",
        include_str!("../../templates/helmrelease.yaml.j2"),
    ),
    ("namespace.yaml.j2", include_str!("../../templates/namespace.yaml.j2")),
    (
        "externalsecret.yaml.j2",
        include_str!("../../templates/externalsecret.yaml.j2"),
    ),
    (
        "cluster-application.yaml.j2",
        include_str!("../../templates/cluster-application.yaml.j2"),
    ),
    (
        "ocirepository.yaml.j2",
        include_str!("../../templates/ocirepository.yaml.j2"),
    ),
    (
        "kustomization.yaml.j2",
        include_str!("../../templates/kustomization.yaml.j2"),
    ),
    (
        "kustomizeconfig.yaml.j2",
        include_str!("../../templates/kustomizeconfig.yaml.j2"),
    ),
];

/// The folder of a config repo whose files override the built-in templates.
pub(crate) const OVERRIDES: &str = "templates";

/// A template problem, located in the template file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct TemplateError {
    pub(crate) path: String,
    pub(crate) line: Option<usize>,
    pub(crate) col: Option<usize>,
    pub(crate) message: String,
    /// The template's text, to show the line.
    pub(crate) text: Option<String>,
}

impl TemplateError {
    pub(crate) fn new(path: String, message: impl Into<String>) -> Self {
        Self {
            path,
            line: None,
            col: None,
            message: message.into(),
            text: None,
        }
    }

    fn from_minijinja(error: &minijinja::Error, templates: &[(String, String)], overridden: &[String]) -> Self {
        let name = error.name().unwrap_or("template").to_string();
        let path = if overridden.contains(&name) {
            join(OVERRIDES, &name)
        } else {
            format!("{name} (built in)")
        };
        let mut message = error.detail().map_or_else(|| error.kind().to_string(), str::to_string);
        if error.kind() == minijinja::ErrorKind::UndefinedError {
            message = format!("{message} (templates run with strict undefined behaviour)");
        }
        let text = templates.iter().find(|(n, _)| n == &name).map(|(_, text)| text.clone());
        let col = match (&text, error.range()) {
            (Some(text), Some(range)) => {
                let before = &text[..range.start.min(text.len())];
                Some(before.chars().rev().take_while(|c| *c != '\n').count() + 1)
            }
            _ => None,
        };
        Self {
            path,
            line: error.line(),
            col,
            message,
            text,
        }
    }

    /// The error as a diagnostic with its own sources, to print like any other.
    pub(crate) fn to_report(&self) -> (crate::source::Sources, crate::diagnostic::Report) {
        let mut sources = crate::source::Sources::new();
        let file = sources.add(self.path.clone(), self.text.clone().unwrap_or_default());
        let loc = self
            .line
            .map(|line| Loc::new(file, line as u32, self.col.unwrap_or(1) as u32));
        let mut report = crate::diagnostic::Report::new();
        let message = if loc.is_none() {
            format!("{}: {}", self.path, self.message)
        } else {
            self.message.clone()
        };
        report.push(crate::diagnostic::Diagnostic::error(loc, message).with_hint(
            "templates see `worker`, `cluster`, `chart`, `argocd`, `flux`, `labels`, `values`, `inline`, `engine` (and `secret`, `cluster_application`, `cluster_resources` where they apply); see README \"Templates\"",
        ));
        (sources, report)
    }
}

/// The templates of one run.
pub struct Templates {
    environment: Environment<'static>,
    /// Every template's name and text, for messages.
    sources: Vec<(String, String)>,
    /// Names of the templates the config repo overrides.
    pub(crate) overridden: Vec<String>,
    /// Whether the built-in templates are built in Rust (`super::native`); the tests
    /// turn it off to compare with the templates themselves.
    native: bool,
}

impl Templates {
    /// The built-in templates, with any `templates/<name>` of the config repo in their place.
    pub fn load(tree: &dyn FileTree) -> Result<Self, TemplateError> {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.add_filter("yaml", yaml_filter);
        let mut overridden = Vec::new();
        let mut sources = Vec::new();
        for (name, builtin) in BUILTIN {
            let path = join(OVERRIDES, name);
            let source = match tree.read(&path, crate::load::MAX_FILE_BYTES) {
                Ok(Some(bytes)) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|_| TemplateError::new(path.clone(), "template is not valid UTF-8"))?;
                    // A copy of the built-in template (such as this repository's own
                    // `templates/`) is no override.
                    if text != *builtin {
                        overridden.push(name.to_string());
                    }
                    text
                }
                Ok(None) => builtin.to_string(),
                Err(error) => return Err(TemplateError::new(path, error.to_string())),
            };
            sources.push((name.to_string(), source.clone()));
            environment
                .add_template_owned(name.to_string(), source)
                .map_err(|error| TemplateError::from_minijinja(&error, &sources, &overridden))?;
        }
        Ok(Self {
            environment,
            sources,
            overridden,
            native: true,
        })
    }

    /// These templates, with every built-in one run as a template (for the tests that
    /// compare the two).
    #[cfg(test)]
    pub(crate) fn run_builtin_templates(mut self) -> Self {
        self.native = false;
        self
    }

    /// Whether every template is a built-in one, not overridden.
    pub(crate) fn all_builtin(&self) -> bool {
        self.native && self.overridden.is_empty()
    }

    /// Whether template `name` is a built-in one, not overridden: `super::native`
    /// builds its tree.
    pub(crate) fn is_builtin(&self, name: &str) -> bool {
        self.native && !self.overridden.iter().any(|overridden| overridden == name)
    }

    /// Whether two runs use the same template texts.
    pub(crate) fn same_as(&self, other: &Templates) -> bool {
        self.sources == other.sources
    }

    /// Renders template `name` with `context`.
    pub(crate) fn render(&self, name: &str, context: &impl serde::Serialize) -> Result<String, TemplateError> {
        let template = self
            .environment
            .get_template(name)
            .map_err(|error| TemplateError::from_minijinja(&error, &self.sources, &self.overridden))?;
        template
            .render(JinjaValue::from(minijinja::value::Serde(context)))
            .map_err(|error| TemplateError::from_minijinja(&error, &self.sources, &self.overridden))
    }
}

/// `{{ value | yaml }}` writes a scalar as YAML; `{{ map | yaml(4) }}` writes a block,
/// every line indented by 4.
fn yaml_filter(value: JinjaValue, indent: Option<usize>) -> Result<String, minijinja::Error> {
    if value.is_undefined() {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            "`yaml` was given an undefined value",
        ));
    }
    let text = yaml::emit(&from_jinja(&value)?);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(match indent {
        Some(width) => {
            let pad = " ".repeat(width);
            text.lines()
                .map(|line| format!("{pad}{line}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        None => text.to_string(),
    })
}

/// A number in a template, as it was written: `1e3` stays `1e3` through the `yaml`
/// filter, where a float would come back as `1000.0` and `.inf` as a string.
#[derive(Debug)]
struct WrittenNumber(String);

impl Object for WrittenNumber {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A values tree as a template value: maps, lists and scalars as minijinja's own, and
/// floats as `WrittenNumber`s, which the `yaml` filter writes as they were written.
pub(crate) fn values_value(node: &Node) -> JinjaValue {
    match &node.value {
        Value::Null => JinjaValue::from(()),
        Value::Bool(value) => JinjaValue::from(*value),
        Value::Int(value) => JinjaValue::from(*value),
        Value::Float(text) => JinjaValue::from_object(WrittenNumber(text.clone())),
        Value::Str(text) => JinjaValue::from(text.as_str()),
        Value::Seq(items) => items.iter().map(values_value).collect(),
        Value::Map(map) => JinjaValue::from(
            map.entries()
                .iter()
                .map(|(key, child)| (key.name.clone(), values_value(child)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
    }
}

/// A template value as a [`Node`] (without a place), numbers as written.
fn from_jinja(value: &JinjaValue) -> Result<Node, minijinja::Error> {
    let invalid = |message: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message);
    if let Some(number) = value.downcast_object_ref::<WrittenNumber>() {
        return Ok(Node::generated(Value::Float(number.0.clone())));
    }
    let node_value = match value.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(value.is_true()),
        ValueKind::Number => match value.as_i64() {
            Some(whole) => Value::Int(whole),
            None if value.is_integer() => Value::Float(value.to_string()),
            None => Value::Float(float_text(f64::try_from(value.clone())?)),
        },
        ValueKind::String | ValueKind::Plain => Value::Str(value.to_string()),
        ValueKind::Bytes => Value::Str(String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned()),
        ValueKind::Seq | ValueKind::Iterable => Value::Seq(
            value
                .try_iter()?
                .map(|item| from_jinja(&item))
                .collect::<Result<_, _>>()?,
        ),
        ValueKind::Map => {
            let mut entries = Vec::new();
            for key in value.try_iter()? {
                let child = from_jinja(&value.get_item(&key)?)?;
                let name = key.as_str().map_or_else(|| key.to_string(), str::to_string);
                entries.push((Key::generated(name), child));
            }
            Value::Map(Map::from_entries(entries))
        }
        _ => return Err(invalid(format!("`yaml` cannot write the value {value}"))),
    };
    Ok(Node::generated(node_value))
}

/// A float as YAML writes it.
fn float_text(value: f64) -> String {
    if value.is_nan() {
        ".nan".into()
    } else if value.is_infinite() {
        if value > 0.0 { ".inf" } else { "-.inf" }.into()
    } else {
        // `{:?}` keeps a `.0` or an exponent, so the text stays a float.
        format!("{value:?}")
    }
}
