// The overview of one environment pair: coverage, composite score and its
// parts, findings by severity, the trend over evaluations, services, and
// findings grouped by service (worst first).

import { h, clear, link, servicePath, format } from "./dom.js";
import { ApiError, apiPath, getJSON } from "./api.js";
import { barChart, lineChart, scoreTone } from "./charts.js";
import { DIMENSIONS, SEVERITIES, acceptedDifferences, countBySeverity, findingsByService, severityBadge, severityCounts, statusSummary } from "./findings.js";

/**
 * Good at or above the analyzer's coverage objective (evaluation.coverage_objective),
 * warn when short of it by no more than its error budget, bad below that.
 */
function coverageTone(coverage, objective) {
  return coverage >= objective ? "good" : coverage >= objective - (1 - objective) ? "warn" : "bad";
}

export function scoreCards(report, objective) {
  const { coverage, composite } = report.scores;
  return h(
    "section",
    { class: "cards", "aria-label": "Scores" },
    h(
      "div",
      { class: "card" },
      h("h2", {}, "Telemetry parity coverage"),
      h("p", { class: "big tone-" + coverageTone(coverage, objective), "data-metric": "coverage", "data-value": String(coverage) }, format.percent(coverage)),
      h(
        "p",
        { class: "muted" },
        `of ${report.baseline}'s services have all their metric names in ${report.candidate} `,
        h("span", { "data-metric": "coverage-objective", "data-value": String(objective) }, `(target ≥ ${format.percent(objective)})`)
      )
    ),
    h(
      "div",
      { class: "card" },
      h("h2", {}, "Composite parity score"),
      h(
        "p",
        { class: "big tone-" + scoreTone(composite) },
        h("span", { "data-metric": "composite", "data-value": String(composite) }, format.score(composite)),
        h("span", { class: "out-of" }, " / 100")
      ),
      h("p", { class: "muted" }, "mean of the per-dimension parts; accepted differences do not count")
    ),
    h(
      "div",
      { class: "card card-wide" },
      h("h2", {}, "Findings by severity"),
      severityCounts(report.findings),
      h("p", { class: "muted status-summary" }, statusSummary(report.findings))
    )
  );
}

function partsChart(report) {
  const items = DIMENSIONS.map(([dimension, label]) => {
    const value = report.scores.parts[dimension] ?? 100;
    return { label, value, tone: scoreTone(value) };
  });
  return barChart("Score parts per dimension (0–100)", items);
}

function trendChart(history, objective) {
  const points = history ? history.points : [];
  if (points.length === 0) {
    return h("figure", { class: "chart" }, h("figcaption", {}, "Trend"), h("p", { class: "notice" }, "No evaluation of this pair yet: the analyzer compares pairs every evaluation interval."));
  }
  const chart = lineChart(
    `Trend over the last ${points.length} evaluations`,
    [
      { name: "Coverage %", tone: "coverage", points: points.map((p) => ({ x: p.unix_ms, y: p.coverage * 100 })) },
      { name: "Composite score", tone: "score", points: points.map((p) => ({ x: p.unix_ms, y: p.composite })) },
    ],
    { y: objective * 100, label: `coverage target ${format.percent(objective)}` }
  );
  const recent = points.slice(-8).reverse();
  chart.appendChild(
    h(
      "details",
      {},
      h("summary", {}, "Latest evaluations as a table"),
      h(
        "table",
        { class: "compact" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Coverage"), h("th", { scope: "col" }, "Score"), SEVERITIES.map((s) => h("th", { scope: "col" }, s)))),
        h(
          "tbody",
          {},
          recent.map((p) => h("tr", {}, h("td", {}, format.time(p.unix_ms)), h("td", { class: "num" }, format.percent(p.coverage)), h("td", { class: "num" }, format.score(p.composite)), SEVERITIES.map((s) => h("td", { class: "num" }, String(p.findings[s] || 0)))))
        )
      )
    )
  );
  return chart;
}

function coverageCell(value) {
  if (value === undefined) return h("td", { class: "num muted" }, "–");
  return h("td", { class: "num" + (value < 1 ? " differs" : "") }, format.percent(value));
}

function servicesTable(report, context) {
  const byService = new Map();
  for (const finding of report.findings) {
    if (!byService.has(finding.service)) byService.set(finding.service, []);
    byService.get(finding.service).push(finding);
  }
  const services = [...new Set([...Object.keys(report.scores.services), ...byService.keys()])];
  const worst = (service) => Math.min(SEVERITIES.length, ...(byService.get(service) || []).map((f) => SEVERITIES.indexOf(f.severity)));
  services.sort((a, b) => worst(a) - worst(b) || (a < b ? -1 : a > b ? 1 : 0));
  const rows = services.map((service) => {
    const scores = report.scores.services[service] || {};
    const findings = byService.get(service) || [];
    const counts = countBySeverity(findings);
    const flagged = new Set(findings.filter((f) => f.dimension === "ingestion" || f.dimension === "missing_traces").map((f) => (f.dimension === "missing_traces" ? "traces" : f.subject)));
    const ingestion = Object.entries(scores.ingestion || {}).map(([signal, r]) =>
      h("span", { class: "ratio" + (flagged.has(signal) ? " differs" : "") }, `${signal} ${format.ratio(r.ratio)}`)
    );
    const worstSeverity = SEVERITIES[worst(service)];
    return h(
      "tr",
      { "data-service": service },
      h("th", { scope: "row" }, link(servicePath(service), { baseline: report.baseline, candidate: report.candidate, since: context.since }, service)),
      coverageCell(scores.metric_coverage),
      coverageCell(scores.span_coverage),
      coverageCell(scores.attribute_key_coverage),
      coverageCell(scores.log_event_coverage),
      h("td", { class: "ratios" }, ingestion.length > 0 ? ingestion : h("span", { class: "muted" }, "–")),
      h(
        "td",
        {},
        worstSeverity ? severityBadge(worstSeverity) : h("span", { class: "muted" }, "none"),
        " ",
        SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(", ")
      )
    );
  });
  return h(
    "section",
    { "aria-labelledby": "services-title" },
    h("h2", { id: "services-title" }, "Services"),
    h("p", { class: "muted" }, `Share of each ${report.baseline} service's names present in ${report.candidate}, and ${report.candidate}'s items per request relative to ${report.baseline}'s.`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "services" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Service"),
            h("th", { scope: "col" }, "Metric names"),
            h("th", { scope: "col" }, "Span operations"),
            h("th", { scope: "col" }, "Attribute keys"),
            h("th", { scope: "col" }, "Log events"),
            h("th", { scope: "col" }, "Ingestion per request"),
            h("th", { scope: "col" }, "Findings")
          )
        ),
        h("tbody", {}, rows)
      )
    )
  );
}

export async function renderOverview(main, context) {
  const { baseline, candidate, since } = context;
  const [report, history, settings] = await Promise.all([
    getJSON(apiPath("/api/v1/report", { baseline, candidate, since, format: "json" })),
    getJSON(apiPath("/api/v1/history", { baseline, candidate })).catch((error) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }),
    getJSON("/api/v1/settings"),
  ]);
  const objective = settings.coverage_objective;
  document.title = `${candidate} against ${baseline} · otel-parity`;
  clear(main);
  main.append(
    h("h1", {}, `${candidate} against ${baseline}`),
    h("p", { class: "lede" }, `Telemetry parity of ${candidate} (candidate) against ${baseline} (baseline), ${since ? "over the last " + since : "over the evaluation range"}.`),
    scoreCards(report, objective),
    h("div", { class: "chart-row" }, partsChart(report), trendChart(history, objective)),
    servicesTable(report, context),
    h("section", { "aria-labelledby": "findings-title" }, h("h2", { id: "findings-title" }, "Findings by service"), findingsByService(report.findings, report, context)),
    h(
      "section",
      { "aria-labelledby": "accepted-title" },
      h("h2", { id: "accepted-title" }, "Accepted differences"),
      h("p", { class: "muted" }, "Findings matched by an accepted difference: they do not count against the score until they expire."),
      acceptedDifferences(report.findings, report)
    )
  );
}
