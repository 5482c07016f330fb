//! Converting a JSON list into a repeated protobuf field, entry by entry: all or nothing above
//! the items (a bad resource or scope means the request cannot be decoded), and at the items
//! (spans, data points, log records) leaving out each bad one and counting what it held.

use serde_json::Value;

use super::encode::put_len;
use super::message::{Encoded, Invalid, Path, lookup};

/// Converts every entry of a list into field `tag` of `out`, failing on the first entry that
/// fails: for resources and scopes, whose failure means the request cannot be decoded.
pub(super) fn convert_all<'v>(
    list: Option<(Path<'_>, &'v [Value])>,
    tag: u32,
    out: &mut Vec<u8>,
    rejections: &mut Rejections,
    mut convert: impl FnMut(&'v Value, &Path, &mut Rejections) -> Encoded,
) -> Result<(), Invalid> {
    let Some((list_path, entries)) = list else {
        return Ok(());
    };
    for (index, entry) in entries.iter().enumerate() {
        put_len(
            out,
            tag,
            &convert(entry, &list_path.index(index), rejections)?,
        );
    }
    Ok(())
}

/// Items under the list `name` of an object: exact where the shape allows, and 1 for each part
/// too malformed to count.
pub(super) fn items_in(value: &Value, name: &str, count: impl Fn(&Value) -> u64) -> u64 {
    let Value::Object(map) = value else { return 1 };
    match lookup(map, name) {
        None => 0,
        Some((_, Value::Array(entries))) => entries.iter().map(count).sum(),
        Some(_) => 1,
    }
}

/// Converts each entry of a list into field `tag` of `out`; an entry that fails is left out and
/// its items are counted as rejected.
pub(super) fn keep_valid<'v>(
    list: Option<(Path<'_>, &'v [Value])>,
    tag: u32,
    out: &mut Vec<u8>,
    rejections: &mut Rejections,
    mut convert: impl FnMut(&'v Value, &Path, &mut Rejections) -> Encoded,
    items: impl Fn(&Value) -> u64,
) {
    let Some((list_path, entries)) = list else {
        return;
    };
    for (index, entry) in entries.iter().enumerate() {
        match convert(entry, &list_path.index(index), rejections) {
            Ok(bytes) => put_len(out, tag, &bytes),
            Err(why) => rejections.reject(items(entry), why),
        }
    }
}

/// Items left out so far, and why the first one was.
#[derive(Default)]
pub(super) struct Rejections {
    pub(super) items: u64,
    pub(super) first: Option<String>,
}

impl Rejections {
    /// Counts `items`, at least one so that no rejection goes unreported, and keeps the first
    /// reason.
    fn reject(&mut self, items: u64, why: Invalid) {
        self.items = self.items.saturating_add(items.max(1));
        self.first.get_or_insert_with(|| why.to_string());
    }
}
