// Tables that lay the baseline and the candidate side by side: one row per
// item present on either side, cells that differ highlighted, an absent
// side shown as "missing", and the findings about the row at its end.

import { h } from "./dom.js";
import { severityBadge, SEVERITIES } from "./findings.js";

const SIDES = ["baseline", "candidate"];

/** Findings whose subject is `subject` or one of its keys (`subject{key}`). */
export function findingsAbout(findings, subject) {
  return findings.filter((f) => f.subject === subject || f.subject.startsWith(subject + "{"));
}

function findingBadges(findings) {
  const sorted = [...findings].sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  return h(
    "td",
    { class: "row-findings", "data-field": "findings" },
    sorted.map((f) => h("span", { class: "finding-chip", title: f.message }, severityBadge(f.severity), " ", h("span", { class: "finding-text" }, f.message)))
  );
}

/**
 * Items as chips; those absent on the other side are marked (not by colour
 * alone: they carry a "+" and a title).
 */
export function chips(items, otherItems, otherEnvironment) {
  if (items.length === 0) return h("span", { class: "muted" }, "none");
  const other = otherItems ? new Set(otherItems) : null;
  return h(
    "ul",
    { class: "chips" },
    items.map((item) => {
      const only = other !== null && !other.has(item);
      return h(
        "li",
        { class: only ? "chip only" : "chip", title: only ? `not in ${otherEnvironment}` : null },
        only ? h("span", { class: "only-mark", "aria-label": `not in ${otherEnvironment}` }, "+") : null,
        item === "" ? "(empty)" : item
      );
    })
  );
}

/** Whether two lists hold the same items. */
export function sameSet(a, b) {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

/**
 * A side-by-side table.
 * - `keys`: titles of the columns that identify a row;
 * - `columns`: per side, {field, title, numeric, cell(item, other, side, row) → {content, differs}};
 * - `rows`: {attrs, keyCells, baseline, candidate, findings} (an absent side is undefined).
 */
export function compareTable({ context, caption, keys, columns, rows, empty }) {
  if (rows.length === 0) return h("p", { class: "notice" }, empty || "Nothing on either side.");
  const environment = { baseline: context.baseline, candidate: context.candidate };
  const head = h(
    "thead",
    {},
    h(
      "tr",
      {},
      keys.map((title) => h("th", { scope: "col", rowspan: 2 }, title)),
      SIDES.map((side) => h("th", { scope: "colgroup", colspan: columns.length, class: "side-head side-" + side }, `${environment[side]} (${side})`)),
      h("th", { scope: "col", rowspan: 2 }, "Findings")
    ),
    h(
      "tr",
      {},
      SIDES.map((side) => columns.map((column, i) => h("th", { scope: "col", class: "side-" + side + (i === 0 ? " side-start" : "") }, column.title)))
    )
  );
  const body = h(
    "tbody",
    {},
    rows.map((row) => {
      let differs = row.findings.some((f) => f.severity !== "info");
      const cells = SIDES.map((side) => {
        const item = row[side];
        const other = row[side === "baseline" ? "candidate" : "baseline"];
        if (item === undefined) {
          differs = true;
          return h("td", { colspan: columns.length, class: "missing side-start", "data-side": side, "data-field": "presence" }, "missing");
        }
        return columns.map((column, i) => {
          const { content, differs: cellDiffers } = column.cell(item, other, side, row);
          differs = differs || Boolean(cellDiffers);
          const classes = [cellDiffers ? "differs" : "", i === 0 ? "side-start" : "", column.numeric ? "num" : ""].filter(Boolean).join(" ");
          return h("td", { class: classes || null, "data-side": side, "data-field": column.field }, content);
        });
      });
      const tr = h("tr", row.attrs, row.keyCells.map((cell, i) => h(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : {}, cell)), cells, findingBadges(row.findings));
      if (differs) tr.classList.add("row-differs");
      return tr;
    })
  );
  return h("div", { class: "table-wrap" }, h("table", { class: "side-by-side" }, caption ? h("caption", {}, caption) : null, head, body));
}

/**
 * A two-sided table of named facts: rows are {label, field, baseline,
 * candidate, differs} with content for each side.
 */
export function factTable({ context, rows, findings }) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "side-by-side facts" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, ""),
          h("th", { scope: "col", class: "side-head side-baseline" }, `${context.baseline} (baseline)`),
          h("th", { scope: "col", class: "side-head side-candidate" }, `${context.candidate} (candidate)`),
          h("th", { scope: "col" }, "Findings")
        )
      ),
      h(
        "tbody",
        {},
        rows.map((row) => {
          const about = row.subjects ? findings.filter((f) => row.subjects.some((s) => f.subject === s || f.subject.startsWith(s))) : [];
          const differs = row.differs || about.some((f) => f.severity !== "info");
          return h(
            "tr",
            { "data-fact": row.field, class: differs ? "row-differs" : null },
            h("th", { scope: "row" }, row.label),
            SIDES.map((side) => h("td", { class: row.differs ? "differs side-start" : "side-start", "data-side": side, "data-field": row.field }, row[side])),
            findingBadges(about)
          );
        })
      )
    )
  );
}
