//! The routes the MLflow protocol serves (api/src/mlflow/mod.rs), listed once for the tests
//! that walk them all ([`crate::mlflow_matrix`], [`crate::hostile_walk`]):
//! [`TRACKING_ROUTES`] under both [`TRACKING_PREFIXES`], [`ARTIFACT_ROUTES`] under
//! [`ARTIFACTS_PREFIX`]. [`lists_match_api_source`] reads mod.rs and fails when it declares a
//! route that is not listed here (or no longer declares one that is), so that no MLflow route
//! escapes those tests.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};

/// The prefixes the tracking routes are served under (MLflow's UI calls the second).
pub(crate) const TRACKING_PREFIXES: [&str; 2] = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"];
/// The prefix of the proxied artifact routes (and multipart uploads).
pub(crate) const ARTIFACTS_PREFIX: &str = "/api/2.0/mlflow-artifacts";

/// Every tracking route of api/src/mlflow/mod.rs (method, template under each prefix).
pub(crate) const TRACKING_ROUTES: &[(&str, &str)] = &[
    ("POST", "/experiments/create"),
    ("GET", "/experiments/get"),
    ("GET", "/experiments/get-by-name"),
    ("POST", "/experiments/search"),
    ("GET", "/experiments/search"),
    ("POST", "/experiments/update"),
    ("POST", "/experiments/delete"),
    ("POST", "/experiments/restore"),
    ("POST", "/experiments/set-experiment-tag"),
    ("POST", "/experiments/delete-experiment-tag"),
    ("POST", "/runs/create"),
    ("GET", "/runs/get"),
    ("POST", "/runs/update"),
    ("POST", "/runs/delete"),
    ("POST", "/runs/restore"),
    ("POST", "/runs/log-batch"),
    ("POST", "/runs/log-metric"),
    ("POST", "/runs/log-parameter"),
    ("POST", "/runs/set-tag"),
    ("POST", "/runs/delete-tag"),
    ("POST", "/runs/search"),
    ("GET", "/metrics/get-history"),
    ("GET", "/metrics/get-history-bulk-interval"),
    ("POST", "/runs/outputs"),
    ("POST", "/runs/log-inputs"),
    ("POST", "/logged-models"),
    ("POST", "/logged-models/search"),
    ("GET", "/logged-models/{model_id}"),
    ("PATCH", "/logged-models/{model_id}"),
    ("DELETE", "/logged-models/{model_id}"),
    ("PATCH", "/logged-models/{model_id}/tags"),
    ("DELETE", "/logged-models/{model_id}/tags/{key}"),
    ("POST", "/logged-models/{model_id}/params"),
    ("POST", "/registered-models/create"),
    ("GET", "/registered-models/get"),
    ("GET", "/registered-models/search"),
    ("POST", "/registered-models/search"),
    ("PATCH", "/registered-models/update"),
    ("GET", "/model-versions/search"),
    ("POST", "/model-versions/search"),
    ("PATCH", "/model-versions/update"),
    ("POST", "/registered-models/alias"),
    ("GET", "/registered-models/alias"),
    ("DELETE", "/registered-models/alias"),
    ("POST", "/model-versions/create"),
    ("GET", "/model-versions/get"),
    ("GET", "/model-versions/get-download-uri"),
    ("POST", "/registered-models/set-tag"),
    ("DELETE", "/registered-models/delete-tag"),
    ("POST", "/model-versions/set-tag"),
    ("DELETE", "/model-versions/delete-tag"),
    ("GET", "/registered-models/get-latest-versions"),
    ("POST", "/registered-models/get-latest-versions"),
    ("POST", "/registered-models/rename"),
    ("DELETE", "/registered-models/delete"),
    ("DELETE", "/model-versions/delete"),
    ("POST", "/model-versions/transition-stage"),
];

/// Every artifact route of api/src/mlflow/mod.rs (method, template under [`ARTIFACTS_PREFIX`]),
/// written as mod.rs writes them (`{*path}` takes the rest of the path).
pub(crate) const ARTIFACT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/artifacts"),
    ("GET", "/artifacts/{*path}"),
    ("PUT", "/artifacts/{*path}"),
    ("DELETE", "/artifacts/{*path}"),
    ("POST", "/mpu/create/{*path}"),
    ("POST", "/mpu/complete/{*path}"),
    ("POST", "/mpu/abort/{*path}"),
    ("PUT", "/mpu/part/{upload_id}/{part_number}"),
];

/// Every served route: (prefix, method, template), the tracking routes under both prefixes,
/// then the artifact routes.
pub(crate) fn served_routes() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    for prefix in TRACKING_PREFIXES {
        out.extend(TRACKING_ROUTES.iter().map(|(m, t)| (prefix, *m, *t)));
    }
    out.extend(
        ARTIFACT_ROUTES
            .iter()
            .map(|(m, t)| (ARTIFACTS_PREFIX, *m, *t)),
    );
    out
}

/// The routes api/src/mlflow/mod.rs declares, read from its source: (whether it is an
/// artifact route, method, template). Each `.route("<template>", <method router>)` call's
/// method routers (`get(`, `.post(`, `axum::routing::put(`, ...) are its methods.
fn routes_declared_in_source() -> Result<BTreeSet<(bool, String, String)>> {
    const SOURCE: &str = include_str!("../../api/src/mlflow/mod.rs");
    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
    let artifacts_from = SOURCE
        .find("let artifacts")
        .context("api/src/mlflow/mod.rs no longer has `let artifacts`: update this parser")?;
    let mut out = BTreeSet::new();
    let mut from = 0;
    while let Some(found) = SOURCE[from..].find(".route(") {
        let start = from + found + ".route(".len();
        let mut depth = 1;
        let mut end = None;
        for (i, ch) in SOURCE[start..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(start + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.context("unbalanced .route( in api/src/mlflow/mod.rs")?;
        let args = &SOURCE[start..end];
        let mut pieces = args.splitn(3, '"');
        let (_, Some(template), Some(handlers)) = (pieces.next(), pieces.next(), pieces.next())
        else {
            bail!("a .route( without a string template in api/src/mlflow/mod.rs: {args}");
        };
        let mut methods = 0;
        for method in METHODS {
            let call = format!("{method}(");
            let mut at = 0;
            while let Some(i) = handlers[at..].find(&call) {
                let pos = at + i;
                let before = handlers[..pos].chars().last();
                if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    out.insert((
                        start >= artifacts_from,
                        method.to_uppercase(),
                        template.to_owned(),
                    ));
                    methods += 1;
                }
                at = pos + call.len();
            }
        }
        if methods == 0 {
            bail!("route {template} in api/src/mlflow/mod.rs has no method this parser reads");
        }
        from = end;
    }
    Ok(out)
}

/// Checks [`TRACKING_ROUTES`] and [`ARTIFACT_ROUTES`] against api/src/mlflow/mod.rs: no
/// duplicates, no route declared there and not listed here, none listed here and no longer
/// declared there.
pub(crate) fn lists_match_api_source() -> Result<()> {
    let listed: BTreeSet<(bool, String, String)> = TRACKING_ROUTES
        .iter()
        .map(|(m, t)| (false, (*m).to_owned(), (*t).to_owned()))
        .chain(
            ARTIFACT_ROUTES
                .iter()
                .map(|(m, t)| (true, (*m).to_owned(), (*t).to_owned())),
        )
        .collect();
    assert_eq!(
        listed.len(),
        TRACKING_ROUTES.len() + ARTIFACT_ROUTES.len(),
        "TRACKING_ROUTES or ARTIFACT_ROUTES has duplicates"
    );
    let declared = routes_declared_in_source()?;
    let unlisted: Vec<_> = declared.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&declared).collect();
    assert!(
        unlisted.is_empty(),
        "MLflow routes in api/src/mlflow/mod.rs missing from tests/e2e/mlflow_routes.rs's \
         TRACKING_ROUTES / ARTIFACT_ROUTES (true: an artifact route): {unlisted:?}"
    );
    assert!(
        stale.is_empty(),
        "routes listed in tests/e2e/mlflow_routes.rs that api/src/mlflow/mod.rs does not \
         declare: {stale:?}"
    );
    Ok(())
}
