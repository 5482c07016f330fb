//! Durations in config files written the way people write them (`10s`,
//! `1m30s`, `7days`), as the Collector's configs do.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Reads a humantime duration; use as
/// `#[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("invalid duration {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Interval {
        #[serde(deserialize_with = "deserialize")]
        every: Duration,
    }

    #[test]
    fn human_durations_are_read_and_bad_ones_named() {
        let read: Interval = serde_yaml_ng::from_str("every: 1m30s").unwrap();
        assert_eq!(read.every, Duration::from_secs(90));
        let error = serde_yaml_ng::from_str::<Interval>("every: soon")
            .unwrap_err()
            .to_string();
        assert!(error.contains("invalid duration \"soon\""), "{error}");
    }
}
