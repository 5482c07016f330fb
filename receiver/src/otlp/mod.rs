//! OTLP in: the gRPC and HTTP servers, OTLP/JSON, and the message layouts.

pub mod compression;
pub mod grpc;
pub mod http;
pub mod json;
pub mod response;
pub mod schema;
