//! Metric names per the OpenTelemetry API and semantic conventions (OTP-M001…M006): the
//! instrument-name syntax, lower case, `.` namespaces, the length limit, no unit and no
//! `_total` in the name.

use super::finding::{Findings, Subject};
use super::model::Telemetry;
use super::rules::RuleId;

/// Unit words that are wrong anywhere in a name.
const UNIT_WORDS: &[(&str, &str)] = &[
    ("seconds", "s"),
    ("second", "s"),
    ("milliseconds", "ms"),
    ("millisecond", "ms"),
    ("microseconds", "us"),
    ("nanoseconds", "ns"),
    ("minutes", "min"),
    ("hours", "h"),
    ("bytes", "By"),
    ("kilobytes", "kBy"),
    ("megabytes", "MBy"),
    ("gigabytes", "GBy"),
    ("percent", "%"),
];

/// Unit abbreviations that are wrong at the end of a name (elsewhere they may be words).
const UNIT_SUFFIXES: &[(&str, &str)] = &[
    ("ms", "ms"),
    ("millis", "ms"),
    ("us", "us"),
    ("ns", "ns"),
    ("sec", "s"),
    ("secs", "s"),
    ("kb", "kBy"),
    ("mb", "MBy"),
    ("gb", "GBy"),
    ("kib", "KiBy"),
    ("mib", "MiBy"),
    ("gib", "GiBy"),
    ("pct", "%"),
];

/// Whether `name` follows the API's instrument-name syntax, ignoring length.
fn is_valid_syntax(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

/// The unit a name spells out, with the word and the unit's UCUM code.
fn unit_in_name(name: &str) -> Option<(&str, &'static str)> {
    let lower = name.to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split(['.', '_', '-', '/']).collect();
    let words = tokens.iter().find_map(|token| {
        UNIT_WORDS
            .iter()
            .find(|(word, _)| token == word)
            .map(|(_, ucum)| *ucum)
    });
    let suffix = tokens.last().and_then(|last| {
        UNIT_SUFFIXES
            .iter()
            .find(|(word, _)| last == word)
            .map(|(_, ucum)| *ucum)
    });
    let ucum = words.or(suffix)?;
    let token = name
        .split(['.', '_', '-', '/'])
        .find(|t| {
            let t = t.to_ascii_lowercase();
            UNIT_WORDS.iter().any(|(w, u)| *w == t && *u == ucum)
                || UNIT_SUFFIXES.iter().any(|(w, u)| *w == t && *u == ucum)
        })
        .unwrap_or(name);
    Some((token, ucum))
}

/// Checks every metric name of every service.
pub fn check(telemetry: &Telemetry, findings: &mut Findings<'_>) {
    let max_length = findings.config().max_name_length;
    for (service, data) in &telemetry.services {
        for name in data.metrics.keys() {
            let subject = || Subject::metric(name);
            if !is_valid_syntax(name) {
                findings.push(
                    RuleId::MetricNameSyntax,
                    service,
                    subject(),
                    format!("`{name}` is not a valid instrument name: it must start with a letter and contain only letters, digits, `_`, `.`, `-` and `/`"),
                    format!("rename it, e.g. `{}`", suggest_name(name)),
                );
            }
            if name.chars().any(|c| c.is_ascii_uppercase()) {
                findings.push(
                    RuleId::MetricNameLowercase,
                    service,
                    subject(),
                    format!("`{name}` has upper-case letters"),
                    format!("rename it `{}`", suggest_name(name)),
                );
            }
            if let Some(problem) = namespace_problem(name) {
                findings.push(
                    RuleId::MetricNameNamespace,
                    service,
                    subject(),
                    format!("`{name}` {problem}"),
                    format!("rename it, e.g. `{}`", suggest_name(name)),
                );
            }
            let length = name.chars().count();
            if length > max_length {
                findings.push(
                    RuleId::MetricNameLength,
                    service,
                    subject(),
                    format!("`{name}` is {length} characters long; the limit is {max_length}"),
                    "shorten the name",
                );
            }
            if let Some((word, ucum)) = unit_in_name(name) {
                findings.push(
                    RuleId::MetricNameUnit,
                    service,
                    subject(),
                    format!("`{name}` has the unit `{word}` in its name"),
                    format!("drop `{word}` from the name and set the unit to `{ucum}`"),
                );
            }
            if name.to_ascii_lowercase().ends_with("_total") {
                let stem = &name[..name.len() - "_total".len()];
                findings.push(
                    RuleId::MetricNameTotalSuffix,
                    service,
                    subject(),
                    format!(
                        "`{name}` ends with `_total`, which Prometheus exporters add themselves"
                    ),
                    format!("rename it, e.g. `{}`", suggest_name(stem)),
                );
            }
        }
    }
}

/// What is wrong with the namespaces of `name`, if anything.
fn namespace_problem(name: &str) -> Option<&'static str> {
    if name.split('.').any(str::is_empty) {
        Some("has an empty namespace (a leading, trailing or doubled `.`)")
    } else if name.contains(['-', '/']) {
        Some(
            "separates words with `-` or `/`; the conventions use `.` between namespaces and `_` inside one",
        )
    } else if !name.contains('.') {
        Some("has no `.`-separated namespace")
    } else {
        None
    }
}

/// A name in the conventions' style: lower case, `.` between namespaces.
fn suggest_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('.');
            previous_lower = false;
        }
    }
    let mut parts: Vec<&str> = out.split('.').filter(|p| !p.is_empty()).collect();
    if parts.len() == 1 {
        parts = out.split('_').filter(|p| !p.is_empty()).collect();
    }
    let joined = parts.join(".");
    match joined.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => joined,
        _ => format!("app.{joined}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{findings_of, gauge, service};
    use super::*;

    /// (rule, name that triggers it, near miss that does not).
    const CASES: &[(RuleId, &str, &str)] = &[
        (
            RuleId::MetricNameSyntax,
            "2xx.responses",
            "http.responses.2xx",
        ),
        (RuleId::MetricNameSyntax, "app.cart items", "app.cart.items"),
        (RuleId::MetricNameSyntax, "app.cart:items", "app.cart/items"),
        (
            RuleId::MetricNameLowercase,
            "app.Cart.items",
            "app.cart.items",
        ),
        (RuleId::MetricNameNamespace, "cart_items", "cart.items"),
        (RuleId::MetricNameNamespace, "app..cart", "app.cart"),
        (
            RuleId::MetricNameNamespace,
            "app.cart-items",
            "app.cart_items",
        ),
        (
            RuleId::MetricNameUnit,
            "db.query.duration_ms",
            "db.query.duration",
        ),
        (
            RuleId::MetricNameUnit,
            "collection.duration.seconds",
            "collection.duration",
        ),
        (
            RuleId::MetricNameUnit,
            "app.payload.bytes.sent",
            "app.payload.sent",
        ),
        (
            RuleId::MetricNameUnit,
            "app.cache.hit_pct",
            "app.cache.hit_ratio",
        ),
        (
            RuleId::MetricNameTotalSuffix,
            "app.orders_total",
            "app.orders.totals_ok",
        ),
    ];

    #[test]
    fn each_naming_rule_triggers_and_its_near_miss_does_not() {
        for (rule, bad, good) in CASES {
            let found = findings_of(*rule, vec![service("shop/cart").metric(bad, gauge("1"))]);
            assert_eq!(found.len(), 1, "{rule} on `{bad}`: {found:?}");
            assert_eq!(found[0].subject, Subject::metric(bad));
            assert_eq!(found[0].service, "shop/cart");
            let near = findings_of(*rule, vec![service("shop/cart").metric(good, gauge("1"))]);
            assert!(near.is_empty(), "{rule} on near miss `{good}`: {near:?}");
        }
    }

    #[test]
    fn the_length_limit_is_inclusive_and_configurable() {
        let at_limit = format!("app.{}", "x".repeat(251));
        let over_limit = format!("app.{}", "x".repeat(252));
        assert_eq!(at_limit.len(), 255);
        let found = |name: &str| {
            findings_of(
                RuleId::MetricNameLength,
                vec![service("s").metric(name, gauge("1"))],
            )
        };
        assert!(found(&at_limit).is_empty());
        let over = found(&over_limit);
        assert_eq!(over.len(), 1);
        assert!(
            over[0]
                .message
                .contains("256 characters long; the limit is 255"),
            "{}",
            over[0].message
        );
    }

    #[test]
    fn unit_hints_name_the_ucum_code() {
        let found = findings_of(
            RuleId::MetricNameUnit,
            vec![service("s").metric("db.query.duration_ms", gauge("ms"))],
        );
        assert_eq!(
            found[0].hint,
            "drop `ms` from the name and set the unit to `ms`"
        );
        let total = findings_of(
            RuleId::MetricNameTotalSuffix,
            vec![service("s").metric("app.orders_total", gauge("1"))],
        );
        assert_eq!(total[0].hint, "rename it, e.g. `app.orders`");
    }

    #[test]
    fn suggested_names_follow_the_conventions() {
        assert_eq!(suggest_name("App.CartItems"), "app.cart_items");
        assert_eq!(suggest_name("cart_items"), "cart.items");
        assert_eq!(suggest_name("2xx.responses"), "app.2xx.responses");
        assert_eq!(suggest_name("app.cart-items"), "app.cart.items");
    }
}
