use super::*;

const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);

fn ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

fn at(t0: Instant, secs: u64) -> Instant {
    t0 + Duration::from_secs(secs)
}

fn pass(delay: Duration) -> Result<Admission, Refusal> {
    Ok(Admission { delay })
}

fn refused(retry_after: Duration, audit: bool) -> Result<Admission, Refusal> {
    Err(Refusal { retry_after, audit })
}

#[test]
fn failures_lock_the_account_for_that_address_only() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let (a, b) = (ip("192.0.2.1"), ip("198.51.100.2"));
    let t0 = Instant::now();
    for i in 0..5 {
        assert_eq!(limiter.begin("admin", a, at(t0, i)), pass(Duration::ZERO));
    }
    // The first failure (t0) leaves the 15 minute window at t0 + 15 min.
    assert_eq!(
        limiter.begin("admin", a, at(t0, 10)),
        refused(15 * MIN - 10 * SEC, true)
    );
    // Still locked for A, with the right password or not: a success is only known after.
    assert!(limiter.begin("admin", a, at(t0, 11)).is_err());
    // Another account from A, and the same account from B, may try; B never failed on
    // admin, so it is not slowed down either.
    assert_eq!(limiter.begin("bea", a, at(t0, 12)), pass(Duration::ZERO));
    assert_eq!(limiter.begin("admin", b, at(t0, 12)), pass(Duration::ZERO));
    assert!(limiter.begin("admin", a, t0 + 15 * MIN).is_ok());
}

#[test]
fn account_wide_failures_slow_down_addresses_that_failed() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let addrs: Vec<Option<IpAddr>> = (1..=5).map(|i| ip(&format!("192.0.2.{i}"))).collect();
    let t0 = Instant::now();
    // One failure from each of five addresses: none slowed down yet.
    for a in &addrs {
        assert_eq!(limiter.begin("admin", *a, t0), pass(Duration::ZERO));
    }
    // Five account-wide failures: 1 s, then doubling with each further failure, capped at 8 s.
    let expected = [1, 2, 4, 8, 8];
    for (a, secs) in addrs.iter().zip(expected) {
        assert_eq!(limiter.begin("admin", *a, at(t0, 1)), pass(secs * SEC));
    }
    assert_eq!(limiter.begin("admin", addrs[0], at(t0, 2)), pass(8 * SEC));
    // An address with no failures on admin is never slowed down, nor is another account.
    assert_eq!(
        limiter.begin("admin", ip("203.0.113.9"), at(t0, 2)),
        pass(Duration::ZERO)
    );
    assert_eq!(
        limiter.begin("bea", addrs[0], at(t0, 2)),
        pass(Duration::ZERO)
    );
    // The slow-down ends with the window.
    assert_eq!(
        limiter.begin("admin", addrs[1], t0 + 16 * MIN),
        pass(Duration::ZERO)
    );
}

#[test]
fn success_clears_the_pair_and_takes_back_its_failure() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let t0 = Instant::now();
    for _ in 0..4 {
        assert!(limiter.begin("admin", a, t0).is_ok());
    }
    for _ in 0..3 {
        assert!(limiter.begin("admin", b, t0).is_ok());
    }
    // Seven account-wide failures, and A has failed: 2^(7 - 5) s.
    assert_eq!(limiter.begin("admin", a, t0), pass(4 * SEC));
    limiter.succeeded("admin", a);
    // Back to seven account-wide failures (not eight, which would give B 8 s).
    assert_eq!(limiter.begin("admin", b, t0), pass(4 * SEC));
    // A success for a pair that began nothing takes back nothing: eight failures.
    limiter.succeeded("admin", ip("203.0.113.1"));
    assert_eq!(limiter.begin("admin", b, t0), pass(8 * SEC));
    // A's failures are gone: in, without delay, although it began five attempts.
    assert_eq!(limiter.begin("admin", a, t0), pass(Duration::ZERO));
}

#[test]
fn an_address_gets_20_attempts_a_minute_whatever_the_accounts() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    let addr = ip("192.0.2.7");
    for i in 0..20u32 {
        let account = format!("user{i}");
        assert_eq!(limiter.begin(&account, addr, t0), pass(Duration::ZERO));
        if i.is_multiple_of(2) {
            // Successes count for the address too.
            limiter.succeeded(&account, addr);
        }
    }
    let later = at(t0, 30);
    assert_eq!(
        limiter.begin("someone", addr, later),
        refused(30 * SEC, true)
    );
    assert!(limiter.begin("someone", ip("192.0.2.8"), later).is_ok());
    assert!(limiter.begin("someone", None, later).is_ok());
    assert!(limiter.begin("someone", addr, t0 + MIN).is_ok());
}

#[test]
fn refusals_are_audited_once_per_address_and_window() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let t0 = Instant::now();
    for _ in 0..5 {
        assert!(limiter.begin("admin", a, t0).is_ok());
        assert!(limiter.begin("root", b, t0).is_ok());
    }
    let audit = |account: &str, address, secs| {
        limiter
            .begin(account, address, at(t0, secs))
            .err()
            .map(|r| r.audit)
    };
    assert_eq!(audit("admin", a, 5), Some(true));
    assert_eq!(audit("admin", a, 30), Some(false));
    // Each address has its own window.
    assert_eq!(audit("root", b, 30), Some(true));
    assert_eq!(audit("admin", a, 64), Some(false));
    // A minute after the last reported refusal of A, the next one is reported again.
    assert_eq!(audit("admin", a, 65), Some(true));
    assert_eq!(audit("admin", a, 70), Some(false));
    assert_eq!(audit("root", b, 89), Some(false));
    assert_eq!(audit("root", b, 90), Some(true));
}

#[test]
fn the_longer_wait_wins() {
    let cfg = LimiterConfig {
        account_failures: 1,
        address_attempts: 1,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    let a = ip("192.0.2.1");
    assert!(limiter.begin("alice", a, t0).is_ok());
    assert_eq!(limiter.begin("alice", a, t0), refused(15 * MIN, true));
    assert_eq!(limiter.begin("bob", a, t0), refused(MIN, false));
}

#[test]
fn ipv6_counts_per_64_network_and_mapped_ipv4_as_ipv4() {
    let cfg = LimiterConfig {
        address_attempts: 2,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    assert!(limiter.begin("a", ip("2001:db8:1:2::1"), t0).is_ok());
    assert!(limiter.begin("a", ip("2001:db8:1:2:ffff::9"), t0).is_ok());
    assert!(limiter.begin("a", ip("2001:db8:1:2::77"), t0).is_err());
    assert!(limiter.begin("a", ip("2001:db8:1:3::1"), t0).is_ok());

    assert!(limiter.begin("a", ip("::ffff:192.0.2.5"), t0).is_ok());
    assert!(limiter.begin("a", ip("192.0.2.5"), t0).is_ok());
    assert!(limiter.begin("a", ip("192.0.2.5"), t0).is_err());
}

#[test]
fn unknown_addresses_share_one_key() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    for _ in 0..5 {
        assert!(limiter.begin("alice", None, t0).is_ok());
    }
    assert_eq!(limiter.begin("alice", None, t0), refused(15 * MIN, true));
    assert!(limiter.begin("alice", ip("192.0.2.1"), t0).is_ok());
    for i in 0..15 {
        assert!(limiter.begin(&format!("user{i}"), None, t0).is_ok());
    }
    assert_eq!(limiter.begin("zed", None, t0), refused(MIN, false));
    limiter.succeeded("alice", None);
    assert!(limiter.begin("alice", None, t0 + MIN).is_ok());
}

#[test]
fn zero_limits_disable_checks() {
    let cfg = LimiterConfig {
        account_failures: 0,
        address_attempts: 0,
        slowdown_after: 0,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    for _ in 0..50 {
        assert_eq!(
            limiter.begin("alice", ip("192.0.2.1"), t0),
            pass(Duration::ZERO)
        );
    }
    assert!(limiter.is_empty());
}

#[test]
fn expired_keys_are_purged_first() {
    let cfg = LimiterConfig {
        max_entries: 100,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    let addr = |i: u32| Some(IpAddr::from([10, 0, 0, i as u8]));
    // Each attempt tracks its pair, its account and its address.
    for i in 0..30 {
        assert!(limiter.begin(&format!("old{i}"), addr(i), t0).is_ok());
    }
    assert_eq!(limiter.len(), 90);
    let t1 = t0 + 16 * MIN;
    for i in 0..30 {
        assert!(limiter.begin(&format!("new{i}"), addr(100 + i), t1).is_ok());
    }
    assert_eq!(limiter.len(), 90);
    let state = limiter.lock();
    assert!((0..30).all(|i| state.accounts.contains_key(&format!("new{i}"))));
}

#[test]
fn memory_is_bounded_with_many_accounts_and_addresses() {
    let cfg = LimiterConfig {
        max_entries: 100,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    // A fixed pseudo-random sequence (an LCG), with repeats so that some attempts are refused.
    let mut seed: u64 = 0x5eed;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut refusals = 0;
    let mut last = (String::new(), None);
    for i in 0..5000u64 {
        let account = format!("user{}", next(300));
        let address = match next(8) {
            0 => None,
            n => Some(IpAddr::from([10, 1, 0, n as u8])),
        };
        let now = t0 + Duration::from_millis(i * 50);
        match limiter.begin(&account, address, now) {
            Ok(_) => last = (account, address),
            Err(_) => refusals += 1,
        }
        assert!(limiter.len() <= 100, "{} keys", limiter.len());
    }
    assert!(refusals > 0);
    // The most recent attempt is still tracked.
    let state = limiter.lock();
    assert!(state.pairs.contains_key(&last));
    assert!(state.accounts.contains_key(&last.0));
}

#[test]
fn time_going_backwards_does_not_panic() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now() + Duration::from_secs(3600);
    for _ in 0..5 {
        assert!(limiter.begin("alice", None, t0).is_ok());
    }
    assert!(limiter.begin("alice", None, t0 - 10 * SEC).is_err());
    assert!(limiter.begin("alice", None, t0 - 20 * SEC).is_err());
}

#[test]
fn long_account_names_are_keyed_by_digest() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    let long = "x".repeat(10_000);
    let a = ip("192.0.2.1");
    for _ in 0..5 {
        assert!(limiter.begin(&long, a, t0).is_ok());
    }
    assert!(limiter.begin(&long, a, t0).is_err());
    assert!(limiter.begin(&"x".repeat(9_999), a, t0).is_ok());
    let state = limiter.lock();
    assert!(state.accounts.keys().all(|k| k.len() == 64));
    assert!(state.pairs.keys().all(|(k, _)| k.len() == 64));
}

#[test]
fn begin_counts_concurrent_attempts_before_any_finishes() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    let a = ip("10.0.0.1");
    // Forty attempts in flight at once (none finished), from four threads: five proceed.
    let passed: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..10)
                        .filter(|_| limiter.begin("alice", a, t0).is_ok())
                        .count()
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).sum()
    });
    assert_eq!(passed, 5);
    // A success clears the pair (the address keeps its count).
    limiter.succeeded("alice", a);
    assert!(limiter.begin("alice", a, t0).is_ok());
    let more = (0..30)
        .filter(|i| limiter.begin(&format!("user{i}"), a, t0).is_ok())
        .count();
    assert_eq!(more, 20 - 6);
}

#[test]
fn a_refusal_is_a_too_many_requests_error() {
    let e = crate::Error::from(Refusal {
        retry_after: 3 * SEC,
        audit: false,
    });
    assert_eq!(e.kind(), crate::ErrorKind::TooManyRequests);
}
