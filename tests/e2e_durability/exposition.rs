//! Reading the analyzer's `/metrics` exposition text.

/// The value of the sample `name` (with its labels, exactly as exposed, e.g.
/// `otel_parity_pushes_total{result="stored"}`) in exposition `text`; 0 when absent.
pub fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            (series == name).then(|| value.parse::<f64>().ok())?
        })
        .unwrap_or(0.0)
}
