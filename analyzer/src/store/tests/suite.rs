//! What both backends must do alike. Each test runs once per backend.

use super::*;

/// Runs the async test body `$body(kind)` as one test per backend.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Postgres).await
                }
            )*
        }
    };
}

both_backends!(
    pushes_of_two_receivers_merge_with_counts_added,
    retried_push_is_a_duplicate_before_and_after_roll_up,
    same_sequence_in_a_new_window_is_a_new_push,
    environments_list_receivers_pushes_and_time_range_sorted_by_name,
    time_range_reads_the_minutes_that_overlap_it,
    reads_are_the_same_before_and_after_roll_up,
    pushes_handed_over_decoded_roll_up_as_pushes_read_back,
    long_ranges_read_whole_hours_and_agree_with_minutes,
    retention_deletes_expired_minutes_hours_and_keys,
    acknowledged_pushes_survive_reopening_the_store,
    invalid_pushes_are_refused_naming_the_problem_and_nothing_is_stored,
    fingerprints_over_a_cap_or_with_unreadable_sketches_are_refused_and_nothing_is_stored,
    concurrent_pushes_are_each_stored_once,
    change_marker_moves_with_pushes_and_roll_ups,
);

async fn pushes_of_two_receivers_merge_with_counts_added(kind: Kind) {
    let t = TestStore::new(kind, "merge", keep_everything()).await;
    insert_all(
        &t.store,
        &[
            push("production", "otelcol-a", 0, 1, 30),
            push("production", "otelcol-b", 0, 4, 12),
        ],
    )
    .await;
    for rolled_up in [false, true] {
        let merged = everything(&t.store, "production").await;
        assert_eq!(checkout_counts(&merged), (42, 84), "rolled up: {rolled_up}");
        let service = &merged.fingerprint.services["shop/checkout"];
        assert_eq!(service.span_operations.len(), 1);
        assert_eq!(service.span_operations[0].errors, 3 + 1);
        assert_eq!(
            service.resource.as_ref().unwrap().allowed_values["service.version"].values["1.12.0"],
            2
        );
        let metric = &service.metrics["http.server.request.duration"];
        assert_eq!(metric.bucket_layouts[0].data_points, 84);
        assert_eq!(metric.attribute_keys["http.route"].count, 84);
        assert_eq!((merged.pushes, merged.receivers), (2, 2));
        assert_eq!(
            (merged.window_start_unix_nano, merged.window_end_unix_nano),
            (T0, T0 + WINDOW)
        );
        let outcome = t.store.roll_up_all().await.unwrap();
        if !rolled_up {
            // One minute row and one hour row.
            assert_eq!((outcome.rolled_up, outcome.rows), (2, 2));
        }
    }
}

async fn retried_push_is_a_duplicate_before_and_after_roll_up(kind: Kind) {
    let t = TestStore::new(kind, "retry", keep_everything()).await;
    let first = push("production", "otelcol-a", 0, 1, 30);
    insert_all(
        &t.store,
        &[first.clone(), push("production", "otelcol-b", 0, 4, 12)],
    )
    .await;
    // The retry carries the same key; even a different body changes nothing.
    let mut retry = first.clone();
    retry.fingerprint = Some(checkout(1_000));
    for (attempt, request) in [&first, &retry].into_iter().enumerate() {
        let at = received(&first) + (attempt as u64 + 1) * SECOND;
        assert_eq!(
            t.store.insert_push(request, at).await.unwrap(),
            Inserted::Duplicate
        );
    }
    t.store.roll_up_all().await.unwrap();
    assert_eq!(
        t.store
            .insert_push(&retry, received(&first) + 9 * SECOND)
            .await
            .unwrap(),
        Inserted::Duplicate
    );
    let merged = everything(&t.store, "production").await;
    assert_eq!(checkout_counts(&merged), (42, 84));
    assert_eq!(merged.pushes, 2);
    assert_eq!(t.store.pending_pushes().await.unwrap(), 0);
}

async fn same_sequence_in_a_new_window_is_a_new_push(kind: Kind) {
    // A receiver that restarts counts its sequence from 1 again.
    let t = TestStore::new(kind, "restart", keep_everything()).await;
    insert_all(
        &t.store,
        &[
            push("staging", "otelcol-a", 0, 1, 30),
            push("staging", "otelcol-a", 6, 1, 5),
        ],
    )
    .await;
    let merged = everything(&t.store, "staging").await;
    assert_eq!(checkout_counts(&merged), (35, 70));
    assert_eq!((merged.pushes, merged.receivers), (2, 1));
}

async fn environments_list_receivers_pushes_and_time_range_sorted_by_name(kind: Kind) {
    let t = TestStore::new(kind, "environments", keep_everything()).await;
    insert_all(
        &t.store,
        &[
            push("staging", "otelcol-s", 2, 9, 3),
            push("production", "otelcol-a", 0, 1, 30),
            push("production", "otelcol-b", 1, 4, 12),
            push("production", "otelcol-a", 3, 2, 25),
        ],
    )
    .await;
    let summary = |name: &str, receivers, pushes, first: u64, last: u64| EnvironmentSummary {
        name: name.into(),
        receivers,
        pushes,
        first_window_start_unix_nano: T0 + first * WINDOW,
        last_window_end_unix_nano: T0 + last * WINDOW,
    };
    let expected = vec![
        summary("production", 2, 3, 0, 4),
        summary("staging", 1, 1, 2, 3),
    ];
    assert_eq!(t.store.environments().await.unwrap(), expected, "pending");
    // Half rolled up, half pending: the same totals.
    t.store.roll_up_all().await.unwrap();
    insert_all(&t.store, &[push("production", "otelcol-c", 4, 1, 1)]).await;
    let mut expected = expected;
    expected[0] = summary("production", 3, 4, 0, 5);
    assert_eq!(t.store.environments().await.unwrap(), expected, "mixed");
}

async fn time_range_reads_the_minutes_that_overlap_it(kind: Kind) {
    let t = TestStore::new(kind, "range", keep_everything()).await;
    // Windows 0 (minute 0), 6 (minute 1), 12 (minute 2).
    insert_all(
        &t.store,
        &[
            push("production", "otelcol-a", 0, 1, 30),
            push("production", "otelcol-a", 6, 2, 20),
            push("production", "otelcol-a", 12, 3, 10),
        ],
    )
    .await;
    for phase in ["pending", "rolled up"] {
        // From the middle of minute 1: minutes 1 and 2.
        let recent = t
            .store
            .fingerprint("production", T0 + MINUTE + 15 * SECOND, u64::MAX)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(checkout_counts(&recent), (30, 60), "{phase}");
        assert_eq!(recent.pushes, 2, "{phase}");
        assert_eq!(recent.window_start_unix_nano, T0 + 6 * WINDOW, "{phase}");
        // Until the end of minute 0: minute 1 starts there, so it is out.
        let first = t
            .store
            .fingerprint("production", 0, T0 + MINUTE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(checkout_counts(&first), (30, 60), "{phase}");
        assert_eq!(first.window_end_unix_nano, T0 + WINDOW, "{phase}");
        // After the last minute, and another environment: nothing.
        assert_eq!(
            t.store
                .fingerprint("production", T0 + 3 * MINUTE, u64::MAX)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            t.store
                .fingerprint("development", 0, u64::MAX)
                .await
                .unwrap(),
            None
        );
        t.store.roll_up_all().await.unwrap();
    }
}

async fn reads_are_the_same_before_and_after_roll_up(kind: Kind) {
    let t = TestStore::new(kind, "same-reads", keep_everything()).await;
    let mut pushes = Vec::new();
    for window in 0..30 {
        for (receiver, spans) in [("otelcol-a", 7), ("otelcol-b", 11), ("otelcol-c", 13)] {
            pushes.push(push("production", receiver, window, window, spans + window));
        }
    }
    insert_all(&t.store, &pushes).await;
    let ranges = [
        (0, u64::MAX),
        (T0 + 2 * MINUTE, T0 + 4 * MINUTE),
        (T0 + 30 * SECOND, T0 + 3 * MINUTE),
    ];
    let mut before = Vec::new();
    for (since, until) in ranges {
        before.push(
            t.store
                .fingerprint("production", since, until)
                .await
                .unwrap(),
        );
    }
    // Roll up in passes of whatever size: the reads do not change.
    let outcome = t.store.roll_up_all().await.unwrap();
    assert_eq!(outcome.rolled_up, 90);
    assert_eq!(outcome.rows, 5 + 1, "five minutes and their hour");
    for ((since, until), expected) in ranges.into_iter().zip(before) {
        let after = t
            .store
            .fingerprint("production", since, until)
            .await
            .unwrap();
        assert_eq!(after, expected, "{since}..{until}");
    }
}

/// The push service hands each push's decoded fingerprint to the roll-up
/// (no second decode); what it rolls up is what decoding the stored bytes
/// gives, so two stores fed the same pushes either way read the same.
async fn pushes_handed_over_decoded_roll_up_as_pushes_read_back(kind: Kind) {
    let owned = TestStore::new(kind, "handoff-owned", keep_everything()).await;
    let borrowed = TestStore::new(kind, "handoff-borrowed", keep_everything()).await;
    let mut pushes = Vec::new();
    for window in 0..12 {
        for (receiver, spans) in [("otelcol-a", 5), ("otelcol-b", 9)] {
            pushes.push(push("production", receiver, window, window, spans + window));
        }
    }
    insert_all(&borrowed.store, &pushes).await;
    for request in &pushes {
        let inserted = owned
            .store
            .insert_owned_push(request.clone(), received(request))
            .await
            .unwrap();
        assert_eq!(inserted, Inserted::New);
    }
    // A retry of an owned push is still a duplicate and hands nothing over.
    let retry = pushes[3].clone();
    let at = received(&retry);
    assert_eq!(
        owned.store.insert_owned_push(retry, at).await.unwrap(),
        Inserted::Duplicate
    );
    let (a, b) = (
        owned.store.roll_up_all().await.unwrap(),
        borrowed.store.roll_up_all().await.unwrap(),
    );
    assert_eq!((a.rolled_up, a.unreadable, a.rows), (24, 0, 2 + 1));
    assert_eq!((b.rolled_up, b.unreadable, b.rows), (24, 0, 2 + 1));
    let merged = everything(&owned.store, "production").await;
    assert_eq!(merged, everything(&borrowed.store, "production").await);
    let expected_spans: u64 = (0..12).map(|w| 5 + w + 9 + w).sum();
    assert_eq!(checkout_counts(&merged).0, expected_spans);
    assert_eq!((merged.pushes, merged.receivers), (24, 2));
}

async fn long_ranges_read_whole_hours_and_agree_with_minutes(kind: Kind) {
    // Three hours of pushes, one per 10 minutes.
    let t = TestStore::new(kind, "hours", keep_everything()).await;
    let pushes: Vec<PushRequest> = (0..18)
        .map(|i| push("production", "otelcol-a", i * 60, i, 10))
        .collect();
    insert_all(&t.store, &pushes).await;
    t.store.roll_up_all().await.unwrap();
    let all = everything(&t.store, "production").await;
    assert_eq!((checkout_counts(&all).0, all.pushes), (180, 18));
    // Hour 1 and the first half of hour 2: one hour row and 30 minute rows.
    let part = t
        .store
        .fingerprint("production", T0 + 60 * MINUTE, T0 + 150 * MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((checkout_counts(&part).0, part.pushes), (90, 9));
    // When the minutes are gone, the edges read as whole hours.
    let coarse = Store::open(
        &t.location,
        Retention {
            minute_rollups: Duration::ZERO,
            ..keep_everything()
        },
    )
    .await
    .unwrap();
    let part = coarse
        .fingerprint("production", T0 + 60 * MINUTE, T0 + 150 * MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((checkout_counts(&part).0, part.pushes), (120, 12));
}

async fn retention_deletes_expired_minutes_hours_and_keys(kind: Kind) {
    let retention = Retention {
        rollups: Duration::from_secs(2 * 3600),
        minute_rollups: Duration::from_secs(30 * 60),
        idempotency_window: Duration::from_secs(10 * 60),
    };
    let t = TestStore::new(kind, "retention", retention).await;
    // One push per 10 minutes for three hours.
    let pushes: Vec<PushRequest> = (0..18)
        .map(|i| push("production", "otelcol-a", i * 60, i, 10))
        .collect();
    insert_all(&t.store, &pushes).await;
    t.store.roll_up_all().await.unwrap();
    let now = T0 + 3 * 60 * MINUTE;
    let retired = t.store.apply_retention(now).await.unwrap();
    // Minutes before 2:30 (15 of 18); hour 0, which ended at the cutoff
    // (1:00); the keys received before 2:50 (17 of 18).
    assert_eq!(retired.minute_rollups, 15);
    assert_eq!(retired.hour_rollups, 1);
    assert_eq!(retired.push_keys, 17);
    let kept = everything(&t.store, "production").await;
    assert_eq!(kept.pushes, 12, "hours 1 and 2");
    // A key past the idempotency window is no longer recognised.
    assert_eq!(
        t.store.insert_push(&pushes[0], now).await.unwrap(),
        Inserted::New
    );
    assert_eq!(
        t.store.insert_push(&pushes[17], now).await.unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(
        t.store.apply_retention(now).await.unwrap(),
        Retired {
            push_keys: 0,
            minute_rollups: 0,
            hour_rollups: 0
        }
    );
}

async fn acknowledged_pushes_survive_reopening_the_store(kind: Kind) {
    let t = TestStore::new(kind, "durable", keep_everything()).await;
    let pushes = [
        push("production", "otelcol-a", 0, 1, 30),
        push("production", "otelcol-b", 0, 4, 12),
        push("staging", "otelcol-s", 0, 1, 7),
    ];
    insert_all(&t.store, &pushes[..2]).await;
    t.store.roll_up_all().await.unwrap();
    insert_all(&t.store, &pushes[2..]).await;
    let environments = t.store.environments().await.unwrap();
    let merged = t
        .store
        .fingerprint("production", 0, u64::MAX)
        .await
        .unwrap();
    let reopened = t.reopen().await;
    assert_eq!(reopened.environments().await.unwrap(), environments);
    assert_eq!(
        reopened
            .fingerprint("production", 0, u64::MAX)
            .await
            .unwrap(),
        merged
    );
    assert_eq!(reopened.pending_pushes().await.unwrap(), 1);
    assert_eq!(
        reopened.insert_push(&pushes[2], 0).await.unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(
        reopened.insert_push(&pushes[0], 0).await.unwrap(),
        Inserted::Duplicate
    );
}

async fn invalid_pushes_are_refused_naming_the_problem_and_nothing_is_stored(kind: Kind) {
    let valid = push("staging", "otelcol-s", 0, 1, 3);
    let with = |change: fn(&mut PushRequest)| {
        let mut request = valid.clone();
        change(&mut request);
        request
    };
    let cases = [
        (with(|p| p.environment.clear()), "environment is empty"),
        (
            with(|p| p.receiver_instance.clear()),
            "receiver_instance is empty",
        ),
        (
            with(|p| p.window_end_unix_nano = p.window_start_unix_nano - 1),
            "is before window_start_unix_nano",
        ),
        (with(|p| p.fingerprint = None), "fingerprint is missing"),
        (
            with(|p| {
                p.window_start_unix_nano = i64::MAX as u64 + 1;
                p.window_end_unix_nano = u64::MAX;
            }),
            "window_start_unix_nano 9223372036854775808 is beyond the year 2262",
        ),
        (
            with(|p| p.sequence = u64::MAX),
            "sequence 18446744073709551615 is beyond",
        ),
    ];
    let t = TestStore::new(kind, "invalid", keep_everything()).await;
    for (request, reason) in &cases {
        let error = t.store.insert_push(request, T0).await.unwrap_err();
        assert!(matches!(error, StoreError::InvalidPush(_)), "{error:?}");
        assert!(
            error.to_string().contains(reason),
            "{error} lacks {reason:?}"
        );
    }
    assert!(matches!(
        t.store.insert_push(&valid, u64::MAX).await,
        Err(StoreError::InvalidPush(_))
    ));
    assert_eq!(t.store.pending_pushes().await.unwrap(), 0);
    assert_eq!(t.store.environments().await.unwrap(), []);
}

async fn fingerprints_over_a_cap_or_with_unreadable_sketches_are_refused_and_nothing_is_stored(
    kind: Kind,
) {
    // POST /checkout has 3 attribute keys: a cap of 2 refuses it, 3 takes it.
    let limits = |keys| FingerprintLimits {
        max_attribute_keys: keys,
        ..FingerprintLimits::default()
    };
    let valid = push("staging", "otelcol-s", 0, 1, 30);
    let with = |change: fn(&mut pb::ServiceFingerprint)| {
        let mut request = valid.clone();
        let fingerprint = request.fingerprint.as_mut().unwrap();
        change(fingerprint.services.get_mut("shop/checkout").unwrap());
        request
    };
    let prefix =
        r#"push of environment "staging" from receiver "otelcol-s", sequence 1: fingerprint "#;
    let metric = r#"service "shop/checkout" metric "http.server.request.duration""#;
    let operation = r#"service "shop/checkout" span operation "POST /checkout""#;
    let cases = [
        (
            valid.clone(),
            format!(r#"{metric}: 3 attribute keys, above limits.max_attribute_keys (2)"#),
        ),
        (
            with(|s| {
                s.metrics
                    .get_mut("http.server.request.duration")
                    .unwrap()
                    .series = Some(pb::Cardinality {
                    estimate: 40.0,
                    hll: vec![0x02, 0x01, 0x07, 0x0c, 0x03, 0x08],
                });
            }),
            format!("{metric} series: HLL sketch does not decode"),
        ),
        (
            with(|s| {
                let mut histogram = otel_parity_model::sketch::DurationHistogram::default();
                histogram.record_nanos(1_500_000);
                let mut duration = histogram.to_proto();
                duration.hdr.truncate(duration.hdr.len() - 3);
                s.span_operations[0].duration = Some(duration);
            }),
            format!("{operation} duration: HDR histogram claims a "),
        ),
        (
            with(|s| s.span_operations[0].errors = 31),
            format!("{operation} (SPAN_KIND_SERVER): errors (31) is above spans (30)"),
        ),
    ];
    let t = TestStore::new(kind, "over-caps", keep_everything()).await;
    // The cap case under a cap of 2, the others under 3 (caps are checked first).
    let tight = t.reopen().await.with_limits(limits(2));
    let store = t.reopen().await.with_limits(limits(3));
    for (n, (request, reason)) in cases.iter().enumerate() {
        let checker = if n == 0 { &tight } else { &store };
        let error = checker
            .insert_push(request, received(request))
            .await
            .unwrap_err();
        let StoreError::InvalidPush(message) = &error else {
            panic!("{error:?}");
        };
        assert!(
            message.starts_with(&format!("{prefix}{reason}")),
            "{message}\nlacks {reason:?}"
        );
    }
    assert_eq!(store.pending_pushes().await.unwrap(), 0);
    assert_eq!(store.environments().await.unwrap(), []);
    // Within a cap of 3 the valid push is stored.
    assert_eq!(
        store.insert_push(&valid, received(&valid)).await.unwrap(),
        Inserted::New
    );
    assert_eq!(store.pending_pushes().await.unwrap(), 1);
}

async fn concurrent_pushes_are_each_stored_once(kind: Kind) {
    let t = TestStore::new(kind, "concurrent", keep_everything()).await;
    // 8 receivers × 25 windows, each sent twice at once (a retry racing
    // the original), while roll-up passes run beside them.
    let mut tasks = tokio::task::JoinSet::new();
    for receiver in 0..8u64 {
        for window in 0..25u64 {
            for _copy in 0..2 {
                let store = t.store.clone();
                let request = push(
                    "production",
                    &format!("otelcol-{receiver}"),
                    window,
                    window,
                    receiver + 1,
                );
                tasks.spawn(async move {
                    store
                        .insert_push(&request, received(&request))
                        .await
                        .unwrap()
                });
            }
        }
    }
    let roller = {
        let store = t.store.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                store.roll_up().await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut new = 0;
    while let Some(result) = tasks.join_next().await {
        if result.unwrap() == Inserted::New {
            new += 1;
        }
    }
    roller.await.unwrap();
    assert_eq!(new, 200);
    let merged = everything(&t.store, "production").await;
    // Receiver r sends r+1 spans per window: 25 × (1 + … + 8).
    assert_eq!(
        (checkout_counts(&merged).0, merged.pushes, merged.receivers),
        (25 * 36, 200, 8)
    );
    t.store.roll_up_all().await.unwrap();
    assert_eq!(everything(&t.store, "production").await, merged);
}

async fn change_marker_moves_with_pushes_and_roll_ups(kind: Kind) {
    let t = TestStore::new(kind, "marker", keep_everything()).await;
    let empty = t.store.change_marker().await.unwrap();
    assert_eq!(t.store.change_marker().await.unwrap(), empty);
    insert_all(&t.store, &[push("production", "otelcol-a", 0, 1, 30)]).await;
    let pushed = t.store.change_marker().await.unwrap();
    assert_ne!(pushed, empty);
    t.store.roll_up_all().await.unwrap();
    let rolled = t.store.change_marker().await.unwrap();
    assert_ne!(rolled, pushed);
    // A duplicate changes nothing.
    let duplicate = push("production", "otelcol-a", 0, 1, 30);
    assert_eq!(
        t.store.insert_push(&duplicate, T0).await.unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(t.store.change_marker().await.unwrap(), rolled);
}
