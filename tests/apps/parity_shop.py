#!/usr/bin/env python3
"""A multi-service shop for the parity tests, instrumented with the real Python SDK.

Six services of the OpenTelemetry demo's shape run in one process, each as --instances
instances with their own resource (service.instance.id) and their own tracer, meter and
logger providers, exporting over OTLP/gRPC or OTLP/HTTP:

    frontend  GET /api/checkout (SERVER)
      ├─ GET /cart (CLIENT)        → cart      GET /cart (SERVER)
      └─ POST /checkout (CLIENT)   → checkout  POST /checkout (SERVER)
                                       ├─ prepare order (INTERNAL)
                                       ├─ POST /quote (CLIENT)  → shipping POST /quote (SERVER)
                                       └─ POST /charge (CLIENT) → payment  POST /charge (SERVER)
    recommendation  GET /api/recommendations (SERVER), a trace of its own per request

Trace context crosses services as over the network: the client injects W3C TraceContext
headers (traceparent and tracestate) into a dict, the server extracts them. Every service
records `http.server.request.duration` (explicit buckets) and log records (with the trace
context of the span they are written in; all but the frontend's name an `event.name`).

Sampling is OpenTelemetry's consistent probability sampling: a root span is kept when the
56 lowest bits of its trace id (the randomness) are at least the threshold T, and T is
written to the tracestate as `ot=th:T`; children follow their parent's decision.
--sampling-threshold c keeps 25% of traces, 0 keeps all; `none` is the SDK's default
ParentBased(ALWAYS_ON) sampler, which keeps all and writes no threshold.

Metrics are exported every --metric-interval-ms; --request-pause-ms spreads the requests out
over time (so that a run spans many export intervals and push windows); --skip-service NAME
leaves a service out of the run altogether (both environments alike, unlike a drift).

--drift NAME (repeatable) plants one difference of the kind a staging environment drifts
into; without any, every environment emits the same telemetry per request. The PLANTS table
of tests/e2e_parity/planted.rs lists the findings each drift must produce: keep the two in step.

At exit the script prints a JSON summary: per service, requests served, spans, log records
and metric data points its exporters sent (and failed to send), and how many root spans its
sampler kept and dropped.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import threading
import time
import uuid
from collections import Counter

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanKind, Status, StatusCode

import shop_common
from shop_common import (
    CURRENCIES,
    ERROR_EVERY,
    NAMESPACE,
    PAYMENT_METHODS,
    ExportTally,
    ParentBasedThresholdSampler,
    Providers,
    add_otlp_arguments,
    outgoing,
    print_summary,
    server_span,
)

SERVICES = ["frontend", "cart", "checkout", "shipping", "payment", "recommendation"]

# service.version per service; the `service-version` drift gives staging's frontend the
# next release candidate.
SERVICE_VERSIONS = {
    "frontend": "2.3.1",
    "cart": "1.12.0",
    "checkout": "1.8.0",
    "shipping": "0.4.2",
    "payment": "0.9.4",
    "recommendation": "3.0.0",
}
NEXT_FRONTEND_VERSION = "2.4.0-rc.1"

# The version of the shop's own instrumentation scopes (one per service, shared by its
# tracer, meter and logger), independent of service.version.
INSTRUMENTATION_VERSION = "1.4.0"

PRODUCT_CATEGORIES = ["books", "kitchen", "garden", "toys"]

# Items each cart request adds to `app.cart.items.added`; under the `cardinality` drift each
# is added for a different user.id, so that N requests give N * CART_ITEMS series.
CART_ITEMS = 100

# What each drift plants in the environment that runs with it (tests/e2e_parity expects one
# finding per drift; see there for the severities the comparison gives them).
DRIFTS = {
    "services": "recommendation is not deployed",
    "missing-traces": "shipping's tracer provider has no span processor: no spans leave it",
    "metric-unit": "checkout's app.orders.placed has unit 1 instead of {order}",
    "label-key": "payment's app.payments.processed loses its app.currency attribute",
    "cardinality": "cart's app.cart.items.added gets a user.id attribute (a value per item)",
    "span-operation": "checkout no longer creates its `prepare order` INTERNAL span",
    "span-attribute": "payment's POST /charge SERVER span loses http.route",
    "edge": "frontend's GET /cart CLIENT span starts with an empty context (a new root)",
    "propagation": "checkout ignores the incoming traceparent: its SERVER spans are roots",
    "log-event": "payment's `payment.charged` log records lose their event.name",
    "runtime-version": "cart reports a newer process.runtime.version",
    "service-version": "frontend runs the next release (service.version)",
    "chatty-cart": "cart writes three times as many log records per request",
    "missing-counter": "payment never records app.payments.processed (its other metrics export)",
    "old-http-semconv": "cart's HTTP instrumentation predates semconv 1.22: http.server.duration "
    "in ms with http.method and http.status_code, schema 1.20.0",
}

# The semconv release of every instrumentation scope, and that of the `old-http-semconv` drift.
SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
OLD_SCHEMA_URL = "https://opentelemetry.io/schemas/1.20.0"

# 2^56: thresholds and trace randomness are 56-bit values.
RANDOMNESS_BITS = 56
THRESHOLD_DIGITS = 14


class SeededIdGenerator(IdGenerator):
    """Random trace and span ids from a seeded generator, shared by every provider of the
    process, so that a run (and which traces the sampler keeps) can be repeated."""

    def __init__(self, seed: int | None) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def generate_span_id(self) -> int:
        with self._lock:
            span_id = self._random.getrandbits(64)
            while span_id == trace.INVALID_SPAN_ID:
                span_id = self._random.getrandbits(64)
            return span_id

    def generate_trace_id(self) -> int:
        with self._lock:
            trace_id = self._random.getrandbits(128)
            while trace_id == trace.INVALID_TRACE_ID:
                trace_id = self._random.getrandbits(128)
            return trace_id

    def is_trace_id_random(self) -> bool:
        # All 128 bits are random: W3C Trace Context level 2's random flag may be set.
        return True


def threshold_value(threshold: str) -> int:
    """A `th` value (1-14 hex digits, padded right with zeros) as a 56-bit integer."""
    if not 1 <= len(threshold) <= THRESHOLD_DIGITS:
        raise ValueError(f"threshold {threshold!r} must have 1 to {THRESHOLD_DIGITS} hex digits")
    return int(threshold.ljust(THRESHOLD_DIGITS, "0"), 16)


class ConsistentProbabilitySampler(ParentBasedThresholdSampler):
    """OpenTelemetry's consistent probability sampler, parent-based.

    A root span is sampled when the trace's randomness R (the 56 least significant bits of
    the trace id) satisfies R >= T, so that every service deciding on the same trace decides
    alike, and T is recorded in the `ot` tracestate entry as `th:T`; the span's adjusted
    count is then 2^56 / (2^56 - T). A child follows its parent's decision and keeps its
    parent's tracestate, as ParentBased samplers do.
    """

    def __init__(self, threshold: str, decisions: Counter) -> None:
        super().__init__(threshold.lower().rstrip("0") or "0")
        self._value = threshold_value(threshold)
        self._decisions = decisions

    def sample_root(self, trace_id: int) -> bool:
        randomness = trace_id & ((1 << RANDOMNESS_BITS) - 1)
        sampled = randomness >= self._value
        self._decisions["root spans sampled" if sampled else "root spans dropped"] += 1
        return sampled

    def get_description(self) -> str:
        return f"ConsistentProbabilitySampler{{th:{self._threshold}}}"


def sampler_for(args, decisions: Counter):
    """The sampler of --sampling-threshold: consistent probability, or `none` for the SDK's
    default parent-based always-on sampler (no threshold in tracestate)."""
    if args.sampling_threshold == "none":
        return ParentBased(ALWAYS_ON)
    return ConsistentProbabilitySampler(args.sampling_threshold, decisions)


def old_http_semconv(args, name: str) -> bool:
    """Whether the service records HTTP metrics as before semconv 1.22."""
    return name == "cart" and "old-http-semconv" in args.drift


class SpanTally(ExportTally):
    """Also tallies the spans sent, by name and kind, over all of a service's instances."""

    def __init__(self) -> None:
        super().__init__()
        self.spans_by_name: Counter[str] = Counter()

    def spans_sent(self, spans) -> None:
        with self._lock:
            for span in spans:
                self.spans_by_name[f"{span.name} ({span.kind.name.lower()})"] += 1


def runtime_version(args, name: str) -> str:
    """process.runtime.version as the service reports it."""
    if name == "cart" and "runtime-version" in args.drift:
        # A newer interpreter image than the one actually running.
        return f"{sys.version_info.major}.{sys.version_info.minor + 1}.0"
    return platform.python_version()


# Queues large enough that no span or log record is ever dropped for lack of room: the
# tests compare volumes per request.
MAX_QUEUE_SIZE = 1_000_000


class Instance:
    """One instance of a service: its resource, providers, instruments and logger."""

    def __init__(
        self, name: str, index: int, args, tally: SpanTally, ids: IdGenerator, decisions: Counter
    ):
        version = SERVICE_VERSIONS[name]
        if name == "frontend" and "service-version" in args.drift:
            version = NEXT_FRONTEND_VERSION
        self.resource = Resource.create(
            {
                "service.name": name,
                "service.namespace": NAMESPACE,
                "service.version": version,
                "service.instance.id": str(uuid.uuid4()),
                "host.name": f"ip-10-{args.host_subnet}-0-{index}.internal",
                "deployment.environment.name": args.environment,
                "process.runtime.name": platform.python_implementation().lower(),
                "process.runtime.version": runtime_version(args, name),
            }
        )
        scope = f"{NAMESPACE}.{name}"
        old = old_http_semconv(args, name)
        schema_url = OLD_SCHEMA_URL if old else SCHEMA_URL
        self.providers = Providers(
            self.resource,
            args,
            tally,
            (scope, INSTRUMENTATION_VERSION),
            sampler_for(args, decisions),
            id_generator=ids,
            export_spans=not (name == "shipping" and "missing-traces" in args.drift),
            max_queue_size=MAX_QUEUE_SIZE,
            schema_url=schema_url,
            metric_interval_millis=args.metric_interval_ms,
            request_duration=("http.server.duration", "ms") if old else None,
        )
        self.tracer = self.providers.tracer
        self.meter = self.providers.meter
        self.request_duration = self.providers.request_duration
        self.logger = self.providers.logger_provider.get_logger(
            scope, INSTRUMENTATION_VERSION, schema_url=schema_url
        )

    def flush_spans(self) -> None:
        self.providers.flush_spans()

    def flush(self) -> None:
        self.providers.flush()

    def shutdown(self) -> None:
        self.providers.shutdown()


class Service:
    """A service's instances; request i is served by instance i % len(instances)."""

    def __init__(self, name: str, args, ids: IdGenerator) -> None:
        self.name = name
        self.tally = SpanTally()
        self.decisions: Counter[str] = Counter()
        self.instances = [
            Instance(name, index, args, self.tally, ids, self.decisions)
            for index in range(args.instances)
        ]
        self.logs_per_request = args.logs_per_request
        if name == "cart" and "chatty-cart" in args.drift:
            self.logs_per_request *= 3
        self.requests = 0
        self.logs_emitted = 0
        self.current = self.instances[0]
        self.old_semconv = old_http_semconv(args, name)

    def serve(self, i: int) -> Instance:
        """The instance that serves request i (and counts the request)."""
        self.current = self.instances[i % len(self.instances)]
        self.requests += 1
        return self.current

    def server_span(self, name: str, parent: Context, attributes: dict):
        return server_span(self.current.tracer, name, parent, attributes)

    def client_span(self, name: str, attributes: dict, context: Context | None = None):
        return self.current.tracer.start_as_current_span(
            name, context=context, kind=SpanKind.CLIENT, attributes=attributes
        )

    def internal_span(self, name: str, attributes: dict):
        return self.current.tracer.start_as_current_span(name, attributes=attributes)

    def record_request(self, method: str, route: str, status_code: int, started: float) -> None:
        seconds = time.perf_counter() - started
        if self.old_semconv:
            # Before semconv 1.22: milliseconds, http.method and http.status_code.
            attributes = {
                "http.method": method,
                "http.route": route,
                "http.status_code": status_code,
            }
            self.current.request_duration.record(seconds * 1000, attributes)
            return
        self.current.request_duration.record(
            seconds,
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status_code,
            },
        )

    def log(self, severity: SeverityNumber, text: str, body: str, attributes: dict) -> None:
        """Writes logs_per_request records in the current (span) context."""
        for _ in range(self.logs_per_request):
            self.current.logger.emit(
                severity_number=severity,
                severity_text=text,
                body=body,
                attributes=attributes,
            )
            self.logs_emitted += 1

    def summary(self) -> dict:
        return {
            "key": f"{NAMESPACE}/{self.name}",
            "instances": len(self.instances),
            "requests": self.requests,
            "logs_emitted": self.logs_emitted,
            "sampler": dict(sorted(self.decisions.items())),
            "spans_sent_by_operation": dict(sorted(self.tally.spans_by_name.items())),
            "sent": dict(sorted(self.tally.sent.items())),
            "failed": dict(sorted(self.tally.failed.items())),
        }


def incoming(headers: dict, drop: bool) -> Context:
    """The context a server continues: extracted from the request's headers, or (when the
    service does not propagate) a fresh one, which makes its span a root."""
    return Context() if drop else shop_common.incoming(headers)


class Shop:
    def __init__(self, args) -> None:
        self.drift = set(args.drift)
        ids = SeededIdGenerator(args.seed)
        skipped = set(args.skip_service)
        names = [
            n
            for n in SERVICES
            if n not in skipped and not (n == "recommendation" and "services" in self.drift)
        ]
        self.services = {name: Service(name, args, ids) for name in names}
        self.frontend = self.services["frontend"]
        self.cart = self.services["cart"]
        self.checkout = self.services["checkout"]
        self.shipping = self.services["shipping"]
        self.payment = self.services["payment"]
        self.recommendation = self.services.get("recommendation")
        self.flush_per_request = args.flush_per_request
        self.request_pause = args.request_pause_ms / 1000

        orders_unit = "1" if "metric-unit" in self.drift else "{order}"
        self.orders_placed = [
            instance.meter.create_counter(
                "app.orders.placed", unit=orders_unit, description="Orders placed."
            )
            for instance in self.checkout.instances
        ]
        self.payments_processed = [
            instance.meter.create_counter(
                "app.payments.processed", unit="{payment}", description="Charges attempted."
            )
            for instance in self.payment.instances
        ]
        self.cart_items_added = [
            instance.meter.create_counter(
                "app.cart.items.added", unit="{item}", description="Items added to carts."
            )
            for instance in self.cart.instances
        ]

    def storefront(self, i: int) -> None:
        """frontend: GET /api/checkout, which shows the cart and checks out."""
        self.frontend.serve(i)
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
        }
        with self.frontend.server_span("GET /api/checkout", Context(), attributes) as span:
            # Under the `edge` drift the cart call is not parented to the request's span.
            cart_context = Context() if "edge" in self.drift else None
            cart_attributes = {
                "http.request.method": "GET",
                "server.address": "cart",
                "server.port": 8080,
                "url.full": "http://cart:8080/cart",
            }
            with self.frontend.client_span("GET /cart", cart_attributes, cart_context) as client:
                status = self.cart_request(i, outgoing())
                client.set_attribute("http.response.status_code", status)
            checkout_attributes = {
                "http.request.method": "POST",
                "server.address": "checkout",
                "server.port": 8080,
                "url.full": "http://checkout:8080/checkout",
            }
            with self.frontend.client_span("POST /checkout", checkout_attributes) as client:
                status = self.checkout_request(i, outgoing())
                client.set_attribute("http.response.status_code", status)
            self.frontend.log(SeverityNumber.INFO, "INFO", "storefront checkout served", {})
            span.set_attribute("http.response.status_code", 200)
        self.frontend.record_request("GET", "/api/checkout", 200, started)

    def cart_request(self, i: int, headers: dict) -> int:
        """cart: GET /cart."""
        instance = self.cart.serve(i)
        started = time.perf_counter()
        attributes = {
            "http.request.method": "GET",
            "url.path": "/cart",
            "url.scheme": "http",
            "http.route": "/cart",
            "server.address": "cart",
            "server.port": 8080,
        }
        with self.cart.server_span("GET /cart", incoming(headers, False), attributes) as span:
            counter = self.cart_items_added[self.cart.instances.index(instance)]
            category = PRODUCT_CATEGORIES[i % len(PRODUCT_CATEGORIES)]
            if "cardinality" in self.drift:
                for item in range(CART_ITEMS):
                    user = f"user-{i * CART_ITEMS + item:06d}"
                    counter.add(1, {"app.product.category": category, "user.id": user})
            else:
                counter.add(CART_ITEMS, {"app.product.category": category})
            self.cart.log(
                SeverityNumber.INFO, "INFO", "cart viewed", {"event.name": "cart.viewed"}
            )
            span.set_attribute("http.response.status_code", 200)
        self.cart.record_request("GET", "/cart", 200, started)
        return 200

    def checkout_request(self, i: int, headers: dict) -> int:
        """checkout: POST /checkout: prepares the order, quotes shipping, charges payment."""
        instance = self.checkout.serve(i)
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
        }
        parent = incoming(headers, "propagation" in self.drift)
        with self.checkout.server_span("POST /checkout", parent, attributes) as span:
            if "span-operation" not in self.drift:
                with self.checkout.internal_span("prepare order", {"app.order.items": i % 4 + 1}):
                    pass
            quote_attributes = {
                "http.request.method": "POST",
                "server.address": "shipping",
                "server.port": 8080,
                "url.full": "http://shipping:8080/quote",
            }
            with self.checkout.client_span("POST /quote", quote_attributes) as client:
                client.set_attribute("http.response.status_code", self.quote_request(i, outgoing()))
            charge_attributes = {
                "http.request.method": "POST",
                "server.address": "payment",
                "server.port": 8080,
                "url.full": "http://payment:8080/charge",
            }
            with self.checkout.client_span("POST /charge", charge_attributes) as client:
                status = self.charge_request(i, outgoing(), method, currency)
                client.set_attribute("http.response.status_code", status)
                if status >= 500:
                    client.set_attribute("error.type", str(status))
                    client.set_status(Status(StatusCode.ERROR))
            # A failed charge is retried asynchronously: the order is placed either way.
            counter = self.orders_placed[self.checkout.instances.index(instance)]
            counter.add(1, {"app.payment.method": method})
            self.checkout.log(
                SeverityNumber.INFO,
                "INFO",
                f"order order-{i:05d} placed",
                {"event.name": "order.placed", "app.payment.method": method},
            )
            span.set_attribute("http.response.status_code", 200)
        self.checkout.record_request("POST", "/checkout", 200, started)
        return 200

    def quote_request(self, i: int, headers: dict) -> int:
        """shipping: POST /quote."""
        self.shipping.serve(i)
        started = time.perf_counter()
        attributes = {
            "http.request.method": "POST",
            "url.path": "/quote",
            "url.scheme": "http",
            "http.route": "/quote",
            "server.address": "shipping",
            "server.port": 8080,
        }
        with self.shipping.server_span("POST /quote", incoming(headers, False), attributes) as span:
            self.shipping.log(
                SeverityNumber.INFO,
                "INFO",
                "shipping quoted",
                {"event.name": "shipping.quoted", "app.shipping.zip_prefix": f"{i % 90 + 10}"},
            )
            span.set_attribute("http.response.status_code", 200)
        self.shipping.record_request("POST", "/quote", 200, started)
        return 200

    def charge_request(self, i: int, headers: dict, method: str, currency: str) -> int:
        """payment: POST /charge; every ERROR_EVERY-th charge fails."""
        instance = self.payment.serve(i)
        started = time.perf_counter()
        attributes = {
            "http.request.method": "POST",
            "url.path": "/charge",
            "url.scheme": "http",
            "http.route": "/charge",
            "server.address": "payment",
            "server.port": 8080,
            "app.payment.method": method,
        }
        if "span-attribute" in self.drift:
            del attributes["http.route"]
        with self.payment.server_span("POST /charge", incoming(headers, False), attributes) as span:
            processed = {"app.payment.method": method, "app.currency": currency}
            if "label-key" in self.drift:
                del processed["app.currency"]
            if "missing-counter" not in self.drift:
                self.payments_processed[self.payment.instances.index(instance)].add(1, processed)
            if i % ERROR_EVERY == ERROR_EVERY - 1:
                span.set_status(Status(StatusCode.ERROR, "card processor timed out"))
                span.set_attribute("error.type", "PaymentTimeout")
                self.payment.log(
                    SeverityNumber.WARN,
                    "WARN",
                    f"charge failed: card processor timed out for {method}",
                    {"event.name": "payment.failed", "app.payment.method": method},
                )
                status = 503
            else:
                charged = {"app.payment.method": method}
                if "log-event" not in self.drift:
                    charged["event.name"] = "payment.charged"
                self.payment.log(SeverityNumber.INFO, "INFO", "payment charged", charged)
                status = 200
            span.set_attribute("http.response.status_code", status)
        self.payment.record_request("POST", "/charge", status, started)
        return status

    def recommendations(self, i: int) -> None:
        """recommendation: GET /api/recommendations, its own trace."""
        service = self.recommendation
        service.serve(i)
        started = time.perf_counter()
        attributes = {
            "http.request.method": "GET",
            "url.path": "/api/recommendations",
            "url.scheme": "https",
            "http.route": "/api/recommendations",
            "server.address": "shop.example.com",
            "server.port": 443,
        }
        with service.server_span("GET /api/recommendations", Context(), attributes) as span:
            service.log(
                SeverityNumber.INFO,
                "INFO",
                "recommendations served",
                {"event.name": "recommendation.served"},
            )
            span.set_attribute("http.response.status_code", 200)
        service.record_request("GET", "/api/recommendations", 200, started)

    def run(self, requests: int) -> None:
        for i in range(requests):
            self.storefront(i)
            if self.recommendation is not None:
                self.recommendations(i)
            if self.flush_per_request:
                # Every span of the request leaves at once: the receiver then sees parents
                # and children in the same window, whatever the window boundaries.
                for service in self.services.values():
                    service.current.flush_spans()
            if self.request_pause:
                time.sleep(self.request_pause)

    def finish(self) -> None:
        for service in self.services.values():
            for instance in service.instances:
                instance.flush()
        for service in self.services.values():
            for instance in service.instances:
                instance.shutdown()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_otlp_arguments(parser, export_timeout=10.0)
    parser.add_argument("--requests", type=int, default=20, help="storefront requests, in all")
    parser.add_argument("--instances", type=int, default=1, help="instances of every service")
    parser.add_argument(
        "--sampling-threshold",
        default="0",
        help="consistent probability sampling threshold (th), e.g. c for 25%%, 0 for all",
    )
    parser.add_argument(
        "--logs-per-request",
        type=int,
        default=1,
        help="log records each service writes per request it serves",
    )
    parser.add_argument(
        "--drift", action="append", default=[], choices=sorted(DRIFTS), help="repeatable"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of trace and span ids")
    parser.add_argument(
        "--flush-per-request",
        action="store_true",
        help="export each request's spans as soon as it completes",
    )
    parser.add_argument("--metric-interval-ms", type=int, default=500)
    parser.add_argument(
        "--host-subnet", type=int, default=1, help="hosts are ip-10-SUBNET-0-N.internal"
    )
    parser.add_argument("--request-pause-ms", type=int, default=0)
    parser.add_argument(
        "--skip-service", action="append", default=[], choices=SERVICES, help="repeatable"
    )
    args = parser.parse_args(argv)
    if args.instances < 1 or args.requests < 0 or args.logs_per_request < 1:
        parser.error("--instances and --logs-per-request must be at least 1, --requests 0")
    if args.metric_interval_ms < 1 or args.request_pause_ms < 0:
        parser.error("--metric-interval-ms must be at least 1, --request-pause-ms at least 0")
    if args.sampling_threshold != "none":
        threshold_value(args.sampling_threshold)
    for required in ("frontend", "cart", "checkout", "shipping", "payment"):
        if required in args.skip_service:
            parser.error(f"--skip-service: the storefront needs {required}")
    return args


def main(argv) -> int:
    args = parse_args(argv)
    shop = Shop(args)
    started = time.monotonic()
    shop.run(args.requests)
    shop.finish()
    summary = {
        "protocol": args.protocol,
        "environment": args.environment,
        "requests": args.requests,
        "instances": args.instances,
        "sampling_threshold": args.sampling_threshold,
        "drift": sorted(set(args.drift)),
        "seconds": round(time.monotonic() - started, 3),
        "services": {name: service.summary() for name, service in shop.services.items()},
    }
    print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
