//! The manifest templates: built in, or overridden by the config repo's `templates/`.
//!
//! One `minijinja` environment per run with strict undefined behaviour, so a typo in a
//! template fails instead of rendering an empty string. A `yaml` filter writes any
//! value as correctly quoted YAML.

use minijinja::{Environment, UndefinedBehavior, Value as JinjaValue};

use crate::source::Loc;
use crate::tree::{join, FileTree};
use crate::yaml::{self, Key, Map, Node, Value};

/// The built-in templates, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "application.yaml.j2",
        include_str!("../../templates/application.yaml.j2"),
    ),
    (
        "helmrelease.yaml.j2",
        include_str!("../../templates/helmrelease.yaml.j2"),
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
pub const OVERRIDES: &str = "templates";

/// A template problem, located in the template file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct TemplateError {
    pub path: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
    /// The template's text, to show the line.
    pub text: Option<String>,
}

impl TemplateError {
    pub fn new(path: String, message: impl Into<String>) -> Self {
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
    pub fn to_report(&self) -> (crate::source::Sources, crate::diagnostic::Report) {
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
            "templates see `worker`, `cluster`, `chart`, `argocd`, `flux`, `labels`, `values`, `inline`, `engine`; see README \"Templates\"",
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
    pub overridden: Vec<String>,
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
        })
    }

    /// Whether two runs use the same template texts.
    pub fn same_as(&self, other: &Templates) -> bool {
        self.sources == other.sources
    }

    /// Renders template `name` with `context`.
    pub fn render(&self, name: &str, context: &impl serde::Serialize) -> Result<String, TemplateError> {
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
    let json = serde_json::to_value(&value)
        .map_err(|error| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, error.to_string()))?;
    let text = yaml::emit(&from_json(&json));
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

/// A JSON value as a [`Node`] (without a place).
pub fn from_json(json: &serde_json::Value) -> Node {
    let loc = Loc::default();
    let value = match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(value) => Value::Bool(*value),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(value) => Value::Int(value),
            None => Value::Float(number.to_string()),
        },
        serde_json::Value::String(text) => Value::Str(text.clone()),
        serde_json::Value::Array(items) => Value::Seq(items.iter().map(from_json).collect()),
        serde_json::Value::Object(object) => Value::Map(Map::from_entries(
            object
                .iter()
                .map(|(name, child)| {
                    (
                        Key {
                            name: name.clone(),
                            loc,
                        },
                        from_json(child),
                    )
                })
                .collect(),
        )),
    };
    Node::new(value, loc)
}
