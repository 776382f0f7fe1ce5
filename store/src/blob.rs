//! Content-addressed blob storage over `object_store`.
//!
//! Bytes are streamed into a temporary object while their SHA-256 is computed, then moved to
//! `sha256/<first two hex>/<hash>` unless an object with that hash exists already, so the same
//! bytes are stored once. Nothing is held in memory beyond one multipart chunk.

use std::fmt::Display;
use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Size of one multipart part (S3 needs at least 5 MiB).
const CHUNK_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently.
const MAX_PARTS_IN_FLIGHT: usize = 2;

/// Largest object S3 copies in one request (CopyObject), and so the largest upload to S3.
pub const S3_MAX_COPY_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// A content-addressed store of immutable blobs.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    max_size: u64,
    description: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("location", &self.description)
            .finish()
    }
}

/// Bytes written to a temporary location, hashed, not yet committed.
#[derive(Debug, Clone)]
pub struct StagedBlob {
    tmp: Path,
    /// Lower-case hex SHA-256.
    pub content_hash: String,
    /// Size in bytes.
    pub byte_size: u64,
}

impl StagedBlob {
    /// Where the staged bytes can be read before commit.
    pub fn location(&self) -> &Path {
        &self.tmp
    }
}

/// Opens an object store for a URL (`s3://`, `gs://`, `az://`, `memory://`, `file://`), with
/// credentials and endpoints from the environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`).
pub fn open_url(url: &str) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid(format!("object store url '{url}' is not valid: {e}")))?;
    let path = Path::from_url_path(parsed.path()).map_err(|e| {
        Error::invalid(format!("object store url '{url}' has an invalid path: {e}"))
    })?;
    let store: Arc<dyn ObjectStore> = match parsed.scheme() {
        "memory" => Arc::new(InMemory::new()),
        "file" => Arc::new(LocalFileSystem::new()),
        #[cfg(feature = "s3")]
        "s3" | "s3a" => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(url)
                .build()?,
        ),
        #[cfg(feature = "gcs")]
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url)
                .build()?,
        ),
        #[cfg(feature = "azure")]
        "az" | "abfs" | "abfss" | "azure" => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .build()?,
        ),
        other => {
            return Err(Error::invalid(format!(
                "object store scheme '{other}' is not supported by this build (supported: {})",
                supported_schemes().join(", ")
            )));
        }
    };
    Ok((store, path))
}

/// The kind of object store a URL names and its bucket or container, normalised: `s3a` is
/// `s3`; `azure`, `abfs` and `abfss` are `az`, whose container is the URL's user name when it
/// has one (`abfss://container@account.dfs.core.windows.net`); names compare in lower case.
fn store_identity(url: &url::Url) -> Option<(&'static str, String)> {
    let kind = match url.scheme() {
        "s3" | "s3a" => "s3",
        "gs" => "gs",
        "az" | "azure" | "abfs" | "abfss" => "az",
        "memory" => "memory",
        "file" => "file",
        _ => return None,
    };
    let bucket = match (kind, url.username()) {
        ("az", user) if !user.is_empty() => user.to_owned(),
        _ => url.host_str().unwrap_or_default().to_owned(),
    };
    Some((kind, bucket.to_ascii_lowercase()))
}

/// URL schemes this build can open.
pub fn supported_schemes() -> Vec<&'static str> {
    let mut schemes = vec!["file", "memory"];
    if cfg!(feature = "s3") {
        schemes.push("s3");
    }
    if cfg!(feature = "gcs") {
        schemes.push("gs");
    }
    if cfg!(feature = "azure") {
        schemes.push("az");
    }
    schemes
}

impl BlobStore {
    /// A store in a local directory (created when missing).
    pub fn local(dir: &FsPath, max_size: u64) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            max_size,
            description: dir.display().to_string(),
        })
    }

    /// A store at an object-store URL; keys go under the URL's path.
    pub fn from_url(url: &str, max_size: u64) -> Result<Self> {
        let (store, prefix) = open_url(url)?;
        let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
            store
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
        };
        // Committing a staged blob is a server-side copy, which S3 performs in one request only up
        // to 5 GiB; larger uploads would stream completely and then fail.
        let is_s3 = url.starts_with("s3://") || url.starts_with("s3a://");
        let max_size = if is_s3 && max_size > S3_MAX_COPY_BYTES {
            tracing::warn!(
                requested = max_size,
                limit = S3_MAX_COPY_BYTES,
                "uploads to S3 are limited to 5 GiB"
            );
            S3_MAX_COPY_BYTES
        } else {
            max_size
        };
        Ok(Self {
            store,
            max_size,
            description: url.to_string(),
        })
    }

    /// Wraps an existing object store.
    pub fn new(store: Arc<dyn ObjectStore>, max_size: u64, description: impl Into<String>) -> Self {
        Self {
            store,
            max_size,
            description: description.into(),
        }
    }

    /// The largest blob accepted, in bytes.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Where blobs live, for logs.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whether the object at `path` of the store `url` names lies inside this store (same
    /// kind of store, same bucket or container, under this store's prefix). Such objects are
    /// never registered as sources: the store holds every dataset's bytes, and the server's
    /// own credentials would copy bytes the caller may not read.
    ///
    /// `path` must be the path that will be read, as [`open_url`] decodes it (percent-escapes
    /// decoded, dot segments refused), so that no spelling of the URL decides differently
    /// from the read.
    pub fn contains_object(&self, url: &url::Url, path: &Path) -> bool {
        let Ok(own) = url::Url::parse(&self.description) else {
            return false;
        };
        let Some((own_kind, own_bucket)) = store_identity(&own) else {
            return false;
        };
        if store_identity(url) != Some((own_kind, own_bucket)) {
            return false;
        }
        match Path::from_url_path(own.path()) {
            Ok(own_prefix) => path.prefix_matches(&own_prefix),
            // This store's own URL always parses; refuse rather than guess.
            Err(_) => true,
        }
    }

    /// The key of a blob with this hash.
    pub fn key(content_hash: &str) -> Path {
        let prefix = content_hash.get(..2).unwrap_or("00");
        Path::from(format!("sha256/{prefix}/{content_hash}"))
    }

    /// The underlying object store (for readers such as Parquet).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// Checks that the object store answers (a missing key is an answer).
    pub async fn ping(&self) -> Result<()> {
        match self.store.head(&Path::from("verity-ready-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams bytes into a temporary object, hashing them; fails past the size limit.
    pub async fn stage<S, E>(&self, stream: S) -> Result<StagedBlob>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: Display,
    {
        self.stage_within(stream, self.max_size).await
    }

    /// Like [`BlobStore::stage`], failing past `limit` bytes (at most the size limit) with
    /// [`Error::TooLarge`] naming `limit`.
    pub async fn stage_within<S, E>(&self, stream: S, limit: u64) -> Result<StagedBlob>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: Display,
    {
        let limit = limit.min(self.max_size);
        let tmp = Path::from(format!("tmp/{}", uuid::Uuid::new_v4().simple()));
        let upload = self.store.put_multipart(&tmp).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK_SIZE);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut stream = std::pin::pin!(stream);
        let failure = loop {
            match stream.next().await {
                None => break None,
                Some(Err(e)) => {
                    break Some(Error::invalid(format!("reading the upload failed: {e}")));
                }
                Some(Ok(chunk)) => {
                    size += chunk.len() as u64;
                    if size > limit {
                        break Some(Error::TooLarge { limit });
                    }
                    hasher.update(&chunk);
                    if let Err(e) = writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await {
                        break Some(e.into());
                    }
                    writer.put(chunk);
                }
            }
        };
        if let Some(err) = failure {
            if let Err(abort_err) = writer.abort().await {
                tracing::warn!(error = %abort_err, "aborting a failed upload failed");
            }
            return Err(err);
        }
        writer.finish().await?;
        Ok(StagedBlob {
            tmp,
            content_hash: hex::encode(hasher.finalize()),
            byte_size: size,
        })
    }

    /// Copies an object from another store into a staged blob, streaming.
    pub async fn stage_from(&self, source: &dyn ObjectStore, path: &Path) -> Result<StagedBlob> {
        let result = source.get(path).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => {
                Error::invalid(format!("no object at '{path}'"))
            }
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => {
                Error::invalid(format!("reading '{path}' was refused by the object store"))
            }
            other => {
                tracing::warn!(error = %other, %path, "reading a registered url failed");
                Error::SourceUnavailable {
                    path: path.to_string(),
                }
            }
        })?;
        if result.meta.size > self.max_size {
            return Err(Error::TooLarge {
                limit: self.max_size,
            });
        }
        self.stage(result.into_stream()).await
    }

    /// Streams staged blobs, in order, into one new staged blob (the parts of a multipart
    /// upload becoming the file); the parts stay staged until discarded.
    pub async fn stage_concat(&self, parts: &[StagedBlob]) -> Result<StagedBlob> {
        let store = Arc::clone(&self.store);
        let locations: Vec<Path> = parts.iter().map(|p| p.tmp.clone()).collect();
        let stream = futures::stream::iter(locations)
            .then(
                move |location| -> futures::future::BoxFuture<
                    'static,
                    object_store::Result<object_store::GetResult>,
                > {
                    let store = Arc::clone(&store);
                    Box::pin(async move { store.get(&location).await })
                },
            )
            .map_ok(|result| result.into_stream())
            .try_flatten()
            .boxed();
        self.stage(stream).await
    }

    /// Moves a staged blob to its content address, unless those bytes are stored already.
    pub async fn commit(&self, staged: &StagedBlob) -> Result<()> {
        let key = Self::key(&staged.content_hash);
        match self.store.head(&key).await {
            Ok(_) => self.discard(staged).await,
            Err(object_store::Error::NotFound { .. }) => {
                self.store.rename(&staged.tmp, &key).await?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a staged blob that will not be committed.
    pub async fn discard(&self, staged: &StagedBlob) -> Result<()> {
        match self.store.delete(&staged.tmp).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams a blob's bytes; returns its size and the stream.
    pub async fn get(
        &self,
        content_hash: &str,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes>>)> {
        let result = self.store.get(&Self::key(content_hash)).await?;
        let size = result.meta.size;
        Ok((size, result.into_stream().map_err(Error::from).boxed()))
    }

    /// Deletes staged uploads older than `age` (left behind when the process died mid-upload);
    /// returns how many it deleted. Committed blobs are never touched.
    pub async fn sweep_staging(&self, age: std::time::Duration) -> Result<usize> {
        let cutoff = millis_ago(age);
        let stale: Vec<Path> = self
            .store
            .list(Some(&Path::from("tmp")))
            .try_filter_map(|meta| async move {
                Ok((meta.last_modified.timestamp_millis() <= cutoff).then_some(meta.location))
            })
            .try_collect()
            .await?;
        for location in &stale {
            match self.store.delete(location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(stale.len())
    }

    /// Whether a blob with this hash is stored.
    pub async fn contains(&self, content_hash: &str) -> Result<bool> {
        match self.store.head(&Self::key(content_hash)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Milliseconds since the epoch, `age` ago.
fn millis_ago(age: std::time::Duration) -> i64 {
    crate::now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sweep_removes_only_stale_staged_uploads() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let blobs = BlobStore::local(dir.path(), 1024)?;
        let kept = blobs.stage(chunks(vec![b"committed"])).await?;
        blobs.commit(&kept).await?;
        let abandoned = blobs.stage(chunks(vec![b"abandoned"])).await?;
        assert_eq!(
            blobs
                .sweep_staging(std::time::Duration::from_secs(3600))
                .await?,
            0,
            "young uploads stay"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(blobs.sweep_staging(std::time::Duration::ZERO).await?, 1);
        assert!(
            blobs
                .object_store()
                .head(abandoned.location())
                .await
                .is_err()
        );
        assert!(
            blobs.contains(&kept.content_hash).await?,
            "committed blobs are never swept"
        );
        Ok(())
    }

    fn chunks(
        parts: Vec<&'static [u8]>,
    ) -> impl Stream<Item = std::result::Result<Bytes, std::io::Error>> {
        futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
    }

    #[tokio::test]
    async fn same_bytes_are_stored_once() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let blobs = BlobStore::local(dir.path(), 1024)?;
        let a = blobs.stage(chunks(vec![b"hello ", b"world"])).await?;
        blobs.commit(&a).await?;
        let b = blobs.stage(chunks(vec![b"hello world"])).await?;
        blobs.commit(&b).await?;
        assert_eq!(a.content_hash, b.content_hash);
        assert_eq!(
            a.content_hash,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let stored: Vec<_> = blobs.object_store().list(None).try_collect().await?;
        assert_eq!(
            stored.len(),
            1,
            "one object, no leftover temporary files: {stored:?}"
        );
        let (size, stream) = blobs.get(&a.content_hash).await?;
        assert_eq!(size, 11);
        let bytes: Vec<Bytes> = stream.try_collect().await?;
        assert_eq!(bytes.concat(), b"hello world");
        Ok(())
    }

    #[tokio::test]
    async fn staged_parts_concatenate_in_order_within_the_limit() -> Result<()> {
        let blobs = BlobStore::new(Arc::new(InMemory::new()), 11, "memory");
        let first = blobs.stage(chunks(vec![b"hello", b" "])).await?;
        let second = blobs.stage(chunks(vec![b"world"])).await?;
        let whole = blobs.stage_concat(&[first.clone(), second.clone()]).await?;
        assert_eq!(whole.byte_size, 11);
        assert_eq!(
            whole.content_hash,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let swapped = blobs.stage_concat(&[second.clone(), first.clone()]).await?;
        assert_ne!(swapped.content_hash, whole.content_hash, "order matters");
        let too_big = blobs
            .stage_concat(&[whole.clone(), first.clone()])
            .await
            .err();
        assert!(matches!(too_big, Some(Error::TooLarge { limit: 11 })));
        blobs.discard(&first).await?;
        let gone = blobs.stage_concat(&[first, second]).await.err();
        assert!(gone.is_some(), "a discarded part cannot be read");
        Ok(())
    }

    #[tokio::test]
    async fn oversized_upload_is_refused_and_leaves_nothing() -> Result<()> {
        let blobs = BlobStore::new(Arc::new(InMemory::new()), 8, "memory");
        let err = blobs.stage(chunks(vec![b"12345", b"67890"])).await.err();
        assert!(matches!(err, Some(Error::TooLarge { limit: 8 })), "{err:?}");
        let stored: Vec<_> = blobs.object_store().list(None).try_collect().await?;
        assert!(stored.is_empty(), "{stored:?}");
        Ok(())
    }
}
