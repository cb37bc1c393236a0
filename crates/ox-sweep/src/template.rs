//! `{name}` placeholders in commands: parsed once, checked against the known names before
//! anything starts, then filled per member.
//!
//! A placeholder is `{` + a name of letters, digits, `_`, `-` and `.` + `}`. `{{` and `}}`
//! are a literal brace, and `${...}` is left alone for the shell.

use std::collections::BTreeMap;

/// One piece of a command word.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Name(String),
}

/// A command word with placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

impl Template {
    /// Parses `text`; anything that is not a placeholder is kept as written.
    pub fn parse(text: &str) -> Self {
        let mut pieces = Vec::new();
        let mut buf = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let next = chars.get(i + 1).copied();
            if c == '{' && next == Some('{') || c == '}' && next == Some('}') {
                buf.push(c);
                i += 2;
                continue;
            }
            let after_dollar = i > 0 && chars.get(i - 1) == Some(&'$');
            if c == '{' && !after_dollar {
                let end = chars[i + 1..].iter().position(|&c| !is_name_char(c));
                if let Some(len) = end
                    && len > 0
                    && chars.get(i + 1 + len) == Some(&'}')
                {
                    if !buf.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut buf)));
                    }
                    pieces.push(Piece::Name(chars[i + 1..i + 1 + len].iter().collect()));
                    i += len + 2;
                    continue;
                }
            }
            buf.push(c);
            i += 1;
        }
        if !buf.is_empty() {
            pieces.push(Piece::Text(buf));
        }
        Template { pieces }
    }

    /// The placeholder names, in order of appearance.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Name(n) => Some(n.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// Fills the placeholders from `values`; `quote` wraps each value (for a shell string).
    /// A name missing from `values` is left as `{name}` (the spec check rejects those first).
    pub fn render(&self, values: &BTreeMap<String, String>, quote: bool) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Name(n) => match values.get(n) {
                    Some(v) if quote => out.push_str(&ox_core::shell::quote(v)),
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(n);
                        out.push('}');
                    }
                },
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fills_dotted_names_and_keeps_braces_and_shell_variables() {
        let t = Template::parse("--lr={lr} {model.layers} {{x}} ${HOME} {not closed");
        assert_eq!(t.names().collect::<Vec<_>>(), ["lr", "model.layers"]);
        let v = values(&[("lr", "0.001"), ("model.layers", "12")]);
        assert_eq!(t.render(&v, false), "--lr=0.001 12 {x} ${HOME} {not closed");
    }

    #[test]
    fn quotes_values_for_a_shell_string() {
        let t = Template::parse("echo {msg}");
        let v = values(&[("msg", "it's here")]);
        assert_eq!(t.render(&v, true), r"echo 'it'\''s here'");
        assert_eq!(ox_core::shell::quote("1e-05"), "1e-05");
    }

    #[test]
    fn unknown_names_stay_visible() {
        let t = Template::parse("{a}{b}");
        assert_eq!(t.render(&values(&[("a", "1")]), false), "1{b}");
    }
}
