//! Fingerprints this process has just stored, still decoded, for the next
//! roll-up pass: the push service already decoded each one (tonic does), so
//! the pass takes it from here instead of decoding the stored bytes again.
//!
//! Only a cache: the stored bytes stay the truth. A push another replica
//! rolls up, one pushed before a restart, or one that did not fit is decoded
//! from the store as before; the decoded value is the one whose encoding was
//! stored, so a pass merges the same fingerprint either way.

use std::collections::BTreeMap;
use std::sync::Mutex;

use otel_parity_proto::v1::EnvironmentFingerprint;

/// Encoded bytes of the fingerprints held, at most: decoded, a fingerprint
/// takes a few times its encoded size, so this bounds the handoff to tens
/// of MiB (about a thousand pushes of 16 KB). Past it, pushes are decoded
/// again when rolled up: correct, only slower.
const CAPACITY_BYTES: usize = 16 << 20;

/// Decoded fingerprints by pending-push id, with their encoded sizes.
#[derive(Debug, Default)]
pub(super) struct Handoff {
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    decoded: BTreeMap<i64, (EnvironmentFingerprint, usize)>,
    bytes: usize,
}

impl Handoff {
    /// Keeps `fingerprint` (`encoded_len` bytes as stored), stored as
    /// pending push `id`, for the roll-up.
    pub(super) fn put(&self, id: i64, fingerprint: EnvironmentFingerprint, encoded_len: usize) {
        let mut held = self.lock();
        if held.bytes + encoded_len <= CAPACITY_BYTES {
            held.bytes += encoded_len;
            held.decoded.insert(id, (fingerprint, encoded_len));
        }
    }

    /// Takes the decoded fingerprints of `ids` (a roll-up pass's pending
    /// pushes, in id order) that are here. Entries below the first of them
    /// are dropped: a pass reads the oldest pending pushes it can lock, so
    /// an older one is no longer pending or is in another replica's pass.
    pub(super) fn take(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> BTreeMap<i64, EnvironmentFingerprint> {
        let mut held = self.lock();
        let mut taken = BTreeMap::new();
        let mut first = None;
        for id in ids {
            first.get_or_insert(id);
            if let Some((fingerprint, bytes)) = held.decoded.remove(&id) {
                held.bytes -= bytes;
                taken.insert(id, fingerprint);
            }
        }
        if let Some(first) = first {
            let kept = held.decoded.split_off(&first);
            let dropped = std::mem::replace(&mut held.decoded, kept);
            held.bytes -= dropped.values().map(|(_, bytes)| bytes).sum::<usize>();
        }
        taken
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        // A panic while holding the lock leaves a consistent map (inserts
        // and removes are whole), so a poisoned lock is still usable.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(name: &str) -> EnvironmentFingerprint {
        EnvironmentFingerprint {
            services: [(name.to_owned(), Default::default())].into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_pass_takes_what_is_here_and_drops_what_is_older() {
        let handoff = Handoff::default();
        for id in [3, 5, 7, 9] {
            handoff.put(id, fingerprint(&format!("s{id}")), 100);
        }
        let taken = handoff.take([5, 6, 9]);
        assert_eq!(taken.keys().copied().collect::<Vec<_>>(), [5, 9]);
        assert!(taken[&5].services.contains_key("s5"));
        // 3 was older than the pass (rolled up elsewhere): dropped; 7 stays.
        assert_eq!(
            handoff.take([3, 7]).keys().copied().collect::<Vec<_>>(),
            [7]
        );
        assert!(handoff.take([1]).is_empty());
        assert_eq!(handoff.lock().bytes, 0);
    }

    #[test]
    fn holds_at_most_its_capacity_in_bytes_and_frees_what_it_drops() {
        let handoff = Handoff::default();
        let size = CAPACITY_BYTES / 100;
        for id in 0..110 {
            handoff.put(id, EnvironmentFingerprint::default(), size);
        }
        assert_eq!(handoff.lock().bytes, 100 * size);
        // A pass starting at 50 takes 50..60 and drops 0..50.
        assert_eq!(handoff.take(50..60).len(), 10);
        assert_eq!(handoff.lock().bytes, 40 * size);
        // Room again: a new push is held.
        handoff.put(200, EnvironmentFingerprint::default(), size);
        let taken = handoff.take(60..=200);
        assert_eq!(taken.len(), 41);
        assert_eq!(taken.keys().next_back(), Some(&200));
        assert_eq!(handoff.lock().bytes, 0);
    }
}
