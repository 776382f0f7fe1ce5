//! The memory bound: expired keys go first, then the least recently used, over all maps.

use std::collections::HashMap;
use std::time::Instant;

use super::window::{AddrKey, Newest, purge_expired};
use super::{LimiterConfig, PairKey, State};

/// A key in one of the state's maps.
enum Slot {
    Pair(PairKey),
    Account(String),
    Address(AddrKey),
    Reported(AddrKey),
}

/// Each entry of `map` with when it was last used, as a [`Slot`].
fn ages<'a, K: Clone, V: Newest>(
    map: &'a HashMap<K, V>,
    slot: impl Fn(K) -> Slot + 'a,
) -> impl Iterator<Item = (Option<Instant>, Slot)> + 'a {
    map.iter().map(move |(k, v)| (v.newest(), slot(k.clone())))
}

impl State {
    /// How many keys are tracked, over all maps.
    pub(super) fn len(&self) -> usize {
        self.pairs.len() + self.accounts.len() + self.addresses.len() + self.reported.len()
    }

    /// Keeps the number of keys at or under `max_entries`: purges expired keys, then drops
    /// the least recently used down to 90% so the work is not repeated on every call.
    pub(super) fn bound(&mut self, cfg: &LimiterConfig, now: Instant) {
        let max = cfg.max_entries;
        if self.len() <= max {
            return;
        }
        purge_expired(&mut self.pairs, cfg.account_window, now);
        purge_expired(&mut self.accounts, cfg.account_window, now);
        purge_expired(&mut self.addresses, cfg.address_window, now);
        purge_expired(&mut self.reported, cfg.address_window, now);
        let total = self.len();
        if total <= max {
            return;
        }
        let excess = total - (max - max / 10);
        let mut by_age: Vec<(Option<Instant>, Slot)> = ages(&self.pairs, Slot::Pair)
            .chain(ages(&self.accounts, Slot::Account))
            .chain(ages(&self.addresses, Slot::Address))
            .chain(ages(&self.reported, Slot::Reported))
            .collect();
        by_age.sort_unstable_by_key(|(t, _)| *t);
        for (_, slot) in by_age.into_iter().take(excess) {
            match slot {
                Slot::Pair(key) => {
                    self.pairs.remove(&key);
                }
                Slot::Account(key) => {
                    self.accounts.remove(&key);
                }
                Slot::Address(key) => {
                    self.addresses.remove(&key);
                }
                Slot::Reported(key) => {
                    self.reported.remove(&key);
                }
            }
        }
    }
}
