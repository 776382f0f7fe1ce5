//! Compliance reports end to end (issue 17, part 2). The promotion story (promotion.rs) ends
//! here: the promoted version's model card shows its training data with content hashes, its
//! evaluation figures overall and per group, its fairness figures, the gate's verdict, both
//! approvals and the alias move with its evidence, and what people wrote; its hash is in the
//! record and in the audit trail; its PDF's text (pdftotext) and HTML say the same. Datasheets,
//! Annex IV documents and audit exports, with their bad inputs. Sensitive data's datasheet
//! carries DP figures only, charged to the budget. On SQLite and PostgreSQL.

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verity_tests::{FreshDatabase, ServerOptions};

use crate::mlflow::server_with_members;
use crate::{Api, expect_error, expect_status};

const REPORTS: &str = "/api/v1/projects/p/compliance-reports";
const V3_DOCS: &str = "/api/v1/projects/p/models/clf/versions/3/documentation";

async fn generate(api: &Api, token: &str, body: Value) -> Result<(reqwest::StatusCode, Value)> {
    api.send_as(Some(token), Method::POST, REPORTS, Some(&body))
        .await
}

/// Every text of a report's JSON form, joined (sections, facts, tables, fields).
fn all_text(doc: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(doc, &mut out);
    out
}

/// The text of a PDF, by poppler's pdftotext (installed by the test command), its whitespace
/// collapsed.
fn pdf_text(bytes: &[u8]) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes)?;
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .context("pdftotext (poppler-utils) is required: scripts/test.sh installs it")?;
    if !out.status.success() {
        bail!("pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    // Lines wrap inside table cells: compare text with its whitespace collapsed.
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Downloads a report file and checks it against its recorded hash.
async fn file(api: &Api, report: &Value, format: &str) -> Result<Vec<u8>> {
    let id = report["id"].as_i64().context("id")?;
    let (status, headers, bytes) = api.download(&format!("{REPORTS}/{id}/{format}")).await?;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let recorded = report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["format"] == format)
        .context("file")?;
    let hash = hex::encode(Sha256::digest(&bytes));
    assert_eq!(
        recorded["sha256"],
        hash.as_str(),
        "{format} matches its hash"
    );
    assert_eq!(
        headers
            .get("x-content-sha256")
            .and_then(|h| h.to_str().ok()),
        Some(hash.as_str())
    );
    Ok(bytes)
}

/// After promotion.rs promoted version 3 of `clf` (two approvals) and retired version 2.
pub(crate) async fn promoted_version_reports(api: &Api, olga: &str, vic: &str) -> Result<()> {
    documentation(api, olga, vic).await?;
    // Training data in its lineage: the run that produced v3 read `train` v1.
    api.dataset("p", "train").await?;
    let train = api
        .upload_version(
            "p",
            "train",
            Some("text/csv"),
            b"x,label\n1,0\n2,1\n3,1\n".to_vec(),
        )
        .await?;
    expect_status(&train, 201);
    let train_hash = train.1["content_hash"].as_str().context("hash")?.to_owned();
    let v3 = api.get("/api/v1/projects/p/models/clf/versions/3").await?;
    let run = v3.1["source_run_id"].as_str().context("run")?;
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": train.1["id"], "context": "training"}),
        )
        .await?,
        200,
    );

    let card = generate(
        api,
        olga,
        json!({"kind": "model_card", "model": "clf", "version": 3}),
    )
    .await?;
    expect_status(&card, 201);
    let card = card.1;
    assert_eq!(card["subject"], "model/clf/version/3");
    assert_eq!(card["files"].as_array().map(Vec::len), Some(3));
    let json_bytes = file(api, &card, "json").await?;
    assert_eq!(card["sha256"], hex::encode(Sha256::digest(&json_bytes)));
    let doc: Value = serde_json::from_slice(&json_bytes)?;
    let text = all_text(&doc);
    for needle in [
        "Model card: clf v3",
        train_hash.as_str(),                // training data, by content hash
        "accuracy",                         // overall figures
        "demographic_parity_difference",    // fairness figures
        "metrics and fairness as required", // the first approval's comment
        "agreed",                           // the second's
        "bob",
        "bea",
        "satisfied",                               // the gate's verdict
        "gate satisfied: 4 of 4 requirements met", // the alias move's evidence
        "Scores churn risk for retention offers",  // written by a person
    ] {
        assert!(
            text.contains(needle),
            "the model card shows {needle}: {text}"
        );
    }
    let sections: Vec<&str> = doc["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["key"].as_str())
        .collect();
    for key in [
        "model_details",
        "intended_use",
        "factors",
        "metrics",
        "evaluation_data",
        "training_data",
        "quantitative_analysis",
        "ethical_considerations",
        "caveats_and_recommendations",
        "governance",
    ] {
        assert!(sections.contains(&key), "section {key} in {sections:?}");
    }
    // Per group: the evaluation's sensitive column.
    let groups = doc["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["key"] == "quantitative_analysis")
        .context("quantitative analysis")?;
    assert!(all_text(groups).contains("group"), "{groups}");
    // Human fields left empty are flagged.
    let missing: Vec<&str> = doc["missing_fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(missing.contains(&"Overview"), "{missing:?}");
    assert!(!missing.contains(&"Intended uses (intended purpose)"));
    assert_eq!(card["missing_fields"].as_i64(), Some(missing.len() as i64));

    // The hash is recorded in the audit trail too.
    let audit = api
        .get("/api/v1/audit?project=p&action=compliance.report")
        .await?;
    expect_status(&audit, 200);
    let event = &audit.1["items"][0];
    assert_eq!(event["resource"], "project/p/model/clf/version/3");
    assert_eq!(event["details"]["sha256"]["json"], card["sha256"]);
    assert_eq!(
        event["details"]["sha256"]["pdf"],
        card["files"][2]["sha256"]
    );

    // The PDF says the same.
    let pdf = file(api, &card, "pdf").await?;
    assert!(pdf.starts_with(b"%PDF-"));
    let pdf_text = pdf_text(&pdf)?;
    for needle in [
        "Model card: clf v3",
        "Scores churn risk for retention offers",
        "metrics and fairness as required",
        "MISSING",
        card["sha256"].as_str().context("sha")?,
    ] {
        assert!(
            pdf_text.contains(needle),
            "the PDF shows {needle}: {pdf_text}"
        );
    }
    // The HTML is self-contained and carries the JSON's hash.
    let html = String::from_utf8(file(api, &card, "html").await?)?;
    assert!(html.contains(&format!(
        "data-testid=\"json-sha256\">{}",
        card["sha256"].as_str().context("sha")?
    )));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
    let id = card["id"].as_i64().context("id")?;
    let (_, headers, _) = api
        .download(&format!("{REPORTS}/{id}/html?inline=true"))
        .await?;
    let disposition = headers
        .get("content-disposition")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    assert!(disposition.starts_with("inline"), "{disposition}");

    // Annex IV: filled from the registry, people's parts flagged.
    let annex = generate(
        api,
        olga,
        json!({"kind": "annex_iv", "model": "clf", "version": 3}),
    )
    .await?;
    expect_status(&annex, 201);
    let annex_doc: Value = serde_json::from_slice(&file(api, &annex.1, "json").await?)?;
    let annex_text = all_text(&annex_doc);
    for needle in [
        "EU AI Act Annex IV technical documentation: clf v3",
        "9. Post-market monitoring",
        train_hash.as_str(),
        "MISSING: no datasheet generated yet",
        "Risk-management system",
    ] {
        assert!(annex_text.contains(needle), "Annex IV shows {needle}");
    }
    assert!(annex.1["missing_fields"].as_i64().unwrap_or(0) > 5);

    // The training data's documentation: datasheet fields, written by who may update it.
    let sheet_docs = "/api/v1/projects/p/datasets/train/versions/1/documentation";
    let refused = api
        .send_as(
            Some(vic),
            Method::PUT,
            sheet_docs,
            Some(&json!({"fields": {"motivation": "x"}})),
        )
        .await?;
    expect_error(&refused, 403, "forbidden");
    let unknown = api
        .send_as(
            Some(olga),
            Method::PUT,
            sheet_docs,
            Some(&json!({"fields": {"overview": "a model field"}})),
        )
        .await?;
    expect_error(&unknown, 400, "invalid_argument");
    let written = api
        .send_as(
            Some(olga),
            Method::PUT,
            sheet_docs,
            Some(&json!({"fields": {"motivation": "Churn labels for the retention team"}})),
        )
        .await?;
    expect_status(&written, 200);
    let read = api.get_as(vic, sheet_docs).await?;
    expect_status(&read, 200);
    assert_eq!(read.1["missing"].as_u64(), Some(6));

    // A datasheet of the training data (not sensitive: its profile), and the bad inputs.
    let sheet = generate(
        api,
        olga,
        json!({"kind": "datasheet", "dataset": "train", "version": 1}),
    )
    .await?;
    expect_status(&sheet, 201);
    let sheet_doc: Value = serde_json::from_slice(&file(api, &sheet.1, "json").await?)?;
    let sheet_text = all_text(&sheet_doc);
    assert!(sheet_text.contains(&train_hash));
    assert!(sheet_text.contains("Profile per column"), "{sheet_text}");
    assert!(sheet_text.contains("Churn labels for the retention team"));
    // Now Annex IV names the datasheet.
    let annex = generate(
        api,
        olga,
        json!({"kind": "annex_iv", "model": "clf", "version": 3}),
    )
    .await?;
    let annex_doc: Value = serde_json::from_slice(&file(api, &annex.1, "json").await?)?;
    assert!(all_text(&annex_doc).contains(&format!("datasheet #{}", sheet.1["id"])));

    // An audit export of the model.
    let export = generate(
        api,
        olga,
        json!({"kind": "audit_export", "resource": "project/p/model/clf"}),
    )
    .await?;
    expect_status(&export, 201);
    let export_doc: Value = serde_json::from_slice(&file(api, &export.1, "json").await?)?;
    let export_text = all_text(&export_doc);
    assert!(export_text.contains("model.alias"), "{export_text}");
    assert!(export_text.contains("model_version.review"));
    assert!(
        export_text.contains("yes ("),
        "the chain verifies: {export_text}"
    );

    bad_requests(api, olga, vic, id).await?;

    // Listing: newest first; by subject.
    let listed = api
        .get_as(olga, &format!("{REPORTS}?subject=model/clf/version/3"))
        .await?;
    expect_status(&listed, 200);
    let kinds: Vec<&str> = listed.1["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["annex_iv", "annex_iv", "model_card"]);
    let one = api.get_as(olga, &format!("{REPORTS}/{id}")).await?;
    assert_eq!(one.1["sha256"], card["sha256"]);
    Ok(())
}

async fn documentation(api: &Api, olga: &str, vic: &str) -> Result<()> {
    let docs = api.get_as(vic, V3_DOCS).await?;
    expect_status(&docs, 200);
    let fields = docs.1["fields"].as_array().context("fields")?;
    assert!(fields.len() >= 15);
    assert_eq!(docs.1["missing"].as_u64(), Some(fields.len() as u64));
    let put = |token: &str, body: Value| {
        let token = token.to_owned();
        async move {
            api.send_as(Some(&token), Method::PUT, V3_DOCS, Some(&body))
                .await
        }
    };
    expect_error(
        &put(vic, json!({"fields": {"overview": "x"}})).await?,
        403,
        "forbidden",
    );
    let unknown = put(olga, json!({"fields": {"vibes": "x"}})).await?;
    let message = expect_error(&unknown, 400, "invalid_argument");
    assert!(message.contains("vibes"), "{message}");
    expect_error(
        &put(olga, json!({"fields": {}})).await?,
        400,
        "invalid_argument",
    );
    expect_error(
        &put(olga, json!({"fields": {"overview": "x".repeat(20_001)}})).await?,
        400,
        "invalid_argument",
    );
    expect_error(
        &put(olga, json!({"overview": "x"})).await?,
        422,
        "invalid_body",
    );
    let written = put(
        olga,
        json!({"fields": {"intended_uses": "Scores churn risk for retention offers",
                          "ethical_considerations": "Offers must not depend on the group."}}),
    )
    .await?;
    expect_status(&written, 200);
    assert_eq!(written.1["missing"].as_u64(), Some(fields.len() as u64 - 2));
    let unknown_version = api
        .get_as(
            olga,
            "/api/v1/projects/p/models/clf/versions/99/documentation",
        )
        .await?;
    assert_eq!(unknown_version.0, 404);
    Ok(())
}

async fn bad_requests(api: &Api, olga: &str, vic: &str, id: i64) -> Result<()> {
    // A retired version gets no new report; an unknown one is not found.
    let retired = generate(
        api,
        olga,
        json!({"kind": "model_card", "model": "clf", "version": 2}),
    )
    .await?;
    let message = expect_error(&retired, 409, "retired");
    assert!(message.contains("retired"), "{message}");
    let unknown = generate(
        api,
        olga,
        json!({"kind": "model_card", "model": "clf", "version": 99}),
    )
    .await?;
    assert_eq!(unknown.0, 404, "{}", unknown.1);
    let unknown = generate(
        api,
        olga,
        json!({"kind": "annex_iv", "model": "nope", "version": 1}),
    )
    .await?;
    assert_eq!(unknown.0, 404, "{}", unknown.1);
    let unknown = generate(
        api,
        olga,
        json!({"kind": "datasheet", "dataset": "train", "version": 9}),
    )
    .await?;
    assert_eq!(unknown.0, 404, "{}", unknown.1);
    for (body, needle) in [
        (
            json!({"kind": "poster", "model": "clf", "version": 3}),
            "poster",
        ),
        (json!({"kind": "model_card", "model": "clf"}), "version"),
        (
            json!({"kind": "model_card", "model": "clf", "version": 3, "dataset": "train"}),
            "dataset",
        ),
        (
            json!({"kind": "datasheet", "dataset": "train", "version": 1,
                "dp": [{"query": {"kind": "count"}, "epsilon": 1.0}]}),
            "confidential",
        ),
        (
            json!({"kind": "audit_export", "resource": "project/other"}),
            "project/p",
        ),
        (
            json!({"kind": "audit_export", "resource": "project/p", "since": 10, "until": 5}),
            "since",
        ),
    ] {
        let reply = generate(api, olga, body).await?;
        let message = expect_error(&reply, 400, "invalid_argument");
        assert!(message.contains(needle), "{needle}: {message}");
    }
    let reply = generate(
        api,
        olga,
        json!({"kind": "model_card", "model": "clf", "version": "three"}),
    )
    .await?;
    expect_error(&reply, 422, "invalid_body");
    // Viewers may not export the audit trail.
    let reply = generate(
        api,
        vic,
        json!({"kind": "audit_export", "resource": "project/p"}),
    )
    .await?;
    expect_error(&reply, 403, "forbidden");
    // Unknown formats and reports.
    let reply = api.get_as(olga, &format!("{REPORTS}/{id}/docx")).await?;
    expect_error(&reply, 400, "invalid_argument");
    let reply = api.get_as(olga, &format!("{REPORTS}/999999/json")).await?;
    assert_eq!(reply.0, 404);
    let reply = api.get_as(olga, &format!("{REPORTS}?kind=poster")).await?;
    expect_error(&reply, 400, "invalid_argument");
    Ok(())
}

fn patients_csv() -> Vec<u8> {
    let mut csv = String::from("age,region\n");
    for i in 0..500 {
        csv.push_str(&format!("{},{}\n", 20 + i % 60, ["north", "south"][i % 2]));
    }
    csv.into_bytes()
}

/// A sensitive dataset's datasheet: no raw figure, the DP figures asked for (charged), and
/// nothing stored when the budget cannot pay.
async fn sensitive_datasheet(options: ServerOptions) -> Result<()> {
    let (api, tokens) = server_with_members(options, &[("olga", "owner")]).await?;
    let olga = &tokens[0];
    let datasets = "/api/v1/projects/default/datasets";
    expect_status(
        &api.post(
            datasets,
            json!({"name": "patients", "sensitivity": "confidential"}),
        )
        .await?,
        201,
    );
    expect_status(
        &api.upload_version("default", "patients", Some("text/csv"), patients_csv())
            .await?,
        201,
    );
    expect_status(
        &api.send_as(
            Some(olga),
            Method::PUT,
            &format!("{datasets}/patients/privacy/budgets"),
            Some(&json!({"scope": "total", "epsilon": 1.0})),
        )
        .await?,
        200,
    );
    let reports = "/api/v1/projects/default/compliance-reports";
    let body = json!({"kind": "datasheet", "dataset": "patients", "version": 1, "dp": [
        {"query": {"kind": "count"}, "epsilon": 0.4},
        {"query": {"kind": "mean", "column": "age", "lower": 0, "upper": 100}, "epsilon": 0.4}]});
    let sheet = api
        .send_as(Some(olga), Method::POST, reports, Some(&body))
        .await?;
    expect_status(&sheet, 201);
    let id = sheet.1["id"].as_i64().context("id")?;
    assert_eq!(sheet.1["quoted_datasets"], json!([]));
    let (status, _, bytes) = api.download(&format!("{reports}/{id}/json")).await?;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&bytes)?;
    let text = all_text(&doc);
    assert!(
        text.contains("Statistics (differentially private)"),
        "{text}"
    );
    assert!(text.contains("discrete_laplace"), "{text}");
    assert!(
        !text.contains("Profile per column"),
        "no raw profile: {text}"
    );
    // Both questions are in the ledger.
    let ledger = api
        .get_as(olga, &format!("{datasets}/patients/privacy/ledger"))
        .await?;
    assert_eq!(ledger.1["items"].as_array().map(Vec::len), Some(2));
    // What the budget cannot pay is refused, and no report is stored.
    let again = api
        .send_as(Some(olga), Method::POST, reports, Some(&body))
        .await?;
    expect_error(&again, 409, "privacy_budget_exceeded");
    let listed = api.get_as(olga, reports).await?;
    assert_eq!(listed.1["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn sqlite_sensitive_datasheet() -> Result<()> {
    sensitive_datasheet(ServerOptions::default()).await
}

#[tokio::test]
async fn postgres_sensitive_datasheet() -> Result<()> {
    let db = FreshDatabase::create().context("PostgreSQL is required for this test")?;
    sensitive_datasheet(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })
    .await
}
