//! Reading YAML documents into typed values with errors that name the
//! offending key. Config files expand `${env:…}` references (see [`env`]);
//! data files (lint baselines) are read as they are.
//!
//! [`env`]: crate::env

use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::env::{self, Lookup};
use crate::error::YamlError;

/// A parsed YAML document, its `${env:…}` references (if any) expanded.
#[derive(Debug, Clone)]
pub struct Document {
    value: Value,
    /// Paths of strings that were exactly one reference.
    whole: Vec<String>,
}

impl Document {
    /// Parses config text and expands its references with `env`.
    pub fn parse(text: &str, env: Lookup<'_>) -> Result<Self, YamlError> {
        let value = serde_yaml_ng::from_str(text).map_err(YamlError::Syntax)?;
        Self::expand(value, env)
    }

    /// Expands the references of an already parsed value (a section of a
    /// larger file), so that the section reads as if it were a file.
    pub fn expand(mut value: Value, env: Lookup<'_>) -> Result<Self, YamlError> {
        let whole = env::expand(&mut value, env)?;
        Ok(Document { value, whole })
    }

    /// Parses data text: no references expanded, `$` is just a character.
    pub fn data(text: &str) -> Result<Self, YamlError> {
        let value = serde_yaml_ng::from_str(text).map_err(YamlError::Syntax)?;
        Ok(Document {
            value,
            whole: Vec::new(),
        })
    }

    /// The document as a `T`; `None` when it is empty. A reference is a
    /// string first, as in the Collector (`environment: ${env:ENV}` with
    /// ENV=2024 is the string "2024"); where a field refuses the string, the
    /// variable's value is read as YAML (`max_services: ${env:N}` is a number).
    pub fn deserialize<T: DeserializeOwned>(self) -> Result<Option<T>, YamlError> {
        let Document { mut value, whole } = self;
        if value.is_null() {
            return Ok(None);
        }
        let mut retyped = Vec::new();
        loop {
            let error = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
                Ok(typed) => return Ok(Some(typed)),
                Err(error) => error,
            };
            let path = error.path().to_string();
            let retypable = whole.contains(&path) && !retyped.contains(&path);
            let field = if retypable {
                value_at(&mut value, &path)
            } else {
                None
            };
            let reread = match field {
                Some(Value::String(raw)) => serde_yaml_ng::from_str::<Value>(raw).ok(),
                _ => None,
            };
            match (field, reread) {
                (Some(field), Some(reread)) => *field = reread,
                _ => return Err(key_error(path, error.into_inner())),
            }
            retyped.push(path);
        }
    }

    /// The expanded document, for readers that walk it by hand.
    pub fn into_value(self) -> Value {
        self.value
    }
}

/// Data text as a `T` with no references expanded; `None` for an empty
/// document.
pub fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<Option<T>, YamlError> {
    Document::data(text)?.deserialize()
}

fn key_error(path: String, source: serde_yaml_ng::Error) -> YamlError {
    if path == "." {
        YamlError::Document(source)
    } else {
        YamlError::Key { path, source }
    }
}

/// The value at a serde_path_to_error path (`a.b[2].c`), if any.
fn value_at<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut current = value;
    for segment in path.split('.') {
        let (key, indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            current = current.as_mapping_mut()?.get_mut(key)?;
        }
        for index in indexes.split(['[', ']']).filter(|i| !i.is_empty()) {
            current = current
                .as_sequence_mut()?
                .get_mut(index.parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Settings {
        environment: Option<String>,
        name: String,
        limits: Limits,
        #[serde(deserialize_with = "crate::serde_duration::deserialize")]
        interval: Duration,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Limits {
        max_services: usize,
        sizes: Vec<u32>,
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "ENVIRONMENT" => Some("staging".into()),
            "YEAR" => Some("2024".into()),
            "SIZE" => Some("16".into()),
            "INTERVAL" => Some("5s".into()),
            _ => None,
        }
    }

    fn settings(text: &str) -> Result<Option<Settings>, YamlError> {
        Document::parse(text, &env)?.deserialize()
    }

    #[test]
    fn a_reference_in_a_string_field_expands_and_stays_a_string() {
        let config = settings("environment: ${env:YEAR}\nname: rx-${env:ENVIRONMENT}\n")
            .unwrap()
            .unwrap();
        assert_eq!(config.environment.as_deref(), Some("2024"));
        assert_eq!(config.name, "rx-staging");
    }

    #[test]
    fn a_whole_reference_in_a_number_field_is_read_as_a_number() {
        let config = settings(
            "limits:\n  max_services: ${env:YEAR}\n  sizes: [1, '${env:SIZE}']\ninterval: ${env:INTERVAL}\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.limits.max_services, 2024);
        assert_eq!(config.limits.sizes, [1, 16]);
        assert_eq!(config.interval, Duration::from_secs(5));
    }

    #[test]
    fn a_reference_that_is_not_a_number_names_the_key() {
        let error = settings("limits:\n  max_services: ${env:ENVIRONMENT}\n").unwrap_err();
        assert!(
            matches!(&error, YamlError::Key { path, .. } if path == "limits.max_services"),
            "{error:?}"
        );
        let message = settings("limits:\n  max_services: ${env:UNSET}\n")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("limits.max_services: "), "{message}");
    }

    #[test]
    fn unknown_keys_wrong_types_and_bad_syntax_are_named() {
        let message = settings("limits:\n  max_servics: 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("limits.max_servics: unknown field `max_servics`"),
            "{message}"
        );
        let message = settings("limits:\n  max_services: many\n")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("limits.max_services: "), "{message}");
        assert!(matches!(
            settings("[1, 2]\n").unwrap_err(),
            YamlError::Document(_)
        ));
        assert!(matches!(
            settings("name: [unclosed\n").unwrap_err(),
            YamlError::Syntax(_)
        ));
    }

    #[test]
    fn an_empty_document_is_none() {
        assert!(settings("").unwrap().is_none());
        assert!(settings("# nothing\n").unwrap().is_none());
    }

    #[test]
    fn data_documents_keep_references_as_text() {
        let data: Settings = from_yaml("name: ${env:ENVIRONMENT}-$$\n").unwrap().unwrap();
        assert_eq!(data.name, "${env:ENVIRONMENT}-$$");
    }
}
