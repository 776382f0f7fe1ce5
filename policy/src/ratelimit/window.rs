//! Keys and sliding windows: how accounts and addresses are keyed, and what recent events say.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Recent events for one key, oldest first, at most as many as the key's limit needs.
pub(super) type Events = VecDeque<Instant>;

/// An address key: see [`address_key`]; `None` is the one key shared by attempts whose address
/// is unknown.
pub(super) type AddrKey = Option<IpAddr>;

/// The key for an address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64 network, since
/// one client usually holds a whole /64.
pub(super) fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Account names longer than this are tracked by their SHA-256, so that long made-up names
/// cannot fill memory.
pub(super) const MAX_ACCOUNT_KEY_BYTES: usize = 128;

/// The key for an account: the name itself, or the digest of a very long one.
pub(super) fn account_key(account: &str) -> Cow<'_, str> {
    if account.len() > MAX_ACCOUNT_KEY_BYTES {
        Cow::Owned(crate::token::digest(account))
    } else {
        Cow::Borrowed(account)
    }
}

/// Whether an event at `t` is still inside `window` at `now` (an event from the future is).
fn inside(t: Instant, window: Duration, now: Instant) -> bool {
    now.saturating_duration_since(t) < window
}

/// How many of `events` fall inside `window`.
pub(super) fn recent(events: Option<&Events>, window: Duration, now: Instant) -> usize {
    events.map_or(0, |events| {
        events.iter().filter(|t| inside(**t, window, now)).count()
    })
}

/// How long until fewer than `limit` of `events` fall inside `window`; `None` when that is
/// already so, or when `limit` is 0 (no limit).
pub(super) fn wait(
    events: Option<&Events>,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let limit = usize::try_from(limit).ok().filter(|l| *l > 0)?;
    let recent: Vec<&Instant> = events?
        .iter()
        .filter(|t| inside(**t, window, now))
        .collect();
    // With n >= limit recent events, the key is allowed again once the event at n - limit
    // (counting from the oldest) leaves the window.
    let deciding = recent
        .len()
        .checked_sub(limit)
        .and_then(|i| recent.get(i))?;
    Some(window.saturating_sub(now.saturating_duration_since(**deciding)))
}

/// Appends an event at `now`, keeping only the newest `keep` (at least one).
pub(super) fn push(events: &mut Events, now: Instant, keep: usize) {
    events.push_back(now);
    while events.len() > keep.max(1) {
        events.pop_front();
    }
}

/// Anything whose last use is known, for expiry and least-recently-used eviction.
pub(super) trait Newest {
    /// When the entry was last used; `None` for an empty one (dropped first).
    fn newest(&self) -> Option<Instant>;
}

impl Newest for Events {
    fn newest(&self) -> Option<Instant> {
        self.back().copied()
    }
}

impl Newest for Instant {
    fn newest(&self) -> Option<Instant> {
        Some(*self)
    }
}

/// Drops the entries last used outside `window`.
pub(super) fn purge_expired<K, V: Newest>(map: &mut HashMap<K, V>, window: Duration, now: Instant) {
    map.retain(|_, v| v.newest().is_some_and(|t| inside(t, window, now)));
}
