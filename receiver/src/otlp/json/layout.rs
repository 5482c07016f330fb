//! Where each signal keeps its items in an export request (resources, then scopes, then spans,
//! metrics or log records).

use serde_json::Value;

use super::common::{resource, scope};
use super::encode::put_bytes;
use super::logs::log_record;
use super::message::{Encoded, JsonMessage, Path};
use super::metrics::{metric, metric_items};
use super::rejections::{Rejections, convert_all, keep_valid};
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
