//! The one shape every compliance report takes: titled sections of facts, tables, text and
//! fields only a person can write. The JSON form is this structure; the HTML and PDF forms
//! are rendered from it, so the three always say the same.

use serde::Serialize;

/// A report, format-neutral.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// `model_card`, `datasheet`, `annex_iv` or `audit_export`.
    pub kind: &'static str,
    /// Heading.
    pub title: String,
    /// The project.
    pub project: String,
    /// The documented resource, e.g. `model/churn/version/3`.
    pub subject: String,
    /// When it was generated (ms since the epoch).
    pub generated_at: i64,
    /// Who generated it.
    pub generated_by: String,
    /// The software that generated it.
    pub generator: String,
    /// Labels of the fields only a person can write that are still missing.
    pub missing_fields: Vec<String>,
    /// The body.
    pub sections: Vec<Section>,
}

/// One titled part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Stable key (the Model Card Toolkit's, Annex IV's point, ...).
    pub key: String,
    /// Heading.
    pub title: String,
    /// Content, in order.
    pub blocks: Vec<Block>,
}

/// A piece of a section.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Label–value facts taken from the registry.
    Facts {
        /// The facts.
        items: Vec<Fact>,
    },
    /// A field only a person can write: its text, or marked missing.
    Human {
        /// Stable key (the documentation field's name).
        key: String,
        /// Label.
        label: String,
        /// What it should say.
        guidance: String,
        /// The text, when written.
        value: Option<String>,
        /// Who wrote it.
        written_by: Option<String>,
    },
    /// A table.
    Table {
        /// Caption.
        caption: Option<String>,
        /// Column headings.
        columns: Vec<String>,
        /// Cells as text, row by row.
        rows: Vec<Vec<String>>,
    },
    /// A paragraph.
    Text {
        /// The text.
        text: String,
    },
}

/// One label–value fact.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    /// Stable key.
    pub key: String,
    /// Label.
    pub label: String,
    /// Value as text.
    pub value: String,
}

impl Section {
    /// An empty section.
    pub fn new(key: &str, title: &str) -> Self {
        Self {
            key: key.to_owned(),
            title: title.to_owned(),
            blocks: Vec::new(),
        }
    }

    /// Adds facts (`(key, label, value)`).
    pub fn facts<I, V>(mut self, items: I) -> Self
    where
        I: IntoIterator<Item = (&'static str, &'static str, V)>,
        V: Into<String>,
    {
        let items: Vec<Fact> = items
            .into_iter()
            .map(|(key, label, value)| Fact {
                key: key.to_owned(),
                label: label.to_owned(),
                value: value.into(),
            })
            .collect();
        if !items.is_empty() {
            self.blocks.push(Block::Facts { items });
        }
        self
    }

    /// Adds a table; with no rows, `empty` as text instead.
    pub fn table(
        mut self,
        caption: Option<&str>,
        columns: &[&str],
        rows: Vec<Vec<String>>,
        empty: &str,
    ) -> Self {
        if rows.is_empty() {
            return self.text(empty);
        }
        self.blocks.push(Block::Table {
            caption: caption.map(str::to_owned),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        });
        self
    }

    /// Adds a paragraph.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Text { text: text.into() });
        self
    }

    /// Adds a block.
    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }
}

impl Document {
    /// Every block of every section, in order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.sections.iter().flat_map(|s| s.blocks.iter())
    }

    /// Fills [`Document::missing_fields`] from the human fields left empty.
    pub fn note_missing(&mut self) {
        let missing: Vec<String> = self
            .blocks()
            .filter_map(|b| match b {
                Block::Human {
                    label, value: None, ..
                } => Some(label.clone()),
                _ => None,
            })
            .collect();
        self.missing_fields = missing;
    }
}

/// A time in ms since the epoch as UTC text, e.g. `2026-12-04 10:15:00 UTC`.
pub fn utc(ms: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => ms.to_string(),
    }
}

/// A number as a report shows it: integers plainly, others to 6 significant digits.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let digits = 6 - (value.abs().log10().floor() as i32 + 1);
    let digits = digits.clamp(0, 12) as usize;
    let text = format!("{value:.digits$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.912345678), "0.912346");
        assert_eq!(number(1234.56789), "1234.57");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn missing_fields_are_listed() {
        let mut doc = Document {
            kind: "model_card",
            title: "t".into(),
            project: "p".into(),
            subject: "s".into(),
            generated_at: 0,
            generated_by: "a".into(),
            generator: "g".into(),
            missing_fields: vec![],
            sections: vec![
                Section::new("a", "A")
                    .block(Block::Human {
                        key: "x".into(),
                        label: "X".into(),
                        guidance: String::new(),
                        value: None,
                        written_by: None,
                    })
                    .block(Block::Human {
                        key: "y".into(),
                        label: "Y".into(),
                        guidance: String::new(),
                        value: Some("written".into()),
                        written_by: Some("ann".into()),
                    }),
            ],
        };
        doc.note_missing();
        assert_eq!(doc.missing_fields, vec!["X".to_owned()]);
    }
}
