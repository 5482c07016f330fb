//! PostgreSQL: replicas sharing one database, and a database that goes away.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_started_together_migrate_once_and_share_every_push() {
    let t = TestStore::new(Kind::Postgres, "replicas", keep_everything()).await;
    // Two more replicas open the same database at the same time.
    let (b, c) = tokio::join!(t.reopen(), t.reopen());
    let replicas = [t.store.clone(), b, c];
    // Receivers push to whichever replica the Service picks; a retry may
    // land on another replica than the original.
    let mut tasks = tokio::task::JoinSet::new();
    for window in 0..40u64 {
        for receiver in 0..5u64 {
            let request = push(
                "production",
                &format!("otelcol-{receiver}"),
                window,
                window,
                3,
            );
            for attempt in 0..2 {
                let replica = replicas[((window + receiver + attempt) % 3) as usize].clone();
                let request = request.clone();
                tasks.spawn(async move {
                    replica
                        .insert_push(&request, received(&request))
                        .await
                        .unwrap()
                });
            }
        }
    }
    // Every replica rolls up meanwhile.
    let mut rollers = tokio::task::JoinSet::new();
    for replica in &replicas {
        let replica = replica.clone();
        rollers.spawn(async move {
            let mut rolled = 0;
            for _ in 0..30 {
                rolled += replica.roll_up().await.unwrap().rolled_up;
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            rolled
        });
    }
    let mut new = 0;
    while let Some(result) = tasks.join_next().await {
        new += u64::from(result.unwrap() == Inserted::New);
    }
    let mut rolled = 0;
    while let Some(result) = rollers.join_next().await {
        rolled += result.unwrap();
    }
    assert_eq!(new, 200);
    rolled += replicas[1].roll_up_all().await.unwrap().rolled_up;
    assert_eq!(rolled, 200, "each push rolled up by exactly one replica");
    // Every replica reports the same.
    let merged = everything(&replicas[0], "production").await;
    assert_eq!(
        (checkout_counts(&merged).0, merged.pushes, merged.receivers),
        (600, 200, 5)
    );
    for replica in &replicas[1..] {
        assert_eq!(everything(replica, "production").await, merged);
        assert_eq!(
            replica.environments().await.unwrap(),
            replicas[0].environments().await.unwrap()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_is_unavailable_and_the_store_reconnects_by_itself() {
    // A cluster of this test's own, so that stopping it stops no one else.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pg-tests");
    let cluster = PostgresCluster::start(&root).unwrap();
    let url = cluster.create_database("faults").unwrap();
    let store = Store::open(&StoreLocation::Postgres(url), keep_everything())
        .await
        .unwrap();
    insert_all(&store, &[push("production", "otelcol-a", 0, 1, 30)]).await;
    store.check().await.unwrap();

    cluster.kill().unwrap();
    let down = push("production", "otelcol-a", 1, 2, 12);
    let error = store.insert_push(&down, received(&down)).await.unwrap_err();
    assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    assert!(matches!(store.check().await, Err(StoreError::Backend(_))));
    assert!(matches!(
        store.fingerprint("production", 0, u64::MAX).await,
        Err(StoreError::Backend(_))
    ));

    cluster.restart().unwrap();
    // The pool replaces its broken connections on the next calls.
    let mut stored = None;
    for _ in 0..50 {
        match store.insert_push(&down, received(&down)).await {
            Ok(inserted) => {
                stored = Some(inserted);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(stored, Some(Inserted::New));
    store.check().await.unwrap();
    let merged = everything(&store, "production").await;
    assert_eq!((checkout_counts(&merged), merged.pushes), ((42, 84), 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_from_a_newer_release_is_refused() {
    let t = TestStore::new(Kind::Postgres, "future", keep_everything()).await;
    let StoreLocation::Postgres(url) = &t.location else {
        unreachable!()
    };
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute("UPDATE otel_parity_schema SET version = 99", &[])
        .await
        .unwrap();
    let error = t.reopen_err().await;
    assert!(
        matches!(
            error,
            StoreError::UnsupportedSchema {
                found: 99,
                supported: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        !error.to_string().contains(":test@"),
        "password hidden: {error}"
    );
}
