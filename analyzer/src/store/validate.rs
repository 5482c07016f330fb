//! What the store checks before it stores a push: the envelope it relies on
//! (environment, receiver, window, sequence) and a fingerprint a correct
//! receiver under the configured caps could have made.

use otel_parity_model::check::check_fingerprint;
use otel_parity_model::limits::FingerprintLimits;
use otel_parity_proto::v1::PushRequest;
use prost::Message;

use super::StoreError;

/// A push that passed validation, in the form the backends store.
#[derive(Debug, Clone)]
pub(crate) struct ValidPush {
    pub(super) environment: String,
    pub(super) receiver_instance: String,
    pub(super) window_start: i64,
    pub(super) window_end: i64,
    pub(super) sequence: i64,
    pub(super) received_at: i64,
    pub(super) fingerprint: Vec<u8>,
}

/// Checks what the store relies on (the envelope, and a fingerprint that a
/// correct receiver under `limits` could have made, so that nothing read
/// later fails) and prepares the push for storing.
pub(super) fn validate(
    push: &PushRequest,
    received_at: u64,
    limits: &FingerprintLimits,
) -> Result<ValidPush, StoreError> {
    let invalid = |reason: String| StoreError::InvalidPush(describe(push, &reason));
    if push.environment.is_empty() {
        return Err(invalid("environment is empty".into()));
    }
    if push.receiver_instance.is_empty() {
        return Err(invalid("receiver_instance is empty".into()));
    }
    if push.window_end_unix_nano < push.window_start_unix_nano {
        return Err(invalid(format!(
            "window_end_unix_nano {} is before window_start_unix_nano {}",
            push.window_end_unix_nano, push.window_start_unix_nano
        )));
    }
    let Some(fingerprint) = &push.fingerprint else {
        return Err(invalid("fingerprint is missing".into()));
    };
    check_fingerprint(fingerprint, limits).map_err(|e| invalid(format!("fingerprint {e}")))?;
    let stored = |field: &str, value: u64| {
        i64::try_from(value).map_err(|_| {
            invalid(format!(
                "{field} {value} is beyond the year 2262 (largest storable is {})",
                i64::MAX
            ))
        })
    };
    Ok(ValidPush {
        environment: push.environment.clone(),
        receiver_instance: push.receiver_instance.clone(),
        window_start: stored("window_start_unix_nano", push.window_start_unix_nano)?,
        sequence: stored("sequence", push.sequence)?,
        window_end: stored("window_end_unix_nano", push.window_end_unix_nano)?,
        received_at: stored("received_at_unix_nano", received_at)?,
        fingerprint: fingerprint.encode_to_vec(),
    })
}

/// Names the push in an error: which environment, receiver and sequence.
fn describe(push: &PushRequest, reason: &str) -> String {
    format!(
        "push of environment {:?} from receiver {:?}, sequence {}: {reason}",
        push.environment, push.receiver_instance, push.sequence
    )
}
