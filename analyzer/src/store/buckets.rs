//! Time buckets of rollups: each push is merged into the minute and the hour
//! its window starts in. A range is read as whole hours where an hour lies
//! inside it and as minutes at its edges, so a report merges at most
//! `hours + 120` rollups whatever the number of pushes.

/// A rollup's bucket length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// One-minute buckets: the edges of a range, kept for `minute_retention`.
    Minute,
    /// One-hour buckets: the body of long ranges, kept for `retention`.
    Hour,
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

impl Level {
    /// Both levels, finest first.
    pub const ALL: [Level; 2] = [Level::Minute, Level::Hour];

    /// The bucket length in Unix nanoseconds.
    pub const fn nanos(self) -> u64 {
        match self {
            Level::Minute => 60 * NANOS_PER_SECOND,
            Level::Hour => 3_600 * NANOS_PER_SECOND,
        }
    }

    /// The bucket length in seconds: the value stored in the `level` column.
    pub const fn seconds(self) -> i64 {
        match self {
            Level::Minute => 60,
            Level::Hour => 3_600,
        }
    }

    /// The level stored as `seconds`, if it is one.
    pub fn from_seconds(seconds: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.seconds() == seconds)
    }

    /// Start of the bucket that holds `unix_nano`.
    pub const fn bucket_of(self, unix_nano: u64) -> u64 {
        unix_nano - unix_nano % self.nanos()
    }
}

/// Which rollups cover `[since, until)`: bucket starts per level, each range
/// half-open. Every instant of the range falls in exactly one chosen bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangePlan {
    /// Hour buckets whose starts lie in this range (empty when none).
    pub hours: std::ops::Range<u64>,
    /// Minute buckets whose starts lie in these ranges (the edges).
    pub minutes: Vec<std::ops::Range<u64>>,
}

impl RangePlan {
    /// The bucket starts to read, each with its level: the hours, then the
    /// minutes at the edges, leaving out empty ranges.
    pub fn ranges(&self) -> impl Iterator<Item = (Level, &std::ops::Range<u64>)> {
        std::iter::once((Level::Hour, &self.hours))
            .chain(self.minutes.iter().map(|range| (Level::Minute, range)))
            .filter(|(_, range)| range.start < range.end)
    }

    /// The plan for `[since, until)`. Hours that lie wholly inside the range
    /// are read as hours; what is left at either edge is read as minutes,
    /// unless those minutes are older than `minutes_kept_from` (already
    /// deleted), in which case that edge's whole hour is read instead.
    pub fn new(since: u64, until: u64, minutes_kept_from: u64) -> RangePlan {
        if until <= since {
            return RangePlan {
                hours: 0..0,
                minutes: Vec::new(),
            };
        }
        let hour = Level::Hour.nanos();
        let minute = Level::Minute.nanos();
        let first_minute = Level::Minute.bucket_of(since);
        // Last bucket that overlaps the range starts before `until`.
        let end_minute = Level::Minute.bucket_of(until - 1).saturating_add(minute);
        let mut hours_start = Level::Hour.bucket_of(since);
        if hours_start < first_minute {
            hours_start = hours_start.saturating_add(hour);
        }
        let hours_end = Level::Hour.bucket_of(end_minute);
        let mut minutes = Vec::new();
        if hours_start >= hours_end {
            // No whole hour inside: minutes only (or the hour, if gone).
            if first_minute >= minutes_kept_from {
                minutes.push(first_minute..end_minute);
                return RangePlan {
                    hours: 0..0,
                    minutes,
                };
            }
            let start = Level::Hour.bucket_of(since);
            let end = Level::Hour.bucket_of(end_minute - 1).saturating_add(hour);
            return RangePlan {
                hours: start..end,
                minutes,
            };
        }
        let mut hours = hours_start..hours_end;
        if first_minute < hours_start {
            if first_minute >= minutes_kept_from {
                minutes.push(first_minute..hours_start);
            } else {
                hours.start -= hour;
            }
        }
        if hours_end < end_minute {
            if hours_end >= minutes_kept_from {
                minutes.push(hours_end..end_minute);
            } else {
                hours.end += hour;
            }
        }
        RangePlan { hours, minutes }
    }

    /// Buckets the plan reads.
    pub fn bucket_count(&self) -> u64 {
        let hours = (self.hours.end - self.hours.start) / Level::Hour.nanos();
        let minutes: u64 = self
            .minutes
            .iter()
            .map(|r| (r.end - r.start) / Level::Minute.nanos())
            .sum();
        hours + minutes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60 * NANOS_PER_SECOND;
    const HOUR: u64 = 60 * MIN;
    /// 2026-11-30T10:00:00Z.
    const T0: u64 = 1_795_946_400 * NANOS_PER_SECOND;

    #[test]
    fn buckets_start_at_whole_minutes_and_hours() {
        let t = T0 + 17 * MIN + 42 * NANOS_PER_SECOND + 5;
        assert_eq!(Level::Minute.bucket_of(t), T0 + 17 * MIN);
        assert_eq!(Level::Hour.bucket_of(t), T0);
        assert_eq!(Level::from_seconds(3600), Some(Level::Hour));
        assert_eq!(Level::from_seconds(61), None);
    }

    #[test]
    fn an_hour_ending_now_is_minutes_at_both_edges_around_no_whole_hour() {
        let now = T0 + 17 * MIN + 30 * NANOS_PER_SECOND;
        let plan = RangePlan::new(now - HOUR, now, 0);
        // 09:17:30 .. 10:17:30: no whole hour inside; 61 minutes.
        assert_eq!(plan.hours, 0..0);
        assert_eq!(plan.minutes, vec![T0 - HOUR + 17 * MIN..T0 + 18 * MIN]);
        assert_eq!(plan.bucket_count(), 61);
    }

    #[test]
    fn a_day_is_whole_hours_plus_minutes_at_the_edges() {
        let now = T0 + 17 * MIN + 30 * NANOS_PER_SECOND;
        let plan = RangePlan::new(now - 24 * HOUR, now, 0);
        assert_eq!(plan.hours, T0 - 23 * HOUR..T0);
        assert_eq!(
            plan.minutes,
            vec![T0 - 24 * HOUR + 17 * MIN..T0 - 23 * HOUR, T0..T0 + 18 * MIN]
        );
        assert_eq!(plan.bucket_count(), 23 + 43 + 18);
    }

    #[test]
    fn edges_older_than_the_kept_minutes_are_read_as_whole_hours() {
        let now = T0 + 17 * MIN;
        let plan = RangePlan::new(now - 24 * HOUR, now, T0 - 3 * HOUR);
        assert_eq!(plan.hours, T0 - 24 * HOUR..T0);
        assert_eq!(plan.minutes, vec![T0..T0 + 17 * MIN]);
        let gone = RangePlan::new(T0 - 10 * HOUR + MIN, T0 - 10 * HOUR + 5 * MIN, T0);
        assert_eq!(gone.hours, T0 - 10 * HOUR..T0 - 9 * HOUR);
        assert!(gone.minutes.is_empty());
    }

    #[test]
    fn every_instant_of_the_range_is_in_exactly_one_bucket() {
        for (since_min, len_min, kept) in [(0, 61, 0), (59, 1, 0), (5, 300, 0), (5, 300, 3 * HOUR)]
        {
            let since = T0 + since_min * MIN + 7;
            let until = since + len_min * MIN;
            let plan = RangePlan::new(since, until, T0 + kept);
            let mut t = Level::Minute.bucket_of(since);
            while t < until {
                let in_hours = plan.hours.contains(&Level::Hour.bucket_of(t));
                let in_minutes = plan.minutes.iter().filter(|r| r.contains(&t)).count();
                assert_eq!(
                    usize::from(in_hours) + in_minutes,
                    1,
                    "{since_min}+{len_min}: minute {}",
                    (t - T0) / MIN
                );
                t += MIN;
            }
        }
    }

    #[test]
    fn empty_range_reads_nothing() {
        assert_eq!(RangePlan::new(T0, T0, 0).bucket_count(), 0);
    }
}
