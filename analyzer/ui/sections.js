// The service page's sections, one per part of the fingerprint: metrics,
// span operations, edges, context propagation, sampling, logs, resource and
// versions, ingestion. Each gets both sides' fingerprints (proto3 JSON of
// parity.v1.ServiceFingerprint; null on a side without the service) and the
// service's findings.

import { h, breakable, keys, u64, format } from "./dom.js";
import { chips, compareTable, factTable, findingsAbout, sameSet } from "./sidebyside.js";

const SIDES = ["baseline", "candidate"];

function section(id, title, intro, ...content) {
  return h("section", { class: "detail", id, "aria-labelledby": id + "-title" }, h("h2", { id: id + "-title" }, title), intro ? h("p", { class: "muted" }, intro) : null, ...content);
}

function ofDimensions(findings, ...dimensions) {
  return findings.filter((f) => dimensions.includes(f.dimension));
}

function otherEnvironment(context, side) {
  return side === "baseline" ? context.candidate : context.baseline;
}

/** Rows for the union of `names`, in name order. */
function unionRows(fingerprints, pick, attrs, keyCells, about) {
  const items = {};
  for (const side of SIDES) {
    items[side] = fingerprints[side] ? pick(fingerprints[side]) : {};
  }
  const names = [...new Set([...Object.keys(items.baseline), ...Object.keys(items.candidate)])].sort();
  return names.map((name) => ({
    attrs: attrs(name),
    keyCells: keyCells(name, items.baseline[name] || items.candidate[name]),
    baseline: items.baseline[name],
    candidate: items.candidate[name],
    findings: about(name),
  }));
}

/** SPAN_KIND_SERVER → server (absent: unspecified, as proto3 JSON omits 0). */
export function kindName(kind) {
  return kind ? String(kind).replace(/^SPAN_KIND_/, "").toLowerCase() : "unspecified";
}

/** Type, temporality, monotonicity and buckets: one line each. */
function metricTypeLines(metric) {
  const parts = [keys(metric.types).join(" / ") || "unknown"];
  const temporalities = keys(metric.temporalities);
  if (temporalities.length > 0) parts.push(temporalities.join(" / "));
  if (u64(metric.monotonicPoints) > 0) parts.push("monotonic");
  else if (u64(metric.nonMonotonicPoints) > 0) parts.push("non-monotonic");
  const layouts = metric.bucketLayouts || [];
  if (layouts.length > 0) {
    parts.push(layouts.map((l) => `${(l.bounds || []).length + 1} buckets`).join(" / "));
  }
  return parts;
}

function metricType(metric) {
  return metricTypeLines(metric).join(" · ");
}

function bucketBounds(metric) {
  return JSON.stringify((metric.bucketLayouts || []).map((l) => l.bounds || []));
}

function unitList(metric) {
  return keys(metric.units);
}

export function metricsSection(context, fingerprints, findings) {
  const relevant = ofDimensions(findings, "metric_definitions", "label_keys", "cardinality", "semconv");
  const cardinality = ofDimensions(findings, "cardinality");
  const rows = unionRows(
    fingerprints,
    (fp) => fp.metrics || {},
    (name) => ({ "data-metric": name }),
    (name) => [h("code", {}, breakable(name))],
    (name) => findingsAbout(relevant, name)
  );
  const columns = [
    {
      field: "type",
      title: "Type",
      cell: (m, o) => ({
        content: h("ul", { class: "plain", title: "bucket bounds: " + bucketBounds(m) }, metricTypeLines(m).map((line) => h("li", {}, line))),
        differs: o !== undefined && (metricType(m) !== metricType(o) || bucketBounds(m) !== bucketBounds(o)),
      }),
    },
    {
      field: "unit",
      title: "Unit",
      cell: (m, o) => ({
        content: h("code", {}, unitList(m).map((u) => (u === "" ? "(none)" : u)).join(", ") || "(none)"),
        differs: o !== undefined && !sameSet(unitList(m), unitList(o)),
      }),
    },
    {
      field: "label_keys",
      title: "Label keys",
      cell: (m, o, side) => ({
        content: chips(keys(m.attributeKeys), o ? keys(o.attributeKeys) : null, otherEnvironment(context, side)),
        differs: o !== undefined && !sameSet(keys(m.attributeKeys), keys(o.attributeKeys)),
      }),
    },
    {
      field: "series",
      title: "Series",
      numeric: true,
      cell: (m, o, side, row) => ({
        content: format.count(Math.round((m.series && m.series.estimate) || 0)),
        differs: o !== undefined && cardinality.some((f) => f.subject === row.attrs["data-metric"]),
      }),
    },
  ];
  return section(
    "metrics",
    "Metrics",
    "Per metric name: instrument type, temporality and buckets, unit, label (attribute) keys and estimated series. Keys marked + are not on the other side.",
    compareTable({ context, keys: ["Metric"], columns, rows, empty: "Neither side sends metrics." })
  );
}

function operationKey(operation) {
  return operation.name + "\u0000" + kindName(operation.kind);
}

function operationSubject(name, kind) {
  return `${name} (${kind})`;
}

function byOperation(fp) {
  const map = {};
  for (const operation of fp.spanOperations || []) map[operationKey(operation)] = operation;
  return map;
}

export function spansSection(context, fingerprints, findings) {
  const relevant = ofDimensions(findings, "span_operations", "span_attributes", "missing_traces");
  const rows = unionRows(
    fingerprints,
    byOperation,
    (key) => {
      const [name, kind] = key.split("\u0000");
      return { "data-operation": name, "data-kind": kind };
    },
    (key) => {
      const [name, kind] = key.split("\u0000");
      return [h("code", {}, breakable(name)), kind];
    },
    (key) => {
      const [name, kind] = key.split("\u0000");
      return findingsAbout(relevant, operationSubject(name, kind));
    }
  );
  const columns = [
    { field: "spans", title: "Spans", numeric: true, cell: (op) => ({ content: format.count(u64(op.spans)) }) },
    {
      field: "errors",
      title: "Errors",
      numeric: true,
      cell: (op) => {
        const spans = u64(op.spans);
        const errors = u64(op.errors);
        return { content: format.count(errors) + (spans > 0 && errors > 0 ? ` (${format.percent(errors / spans)})` : "") };
      },
    },
    {
      field: "p50",
      title: "p50",
      numeric: true,
      cell: (op) => ({ content: op.duration && op.duration.p50Us ? format.microseconds(op.duration.p50Us) : "–" }),
    },
    {
      field: "attribute_keys",
      title: "Attribute keys",
      cell: (op, other, side) => {
        const mine = keys(op.attributeKeys);
        const theirs = other ? keys(other.attributeKeys) : mine;
        const only = mine.filter((k) => !theirs.includes(k));
        return {
          content: h("span", {}, format.plural(mine.length, "key"), only.length > 0 ? chips(only, theirs, otherEnvironment(context, side)) : null),
          differs: other !== undefined && !sameSet(mine, theirs),
        };
      },
    },
  ];
  return section(
    "spans",
    "Span operations",
    "Per span name and kind: spans, errors, median duration and attribute keys (those not on the other side are listed). Counts follow traffic and sampling, so they differ by scale.",
    compareTable({ context, keys: ["Operation", "Kind"], columns, rows, empty: "Neither side sends spans." })
  );
}

function edgeSubject(edge) {
  return `${edge.parentService || ""}: ${operationSubject(edge.parentOperation || "", kindName(edge.parentKind))} -> ${operationSubject(edge.childOperation || "", kindName(edge.childKind))}`;
}

export function edgesSection(context, fingerprints, findings) {
  const relevant = ofDimensions(findings, "edges");
  const byEdge = (fp) => Object.fromEntries((fp.edges || []).map((e) => [edgeSubject(e), e]));
  const rows = unionRows(
    fingerprints,
    byEdge,
    (subject) => ({ "data-edge": subject }),
    (subject, edge) => [
      h("code", {}, `${edge.parentService || "(unknown)"}: ${edge.parentOperation || ""}`, h("span", { class: "muted" }, ` (${kindName(edge.parentKind)})`)),
      h("code", {}, edge.childOperation || "", h("span", { class: "muted" }, ` (${kindName(edge.childKind)})`)),
    ],
    (subject) => relevant.filter((f) => f.subject === subject)
  );
  const columns = [{ field: "count", title: "Count", numeric: true, cell: (edge) => ({ content: format.count(u64(edge.count)) }) }];
  return section(
    "edges",
    "Edges",
    "Parent → child between operations, the parent possibly in another service.",
    compareTable({ context, keys: ["Parent", "Child"], columns, rows, empty: "No parent→child edges on either side." })
  );
}

function share(part, whole) {
  return whole > 0 ? part / whole : 0;
}

export function propagationSection(context, fingerprints, findings) {
  const relevant = ofDimensions(findings, "context_propagation");
  const withPropagation = (fp) => {
    const map = {};
    for (const op of fp.spanOperations || []) if (op.propagation) map[operationKey(op)] = op;
    return map;
  };
  const rows = unionRows(
    fingerprints,
    withPropagation,
    (key) => ({ "data-operation": key.split("\u0000")[0] }),
    (key) => {
      const [name, kind] = key.split("\u0000");
      return [h("code", {}, breakable(name)), kind];
    },
    (key) => {
      const [name, kind] = key.split("\u0000");
      return relevant.filter((f) => f.subject === operationSubject(name, kind));
    }
  );
  const remoteShare = (op) => share(u64(op.propagation.remoteParent), u64(op.spans));
  const columns = [
    {
      field: "remote_parent",
      title: "Remote parent",
      numeric: true,
      cell: (op, other) => ({
        content: format.percent(remoteShare(op)),
        differs: other !== undefined && Math.abs(remoteShare(op) - remoteShare(other)) > 0.2,
      }),
    },
    {
      field: "root",
      title: "Root (new trace)",
      numeric: true,
      cell: (op) => ({ content: format.percent(share(u64(op.propagation.root), u64(op.spans))) }),
    },
  ];
  return section(
    "propagation",
    "Context propagation",
    "SERVER and CONSUMER spans: the share whose parent came from another process, and the share that started a new trace.",
    compareTable({ context, keys: ["Operation", "Kind"], columns, rows, empty: "No SERVER or CONSUMER spans on either side." })
  );
}

function facts(fingerprints, pick) {
  const out = {};
  for (const side of SIDES) out[side] = fingerprints[side] ? pick(fingerprints[side]) : null;
  return out;
}

function absent() {
  return h("span", { class: "missing-text" }, "missing");
}

/** A fact row: `content(value, otherValue, side)` per side; null sides show "missing". */
function fact(context, values, label, field, content, differs, subjects) {
  const row = { label, field, subjects, differs: false };
  for (const side of SIDES) {
    const other = values[side === "baseline" ? "candidate" : "baseline"];
    row[side] = values[side] === null ? absent() : content(values[side], other, side);
  }
  row.differs = values.baseline !== null && values.candidate !== null && Boolean(differs(values.baseline, values.candidate));
  return row;
}

function probabilityText(t) {
  return `th:${t.threshold || "0"} → ${format.percent(Number(t.probability || 0))} (${format.count(u64(t.spans))} spans)`;
}

export function samplingSection(context, fingerprints, findings) {
  const sampling = facts(fingerprints, (fp) => fp.sampling || {});
  const thresholds = (s) => (s.thresholds || []).map((t) => t.threshold || "0");
  const rate = (s) => (s.inferredRate ? format.percent(s.inferredRate) : "unknown");
  const rows = [
    fact(context, sampling, "Thresholds (tracestate ot=th)", "thresholds", (s) => (s.thresholds || []).length === 0 ? h("span", { class: "muted" }, "none") : h("ul", { class: "plain" }, s.thresholds.map((t) => h("li", {}, probabilityText(t)))), (a, b) => !sameSet(thresholds(a), thresholds(b)), ["threshold"]),
    fact(context, sampling, "Spans without threshold", "spans_without_threshold", (s) => format.count(u64(s.spansWithoutThreshold)), () => false),
    fact(context, sampling, "SERVER spans (adjusted)", "server_spans", (s) => `${format.count(u64(s.serverSpans))} (${format.number(s.serverSpansAdjusted || 0)})`, () => false),
    fact(context, sampling, "Requests counted by the request-duration metric", "request_metric_count", (s) => format.count(u64(s.requestMetricCount)), () => false),
    fact(context, sampling, "Inferred sampling rate", "inferred_rate", rate, (a, b) => a.inferredRate && b.inferredRate && Math.abs(a.inferredRate - b.inferredRate) > 0.1 * Math.max(a.inferredRate, b.inferredRate), ["inferred_rate"]),
  ];
  return section(
    "sampling",
    "Sampling",
    "Sampling probabilities from the W3C tracestate threshold, and the effective rate inferred as SERVER spans ÷ requests.",
    factTable({ context, rows, findings: ofDimensions(findings, "sampling") })
  );
}

function distribution(map) {
  const total = Object.values(map || {}).reduce((sum, v) => sum + u64(v), 0);
  return keys(map).map((k) => `${k} ${format.percent(share(u64(map[k]), total))}`).join(" · ") || "none";
}

export function logsSection(context, fingerprints, findings) {
  const logs = facts(fingerprints, (fp) => fp.logs || {});
  const intro = "Severity mix, events, log–trace correlation and shape of the log records.";
  if (SIDES.every((side) => logs[side] === null || u64(logs[side].records) === 0)) {
    return section("logs", "Logs", intro, h("p", { class: "notice" }, "Neither side sends logs."));
  }
  const correlation = (l) => share(u64(l.withTraceId), u64(l.records));
  const setDiffers = (pick) => (a, b) => !sameSet(keys(pick(a)), keys(pick(b)));
  const chipsOf = (pick) => (l, other, side) => chips(keys(pick(l)), other ? keys(pick(other)) : null, otherEnvironment(context, side));
  const rows = [
    fact(context, logs, "Records", "records", (l) => format.count(u64(l.records)), () => false, ["log records"]),
    fact(context, logs, "Severities", "severities", (l) => distribution(l.severities), setDiffers((l) => l.severities), ["severity"]),
    fact(context, logs, "Events (event.name)", "event_names", chipsOf((l) => l.eventNames), setDiffers((l) => l.eventNames), ["event"]),
    fact(context, logs, "Correlated with a trace", "with_trace_id", (l) => `${format.percent(correlation(l))} (${format.count(u64(l.withTraceId))} records)`, (a, b) => Math.abs(correlation(a) - correlation(b)) > 0.2, ["trace correlation"]),
    fact(context, logs, "Body kinds", "body_kinds", (l) => distribution(l.bodyKinds), setDiffers((l) => l.bodyKinds)),
    fact(context, logs, "Attribute keys", "attribute_keys", chipsOf((l) => l.attributeKeys), setDiffers((l) => l.attributeKeys)),
  ];
  return section("logs", "Logs", intro, factTable({ context, rows, findings: ofDimensions(findings, "logs") }));
}

export function versionsSection(context, fingerprints, findings) {
  const relevant = ofDimensions(findings, "versions");
  const valueNames = (entry) => keys(entry && entry.values);
  const allowed = compareTable({
    context,
    keys: ["Resource attribute"],
    columns: [
      {
        field: "values",
        title: "Values",
        cell: (entry, other, side) => ({
          content: chips(valueNames(entry), other ? valueNames(other) : null, otherEnvironment(context, side)),
          differs: other !== undefined && !sameSet(valueNames(entry), valueNames(other)),
        }),
      },
    ],
    rows: unionRows(
      fingerprints,
      (fp) => (fp.resource && fp.resource.allowedValues) || {},
      (key) => ({ "data-resource-key": key }),
      (key) => [h("code", {}, breakable(key))],
      (key) => relevant.filter((f) => f.subject === key)
    ),
    empty: "No allowlisted resource values on either side.",
  });
  const versionNames = (scope) => keys(scope.versions).map((v) => (v === "" ? "(no version)" : v));
  const scopes = compareTable({
    context,
    keys: ["Instrumentation scope"],
    columns: [
      {
        field: "versions",
        title: "Versions",
        cell: (scope, other, side) => ({
          content: chips(versionNames(scope), other ? versionNames(other) : null, otherEnvironment(context, side)),
          differs: other !== undefined && !sameSet(versionNames(scope), versionNames(other)),
        }),
      },
    ],
    rows: unionRows(
      fingerprints,
      (fp) => (fp.resource && fp.resource.scopes) || {},
      (name) => ({ "data-scope": name }),
      (name) => [h("code", {}, breakable(name))],
      (name) => relevant.filter((f) => f.subject === name)
    ),
    empty: "No instrumentation scopes on either side.",
  });
  const resource = facts(fingerprints, (fp) => fp.resource || {});
  const resourceFacts = factTable({
    context,
    findings: [],
    rows: [
      fact(context, resource, "Instances (estimated)", "instances", (r) => format.count(Math.round((r.instances && r.instances.estimate) || 0)), () => false),
      fact(context, resource, "Resource attribute keys", "resource_keys", (r, other, side) => chips(keys(r.attributeKeys), other ? keys(other.attributeKeys) : null, otherEnvironment(context, side)), (a, b) => !sameSet(keys(a.attributeKeys), keys(b.attributeKeys))),
    ],
  });
  return section(
    "versions",
    "Resource and versions",
    "Values of the allowlisted resource keys (SDK, runtime, service version, OS, architecture) and instrumentation scopes with their versions.",
    h("h3", {}, "Allowlisted resource values"),
    allowed,
    h("h3", {}, "Instrumentation scopes"),
    scopes,
    h("h3", {}, "Resource"),
    resourceFacts
  );
}

export function ingestionSection(context, fingerprints, findings, scores) {
  const relevant = ofDimensions(findings, "ingestion", "missing_traces");
  const ratios = (scores && scores.ingestion) || {};
  const rows = ["traces", "metrics", "logs"]
    .map((signal) => {
      const row = {
        attrs: { "data-signal": signal },
        keyCells: [signal],
        findings: relevant.filter((f) => f.subject === signal || (signal === "traces" && f.dimension === "missing_traces")),
      };
      for (const side of SIDES) {
        const fp = fingerprints[side];
        const item = fp && fp.ingestion && fp.ingestion[signal];
        row[side] = item ? { ...item, perThousand: ratios[signal] ? ratios[signal][side + "_per_1k"] : undefined } : undefined;
      }
      return row;
    })
    .filter((row) => row.baseline || row.candidate);
  const columns = [
    { field: "items", title: "Items", numeric: true, cell: (i) => ({ content: format.count(u64(i.items)) }) },
    { field: "requests", title: "Export requests", numeric: true, cell: (i) => ({ content: format.count(u64(i.requests)) }) },
    { field: "bytes", title: "Bytes", numeric: true, cell: (i) => ({ content: format.bytes(u64(i.bytes)) }) },
    { field: "per_1k", title: "Per 1k requests", numeric: true, cell: (i) => ({ content: i.perThousand === undefined ? "–" : format.number(i.perThousand) }) },
  ];
  return section(
    "ingestion",
    "Ingestion",
    "What the service sent over the range; items per 1,000 requests are adjusted for sampling.",
    compareTable({ context, keys: ["Signal"], columns, rows, empty: "Neither side sent anything." })
  );
}
