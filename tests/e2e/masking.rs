//! Masking end to end (issue 16): a dataset's owner masks and hides columns; a viewer below
//! the dataset's sensitivity then reads the masked view and never a masked value in clear, on
//! any read path (download, profile, quality, drift, evaluation and its predictions); pseudonyms
//! are equal for equal values, so joins still work; bad masking input is a 400 that changes
//! nothing. On SQLite and PostgreSQL.

use anyhow::{Context, Result};
use arrow_array::{Array, StringArray};
use reqwest::Method;
use serde_json::{Value, json};
use verity_tests::{FreshDatabase, ServerOptions};

use crate::mlflow::server_with_members;
use crate::{Api, expect_error, expect_status, header_text, items};

const EMAILS: [&str; 5] = [
    "ann@example.org",
    "bob@example.org",
    "cyd@example.org",
    "dee@example.org",
    "eve@example.org",
];

fn ssn(i: usize) -> String {
    format!("{:03}-55-{:04}", 100 + i, 7000 + i)
}

fn region(i: usize) -> &'static str {
    ["region-north", "region-south", "region-east"][i % 3]
}

/// 60 rows: email (five values, repeating), ssn (unique), region (three values), age, label.
fn patients_csv(age_shift: usize) -> Vec<u8> {
    let mut csv = String::from("email,ssn,region,age,label\n");
    for i in 0..60 {
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            EMAILS[i % 5],
            ssn(i),
            region(i),
            20 + (i * 7 + age_shift) % 50,
            i % 2
        ));
    }
    csv.into_bytes()
}

fn clear_values() -> Vec<String> {
    let mut values: Vec<String> = EMAILS.iter().map(|e| (*e).to_owned()).collect();
    values.extend((0..60).map(ssn));
    values.extend(["region-north", "region-south", "region-east"].map(str::to_owned));
    values
}

/// Fails when `text` shows a masked or hidden value (or the hidden column's name).
fn assert_masked(what: &str, text: &str) {
    for value in clear_values() {
        assert!(
            !text.contains(&value),
            "{what} shows {value} in clear: {text}"
        );
    }
    assert!(
        !text.contains("ssn"),
        "{what} names the hidden column: {text}"
    );
}

const DATASET: &str = "/api/v1/projects/default/datasets/patients";
const MASKING: &str = "/api/v1/projects/default/datasets/patients/masking";

async fn download_as(api: &Api, token: &str, path: &str) -> Result<(u16, String, Vec<u8>)> {
    let resp = reqwest::Client::new()
        .get(api.server.url(path))
        .bearer_auth(token)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let disposition = header_text(resp.headers(), "content-disposition");
    Ok((status, disposition, resp.bytes().await?.to_vec()))
}

/// Owner `olga`, viewer `vera` and contributor `carl` (all clearance internal) in `default`,
/// and the confidential dataset `patients` with two versions; returns (api, [olga, vera, carl]).
async fn setup(options: ServerOptions) -> Result<(Api, Vec<String>)> {
    let (api, tokens) = server_with_members(
        options,
        &[
            ("olga", "owner"),
            ("vera", "viewer"),
            ("carl", "contributor"),
        ],
    )
    .await?;
    expect_status(
        &api.post(
            "/api/v1/projects/default/datasets",
            json!({"name": "patients", "sensitivity": "confidential"}),
        )
        .await?,
        201,
    );
    // Masking names columns of the latest version: none yet.
    let early = api
        .put(
            MASKING,
            json!({"columns": [{"column": "email", "mode": "masked"}]}),
        )
        .await?;
    expect_error(&early, 400, "invalid_argument");
    for shift in [0, 3] {
        expect_status(
            &api.upload_version("default", "patients", Some("text/csv"), patients_csv(shift))
                .await?,
            201,
        );
    }
    Ok((api, tokens))
}

async fn bad_masking_changes_nothing(api: &Api, olga: &str, vera: &str) -> Result<()> {
    let put = |token: Option<&str>, body: Value| {
        let token = token.map(str::to_owned);
        async move {
            api.send_as(token.as_deref(), Method::PUT, MASKING, Some(&body))
                .await
        }
    };
    let valid = json!({"columns": [{"column": "email", "mode": "masked"}]});
    // Only owners, and only with clearance for the dataset (else an owner could mask one
    // column and read the rest).
    expect_error(&put(Some(vera), valid.clone()).await?, 403, "forbidden");
    expect_error(&put(Some(olga), valid.clone()).await?, 403, "forbidden");
    // Bad values are 400 invalid_argument; bodies of the wrong shape 422 invalid_body.
    for (body, status, code) in [
        (
            json!({"columns": [{"column": "nope", "mode": "masked"}]}),
            400,
            "invalid_argument",
        ),
        (
            json!({"columns": [{"column": "email", "mode": "scrambled"}]}),
            400,
            "invalid_argument",
        ),
        (
            json!({"columns": [{"column": "email", "mode": "masked"}, {"column": "email", "mode": "hidden"}]}),
            400,
            "invalid_argument",
        ),
        (
            json!({"columns": [{"column": "", "mode": "masked"}]}),
            400,
            "invalid_argument",
        ),
        (
            json!({"columns": [{"column": "email"}]}),
            422,
            "invalid_body",
        ),
        (
            json!({"columns": [{"column": "email", "mode": "masked", "salt": 1}]}),
            422,
            "invalid_body",
        ),
        (json!({"columns": "email"}), 422, "invalid_body"),
        (json!({}), 422, "invalid_body"),
    ] {
        let reply = api.put(MASKING, body.clone()).await?;
        assert_eq!(reply.0, status, "{body} → {}", reply.1);
        assert_eq!(reply.1["error"]["code"], code, "{body} → {}", reply.1);
    }
    let unknown = api
        .put(
            MASKING,
            json!({"columns": [{"column": "nope", "mode": "masked"}]}),
        )
        .await?;
    assert!(
        unknown.1["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nope")),
        "{}",
        unknown.1
    );
    let missing = api
        .put(
            "/api/v1/projects/default/datasets/absent/masking",
            valid.clone(),
        )
        .await?;
    expect_error(&missing, 404, "dataset_not_found");
    let now = api.get(MASKING).await?;
    expect_status(&now, 200);
    assert_eq!(now.1["columns"], json!([]), "nothing was set");
    Ok(())
}

async fn masked_reads(options: ServerOptions) -> Result<()> {
    let (api, tokens) = setup(options).await?;
    let (olga, vera, carl) = (&tokens[0], &tokens[1], &tokens[2]);
    let content = format!("{DATASET}/versions/2/content");
    // Without masking a viewer below the sensitivity reads nothing of the rows.
    assert_eq!(download_as(&api, vera, &content).await?.0, 403);
    bad_masking_changes_nothing(&api, olga, vera).await?;

    let set = api
        .put(
            MASKING,
            json!({"columns": [
                {"column": "email", "mode": "masked"},
                {"column": "region", "mode": "masked"},
                {"column": "ssn", "mode": "hidden"}]}),
        )
        .await?;
    expect_status(&set, 200);
    let seen = api.get_as(vera, MASKING).await?;
    expect_status(&seen, 200);
    assert_eq!(seen.1["columns"].as_array().map(Vec::len), Some(3));
    assert_eq!(seen.1["updated_by"], "admin");

    // Checks run by someone with clearance.
    for check in [
        json!({"check": {"kind": "profile"}, "dataset": "patients", "version": 2}),
        json!({"check": {"kind": "quality", "expectations": [
            {"type": "expect_column_values_to_be_in_set", "column": "email", "value_set": ["ann@example.org"]},
            {"type": "expect_column_values_to_be_unique", "column": "ssn"},
            {"type": "expect_column_values_to_be_in_set", "column": "region", "value_set": ["region-north"]}]},
            "dataset": "patients", "version": 2}),
        json!({"check": {"kind": "drift"}, "dataset": "patients", "version": 2,
            "reference": {"version": 1}}),
    ] {
        let ran = api.post("/api/v1/projects/default/checks", check).await?;
        expect_status(&ran, 201);
        assert_eq!(ran.1["masked"], false);
        assert!(
            ran.1.to_string().contains("region-south"),
            "the clear view: {}",
            ran.1
        );
    }

    // A contributor below the sensitivity may no longer add versions: the masked copy of their
    // own rows would pair chosen values with pseudonyms.
    let write = reqwest::Client::new()
        .post(api.server.url(&format!("{DATASET}/versions")))
        .bearer_auth(carl)
        .header("content-type", "text/csv")
        .body(patients_csv(9))
        .send()
        .await?;
    assert_eq!(write.status().as_u16(), 403);
    // DP questions cannot name a hidden column (refused before any budget is looked at).
    let dp = api
        .send_as(
            Some(vera),
            Method::POST,
            &format!("{DATASET}/versions/2/dp"),
            Some(
                &json!({"query": {"kind": "count_by", "column": "ssn", "categories": [ssn(0)]},
                "epsilon": 0.5}),
            ),
        )
        .await?;
    expect_error(&dp, 400, "invalid_argument");

    // The masked download: hidden column left out, masked ones as pseudonyms, rows in order.
    let (status, disposition, bytes) = download_as(&api, vera, &content).await?;
    assert_eq!(status, 200);
    assert!(
        disposition.contains("patients-v2-masked.csv"),
        "{disposition}"
    );
    let text = String::from_utf8(bytes)?;
    assert_masked("the masked download", &text);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["email", "region", "age", "label"]);
    assert_eq!(rows.len(), 61);
    assert_eq!(rows[1][0].len(), 32, "{:?}", rows[1]);
    assert_eq!(rows[1][0], rows[6][0], "equal values, equal pseudonyms");
    assert_ne!(rows[1][0], rows[2][0]);
    assert_eq!(rows[1][3], "0", "clear columns unchanged");
    let ann = rows[1][0].to_owned();
    // The owner's clear download is untouched.
    let (_, _, clear) = api.download(&content).await?;
    assert!(String::from_utf8(clear)?.contains("ann@example.org"));

    // Reports: listed and read through the masked view.
    let listed = api.get_as(vera, "/api/v1/projects/default/reports").await?;
    expect_status(&listed, 200);
    let reports = items(&listed);
    assert_eq!(reports.len(), 3, "{}", listed.1);
    assert_masked("the report list", &listed.1.to_string());
    for report in &reports {
        assert_eq!(report["masked"], true);
        let id = report["id"].as_i64().context("id")?;
        let read = api
            .get_as(vera, &format!("/api/v1/projects/default/reports/{id}"))
            .await?;
        expect_status(&read, 200);
        assert_eq!(read.1["masked"], true);
        assert_masked(
            &format!("the {} report", report["kind"]),
            &read.1.to_string(),
        );
        if report["kind"] == "profile" {
            let email = read.1["result"]["columns"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["name"] == "email"))
                .context("email profile")?;
            let tops: Vec<&str> = email["top"]
                .as_array()
                .context("top")?
                .iter()
                .filter_map(|t| t[0].as_str())
                .collect();
            assert!(tops.contains(&ann.as_str()), "joins: {tops:?} has {ann}");
        }
        let clear = api
            .get(&format!("/api/v1/projects/default/reports/{id}"))
            .await?;
        assert_eq!(clear.1["masked"], false);
    }
    // Hiding every column leaves nothing to show: a clear 400, not a crash.
    let everything: Vec<Value> = ["email", "ssn", "region", "age", "label"]
        .iter()
        .map(|c| json!({"column": c, "mode": "hidden"}))
        .collect();
    expect_status(
        &api.put(MASKING, json!({"columns": everything})).await?,
        200,
    );
    let (status, _, body) = download_as(&api, vera, &content).await?;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // Clearing the masking closes the view again.
    expect_status(&api.put(MASKING, json!({"columns": []})).await?, 200);
    assert_eq!(download_as(&api, vera, &content).await?.0, 403);
    let after = api.get_as(vera, "/api/v1/projects/default/reports").await?;
    assert_eq!(items(&after).len(), 0);
    Ok(())
}

/// An evaluation of a dataset with a masked sensitive column: the predictions dataset inherits
/// the mask, and the viewer sees groups and predictions only as pseudonyms.
async fn masked_evaluation(options: ServerOptions) -> Result<()> {
    let (api, _) = server_with_members(options, &[]).await?;
    crate::evaluation::setup(&api).await?;
    expect_status(
        &api.patch(
            "/api/v1/projects/p/datasets/scoring",
            json!({"sensitivity": "confidential"}),
        )
        .await?,
        200,
    );
    expect_status(
        &api.put(
            "/api/v1/projects/p/datasets/scoring/masking",
            json!({"columns": [{"column": "group", "mode": "masked"}]}),
        )
        .await?,
        200,
    );
    let vera = &crate::mlflow::member_token(&api, "p", "vera", "viewer").await?;
    let evaluated = api
        .post(
            "/api/v1/projects/p/evaluations",
            json!({"model": "clf", "alias": "champion", "dataset": "scoring",
                   "evaluation": {"label": "label", "sensitive": ["group"]}}),
        )
        .await?;
    expect_status(&evaluated, 201);
    assert_eq!(
        evaluated.1["result"]["by_group"][0]["groups"][0]["value"],
        "f"
    );
    let id = evaluated.1["id"].as_i64().context("id")?;
    let inherited = api
        .get_as(vera, "/api/v1/projects/p/datasets/clf-predictions/masking")
        .await?;
    assert_eq!(
        inherited.1["columns"],
        json!([{"column": "group", "mode": "masked"}])
    );

    let read = api
        .get_as(vera, &format!("/api/v1/projects/p/reports/{id}"))
        .await?;
    expect_status(&read, 200);
    assert_eq!(read.1["masked"], true);
    let groups = read.1["result"]["by_group"][0]["groups"]
        .as_array()
        .context("groups")?;
    let values: Vec<&str> = groups.iter().filter_map(|g| g["value"].as_str()).collect();
    assert_eq!(values.len(), 2);
    assert!(values.iter().all(|v| v.len() == 32), "{values:?}");
    let fairness_groups = &read.1["result"]["fairness"][0]["report"]["by_group"];
    assert!(
        !fairness_groups.to_string().contains("\"f\""),
        "{fairness_groups}"
    );

    // The predictions, downloaded by the viewer: the group column holds pseudonyms only.
    let output = evaluated.1["output_version_id"]
        .as_i64()
        .context("output")?;
    let version = api
        .get(&format!("/api/v1/dataset-versions/{output}"))
        .await?;
    let path = format!(
        "/api/v1/projects/p/datasets/clf-predictions/versions/{}/content",
        version.1["version"]
    );
    let (status, _, bytes) = download_as(&api, vera, &path).await?;
    assert_eq!(status, 200);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        bytes::Bytes::from(bytes),
        1024,
    )?;
    let mut seen = 0;
    for batch in reader {
        let batch = batch?;
        let group = batch
            .column_by_name("group")
            .context("group column")?
            .as_any()
            .downcast_ref::<StringArray>()
            .context("text")?;
        for i in 0..group.len() {
            assert_eq!(group.value(i).len(), 32, "{}", group.value(i));
            assert!(group.value(i) != "f" && group.value(i) != "m");
            seen += 1;
        }
    }
    assert_eq!(seen, 200);
    Ok(())
}

#[tokio::test]
async fn sqlite_masked_reads() -> Result<()> {
    masked_reads(ServerOptions::default()).await
}

#[tokio::test]
async fn postgres_masked_reads() -> Result<()> {
    let db = FreshDatabase::create().context("PostgreSQL is required for this test")?;
    masked_reads(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })
    .await
}

#[tokio::test]
async fn sqlite_masked_evaluation() -> Result<()> {
    masked_evaluation(ServerOptions::default()).await
}

#[tokio::test]
async fn postgres_masked_evaluation() -> Result<()> {
    let db = FreshDatabase::create().context("PostgreSQL is required for this test")?;
    masked_evaluation(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })
    .await
}
