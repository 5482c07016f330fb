//! End-to-end tests of what an observability team deploys: the Prometheus
//! rules (promtool, and a real Prometheus scraping a running demo), the
//! Grafana dashboard's queries against the analyzer's `/metrics`, and the
//! Kubernetes, Collector and Docker files.
//!
//! Needs `promtool` and `prometheus` (Debian package `prometheus`, installed
//! by scripts/test).

mod containers;
mod dashboard;
mod manifests;
mod ports;
mod postgres_variant;
mod processes;
mod prometheus;
mod promql;
mod rules;
mod shipped;
