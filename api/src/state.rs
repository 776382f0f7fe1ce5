//! Shared state of the HTTP handlers.

use std::sync::Arc;

use verity_store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Metadata and blobs.
    pub store: Store,
    /// The principal that acts while access control is not configured.
    pub local_principal: Arc<str>,
    /// Largest JSON body, in bytes.
    pub max_body_bytes: usize,
}

impl std::ops::Deref for AppState {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}
