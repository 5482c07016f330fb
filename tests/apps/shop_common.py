"""What the test shops (shop.py, parity_shop.py) share: OTLP exporters that tally what they
sent, one resource's tracer, meter and logger providers, W3C trace context propagation, the
parent-based sampler's threshold stamping, and the command line and JSON summary around them.

The shops run as scripts (`python tests/apps/shop.py`), so this module is imported as a
sibling: the script's directory is on sys.path.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

NAMESPACE = "shop"

# The request-duration buckets the semantic conventions recommend for HTTP servers.
REQUEST_DURATION_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

# Every ERROR_EVERY-th charge (i % ERROR_EVERY == ERROR_EVERY - 1) fails in payment.
ERROR_EVERY = 5

PAYMENT_METHODS = ["credit_card", "paypal", "gift_card"]
CURRENCIES = ["USD", "EUR"]

PROPAGATOR = TraceContextTextMapPropagator()


def incoming(headers: dict) -> Context:
    """The context a server continues: extracted from the request's headers."""
    return PROPAGATOR.extract(headers)


def outgoing() -> dict:
    """The headers a client sends: the current context as traceparent/tracestate."""
    headers: dict = {}
    PROPAGATOR.inject(headers)
    return headers


def server_span(tracer, name: str, parent: Context | None, attributes: dict):
    """Starts a SERVER span under `parent`; exceptions are recorded by the handler itself."""
    return tracer.start_as_current_span(
        name,
        context=parent,
        kind=SpanKind.SERVER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )


class ParentBasedThresholdSampler(Sampler):
    """A parent-based sampler that records its threshold T in the `ot` tracestate entry as
    `th:T`: a child follows its parent's decision and keeps its parent's tracestate; a root
    span is decided by `sample_root` and, when kept, stamped with the threshold."""

    def __init__(self, threshold: str) -> None:
        self._threshold = threshold

    def should_sample(
        self,
        parent_context,
        trace_id,
        name,
        kind=None,
        attributes=None,
        links=None,
        trace_state=None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if parent.is_valid:
            if parent.trace_flags.sampled:
                return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent.trace_state)
            return SamplingResult(Decision.DROP, None, parent.trace_state)
        if not self.sample_root(trace_id):
            return SamplingResult(Decision.DROP, None, trace_state)
        return SamplingResult(
            Decision.RECORD_AND_SAMPLE, attributes, self._stamp(trace_state or TraceState())
        )

    def sample_root(self, trace_id: int) -> bool:
        """Whether a root span of trace `trace_id` is kept."""
        raise NotImplementedError

    def _stamp(self, trace_state: TraceState) -> TraceState:
        """Sets the `th` sub-key of the `ot` tracestate entry, keeping its other sub-keys."""
        ot_value = trace_state.get("ot")
        if ot_value is None:
            return trace_state.add("ot", f"th:{self._threshold}")
        others = [part for part in ot_value.split(";") if part and not part.startswith("th:")]
        return trace_state.update("ot", ";".join([f"th:{self._threshold}", *others]))


class ExportTally:
    """What a service's exporters reported: items sent and items that failed, per signal.
    Subclasses tally more of what was sent through the `*_sent` hooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def record(self, signal: str, items: int, ok: bool) -> None:
        with self._lock:
            (self.sent if ok else self.failed)[signal] += items

    def spans_sent(self, spans) -> None:
        """Called with every batch of spans exported successfully."""

    def logs_sent(self, batch) -> None:
        """Called with every batch of log records exported successfully."""

    def metrics_exported(self, ok: bool) -> None:
        """Called after every metric export."""


def _succeeded(result) -> bool:
    # Span, metric and log export results are three enums; all name success SUCCESS.
    return getattr(result, "name", None) == "SUCCESS"


class TallyingSpanExporter(SpanExporter):
    """Delegates to an OTLP span exporter and tallies what it sent."""

    def __init__(self, inner: SpanExporter, tally: ExportTally) -> None:
        self._inner = inner
        self._tally = tally

    def export(self, spans):
        result = self._inner.export(spans)
        ok = _succeeded(result)
        self._tally.record("spans", len(spans), ok)
        if ok:
            self._tally.spans_sent(spans)
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class TallyingMetricExporter(MetricExporter):
    """Delegates to an OTLP metric exporter and tallies the data points it sent."""

    def __init__(self, inner: MetricExporter, tally: ExportTally) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._tally = tally

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
        result = self._inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        points = sum(
            len(metric.data.data_points)
            for resource_metrics in metrics_data.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        )
        self._tally.record("metric_points", points, _succeeded(result))
        if points:
            # Collections that carried data: what the receiver counts as exports.
            self._tally.record("metric_exports", 1, _succeeded(result))
        self._tally.metrics_exported(_succeeded(result))
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)


class TallyingLogExporter(LogRecordExporter):
    """Delegates to an OTLP log exporter and tallies the records it sent."""

    def __init__(self, inner: LogRecordExporter, tally: ExportTally) -> None:
        self._inner = inner
        self._tally = tally

    def export(self, batch):
        result = self._inner.export(batch)
        ok = _succeeded(result)
        self._tally.record("logs", len(batch), ok)
        if ok:
            self._tally.logs_sent(batch)
        return result

    def shutdown(self):
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def make_exporters(args, preferred_temporality: dict | None = None):
    """Returns (span, metric, log) OTLP exporters of the chosen protocol family."""
    timeout = args.export_timeout
    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        endpoint = args.endpoint_grpc
        return (
            OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=timeout),
            OTLPMetricExporter(
                endpoint=endpoint,
                insecure=True,
                timeout=timeout,
                preferred_temporality=preferred_temporality,
            ),
            OTLPLogExporter(endpoint=endpoint, insecure=True, timeout=timeout),
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base = args.endpoint_http.rstrip("/")
    return (
        OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=timeout),
        OTLPMetricExporter(
            endpoint=f"{base}/v1/metrics",
            timeout=timeout,
            preferred_temporality=preferred_temporality,
        ),
        OTLPLogExporter(endpoint=f"{base}/v1/logs", timeout=timeout),
    )


class Providers:
    """One resource's tracer, meter and logger providers, exporting over OTLP through tallying
    exporters, with a tracer, meter and the request-duration histogram (explicit buckets) of
    instrumentation scope `scope` (with `schema_url`, the semconv release it follows): by
    default `http.server.request.duration` in seconds, or `request_duration=(name, unit)` with
    the boundaries scaled to milliseconds for `ms`. Metrics are exported every
    `metric_interval_millis`."""

    def __init__(
        self,
        resource: Resource,
        args,
        tally: ExportTally,
        scope: tuple[str, str],
        sampler: Sampler,
        *,
        id_generator=None,
        span_processors=(),
        export_spans: bool = True,
        max_queue_size: int | None = None,
        preferred_temporality: dict | None = None,
        schema_url: str | None = None,
        metric_interval_millis: int = 500,
        request_duration: tuple[str, str] | None = None,
    ) -> None:
        request_duration = request_duration or ("http.server.request.duration", "s")
        span_exporter, metric_exporter, log_exporter = make_exporters(args, preferred_temporality)
        export_timeout_millis = args.export_timeout * 1000

        self.tracer_provider = TracerProvider(
            resource=resource,
            sampler=sampler,
            id_generator=id_generator,
            shutdown_on_exit=False,
        )
        for processor in span_processors:
            self.tracer_provider.add_span_processor(processor)
        if export_spans:
            self.tracer_provider.add_span_processor(
                BatchSpanProcessor(
                    TallyingSpanExporter(span_exporter, tally),
                    max_queue_size=max_queue_size,
                    schedule_delay_millis=200,
                    export_timeout_millis=export_timeout_millis,
                )
            )
        self.tracer = self.tracer_provider.get_tracer(*scope, schema_url=schema_url)

        self.meter_provider = MeterProvider(
            resource=resource,
            metric_readers=[
                PeriodicExportingMetricReader(
                    TallyingMetricExporter(metric_exporter, tally),
                    export_interval_millis=metric_interval_millis,
                    export_timeout_millis=export_timeout_millis,
                )
            ],
            views=[
                View(
                    instrument_name=request_duration[0],
                    aggregation=ExplicitBucketHistogramAggregation(
                        boundaries=[
                            b * (1000 if request_duration[1] == "ms" else 1)
                            for b in REQUEST_DURATION_BOUNDARIES
                        ]
                    ),
                )
            ],
            shutdown_on_exit=False,
        )
        self.meter = self.meter_provider.get_meter(*scope, schema_url=schema_url)
        self.request_duration = self.meter.create_histogram(
            request_duration[0],
            unit=request_duration[1],
            description="Duration of HTTP server requests.",
        )

        self.logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        self.logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(
                TallyingLogExporter(log_exporter, tally),
                max_queue_size=max_queue_size,
                schedule_delay_millis=200,
                export_timeout_millis=export_timeout_millis,
            )
        )

    def record_request(self, method: str, route: str, status_code: int, seconds: float) -> None:
        self.request_duration.record(
            seconds,
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status_code,
            },
        )

    def flush_spans(self) -> None:
        self.tracer_provider.force_flush()

    def flush(self) -> None:
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()
        self.meter_provider.force_flush()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()


def add_otlp_arguments(parser, export_timeout: float) -> None:
    """Where and how the shop exports, and as which environment."""
    parser.add_argument("--endpoint-grpc", default="http://127.0.0.1:4317")
    parser.add_argument("--endpoint-http", default="http://127.0.0.1:4318")
    parser.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    parser.add_argument("--environment", default="staging")
    parser.add_argument(
        "--export-timeout",
        type=float,
        default=export_timeout,
        help="seconds an export may take, retries included",
    )


def print_summary(summary: dict) -> None:
    """The run's JSON summary on stdout, keys sorted."""
    json.dump(summary, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
