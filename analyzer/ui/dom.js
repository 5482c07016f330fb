// Building the DOM from data without ever parsing data as markup: text goes
// in through text nodes, attributes through setAttribute, and no event
// handler or style attribute can be set from here.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name) || name === "style") {
      throw new Error("refusing to set attribute " + name);
    }
    node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Appends children: nodes, strings and numbers (as text), arrays; skips null. */
export function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(node, child);
    } else if (child instanceof Node) {
      node.appendChild(child);
    } else {
      node.appendChild(document.createTextNode(String(child)));
    }
  }
  return node;
}

/** An HTML element: `h("td", {class: "x"}, "text", otherNode)`. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Removes every child of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** A link inside the UI; `path` is always built here, never taken from data. */
export function link(path, params, ...children) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value) query.set(key, value);
  }
  const text = query.toString();
  return h("a", { href: path + (text ? "?" + text : "") }, ...children);
}

/** Text with a line-break opportunity after each `.`, `/` and `_` (long metric names). */
export function breakable(text) {
  const parts = [];
  for (const piece of String(text).split(/(?<=[./_])/)) {
    if (parts.length > 0) parts.push(h("wbr"));
    parts.push(piece);
  }
  return parts;
}

/** The UI path of a service page ("shop/checkout" → /services/shop/checkout). */
export function servicePath(service) {
  return "/services/" + service.split("/").map(encodeURIComponent).join("/");
}

/** A proto3 JSON uint64 (a string, or absent when zero) as a number. */
export function u64(value) {
  const n = Number(value === undefined || value === null ? 0 : value);
  return Number.isFinite(n) ? n : 0;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

export const format = {
  /** 0.8 → "80.0%" (as the text report). */
  percent: (share) => (share * 100).toFixed(1) + "%",
  /** 82.4615 → "82.5" (as the text report). */
  score: (value) => value.toFixed(1),
  count: (n) => integer.format(n),
  number: (n) => decimal.format(n),
  ratio: (r) => "×" + (r >= 100 ? r.toFixed(0) : r.toFixed(2)),
  bytes: (n) => {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i += 1;
    }
    return (i === 0 ? integer.format(n) : decimal.format(n)) + " " + units[i];
  },
  time: (unixMs) => new Date(unixMs).toISOString().replace("T", " ").slice(0, 19) + " UTC",
  clock: (unixMs) => new Date(unixMs).toISOString().slice(11, 19),
  /** 1 → "1 receiver", 2 → "2 receivers". */
  plural: (n, word, words = word + "s") => `${integer.format(n)} ${n === 1 ? word : words}`,
  microseconds: (us) =>
    us >= 1e6 ? decimal.format(us / 1e6) + " s" : us >= 1e3 ? decimal.format(us / 1e3) + " ms" : integer.format(us) + " µs",
};

/** Sorted keys of an object that may be absent (proto3 JSON omits empty maps). */
export function keys(object) {
  return Object.keys(object || {}).sort();
}
