//! Memoised decisions for one set of rules. A cache lives beside its enforcer, so a reload
//! (a new enforcer) starts with an empty one and a check that raced the reload can only write
//! into the old, discarded cache.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::model::Action;

/// Decisions kept before the cache is emptied and starts over.
pub(super) const MAX_ENTRIES: usize = 100_000;

/// Approximate bytes held (see [`Key::bytes`]) past which the cache is emptied and starts
/// over, so that long names (a project name from a URL) cannot grow it without bound.
pub(super) const MAX_BYTES: usize = 8 * 1024 * 1024;

/// Bytes counted per entry besides its strings: the key's fixed fields, the strings' headers
/// and the map's own overhead, roughly.
pub(super) const ENTRY_OVERHEAD: usize = 64;

/// Everything a decision depends on. The owner enters only as whether it is the subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    /// The subject's user name.
    pub name: String,
    /// The subject's clearance rank.
    pub clearance: i64,
    /// The domain the check ran in (`*` for global actions).
    pub domain: String,
    /// The action.
    pub action: Action,
    /// The object's sensitivity rank as the matcher saw it.
    pub sensitivity: i64,
    /// Whether the subject owns the object.
    pub owns: bool,
}

impl Key {
    /// The approximate memory an entry for this key holds.
    fn bytes(&self) -> usize {
        self.name
            .len()
            .saturating_add(self.domain.len())
            .saturating_add(ENTRY_OVERHEAD)
    }
}

/// The decisions and the approximate bytes they hold.
#[derive(Debug, Default)]
struct Map {
    entries: HashMap<Key, bool>,
    bytes: usize,
}

/// Allowed or denied, per [`Key`]. Lookups take only the read lock.
#[derive(Debug, Default)]
pub(super) struct Decisions {
    map: RwLock<Map>,
}

impl Decisions {
    /// The remembered decision for `key`, if any.
    pub fn get(&self, key: &Key) -> Option<bool> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.entries.get(key).copied()
    }

    /// Remembers a decision; empties the cache first when it holds `MAX_ENTRIES` decisions
    /// or the new one would take it past `MAX_BYTES`. A key bigger than `MAX_BYTES` on its
    /// own is not remembered.
    pub fn insert(&self, key: Key, allowed: bool) {
        let bytes = key.bytes();
        if bytes > MAX_BYTES {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(decision) = map.entries.get_mut(&key) {
            *decision = allowed;
            return;
        }
        if map.entries.len() >= MAX_ENTRIES || map.bytes.saturating_add(bytes) > MAX_BYTES {
            map.entries.clear();
            map.bytes = 0;
        }
        map.entries.insert(key, allowed);
        map.bytes += bytes;
    }

    /// How many decisions are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }

    /// The approximate bytes the remembered decisions hold.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
    }
}
