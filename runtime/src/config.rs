//! Config files (receiver, analyzer, the all-in-one `serve`): YAML with
//! `${env:…}` references, unknown keys refused by name, defaults for what a
//! file leaves out, and the type's own checks after reading.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::env::Lookup;
use crate::error::{Error, YamlError};
use crate::yaml::Document;

/// A type a config file is read into: its `Default` is an empty file, and
/// `validate` holds the checks serde cannot express.
pub trait ConfigFile: DeserializeOwned + Default {
    /// Refuses values the type allows but the program cannot use, naming
    /// the key (`snapshot.interval must be longer than 0s`).
    fn validate(&self) -> Result<(), String>;
}

/// Reads a config file, expanding references from the process environment.
pub fn load<T: ConfigFile>(path: &Path) -> Result<T, Error> {
    let text = read(path)?;
    parse(&text, &path.display().to_string(), &crate::env::process_env)
}

/// A config file's text, for files that are split into sections before
/// they are read (see [`from_value`]).
pub fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
        path: path.to_owned(),
        source,
    })
}

/// Reads config text; `origin` names the file in errors.
pub fn parse<T: ConfigFile>(text: &str, origin: &str, env: Lookup<'_>) -> Result<T, Error> {
    let document = Document::parse(text, env).map_err(|source| invalid(origin, source))?;
    checked(document, origin)
}

/// Reads a section of a larger config file (already parsed, references not
/// yet expanded) as if it were a file of its own.
pub fn from_value<T: ConfigFile>(value: Value, origin: &str, env: Lookup<'_>) -> Result<T, Error> {
    let document = Document::expand(value, env).map_err(|source| invalid(origin, source))?;
    checked(document, origin)
}

/// Checks a config again after command-line flags changed it (a flag can
/// make a valid file invalid: `--state-dir` without `--analyzer`).
pub fn check<T: ConfigFile>(config: &T) -> Result<(), Error> {
    config.validate().map_err(|message| Error::ConfigValue {
        origin: "the config with the command-line flags".to_owned(),
        message,
    })
}

fn checked<T: ConfigFile>(document: Document, origin: &str) -> Result<T, Error> {
    let config: T = document
        .deserialize()
        .map_err(|source| invalid(origin, source))?
        .unwrap_or_default();
    config.validate().map_err(|message| Error::ConfigValue {
        origin: origin.to_owned(),
        message,
    })?;
    Ok(config)
}

fn invalid(origin: &str, source: YamlError) -> Error {
    Error::Config {
        origin: origin.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Listener {
        endpoint: String,
        max_mib: usize,
    }

    impl Default for Listener {
        fn default() -> Self {
            Listener {
                endpoint: "0.0.0.0:4317".into(),
                max_mib: 4,
            }
        }
    }

    impl ConfigFile for Listener {
        fn validate(&self) -> Result<(), String> {
            if self.max_mib == 0 {
                return Err("max_mib must be at least 1".into());
            }
            Ok(())
        }
    }

    fn env(name: &str) -> Option<String> {
        (name == "MIB").then(|| "16".to_owned())
    }

    #[test]
    fn an_empty_file_is_the_defaults_and_keys_override_them() {
        assert_eq!(
            parse::<Listener>("", "l.yaml", &env).unwrap(),
            Listener::default()
        );
        let listener = parse::<Listener>("max_mib: ${env:MIB}\n", "l.yaml", &env).unwrap();
        assert_eq!(listener.max_mib, 16);
        assert_eq!(listener.endpoint, "0.0.0.0:4317");
    }

    #[test]
    fn errors_name_the_origin_and_the_key() {
        let message = parse::<Listener>("max_mbi: 3\n", "l.yaml", &env)
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("invalid config l.yaml: "), "{message}");
        assert!(message.contains("max_mbi"), "{message}");
        let message = parse::<Listener>("max_mib: 0\n", "l.yaml", &env)
            .unwrap_err()
            .to_string();
        assert_eq!(message, "invalid config l.yaml: max_mib must be at least 1");
    }

    #[test]
    fn a_section_reads_like_a_file_of_its_own() {
        let file: Value =
            serde_yaml_ng::from_str("receiver:\n  max_mib: ${env:MIB}\n  bogus: 1\n").unwrap();
        let section = file["receiver"].clone();
        let message = from_value::<Listener>(section, "all.yaml (receiver)", &env)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("invalid config all.yaml (receiver): bogus: unknown field"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_file_names_it() {
        let error = load::<Listener>(Path::new("/nonexistent/receiver.yaml")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot read config file /nonexistent/receiver.yaml: "),
            "{error}"
        );
    }
}
