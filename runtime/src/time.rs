//! The wall clock as Unix time, the way OTLP and the push protocol carry it
//! (nanoseconds in a `u64`). Out-of-range clocks saturate rather than wrap:
//! 0 before 1970, `u64::MAX` after 2554.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds in a day, for turning Unix nanoseconds into calendar days.
pub const NANOS_PER_DAY: u64 = 86_400_000_000_000;

/// `time` in Unix epoch nanoseconds, saturating at both ends.
pub fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    })
}

/// Now, in Unix epoch nanoseconds (saturating, see [`unix_nanos`]).
pub fn unix_nanos_now() -> u64 {
    unix_nanos(SystemTime::now())
}

/// Whole days since 1970-01-01 (UTC) at Unix time `nanos`.
pub fn unix_days(nanos: u64) -> i64 {
    // u64::MAX / NANOS_PER_DAY is 213,503: always fits.
    i64::try_from(nanos / NANOS_PER_DAY).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn clocks_before_the_epoch_saturate_to_zero() {
        let before = UNIX_EPOCH.checked_sub(Duration::from_secs(1)).unwrap();
        assert_eq!(unix_nanos(before), 0);
        assert_eq!(unix_nanos(UNIX_EPOCH), 0);
    }

    #[test]
    fn clocks_past_2554_saturate_to_the_maximum() {
        let year_3000 = UNIX_EPOCH + Duration::from_secs(32_503_680_000);
        assert_eq!(unix_nanos(year_3000), u64::MAX);
        let just_in_range = UNIX_EPOCH + Duration::from_nanos(u64::MAX);
        assert_eq!(unix_nanos(just_in_range), u64::MAX);
        let one_second = UNIX_EPOCH + Duration::from_secs(1);
        assert_eq!(unix_nanos(one_second), 1_000_000_000);
    }

    #[test]
    fn days_count_whole_days_since_1970() {
        assert_eq!(unix_days(0), 0);
        assert_eq!(unix_days(NANOS_PER_DAY - 1), 0);
        // 2026-11-01T12:00:00Z is day 20,758.
        assert_eq!(unix_days(1_793_534_400 * 1_000_000_000), 20_758);
        assert_eq!(unix_days(u64::MAX), 213_503);
    }

    #[test]
    fn now_is_after_2024() {
        // 2024-01-01T00:00:00Z.
        assert!(unix_nanos_now() > 1_704_067_200 * 1_000_000_000);
    }
}
