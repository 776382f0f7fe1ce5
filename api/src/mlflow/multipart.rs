//! MLflow's multipart artifact upload (`/api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<dir>`,
//! the file's name being the base name of the client's local `path`),
//! which the client uses for files of `MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE` (500 MB) and
//! more when `MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD` is set, sending parts in parallel.
//!
//! MLflow's server hands out a cloud store's presigned part URLs; Verity hands out its own,
//! `PUT /api/2.0/mlflow-artifacts/mpu/part/<upload>/<n>`. The client sends parts without
//! credentials, so the upload id is the credential, as a presigned URL's signature is: 244
//! random bits (two UUIDv4), given only to the caller who created the upload, good for one
//! upload's parts until it expires ([`DEFAULT_UPLOAD_TTL`], `--multipart-ttl-secs`), when
//! its staged parts are deleted. Completing (authenticated and authorized again) checks every part against its
//! ETag, concatenates them and stores the file exactly as a single `PUT` does: immutable,
//! content-addressed, audited. Open uploads live in memory; a restart forgets them (the client
//! then fails and its next attempt starts over) and the staged parts are swept at the next start.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Extensions, HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;
use verity_store::StagedBlob;

use super::artifacts::{Location, authorize, locate};
use super::{MlflowError, Path, wire};
use crate::auth::{Caller, DecisionMark};
use crate::routes::stage_body_beside;
use crate::state::AppState;

/// How long an upload stays open (its part URLs good, its parts kept) unless configured.
pub const DEFAULT_UPLOAD_TTL: Duration = Duration::from_secs(3600);
/// Most parts in one upload (S3's limit).
const MAX_PARTS: i64 = 10_000;
/// Most uploads open at once on one server.
const MAX_OPEN_UPLOADS: usize = 1000;
/// Most uploads one principal has open at once.
const MAX_OPEN_PER_PRINCIPAL: usize = 50;

/// The multipart uploads in progress, by upload id.
pub struct Uploads {
    open: Mutex<HashMap<String, Upload>>,
    ttl: Duration,
}

impl Default for Uploads {
    fn default() -> Self {
        Self::new(DEFAULT_UPLOAD_TTL)
    }
}

struct Upload {
    run_id: String,
    /// The run's project, whose storage quota bounds the parts.
    project: String,
    path: String,
    principal: String,
    num_parts: u32,
    created: Instant,
    parts: BTreeMap<u32, StagedBlob>,
}

impl Upload {
    /// Bytes staged so far.
    fn staged_bytes(&self) -> u64 {
        self.parts.values().map(|p| p.byte_size).sum()
    }
}

impl Uploads {
    /// No uploads yet; each stays open for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            open: Mutex::default(),
            ttl,
        }
    }

    /// Bytes staged by the open uploads of a project.
    fn staged_in(&self, project: &str) -> u64 {
        self.lock()
            .values()
            .filter(|u| u.project == project)
            .map(Upload::staged_bytes)
            .sum()
    }

    /// Removes expired uploads and deletes their staged parts (in the background).
    pub fn sweep(&self, blobs: &verity_store::BlobStore) {
        discard_parts(blobs, self.expire());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Upload>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes expired uploads; returns their staged parts, for discarding.
    fn expire(&self) -> Vec<StagedBlob> {
        let mut open = self.lock();
        let expired: Vec<String> = open
            .iter()
            .filter(|(_, u)| u.created.elapsed() > self.ttl)
            .map(|(id, _)| id.clone())
            .collect();
        expired
            .iter()
            .filter_map(|id| open.remove(id))
            .flat_map(|u| u.parts.into_values())
            .collect()
    }

    /// Removes the upload `id` if it is the caller's upload to this location and passes
    /// `check`; an upload that fails the check stays open.
    fn take(
        &self,
        id: &str,
        at: &Location,
        principal: &str,
        check: impl FnOnce(&Upload) -> Result<(), MlflowError>,
    ) -> Result<Upload, MlflowError> {
        let mut open = self.lock();
        match open.get(id) {
            Some(u)
                if u.run_id == at.run_id
                    && u.path == at.path
                    && u.principal == principal
                    && u.created.elapsed() <= self.ttl =>
            {
                check(u)?;
                open.remove(id).ok_or_else(|| self.no_upload(id))
            }
            _ => Err(self.no_upload(id)),
        }
    }
}

impl Uploads {
    fn no_upload(&self, id: &str) -> MlflowError {
        MlflowError::not_found(format!(
            "no open multipart upload '{id}' for this artifact and caller (it was completed, \
             aborted, expired after {} seconds, or the server restarted)",
            self.ttl.as_secs()
        ))
    }
}

/// Discards staged parts in the background.
fn discard(state: &AppState, parts: Vec<StagedBlob>) {
    discard_parts(state.blobs(), parts);
}

fn discard_parts(blobs: &verity_store::BlobStore, parts: Vec<StagedBlob>) {
    if parts.is_empty() {
        return;
    }
    let blobs = blobs.clone();
    tokio::spawn(async move {
        for part in parts {
            if let Err(e) = blobs.discard(&part).await {
                tracing::warn!(error = %e, "discarding a multipart upload's part failed");
            }
        }
    });
}

/// The base URL the client reached us at: `Host`, and `https` behind a proxy that says so.
fn base_url(headers: &HeaderMap) -> Result<String, MlflowError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', '?', '#', '@', ' ']))
        .ok_or_else(|| {
            MlflowError::invalid("a multipart upload needs the request's Host header")
        })?;
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    Ok(format!("{}://{host}", if https { "https" } else { "http" }))
}

/// The artifact a multipart request is about: the base name of the client's local file
/// (`path` in the body) in the directory the URL names, as MLflow's server places it.
fn artifact(at: Location, local: Option<&str>) -> Result<Location, MlflowError> {
    let local =
        local.ok_or_else(|| MlflowError::invalid("path (the local file's name) is required"))?;
    let name = local.rsplit(['/', '\\']).next().unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." {
        return Err(MlflowError::invalid(format!(
            "'{local}' does not end with a file name"
        )));
    }
    let path = if at.path.is_empty() {
        name.to_owned()
    } else {
        format!("{}/{name}", at.path)
    };
    verity_store::validate::artifact_path(&path)?;
    Ok(Location {
        run_id: at.run_id,
        path,
    })
}

#[derive(Deserialize)]
struct CreateRequest {
    /// The client's local file; its base name is the artifact's.
    path: Option<String>,
    num_parts: Option<wire::Int>,
}

/// `POST mpu/create/<location>[/<dir>]`: opens an upload of `num_parts` parts and answers one
/// part URL each.
pub(super) async fn create(
    State(state): State<AppState>,
    c: Caller,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MlflowError> {
    let at = locate(&path)?;
    let run = authorize(&state, &c, Action::RunWrite, &at).await?;
    let req: CreateRequest = wire::body(&body)?;
    let at = artifact(at, req.path.as_deref())?;
    let num_parts = match req.num_parts {
        Some(wire::Int(n)) if (1..=MAX_PARTS).contains(&n) => n as u32,
        Some(wire::Int(n)) => {
            return Err(MlflowError::invalid(format!(
                "num_parts must be between 1 and {MAX_PARTS}; got {n}"
            )));
        }
        None => return Err(MlflowError::invalid("num_parts is required")),
    };
    let base = base_url(&headers)?;
    discard(&state, state.mlflow_uploads.expire());
    let id = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    {
        let mut open = state.mlflow_uploads.lock();
        let mine = open
            .values()
            .filter(|u| u.principal == c.actor.principal)
            .count();
        if mine >= MAX_OPEN_PER_PRINCIPAL || open.len() >= MAX_OPEN_UPLOADS {
            return Err(MlflowError::invalid(format!(
                "too many open multipart uploads ({mine} of yours, {} on this server; at most \
                 {MAX_OPEN_PER_PRINCIPAL} and {MAX_OPEN_UPLOADS}): complete or abort some first",
                open.len()
            )));
        }
        open.insert(
            id.clone(),
            Upload {
                run_id: at.run_id.clone(),
                project: run.project.clone(),
                path: at.path.clone(),
                principal: c.actor.principal.clone(),
                num_parts,
                created: Instant::now(),
                parts: BTreeMap::new(),
            },
        );
    }
    let credentials: Vec<Value> = (1..=num_parts)
        .map(|n| {
            json!({
                "url": format!("{base}/api/2.0/mlflow-artifacts/mpu/part/{id}/{n}"),
                "part_number": n,
                "headers": {},
            })
        })
        .collect();
    Ok(Json(json!({"upload_id": id, "credentials": credentials})))
}

/// `PUT mpu/part/<upload>/<n>`: one part's bytes. The upload id is the credential. Answers the
/// part's ETag (its SHA-256); sending a part again replaces it.
pub(super) async fn put_part(
    State(state): State<AppState>,
    Path((id, part)): Path<(String, String)>,
    extensions: Extensions,
    body: Body,
) -> Result<Response, MlflowError> {
    let number = part
        .parse::<u32>()
        .map_err(|_| MlflowError::invalid(format!("'{part}' is not a part number")))?;
    let project = {
        let open = state.mlflow_uploads.lock();
        let upload = open
            .get(&id)
            .filter(|u| u.created.elapsed() <= state.mlflow_uploads.ttl)
            .ok_or_else(|| state.mlflow_uploads.no_upload(&id))?;
        if !(1..=upload.num_parts).contains(&number) {
            return Err(MlflowError::invalid(format!(
                "part {number} is outside this upload's parts 1 to {}",
                upload.num_parts
            )));
        }
        upload.project.clone()
    };
    // The decision: the upload id, given only to an authorized caller, is the credential.
    if let Some(mark) = extensions.get::<DecisionMark>() {
        mark.set();
    }
    // Parts staged by the project's open uploads count against its quota too.
    let pending = state.mlflow_uploads.staged_in(&project);
    let staged = stage_body_beside(&state, &project, pending, body).await?;
    let etag = format!("\"{}\"", staged.content_hash);
    let limit = state.blobs().max_size();
    let replaced = {
        let mut open = state.mlflow_uploads.lock();
        match open.get_mut(&id) {
            Some(upload) => {
                let others =
                    upload.staged_bytes() - upload.parts.get(&number).map_or(0, |p| p.byte_size);
                if others + staged.byte_size > limit {
                    drop(open);
                    discard(&state, vec![staged]);
                    return Err(MlflowError::invalid(format!(
                        "the parts of this upload would exceed the largest file this server \
                         stores ({limit} bytes)"
                    )));
                }
                upload.parts.insert(number, staged)
            }
            None => {
                // Completed or aborted while this part was arriving.
                drop(open);
                discard(&state, vec![staged]);
                return Err(state.mlflow_uploads.no_upload(&id));
            }
        }
    };
    discard(&state, replaced.into_iter().collect());
    let mut response = Json(json!({})).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct PartRef {
    part_number: wire::Int,
    #[serde(default)]
    etag: String,
}

#[derive(Deserialize)]
struct CompleteRequest {
    path: Option<String>,
    upload_id: String,
    #[serde(default)]
    parts: Vec<PartRef>,
}

/// Checks the client's part list against the staged parts: every part, in order, each with
/// the ETag its upload answered.
fn check_parts(upload: &Upload, listed: &[PartRef]) -> Result<(), MlflowError> {
    if listed.len() != upload.num_parts as usize {
        return Err(MlflowError::invalid(format!(
            "the upload has {} parts; the request lists {}",
            upload.num_parts,
            listed.len()
        )));
    }
    for (expected, part) in (1..=upload.num_parts).zip(listed) {
        if part.part_number.0 != i64::from(expected) {
            return Err(MlflowError::invalid(format!(
                "parts must be listed in order 1 to {}; found part {} at position {expected}",
                upload.num_parts, part.part_number.0
            )));
        }
        let staged = upload
            .parts
            .get(&expected)
            .ok_or_else(|| MlflowError::invalid(format!("part {expected} was never uploaded")))?;
        if part.etag.trim_matches('"') != staged.content_hash {
            return Err(MlflowError::invalid(format!(
                "part {expected}'s ETag {} is not the one its upload answered",
                part.etag
            )));
        }
    }
    Ok(())
}

/// `POST mpu/complete/<location>[/<dir>]`: stores the parts, in order, as the artifact.
pub(super) async fn complete(
    State(state): State<AppState>,
    c: Caller,
    Path(path): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, MlflowError> {
    let at = locate(&path)?;
    authorize(&state, &c, Action::RunWrite, &at).await?;
    let req: CompleteRequest = wire::body(&body)?;
    let at = artifact(at, req.path.as_deref())?;
    let upload = state
        .mlflow_uploads
        .take(&req.upload_id, &at, &c.actor.principal, |u| {
            check_parts(u, &req.parts)
        })?;
    let parts: Vec<StagedBlob> = upload.parts.values().cloned().collect();
    let stored = match state.blobs().stage_concat(&parts).await {
        Ok(whole) => {
            state
                .put_artifact(&at.run_id, &at.path, whole, &c.actor)
                .await
        }
        Err(e) => Err(e),
    };
    match stored {
        Ok(_) => {
            discard(&state, parts);
            Ok(Json(json!({})))
        }
        Err(e) => {
            // The upload stays open, so that the client's abort (or a retry) finds it.
            state.mlflow_uploads.lock().insert(req.upload_id, upload);
            Err(e.into())
        }
    }
}

#[derive(Deserialize)]
struct AbortRequest {
    path: Option<String>,
    upload_id: String,
}

/// `POST mpu/abort/<location>[/<dir>]`: forgets the upload and its parts.
pub(super) async fn abort(
    State(state): State<AppState>,
    c: Caller,
    Path(path): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, MlflowError> {
    let at = locate(&path)?;
    authorize(&state, &c, Action::RunWrite, &at).await?;
    let req: AbortRequest = wire::body(&body)?;
    let at = artifact(at, req.path.as_deref())?;
    let upload = state
        .mlflow_uploads
        .take(&req.upload_id, &at, &c.actor.principal, |_| Ok(()))?;
    discard(&state, upload.parts.into_values().collect());
    Ok(Json(json!({})))
}
