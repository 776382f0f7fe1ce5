//! A report as PDF (pdf-writer): A4 pages set in the standard Helvetica fonts (no font file
//! to embed), text wrapped with Helvetica's own glyph widths, tables split between pages row
//! line by row line, every page footed with the report's subject and number. Text outside
//! the fonts' Windows-1252 repertoire is transliterated (`≥` as `>=`) or shown as `?`; the
//! HTML form keeps every character.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::document::{Block, Document, utc};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Helvetica's advance widths (1/1000 em) of the printable ASCII characters, from its AFM.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // '0'..'9'
    278, 278, 584, 584, 584, 556, 1015, // ':'..'@'
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, // 'A'..'Z'
    278, 278, 278, 469, 556, 333, // '['..'`'
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, // 'a'..'z'
    334, 260, 334, 584, // '{'..'~'
];

/// Renders `doc` as a PDF file.
pub fn render(doc: &Document, json_sha256: &str) -> Vec<u8> {
    let mut layout = Layout::new();
    layout.paragraph(&doc.title, 18.0, true, 0.0);
    layout.gap(4.0);
    for line in [
        format!("Project: {}   Subject: {}", doc.project, doc.subject),
        format!(
            "Generated {} by {} with {}",
            utc(doc.generated_at),
            doc.generated_by,
            doc.generator
        ),
        format!("SHA-256 of the JSON form: {json_sha256}"),
    ] {
        layout.paragraph(&line, 8.5, false, 0.0);
    }
    if !doc.missing_fields.is_empty() {
        layout.gap(6.0);
        layout.paragraph(
            &format!(
                "Missing, to be written by a person: {}",
                doc.missing_fields.join("; ")
            ),
            9.5,
            true,
            0.0,
        );
    }
    for section in &doc.sections {
        layout.gap(12.0);
        layout.keep(40.0);
        layout.paragraph(&section.title, 13.0, true, 0.0);
        layout.gap(3.0);
        for block in &section.blocks {
            layout.block(block);
            layout.gap(5.0);
        }
    }
    layout.finish(doc)
}

/// One text run placed on a page.
struct Placed {
    x: f32,
    y: f32,
    size: f32,
    bold: bool,
    text: Vec<u8>,
}

/// Pages being filled, top to bottom.
struct Layout {
    pages: Vec<Vec<Placed>>,
    /// Baseline of the next line on the last page.
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = PAGE_HEIGHT - MARGIN;
    }

    /// Starts a new page unless `height` points fit on this one.
    fn keep(&mut self, height: f32) {
        if self.y - height < MARGIN + 14.0 {
            self.new_page();
        }
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    /// Places one line at `x` with its baseline one line below the current position.
    fn line(&mut self, x: f32, text: Vec<u8>, size: f32, bold: bool) {
        let height = size * 1.3;
        self.keep(height);
        self.y -= height;
        self.place(x, text, size, bold);
    }

    /// Places text at `x` on the current baseline.
    fn place(&mut self, x: f32, text: Vec<u8>, size: f32, bold: bool) {
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.push(Placed {
                x,
                y,
                size,
                bold,
                text,
            });
        }
    }

    /// A wrapped paragraph across the body, indented by `indent`.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, indent: f32) {
        for line in wrap(text, BODY - indent, size, bold) {
            self.line(MARGIN + indent, line, size, bold);
        }
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Facts { items } => {
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|f| vec![f.label.clone(), f.value.clone()])
                    .collect();
                self.grid(&[0.32, 0.68], None, &rows);
            }
            Block::Human {
                label,
                guidance,
                value,
                written_by,
                ..
            } => {
                self.paragraph(label, 10.0, true, 0.0);
                match value {
                    Some(text) => {
                        self.paragraph(text, 10.0, false, 10.0);
                        if let Some(who) = written_by {
                            self.paragraph(&format!("(written by {who})"), 8.0, false, 10.0);
                        }
                    }
                    None => self.paragraph(
                        &format!("MISSING (to be written by a person): {guidance}"),
                        9.5,
                        true,
                        10.0,
                    ),
                }
            }
            Block::Table {
                caption,
                columns,
                rows,
            } => {
                // A caption starts a page rather than end one alone.
                self.keep(9.5 * 1.3 * 4.0);
                if let Some(caption) = caption {
                    self.paragraph(caption, 9.5, true, 0.0);
                }
                let shares = column_shares(columns, rows);
                self.grid(&shares, Some(columns), rows);
            }
            Block::Text { text } => self.paragraph(text, 10.0, false, 0.0),
        }
    }

    /// Rows of cells in columns of `shares` of the body's width, each cell wrapped in its
    /// column; a heading row in bold.
    fn grid(&mut self, shares: &[f32], heading: Option<&Vec<String>>, rows: &[Vec<String>]) {
        const SIZE: f32 = 9.0;
        const PAD: f32 = 6.0;
        let widths: Vec<f32> = shares.iter().map(|s| s * BODY).collect();
        let mut all: Vec<(bool, &Vec<String>)> = Vec::new();
        if let Some(h) = heading {
            all.push((true, h));
        }
        all.extend(rows.iter().map(|r| (false, r)));
        for (is_heading, row) in all {
            // Cells as (bold, wrapped lines); label columns of facts are bold, like headings.
            let cells: Vec<(bool, Vec<Vec<u8>>)> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let text = row.get(i).map(String::as_str).unwrap_or("");
                    let bold = is_heading || (heading.is_none() && i == 0);
                    (bold, wrap(text, w - PAD, SIZE, bold))
                })
                .collect();
            let lines = cells.iter().map(|(_, l)| l.len()).max().unwrap_or(1).max(1);
            self.keep((lines.min(4) as f32) * SIZE * 1.3);
            for n in 0..lines {
                let height = SIZE * 1.3;
                self.keep(height);
                self.y -= height;
                let mut x = MARGIN;
                for ((bold, cell), width) in cells.iter().zip(&widths) {
                    if let Some(text) = cell.get(n) {
                        self.place(x, text.clone(), SIZE, *bold);
                    }
                    x += width;
                }
            }
            self.y -= 2.0;
        }
    }

    fn finish(self, doc: &Document) -> Vec<u8> {
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let first_page = 6;
        let count = self.pages.len() as i32;
        let page_ids: Vec<Ref> = (0..count).map(|i| Ref::new(first_page + 2 * i)).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids(page_ids.iter().copied()).count(count);
        pdf.type1_font(regular)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.document_info(info)
            .title(TextStr(&doc.title))
            .producer(TextStr(&doc.generator));
        let footer = format!("{} - {} - {}", doc.title, doc.project, doc.subject);
        for (i, placed) in self.pages.iter().enumerate() {
            let page_id = page_ids[i];
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
            page.parent(tree);
            page.contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(REGULAR, regular);
            fonts.pair(BOLD, bold);
            fonts.finish();
            resources.finish();
            page.finish();

            let mut content = Content::new();
            content.begin_text();
            for run in placed {
                content.set_font(if run.bold { BOLD } else { REGULAR }, run.size);
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y]);
                content.show(Str(&run.text));
            }
            let foot = encode(&format!("{footer} - page {} of {count}", i + 1));
            let foot = clip(foot, BODY, 7.5, false);
            content.set_font(REGULAR, 7.5);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, MARGIN, MARGIN / 2.0]);
            content.show(Str(&foot));
            content.end_text();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

/// Each column's share of the body's width: its widest cell's (at most 60% of the body, at
/// least a short word's), so that short columns stay narrow and long text gets the room.
fn column_shares(columns: &[String], rows: &[Vec<String>]) -> Vec<f32> {
    let natural: Vec<f32> = (0..columns.len())
        .map(|i| {
            let widest = std::iter::once(&columns[i])
                .chain(rows.iter().filter_map(|r| r.get(i)))
                .map(|text| width(&encode(text), 9.0, false) + 8.0)
                .fold(0.0_f32, f32::max);
            widest.clamp(40.0, BODY * 0.6)
        })
        .collect();
    let total: f32 = natural.iter().sum();
    natural.iter().map(|w| w / total.max(1.0)).collect()
}

/// The width of encoded text at `size` points.
fn width(text: &[u8], size: f32, bold: bool) -> f32 {
    let units: u32 = text
        .iter()
        .map(|&b| match b {
            32..=126 => u32::from(HELVETICA_WIDTHS[usize::from(b - 32)]),
            _ => 600,
        })
        .sum();
    // Helvetica-Bold runs up to about a tenth wider.
    let factor = if bold { 1.1 } else { 1.0 };
    units as f32 * size / 1000.0 * factor
}

/// Cuts encoded text to fit `max` points.
fn clip(mut text: Vec<u8>, max: f32, size: f32, bold: bool) -> Vec<u8> {
    while !text.is_empty() && width(&text, size, bold) > max {
        text.pop();
    }
    text
}

/// Wraps text into lines of at most `max` points: at spaces, and inside words longer than a
/// line; a newline always starts a line.
fn wrap(text: &str, max: f32, size: f32, bold: bool) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line: Vec<u8> = Vec::new();
        for word in encode(paragraph).split(|&b| b == b' ') {
            let mut word = word.to_vec();
            let candidate_width = |line: &Vec<u8>, word: &[u8]| {
                let mut joined = line.clone();
                if !joined.is_empty() {
                    joined.push(b' ');
                }
                joined.extend_from_slice(word);
                width(&joined, size, bold)
            };
            if candidate_width(&line, &word) <= max {
                if !line.is_empty() {
                    line.push(b' ');
                }
                line.extend_from_slice(&word);
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word longer than a line is broken where it must be.
            while width(&word, size, bold) > max && word.len() > 1 {
                let mut cut = word.len();
                while cut > 1 && width(&word[..cut], size, bold) > max {
                    cut -= 1;
                }
                let rest = word.split_off(cut);
                lines.push(word);
                word = rest;
            }
            line = word;
        }
        lines.push(line);
    }
    lines
}

/// Text in Windows-1252 (the fonts' encoding): common symbols outside it transliterated,
/// anything else `?`; control characters as spaces.
fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let code = c as u32;
        match c {
            ' '..='~' => out.push(code as u8),
            '\u{a0}'..='\u{ff}' => out.push(code as u8),
            '\t' | '\r' => out.push(b' '),
            '≥' => out.extend_from_slice(b">="),
            '≤' => out.extend_from_slice(b"<="),
            '≠' => out.extend_from_slice(b"!="),
            '−' => out.push(b'-'),
            '→' => out.extend_from_slice(b"->"),
            'ε' => out.extend_from_slice(b"epsilon"),
            'δ' => out.extend_from_slice(b"delta"),
            '✓' => out.extend_from_slice(b"yes"),
            '✗' => out.extend_from_slice(b"no"),
            _ => out.push(windows_1252(c).unwrap_or(b'?')),
        }
    }
    out
}

/// The Windows-1252 byte of the characters it places in 0x80..=0x9F.
fn windows_1252(c: char) -> Option<u8> {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    HIGH.iter().find(|(k, _)| *k == c).map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(encode("AUC ≥ 0.8 – ok"), b"AUC >= 0.8 \x96 ok".to_vec());
        assert_eq!(encode("café"), b"caf\xe9".to_vec());
        assert_eq!(encode("模型"), b"??".to_vec());
    }

    #[test]
    fn wrapping_keeps_every_character_within_the_width() {
        let text = format!("{} {}", "word ".repeat(60), "x".repeat(200));
        let lines = wrap(&text, 200.0, 10.0, false);
        assert!(lines.len() > 5);
        for line in &lines {
            assert!(width(line, 10.0, false) <= 200.0);
        }
        let rejoined: usize = lines
            .iter()
            .map(|l| l.iter().filter(|b| **b != b' ').count())
            .sum();
        assert_eq!(rejoined, 60 * 4 + 200);
    }

    #[test]
    fn a_long_document_spans_pages_and_is_a_pdf() {
        let doc = Document {
            kind: "model_card",
            title: "Model card".into(),
            project: "p".into(),
            subject: "model/m/version/1".into(),
            generated_at: 0,
            generated_by: "ann".into(),
            generator: "Verity test".into(),
            missing_fields: vec![],
            sections: vec![
                super::super::document::Section::new("s", "Section").table(
                    None,
                    &["a", "b"],
                    (0..300)
                        .map(|i| vec![i.to_string(), "cell".into()])
                        .collect(),
                    "",
                ),
            ],
        };
        let bytes = render(&doc, "abc");
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/Count "));
        assert!(text.contains("(299) Tj"));
        assert!(!text.contains("/Count 1\n"));
    }
}
