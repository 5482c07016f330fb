//! Clients that send exactly the bytes they are given, possibly malformed, over real sockets:
//! OTLP/gRPC with a pass-through codec (`grpc`) and HTTP/1.1 on a TCP stream (`http`).

pub mod grpc;
pub mod http;
