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
    pub message: String,
}

impl TemplateError {
    pub fn from_minijinja(error: &minijinja::Error, overridden: &[String]) -> Self {
        let name = error.name().unwrap_or("template").to_string();
        let path = if overridden.contains(&name) {
            join(OVERRIDES, &name)
        } else {
            format!("{name} (built in)")
        };
        let mut message = error.detail().map_or_else(|| error.kind().to_string(), str::to_string);
        if error.kind() == minijinja::ErrorKind::UndefinedError && error.detail().is_none() {
            message = "undefined value (templates run with strict undefined behaviour)".to_string();
        }
        Self {
            path,
            line: error.line(),
            message,
        }
    }
}

/// The templates of one run.
pub struct Templates {
    environment: Environment<'static>,
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
        for (name, builtin) in BUILTIN {
            let path = join(OVERRIDES, name);
            let source = match tree.read(&path, crate::load::MAX_FILE_BYTES) {
                Ok(Some(bytes)) => {
                    overridden.push(name.to_string());
                    String::from_utf8(bytes).map_err(|_| TemplateError {
                        path: path.clone(),
                        line: None,
                        message: "template is not valid UTF-8".into(),
                    })?
                }
                Ok(None) => builtin.to_string(),
                Err(error) => {
                    return Err(TemplateError {
                        path,
                        line: None,
                        message: error.to_string(),
                    })
                }
            };
            environment
                .add_template_owned(name.to_string(), source)
                .map_err(|error| TemplateError::from_minijinja(&error, &overridden))?;
        }
        Ok(Self {
            environment,
            overridden,
        })
    }

    /// Renders template `name` with `context`.
    pub fn render(&self, name: &str, context: &impl serde::Serialize) -> Result<String, TemplateError> {
        let template = self
            .environment
            .get_template(name)
            .map_err(|error| TemplateError::from_minijinja(&error, &self.overridden))?;
        template
            .render(JinjaValue::from(minijinja::value::Serde(context)))
            .map_err(|error| TemplateError::from_minijinja(&error, &self.overridden))
    }
}

/// `{{ value | yaml }}` writes a scalar as YAML; `{{ map | yaml(4) }}` writes a block,
/// every line indented by 4.
fn yaml_filter(value: JinjaValue, indent: Option<usize>) -> Result<String, minijinja::Error> {
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
        serde_json::Value::Object(object) => Value::Map(Map {
            entries: object
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
        }),
    };
    Node::new(value, loc)
}
