// Small inline-SVG charts. Every chart is a figure with a caption, an
// accessible label, and its numbers as text, so nothing depends on colour.

import { h, s, format } from "./dom.js";

function figure(caption, label, svg, extra) {
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  return h("figure", { class: "chart" }, h("figcaption", {}, caption), svg, extra || null);
}

/**
 * Horizontal bars on a 0..max scale: `items` are {label, value, tone}; tone
 * is a CSS class suffix (good, warn, bad).
 */
export function barChart(caption, items, max = 100) {
  const rowHeight = 22;
  const labelWidth = 170;
  const barWidth = 300;
  const width = labelWidth + barWidth + 50;
  const height = items.length * rowHeight + 8;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "bar-chart" });
  items.forEach((item, i) => {
    const y = 4 + i * rowHeight;
    const length = Math.max(0, Math.min(1, item.value / max)) * barWidth;
    svg.appendChild(
      s("text", { x: labelWidth - 8, y: y + 14, class: "axis-label", "text-anchor": "end" }, item.label)
    );
    svg.appendChild(
      s("rect", { x: labelWidth, y: y + 3, width: barWidth, height: rowHeight - 8, class: "bar-track" })
    );
    svg.appendChild(
      s(
        "rect",
        { x: labelWidth, y: y + 3, width: length.toFixed(1), height: rowHeight - 8, class: "bar bar-" + (item.tone || "good") },
        s("title", {}, `${item.label}: ${format.number(item.value)}`)
      )
    );
    svg.appendChild(s("text", { x: labelWidth + barWidth + 6, y: y + 14, class: "value-label" }, format.number(item.value)));
  });
  const label = caption + ": " + items.map((i) => `${i.label} ${format.number(i.value)}`).join(", ");
  return figure(caption, label, svg);
}

/** The tone of a 0..100 score. */
export function scoreTone(value) {
  return value >= 90 ? "good" : value >= 60 ? "warn" : "bad";
}

/**
 * Lines over time on a 0..100 scale: `series` are {name, tone, points:
 * [{x: unixMs, y}]}; `target` draws a dashed reference line.
 */
export function lineChart(caption, series, target) {
  const width = 560;
  const height = 220;
  const left = 40;
  const right = 12;
  const top = 12;
  const bottom = 30;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const xs = series.flatMap((line) => line.points.map((p) => p.x));
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const spanX = maxX > minX ? maxX - minX : 1;
  const px = (x) => left + ((x - minX) / spanX) * plotWidth;
  const py = (y) => top + (1 - Math.max(0, Math.min(100, y)) / 100) * plotHeight;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "line-chart" });
  for (const tick of [0, 25, 50, 75, 100]) {
    svg.appendChild(s("line", { x1: left, x2: width - right, y1: py(tick), y2: py(tick), class: "grid" }));
    svg.appendChild(s("text", { x: left - 6, y: py(tick) + 4, class: "axis-label", "text-anchor": "end" }, String(tick)));
  }
  if (target !== undefined) {
    svg.appendChild(s("line", { x1: left, x2: width - right, y1: py(target.y), y2: py(target.y), class: "target" }));
    svg.appendChild(s("text", { x: width - right, y: py(target.y) - 4, class: "axis-label", "text-anchor": "end" }, target.label));
  }
  const ticks = maxX > minX ? [minX, (minX + maxX) / 2, maxX] : [minX];
  ticks.forEach((tick, i) => {
    const anchor = ticks.length === 1 ? "middle" : ["start", "middle", "end"][i];
    const x = ticks.length === 1 ? left + plotWidth / 2 : px(tick);
    svg.appendChild(s("text", { x, y: height - 8, class: "axis-label", "text-anchor": anchor }, format.clock(tick) + " UTC"));
  });
  for (const line of series) {
    const points = line.points.map((p) => [ticks.length === 1 ? left + plotWidth / 2 : px(p.x), py(p.y)]);
    if (points.length > 1) {
      const d = points.map(([x, y], i) => (i === 0 ? "M" : "L") + x.toFixed(1) + " " + y.toFixed(1)).join(" ");
      svg.appendChild(s("path", { d, class: "line line-" + line.tone }));
    }
    const [lastX, lastY] = points[points.length - 1];
    svg.appendChild(s("circle", { cx: lastX, cy: lastY, r: 3.5, class: "dot dot-" + line.tone }));
  }
  const legend = h(
    "ul",
    { class: "legend" },
    series.map((line) => {
      const last = line.points[line.points.length - 1];
      return h("li", {}, h("span", { class: "swatch swatch-" + line.tone, "aria-hidden": "true" }), `${line.name}: ${format.number(last.y)} now`);
    })
  );
  const label = caption + ": " + series.map((line) => `${line.name} from ${format.number(line.points[0].y)} to ${format.number(line.points[line.points.length - 1].y)}`).join("; ");
  return figure(caption, label, svg, legend);
}

/**
 * Ratios on a log scale (1/8 .. 8) with the accepted band shaded: `items`
 * are {label, ratio, detail}.
 */
export function ratioChart(caption, items, band) {
  const rowHeight = 30;
  const labelWidth = 80;
  const plotWidth = 360;
  const width = labelWidth + plotWidth + 90;
  const height = items.length * rowHeight + 34;
  const lo = Math.log2(1 / 8);
  const hi = Math.log2(8);
  const px = (r) => labelWidth + ((Math.max(lo, Math.min(hi, Math.log2(Math.max(r, 1e-9)))) - lo) / (hi - lo)) * plotWidth;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "ratio-chart" });
  const plotHeight = items.length * rowHeight;
  svg.appendChild(
    s(
      "rect",
      { x: px(band[0]), y: 4, width: px(band[1]) - px(band[0]), height: plotHeight, class: "band" },
      s("title", {}, `accepted band ${band[0]}–${band[1]}`)
    )
  );
  for (const tick of [0.125, 0.25, 0.5, 1, 2, 4, 8]) {
    svg.appendChild(s("line", { x1: px(tick), x2: px(tick), y1: 4, y2: plotHeight + 4, class: tick === 1 ? "axis" : "grid" }));
    svg.appendChild(s("text", { x: px(tick), y: plotHeight + 20, class: "axis-label", "text-anchor": "middle" }, tick < 1 ? "1/" + 1 / tick : "×" + tick));
  }
  items.forEach((item, i) => {
    const y = 4 + i * rowHeight + rowHeight / 2;
    const inside = item.ratio >= band[0] && item.ratio <= band[1];
    svg.appendChild(s("text", { x: labelWidth - 8, y: y + 4, class: "axis-label", "text-anchor": "end" }, item.label));
    svg.appendChild(s("line", { x1: px(1), x2: px(item.ratio), y1: y, y2: y, class: "stem " + (inside ? "stem-good" : "stem-bad") }));
    svg.appendChild(
      s(
        "circle",
        { cx: px(item.ratio), cy: y, r: 6, class: inside ? "dot dot-good" : "dot dot-bad" },
        s("title", {}, `${item.label}: ${format.ratio(item.ratio)}${item.detail ? " (" + item.detail + ")" : ""}`)
      )
    );
    svg.appendChild(s("text", { x: labelWidth + plotWidth + 10, y: y + 4, class: "value-label" }, format.ratio(item.ratio) + (inside ? "" : " out")));
  });
  const label = `${caption}, band ${band[0]} to ${band[1]}: ` + items.map((i) => `${i.label} ${format.ratio(i.ratio)}`).join(", ");
  return figure(caption, label, svg);
}
