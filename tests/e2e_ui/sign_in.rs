//! Signing in to an analyzer that asks for an API token, in headless Chromium driven as a
//! person would use it (tests/e2e_ui/sign_in.py over the DevTools pipe): the overview asks for
//! the token, refuses a wrong one, shows the report with the right one, keeps it for the tab
//! (sessionStorage) across pages, sends it only as `Authorization: Bearer`, never in a URL, and
//! forgets it on sign-out.

use serde_json::Value;

use otel_parity_testkit::e2e::{DemoProcess, HttpClient, ScratchDir, run_python, workspace_root};

use crate::browser::{Chromium, FLAGS};

const TOKEN: &str = "ui-token-5c3e0a71";
const WRONG: &str = "not-the-token";

#[test]
fn a_person_signs_in_with_the_api_token_and_it_never_leaves_the_tab_but_as_a_header() {
    let chromium = Chromium::find();
    let dir = ScratchDir::new("ui-sign-in");
    let tokens = dir.path().join("api-tokens");
    std::fs::write(&tokens, format!("# people and the UI\n{TOKEN}\n")).unwrap();
    let demo = DemoProcess::start_with(&["--api-token-file", &tokens.display().to_string()]);
    let api = HttpClient::new().with_token(TOKEN);
    demo.wait_until("the pair is evaluated", || {
        api.get(&demo.url("/api/v1/pairs"))
            .is_ok_and(|(status, body)| status == 200 && body.contains("\"staging\""))
    });
    let (status, report) = api
        .get(&demo.url("/api/v1/report?baseline=prod&candidate=staging"))
        .unwrap();
    assert_eq!(status, 200, "{report}");
    let coverage = serde_json::from_str::<Value>(&report).unwrap()["scores"]["coverage"]
        .as_f64()
        .unwrap();

    let screenshots = workspace_root().join("target").join("ui-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let screenshot = screenshots.join("sign-in-overview.png");
    let profile = dir.path().join("profile");
    let script = workspace_root()
        .join("tests")
        .join("e2e_ui")
        .join("sign_in.py");
    let args = [
        chromium.program().display().to_string(),
        profile.display().to_string(),
        demo.url("/?baseline=prod&candidate=staging"),
        demo.url("/services/shop/checkout?baseline=prod&candidate=staging"),
        WRONG.to_owned(),
        TOKEN.to_owned(),
        screenshot.display().to_string(),
    ];
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(FLAGS);
    let output = run_python(&script, &args, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let run: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("sign_in.py printed no JSON ({e}): {stdout}"));
    let step = |name: &str| run["steps"][name].clone();

    let before = step("without_token");
    assert_eq!(before["state"], "signin", "{before}");
    assert!(
        before["message"]
            .as_str()
            .unwrap_or("")
            .contains("asks for an API token"),
        "{before}"
    );
    assert_eq!(
        before["coverage"],
        Value::Null,
        "no data without a token: {before}"
    );
    let wrong = step("wrong_token");
    assert_eq!(wrong["state"], "signin", "{wrong}");
    assert!(
        wrong["message"]
            .as_str()
            .unwrap_or("")
            .contains("did not accept that token"),
        "{wrong}"
    );
    assert_eq!(
        wrong["stored"],
        Value::Null,
        "a refused token is forgotten: {wrong}"
    );
    let signed_in = step("signed_in");
    assert_eq!(signed_in["state"], "ready", "{signed_in}");
    assert_eq!(signed_in["stored"], TOKEN, "{signed_in}");
    assert_eq!(signed_in["signOut"], true, "{signed_in}");
    assert_eq!(signed_in["errors"], "", "{signed_in}");
    let shown: f64 = signed_in["coverage"]
        .as_str()
        .unwrap_or("")
        .parse()
        .unwrap_or(-1.0);
    assert!(
        (shown - coverage).abs() < 1e-9,
        "the page shows coverage {shown}, the API {coverage}"
    );
    let service = step("service_page");
    assert_eq!(
        service["state"], "ready",
        "the token carries to the service page: {service}"
    );
    assert_eq!(service["path"], "/services/shop/checkout");
    let signed_out = step("signed_out");
    assert_eq!(signed_out["state"], "signin", "{signed_out}");
    assert_eq!(signed_out["stored"], Value::Null, "{signed_out}");

    let requests = run["requests"].as_array().cloned().unwrap_or_default();
    for request in &requests {
        let url = request["url"].as_str().unwrap_or("");
        assert!(
            !url.contains(TOKEN) && !url.contains(WRONG),
            "a token in a URL: {url}"
        );
    }
    let api_calls: Vec<&Value> = requests
        .iter()
        .filter(|r| r["url"].as_str().unwrap_or("").contains("/api/v1/"))
        .collect();
    let with = |header: Option<&str>| {
        api_calls
            .iter()
            .filter(|r| r["authorization"].as_str() == header)
            .count()
    };
    let (bearer, wrong_bearer) = (format!("Bearer {TOKEN}"), format!("Bearer {WRONG}"));
    assert!(
        with(None) >= 2,
        "the first load and the one after signing out ask without a token: {api_calls:?}"
    );
    assert!(with(Some(&wrong_bearer)) >= 1, "{api_calls:?}");
    assert!(
        with(Some(&bearer)) >= 4,
        "the overview and the service page read the API with the token: {api_calls:?}"
    );
    assert_eq!(
        with(None) + with(Some(&wrong_bearer)) + with(Some(&bearer)),
        api_calls.len(),
        "{api_calls:?}"
    );
    assert!(
        !demo.stderr().contains(TOKEN),
        "the token is in the analyzer's log"
    );
}
