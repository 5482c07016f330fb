#!/usr/bin/env python3
"""A small shop, shaped like the OpenTelemetry demo, instrumented with the real Python SDK.

Three services (frontend -> checkout -> payment) run in one process, each with its own
resource and its own tracer, meter and logger providers, exporting over OTLP/gRPC or
OTLP/HTTP. Trace context crosses service boundaries the way it does over the network: the
client injects W3C TraceContext headers into a carrier dict, the server extracts them.

The end-to-end tests (tests/e2e_receive.rs) derive the fingerprint they expect from the
numbers below, so keep the two in step. At exit the script prints a JSON summary of what it
produced and what its exporters reported as sent, to make a failing assertion explainable.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from importlib.metadata import version as package_version

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import Counter as CounterInstrument
from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics import UpDownCounter as UpDownCounterInstrument
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, Status, StatusCode, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

NAMESPACE = "shop"

# service.version of each service; tests/e2e_receive.rs asserts these values.
SERVICE_VERSIONS = {
    "frontend": "2.3.1",
    "checkout": "1.8.0",
    "payment": "0.9.4",
}

# The request-duration buckets the semantic conventions recommend for HTTP servers.
REQUEST_DURATION_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

# Every ERROR_EVERY-th request (i % ERROR_EVERY == ERROR_EVERY - 1) fails in payment.
ERROR_EVERY = 5

PAYMENT_METHODS = ["credit_card", "paypal", "gift_card"]
CURRENCIES = ["USD", "EUR"]

# OpenTelemetry consistent probability sampling: threshold "c" (0xc0000000000000 of 2^56)
# keeps spans with probability (2^56 - T) / 2^56 = 0.25.
SAMPLING_THRESHOLD = "c"

PROPAGATOR = TraceContextTextMapPropagator()


class ThresholdStampingSampler(Sampler):
    """Parent-based sampler that stamps an `ot=th:<T>` threshold but never drops a span.

    A real consistent probability sampler (OpenTelemetry's TraceIdRatioBased successor)
    keeps a root span only when the trace's 56-bit randomness R satisfies R >= T, and
    records T in the W3C tracestate so that every downstream span can be counted with its
    adjusted count 1 / p. This one writes the same tracestate at the root but keeps every
    trace, so the end-to-end test can assert exact span counts while the receiver still
    reads a real threshold. Children inherit their parent's decision and tracestate, as
    ParentBased samplers do.
    """

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
        return SamplingResult(
            Decision.RECORD_AND_SAMPLE,
            attributes,
            self._stamp(trace_state or TraceState()),
        )

    def _stamp(self, trace_state: TraceState) -> TraceState:
        """Sets the `th` sub-key of the `ot` tracestate entry, keeping its other sub-keys."""
        ot_value = trace_state.get("ot")
        if ot_value is None:
            return trace_state.add("ot", f"th:{self._threshold}")
        others = [part for part in ot_value.split(";") if part and not part.startswith("th:")]
        return trace_state.update("ot", ";".join([f"th:{self._threshold}", *others]))

    def get_description(self) -> str:
        return f"ThresholdStampingSampler{{th:{self._threshold}}}"


class ExportTally:
    """What one service's exporters reported: items sent and items that failed, per signal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.sent_log_severities: Counter[str] = Counter()

    def record(self, signal: str, items: int, ok: bool) -> None:
        with self._lock:
            (self.sent if ok else self.failed)[signal] += items

    def record_log_severities(self, batch) -> None:
        with self._lock:
            for record in batch:
                self.sent_log_severities[record.log_record.severity_text or ""] += 1


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
        self._tally.record("spans", len(spans), _succeeded(result))
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
        self._tally.record("metric_exports", 1, _succeeded(result))
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)


class TallyingLogExporter(LogRecordExporter):
    """Delegates to an OTLP log exporter and tallies the records (by severity) it sent."""

    def __init__(self, inner: LogRecordExporter, tally: ExportTally) -> None:
        self._inner = inner
        self._tally = tally

    def export(self, batch):
        result = self._inner.export(batch)
        ok = _succeeded(result)
        self._tally.record("logs", len(batch), ok)
        if ok:
            self._tally.record_log_severities(batch)
        return result

    def shutdown(self):
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class SpanNameTally(SpanProcessor):
    """Counts the spans a service ended, by name: what the exporters were given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_name: Counter[str] = Counter()

    def on_end(self, span) -> None:
        with self._lock:
            self.by_name[span.name] += 1


def preferred_temporality(kind: str) -> dict:
    """The exporter's temporality preference per instrument type, for --temporality."""
    temporality = {
        "cumulative": AggregationTemporality.CUMULATIVE,
        "delta": AggregationTemporality.DELTA,
    }[kind]
    return {
        CounterInstrument: temporality,
        HistogramInstrument: temporality,
        # Up-down counters stay cumulative under a delta preference, as the SDK's own does.
        UpDownCounterInstrument: AggregationTemporality.CUMULATIVE,
    }


def make_exporters(args):
    """Returns (span, metric, log) OTLP exporters of the chosen protocol family."""
    timeout = args.export_timeout
    temporality = preferred_temporality(args.temporality)
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
                preferred_temporality=temporality,
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
            preferred_temporality=temporality,
        ),
        OTLPLogExporter(endpoint=f"{base}/v1/logs", timeout=timeout),
    )


class Service:
    """One service of the shop: its resource, providers, instruments and logger."""

    def __init__(self, name: str, args) -> None:
        self.name = name
        self.version = SERVICE_VERSIONS[name]
        self.instance_id = str(uuid.uuid4())
        self.resource = Resource.create(
            {
                "service.name": name,
                "service.namespace": NAMESPACE,
                "service.version": self.version,
                "service.instance.id": self.instance_id,
                "deployment.environment.name": args.environment,
            }
        )
        self.tally = ExportTally()
        self.span_names = SpanNameTally()
        span_exporter, metric_exporter, log_exporter = make_exporters(args)
        export_timeout_millis = args.export_timeout * 1000

        self.tracer_provider = TracerProvider(
            resource=self.resource,
            sampler=ThresholdStampingSampler(SAMPLING_THRESHOLD),
            shutdown_on_exit=False,
        )
        self.tracer_provider.add_span_processor(self.span_names)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(
                TallyingSpanExporter(span_exporter, self.tally),
                schedule_delay_millis=200,
                export_timeout_millis=export_timeout_millis,
            )
        )
        scope = f"{NAMESPACE}.{name}"
        self.tracer = self.tracer_provider.get_tracer(scope, self.version)

        self.meter_provider = MeterProvider(
            resource=self.resource,
            metric_readers=[
                PeriodicExportingMetricReader(
                    TallyingMetricExporter(metric_exporter, self.tally),
                    export_interval_millis=500,
                    export_timeout_millis=export_timeout_millis,
                )
            ],
            views=[
                View(
                    instrument_name="http.server.request.duration",
                    aggregation=ExplicitBucketHistogramAggregation(
                        boundaries=REQUEST_DURATION_BOUNDARIES
                    ),
                )
            ],
            shutdown_on_exit=False,
        )
        self.meter = self.meter_provider.get_meter(scope, self.version)
        self.request_duration = self.meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
        )
        self.metric_names = ["http.server.request.duration"]

        self.logger_provider = LoggerProvider(resource=self.resource, shutdown_on_exit=False)
        self.logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(
                TallyingLogExporter(log_exporter, self.tally),
                schedule_delay_millis=200,
                export_timeout_millis=export_timeout_millis,
            )
        )
        self.log = logging.getLogger(scope)
        self.log.setLevel(logging.DEBUG)
        # Only the OpenTelemetry handler: nothing reaches the root logger or stderr.
        self.log.propagate = False
        with warnings.catch_warnings():
            # The SDK's LoggingHandler is deprecated in favour of the one in
            # opentelemetry-instrumentation-logging; it still is the SDK's bridge.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=self.logger_provider))
        self.logged: Counter[str] = Counter()

    def server_span(self, name: str, carrier: dict | None, attributes: dict):
        """Starts a SERVER span, its parent extracted from the incoming headers if any."""
        parent = PROPAGATOR.extract(carrier) if carrier is not None else None
        return self.tracer.start_as_current_span(
            name,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )

    def client_span(self, name: str, attributes: dict):
        return self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def record_request(self, method: str, route: str, status_code: int, seconds: float) -> None:
        self.request_duration.record(
            seconds,
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status_code,
            },
        )

    def emit_log(self, level: int, message: str, *args, **kwargs) -> None:
        self.logged[logging.getLevelName(level)] += 1
        self.log.log(level, message, *args, **kwargs)

    def flush(self) -> None:
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()
        self.meter_provider.force_flush()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()

    def summary(self) -> dict:
        return {
            "key": f"{NAMESPACE}/{self.name}",
            "version": self.version,
            "instance_id": self.instance_id,
            "spans": dict(sorted(self.span_names.by_name.items())),
            "metrics": sorted(self.metric_names),
            "logs": dict(sorted(self.logged.items())),
            "sent": dict(sorted(self.tally.sent.items())),
            "sent_log_severities": dict(sorted(self.tally.sent_log_severities.items())),
            "failed": dict(sorted(self.tally.failed.items())),
        }


class PaymentError(Exception):
    """The card processor did not answer in time."""


class Shop:
    def __init__(self, args) -> None:
        self.frontend = Service("frontend", args)
        self.checkout = Service("checkout", args)
        self.payment = Service("payment", args)
        self.orders_placed = self.checkout.meter.create_counter(
            "app.orders.placed", unit="{order}", description="Orders placed."
        )
        self.checkout.metric_names.append("app.orders.placed")
        self.payments_inflight = self.payment.meter.create_up_down_counter(
            "app.payment.inflight", unit="{payment}", description="Payments being processed."
        )
        self.payment.metric_names.append("app.payment.inflight")
        self.services = [self.frontend, self.checkout, self.payment]

    def handle_storefront_request(self, i: int) -> None:
        """frontend: GET /api/checkout, which calls checkout."""
        started = time.perf_counter()
        attributes = {
            "http.request.method": "GET",
            "url.path": "/api/checkout",
            "url.scheme": "https",
            "http.route": "/api/checkout",
            "server.address": "shop.example.com",
            "server.port": 443,
            "client.address": f"203.0.113.{i % 250 + 1}",
            "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
            "network.protocol.version": "1.1",
        }
        with self.frontend.server_span("GET /api/checkout", None, attributes) as span:
            time.sleep(0.001)
            client_attributes = {
                "http.request.method": "POST",
                "server.address": "checkout",
                "server.port": 8080,
                "url.full": "http://checkout:8080/checkout",
            }
            with self.frontend.client_span("POST /checkout", client_attributes) as client:
                headers: dict = {}
                PROPAGATOR.inject(headers)
                status = self.handle_checkout(i, headers)
                client.set_attribute("http.response.status_code", status)
            span.set_attribute("http.response.status_code", 200)
        self.frontend.record_request("GET", "/api/checkout", 200, time.perf_counter() - started)

    def handle_checkout(self, i: int, headers: dict) -> int:
        """checkout: POST /checkout, which prepares the order and charges it via payment."""
        started = time.perf_counter()
        method = PAYMENT_METHODS[i % len(PAYMENT_METHODS)]
        currency = CURRENCIES[i % len(CURRENCIES)]
        attributes = {
            "http.request.method": "POST",
            "url.path": "/checkout",
            "url.scheme": "http",
            "http.route": "/checkout",
            "server.address": "checkout",
            "server.port": 8080,
            "network.protocol.version": "1.1",
        }
        with self.checkout.server_span("POST /checkout", headers, attributes) as span:
            with self.checkout.tracer.start_as_current_span(
                "prepare order", attributes={"app.order.items": i % 4 + 1}
            ):
                time.sleep(0.001)
            client_attributes = {
                "http.request.method": "POST",
                "server.address": "payment",
                "server.port": 8080,
                "url.full": "http://payment:8080/charge",
            }
            with self.checkout.client_span("POST /charge", client_attributes) as client:
                charge_headers: dict = {}
                PROPAGATOR.inject(charge_headers)
                charge_status = self.handle_charge(i, charge_headers, method, currency)
                client.set_attribute("http.response.status_code", charge_status)
                if charge_status >= 500:
                    client.set_attribute("error.type", str(charge_status))
                    client.set_status(Status(StatusCode.ERROR))
            # A failed charge is retried asynchronously: the order is placed either way.
            self.orders_placed.add(1, {"app.payment.method": method, "app.currency": currency})
            self.checkout.emit_log(
                logging.INFO,
                "order placed",
                extra={"app.order.id": f"order-{i:05d}", "app.payment.method": method},
            )
            span.set_attribute("http.response.status_code", 200)
        self.checkout.record_request("POST", "/checkout", 200, time.perf_counter() - started)
        return 200

    def handle_charge(self, i: int, headers: dict, method: str, currency: str) -> int:
        """payment: POST /charge; every ERROR_EVERY-th charge fails with an exception."""
        started = time.perf_counter()
        attributes = {
            "http.request.method": "POST",
            "url.path": "/charge",
            "url.scheme": "http",
            "http.route": "/charge",
            "server.address": "payment",
            "server.port": 8080,
            "app.payment.method": method,
            "app.currency": currency,
        }
        with self.payment.server_span("POST /charge", headers, attributes) as span:
            self.payments_inflight.add(1)
            try:
                time.sleep(0.001)
                if i % ERROR_EVERY == ERROR_EVERY - 1:
                    raise PaymentError(f"card processor timed out for {method}")
                status = 200
            except PaymentError as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, str(error)))
                span.set_attribute("error.type", type(error).__qualname__)
                self.payment.emit_log(logging.WARNING, "charge failed: %s", error)
                status = 503
            finally:
                self.payments_inflight.add(-1)
            span.set_attribute("http.response.status_code", status)
        self.payment.record_request("POST", "/charge", status, time.perf_counter() - started)
        return status

    def run(self, requests: int) -> None:
        # Outside any span: these records carry no trace context.
        self.frontend.emit_log(logging.DEBUG, "storefront warming up, %d requests queued", requests)
        for i in range(requests):
            self.handle_storefront_request(i)
        self.frontend.emit_log(logging.ERROR, "recommendation cache unavailable, serving defaults")

    def finish(self) -> None:
        for service in self.services:
            service.flush()
        for service in self.services:
            service.shutdown()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-grpc", default="http://127.0.0.1:4317")
    parser.add_argument("--endpoint-http", default="http://127.0.0.1:4318")
    parser.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    parser.add_argument("--environment", default="staging")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--temporality",
        choices=["cumulative", "delta"],
        default="cumulative",
        help="aggregation temporality of counters and histograms",
    )
    parser.add_argument(
        "--export-timeout",
        type=float,
        default=5.0,
        help="seconds an export may take, retries included",
    )
    return parser.parse_args(argv)


def main(argv) -> int:
    args = parse_args(argv)
    shop = Shop(args)
    shop.run(args.requests)
    shop.finish()
    summary = {
        "protocol": args.protocol,
        "environment": args.environment,
        "requests": args.requests,
        "sdk_version": package_version("opentelemetry-sdk"),
        "services": {service.name: service.summary() for service in shop.services},
    }
    json.dump(summary, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
