// The UI's entry point: picks the environment pair from the URL (or the
// first evaluated pair), draws the pair selector, and renders the overview
// (`/`) or a service page (`/services/<namespace>/<name>`). When everything
// is drawn, <body data-state> becomes "ready" (or "error"); an analyzer that
// asks for a token gets the sign-in form ("signin") first.

import { h, clear, u64 } from "./dom.js";
import { renderOverview } from "./overview.js";
import { renderService } from "./service.js";
import { ApiError, forgetToken, getJSON, storedToken } from "./api.js";
import { showSignIn, signOutButton } from "./signin.js";

const RANGES = ["15m", "1h", "6h", "1d", "7d"];

/** Baseline, candidate and range from the URL, else the first evaluated pair. */
function chooseContext(pairs, environments) {
  const params = new URLSearchParams(location.search);
  const first = pairs[0] || {};
  const names = environments.map((e) => e.name);
  return {
    baseline: params.get("baseline") || first.baseline || (names.includes("prod") ? "prod" : names[0]),
    candidate: params.get("candidate") || first.candidate || names.find((n) => n !== "prod" && n !== "unknown"),
    since: params.get("since") || "",
    pairs,
    environments,
  };
}

function navigate(context) {
  const query = new URLSearchParams();
  for (const key of ["baseline", "candidate", "since"]) {
    if (context[key]) query.set(key, context[key]);
  }
  location.assign(location.pathname + "?" + query.toString());
}

function pairSelector(context) {
  const nav = document.getElementById("pair-nav");
  clear(nav);
  const options = context.pairs.map((p) => ({ baseline: p.baseline, candidate: p.candidate }));
  if (context.baseline && context.candidate && !options.some((p) => p.baseline === context.baseline && p.candidate === context.candidate)) {
    options.push({ baseline: context.baseline, candidate: context.candidate });
  }
  const pair = h(
    "select",
    { id: "pair-select" },
    options.map((p, i) =>
      h(
        "option",
        { value: String(i), selected: p.baseline === context.baseline && p.candidate === context.candidate },
        `${p.candidate} against ${p.baseline}`
      )
    )
  );
  pair.addEventListener("change", () => {
    const chosen = options[Number(pair.value)];
    navigate({ ...context, baseline: chosen.baseline, candidate: chosen.candidate });
  });
  const range = h(
    "select",
    { id: "range-select" },
    h("option", { value: "", selected: !context.since }, "evaluation range"),
    RANGES.map((r) => h("option", { value: r, selected: context.since === r }, "last " + r))
  );
  range.addEventListener("change", () => navigate({ ...context, since: range.value }));
  nav.appendChild(h("label", { for: "pair-select" }, "Pair"));
  nav.appendChild(pair);
  nav.appendChild(h("label", { for: "range-select" }, "Range"));
  nav.appendChild(range);
  const signOut = signOutButton();
  if (signOut) nav.appendChild(signOut);
}

/** A message in place of the page, e.g. when nothing is evaluated yet. */
export function notice(main, title, ...lines) {
  clear(main);
  main.appendChild(h("h1", {}, title));
  for (const line of lines) main.appendChild(h("p", { class: "notice" }, line));
}

async function start() {
  const main = document.getElementById("main");
  try {
    const [pairs, environments] = await Promise.all([getJSON("/api/v1/pairs"), getJSON("/api/v1/environments")]);
    const context = chooseContext(pairs, environments);
    pairSelector(context);
    if (!context.baseline || !context.candidate) {
      notice(
        main,
        "Nothing to compare yet",
        environments.length === 0
          ? "No receiver has pushed a fingerprint yet. Point a receiver at this analyzer's push port (otel-parity receive --analyzer …)."
          : "Environments stored: " +
              environments.map((e) => `${e.name} (${u64(e.pushes)} pushes)`).join(", ") +
              ". A comparison needs a baseline and a candidate; the analyzer compares them every evaluation interval."
      );
    } else if (location.pathname.startsWith("/services/")) {
      const service = decodeURIComponent(location.pathname.slice("/services/".length));
      await renderService(main, context, service);
    } else {
      await renderOverview(main, context);
    }
    document.body.dataset.state = "ready";
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const refused = Boolean(storedToken());
      forgetToken();
      showSignIn(
        main,
        refused
          ? "The analyzer did not accept that token. Enter another one."
          : "This analyzer asks for an API token to show its reports.",
        () => {
          main.setAttribute("aria-busy", "true");
          document.body.dataset.state = "loading";
          start();
        }
      );
      document.body.dataset.state = "signin";
      return;
    }
    const status = error instanceof ApiError ? `HTTP ${error.status}: ` : "";
    notice(main, "Cannot show this page", status + error.message);
    document.body.dataset.state = "error";
  } finally {
    main.setAttribute("aria-busy", "false");
  }
}

start();
