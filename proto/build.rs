//! Compiles `parity/v1/*.proto` with protox (pure Rust, no protoc) into prost
//! messages, the tonic push service, and pbjson serde impls that follow the
//! proto3 JSON mapping.
use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["parity/v1/fingerprint.proto", "parity/v1/push.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    // Maps become BTreeMaps so that snapshots serialize sorted by key.
    tonic_prost_build::configure()
        .btree_map(".")
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors.clone())?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptors.encode_to_vec())?
        .btree_map(["."])
        // A snapshot from a newer release (with fields this one does not
        // know) still reads, as protobuf's own decoding allows.
        .ignore_unknown_fields()
        .out_dir(&out_dir)
        .build(&[".parity"])?;

    // pbjson writes maps whose values need converting (uint64 → string)
    // through a HashMap, whatever `btree_map` says, which would make snapshot
    // key order random. Collect them into a BTreeMap instead.
    let serde_path = out_dir.join("parity.v1.serde.rs");
    let generated = std::fs::read_to_string(&serde_path)?;
    let sorted = generated.replace(
        "let v: std::collections::HashMap<_, _> =",
        "let v: std::collections::BTreeMap<_, _> =",
    );
    std::fs::write(&serde_path, sorted)?;
    Ok(())
}
