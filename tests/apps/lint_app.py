#!/usr/bin/env python3
"""An inventory service instrumented with the real OpenTelemetry Python SDK, for tests/lint.

It handles --requests reservations and exports traces, metrics and logs over OTLP/HTTP. Its
telemetry follows the OpenTelemetry conventions, so `otel-parity lint` finds nothing in it;
--rename-metric OLD=NEW and --unit-override NAME=UNIT change it the way a careless refactoring
would, so that lint against the first capture's baseline has something to report. --legacy adds
the names of a service that predates the conventions (`HTTP_Requests_Total`,
`app.checkout.latency_ms` in ms with `user.id`, the deprecated `http.server.duration` in ms);
--extra-counter NAME adds a counter of that name.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

# tests/lint/sdk.rs asserts these.
SERVICE = "inventory"
NAMESPACE = "shop"
REQUEST_DURATION_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
WAREHOUSES = ["ams", "fra"]


def pairs(values: list[str], flag: str) -> dict[str, str]:
    result = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new:
            raise SystemExit(f"{flag} takes NAME=VALUE, got {value!r}")
        result[old] = new
    return result


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-http", default="http://127.0.0.1:4318")
    parser.add_argument("--environment", default="ci")
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--rename-metric", action="append", default=[], metavar="OLD=NEW")
    parser.add_argument("--unit-override", action="append", default=[], metavar="NAME=UNIT")
    parser.add_argument("--legacy", action="store_true", help="also record legacy metric names")
    parser.add_argument("--extra-counter", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    renames = pairs(args.rename_metric, "--rename-metric")
    units = pairs(args.unit_override, "--unit-override")

    def name(metric: str) -> str:
        return renames.get(metric, metric)

    def unit(metric: str, default: str) -> str:
        return units.get(metric, default)

    base = args.endpoint_http.rstrip("/")
    resource = Resource.create(
        {
            "service.name": SERVICE,
            "service.namespace": NAMESPACE,
            "service.version": "3.1.0",
            "deployment.environment.name": args.environment,
        }
    )
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces"), schedule_delay_millis=200)
    )
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[
            PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=f"{base}/v1/metrics"), export_interval_millis=500
            )
        ],
        views=[
            View(
                instrument_name=name("http.server.request.duration"),
                aggregation=ExplicitBucketHistogramAggregation(boundaries=REQUEST_DURATION_BOUNDARIES),
            )
        ],
        shutdown_on_exit=False,
    )
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs"), schedule_delay_millis=200)
    )

    tracer = tracer_provider.get_tracer("shop.inventory", "3.1.0")
    meter = meter_provider.get_meter("shop.inventory", "3.1.0")
    log = logging.getLogger("shop.inventory")
    log.setLevel(logging.INFO)
    log.propagate = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))

    request_duration = meter.create_histogram(
        name("http.server.request.duration"),
        unit=unit("http.server.request.duration", "s"),
        description="Duration of HTTP server requests.",
    )
    reserved = meter.create_counter(
        name("app.inventory.reserved"),
        unit=unit("app.inventory.reserved", "{item}"),
        description="Items reserved.",
    )
    lookup_duration = meter.create_histogram(
        name("app.inventory.lookup.duration"),
        unit=unit("app.inventory.lookup.duration", "s"),
        description="Duration of stock lookups.",
    )

    legacy = []
    if args.legacy:
        legacy = [
            meter.create_counter("HTTP_Requests_Total", unit="{request}"),
            meter.create_histogram("app.checkout.latency_ms", unit="ms"),
            meter.create_histogram("http.server.duration", unit="ms"),
        ]
    extra = [meter.create_counter(n, unit="{item}") for n in args.extra_counter]

    for i in range(args.requests):
        warehouse = WAREHOUSES[i % len(WAREHOUSES)]
        if legacy:
            requests_total, latency_ms, server_duration = legacy
            requests_total.add(1, {"http.method": "POST"})
            latency_ms.record(4.0 + i % 5, {"user.id": f"user-{i:04d}"})
            server_duration.record(4.0 + i % 5, {"http.method": "POST", "http.status_code": 200})
        for counter in extra:
            counter.add(1, {"app.warehouse": warehouse})
        with tracer.start_as_current_span(
            "POST /reserve",
            kind=SpanKind.SERVER,
            attributes={"http.request.method": "POST", "http.route": "/reserve", "url.path": "/reserve"},
        ) as span:
            with tracer.start_as_current_span("lookup stock", attributes={"app.warehouse": warehouse}):
                lookup_duration.record(0.002 + 0.001 * (i % 3), {"app.warehouse": warehouse})
            reserved.add(1 + i % 2, {"app.warehouse": warehouse})
            log.info("reserved items in %s", warehouse, extra={"event.name": "inventory.reserved"})
            span.set_attribute("http.response.status_code", 200)
        request_duration.record(
            0.004 + 0.001 * (i % 5),
            {"http.request.method": "POST", "http.route": "/reserve", "http.response.status_code": 200},
        )

    for provider in (tracer_provider, logger_provider, meter_provider):
        provider.force_flush()
    for provider in (tracer_provider, logger_provider, meter_provider):
        provider.shutdown()
    json.dump(
        {
            "requests": args.requests,
            "metrics": sorted(
                name(m)
                for m in ("http.server.request.duration", "app.inventory.reserved", "app.inventory.lookup.duration")
            )
            + (["HTTP_Requests_Total", "app.checkout.latency_ms", "http.server.duration"] if args.legacy else [])
            + list(args.extra_counter),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
