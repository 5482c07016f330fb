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
import logging
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from importlib.metadata import version as package_version

from opentelemetry.sdk._logs import LoggingHandler
from opentelemetry.sdk.metrics import Counter as CounterInstrument
from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics import UpDownCounter as UpDownCounterInstrument
from opentelemetry.sdk.metrics.export import AggregationTemporality
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from shop_common import (
    CURRENCIES,
    ERROR_EVERY,
    NAMESPACE,
    PAYMENT_METHODS,
    ExportTally,
    ParentBasedThresholdSampler,
    Providers,
    add_otlp_arguments,
    incoming,
    outgoing,
    print_summary,
    server_span,
)

# service.version of each service; tests/e2e_receive.rs asserts these values.
SERVICE_VERSIONS = {
    "frontend": "2.3.1",
    "checkout": "1.8.0",
    "payment": "0.9.4",
}

# OpenTelemetry consistent probability sampling: threshold "c" (0xc0000000000000 of 2^56)
# keeps spans with probability (2^56 - T) / 2^56 = 0.25.
SAMPLING_THRESHOLD = "c"

class ThresholdStampingSampler(ParentBasedThresholdSampler):
    """Parent-based sampler that stamps an `ot=th:<T>` threshold but never drops a span.

    A real consistent probability sampler (OpenTelemetry's TraceIdRatioBased successor)
    keeps a root span only when the trace's 56-bit randomness R satisfies R >= T, and
    records T in the W3C tracestate so that every downstream span can be counted with its
    adjusted count 1 / p. This one writes the same tracestate at the root but keeps every
    trace, so the end-to-end test can assert exact span counts while the receiver still
    reads a real threshold. Children inherit their parent's decision and tracestate, as
    ParentBased samplers do.
    """

    def sample_root(self, trace_id: int) -> bool:
        return True

    def get_description(self) -> str:
        return f"ThresholdStampingSampler{{th:{self._threshold}}}"


class ShopExportTally(ExportTally):
    """Also tallies metric exports and the log records sent by severity."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_log_severities: Counter[str] = Counter()

    def metrics_exported(self, ok: bool) -> None:
        self.record("metric_exports", 1, ok)

    def logs_sent(self, batch) -> None:
        with self._lock:
            for record in batch:
                self.sent_log_severities[record.log_record.severity_text or ""] += 1


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
        self.tally = ShopExportTally()
        self.span_names = SpanNameTally()
        scope = f"{NAMESPACE}.{name}"
        self.providers = Providers(
            self.resource,
            args,
            self.tally,
            (scope, self.version),
            ThresholdStampingSampler(SAMPLING_THRESHOLD),
            span_processors=[self.span_names],
            preferred_temporality=preferred_temporality(args.temporality),
        )
        self.tracer = self.providers.tracer
        self.meter = self.providers.meter
        self.metric_names = ["http.server.request.duration"]

        self.log = logging.getLogger(scope)
        self.log.setLevel(logging.DEBUG)
        # Only the OpenTelemetry handler: nothing reaches the root logger or stderr.
        self.log.propagate = False
        with warnings.catch_warnings():
            # The SDK's LoggingHandler is deprecated in favour of the one in
            # opentelemetry-instrumentation-logging; it still is the SDK's bridge.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=self.providers.logger_provider))
        self.logged: Counter[str] = Counter()

    def server_span(self, name: str, carrier: dict | None, attributes: dict):
        """Starts a SERVER span, its parent extracted from the incoming headers if any."""
        parent = incoming(carrier) if carrier is not None else None
        return server_span(self.tracer, name, parent, attributes)

    def client_span(self, name: str, attributes: dict):
        return self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def record_request(self, method: str, route: str, status_code: int, seconds: float) -> None:
        self.providers.record_request(method, route, status_code, seconds)

    def emit_log(self, level: int, message: str, *args, **kwargs) -> None:
        self.logged[logging.getLevelName(level)] += 1
        self.log.log(level, message, *args, **kwargs)

    def flush(self) -> None:
        self.providers.flush()

    def shutdown(self) -> None:
        self.providers.shutdown()

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
                status = self.handle_checkout(i, outgoing())
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
                charge_status = self.handle_charge(i, outgoing(), method, currency)
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
    add_otlp_arguments(parser, export_timeout=5.0)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--temporality",
        choices=["cumulative", "delta"],
        default="cumulative",
        help="aggregation temporality of counters and histograms",
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
    print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
