//! Tables as data, and their text, CSV, Markdown and LaTeX renderings.

use std::borrow::Cow;

use crate::number::format_number;

/// Column alignment in text and Markdown output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One table cell. Numbers keep their value so CSV can print them exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Num(f64),
    Empty,
}

impl Cell {
    /// The cell as shown in text, Markdown and LaTeX (numbers to 4 significant digits).
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(v) => format_number(*v),
            Cell::Empty => String::new(),
        }
    }

    /// [`Cell::display`] without copying text.
    pub fn shown(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(s) => Cow::Borrowed(s),
            Cell::Num(v) => Cow::Owned(format_number(*v)),
            Cell::Empty => Cow::Borrowed(""),
        }
    }

    /// The cell as written to CSV (numbers in full precision).
    pub fn exact(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(v) if v.is_finite() => v.to_string(),
            Cell::Num(v) => format_number(*v),
            Cell::Empty => String::new(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Num(v)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// `text` shortened to at most `max_chars` characters with `…` in the middle, keeping its
/// start and its end (run names and dotted keys often differ only at the end:
/// `sweep-lr0.1-seed1` / `sweep-lr0.1-seed2`). Text that fits is returned as is.
pub fn ellipsize(text: &str, max_chars: usize) -> Cow<'_, str> {
    let len = text.chars().count();
    if len <= max_chars || max_chars < 3 {
        return Cow::Borrowed(text);
    }
    let tail = (max_chars - 1) / 2;
    let head = max_chars - 1 - tail;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(len - tail));
    Cow::Owned(out)
}

/// A table: column names and rows of cells (rows shorter than the header are padded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these column names.
    pub fn new(columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    fn align(&self, col: usize) -> Align {
        let numeric = self
            .rows
            .iter()
            .filter_map(|r| r.get(col))
            .filter(|c| !matches!(c, Cell::Empty))
            .all(|c| matches!(c, Cell::Num(_)));
        let any = self
            .rows
            .iter()
            .any(|r| r.get(col).is_some_and(|c| !matches!(c, Cell::Empty)));
        if numeric && any {
            Align::Right
        } else {
            Align::Left
        }
    }

    fn cells(&self, row: &[Cell]) -> Vec<String> {
        (0..self.columns.len())
            .map(|i| row.get(i).map(Cell::display).unwrap_or_default())
            .collect()
    }

    /// Aligned columns separated by two spaces, header first; no trailing spaces.
    pub fn to_text(&self) -> String {
        self.to_text_within(usize::MAX)
    }

    /// [`Table::to_text`] with every text cell and title longer than `max_chars` shortened
    /// with an ellipsis in the middle (see [`ellipsize`]); numbers are never shortened.
    pub fn to_text_within(&self, max_chars: usize) -> String {
        let n = self.columns.len();
        // Every cell as shown, row after row in one vector: numbers formatted once, text
        // borrowed (a listing of 10,000 runs has over 100,000 cells).
        let body: Vec<Cow<'_, str>> = self
            .rows
            .iter()
            .flat_map(|r| {
                (0..n).map(move |i| match r.get(i) {
                    Some(Cell::Text(t)) => ellipsize(t, max_chars),
                    Some(cell) => cell.shown(),
                    None => Cow::Borrowed(""),
                })
            })
            .collect();
        let titles: Vec<Cow<'_, str>> = self
            .columns
            .iter()
            .map(|c| ellipsize(c, max_chars))
            .collect();
        let mut widths: Vec<usize> = titles.iter().map(|c| c.chars().count()).collect();
        for row in body.chunks(n.max(1)) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let aligns: Vec<Align> = (0..self.columns.len()).map(|i| self.align(i)).collect();
        let line_len: usize = widths.iter().map(|w| w + 2).sum();
        let mut out = String::with_capacity(line_len * (self.rows.len() + 1));
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let start = out.len();
            for (i, cell) in cells.enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                let spaces = std::iter::repeat_n(' ', pad);
                match aligns[i] {
                    Align::Right => {
                        out.extend(spaces);
                        out.push_str(cell);
                    }
                    Align::Left => {
                        out.push_str(cell);
                        out.extend(spaces);
                    }
                }
            }
            let kept = out[start..].trim_end().len();
            out.truncate(start + kept);
            out.push('\n');
        };
        line(&mut titles.iter().map(|c| c.as_ref()));
        for row in body.chunks(n.max(1)) {
            line(&mut row.iter().map(|c| c.as_ref()));
        }
        out
    }

    /// RFC 4180 CSV with a header row; numbers in full precision (never shortened).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        let _ = w.write_record(&self.columns);
        for row in &self.rows {
            let cells: Vec<String> = (0..self.columns.len())
                .map(|i| row.get(i).map(Cell::exact).unwrap_or_default())
                .collect();
            let _ = w.write_record(&cells);
        }
        // Writing into a Vec cannot fail.
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// A GitHub-flavoured Markdown table (pipes in cells escaped).
    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut out = String::new();
        out.push_str(&format!(
            "| {} |\n",
            self.columns
                .iter()
                .map(|c| esc(c))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        let seps: Vec<&str> = (0..self.columns.len())
            .map(|i| match self.align(i) {
                Align::Right => "---:",
                Align::Left => "---",
            })
            .collect();
        out.push_str(&format!("| {} |\n", seps.join(" | ")));
        for row in &self.rows {
            let cells: Vec<String> = self.cells(row).iter().map(|c| esc(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// A LaTeX `tabular` with booktabs rules (`\usepackage{booktabs}`), special characters
    /// escaped.
    pub fn to_latex(&self) -> String {
        let spec: String = (0..self.columns.len())
            .map(|i| match self.align(i) {
                Align::Right => 'r',
                Align::Left => 'l',
            })
            .collect();
        let row = |cells: Vec<String>| {
            format!(
                "{} \\\\\n",
                cells
                    .iter()
                    .map(|c| latex_escape(c))
                    .collect::<Vec<_>>()
                    .join(" & ")
            )
        };
        let mut out = format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n");
        out.push_str(&row(self.columns.clone()));
        out.push_str("\\midrule\n");
        for r in &self.rows {
            out.push_str(&row(self.cells(r)));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }
}

/// Escapes LaTeX's special characters.
pub fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '±' => out.push_str("$\\pm$"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_shortened_in_the_middle_in_text_tables_only() {
        assert_eq!(ellipsize("short", 8), "short");
        assert_eq!(ellipsize("sweep-lr0.1-seed1", 9), "swee…eed1");
        assert_eq!(ellipsize("sweep-lr0.1-seed1", 9).chars().count(), 9);
        let mut t = Table::new(["name", "a.very.long.param.name"]);
        t.push(vec!["sweep-lr0.1-seed1".into(), Cell::Num(123_456_789.0)]);
        assert_eq!(
            t.to_text_within(9),
            "name       a.ve…name\nswee…eed1  123456789\n"
        );
        assert!(t.to_csv().contains("sweep-lr0.1-seed1,123456789"));
        assert!(t.to_text().contains("sweep-lr0.1-seed1"));
    }

    fn sample() -> Table {
        let mut t = Table::new(["name", "lr", "loss"]);
        t.push(vec!["a|b".into(), 0.001.into(), Cell::Num(0.123456)]);
        t.push(vec!["c_d".into(), Cell::Empty, Cell::Num(2.0)]);
        t
    }

    #[test]
    fn text_aligns_numbers_right() {
        assert_eq!(
            sample().to_text(),
            "name     lr    loss\na|b   0.001  0.1235\nc_d               2\n"
        );
    }

    #[test]
    fn csv_keeps_full_precision() {
        assert_eq!(
            sample().to_csv(),
            "name,lr,loss\na|b,0.001,0.123456\nc_d,,2\n"
        );
    }

    #[test]
    fn markdown_and_latex_escape() {
        assert_eq!(
            sample().to_markdown(),
            "| name | lr | loss |\n| --- | ---: | ---: |\n| a\\|b | 0.001 | 0.1235 |\n| c_d |  | 2 |\n"
        );
        let tex = sample().to_latex();
        assert!(
            tex.starts_with("\\begin{tabular}{lrr}\n\\toprule\nname & lr & loss \\\\\n\\midrule\n")
        );
        assert!(tex.contains("c\\_d &  & 2 \\\\"));
    }
}
