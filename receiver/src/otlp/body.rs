//! Reading an OTLP/HTTP request body within the size limit and the
//! admission budget: the buffer is charged to the budget before it grows
//! (a declared Content-Length is reserved whole before the first byte).

use axum::body::Body;
use http_body_util::BodyExt;

use crate::admission::Reservation;

/// How much the buffer of a body without a declared length grows at least.
const GROWTH: usize = 64 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// More than the limit.
    TooLarge,
    /// More than the budget lets the receiver hold now.
    OverBudget,
    /// The connection broke off or the framing was wrong.
    Broken(String),
}

/// The body's bytes and how many were read; or why it was not read whole
/// and how many bytes were read until then. `declared` (the Content-Length,
/// at most `limit`) must already be reserved in `reservation`.
pub async fn read_body(
    mut body: Body,
    limit: usize,
    declared: Option<usize>,
    reservation: &mut Reservation,
) -> Result<(Vec<u8>, usize), (BodyError, usize)> {
    let mut out: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| (BodyError::Broken(e.to_string()), out.len()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let needed = out.len() + data.len();
        if needed > limit {
            return Err((BodyError::TooLarge, needed));
        }
        if needed > out.capacity() {
            let step = (out.capacity() / 2).max(GROWTH);
            let capacity = needed.max(out.capacity() + step).min(limit);
            if !reservation.grow(capacity - out.capacity()) {
                return Err((BodyError::OverBudget, needed));
            }
            out.reserve_exact(capacity - out.len());
        }
        out.extend_from_slice(&data);
    }
    let read = out.len();
    Ok((out, read))
}
