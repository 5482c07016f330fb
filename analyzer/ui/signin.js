// Signing in to an analyzer that asks for an API token: a form in place of
// the page; the token goes to sessionStorage (this tab only, gone when it
// closes) and from there into the Authorization header of every API call.

import { h, clear } from "./dom.js";
import { forgetToken, storeToken, storedToken } from "./api.js";

/** The sign-in form in `main`; `signedIn` runs once a token is entered. */
export function showSignIn(main, message, signedIn) {
  clear(main);
  // No `name` on the input: even without this script, a submitted form could
  // not put the token in a URL.
  const input = h("input", {
    id: "token-input",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  const form = h(
    "form",
    { id: "sign-in", class: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("p", { class: "notice", id: "sign-in-message" }, message),
    h("label", { for: "token-input" }, "API token"),
    input,
    h("button", { type: "submit" }, "Sign in")
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    input.value = "";
    storeToken(token);
    signedIn();
  });
  main.appendChild(form);
  input.focus();
}

/** A "Sign out" button for the top bar when this tab holds a token. */
export function signOutButton() {
  if (!storedToken()) return null;
  const button = h("button", { id: "sign-out", type: "button", class: "sign-out" }, "Sign out");
  button.addEventListener("click", () => {
    forgetToken();
    location.assign(location.pathname + location.search);
  });
  return button;
}
