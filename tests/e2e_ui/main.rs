//! End to end: the web UI (issue 5 #4). A real `otel-parity demo` serves the UI; headless
//! Chromium (Debian package `chromium`) loads the overview and a service page, runs their
//! scripts and prints the final DOM, which the tests hold against the JSON report; each page is
//! also screenshotted to `target/ui-screenshots/` for people to look at. Pages must log nothing
//! to the console and record no script error.
//!
//! One module per role: the demo process (`demo`), Chromium (`browser`), reading the dumped DOM
//! (`dom`), and the tests: the overview (`overview`), the service page (`service_page`), the
//! UI's JSON endpoints through the real binary (`endpoints`), and signing in to an analyzer
//! that asks for an API token (`sign_in`, Chromium driven over its DevTools pipe).

mod browser;
mod demo;
mod dom;
mod endpoints;
mod overview;
mod service_page;
mod sign_in;
