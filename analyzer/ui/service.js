// A service page: baseline and candidate side by side, section by section,
// with the service's findings, its score parts and its ingestion ratios.

import { h, clear, link, format } from "./dom.js";
import { apiPath, getJSON } from "./api.js";
import { barChart, ratioChart, scoreTone } from "./charts.js";
import { acceptedDifferences, dimensionParts, findingsTable, severityCounts } from "./findings.js";
import { edgesSection, ingestionSection, logsSection, metricsSection, propagationSection, samplingSection, spansSection, versionsSection } from "./sections.js";

function coverageList(scores) {
  if (!scores) {
    return h("p", { class: "muted" }, "Not a baseline service: nothing to cover.");
  }
  const entries = [
    ["Metric names", scores.metric_coverage],
    ["Span operations", scores.span_coverage],
    ["Attribute keys", scores.attribute_key_coverage],
    ["Log events", scores.log_event_coverage],
  ];
  return h(
    "dl",
    { class: "coverage-list" },
    entries.map(([label, value]) => [h("dt", {}, label), h("dd", { class: value < 1 ? "differs" : null }, format.percent(value))])
  );
}

function sourceLine(side, role) {
  const window = side.window_end_unix_ms > 0 ? `${format.time(side.window_start_unix_ms)} – ${format.time(side.window_end_unix_ms)}` : "no window";
  return h(
    "li",
    {},
    h("strong", {}, `${side.environment} (${role})`),
    `: ${format.plural(side.pushes, "push", "pushes")} from ${format.plural(side.receivers, "receiver")}, ${window}`,
    side.fingerprint ? null : h("span", { class: "missing-text" }, " — service not seen")
  );
}

function ingestionChart(scores, band) {
  const ratios = Object.entries((scores && scores.ingestion) || {});
  if (ratios.length === 0) {
    return h("figure", { class: "chart" }, h("figcaption", {}, "Ingestion per request"), h("p", { class: "notice" }, "No ratio: a side's request count is unknown or the baseline sent nothing."));
  }
  return ratioChart(
    `Items per 1k requests, candidate ÷ baseline (band ${band[0]}–${band[1]})`,
    ratios.map(([signal, r]) => ({
      label: signal,
      ratio: r.ratio,
      detail: `${format.number(r.candidate_per_1k)} vs ${format.number(r.baseline_per_1k)} per 1k${r.adjusted ? "" : ", not fully adjusted for sampling"}`,
    })),
    band
  );
}

export async function renderService(main, context, service) {
  const { baseline, candidate, since } = context;
  const servicePath = "/api/v1/services/" + service.split("/").map(encodeURIComponent).join("/");
  const [detail, report] = await Promise.all([
    getJSON(apiPath(servicePath, { baseline, candidate, since })),
    getJSON(apiPath("/api/v1/report", { baseline, candidate, since, format: "json" })),
  ]);
  const fingerprints = { baseline: detail.baseline.fingerprint, candidate: detail.candidate.fingerprint };
  const findings = report.findings.filter((f) => f.service === service);
  const scores = report.scores.services[service];
  const parts = dimensionParts(findings).map((p) => ({ label: p.label, value: p.value, tone: scoreTone(p.value) }));
  document.title = `${service}: ${candidate} against ${baseline} · otel-parity`;
  clear(main);
  main.append(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, link("/", { baseline, candidate, since }, `Overview: ${candidate} against ${baseline}`), " › ", h("span", { "aria-current": "page" }, service)),
    h("h1", { "data-service": service }, service),
    h("ul", { class: "sources" }, sourceLine(detail.baseline, "baseline"), sourceLine(detail.candidate, "candidate")),
    h(
      "section",
      { class: "cards", "aria-label": "Summary" },
      h("div", { class: "card" }, h("h2", {}, `Present in ${candidate}`), coverageList(scores)),
      h("div", { class: "card card-wide" }, h("h2", {}, "Findings by severity"), severityCounts(findings))
    ),
    h("div", { class: "chart-row" }, barChart("Score parts from this service's findings (0–100)", parts), ingestionChart(scores, detail.ingestion_band)),
    h(
      "section",
      { "aria-labelledby": "service-findings-title" },
      h("h2", { id: "service-findings-title" }, "Findings"),
      findings.length > 0 ? findingsTable(findings, report) : h("p", { class: "notice" }, "No findings for this service.")
    ),
    h("section", { "aria-labelledby": "service-accepted-title" }, h("h2", { id: "service-accepted-title" }, "Accepted differences"), acceptedDifferences(findings, report)),
    h(
      "nav",
      { class: "toc", "aria-label": "Sections" },
      [
        ["metrics", "Metrics"],
        ["spans", "Span operations"],
        ["edges", "Edges"],
        ["propagation", "Context propagation"],
        ["sampling", "Sampling"],
        ["logs", "Logs"],
        ["versions", "Resource and versions"],
        ["ingestion", "Ingestion"],
      ].map(([id, title]) => h("a", { href: "#" + id }, title))
    ),
    metricsSection(context, fingerprints, findings),
    spansSection(context, fingerprints, findings),
    edgesSection(context, fingerprints, findings),
    propagationSection(context, fingerprints, findings),
    samplingSection(context, fingerprints, findings),
    logsSection(context, fingerprints, findings),
    versionsSection(context, fingerprints, findings),
    ingestionSection(context, fingerprints, findings, scores)
  );
}
