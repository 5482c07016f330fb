//! Reading the snapshot's proto3 JSON: values at a path, proto3 scalars, and the order in which
//! map keys were written.

use serde_json::Value;

/// Follows `path` from `value`: object keys, or decimal indexes into arrays.
pub fn json_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |current, segment| match current {
            Value::Object(map) => map.get(*segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// A proto3-JSON uint64: a decimal string; absent (the zero value is omitted) means 0.
pub fn proto_u64(value: Option<&Value>) -> Result<u64, String> {
    match value {
        None => Ok(0),
        Some(Value::String(text)) => text
            .parse()
            .map_err(|e| format!("{text:?} is not a decimal uint64: {e}")),
        Some(other) => Err(format!(
            "{other} is not a uint64 in proto3 JSON (a decimal string such as \"12\")"
        )),
    }
}

/// A proto3-JSON double: a number (or "NaN"/"Infinity" strings); absent means 0.
pub fn proto_f64(value: Option<&Value>) -> Result<f64, String> {
    match value {
        None => Ok(0.0),
        Some(Value::Number(number)) => number
            .as_f64()
            .ok_or_else(|| format!("{number} is not a double")),
        Some(Value::String(text)) => text
            .parse()
            .map_err(|e| format!("{text:?} is not a double: {e}")),
        Some(other) => Err(format!("{other} is not a double in proto3 JSON")),
    }
}

/// The keys of the object at `value` (a map in proto3 JSON); an absent map has none.
pub fn object_keys(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.keys().cloned().collect()),
        Some(other) => Err(format!("{} is not an object", excerpt(other, 200))),
    }
}

/// The objects in `json` (valid JSON text) with their paths and keys in written order; a
/// parsed `Value` cannot tell the order, which the snapshot contract fixes for maps.
pub fn object_key_orders(json: &str) -> Vec<(Vec<String>, Vec<String>)> {
    enum Frame {
        Object {
            path: Vec<String>,
            keys: Vec<String>,
            expecting_key: bool,
        },
        Array {
            path: Vec<String>,
            index: usize,
        },
    }
    let child_path = |stack: &[Frame]| -> Vec<String> {
        match stack.last() {
            None => Vec::new(),
            Some(Frame::Object { path, keys, .. }) => {
                let mut path = path.clone();
                path.push(keys.last().cloned().unwrap_or_default());
                path
            }
            Some(Frame::Array { path, index }) => {
                let mut path = path.clone();
                path.push(index.to_string());
                path
            }
        }
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut objects = Vec::new();
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                text.push('\\');
                                text.push(escaped);
                            }
                        }
                        c => text.push(c),
                    }
                }
                if let Some(Frame::Object {
                    keys,
                    expecting_key,
                    ..
                }) = stack.last_mut()
                    && *expecting_key
                {
                    keys.push(text);
                    *expecting_key = false;
                }
            }
            '{' => {
                let path = child_path(&stack);
                stack.push(Frame::Object {
                    path,
                    keys: Vec::new(),
                    expecting_key: true,
                });
            }
            '[' => {
                let path = child_path(&stack);
                stack.push(Frame::Array { path, index: 0 });
            }
            '}' | ']' => {
                if let Some(Frame::Object { path, keys, .. }) = stack.pop() {
                    objects.push((path, keys));
                }
            }
            ',' => match stack.last_mut() {
                Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                Some(Frame::Array { index, .. }) => *index += 1,
                None => {}
            },
            _ => {}
        }
    }
    objects
}

/// Whether the object at `path` in a snapshot is a proto map (written sorted by key) rather
/// than a message (written in field order), per parity/v1/fingerprint.proto.
pub fn is_snapshot_map(path: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let n = p.len();
    let ends = |suffix: &[&str]| {
        n >= suffix.len()
            && p[n - suffix.len()..]
                .iter()
                .zip(suffix)
                .all(|(found, wanted)| *wanted == "*" || found == wanted)
    };
    matches!(
        p.as_slice(),
        ["environments"] | ["received"] | ["environments", _, "services"]
    ) || ends(&["services", "*", "metrics"])
        || ends(&["resource", "attributeKeys"])
        || ends(&["resource", "allowedValues"])
        || ends(&["resource", "scopes"])
        || ends(&["allowedValues", "*", "values"])
        || ends(&["scopes", "*", "versions"])
        || ["types", "units", "temporalities", "attributeKeys"]
            .iter()
            .any(|field| ends(&["services", "*", "metrics", "*", field]))
        || ["attributeKeys", "eventNames"]
            .iter()
            .any(|field| ends(&["spanOperations", "*", field]))
        || ["severities", "attributeKeys", "eventNames", "bodyKinds"]
            .iter()
            .any(|field| ends(&["logs", field]))
}

/// The maps of a snapshot (raw JSON text) whose keys are not written sorted, described.
pub fn unsorted_snapshot_maps(json: &str) -> Vec<String> {
    object_key_orders(json)
        .into_iter()
        .filter(|(path, keys)| is_snapshot_map(path) && !keys.is_sorted())
        .map(|(path, keys)| format!("{}: keys written as {keys:?}", path.join(".")))
        .collect()
}

/// `value` pretty-printed and cut to about `max` characters.
pub fn excerpt(value: &Value, max: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("<{e}>"));
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}\n[… cut at {max} characters …]")
    }
}
