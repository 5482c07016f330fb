//! A real Prometheus scraping the analyzer's `/metrics` over TLS with the `metrics` token
//! (`authorization: {credentials_file: …}` in its scrape config, as the shipped example
//! does); a job without the token gets 401 and is down.

use std::time::Duration;

use otel_parity_testkit::e2e::{AnalyzerProcess, Prometheus, ScratchDir, poll_until};

use crate::pki::{API_TOKEN, METRICS_TOKEN, Pki, arg};

/// The value of the first sample of an instant query, if any.
fn value(prometheus: &Prometheus, promql: &str) -> Option<f64> {
    let result = prometheus.query(promql);
    result.first()?["value"][1].as_str()?.parse().ok()
}

#[test]
fn prometheus_scrapes_over_tls_with_the_metrics_token_and_not_without() {
    let pki = Pki::new();
    let args = pki.analyzer_flags(
        false,
        &[
            ("--api-token-file", &pki.api_tokens),
            ("--metrics-token-file", &pki.metrics_tokens),
        ],
    );
    let analyzer =
        AnalyzerProcess::start_secured("", &args, true, pki.https_client().with_token(API_TOKEN));
    let dir = ScratchDir::new("prometheus");
    // Prometheus reads the whole file as the token: no comment lines here.
    let credentials = dir.path().join("metrics-token");
    std::fs::write(&credentials, format!("{METRICS_TOKEN}\n")).unwrap();
    let target = format!("localhost:{}", analyzer.http().port());
    let job = |name: &str, authorization: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    tls_config:\n      ca_file: {ca}\n{authorization}    static_configs:\n      - targets: ['{target}']\n",
            ca = arg(&pki.ca_file)
        )
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{}{}",
        job(
            "otel-parity-analyzer",
            &format!(
                "    authorization:\n      credentials_file: {}\n",
                arg(&credentials)
            )
        ),
        job("without-token", ""),
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let prometheus = Prometheus::start(&config_path, dir.path());

    let scraped = poll_until(Duration::from_secs(30), Duration::from_millis(500), || {
        value(&prometheus, "otel_parity_auth_requests_total{job=\"otel-parity-analyzer\",listener=\"metrics\",result=\"accepted\"}")
            .is_some_and(|v| v >= 1.0)
            && value(&prometheus, "up{job=\"without-token\"}").is_some()
            && value(
                &prometheus,
                "otel_parity_auth_requests_total{job=\"otel-parity-analyzer\",listener=\"metrics\",result=\"missing\"}",
            )
            .is_some_and(|v| v >= 1.0)
    });
    assert!(
        scraped,
        "Prometheus never scraped with the token (and counted the tokenless job's scrapes)\n{}",
        analyzer.stderr_tail()
    );
    assert_eq!(
        value(&prometheus, "up{job=\"otel-parity-analyzer\"}"),
        Some(1.0)
    );
    assert_eq!(value(&prometheus, "up{job=\"without-token\"}"), Some(0.0));
    // The metrics token reads /metrics only, not the API.
    let client = pki.https_client().with_token(METRICS_TOKEN);
    let (status, _) = client
        .get(&format!("{}/api/v1/environments", analyzer.http_url()))
        .unwrap();
    assert_eq!(status, 401);
}
