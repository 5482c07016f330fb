//! Reading the analyzer's YAML files (config, lint rules, baselines) with
//! errors that name the offending key.

use serde::de::DeserializeOwned;

/// `text` deserialized into `T`; `None` for an empty document. Errors are one
/// line, prefixed with the key's path (`evaluation.since: invalid duration`)
/// unless the problem is the document itself.
pub fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<Option<T>, String> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    if value.is_null() {
        return Ok(None);
    }
    serde_path_to_error::deserialize(value)
        .map(Some)
        .map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            }
        })
}
