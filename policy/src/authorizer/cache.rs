//! Memoised decisions for one set of rules. A cache lives beside its enforcer, so a reload
//! (a new enforcer) starts with an empty one and a check that raced the reload can only write
//! into the old, discarded cache.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::model::Action;

/// Decisions kept before the cache is emptied and starts over.
pub(super) const MAX_ENTRIES: usize = 100_000;

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

/// Allowed or denied, per [`Key`]. Lookups take only the read lock.
#[derive(Debug, Default)]
pub(super) struct Decisions {
    map: RwLock<HashMap<Key, bool>>,
}

impl Decisions {
    /// The remembered decision for `key`, if any.
    pub fn get(&self, key: &Key) -> Option<bool> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(key).copied()
    }

    /// Remembers a decision; empties the cache first when it is full.
    pub fn insert(&self, key: Key, allowed: bool) {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, allowed);
    }

    /// How many decisions are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
