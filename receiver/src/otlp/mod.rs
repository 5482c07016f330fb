//! OTLP in: the gRPC and HTTP servers, what they share (`intake`: the engine,
//! the admission budget, the counters), OTLP/JSON, and the message layouts.

pub mod body;
pub mod compression;
pub mod grpc;
pub mod http;
pub mod intake;
pub mod json;
pub mod response;
pub mod schema;
