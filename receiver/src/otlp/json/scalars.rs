//! Scalars: strings, booleans, integers, doubles, hex ids and base64. Each failure is the
//! problem, without the path; the caller adds where it is.

use serde_json::Value;

pub(super) fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", describe(found))
}

pub(super) fn describe(value: &Value) -> String {
    const SHOWN_CHARS: usize = 40;
    match value {
        Value::String(text) if text.chars().count() > SHOWN_CHARS => {
            format!("{:?}…", text.chars().take(SHOWN_CHARS).collect::<String>())
        }
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        scalar => scalar.to_string(),
    }
}

pub(super) fn parse_str(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| expected("a string", value))
}

pub(super) fn parse_bool(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| expected("true or false", value))
}

/// A JSON integer, or a decimal string as the OTLP/JSON mapping writes 64-bit integers.
pub(super) fn parse_u64(value: &Value) -> Result<u64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| expected("an unsigned integer (a number or a decimal string)", value))
}

pub(super) fn parse_i64(value: &Value) -> Result<i64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| expected("an integer (a number or a decimal string)", value))
}

pub(super) fn parse_u32(value: &Value) -> Result<u32, String> {
    let wide = parse_u64(value)?;
    u32::try_from(wide).map_err(|_| format!("expected an unsigned 32-bit integer, found {wide}"))
}

pub(super) fn parse_i32(value: &Value) -> Result<i32, String> {
    let wide = parse_i64(value)?;
    i32::try_from(wide).map_err(|_| format!("expected a 32-bit integer, found {wide}"))
}

/// A JSON number, "NaN", "Infinity", "-Infinity" or a decimal string.
pub(super) fn parse_f64(value: &Value) -> Result<f64, String> {
    let is_decimal = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    };
    let parsed = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => match text.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            decimal if is_decimal(decimal) => decimal.parse().ok(),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| expected("a number", value))
}

/// A trace or span id: hex digits in either case; "" is an absent (empty) id.
pub(super) fn parse_hex_id(value: &Value, bytes: usize) -> Result<Vec<u8>, String> {
    let digits = bytes * 2;
    let text = value
        .as_str()
        .ok_or_else(|| expected(&format!("a string of {digits} hex digits"), value))?;
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "expected {digits} hex digits, found non-hex character {bad:?}"
        ));
    }
    if !text.is_empty() && text.len() != digits {
        return Err(format!(
            "expected {digits} hex digits, found {}",
            text.len()
        ));
    }
    let nibble = |digit: u8| (digit as char).to_digit(16).unwrap_or_default() as u8;
    let pairs = text.as_bytes().chunks_exact(2);
    Ok(pairs
        .map(|pair| {
            pair.iter()
                .fold(0, |byte, &digit| byte << 4 | nibble(digit))
        })
        .collect())
}

/// Standard or URL-safe base64, with or without padding.
pub(super) fn parse_base64(value: &Value) -> Result<Vec<u8>, String> {
    let text = parse_str(value)?;
    let unpadded = text.trim_end_matches('=');
    let padding = text.len() - unpadded.len();
    if unpadded.len() % 4 == 1 || (padding > 0 && (padding > 2 || text.len() % 4 != 0)) {
        return Err(format!(
            "expected base64, found {} characters, a length base64 cannot have",
            text.len()
        ));
    }
    let mut out = Vec::with_capacity(unpadded.len() * 3 / 4);
    let (mut bits, mut held) = (0u32, 0u32);
    for (position, c) in unpadded.bytes().enumerate() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => {
                return Err(format!(
                    "expected base64, found {:?} at position {position}",
                    c as char
                ));
            }
        };
        bits = bits << 6 | u32::from(sextet);
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    Ok(out)
}
