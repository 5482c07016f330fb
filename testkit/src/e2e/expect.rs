//! Collecting failed expectations about snapshot JSON, to report them all at once.

use std::fmt::{Display, Write as _};

use serde_json::Value;

use super::snapshot::{excerpt, json_at, object_keys, proto_f64, proto_u64};

/// Where a failed expectation looked: a label for the JSON object and a path inside it.
fn place(subject: &str, path: &[&str]) -> String {
    if path.is_empty() {
        subject.to_owned()
    } else {
        format!("{subject} → {}", path.join("."))
    }
}

/// Collects failed expectations about snapshot JSON, so that one run reports all of them,
/// each with the JSON object it was read from.
#[derive(Default)]
pub struct Expectations {
    failures: Vec<String>,
}

/// How much of the JSON object behind a failure is printed.
const CONTEXT_CHARS: usize = 3000;

impl Expectations {
    /// No failures yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure about `subject`, showing `context` (the JSON it came from) if any.
    pub fn fail(&mut self, subject: &str, message: impl Display, context: Option<&Value>) {
        let mut text = format!("{subject}: {message}");
        if let Some(context) = context {
            let _ = write!(
                text,
                "\n    in: {}",
                excerpt(context, CONTEXT_CHARS).replace('\n', "\n        ")
            );
        }
        self.failures.push(text);
    }

    /// Records a failure unless `ok`.
    pub fn check(
        &mut self,
        ok: bool,
        subject: &str,
        message: impl Display,
        context: Option<&Value>,
    ) {
        if !ok {
            self.fail(subject, message, context);
        }
    }

    /// The uint64 at `path` in `base` equals `expected` (absent counts as 0).
    pub fn u64_eq(&mut self, subject: &str, base: &Value, path: &[&str], expected: u64) {
        match proto_u64(json_at(base, path)) {
            Ok(found) if found == expected => {}
            Ok(found) => self.fail(
                &place(subject, path),
                format!("expected {expected}, found {found}"),
                Some(base),
            ),
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The uint64 at `path` in `base` is at least `minimum`.
    pub fn u64_at_least(&mut self, subject: &str, base: &Value, path: &[&str], minimum: u64) {
        match proto_u64(json_at(base, path)) {
            Ok(found) if found >= minimum => {}
            Ok(found) => self.fail(
                &place(subject, path),
                format!("expected at least {minimum}, found {found}"),
                Some(base),
            ),
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The double at `path` in `base` is within `tolerance` of `expected`.
    pub fn f64_near(
        &mut self,
        subject: &str,
        base: &Value,
        path: &[&str],
        expected: f64,
        tolerance: f64,
    ) {
        match proto_f64(json_at(base, path)) {
            Ok(found) if (found - expected).abs() <= tolerance => {}
            Ok(found) => self.fail(
                &place(subject, path),
                format!("expected {expected} ± {tolerance}, found {found}"),
                Some(base),
            ),
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The string at `path` in `base` equals `expected`.
    pub fn str_eq(&mut self, subject: &str, base: &Value, path: &[&str], expected: &str) {
        let found = json_at(base, path);
        if found.and_then(Value::as_str) != Some(expected) {
            let found = found.map_or_else(|| "nothing".to_owned(), Value::to_string);
            self.fail(
                &place(subject, path),
                format!("expected {expected:?}, found {found}"),
                Some(base),
            );
        }
    }

    /// The map at `path` in `base` has exactly the keys `expected` (an absent map has none).
    pub fn keys_eq(&mut self, subject: &str, base: &Value, path: &[&str], expected: &[&str]) {
        match object_keys(json_at(base, path)) {
            Ok(mut found) => {
                let mut expected: Vec<String> = expected.iter().map(|k| (*k).to_owned()).collect();
                found.sort();
                expected.sort();
                if found != expected {
                    self.fail(
                        &place(subject, path),
                        format!("expected keys {expected:?}, found {found:?}"),
                        Some(base),
                    );
                }
            }
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The map at `path` in `base` has at least the keys `expected`.
    pub fn keys_include(&mut self, subject: &str, base: &Value, path: &[&str], expected: &[&str]) {
        match object_keys(json_at(base, path)) {
            Ok(found) => {
                let missing: Vec<&str> = expected
                    .iter()
                    .copied()
                    .filter(|key| !found.iter().any(|f| f == key))
                    .collect();
                if !missing.is_empty() {
                    self.fail(
                        &place(subject, path),
                        format!("missing keys {missing:?}; found {found:?}"),
                        Some(base),
                    );
                }
            }
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The `map<string, uint64>` at `path` in `base` is exactly `expected`.
    pub fn u64_map_eq(
        &mut self,
        subject: &str,
        base: &Value,
        path: &[&str],
        expected: &[(&str, u64)],
    ) {
        let found = json_at(base, path);
        let parsed: Result<Vec<(String, u64)>, String> = match found {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(key, count)| proto_u64(Some(count)).map(|count| (key.clone(), count)))
                .collect(),
            Some(other) => Err(format!("{} is not a map", excerpt(other, 200))),
        };
        match parsed {
            Ok(mut found) => {
                let mut expected: Vec<(String, u64)> = expected
                    .iter()
                    .map(|(key, count)| ((*key).to_owned(), *count))
                    .collect();
                found.sort();
                expected.sort();
                if found != expected {
                    self.fail(
                        &place(subject, path),
                        format!("expected {expected:?}, found {found:?}"),
                        Some(base),
                    );
                }
            }
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// Whether every expectation so far held.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// Panics with every failure, followed by `diagnostics` (e.g. the receiver's stderr), if
    /// any expectation failed.
    pub fn finish(self, what: &str, diagnostics: &str) {
        if self.failures.is_empty() {
            return;
        }
        let mut report = format!("{what}: {} expectation(s) failed\n", self.failures.len());
        for (i, failure) in self.failures.iter().enumerate() {
            let _ = writeln!(report, "\n{}. {failure}", i + 1);
        }
        let _ = write!(report, "\n{diagnostics}");
        panic!("{report}");
    }
}
