//! Result tables for papers and READMEs: estimates shown as `mean ± half-width`, the best
//! value of each column in bold (Markdown `**…**`, LaTeX `\textbf`), LaTeX with booktabs
//! rules so it compiles as a `tabular` with `\usepackage{booktabs}`.

use crate::number::format_number;
use crate::table::{Cell, latex_escape};

/// A mean with the half-width of its interval (none when n < 2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub half_width: Option<f64>,
}

/// A cell of a [`ResultsTable`]: plain, or an estimate with its interval.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultCell {
    Plain(Cell),
    Estimate(Estimate),
}

impl From<Cell> for ResultCell {
    fn from(c: Cell) -> Self {
        ResultCell::Plain(c)
    }
}

/// A table of results: columns, rows, and per column the row whose value is best.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultsTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<ResultCell>>,
    /// Per column (same length as `columns`, or shorter): the row shown in bold.
    pub best: Vec<Option<usize>>,
}

/// An estimate as `mean ± half-width` (or the mean alone), as Markdown and HTML show it.
fn estimate_text(e: &Estimate) -> String {
    match format_estimate(e) {
        (m, Some(h)) => format!("{m} ± {h}"),
        (m, None) => m,
    }
}

/// `mean ± half`: the half-width to 2 significant digits and the mean to the same decimal
/// place, so the digits shown are the ones the interval supports.
pub fn format_estimate(e: &Estimate) -> (String, Option<String>) {
    match e.half_width.filter(|h| h.is_finite() && *h > 0.0) {
        Some(h) if e.mean.is_finite() => {
            let decimals = (1 - h.log10().floor() as i32).clamp(0, 8) as usize;
            if !(1e-6..1e6).contains(&h) {
                return (format_number(e.mean), Some(format_number(h)));
            }
            (
                format!("{:.decimals$}", e.mean),
                Some(format!("{h:.decimals$}")),
            )
        }
        _ => (format_number(e.mean), None),
    }
}

impl ResultsTable {
    /// An empty table with these columns and no best values.
    pub fn new(columns: Vec<String>) -> Self {
        ResultsTable {
            best: vec![None; columns.len()],
            columns,
            rows: Vec::new(),
        }
    }

    fn is_best(&self, row: usize, col: usize) -> bool {
        self.best.get(col).copied().flatten() == Some(row)
    }

    fn numeric(&self, col: usize) -> bool {
        self.rows
            .iter()
            .all(|r| !matches!(r.get(col), Some(ResultCell::Plain(Cell::Text(_)))))
    }

    /// Which columns are numeric, once (each cell asks).
    fn numeric_columns(&self) -> Vec<bool> {
        (0..self.columns.len()).map(|c| self.numeric(c)).collect()
    }

    /// GitHub-flavoured Markdown: `0.41 ± 0.02`, the best in bold, pipes escaped.
    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut out = format!(
            "| {} |\n",
            self.columns
                .iter()
                .map(|c| esc(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let seps: Vec<&str> = (0..self.columns.len())
            .map(|i| if self.numeric(i) { "---:" } else { "---" })
            .collect();
        out.push_str(&format!("| {} |\n", seps.join(" | ")));
        for (r, row) in self.rows.iter().enumerate() {
            let cells: Vec<String> = (0..self.columns.len())
                .map(|c| {
                    let text = match row.get(c) {
                        Some(ResultCell::Plain(cell)) => esc(&cell.display()),
                        Some(ResultCell::Estimate(e)) => estimate_text(e),
                        None => String::new(),
                    };
                    if self.is_best(r, c) && !text.is_empty() {
                        format!("**{text}**")
                    } else {
                        text
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// An HTML `<table>`: estimates as `0.41 ± 0.02`, the best in `<strong>`, numbers
    /// right-aligned, text escaped.
    pub fn to_html(&self) -> String {
        let numeric = self.numeric_columns();
        let mut out = String::from("<table>\n<thead><tr>");
        for (i, c) in self.columns.iter().enumerate() {
            let class = if numeric[i] { " class=\"num\"" } else { "" };
            out.push_str(&format!("<th{class}>{}</th>", html_escape(c)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (r, row) in self.rows.iter().enumerate() {
            out.push_str("<tr>");
            for (c, &is_number) in numeric.iter().enumerate() {
                let text = match row.get(c) {
                    Some(ResultCell::Plain(cell)) => cell.display(),
                    Some(ResultCell::Estimate(e)) => estimate_text(e),
                    None => String::new(),
                };
                let text = html_escape(&text);
                let class = if is_number { " class=\"num\"" } else { "" };
                if self.is_best(r, c) && !text.is_empty() {
                    out.push_str(&format!("<td{class}><strong>{text}</strong></td>"));
                } else {
                    out.push_str(&format!("<td{class}>{text}</td>"));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }

    /// A LaTeX `tabular` with booktabs rules: estimates as `$0.41 \pm 0.02$`, the best in
    /// bold (`\mathbf`), text escaped.
    pub fn to_latex(&self) -> String {
        let spec: String = (0..self.columns.len())
            .map(|i| if self.numeric(i) { 'r' } else { 'l' })
            .collect();
        let mut out = format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n");
        let header: Vec<String> = self.columns.iter().map(|c| latex_escape(c)).collect();
        out.push_str(&header.join(" & "));
        out.push_str(" \\\\\n\\midrule\n");
        for (r, row) in self.rows.iter().enumerate() {
            let cells: Vec<String> = (0..self.columns.len())
                .map(|c| {
                    let bold = self.is_best(r, c);
                    match row.get(c) {
                        Some(ResultCell::Plain(Cell::Num(v))) if v.is_finite() => {
                            let n = format_number(*v);
                            if bold {
                                format!("$\\mathbf{{{n}}}$")
                            } else {
                                format!("${n}$")
                            }
                        }
                        Some(ResultCell::Plain(cell)) => {
                            let t = latex_escape(&cell.display());
                            if bold && !t.is_empty() {
                                format!("\\textbf{{{t}}}")
                            } else {
                                t
                            }
                        }
                        Some(ResultCell::Estimate(e)) => {
                            let body = match format_estimate(e) {
                                (m, Some(h)) => format!("{m} \\pm {h}"),
                                (m, None) => m,
                            };
                            if bold {
                                format!("$\\mathbf{{{body}}}$")
                            } else {
                                format!("${body}$")
                            }
                        }
                        None => String::new(),
                    }
                })
                .collect();
            out.push_str(&cells.join(" & "));
            out.push_str(" \\\\\n");
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }
}

/// Escapes `&`, `<`, `>` and `"` for HTML text and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, h: f64) -> ResultCell {
        ResultCell::Estimate(Estimate {
            mean,
            half_width: Some(h),
        })
    }

    #[test]
    fn estimates_keep_the_digits_the_interval_supports() {
        let e = Estimate {
            mean: 0.412345,
            half_width: Some(0.01337),
        };
        assert_eq!(
            format_estimate(&e),
            ("0.412".to_string(), Some("0.013".to_string()))
        );
        let whole = Estimate {
            mean: 1234.5,
            half_width: Some(56.0),
        };
        assert_eq!(
            format_estimate(&whole),
            ("1234".to_string(), Some("56".to_string()))
        );
        let single = Estimate {
            mean: 0.5,
            half_width: None,
        };
        assert_eq!(format_estimate(&single), ("0.5".to_string(), None));
    }

    #[test]
    fn best_is_bold_in_markdown_and_latex() {
        let mut t = ResultsTable::new(vec!["lr".into(), "n".into(), "loss".into()]);
        t.rows.push(vec![
            Cell::Num(0.1).into(),
            Cell::Num(3.0).into(),
            est(0.52, 0.02),
        ]);
        t.rows.push(vec![
            Cell::Text("a_b".into()).into(),
            Cell::Num(3.0).into(),
            est(0.31, 0.011),
        ]);
        t.best[2] = Some(1);
        assert_eq!(
            t.to_markdown(),
            "| lr | n | loss |\n| --- | ---: | ---: |\n| 0.1 | 3 | 0.520 ± 0.020 |\n| a_b | 3 | **0.310 ± 0.011** |\n"
        );
        assert_eq!(
            t.to_latex(),
            "\\begin{tabular}{lrr}\n\\toprule\nlr & n & loss \\\\\n\\midrule\n$0.1$ & $3$ & $0.520 \\pm 0.020$ \\\\\na\\_b & $3$ & $\\mathbf{0.310 \\pm 0.011}$ \\\\\n\\bottomrule\n\\end{tabular}\n"
        );
        let html = t.to_html();
        assert!(
            html.contains("<td class=\"num\"><strong>0.310 ± 0.011</strong></td>"),
            "{html}"
        );
        assert!(html.contains("<td>a_b</td>"), "{html}");
    }
}
