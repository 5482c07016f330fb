//! Where each signal keeps its items in an export request (resources, then scopes, then spans,
//! metrics or log records), and counting what a rejection leaves out.

use serde_json::Value;

use super::common::{resource, scope};
use super::encode::{put_bytes, put_len};
use super::logs::log_record;
use super::message::{Encoded, Invalid, JsonMessage, Path, lookup};
use super::metrics::{metric, metric_items};
use super::scalars::parse_str;
use super::traces::span;
use crate::Signal;

/// Converts one child of a scope: a span or log record, or a metric with its data points.
type ConvertChild = fn(&Value, &Path, &mut Rejections) -> Encoded;

/// Where one signal keeps its items in an export request.
pub(super) struct Layout {
    pub(super) resources: &'static str,
    scopes: &'static str,
    children: &'static str,
    child: ConvertChild,
    /// How many items a child holds, counted when it is rejected whole.
    child_items: fn(&Value) -> u64,
}

const TRACES: Layout = Layout {
    resources: "resourceSpans",
    scopes: "scopeSpans",
    children: "spans",
    child: |value, path, _| span(value, path),
    child_items: |_| 1,
};
const METRICS: Layout = Layout {
    resources: "resourceMetrics",
    scopes: "scopeMetrics",
    children: "metrics",
    child: metric,
    child_items: metric_items,
};
const LOGS: Layout = Layout {
    resources: "resourceLogs",
    scopes: "scopeLogs",
    children: "logRecords",
    child: |value, path, _| log_record(value, path),
    child_items: |_| 1,
};

impl Layout {
    pub(super) fn of(signal: Signal) -> &'static Layout {
        match signal {
            Signal::Traces => &TRACES,
            Signal::Metrics => &METRICS,
            Signal::Logs => &LOGS,
        }
    }

    /// ResourceSpans / ResourceMetrics / ResourceLogs. A malformed resource or scope entry is
    /// an `Err`: above the items, the request does not match OTLP and cannot be decoded.
    pub(super) fn resource_entry(
        &self,
        value: &Value,
        path: &Path,
        rejections: &mut Rejections,
    ) -> Encoded {
        let mut entry = JsonMessage::of(value, path)?;
        entry.message(1, "resource", resource)?;
        let schema_url = entry.read("schemaUrl", parse_str)?.unwrap_or_default();
        let scopes = entry.list(self.scopes)?;
        let scope = |value: &Value, path: &Path, rejections: &mut Rejections| {
            self.scope_entry(value, path, rejections)
        };
        convert_all(scopes, 2, &mut entry.out, rejections, scope)?;
        put_bytes(&mut entry.out, 3, schema_url.as_bytes());
        Ok(entry.out)
    }

    /// ScopeSpans / ScopeMetrics / ScopeLogs, read before its children like a resource.
    fn scope_entry(&self, value: &Value, path: &Path, rejections: &mut Rejections) -> Encoded {
        let mut entry = JsonMessage::of(value, path)?;
        entry.message(1, "scope", scope)?;
        let schema_url = entry.read("schemaUrl", parse_str)?.unwrap_or_default();
        let children = entry.list(self.children)?;
        keep_valid(
            children,
            2,
            &mut entry.out,
            rejections,
            self.child,
            self.child_items,
        );
        put_bytes(&mut entry.out, 3, schema_url.as_bytes());
        Ok(entry.out)
    }
}

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
