//! The analyzer's push path apart from the store: length-delimited `parity.v1.PushRequest`s
//! decoded, validated as the analyzer validates them (the envelope, every sketch), merged per
//! environment with the accumulator and with pairwise merges (the two must agree on every
//! count), compared both ways and rendered in every format. The store's insert is covered by
//! the store's own tests.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otel_parity_compare::CompareOptions;
use otel_parity_fuzz::{compare_and_render, today};
use otel_parity_model::accumulate::Accumulator;
use otel_parity_model::check::check_fingerprint;
use otel_parity_model::limits::FingerprintLimits;
use otel_parity_model::merge::merge_environment;
use otel_parity_proto::v1 as pb;
use prost::Message;

/// Enough pushes for several receivers of two environments.
const MAX_PUSHES: usize = 8;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let mut baseline = Merged::default();
    let mut candidate = Merged::default();
    let mut baseline_name: Option<String> = None;
    for _ in 0..MAX_PUSHES {
        if rest.is_empty() {
            break;
        }
        let Ok(push) = pb::PushRequest::decode_length_delimited(&mut rest) else {
            return;
        };
        let Some(fingerprint) = valid(push.clone()) else {
            continue;
        };
        let name = baseline_name.get_or_insert_with(|| push.environment.clone());
        let into = if *name == push.environment {
            &mut baseline
        } else {
            &mut candidate
        };
        into.add(fingerprint);
    }
    let (baseline, candidate) = (baseline.finish(), candidate.finish());
    let options = CompareOptions::new(today());
    compare_and_render(&baseline, &candidate, &options);
    compare_and_render(&candidate, &baseline, &options);
});

/// The fingerprint of a push the analyzer would take: environment, receiver and window set
/// and ordered, the fingerprint within the default caps with every sketch and count sound
/// (the analyzer's check at the door).
fn valid(push: pb::PushRequest) -> Option<pb::EnvironmentFingerprint> {
    if push.environment.is_empty()
        || push.receiver_instance.is_empty()
        || push.window_end_unix_nano < push.window_start_unix_nano
    {
        return None;
    }
    let fingerprint = push.fingerprint?;
    check_fingerprint(&fingerprint, &FingerprintLimits::default()).ok()?;
    Some(fingerprint)
}

/// One environment's pushes merged both ways the analyzer merges: the accumulator (sketches
/// kept live) and one pairwise merge per push.
#[derive(Default)]
struct Merged {
    accumulator: Accumulator,
    pairwise: Option<pb::EnvironmentFingerprint>,
}

impl Merged {
    fn add(&mut self, fingerprint: pb::EnvironmentFingerprint) {
        match self.pairwise.as_mut() {
            Some(merged) => {
                if let Err(error) = merge_environment(merged, &fingerprint) {
                    panic!("a push that passed the check does not merge pairwise: {error}");
                }
            }
            None => self.pairwise = Some(fingerprint.clone()),
        }
        if let Err(error) = self.accumulator.add(fingerprint) {
            panic!("a push whose sketches passed the check does not merge: {error}");
        }
    }

    /// The accumulator's fingerprint, after checking that it holds the same counts as the
    /// pairwise merge (sketch estimates may differ within the sketches' error).
    fn finish(self) -> pb::EnvironmentFingerprint {
        let accumulated = self.accumulator.finish().unwrap_or_default();
        let pairwise = without_sketches(self.pairwise.unwrap_or_default());
        let counted = without_sketches(accumulated.clone());
        // Compared as bytes: a NaN bucket bound is not equal to itself.
        assert!(
            counted.encode_to_vec() == pairwise.encode_to_vec(),
            "the accumulator and pairwise merges disagree:\n{counted:?}\n{pairwise:?}"
        );
        accumulated
    }
}

/// `fingerprint` with its sketches and the values estimated from them cleared.
fn without_sketches(mut fingerprint: pb::EnvironmentFingerprint) -> pb::EnvironmentFingerprint {
    for service in fingerprint.services.values_mut() {
        if let Some(resource) = service.resource.as_mut() {
            resource.instances = None;
        }
        for metric in service.metrics.values_mut() {
            metric.series = None;
            for key in metric.attribute_keys.values_mut() {
                key.values = None;
            }
        }
        for operation in &mut service.span_operations {
            operation.duration = None;
        }
    }
    fingerprint
}
