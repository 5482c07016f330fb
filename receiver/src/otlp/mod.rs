//! OTLP in: the gRPC and HTTP servers, OTLP/JSON, and the message layouts.

pub mod schema;
