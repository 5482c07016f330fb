//! Prometheus exposition shared by every `/metrics`: content negotiation
//! (OpenMetrics when the scraper asks for it, as Prometheus does, else the
//! classic text format) and the conversion from OpenMetrics text, which is
//! what `prometheus-client` encodes, to the classic format.

use http::HeaderMap;
use http::header::ACCEPT;

/// The OpenMetrics media type with its version.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The classic Prometheus text format (0.0.4).
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether a scrape's `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"))
}

/// The answer to a scrape: its content type and body, from the OpenMetrics
/// text of a registry.
pub fn negotiate(headers: &HeaderMap, openmetrics: String) -> (&'static str, String) {
    if wants_openmetrics(headers) {
        (OPENMETRICS_CONTENT_TYPE, openmetrics)
    } else {
        (PROMETHEUS_CONTENT_TYPE, to_prometheus_text(&openmetrics))
    }
}

/// Converts OpenMetrics text to the Prometheus 0.0.4 text format: counter
/// families take their samples' `_total` name in HELP and TYPE, and the
/// OpenMetrics-only `# UNIT` and `# EOF` lines go.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if line.starts_with("# HELP ") {
            help = Some(line);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let family = if kind == "counter" && !name.ends_with("_total") {
                format!("{name}_total")
            } else {
                name.to_owned()
            };
            if let Some(help) = help.take() {
                let text = help
                    .strip_prefix("# HELP ")
                    .and_then(|h| h.split_once(' '))
                    .map_or("", |(_, t)| t);
                out.push_str(&format!("# HELP {family} {text}\n"));
            }
            out.push_str(&format!("# TYPE {family} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const OPENMETRICS: &str = "# HELP otel_parity_pushes Pushes received.\n\
        # TYPE otel_parity_pushes counter\n\
        otel_parity_pushes_total{result=\"stored\"} 1\n\
        # HELP otel_parity_bytes Bytes held.\n# TYPE otel_parity_bytes gauge\n# UNIT otel_parity_bytes bytes\n\
        otel_parity_bytes 7\n# EOF\n";

    #[test]
    fn counters_take_their_total_name_and_openmetrics_lines_go() {
        assert_eq!(
            to_prometheus_text(OPENMETRICS),
            "# HELP otel_parity_pushes_total Pushes received.\n\
             # TYPE otel_parity_pushes_total counter\n\
             otel_parity_pushes_total{result=\"stored\"} 1\n\
             # HELP otel_parity_bytes Bytes held.\n# TYPE otel_parity_bytes gauge\n\
             otel_parity_bytes 7\n"
        );
    }

    #[test]
    fn openmetrics_only_when_asked_for() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            negotiate(&headers, OPENMETRICS.into()).0,
            PROMETHEUS_CONTENT_TYPE
        );
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/openmetrics-text;version=1.0.0,*/*;q=0.1"),
        );
        let (content_type, body) = negotiate(&headers, OPENMETRICS.into());
        assert_eq!(content_type, OPENMETRICS_CONTENT_TYPE);
        assert!(body.ends_with("# EOF\n"));
    }
}
