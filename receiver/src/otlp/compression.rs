//! Request decompression bounded by the decompressed size, so that a small
//! gzip bomb cannot expand past the configured body limit, and charged to the
//! admission budget before the output buffer grows.

use std::io::Read;

use flate2::read::GzDecoder;

use crate::admission::Reservation;

/// How much the output buffer grows at least at a time.
const GROWTH: usize = 64 * 1024;

/// Why a compressed body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecompressError {
    #[error("decompressed body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("body is not valid gzip: {reason}")]
    Corrupt { reason: String },
    #[error("decompressed body does not fit the receiver's budget of bytes in flight")]
    OverBudget,
}

/// Decompresses gzip `body`, refusing more than `limit` bytes of output, and
/// growing `reservation` by what the output buffer takes before it takes it.
pub fn gunzip_within(
    body: &[u8],
    limit: usize,
    reservation: &mut Reservation,
) -> Result<Vec<u8>, DecompressError> {
    let mut decoder = GzDecoder::new(body);
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let read = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(DecompressError::Corrupt {
                    reason: e.to_string(),
                });
            }
        };
        let needed = out.len() + read;
        if needed > limit {
            return Err(DecompressError::TooLarge { limit });
        }
        if needed > out.capacity() {
            // Grow by half again (at least GROWTH), never past the limit.
            let step = (out.capacity() / 2).max(GROWTH);
            let capacity = needed.max(out.capacity() + step).min(limit);
            if !reservation.grow(capacity - out.capacity()) {
                return Err(DecompressError::OverBudget);
            }
            out.reserve_exact(capacity - out.len());
        }
        out.extend_from_slice(&chunk[..read]);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::admission::InflightBudget;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn unlimited() -> Reservation {
        InflightBudget::new(usize::MAX, Duration::from_secs(1))
            .try_reserve(0)
            .unwrap()
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100_000);
        let mut reservation = unlimited();
        assert_eq!(
            gunzip_within(&bomb, 1 << 20, &mut reservation),
            Err(DecompressError::TooLarge { limit: 1 << 20 })
        );
        assert!(reservation.bytes() <= 1 << 20, "{}", reservation.bytes());
    }

    #[test]
    fn body_within_the_limit_round_trips_and_is_charged_its_buffer() {
        let mut reservation = unlimited();
        assert_eq!(
            gunzip_within(&gzip(b"spans"), 5, &mut reservation).unwrap(),
            b"spans"
        );
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut reservation = unlimited();
        let out = gunzip_within(&gzip(&data), 4 << 20, &mut reservation).unwrap();
        assert_eq!(out, data);
        assert_eq!(reservation.bytes(), out.capacity());
        assert!(out.capacity() < data.len() * 3 / 2, "{}", out.capacity());
    }

    #[test]
    fn output_over_the_budget_is_refused_before_it_is_allocated() {
        let budget = InflightBudget::new(1 << 20, Duration::from_secs(1));
        let mut reservation = budget.try_reserve(0).unwrap();
        let data = vec![7u8; 2 << 20];
        assert_eq!(
            gunzip_within(&gzip(&data), 4 << 20, &mut reservation),
            Err(DecompressError::OverBudget)
        );
        assert!(budget.used() <= 1 << 20);
        drop(reservation);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn truncated_gzip_is_corrupt() {
        let data = gzip(&[7u8; 10_000]);
        assert!(matches!(
            gunzip_within(&data[..data.len() / 2], 1 << 20, &mut unlimited()),
            Err(DecompressError::Corrupt { .. })
        ));
    }
}
