//! Reading the DOM Chromium dumped: elements found by one attribute, their text and classes.
//! Enough for the UI's own markup (every element the tests look for carries a `data-…`
//! attribute), not a general HTML parser.

/// One element of the dumped DOM: its outer HTML.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    pub html: &'a str,
}

/// Every element whose start tag carries `attribute` exactly as written, e.g.
/// `data-metric="app.orders.placed"`, or any value of it (`data-metric=`), in document order.
pub fn find_all<'a>(html: &'a str, attribute: &str) -> Vec<Element<'a>> {
    let needle = format!(" {attribute}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = html[from..].find(&needle).map(|i| from + i) {
        from = at + needle.len();
        // The attribute must end here (not be the prefix of a longer name or value), unless
        // only its name was asked for (`data-service=`).
        if !attribute.ends_with('=') && !html[from..].starts_with([' ', '>', '/']) {
            continue;
        }
        let Some(start) = html[..at].rfind('<') else {
            continue;
        };
        if html[start..at].contains('>') {
            continue; // inside text, not a start tag
        }
        if let Some(end) = element_end(html, start) {
            found.push(Element {
                html: &html[start..end],
            });
        }
    }
    found
}

/// The one element with `attribute`; panics (showing `what`) when there is none.
pub fn find<'a>(html: &'a str, attribute: &str, what: &str) -> Element<'a> {
    find_all(html, attribute)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{what}: no element with {attribute}"))
}

const VOID: &[&str] = &["br", "hr", "img", "input", "meta", "link", "col", "wbr"];

/// The end (exclusive) of the element whose start tag begins at `start`.
fn element_end(html: &str, start: usize) -> Option<usize> {
    let name: String = html[start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let open_end = start + html[start..].find('>')? + 1;
    if VOID.contains(&name.as_str()) {
        return Some(open_end);
    }
    let (open, close) = (format!("<{name}"), format!("</{name}>"));
    let mut depth = 1;
    let mut at = open_end;
    while depth > 0 {
        let next_close = at + html[at..].find(&close)?;
        let next_open = html[at..next_close]
            .match_indices(&open)
            .map(|(i, _)| at + i)
            .find(|&i| html[i + open.len()..].starts_with([' ', '>']));
        match next_open {
            Some(i) => {
                depth += 1;
                at = i + open.len();
            }
            None => {
                depth -= 1;
                at = next_close + close.len();
            }
        }
    }
    Some(at)
}

impl<'a> Element<'a> {
    /// The start tag, e.g. `<td class="differs" data-side="baseline">`.
    pub fn start_tag(&self) -> &'a str {
        let end = self.html.find('>').map_or(self.html.len(), |i| i + 1);
        &self.html[..end]
    }

    /// The value of `name` on the start tag, entities decoded.
    pub fn attr(&self, name: &str) -> Option<String> {
        let tag = self.start_tag();
        let needle = format!(" {name}=\"");
        let at = tag.find(&needle)? + needle.len();
        let len = tag[at..].find('"')?;
        Some(decode(&tag[at..at + len]))
    }

    /// Whether the start tag's `class` lists `class`.
    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|classes| classes.split_whitespace().any(|c| c == class))
    }

    /// The text content, tags removed, entities decoded, white space collapsed.
    pub fn text(&self) -> String {
        let mut text = String::new();
        let mut in_tag = false;
        for (i, c) in self.html.char_indices() {
            match c {
                '<' => {
                    in_tag = true;
                    // Tags separate words, except <wbr> (a line-break opportunity inside one).
                    if !self.html[i..].starts_with("<wbr>") {
                        text.push(' ');
                    }
                }
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        decode(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Elements inside this one with `attribute`.
    pub fn find_all(&self, attribute: &str) -> Vec<Element<'a>> {
        find_all(self.html, attribute)
            .into_iter()
            .filter(|e| !std::ptr::eq(e.html.as_ptr(), self.html.as_ptr()))
            .collect()
    }

    /// The element inside this one with `attribute`; panics (showing `what`) when none.
    pub fn find(&self, attribute: &str, what: &str) -> Element<'a> {
        self.find_all(attribute)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{what}: no element with {attribute} in {}", self.html))
    }
}

/// Decodes the entities Chromium writes when it serializes text and attributes.
fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

#[test]
fn finds_elements_by_attribute_with_their_text() {
    let html = r#"<body><table><tr data-metric="a.b"><td data-side="baseline" class="differs x">{order}</td><td data-side="candidate"><code>1</code></td></tr><tr data-metric="a.b.c"><td>no</td></tr></table><p data-x="1">a &lt;b&gt; &amp; c</p></body>"#;
    let row = find(html, r#"data-metric="a.b""#, "row");
    assert_eq!(row.text(), "{order} 1");
    let baseline = row.find(r#"data-side="baseline""#, "baseline cell");
    assert!(baseline.has_class("differs"));
    assert_eq!(baseline.text(), "{order}");
    assert_eq!(row.find(r#"data-side="candidate""#, "cell").text(), "1");
    assert_eq!(find_all(html, r#"data-metric="a.b""#).len(), 1);
    assert_eq!(find(html, r#"data-x="1""#, "p").text(), "a <b> & c");
    let nested = r#"<div data-a=""><div>x</div><div>y<wbr>z</div></div><div>z</div>"#;
    assert_eq!(find(nested, r#"data-a="""#, "div").text(), "x yz");
}
