//! The fingerprint's bounds, asserted on sizes and counts, never on time:
//! cardinality estimates stay accurate and memory stays flat under a
//! cardinality explosion, and fingerprinting allocates nothing per span or
//! data point once the names are known.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use otel_parity_receiver::{EngineConfig, Fingerprinter, Signal};
use otel_parity_testkit::shop::{Load, Shop};
use prost::Message;

/// Counts allocations made by the current thread while counting is on.
struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwards the caller's layout to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwards a block allocated by `alloc` above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn one_million_series_estimate_within_two_percent_with_flat_memory() {
    let engine = Fingerprinter::new(EngineConfig::default());
    let batch = 20_000;
    let mut memory_after_first_batch = 0;
    for first in (0..1_000_000).step_by(batch) {
        let request = Shop::prod()
            .cardinality_explosion(first, batch as u64)
            .encode_to_vec();
        engine
            .ingest(Signal::Metrics, &request, request.len())
            .unwrap();
        if first == 0 {
            memory_after_first_batch = engine.memory_bytes();
        }
    }
    let snapshot = engine.snapshot();
    let shape = &snapshot.environments["prod"].services["shop/cart"].metrics["app.cart.requests"];
    assert_eq!(shape.data_points, 1_000_000);
    let series = shape.series.as_ref().unwrap().estimate;
    assert!(
        (series - 1e6).abs() / 1e6 < 0.02,
        "series estimate {series}"
    );
    let users = shape.attribute_keys["user.id"]
        .values
        .as_ref()
        .unwrap()
        .estimate;
    assert!(
        (users - 1e6).abs() / 1e6 < 0.04,
        "user.id value estimate {users}"
    );
    let routes = shape.attribute_keys["http.route"]
        .values
        .as_ref()
        .unwrap()
        .estimate;
    assert_eq!(routes, 1.0);

    // Sketches reach their fixed dense size long before a million series:
    // 20 thousand series and a million hold the same memory, under 32 KiB.
    let memory = engine.memory_bytes();
    assert!(memory <= 32 * 1024, "fingerprint holds {memory} bytes");
    assert_eq!(memory, memory_after_first_batch);
    let encoded = snapshot.encode_to_vec().len();
    assert!(encoded <= 32 * 1024, "snapshot encodes to {encoded} bytes");
}

#[test]
fn fingerprinting_spans_allocates_nothing_per_span_once_names_are_known() {
    let engine = Fingerprinter::new(EngineConfig::default());
    let traces = |spans: usize, seed: u64| {
        let load = Load {
            spans,
            ..Load::BENCH
        };
        Shop::prod().load_traces(&load, seed).encode_to_vec()
    };
    // Seeds 1, 9 and 17 are the same service with new ids and values.
    let warm_up = traces(2048, 1);
    engine
        .ingest(Signal::Traces, &warm_up, warm_up.len())
        .unwrap();
    let small = traces(512, 9);
    let large = traces(4096, 17);
    let small_allocations = allocations(|| {
        engine.ingest(Signal::Traces, &small, small.len()).unwrap();
    });
    let large_allocations = allocations(|| {
        engine.ingest(Signal::Traces, &large, large.len()).unwrap();
    });
    // What allocates is per request or amortized (span scratch growth, a
    // histogram widening for a new longest span), never per span.
    assert!(
        small_allocations <= 8,
        "{small_allocations} allocations for 512 spans"
    );
    assert!(
        large_allocations <= 8,
        "{large_allocations} allocations for 4096 spans"
    );
}

#[test]
fn fingerprinting_data_points_allocates_nothing_per_point_once_series_are_known() {
    let engine = Fingerprinter::new(EngineConfig::default());
    let metrics = |seed: u64| {
        let load = Load {
            metrics: 20,
            points: 200,
            ..Load::BENCH
        };
        Shop::prod().load_metrics(&load, seed).encode_to_vec()
    };
    // Seeds 1 and 9 are the same service with new values.
    let warm_up = metrics(1);
    engine
        .ingest(Signal::Metrics, &warm_up, warm_up.len())
        .unwrap();
    let again = metrics(9);
    let points = allocations(|| {
        engine.ingest(Signal::Metrics, &again, again.len()).unwrap();
    });
    assert!(points <= 8, "{points} allocations for 4000 data points");
}
