//! A validator for the case-sensitive UCUM unit codes that OpenTelemetry uses (`s`, `ms`,
//! `By`, `KiBy`, `{request}/s`, `m/s2`, `%`, `1`): terms of prefixed atoms with integer
//! exponents, joined by `.` and `/`, with parentheses, numeric factors and `{…}` annotations.
//! It knows the SI base and derived units, time, information and the common dimensionless
//! units; an atom outside that list is reported as unknown.

/// Atoms that take a metric prefix (`k`, `m`, `Ki`, …).
const METRIC_ATOMS: &[&str] = &[
    "m", "s", "g", "rad", "K", "C", "cd", "mol", "sr", "Hz", "N", "Pa", "J", "W", "A", "V", "F",
    "Ohm", "S", "Wb", "Cel", "T", "H", "lm", "lx", "Bq", "Gy", "Sv", "l", "L", "ar", "t", "bar",
    "u", "eV", "B", "bit", "By", "Bd", "mho", "R", "Gal", "dyn", "erg", "P", "St", "Mx", "G", "Oe",
    "Gb", "Ci", "b", "st", "Np",
];

/// Atoms that take no prefix.
const PLAIN_ATOMS: &[&str] = &[
    "min", "h", "d", "wk", "mo", "a", "%", "deg", "gon", "[ppm]", "[ppb]", "[ppth]", "[pptr]",
    "[pi]", "[degF]", "[in_i]", "[ft_i]", "[mi_i]", "[lb_av]", "[oz_av]",
];

/// Metric prefixes, two-letter ones first so that `da` and `Ki` win over `d` and `K`.
const PREFIXES: &[&str] = &[
    "da", "Ki", "Mi", "Gi", "Ti", "Y", "Z", "E", "P", "T", "G", "M", "k", "h", "d", "c", "m", "u",
    "n", "p", "f", "a", "z", "y",
];

/// A unit symbol with its prefix, e.g. `ms` = (`m`, `s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    /// The metric prefix, "" when none.
    pub prefix: &'a str,
    /// The atom.
    pub atom: &'a str,
}

/// Splits one unit symbol (no exponent, no operators) into prefix and atom.
pub fn symbol(text: &str) -> Option<Symbol<'_>> {
    if METRIC_ATOMS.contains(&text) || PLAIN_ATOMS.contains(&text) {
        return Some(Symbol {
            prefix: "",
            atom: text,
        });
    }
    PREFIXES.iter().find_map(|prefix| {
        let atom = text.strip_prefix(prefix)?;
        METRIC_ATOMS
            .contains(&atom)
            .then_some(Symbol { prefix, atom })
    })
}

/// Checks that `unit` is a valid UCUM (c/s) expression; the error says what is wrong.
pub fn validate(unit: &str) -> Result<(), String> {
    let mut parser = Parser {
        text: unit,
        position: 0,
    };
    if unit.is_empty() {
        return Err("the unit is empty".into());
    }
    parser.term()?;
    if parser.position < unit.len() {
        return Err(format!(
            "unexpected {:?} at position {}",
            &unit[parser.position..],
            parser.position + 1
        ));
    }
    Ok(())
}

struct Parser<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position).copied()
    }

    fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    fn term(&mut self) -> Result<(), String> {
        if self.peek() == Some(b'/') {
            self.position += 1;
        }
        self.component()?;
        while let Some(b'.' | b'/') = self.peek() {
            self.position += 1;
            self.component()?;
        }
        Ok(())
    }

    fn component(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(b'{') => return self.annotation(),
            Some(b'(') => {
                self.position += 1;
                self.term()?;
                if self.peek() != Some(b')') {
                    return Err("unbalanced `(`".into());
                }
                self.position += 1;
            }
            Some(b'0'..=b'9') => {
                let digits = self.digits();
                if digits == "10" && matches!(self.peek(), Some(b'*' | b'^')) {
                    self.position += 1;
                    self.exponent()?;
                }
            }
            Some(b'[') => {
                let end = self.rest().find(']').ok_or("unbalanced `[`")?;
                let atom = &self.rest()[..=end];
                symbol(atom).ok_or_else(|| format!("unknown unit `{atom}`"))?;
                self.position += end + 1;
                self.exponent()?;
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'%' => {
                let length = self
                    .rest()
                    .bytes()
                    .take_while(|c| c.is_ascii_alphabetic() || *c == b'%')
                    .count();
                let text = &self.rest()[..length];
                symbol(text).ok_or_else(|| format!("unknown unit `{text}`"))?;
                self.position += length;
                self.exponent()?;
            }
            Some(c) => {
                return Err(format!(
                    "unexpected `{}` at position {}",
                    char::from(c),
                    self.position + 1
                ));
            }
            None => return Err("the unit ends with an operator".into()),
        }
        if self.peek() == Some(b'{') {
            self.annotation()?;
        }
        Ok(())
    }

    fn digits(&mut self) -> &'a str {
        let length = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        let digits = &self.rest()[..length];
        self.position += length;
        digits
    }

    /// An optional signed integer exponent.
    fn exponent(&mut self) -> Result<(), String> {
        let signed = matches!(self.peek(), Some(b'+' | b'-'));
        if signed {
            self.position += 1;
        }
        if self.digits().is_empty() && signed {
            return Err("a sign without an exponent".into());
        }
        Ok(())
    }

    fn annotation(&mut self) -> Result<(), String> {
        let end = self.rest().find('}').ok_or("unbalanced `{`")?;
        let inside = &self.rest()[1..end];
        if inside.is_empty() {
            return Err("an empty `{}` annotation".into());
        }
        if let Some(bad) = inside.chars().find(|c| !c.is_ascii_graphic() || *c == '{') {
            return Err(format!("{bad:?} inside an annotation"));
        }
        self.position += end + 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_the_conventions_use_are_valid() {
        for unit in [
            "s",
            "ms",
            "us",
            "ns",
            "min",
            "h",
            "d",
            "By",
            "KiBy",
            "MiBy",
            "kBy",
            "bit",
            "1",
            "%",
            "Cel",
            "Hz",
            "{request}",
            "{request}/s",
            "By/s",
            "m/s2",
            "s-1",
            "/s",
            "1/s",
            "{packet}",
            "kg.m/s2",
            "(By/s)",
            "10*3{item}",
            "[ppm]",
            "W",
            "J",
            "A",
            "V",
            "{cpu}.s",
        ] {
            assert_eq!(validate(unit), Ok(()), "{unit}");
        }
    }

    #[test]
    fn words_and_wrong_case_are_not_ucum() {
        for (unit, reason) in [
            ("seconds", "unknown unit `seconds`"),
            ("Seconds", "unknown unit `Seconds`"),
            ("requests", "unknown unit `requests`"),
            ("KB", "unknown unit `KB`"),
            ("sec", "unknown unit `sec`"),
            ("{request", "unbalanced `{`"),
            ("{}", "empty"),
            ("By/", "ends with an operator"),
            ("ms ", "unexpected"),
            ("s^2", "unexpected"),
            ("", "empty"),
            ("req/s", "unknown unit `req`"),
        ] {
            let error = validate(unit).expect_err(unit);
            assert!(error.contains(reason), "{unit}: {error}");
        }
    }

    #[test]
    fn symbols_split_into_prefix_and_atom() {
        assert_eq!(
            symbol("ms"),
            Some(Symbol {
                prefix: "m",
                atom: "s"
            })
        );
        assert_eq!(
            symbol("min"),
            Some(Symbol {
                prefix: "",
                atom: "min"
            })
        );
        assert_eq!(
            symbol("KiBy"),
            Some(Symbol {
                prefix: "Ki",
                atom: "By"
            })
        );
        assert_eq!(symbol("dam").map(|s| s.prefix), Some("da"));
        assert_eq!(symbol("seconds"), None);
    }
}
