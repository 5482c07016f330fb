//! What both OTLP listeners share: the engine, admission control (the budget
//! of bytes in flight, the cap on gRPC calls) and the counters. Every request ends here exactly once, as accepted (fingerprinted)
//! or refused with a reason, counted in the snapshot's `received` section and
//! in the receiver's `/metrics` alike.

use std::sync::Arc;

use crate::admission::{InflightBudget, Reservation, StreamCap, StreamPermit};
use crate::fingerprint::MalformedRequest;
use crate::telemetry::{Protocol, ReceiverTelemetry, Refusal};
use crate::{Fingerprinter, IngestOutcome, Signal};

/// The OTLP front door of one receiver.
#[derive(Clone)]
pub struct Intake {
    engine: Arc<Fingerprinter>,
    budget: Arc<InflightBudget>,
    streams: Arc<StreamCap>,
    telemetry: Arc<ReceiverTelemetry>,
}

impl Intake {
    /// The front door of `engine`, admitting requests within `budget` and
    /// gRPC calls within `streams`, and counting every outcome in
    /// `telemetry` too.
    pub fn new(
        engine: Arc<Fingerprinter>,
        budget: Arc<InflightBudget>,
        streams: Arc<StreamCap>,
        telemetry: Arc<ReceiverTelemetry>,
    ) -> Self {
        Intake {
            engine,
            budget,
            streams,
            telemetry,
        }
    }

    /// The cap on gRPC calls in flight.
    pub fn streams(&self) -> &Arc<StreamCap> {
        &self.streams
    }

    /// A place for one gRPC call under the cap, held until it is answered.
    pub fn open_stream(&self) -> Option<StreamPermit> {
        self.streams.try_open()
    }

    /// The admission budget.
    pub fn budget(&self) -> &Arc<InflightBudget> {
        &self.budget
    }

    /// Reserves `bytes` of the budget for a request about to be read.
    pub fn admit(&self, bytes: usize) -> Option<Reservation> {
        self.budget.try_reserve(bytes)
    }

    /// Fingerprints one decompressed protobuf request of `signal` that was
    /// `wire` bytes as received; a malformed one is counted as refused.
    pub fn ingest(
        &self,
        signal: Signal,
        protocol: Protocol,
        request: &[u8],
        wire: usize,
    ) -> Result<IngestOutcome, MalformedRequest> {
        match self.engine.ingest(signal, request, wire) {
            Ok(outcome) => Ok(outcome),
            Err(malformed) => {
                // The engine counted the rejection in its own counters.
                self.telemetry
                    .metrics()
                    .refused(signal, protocol, Refusal::Malformed, wire as u64);
                Err(malformed)
            }
        }
    }

    /// Counts an accepted request whose outcome is final (after `ingest`,
    /// with items rejected before the engine added to it); `decoded` is the
    /// size the engine walked.
    pub fn accepted(
        &self,
        signal: Signal,
        protocol: Protocol,
        outcome: &IngestOutcome,
        wire: usize,
        decoded: usize,
    ) {
        self.telemetry.metrics().accepted(
            signal,
            protocol,
            outcome.accepted,
            outcome.rejected,
            wire as u64,
            decoded as u64,
        );
    }

    /// Counts items rejected before they reached the engine (OTLP/JSON items
    /// that could not be converted).
    pub fn reject_items(&self, signal: Signal, items: u64) {
        self.engine.reject_items(signal, items);
    }

    /// Counts a request refused before it reached the engine, of which
    /// `wire` bytes were read.
    pub fn refuse(&self, signal: Signal, protocol: Protocol, reason: Refusal, wire: usize) {
        self.engine.reject_request(signal, wire);
        self.telemetry
            .metrics()
            .refused(signal, protocol, reason, wire as u64);
    }
}
