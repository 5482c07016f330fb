//! Request decompression bounded by the decompressed size, so that a small
//! gzip bomb cannot expand past the configured body limit.

use std::io::Read;

use flate2::read::GzDecoder;

/// Why a compressed body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecompressError {
    #[error("decompressed body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("body is not valid gzip: {reason}")]
    Corrupt { reason: String },
}

/// Decompresses gzip `body`, refusing more than `limit` bytes of output.
pub fn gunzip_bounded(body: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let mut decoder = GzDecoder::new(body).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| DecompressError::Corrupt {
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(DecompressError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100_000);
        assert_eq!(
            gunzip_bounded(&bomb, 1 << 20),
            Err(DecompressError::TooLarge { limit: 1 << 20 })
        );
    }

    #[test]
    fn body_within_the_limit_round_trips() {
        assert_eq!(gunzip_bounded(&gzip(b"spans"), 5).unwrap(), b"spans");
    }

    #[test]
    fn truncated_gzip_is_corrupt() {
        let data = gzip(&[7u8; 10_000]);
        assert!(matches!(
            gunzip_bounded(&data[..data.len() / 2], 1 << 20),
            Err(DecompressError::Corrupt { .. })
        ));
    }
}
