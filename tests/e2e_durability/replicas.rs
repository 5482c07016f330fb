//! Two analyzer replicas sharing one PostgreSQL behind a layer-4 balancer (a
//! Kubernetes Service), four receivers pushing through it, and one replica
//! killed with SIGKILL mid-traffic: the receivers reconnect to the live
//! replica, and the database ends up counting exactly the spans the
//! receivers acknowledged. Both replicas report the same.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use otel_parity_analyzer::store::StoreLocation;
use otel_parity_testkit::e2e::{
    AnalyzerProcess, AnalyzerSite, Balancer, ReceiverProcess, ScratchDir, unix_nanos_now,
};
use otel_parity_testkit::postgres::PostgresCluster;
use otel_parity_testkit::shop::Tally;
use serde_json::Value;

use crate::sender::{Control, Phase, Sender};
use crate::stored::{difference, environments, merged, open_store_at, tally_of};
use crate::wait_until;

const ENVIRONMENTS: [&str; 2] = ["prod", "staging"];
const PUSH_TIMEOUT: Duration = Duration::from_secs(30);

fn pushes(environments: &Value, env: &str) -> u64 {
    environments[env]["pushes"].as_u64().unwrap_or(0)
}

fn last_window_end(environments: &Value, env: &str) -> u64 {
    environments[env]["last_window_end_unix_nano"]
        .as_u64()
        .unwrap_or(0)
}

fn replica(scratch: &ScratchDir, name: &str, url: &str) -> (AnalyzerSite, AnalyzerProcess) {
    let mut site = AnalyzerSite::with_config(
        &scratch.path().join(name),
        "evaluation:\n  interval: 1s\n  since: 1h\n",
    );
    site.store = Some(url.to_owned());
    let process = AnalyzerProcess::start_at(&site, 1);
    (site, process)
}

#[test]
fn replicas_share_the_database_and_one_killed_loses_nothing() {
    let scratch = ScratchDir::new("replicas");
    let cluster = PostgresCluster::start(scratch.path())
        .unwrap_or_else(|e| panic!("{e} (scripts/test installs the Debian package postgresql)"));
    let url = cluster
        .create_database("parity")
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(scratch.path().join("a")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(scratch.path().join("b")).unwrap_or_else(|e| panic!("{e}"));
    let (site_a, mut replica_a) = replica(&scratch, "a", &url);
    let (_site_b, replica_b) = replica(&scratch, "b", &url);
    let balancer = Balancer::start(vec![site_a.push, replica_b.site().push]);

    // Two receivers per environment, each with its own connection through the Service.
    let receiver = |env: &str| {
        ReceiverProcess::start(&[
            "--environment",
            env,
            "--analyzer",
            &balancer.url(),
            "--push-interval",
            "200ms",
        ])
    };
    let mut receivers = vec![
        ("prod", receiver("prod")),
        ("prod", receiver("prod")),
        ("staging", receiver("staging")),
        ("staging", receiver("staging")),
    ];
    let control = Arc::new(Control::default());
    let senders: Vec<(&str, Sender)> = receivers
        .iter()
        .map(|(env, r)| {
            let sender = Sender::start(
                env,
                r.grpc_endpoint(),
                r.http_endpoint(),
                Arc::clone(&control),
            );
            (*env, sender)
        })
        .collect();

    // Both replicas take pushes before the kill.
    let stored_both = wait_until(PUSH_TIMEOUT, || {
        let environments = replica_b.environments();
        ENVIRONMENTS
            .iter()
            .all(|env| pushes(&environments, env) >= 8)
            && balancer.handed().iter().all(|&n| n >= 1)
    });
    assert!(
        stored_both,
        "pushes did not reach both replicas: handed {:?}, {}",
        balancer.handed(),
        replica_b.environments()
    );
    control.set_phase(Phase::AnalyzerDown);
    replica_a.kill_9();
    let killed_at = unix_nanos_now();
    thread::sleep(Duration::from_millis(1500));
    control.set_phase(Phase::After);

    // Every receiver's queue drains into the live replica.
    let caught_up = wait_until(PUSH_TIMEOUT, || {
        let environments = replica_b.environments();
        ENVIRONMENTS
            .iter()
            .all(|env| last_window_end(&environments, env) >= killed_at)
    });
    assert!(
        caught_up,
        "no window after the kill was stored: {}",
        replica_b.environments()
    );

    let mut acknowledged = [Tally::default(), Tally::default()];
    for (env, sender) in senders {
        let report = sender.stop();
        assert!(report.failures.is_empty(), "{env}: {:#?}", report.failures);
        let index = usize::from(env == "staging");
        acknowledged[index].absorb(&report.accepted);
    }
    for (env, receiver) in &mut receivers {
        let status = receiver.stop();
        assert!(
            status.success(),
            "{env} receiver: {status}\n{}",
            receiver.stderr_tail()
        );
    }

    // The killed replica comes back and reports what the other one does.
    let replica_a = AnalyzerProcess::start_at(&site_a, 2);
    let settled = Instant::now();
    let agree = wait_until(PUSH_TIMEOUT, || {
        replica_a.environments() == replica_b.environments()
    });
    assert!(
        agree,
        "the replicas disagree {:?} after the last push:\n{}\n{}",
        settled.elapsed(),
        replica_a.environments(),
        replica_b.environments()
    );
    let store = open_store_at(&StoreLocation::Postgres(url.clone()));
    let stored = environments(&store);
    let names: Vec<&str> = stored.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ENVIRONMENTS);
    let mut mismatches = String::new();
    for ((env, accepted), summary) in ENVIRONMENTS.iter().zip(&acknowledged).zip(&stored) {
        assert_eq!(
            summary.receivers, 2,
            "{env}: two receivers pushed: {summary:?}"
        );
        let merged = merged(&store, env);
        if let Some(diff) = difference(&tally_of(&merged), accepted) {
            mismatches.push_str(&format!("{env}:\n{diff}"));
        }
        assert!(accepted.spans() > 0, "{env}: nothing acknowledged");
    }
    assert!(
        mismatches.is_empty(),
        "the database does not count exactly what the receivers acknowledged:\n{mismatches}"
    );
    eprintln!(
        "replicas: connections per replica {:?}; spans acknowledged prod {}, staging {}",
        balancer.handed(),
        acknowledged[0].spans(),
        acknowledged[1].spans()
    );
}
