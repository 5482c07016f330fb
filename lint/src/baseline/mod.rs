//! The baseline: the telemetry each service promises, as a readable, deterministic YAML file
//! that diffs well in review (everything sorted, one item per line). `--write-baseline`
//! writes it from the inputs; `--baseline` compares the inputs against it (see [`drift`]).
//!
//! ```yaml
//! version: 1
//! services:
//!   shop/checkout:
//!     metrics:
//!       http.server.request.duration:
//!         type: histogram
//!         unit: s
//!         temporality: cumulative
//!         labels:
//!         - http.request.method
//!         buckets:
//!         - 0.005
//!     span_operations:
//!     - name: POST /checkout
//!       kind: server
//!     log_events:
//!     - order.placed
//! ```

pub mod drift;
pub mod rename;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::Error;
use super::model::{MetricTelemetry, Telemetry};

/// The baseline file format's version.
pub const VERSION: u32 = 1;

const HEADER: &str = "\
# otel-parity lint baseline: the telemetry each service promises (metric names, types,
# units, temporalities, label keys and buckets; span operations; log event names).
# Written by `otel-parity lint --write-baseline`; `otel-parity lint --baseline` reports
# drift from it. Review changes to this file like changes to an API.
";

const METRIC_TYPES: &[&str] = &[
    "gauge",
    "sum",
    "histogram",
    "exponential_histogram",
    "summary",
];
const TEMPORALITIES: &[&str] = &["cumulative", "delta", "unspecified"];
const SPAN_KINDS: &[&str] = &[
    "unspecified",
    "internal",
    "server",
    "client",
    "producer",
    "consumer",
];

/// What every service promises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version; always [`VERSION`].
    pub version: u32,
    /// Per service key.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceBaseline>,
}

/// What one service promises.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceBaseline {
    /// Per metric name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, MetricBaseline>,
    /// Span operations, sorted by name then kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub span_operations: Vec<SpanOperationBaseline>,
    /// Log `event.name` values, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_events: Vec<String>,
}

/// What one metric promises.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricBaseline {
    /// Data point type: gauge, sum, histogram, exponential_histogram or summary.
    #[serde(rename = "type")]
    pub kind: String,
    /// For sums: whether monotonic (a counter) or not (an up-down counter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monotonic: Option<bool>,
    /// UCUM unit, "" when unset.
    #[serde(default)]
    pub unit: String,
    /// Aggregation temporality, for sums and histograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporality: Option<String>,
    /// Attribute keys, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Explicit bucket boundaries, for histograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<f64>>,
}

/// One span operation a service promises.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanOperationBaseline {
    /// Span name.
    pub name: String,
    /// Span kind, lower case (server, client, internal, producer, consumer, unspecified).
    pub kind: String,
}

impl MetricBaseline {
    /// The promise a metric makes: its main type, unit, temporality and bucket layout (the
    /// ones with most data points when there are several) and all its attribute keys.
    pub fn of(metric: &MetricTelemetry) -> Self {
        // A type no SDK sends (a snapshot file may hold any string) is no
        // promise: such a metric is promised as one with no type counted.
        let kind = metric
            .main_known_type(METRIC_TYPES)
            .unwrap_or("gauge")
            .to_owned();
        Self {
            monotonic: (kind == "sum").then(|| metric.is_monotonic()),
            unit: metric.main_unit().unwrap_or_default().to_owned(),
            // A temporality no SDK sends (a snapshot file may hold any string) is no
            // promise either: the baseline would not read back.
            temporality: metric
                .main_temporality()
                .filter(|temporality| TEMPORALITIES.contains(temporality))
                .map(str::to_owned),
            labels: metric.attribute_keys.keys().cloned().collect(),
            // A layout that is not one (the service's bounds do not increase) is no promise,
            // and a baseline holding it would not read back.
            buckets: metric
                .main_bucket_layout()
                .filter(|bounds| is_bucket_layout(bounds))
                .map(<[f64]>::to_vec),
            kind,
        }
    }
}

impl Baseline {
    /// The baseline that `telemetry` would satisfy exactly.
    pub fn from_telemetry(telemetry: &Telemetry) -> Self {
        let services = telemetry
            .services
            .iter()
            .map(|(key, service)| {
                let baseline = ServiceBaseline {
                    metrics: service
                        .metrics
                        .iter()
                        .map(|(name, metric)| (name.clone(), MetricBaseline::of(metric)))
                        .collect(),
                    span_operations: service
                        .span_operations
                        .keys()
                        .map(|op| SpanOperationBaseline {
                            name: op.name.clone(),
                            kind: op.kind.clone(),
                        })
                        .collect(),
                    log_events: service.log_event_names.iter().cloned().collect(),
                };
                (key.clone(), baseline)
            })
            .collect();
        Self {
            version: VERSION,
            services,
        }
    }

    /// The baseline as YAML text, with a header comment.
    pub fn to_yaml(&self) -> String {
        let body = serde_yaml_ng::to_string(self).unwrap_or_else(|e| {
            // Only maps with string keys, strings, numbers and bools: cannot fail.
            format!("# cannot serialize the baseline: {e}\n")
        });
        format!("{HEADER}{body}")
    }

    /// Writes the baseline to `path` through a temporary file and a rename.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let error = |source| Error::BaselineWrite {
            path: path.to_owned(),
            source,
        };
        otel_parity_model::snapshot::write_atomically(path, self.to_yaml().as_bytes())
            .map_err(error)
    }

    /// Reads and validates a baseline file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::BaselineRead {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates baseline text; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let error = |message: String| Error::Baseline {
            path: origin.to_owned(),
            message,
        };
        // A baseline is data, not config: `${env:…}` in it is just text.
        let baseline = otel_parity_runtime::yaml::from_yaml::<Baseline>(text)
            .map_err(|source| Error::BaselineYaml {
                path: origin.to_owned(),
                source,
            })?
            .ok_or_else(|| error("the file is empty; write one with --write-baseline".into()))?;
        baseline.validate().map_err(error)?;
        Ok(baseline)
    }

    fn validate(&self) -> Result<(), String> {
        if self.version != VERSION {
            return Err(format!(
                "version: {} is not supported (this otel-parity writes version {VERSION})",
                self.version
            ));
        }
        for (service, data) in &self.services {
            for (name, metric) in &data.metrics {
                let at = format!("services.{service}.metrics.{name}");
                if !METRIC_TYPES.contains(&metric.kind.as_str()) {
                    return Err(format!(
                        "{at}.type: unknown type `{}` (expected one of {})",
                        metric.kind,
                        METRIC_TYPES.join(", ")
                    ));
                }
                if let Some(temporality) = &metric.temporality
                    && !TEMPORALITIES.contains(&temporality.as_str())
                {
                    return Err(format!(
                        "{at}.temporality: unknown temporality `{temporality}` (expected one of {})",
                        TEMPORALITIES.join(", ")
                    ));
                }
                if let Some(buckets) = &metric.buckets
                    && !is_bucket_layout(buckets)
                {
                    return Err(format!("{at}.buckets: boundaries must increase"));
                }
            }
            for (index, operation) in data.span_operations.iter().enumerate() {
                if !SPAN_KINDS.contains(&operation.kind.as_str()) {
                    return Err(format!(
                        "services.{service}.span_operations[{index}].kind: unknown span kind `{}` (expected one of {})",
                        operation.kind,
                        SPAN_KINDS.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Whether `bounds` are explicit bucket boundaries a histogram can have: strictly increasing,
/// so none is NaN.
fn is_bucket_layout(bounds: &[f64]) -> bool {
    !bounds.iter().any(|b| b.is_nan()) && bounds.windows(2).all(|pair| pair[0] < pair[1])
}

#[cfg(test)]
mod tests {
    use otel_parity_proto::v1::SpanKind;

    use super::super::testing::{histogram, service, sum, telemetry};
    use super::*;

    fn shop() -> Telemetry {
        telemetry(vec![
            service("shop/checkout")
                .metric(
                    "http.server.request.duration",
                    histogram("s", &[0.005, 0.01, 1.0])
                        .attr("http.route", 2.0)
                        .attr("http.request.method", 1.0),
                )
                .metric(
                    "app.orders.placed",
                    sum("{order}", true).attr("app.currency", 2.0),
                )
                .span("POST /checkout", SpanKind::Server, &[])
                .span("prepare order", SpanKind::Internal, &[])
                .log_event("order.placed"),
        ])
    }

    #[test]
    fn the_baseline_is_sorted_readable_yaml() {
        let yaml = Baseline::from_telemetry(&shop()).to_yaml();
        let body = yaml
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            body,
            "version: 1
services:
  shop/checkout:
    metrics:
      app.orders.placed:
        type: sum
        monotonic: true
        unit: '{order}'
        temporality: cumulative
        labels:
        - app.currency
      http.server.request.duration:
        type: histogram
        unit: s
        temporality: cumulative
        labels:
        - http.request.method
        - http.route
        buckets:
        - 0.005
        - 0.01
        - 1.0
    span_operations:
    - name: POST /checkout
      kind: server
    - name: prepare order
      kind: internal
    log_events:
    - order.placed"
        );
    }

    #[test]
    fn the_baseline_round_trips_and_is_deterministic() {
        let baseline = Baseline::from_telemetry(&shop());
        let yaml = baseline.to_yaml();
        assert_eq!(Baseline::parse(&yaml, "b.yaml").unwrap(), baseline);
        assert_eq!(Baseline::from_telemetry(&shop()).to_yaml(), yaml);
    }

    #[test]
    fn a_baseline_written_from_buckets_that_do_not_increase_reads_back_without_them() {
        // Found by fuzzing (`lint`): a capture whose histogram bounds went 2.5 then 2.0 made
        // `--write-baseline` write a baseline that the next `--baseline` run refused.
        for bounds in [[0.5, 2.5, 2.0], [0.5, f64::NAN, 2.0]] {
            let capture = telemetry(vec![service("shop/payment").metric(
                "http.server.request.duration",
                histogram("s", &bounds).attr("http.route", 2.0),
            )]);
            let written = Baseline::from_telemetry(&capture);
            let read = Baseline::parse(&written.to_yaml(), "b.yaml").expect("reads back");
            let metric = &read.services["shop/payment"].metrics["http.server.request.duration"];
            assert_eq!(metric.kind, "histogram");
            assert_eq!(metric.buckets, None);
        }
    }

    #[test]
    fn a_baseline_written_from_an_unknown_temporality_reads_back_without_it() {
        // Found by the fuzz smoke (`lint`): a snapshot whose sum said temporality
        // `cumul$schemaative` made `--write-baseline` write a baseline the next run refused.
        let capture = telemetry(vec![service("shop/checkout").metric(
            "app.orders.placed",
            sum("{order}", true).temporality("cumul$schemaative"),
        )]);
        let written = Baseline::from_telemetry(&capture);
        let read = Baseline::parse(&written.to_yaml(), "b.yaml").expect("reads back");
        let metric = &read.services["shop/checkout"].metrics["app.orders.placed"];
        assert_eq!(
            (metric.kind.as_str(), metric.temporality.as_deref()),
            ("sum", None)
        );
    }

    #[test]
    fn a_baseline_written_from_an_unknown_type_reads_back_with_the_known_one() {
        // Found by the fuzz smoke (`lint`): a snapshot whose histogram said type
        // `Histogram` made `--write-baseline` write a baseline the next run refused.
        let mut capture = telemetry(vec![service("shop/checkout").metric(
            "http.server.request.duration",
            histogram("s", &[0.1, 1.0]).also_type("Histogram"),
        )]);
        let written = Baseline::from_telemetry(&capture);
        let read = Baseline::parse(&written.to_yaml(), "b.yaml").expect("reads back");
        let promise = &read.services["shop/checkout"].metrics["http.server.request.duration"];
        assert_eq!(promise.kind, "histogram");
        // Only unknown types: promised as a metric with no type counted.
        let metric = capture
            .services
            .get_mut("shop/checkout")
            .and_then(|service| service.metrics.get_mut("http.server.request.duration"))
            .expect("the histogram");
        metric.types.remove("histogram");
        let written = Baseline::from_telemetry(&capture);
        let read = Baseline::parse(&written.to_yaml(), "b.yaml").expect("reads back");
        assert_eq!(
            read.services["shop/checkout"].metrics["http.server.request.duration"].kind,
            "gauge"
        );
    }

    #[test]
    fn bad_baselines_are_rejected_naming_the_key() {
        let cases = [
            ("", "the file is empty"),
            ("version: 2\n", "version: 2 is not supported"),
            (
                "version: 1\nservices:\n  s:\n    metrics:\n      m: {type: counter}\n",
                "services.s.metrics.m.type: unknown type `counter`",
            ),
            (
                "version: 1\nservices:\n  s:\n    metrics:\n      m: {type: sum, colour: red}\n",
                "unknown field `colour`",
            ),
            (
                "version: 1\nservices:\n  s:\n    span_operations:\n    - {name: x, kind: SERVER}\n",
                "span_operations[0].kind: unknown span kind `SERVER`",
            ),
            (
                "version: 1\nservices:\n  s:\n    metrics:\n      m: {type: histogram, buckets: [2, 1]}\n",
                "boundaries must increase",
            ),
            (
                "version: 1\nservices:\n  s:\n    metrics:\n      m: {type: histogram, buckets: [1, .nan, 3]}\n",
                "boundaries must increase",
            ),
            ("version: 1\nservices: [\n", "invalid baseline b.yaml"),
            ("services: {}\n", "missing field `version`"),
        ];
        for (text, expected) in cases {
            let message = Baseline::parse(text, "b.yaml").expect_err(text).to_string();
            assert!(
                message.starts_with("invalid baseline b.yaml: ") && message.contains(expected),
                "{text:?}: {message}"
            );
        }
    }
}
