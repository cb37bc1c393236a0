//! A small document model rendered twice: Markdown (`report.md`) and a self-contained HTML
//! page (`report.html`, images inlined as data URIs, no network needed to view it).
//!
//! Inline text understands two Markdown marks, `**bold**` and `` `code` ``; everything
//! else is literal (escaped in HTML).

use ox_render::ResultsTable;
use ox_render::results::html_escape;

/// One block of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 1–4 heading.
    Heading(u8, String),
    Paragraph(String),
    Bullets(Vec<String>),
    Numbered(Vec<String>),
    Table(ResultsTable),
    /// An image by its path relative to the document (`plots/loss.svg`).
    Image {
        path: String,
        alt: String,
    },
    /// Preformatted text.
    Code(String),
    /// A thematic break.
    Rule,
}

/// A titled list of blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// The bytes of an image and its MIME type, for inlining into HTML.
pub struct InlineImage {
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

impl Document {
    /// Appends a block.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# {}\n", self.title);
        for b in &self.blocks {
            out.push('\n');
            match b {
                Block::Heading(level, text) => {
                    out.push_str(&format!(
                        "{} {text}\n",
                        "#".repeat(usize::from(*level).clamp(1, 6))
                    ));
                }
                Block::Paragraph(text) => {
                    out.push_str(text);
                    out.push('\n');
                }
                Block::Bullets(items) => {
                    for i in items {
                        out.push_str(&format!("- {i}\n"));
                    }
                }
                Block::Numbered(items) => {
                    for (n, i) in items.iter().enumerate() {
                        out.push_str(&format!("{}. {i}\n", n + 1));
                    }
                }
                Block::Table(t) => out.push_str(&t.to_markdown()),
                Block::Image { path, alt } => out.push_str(&format!("![{alt}]({path})\n")),
                Block::Code(text) => {
                    out.push_str("```\n");
                    out.push_str(text);
                    if !text.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str("```\n");
                }
                Block::Rule => out.push_str("---\n"),
            }
        }
        out
    }

    /// One HTML page with its style inline; `image` returns the bytes of an image path,
    /// which are inlined as a data URI (an image it cannot find is shown as its alt text,
    /// never as a broken link).
    pub fn to_html(&self, image: &dyn Fn(&str) -> Option<InlineImage>) -> String {
        let mut out =
            String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str(&format!(
            "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
            html_escape(&self.title)
        ));
        out.push_str(&format!("<h1>{}</h1>\n", inline_html(&self.title)));
        for b in &self.blocks {
            match b {
                Block::Heading(level, text) => {
                    let l = (*level).clamp(1, 6);
                    out.push_str(&format!("<h{l}>{}</h{l}>\n", inline_html(text)));
                }
                Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", inline_html(text))),
                Block::Bullets(items) | Block::Numbered(items) => {
                    let tag = if matches!(b, Block::Bullets(_)) { "ul" } else { "ol" };
                    out.push_str(&format!("<{tag}>\n"));
                    for i in items {
                        out.push_str(&format!("<li>{}</li>\n", inline_html(i)));
                    }
                    out.push_str(&format!("</{tag}>\n"));
                }
                Block::Table(t) => {
                    out.push_str("<div class=\"table\">");
                    out.push_str(&t.to_html());
                    out.push_str("</div>\n");
                }
                Block::Image { path, alt } => match image(path) {
                    Some(img) => out.push_str(&format!(
                        "<figure><img src=\"data:{};base64,{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                        img.mime,
                        base64(&img.bytes),
                        html_escape(alt),
                        inline_html(alt)
                    )),
                    None => out.push_str(&format!(
                        "<p class=\"missing\">(figure not available: {})</p>\n",
                        inline_html(alt)
                    )),
                },
                Block::Code(text) => out.push_str(&format!("<pre>{}</pre>\n", html_escape(text))),
                Block::Rule => out.push_str("<hr>\n"),
            }
        }
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }
}

const STYLE: &str = "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;background:#fff;margin:0}\
main{max-width:60rem;margin:0 auto;padding:1.5rem 2rem 4rem}\
h1{font-size:1.8rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}\
h2{font-size:1.4rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}\
h3{font-size:1.15rem;margin-top:1.6rem}\
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:#f6f8fa;border-radius:4px}\
code{padding:.1em .3em}pre{padding:.8rem;overflow-x:auto}\
.table{overflow-x:auto}table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}\
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;white-space:nowrap}\
th{background:#f6f8fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
tbody tr:nth-child(even){background:#fafbfc}\
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eaeef2}\
figcaption{color:#57606a;font-size:.9rem}.missing{color:#9a6700}\
hr{border:0;border-top:1px solid #d0d7de;margin:2rem 0}";

/// Inline text to HTML: escaped, with `**bold**` and `` `code` `` marks.
pub fn inline_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut bold = false;
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`')
            && let Some(end) = after.find('`')
        {
            out.push_str("<code>");
            out.push_str(&html_escape(&after[..end]));
            out.push_str("</code>");
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("**")
            && (bold || after.contains("**"))
        {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = after;
            continue;
        }
        let next = rest
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '`' || *c == '*')
            .map_or(rest.len(), |(i, _)| i);
        out.push_str(&html_escape(&rest[..next]));
        rest = &rest[next..];
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

/// Standard base64 with padding (RFC 4648), for data URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn inline_marks() {
        assert_eq!(
            inline_html("**lr=0.1** is best: `a<b` & 2*3"),
            "<strong>lr=0.1</strong> is best: <code>a&lt;b</code> &amp; 2*3"
        );
    }

    #[test]
    fn markdown_and_html_agree() {
        let doc = Document {
            title: "T".into(),
            blocks: vec![
                Block::Heading(2, "Overview".into()),
                Block::Bullets(vec!["a **b**".into()]),
                Block::Image {
                    path: "plots/x.svg".into(),
                    alt: "X".into(),
                },
                Block::Image {
                    path: "plots/none.svg".into(),
                    alt: "gone".into(),
                },
            ],
        };
        assert_eq!(
            doc.to_markdown(),
            "# T\n\n## Overview\n\n- a **b**\n\n![X](plots/x.svg)\n\n![gone](plots/none.svg)\n"
        );
        let html = doc.to_html(&|p| {
            (p == "plots/x.svg").then(|| InlineImage {
                mime: "image/svg+xml",
                bytes: b"<svg/>".to_vec(),
            })
        });
        assert!(html.contains("<li>a <strong>b</strong></li>"));
        assert!(html.contains("src=\"data:image/svg+xml;base64,PHN2Zy8+\""));
        assert!(html.contains("(figure not available: gone)"));
        assert!(!html.contains("http"), "nothing to fetch");
    }
}
