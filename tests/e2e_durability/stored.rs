//! Reading back what the store holds, as a [`Tally`] comparable with what the receivers
//! acknowledged, and a readable difference between two tallies.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use std::future::Future;
use std::sync::OnceLock;

use otel_parity_analyzer::store::{
    EnvironmentSummary, MergedFingerprint, Retention, Store, StoreLocation,
};
use otel_parity_testkit::e2e::AnalyzerSite;
use otel_parity_testkit::shop::{OperationCount, ServiceCount, Tally};

/// Runs one store call to completion (the store is async; these tests are not).
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("cannot start a runtime: {e}"))
        })
        .block_on(future)
}

/// Opens the store of `site` directly; only while no analyzer runs on it.
pub fn open_store(site: &AnalyzerSite) -> Store {
    open_store_at(&StoreLocation::Sqlite(site.store_path()))
}

/// Opens the store at `location` directly.
pub fn open_store_at(location: &StoreLocation) -> Store {
    block_on(Store::open(location, Retention::default()))
        .unwrap_or_else(|e| panic!("the store {} does not open: {e}", location.redacted()))
}

/// Every push of `env` in the store, merged; panics when there is none.
pub fn merged(store: &Store, env: &str) -> MergedFingerprint {
    block_on(store.fingerprint(env, 0, u64::MAX))
        .unwrap_or_else(|e| panic!("cannot merge the stored pushes of {env}: {e}"))
        .unwrap_or_else(|| panic!("the store holds no push of environment {env}"))
}

/// Every environment the store holds.
pub fn environments(store: &Store) -> Vec<EnvironmentSummary> {
    block_on(store.environments())
        .unwrap_or_else(|e| panic!("cannot list the stored environments: {e}"))
}

/// The span counts of a merged fingerprint, per operation, and the trace ingestion (spans,
/// requests) per service.
pub fn tally_of(merged: &MergedFingerprint) -> Tally {
    let mut tally = Tally::default();
    for (key, service) in &merged.fingerprint.services {
        for op in &service.span_operations {
            let count = tally
                .operations
                .entry((key.clone(), op.name.clone(), op.kind))
                .or_default();
            count.spans += op.spans;
            count.errors += op.errors;
        }
        let traces = service.ingestion.as_ref().and_then(|i| i.traces.as_ref());
        if let Some(traces) = traces {
            let count = tally.services.entry(key.clone()).or_default();
            count.spans += traces.items;
            count.requests += traces.requests;
        }
    }
    tally
}

/// Every line on which `stored` differs from `accepted`, or `None` when they are equal.
pub fn difference(stored: &Tally, accepted: &Tally) -> Option<String> {
    let mut out = String::new();
    let operations: BTreeSet<_> = stored
        .operations
        .keys()
        .chain(accepted.operations.keys())
        .collect();
    for key in operations {
        let s = stored.operations.get(key).copied().unwrap_or_default();
        let a = accepted.operations.get(key).copied().unwrap_or_default();
        if s != a {
            let (service, name, kind) = key;
            let OperationCount { spans, errors } = s;
            let _ = writeln!(
                out,
                "  {service} {name:?} (kind {kind}): stored {spans} spans / {errors} errors, \
                 acknowledged {} / {} ({:+} spans)",
                a.spans,
                a.errors,
                spans as i64 - a.spans as i64
            );
        }
    }
    let services: BTreeSet<_> = stored
        .services
        .keys()
        .chain(accepted.services.keys())
        .collect();
    for key in services {
        let s = stored.services.get(key).copied().unwrap_or_default();
        let a = accepted.services.get(key).copied().unwrap_or_default();
        if s != a {
            let ServiceCount { spans, requests } = s;
            let _ = writeln!(
                out,
                "  {key} ingestion: stored {spans} spans in {requests} requests, acknowledged \
                 {} in {}",
                a.spans, a.requests
            );
        }
    }
    (!out.is_empty()).then_some(out)
}
