//! The service page of shop/checkout lays prod and staging side by side: the metric
//! app.orders.placed with unit `{order}` against `1` and the label key staging lost, and the
//! span operation `reserve inventory` that staging does not instrument.

use crate::browser::{Chromium, assert_screenshot, screenshot_dir};
use crate::demo;
use crate::dom::find;
use crate::overview::assert_rendered_cleanly;

const CHECKOUT: &str = "/services/shop/checkout?baseline=prod&candidate=staging";

#[test]
fn service_page_shows_checkout_side_by_side() {
    let demo = demo::shared();
    let chromium = Chromium::find();
    let page = chromium.dump_dom(&demo.url(CHECKOUT));
    assert_rendered_cleanly(&page, "service page");
    let dom = &page.dom;
    assert_eq!(find(dom, "data-service=", "title").text(), "shop/checkout");

    let metrics = find(dom, r#"id="metrics""#, "metrics section");
    let headings: Vec<String> = metrics
        .find_all(r#"scope="colgroup""#)
        .iter()
        .map(|h| h.text())
        .collect();
    assert_eq!(headings, ["prod (baseline)", "staging (candidate)"]);

    let orders = metrics.find(r#"data-metric="app.orders.placed""#, "app.orders.placed");
    let cell = |side: &str, field: &str| {
        orders
            .find_all(&format!(r#"data-side="{side}""#))
            .into_iter()
            .find(|c| c.attr("data-field").as_deref() == Some(field))
            .unwrap_or_else(|| panic!("no {side} {field} cell in {}", orders.html))
    };
    assert_eq!(cell("baseline", "unit").text(), "{order}");
    assert_eq!(cell("candidate", "unit").text(), "1");
    assert!(
        cell("baseline", "unit").has_class("differs")
            && cell("candidate", "unit").has_class("differs"),
        "the unit difference is highlighted: {}",
        orders.html
    );
    assert_eq!(
        cell("baseline", "type").text(),
        cell("candidate", "type").text()
    );
    let baseline_keys = cell("baseline", "label_keys");
    assert!(
        baseline_keys.text().contains("app.payment.method"),
        "{}",
        baseline_keys.text()
    );
    assert!(baseline_keys.has_class("differs"));
    assert!(
        !cell("candidate", "label_keys")
            .text()
            .contains("app.payment.method")
    );
    assert!(orders.has_class("row-differs"));

    let spans = find(dom, r#"id="spans""#, "span operations section");
    let reserve = spans.find(r#"data-operation="reserve inventory""#, "reserve inventory");
    assert_eq!(reserve.attr("data-kind").as_deref(), Some("internal"));
    let baseline_spans = reserve
        .find_all(r#"data-side="baseline""#)
        .into_iter()
        .find(|c| c.attr("data-field").as_deref() == Some("spans"))
        .map(|c| c.text());
    assert!(
        baseline_spans
            .as_deref()
            .and_then(|n| n.replace(',', "").parse::<u64>().ok())
            > Some(0),
        "prod has reserve inventory spans: {baseline_spans:?}"
    );
    let missing = reserve.find(r#"data-side="candidate""#, "staging side");
    assert_eq!(missing.attr("data-field").as_deref(), Some("presence"));
    assert_eq!(missing.text(), "missing");
    assert!(missing.has_class("missing"));
    assert!(
        reserve.text().contains("none in staging"),
        "the finding is on the row"
    );
    // An operation both sides have is not flagged.
    let charge = spans.find(r#"data-operation="POST /charge""#, "POST /charge");
    assert!(!charge.has_class("row-differs"), "{}", charge.html);

    // Sampling and logs differences planted in the demo are highlighted too.
    let thresholds = find(dom, r#"data-fact="thresholds""#, "sampling thresholds");
    assert!(
        thresholds.text().contains("th:c → 25.0%"),
        "{}",
        thresholds.text()
    );
    assert!(thresholds.has_class("row-differs"));
    let events = find(dom, r#"data-fact="event_names""#, "log events");
    assert!(events.text().contains("order.placed"), "{}", events.text());

    let path = screenshot_dir().join("service-shop-checkout.png");
    chromium.screenshot(&demo.url(CHECKOUT), &path, (1280, 4800));
    assert_screenshot(&path, (1280, 4800));
}
