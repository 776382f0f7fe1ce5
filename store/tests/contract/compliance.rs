//! Contract cases for documentation fields and compliance reports (both backends).

use std::collections::BTreeMap;

use verity_store::compliance::{
    ComplianceFilter, DocumentedKind, NewComplianceReport, ReportFormat, ReportKind,
};
use verity_store::{Actor, AuditFilter, ErrorKind, PageRequest};

use crate::{CSV, Ctx, TestResult, stage, upload};

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn report(
    ctx: &Ctx,
    subject: &str,
    kind: ReportKind,
    body: &str,
) -> Result<NewComplianceReport, Box<dyn std::error::Error>> {
    let mut files = Vec::new();
    for format in ReportFormat::ALL {
        files.push((
            format,
            stage(ctx, format!("{body} as {}", format.as_str())).await?,
        ));
    }
    Ok(NewComplianceReport {
        project: "p".into(),
        kind,
        subject: subject.into(),
        model_version_id: None,
        dataset_version_id: None,
        title: format!("{kind} of {subject}"),
        quoted_datasets: vec!["d".into()],
        missing_fields: 2,
        files,
    })
}

pub async fn compliance_documentation_and_reports(ctx: Ctx) -> TestResult {
    let owner: Actor = "olivia".into();
    ctx.store.create_project("p", "", &owner).await?;
    ctx.store
        .create_dataset("p", "d", "", "internal", &owner)
        .await?;
    let version = upload(&ctx, "p", "d", CSV).await?.version.id;
    let doc = (DocumentedKind::DatasetVersion, version);

    // Documentation: written, replaced, cleared by an empty text; audited.
    assert!(ctx.store.documentation(doc.0, doc.1).await?.is_empty());
    let written = ctx
        .store
        .set_documentation(
            "p",
            doc,
            "dataset/d/version/1",
            &fields(&[("motivation", "why"), ("uses", "what for")]),
            &owner,
        )
        .await?;
    assert_eq!(written["motivation"].value, "why");
    assert_eq!(written["uses"].updated_by, "olivia");
    let changed = ctx
        .store
        .set_documentation(
            "p",
            doc,
            "dataset/d/version/1",
            &fields(&[("motivation", "because"), ("uses", "  ")]),
            &owner,
        )
        .await?;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed["motivation"].value, "because");
    let too_long = ctx
        .store
        .set_documentation(
            "p",
            doc,
            "dataset/d/version/1",
            &fields(&[("motivation", &"x".repeat(20_001))]),
            &owner,
        )
        .await
        .unwrap_err();
    assert_eq!(too_long.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        ctx.store.documentation(doc.0, doc.1).await?["motivation"].value,
        "because",
        "a refused write changes nothing"
    );
    // Another subject kind with the same id is another record.
    assert!(
        ctx.store
            .documentation(DocumentedKind::ModelVersion, version)
            .await?
            .is_empty()
    );

    // Reports: files committed by hash, the record immutable, the hashes audited.
    let new = report(&ctx, "dataset/d/version/1", ReportKind::Datasheet, "sheet").await?;
    let hashes: Vec<String> = new
        .files
        .iter()
        .map(|(_, s)| s.content_hash.clone())
        .collect();
    let stored = ctx.store.add_compliance_report(new, &owner).await?;
    assert_eq!(stored.kind, ReportKind::Datasheet);
    assert_eq!(stored.quoted_datasets, vec!["d".to_owned()]);
    assert_eq!(stored.missing_fields, 2);
    assert_eq!(stored.files.len(), 3);
    assert_eq!(
        stored
            .file(ReportFormat::Json)
            .map(|f| f.content_hash.clone()),
        Some(hashes[0].clone())
    );
    for hash in &hashes {
        assert!(
            ctx.store.blobs().contains(hash).await?,
            "file {hash} stored"
        );
    }
    let again = ctx.store.compliance_report("p", stored.id).await?;
    assert_eq!(again, stored);
    let events = ctx
        .store
        .list_audit_events(
            &AuditFilter {
                action: Some("compliance.report".into()),
                ..AuditFilter::default()
            },
            &PageRequest::default(),
        )
        .await?;
    assert_eq!(events.items.len(), 1);
    assert_eq!(events.items[0].resource, "project/p/dataset/d/version/1");
    assert!(
        events.items[0].details.contains(&hashes[2]),
        "the PDF's hash"
    );

    // Listing: newest first, by kind and subject, paged.
    let card = report(&ctx, "model/m/version/1", ReportKind::ModelCard, "card").await?;
    let card = ctx.store.add_compliance_report(card, &owner).await?;
    let all = ctx
        .store
        .list_compliance_reports("p", &ComplianceFilter::default(), &PageRequest::default())
        .await?;
    let ids: Vec<i64> = all.items.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![card.id, stored.id]);
    let first = ctx
        .store
        .list_compliance_reports(
            "p",
            &ComplianceFilter::default(),
            &PageRequest::new(Some(1), None)?,
        )
        .await?;
    assert_eq!(first.items[0].id, card.id);
    let rest = ctx
        .store
        .list_compliance_reports(
            "p",
            &ComplianceFilter::default(),
            &PageRequest::new(Some(1), first.next_cursor.as_deref())?,
        )
        .await?;
    assert_eq!(rest.items[0].id, stored.id);
    assert!(rest.next_cursor.is_none());
    let sheets = ctx
        .store
        .list_compliance_reports(
            "p",
            &ComplianceFilter {
                kind: Some(ReportKind::Datasheet),
                subject: None,
            },
            &PageRequest::default(),
        )
        .await?;
    assert_eq!(sheets.items.len(), 1);
    let on_model = ctx
        .store
        .list_compliance_reports(
            "p",
            &ComplianceFilter {
                kind: None,
                subject: Some("model/m/version/1".into()),
            },
            &PageRequest::default(),
        )
        .await?;
    assert_eq!(on_model.items[0].id, card.id);

    // Another project sees none of them; an unknown id is not found.
    ctx.store.create_project("q", "", &owner).await?;
    let elsewhere = ctx
        .store
        .compliance_report("q", stored.id)
        .await
        .unwrap_err();
    assert_eq!(elsewhere.kind(), ErrorKind::NotFound);
    let unknown = ctx.store.compliance_report("p", 999_999).await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);

    // Reports count against the quota.
    let used = ctx.store.project_usage("p").await?;
    ctx.store.set_project_quota(Some(u64::try_from(used)? + 10));
    let big = report(
        &ctx,
        "model/m/version/1",
        ReportKind::ModelCard,
        &"y".repeat(100),
    )
    .await?;
    let refused = ctx
        .store
        .add_compliance_report(big, &owner)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::TooLarge);
    assert!(refused.to_string().contains("quota"), "{refused}");
    ctx.store.set_project_quota(None);
    Ok(())
}

pub async fn audit_filter_by_resource_takes_what_is_under_it(ctx: Ctx) -> TestResult {
    let owner: Actor = "olivia".into();
    ctx.store.create_project("p", "", &owner).await?;
    ctx.store.create_model("p", "m", "", &owner).await?;
    ctx.store.create_model("p", "mm", "", &owner).await?;
    ctx.store.create_model("p", "m_x", "", &owner).await?;
    let of = |resource: &str| AuditFilter {
        resource: Some(resource.to_owned()),
        ..AuditFilter::default()
    };
    let under_m = ctx
        .store
        .list_audit_events(&of("project/p/model/m"), &PageRequest::default())
        .await?;
    let resources: Vec<&str> = under_m.items.iter().map(|e| e.resource.as_str()).collect();
    assert_eq!(resources, vec!["project/p/model/m"], "not mm, not m_x");
    let project = ctx
        .store
        .list_audit_events(&of("project/p"), &PageRequest::default())
        .await?;
    assert_eq!(project.items.len(), 4, "the project and its three models");
    // LIKE's wildcards are plain characters here.
    let wild = ctx
        .store
        .list_audit_events(&of("project/p/model/m_"), &PageRequest::default())
        .await?;
    assert!(wild.items.is_empty());
    Ok(())
}
