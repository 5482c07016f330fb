#!/usr/bin/env python3
"""Exports a few spans of one service with the OpenTelemetry Python SDK's OTLP exporter.

The exporter (gRPC or HTTP) is configured only through the SDK's own environment variables,
as an operator would configure it: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _CERTIFICATE (the CA
that signed the receiver's certificate), _CLIENT_CERTIFICATE and _CLIENT_KEY (mTLS), _HEADERS
(`authorization=Bearer%20<token>`) and _TIMEOUT. Prints the export result as JSON; the
exporter logs why an export failed on stderr. Used by tests/e2e_security.
"""

from __future__ import annotations

import argparse
import json

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["grpc", "http"], required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--spans", type=int, default=5)
    args = parser.parse_args()

    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.namespace": "shop",
                "service.name": args.service,
                "deployment.environment.name": "prod",
            }
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tls-export", "1.0.0")
    for _ in range(args.spans):
        with tracer.start_as_current_span("GET /api/cart", kind=SpanKind.SERVER):
            pass
    spans = memory.get_finished_spans()

    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter()
    result = exporter.export(spans)
    exporter.shutdown()
    print(json.dumps({"result": result.name, "spans": len(spans)}))


if __name__ == "__main__":
    main()
