//! Fingerprints from OTLP/JSON files, offline: the Collector file exporter's
//! format (one export request per line) or a single JSON document.

use std::path::Path;

use serde::de::IgnoredAny;

use crate::Fingerprinter;
use crate::error::Error;
use crate::otlp::json;

/// What an offline run read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// Export requests read, per signal.
    pub requests: [u64; 3],
    /// Items left out as invalid.
    pub rejected_items: u64,
}

/// Feeds every export request in `path` to `engine`. A document that is not
/// an OTLP/JSON export request stops the run with its line number.
pub fn fingerprint_file(
    engine: &Fingerprinter,
    path: &Path,
    summary: &mut FileSummary,
) -> Result<(), Error> {
    let data = std::fs::read(path).map_err(|source| Error::InputRead {
        path: path.to_owned(),
        source,
    })?;
    // One pretty-printed document, or one document per line (the Collector
    // file exporter's format), each reported with its own line number.
    if serde_json::from_slice::<IgnoredAny>(&data).is_ok() {
        return fingerprint_document(engine, path, 1, &data, summary);
    }
    for (index, line) in data.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        fingerprint_document(engine, path, index + 1, line, summary)?;
    }
    Ok(())
}

fn fingerprint_document(
    engine: &Fingerprinter,
    path: &Path,
    line: usize,
    document: &[u8],
    summary: &mut FileSummary,
) -> Result<(), Error> {
    let input_error = |message: String| Error::Input {
        path: path.to_owned(),
        line,
        message,
    };
    let signal = match json::detect_signal(document) {
        Ok(Some(signal)) => signal,
        Ok(None) => {
            let message =
                "not an OTLP export request (no resourceSpans, resourceMetrics or resourceLogs)";
            return Err(input_error(message.into()));
        }
        Err(e) => return Err(input_error(e.to_string())),
    };
    let transcoded = json::transcode(signal, document).map_err(|e| input_error(e.to_string()))?;
    let outcome = engine
        .ingest(signal, &transcoded.protobuf, document.len())
        .map_err(|e| input_error(e.to_string()))?;
    if transcoded.rejected_items > 0 {
        engine.reject_items(signal, transcoded.rejected_items);
        if let Some(reason) = &transcoded.first_rejection {
            tracing::warn!(path = %path.display(), line, %reason, "items left out");
        }
    }
    summary.requests[signal.index()] += 1;
    summary.rejected_items += transcoded.rejected_items + outcome.rejected;
    Ok(())
}
