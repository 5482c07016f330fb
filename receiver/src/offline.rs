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
    let input_error = |offset: usize, message: String| Error::Input {
        path: path.to_owned(),
        line: 1 + data[..offset.min(data.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        message,
    };
    let mut documents = serde_json::Deserializer::from_slice(&data).into_iter::<IgnoredAny>();
    loop {
        let start = documents.byte_offset();
        match documents.next() {
            None => return Ok(()),
            Some(Err(e)) => return Err(input_error(start, format!("invalid JSON: {e}"))),
            Some(Ok(_)) => {}
        }
        let document = &data[start..documents.byte_offset()];
        // The offset points at the whitespace before the document; report
        // the line the document itself starts on.
        let skipped = document
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        let signal = match json::detect_signal(document) {
            Ok(Some(signal)) => signal,
            Ok(None) => {
                let message = "not an OTLP export request (no resourceSpans, resourceMetrics or resourceLogs)";
                return Err(input_error(start + skipped, message.into()));
            }
            Err(e) => return Err(input_error(start + skipped, e.to_string())),
        };
        let transcoded = json::transcode(signal, document)
            .map_err(|e| input_error(start + skipped, e.to_string()))?;
        let outcome = engine
            .ingest(signal, &transcoded.protobuf, document.len())
            .map_err(|e| input_error(start + skipped, e.to_string()))?;
        if transcoded.rejected_items > 0 {
            engine.reject_items(signal, transcoded.rejected_items);
            if let Some(reason) = &transcoded.first_rejection {
                tracing::warn!(path = %path.display(), %reason, "items left out");
            }
        }
        summary.requests[signal.index()] += 1;
        summary.rejected_items += transcoded.rejected_items + outcome.rejected;
    }
}
