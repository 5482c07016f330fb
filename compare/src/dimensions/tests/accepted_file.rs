//! The accepted-differences file, its dates and globs.

use crate::accepted::{AcceptedError, glob_match, parse_accepted};
use crate::date::Date;
use crate::report::Dimension;

#[test]
fn the_example_config_parses() {
    let text = include_str!("../../../../config/accepted-differences.yaml");
    let entries = parse_accepted(text, "config/accepted-differences.yaml").expect("example parses");
    assert!(entries.len() >= 3);
    assert_eq!(entries[0].service, "shop/*");
    assert_eq!(entries[0].dimension, Some(Dimension::MetricDefinitions));
    assert_eq!(entries[0].subject, "app.legacy.*");
    assert_eq!(entries[0].owner, "team-x");
    assert_eq!(entries[0].expires, Date::new(2026, 12, 31).expect("date"));
}

#[test]
fn an_entry_without_subject_matches_every_subject_and_dimension_is_optional() {
    let text =
        "accepted:\n  - service: shop/cart\n    reason: r\n    owner: o\n    expires: 2027-01-01\n";
    let entries = parse_accepted(text, "a.yaml").expect("parses");
    assert_eq!(
        (entries[0].subject.as_str(), entries[0].dimension),
        ("*", None)
    );
}

#[test]
fn an_empty_file_or_list_accepts_nothing() {
    assert_eq!(parse_accepted("", "a.yaml").expect("empty").len(), 0);
    assert_eq!(
        parse_accepted("accepted: []\n", "a.yaml")
            .expect("empty list")
            .len(),
        0
    );
}

fn entry_error(text: &str) -> (usize, String, String) {
    match parse_accepted(text, "accepted.yaml") {
        Err(AcceptedError::Entry {
            index,
            key,
            message,
            ..
        }) => (index, key, message),
        other => panic!("expected an entry error, got {other:?}"),
    }
}

const GOOD: &str = "  - service: \"shop/*\"\n    subject: x\n    reason: r\n    owner: o\n    expires: 2026-12-31\n";

#[test]
fn errors_name_the_entry_index_and_the_key() {
    let cases = [
        (
            "    servce: shop/cart\n    reason: r\n    owner: o\n    expires: 2026-12-31\n",
            "servce",
            "unknown field",
        ),
        (
            "    service: shop/cart\n    reason: r\n    expires: 2026-12-31\n",
            "owner",
            "missing",
        ),
        (
            "    service: shop/cart\n    owner: o\n    expires: 2026-12-31\n",
            "reason",
            "missing",
        ),
        (
            "    service: shop/cart\n    reason: r\n    owner: o\n",
            "expires",
            "missing",
        ),
        (
            "    service: shop/cart\n    reason: r\n    owner: o\n    expires: 2026-02-30\n",
            "expires",
            "not a date",
        ),
        (
            "    service: shop/cart\n    reason: r\n    owner: o\n    expires: 31/12/2026\n",
            "expires",
            "not a date",
        ),
        (
            "    service: shop/cart\n    reason: r\n    owner: o\n    expires: 2026\n",
            "expires",
            "not a date",
        ),
        (
            "    dimension: metric_definition\n    reason: r\n    owner: o\n    expires: 2026-12-31\n",
            "dimension",
            "unknown dimension",
        ),
        (
            "    service: [a, b]\n    reason: r\n    owner: o\n    expires: 2026-12-31\n",
            "service",
            "expected a string",
        ),
    ];
    for (entry, key, message) in cases {
        let text = format!("accepted:\n{GOOD}  -{}", &entry[3..]);
        let (index, got_key, got_message) = entry_error(&text);
        assert_eq!((index, got_key.as_str()), (1, key), "{text}");
        assert!(got_message.contains(message), "{got_message:?} for {text}");
    }
}

#[test]
fn the_error_line_names_file_entry_and_key() {
    let text = format!(
        "accepted:\n{GOOD}  - service: a\n    reason: r\n    owner: o\n    expires: soon\n"
    );
    let error = parse_accepted(&text, "config/accepted-differences.yaml").expect_err("bad date");
    assert_eq!(
        error.to_string(),
        "config/accepted-differences.yaml: accepted[1].expires: \"soon\" is not a date (YYYY-MM-DD)"
    );
}

#[test]
fn document_level_errors_are_reported() {
    assert!(
        matches!(parse_accepted("acepted: []\n", "a.yaml"), Err(AcceptedError::Document { message, .. }) if message.contains("acepted"))
    );
    assert!(matches!(
        parse_accepted("accepted: {a: 1}\n", "a.yaml"),
        Err(AcceptedError::Document { .. })
    ));
    assert!(matches!(
        parse_accepted("accepted: [\n", "a.yaml"),
        Err(AcceptedError::Yaml { .. })
    ));
    assert!(matches!(
        parse_accepted(
            "accepted:\n  - reason: r\n    owner: o\n    expires: 2026-12-31\n",
            "a.yaml"
        ),
        Err(AcceptedError::Entry { index: 0, .. })
    ));
}

#[test]
fn load_accepted_names_a_missing_file() {
    let error = crate::accepted::load_accepted(std::path::Path::new("/nonexistent/accepted.yaml"))
        .expect_err("missing");
    assert!(
        error.to_string().contains("/nonexistent/accepted.yaml"),
        "{error}"
    );
}

#[test]
fn dates_parse_validate_order_and_print() {
    let d = Date::parse("2028-02-29").expect("leap day");
    assert_eq!((d.year(), d.month(), d.day()), (2028, 2, 29));
    assert_eq!(d.to_string(), "2028-02-29");
    for bad in [
        "2026-02-29",
        "2100-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-1-01",
        "2026-01-01x",
        "",
        "+026-01-01",
    ] {
        assert_eq!(Date::parse(bad), None, "{bad}");
    }
    assert!(Date::parse("2000-02-29").is_some());
    assert!(Date::parse("2026-12-31") < Date::parse("2027-01-01"));
    assert_eq!(
        Date::from_unix_days(0).map(|d| d.to_string()),
        Some("1970-01-01".to_owned())
    );
    assert_eq!(
        Date::from_unix_days(20_774).map(|d| d.to_string()),
        Some("2026-11-17".to_owned())
    );
    assert!(Date::today_utc() >= Date::parse("2026-01-01").expect("date"));
    let json = serde_json::to_string(&d).expect("serializes");
    assert_eq!(json, "\"2028-02-29\"");
    assert_eq!(
        serde_json::from_str::<Date>(&json).expect("deserializes"),
        d
    );
}

#[test]
fn globs_match_whole_strings_with_star_and_question_mark() {
    let cases = [
        ("shop/*", "shop/cart", true),
        ("shop/*", "shop/", true),
        ("shop/*", "shopping/cart", false),
        ("*", "", true),
        ("app.legacy.*", "app.legacy.orders.total", true),
        ("app.legacy.*", "app.legacy", false),
        ("*.duration", "http.server.request.duration", true),
        (
            "*.duration",
            "http.server.request.duration{http.route}",
            false,
        ),
        (
            "*{http.route}",
            "http.server.request.duration{http.route}",
            true,
        ),
        ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "aXbYbZ", false),
        ("severity ?ARN", "severity WARN", true),
        ("exact", "exact", true),
        ("exact", "exactly", false),
    ];
    for (pattern, text, want) in cases {
        assert_eq!(glob_match(pattern, text), want, "{pattern} vs {text}");
    }
}
