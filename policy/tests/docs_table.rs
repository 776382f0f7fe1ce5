//! docs/access-control.md shows the action × role table this crate enforces by default; this
//! test keeps the two equal (`UPDATE_DOCS=1 cargo test -p verity-policy --test docs_table`
//! rewrites the document's table).
#![allow(clippy::unwrap_used, missing_docs)]

const START: &str = "<!-- table:start (generated: UPDATE_DOCS=1 cargo test -p verity-policy --test docs_table) -->\n";
const END: &str = "<!-- table:end -->";

#[test]
fn documented_table_is_the_enforced_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/access-control.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc.find(START).expect("table start marker") + START.len();
    let end = doc.find(END).expect("table end marker");
    let table = verity_policy::permission_table_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{}{}", &doc[..start], table, &doc[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &doc[start..end],
        table,
        "docs/access-control.md is out of date: run UPDATE_DOCS=1 cargo test -p verity-policy --test docs_table"
    );
}
