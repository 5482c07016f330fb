//! `${env:VAR}` and `${env:VAR:-default}` references in YAML strings,
//! expanded as the OpenTelemetry Collector does: an unset variable without a
//! default expands to nothing, and `$$` is a literal `$`.

use serde_yaml_ng::Value;

use crate::error::YamlError;

/// The value of an environment variable, or `None` when it is unset; the
/// process environment in servers, a fixed table in tests.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, as a [`Lookup`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Expands every string of `value` in place. Returns the paths (as
/// serde_path_to_error writes them: `a.b[2].c`) of the strings that were
/// exactly one reference, so that a field wanting a number can read the
/// variable's value as YAML.
pub(crate) fn expand(value: &mut Value, env: Lookup<'_>) -> Result<Vec<String>, YamlError> {
    let mut whole = Vec::new();
    expand_at(value, "", env, &mut whole)?;
    Ok(whole)
}

fn expand_at(
    value: &mut Value,
    path: &str,
    env: Lookup<'_>,
    whole: &mut Vec<String>,
) -> Result<(), YamlError> {
    match value {
        Value::String(text) => {
            if let Some(reference) = whole_reference(text) {
                *text = resolve(reference, env);
                whole.push(path.to_owned());
            } else {
                *text = expand_text(text, env)?;
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_at(item, &format!("{path}[{i}]"), env, whole)?;
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let key = key.as_str().unwrap_or("?");
                let child = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                expand_at(item, &child, env, whole)?;
            }
        }
        Value::Tagged(tagged) => expand_at(&mut tagged.value, path, env, whole)?,
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// The reference inside `${env:…}` when that is the whole string.
fn whole_reference(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${env:")?.strip_suffix('}')?;
    (!inner.contains('}') && !inner.contains('$')).then_some(inner)
}

/// `NAME` or `NAME:-default` to its value.
fn resolve(reference: &str, env: Lookup<'_>) -> String {
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    env(name).or(default.map(str::to_owned)).unwrap_or_default()
}

fn expand_text(text: &str, env: Lookup<'_>) -> Result<String, YamlError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${env:") {
            let end = after.find('}').ok_or_else(|| YamlError::UnterminatedEnv {
                text: text.to_owned(),
            })?;
            out.push_str(&resolve(&after[..end], env));
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "ENVIRONMENT" => Some("staging".into()),
            "SIZE" => Some("16".into()),
            _ => None,
        }
    }

    fn expanded(yaml: &str) -> (Value, Vec<String>) {
        let mut value: Value = serde_yaml_ng::from_str(yaml).unwrap();
        let whole = expand(&mut value, &env).unwrap();
        (value, whole)
    }

    #[test]
    fn references_inside_text_expand_with_defaults_and_escapes() {
        let (value, whole) = expanded(
            "id: rx-${env:ENVIRONMENT}-${env:MISSING:-a}-$$1-${env:MISSING}!\nprice: $5\n",
        );
        assert_eq!(value["id"].as_str(), Some("rx-staging-a-$1-!"));
        assert_eq!(value["price"].as_str(), Some("$5"));
        assert!(whole.is_empty(), "{whole:?}");
    }

    #[test]
    fn whole_references_are_recorded_by_path() {
        let (value, whole) = expanded(
            "environment: ${env:ENVIRONMENT}\nlimits:\n  sizes: [1, '${env:SIZE}']\nunset: ${env:NOPE}\n",
        );
        assert_eq!(value["environment"].as_str(), Some("staging"));
        assert_eq!(value["limits"]["sizes"][1].as_str(), Some("16"));
        assert_eq!(value["unset"].as_str(), Some(""));
        assert_eq!(whole, ["environment", "limits.sizes[1]", "unset"]);
    }

    #[test]
    fn an_unterminated_reference_is_an_error_naming_the_string() {
        let mut value: Value = serde_yaml_ng::from_str("a: x-${env:SIZE\n").unwrap();
        let error = expand(&mut value, &env).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unterminated ${env:…} in \"x-${env:SIZE\""
        );
    }
}
