//! A report as one self-contained HTML page: inline styles (no script, no external asset),
//! every text escaped, print-friendly (`@media print`, page breaks kept out of table rows).

use std::fmt::Write as _;

use super::document::{Block, Document, utc};

const STYLE: &str = "\
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1b1f24;max-width:60rem;margin:2rem auto;padding:0 1.5rem;line-height:1.45}\
h1{font-size:1.7rem;margin-bottom:.3rem}h2{font-size:1.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}\
.meta{color:#57606a;font-size:.85rem}.meta code{word-break:break-all}\
table{border-collapse:collapse;width:100%;margin:.4rem 0 .8rem;font-size:.9rem}\
th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top;word-break:break-word;white-space:pre-wrap}\
th{background:#f6f8fa}table.facts th{width:30%}caption{text-align:left;font-weight:600;padding:.2rem 0}\
.human{border-left:3px solid #0969da;padding:.1rem .8rem;margin:.6rem 0}.human h3{font-size:.95rem;margin:.2rem 0}\
.human p{white-space:pre-wrap;margin:.2rem 0}.who{color:#57606a;font-size:.8rem}\
.missing{border-left-color:#cf222e;background:#fff5f5}.missing .flag{color:#cf222e;font-weight:600}\
.banner{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .8rem;border-radius:4px}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr,.human{break-inside:avoid}}";

/// Renders `doc` as an HTML page; `json_sha256` is the hash of its JSON form, shown so that a
/// printout can be matched to the stored record.
pub fn render(doc: &Document, json_sha256: &str) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(&doc.title),
        escape(&doc.title)
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">Project <b>{}</b> · subject <code>{}</code><br>Generated {} by {} with {}<br>\
         SHA-256 of the JSON form: <code data-testid=\"json-sha256\">{}</code></p>",
        escape(&doc.project),
        escape(&doc.subject),
        escape(&utc(doc.generated_at)),
        escape(&doc.generated_by),
        escape(&doc.generator),
        escape(json_sha256)
    );
    if !doc.missing_fields.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"banner\" data-testid=\"missing\"><b>Missing, to be written by a person:</b> {}</p>",
            escape(&doc.missing_fields.join("; "))
        );
    }
    for section in &doc.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\"><h2>{}</h2>",
            escape(&section.key),
            escape(&section.title)
        );
        for block in &section.blocks {
            block_html(&mut out, block);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

fn block_html(out: &mut String, block: &Block) {
    match block {
        Block::Facts { items } => {
            out.push_str("<table class=\"facts\"><tbody>");
            for fact in items {
                let _ = write!(
                    out,
                    "<tr data-key=\"{}\"><th scope=\"row\">{}</th><td>{}</td></tr>",
                    escape(&fact.key),
                    escape(&fact.label),
                    escape(&fact.value)
                );
            }
            out.push_str("</tbody></table>\n");
        }
        Block::Human {
            key,
            label,
            guidance,
            value,
            written_by,
        } => match value {
            Some(text) => {
                let _ = write!(
                    out,
                    "<div class=\"human\" data-field=\"{}\"><h3>{}</h3><p>{}</p>",
                    escape(key),
                    escape(label),
                    escape(text)
                );
                if let Some(who) = written_by {
                    let _ = write!(out, "<div class=\"who\">written by {}</div>", escape(who));
                }
                out.push_str("</div>\n");
            }
            None => {
                let _ = writeln!(
                    out,
                    "<div class=\"human missing\" data-field=\"{}\"><h3>{}</h3>\
                     <p><span class=\"flag\">Missing: to be written by a person.</span> {}</p></div>",
                    escape(key),
                    escape(label),
                    escape(guidance)
                );
            }
        },
        Block::Table {
            caption,
            columns,
            rows,
        } => {
            out.push_str("<table>");
            if let Some(caption) = caption {
                let _ = write!(out, "<caption>{}</caption>", escape(caption));
            }
            out.push_str("<thead><tr>");
            for column in columns {
                let _ = write!(out, "<th scope=\"col\">{}</th>", escape(column));
            }
            out.push_str("</tr></thead><tbody>");
            for row in rows {
                out.push_str("<tr>");
                for cell in row {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>\n");
        }
        Block::Text { text } => {
            let _ = writeln!(out, "<p>{}</p>", escape(text));
        }
    }
}

/// Escapes text for HTML element content and quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::document::Section;
    use super::*;

    #[test]
    fn user_text_cannot_become_markup() {
        let doc = Document {
            kind: "model_card",
            title: "<script>alert(1)</script>".into(),
            project: "p".into(),
            subject: "s".into(),
            generated_at: 0,
            generated_by: "a\"b".into(),
            generator: "g".into(),
            missing_fields: vec![],
            sections: vec![Section::new("k", "K").text("<img src=x onerror=alert(1)>")],
        };
        let html = render(&doc, "h");
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("a&quot;b"));
    }
}
