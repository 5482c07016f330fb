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
    let faithful = write_doubles_as_proto3_json(&descriptors, sorted)?;
    std::fs::write(&serde_path, faithful)?;
    Ok(())
}

/// pbjson hands doubles to serde as they are, and serde_json writes NaN and
/// ±infinity as `null`, which no reader takes back (pbjson issue 106): a
/// histogram bound of NaN would make the snapshot unreadable. The proto3 JSON
/// mapping writes them as "NaN", "Infinity" and "-Infinity" (which pbjson
/// reads), so every double field is serialized through `crate::json_double`.
fn write_doubles_as_proto3_json(
    descriptors: &prost_types::FileDescriptorSet,
    mut generated: String,
) -> Result<String, Box<dyn std::error::Error>> {
    use prost_types::field_descriptor_proto::{Label, Type};

    let mut fields = std::collections::BTreeMap::<(String, String, bool), usize>::new();
    for message in descriptors.file.iter().flat_map(|f| &f.message_type) {
        for field in &message.field {
            let repeated = field.label() == Label::Repeated;
            match field.r#type() {
                Type::Double => {
                    let key = (
                        field.json_name().to_owned(),
                        field.name().to_owned(),
                        repeated,
                    );
                    *fields.entry(key).or_default() += 1;
                }
                Type::Float => {
                    return Err(format!(
                        "{}.{}: float fields need the same NaN handling as doubles",
                        message.name(),
                        field.name()
                    )
                    .into());
                }
                _ => {}
            }
        }
    }
    for ((json_name, name, repeated), expected) in fields {
        let wrapper = if repeated { "Doubles(&" } else { "Double(" };
        let from = format!("struct_ser.serialize_field(\"{json_name}\", &self.{name})?;");
        let to = format!(
            "struct_ser.serialize_field(\"{json_name}\", &crate::json_double::{wrapper}self.{name}))?;"
        );
        let found = generated.matches(&from).count();
        if found != expected {
            return Err(format!(
                "pbjson's output changed: {expected} double field(s) `{name}` but {found} `{from}`"
            )
            .into());
        }
        generated = generated.replace(&from, &to);
    }
    Ok(generated)
}
