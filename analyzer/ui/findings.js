// Findings as the report has them: severity badges and counts, tables
// grouped by service (worst first, as the text report), accepted
// differences with their expiry, and per-dimension parts of the score.

import { h, link, servicePath } from "./dom.js";

/** Severities, worst first. */
export const SEVERITIES = ["critical", "high", "medium", "low", "info"];

/** Points an open finding takes off its dimension's part (report.rs). */
const PENALTY = { critical: 50, high: 20, medium: 8, low: 2, info: 0 };

/** Dimensions in report order, with names for people. */
export const DIMENSIONS = [
  ["services", "Services present"],
  ["metric_definitions", "Metric definitions"],
  ["label_keys", "Label keys"],
  ["cardinality", "Cardinality"],
  ["missing_traces", "Missing traces"],
  ["span_operations", "Span operations"],
  ["span_attributes", "Span attributes"],
  ["edges", "Edges"],
  ["context_propagation", "Context propagation"],
  ["sampling", "Sampling"],
  ["logs", "Logs"],
  ["versions", "Versions"],
  ["ingestion", "Ingestion"],
  ["semconv", "Semantic conventions"],
];

export function dimensionName(dimension) {
  const known = DIMENSIONS.find(([key]) => key === dimension);
  return known ? known[1] : dimension;
}

export function severityBadge(severity) {
  return h("span", { class: "badge sev-" + severity }, severity);
}

/** Findings per severity, every severity present. */
export function countBySeverity(findings) {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  for (const finding of findings) counts[finding.severity] = (counts[finding.severity] || 0) + 1;
  return counts;
}

/** One badge per severity with its count (`data-severity-count`). */
export function severityCounts(findings) {
  const counts = countBySeverity(findings);
  const accepted = findings.filter((f) => f.status === "accepted").length;
  return h(
    "ul",
    { class: "severity-counts" },
    SEVERITIES.map((severity) =>
      h(
        "li",
        { class: "count sev-" + severity + (counts[severity] === 0 ? " zero" : ""), "data-severity-count": severity },
        h("span", { class: "count-number" }, String(counts[severity])),
        h("span", { class: "count-label" }, severity)
      )
    ),
    accepted > 0 ? h("li", { class: "count accepted", "data-accepted-count": "" }, h("span", { class: "count-number" }, String(accepted)), h("span", { class: "count-label" }, "accepted")) : null
  );
}

/** "24 open, 2 accepted, 1 acceptance expired". */
export function statusSummary(findings) {
  const count = (status) => findings.filter((f) => f.status === status).length;
  const parts = [`${count("open")} open`, `${count("accepted")} accepted`];
  const expired = count("acceptance_expired");
  if (expired > 0) parts.push(`${expired} acceptance expired`);
  return parts.join(", ") + "; accepted ones do not count against the score";
}

/** Whole days from today (UTC) to the end of `date` (YYYY-MM-DD). */
function daysUntil(date) {
  const end = Date.parse(date + "T00:00:00Z");
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((end - today) / 86400000);
}

/** The status cell: open, or the acceptance with its expiry. */
export function statusCell(finding) {
  const acceptance = finding.accepted;
  if (finding.status === "accepted" && acceptance) {
    const days = daysUntil(acceptance.expires);
    return h(
      "td",
      { class: "status status-accepted", "data-field": "status" },
      h("span", { class: "status-tag" }, "accepted"),
      ` until ${acceptance.expires}`,
      h("span", { class: "muted" }, days >= 0 ? ` (${days} days left)` : ""),
      h("br"),
      h("span", { class: "muted" }, `${acceptance.owner}: ${acceptance.reason}`)
    );
  }
  if (finding.status === "acceptance_expired" && acceptance) {
    return h(
      "td",
      { class: "status status-expired", "data-field": "status" },
      h("span", { class: "status-tag" }, "acceptance expired"),
      ` on ${acceptance.expires}`,
      h("br"),
      h("span", { class: "muted" }, `${acceptance.owner}: ${acceptance.reason}`)
    );
  }
  return h("td", { class: "status status-open", "data-field": "status" }, "open");
}

/** Groups by service, worst service first, then by name (as the text report). */
export function groupByService(findings) {
  const groups = new Map();
  for (const finding of findings) {
    if (!groups.has(finding.service)) groups.set(finding.service, []);
    groups.get(finding.service).push(finding);
  }
  const worst = (list) => Math.min(...list.map((f) => SEVERITIES.indexOf(f.severity)));
  return [...groups.entries()].sort(([a, fa], [b, fb]) => worst(fa) - worst(fb) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A findings table; rows carry `data-severity` and `data-dimension`. */
export function findingsTable(findings, report) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "findings" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Severity"),
          h("th", { scope: "col" }, "Dimension"),
          h("th", { scope: "col" }, "Subject"),
          h("th", { scope: "col" }, report.baseline),
          h("th", { scope: "col" }, report.candidate),
          h("th", { scope: "col" }, "Status"),
          h("th", { scope: "col" }, "Message")
        )
      ),
      h(
        "tbody",
        {},
        findings.map((f) =>
          h(
            "tr",
            { "data-severity": f.severity, "data-dimension": f.dimension, "data-status": f.status, class: f.status === "accepted" ? "is-accepted" : null },
            h("td", {}, severityBadge(f.severity)),
            h("td", {}, dimensionName(f.dimension)),
            h("td", { class: "mono", "data-field": "subject" }, f.subject),
            h("td", { class: "mono" }, f.baseline),
            h("td", { class: "mono" }, f.candidate),
            statusCell(f),
            h("td", { "data-field": "message" }, f.message)
          )
        )
      )
    )
  );
}

/** Findings grouped by service, each group linking to its service page. */
export function findingsByService(findings, report, context) {
  if (findings.length === 0) return h("p", { class: "notice" }, "No findings: the candidate's telemetry matches the baseline's.");
  return h(
    "div",
    { class: "service-groups" },
    groupByService(findings).map(([service, list]) => {
      const counts = countBySeverity(list);
      const summary = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(", ");
      return h(
        "section",
        { class: "service-group", "data-service": service },
        h(
          "h3",
          {},
          link(servicePath(service), { baseline: report.baseline, candidate: report.candidate, since: context.since }, service),
          h("span", { class: "muted group-summary" }, summary)
        ),
        findingsTable(list, report)
      );
    })
  );
}

/** Findings an accepted difference matched, soonest expiry first. */
export function acceptedDifferences(findings, report) {
  const accepted = findings
    .filter((f) => f.accepted)
    .sort((a, b) => (a.accepted.expires < b.accepted.expires ? -1 : a.accepted.expires > b.accepted.expires ? 1 : 0));
  if (accepted.length === 0) {
    return h("p", { class: "notice" }, "No finding matches an accepted difference (analyzer config accepted_differences).");
  }
  return findingsTable(accepted, report);
}

/** Per dimension: 100 minus the penalties of its open findings, at least 0. */
export function dimensionParts(findings) {
  return DIMENSIONS.map(([dimension, name]) => {
    const penalty = findings
      .filter((f) => f.dimension === dimension && f.status !== "accepted")
      .reduce((sum, f) => sum + PENALTY[f.severity], 0);
    return { dimension, label: name, value: Math.max(0, 100 - penalty) };
  });
}
