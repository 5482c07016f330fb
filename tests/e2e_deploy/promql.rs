//! Just enough PromQL lexing to name the metrics an expression selects, for
//! checking dashboards and rules against what `/metrics` exposes.

use std::collections::BTreeSet;

/// Keywords that take a parenthesised list of label names.
const LABEL_LIST_KEYWORDS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Keywords and constants that look like identifiers but select nothing.
const OTHER_KEYWORDS: [&str; 8] = [
    "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
];

/// Aggregation operators: followed by `(` like functions, or by `by (…)` /
/// `without (…)` first.
const AGGREGATIONS: [&str; 14] = [
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "limitk",
    "limit_ratio",
];

/// The metric names `expr` selects: identifiers that are not functions,
/// keywords or label names. Label matchers (`{…}`), ranges (`[…]`), strings
/// and Grafana variables (`$baseline`, `${datasource}`, `$__rate_interval`)
/// are skipped.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            '{' => i = skip_balanced(&chars, i, '{', '}'),
            '[' => i = skip_balanced(&chars, i, '[', ']'),
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '$' => {
                i += 1;
                if chars.get(i) == Some(&'{') {
                    i = skip_balanced(&chars, i, '{', '}');
                } else {
                    while i < chars.len() && is_ident_char(chars[i]) {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                // A number or a duration: 0.5, 1e-9, 0x1f, 5m.
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let ident: String = chars[start..i].iter().collect();
                let mut next = i;
                while next < chars.len() && chars[next].is_whitespace() {
                    next += 1;
                }
                let called = chars.get(next) == Some(&'(');
                if LABEL_LIST_KEYWORDS.contains(&ident.as_str()) {
                    if called {
                        i = skip_balanced(&chars, next, '(', ')');
                    }
                } else if !called
                    && !OTHER_KEYWORDS.contains(&ident.as_str())
                    && !AGGREGATIONS.contains(&ident.as_str())
                {
                    names.insert(ident);
                }
            }
            _ => i += 1,
        }
    }
    names
}

/// The metric names of a Grafana Prometheus variable query:
/// `label_values(selector, label)`, `label_values(label)`,
/// `query_result(expr)`, or an expression.
pub fn variable_query_metric_names(query: &str) -> BTreeSet<String> {
    let query = query.trim();
    if let Some(inner) = query
        .strip_prefix("label_values(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return match split_last_top_level_comma(inner) {
            Some((selector, _label)) => metric_names(selector),
            None => BTreeSet::new(),
        };
    }
    if let Some(inner) = query
        .strip_prefix("query_result(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return metric_names(inner);
    }
    metric_names(query)
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Index just past the string literal opening at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if quote != '`' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Index just past the bracket closing the one at `start`; strings inside
/// may contain brackets.
fn skip_balanced(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(chars, i);
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

/// `a, b` → (`a`, `b`) at the last comma outside brackets and strings.
fn split_last_top_level_comma(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut last = None;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth -= 1,
            ',' if depth == 0 => last = Some(index),
            _ => {}
        }
    }
    last.map(|index| (&text[..index], &text[index + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        metric_names(expr).into_iter().collect()
    }

    #[test]
    fn selectors_are_named_and_functions_labels_keywords_and_variables_are_not() {
        assert_eq!(
            names(
                r#"sum by (baseline, candidate) (rate(otel_parity_comparisons_total{result="uncovered", x=~"a{1}"}[$__rate_interval]))
                   / on () group_left () slo:otel_parity_coverage_error_budget:ratio
                   unless on (service) otel_parity_traces_missing{service=~"$service"} == bool 1
                   or time() - max_over_time(otel_parity_last_evaluation_timestamp_seconds[6h]) > 1e-9
                   or label_replace(vector(0.9), "dst", "$1", "src", "(.*)") offset 5m"#
            ),
            vec![
                "otel_parity_comparisons_total",
                "otel_parity_last_evaluation_timestamp_seconds",
                "otel_parity_traces_missing",
                "slo:otel_parity_coverage_error_budget:ratio",
            ]
        );
    }

    #[test]
    fn aggregation_modifiers_after_the_argument_are_label_lists() {
        assert_eq!(
            names("sum(otel_parity_findings{severity!=\"info\"}) without (instance, job)"),
            vec!["otel_parity_findings"]
        );
    }

    #[test]
    fn variable_queries_name_the_selector_not_the_label() {
        let found: Vec<String> = variable_query_metric_names(
            r#"label_values(otel_parity_coverage_ratio{baseline="$baseline"}, candidate)"#,
        )
        .into_iter()
        .collect();
        assert_eq!(found, vec!["otel_parity_coverage_ratio"]);
        assert!(variable_query_metric_names("label_values(baseline)").is_empty());
    }
}
