//! Admission control: one budget of request bytes in flight across both OTLP
//! listeners, and a cap on gRPC calls in flight across every connection. A request reserves its bytes before they are read (its declared
//! Content-Length or gRPC frame length) and grows its reservation before each
//! allocation that decompression or conversion makes; a reservation that does
//! not fit is refused with OTLP's retryable answer instead of growing memory.
//! Reservations are given back when the request is done.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The budget shared by every request of the receiver.
#[derive(Debug)]
pub struct InflightBudget {
    limit: usize,
    used: AtomicUsize,
    retry_after: Duration,
}

impl InflightBudget {
    /// A budget of `limit` bytes whose refusals ask clients to wait `retry_after`.
    pub fn new(limit: usize, retry_after: Duration) -> Arc<Self> {
        Arc::new(InflightBudget {
            limit,
            used: AtomicUsize::new(0),
            retry_after,
        })
    }

    /// Bytes the budget holds.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// How long a refused client is asked to wait.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Reserves `bytes`, or `None` when they do not fit beside what is reserved.
    pub fn try_reserve(self: &Arc<Self>, bytes: usize) -> Option<Reservation> {
        let mut reservation = Reservation {
            budget: Arc::clone(self),
            bytes: 0,
        };
        reservation.grow(bytes).then_some(reservation)
    }

    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// Bytes of the budget held by one request; given back on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<InflightBudget>,
    bytes: usize,
}

impl Reservation {
    /// Takes `more` bytes too; false (and nothing taken) when they do not fit.
    pub fn grow(&mut self, more: usize) -> bool {
        if more == 0 {
            return true;
        }
        let taken = self.budget.take(more);
        if taken {
            self.bytes += more;
        }
        taken
    }

    /// Gives `less` bytes back (a buffer that was freed).
    pub fn shrink(&mut self, less: usize) {
        let less = less.min(self.bytes);
        self.budget.give_back(less);
        self.bytes -= less;
    }

    /// Grows or shrinks to exactly `bytes`; false when growing did not fit.
    pub fn resize(&mut self, bytes: usize) -> bool {
        if bytes >= self.bytes {
            self.grow(bytes - self.bytes)
        } else {
            self.shrink(self.bytes - bytes);
            true
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The budget this reservation belongs to.
    pub fn budget(&self) -> &InflightBudget {
        &self.budget
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

/// The cap on gRPC calls (HTTP/2 streams) in flight across every connection
/// of the receiver; each connection has its own cap too
/// (`connections.max_concurrent_streams`), which HTTP/2 enforces itself.
#[derive(Debug)]
pub struct StreamCap {
    limit: usize,
    open: AtomicUsize,
}

impl StreamCap {
    /// At most `limit` calls in flight.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(StreamCap {
            limit,
            open: AtomicUsize::new(0),
        })
    }

    /// The cap.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Calls in flight now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// A place for one more call, or `None` at the cap.
    pub fn try_open(self: &Arc<Self>) -> Option<StreamPermit> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |open| {
                (open < self.limit).then_some(open + 1)
            })
            .ok()?;
        Some(StreamPermit {
            cap: Arc::clone(self),
        })
    }
}

/// One call's place under the [`StreamCap`]; given back on drop.
#[derive(Debug)]
pub struct StreamPermit {
    cap: Arc<StreamCap>,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.cap.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_past_the_limit_are_refused_until_others_give_back() {
        let budget = InflightBudget::new(100, Duration::from_secs(1));
        let first = budget.try_reserve(60).unwrap();
        assert!(budget.try_reserve(41).is_none());
        let mut second = budget.try_reserve(40).unwrap();
        assert_eq!(budget.used(), 100);
        assert!(!second.grow(1));
        assert_eq!(second.bytes(), 40);
        drop(first);
        assert_eq!(budget.used(), 40);
        assert!(second.grow(50));
        second.shrink(70);
        assert_eq!((second.bytes(), budget.used()), (20, 20));
        assert!(second.resize(100));
        assert!(!second.resize(101));
        assert!(second.resize(5));
        drop(second);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn calls_past_the_stream_cap_are_refused_until_one_ends() {
        let cap = StreamCap::new(2);
        let first = cap.try_open().unwrap();
        let _second = cap.try_open().unwrap();
        assert!(cap.try_open().is_none());
        assert_eq!(cap.open(), 2);
        drop(first);
        assert!(cap.try_open().is_some());
        assert_eq!(cap.open(), 1);
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let budget = InflightBudget::new(1000, Duration::from_secs(1));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let budget = Arc::clone(&budget);
                std::thread::spawn(move || {
                    let mut peak = 0;
                    for _ in 0..10_000 {
                        if let Some(held) = budget.try_reserve(300) {
                            peak = peak.max(budget.used());
                            drop(held);
                        }
                    }
                    peak
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().unwrap() <= 1000);
        }
        assert_eq!(budget.used(), 0);
    }
}
