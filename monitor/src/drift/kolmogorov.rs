//! The survival function of the two-sided one-sample Kolmogorov–Smirnov statistic `D_n`,
//! `scipy.stats.kstwo.sf(x, n)`, which `ks_2samp` uses on its asymptotic path. Ported from
//! SciPy 1.17 `scipy/stats/_ksstats.py` (`_kolmogn` and the algorithms it selects: Ruben–Gambino,
//! Durbin/Marsaglia–Tsang–Wang, Pomeranz, Pelz–Good, and `2 * smirnov(n, x)`).
//!
//! Differences from SciPy, all below 1e-10 relative: `smirnov` sums the Birnbaum–Tingey series
//! in `f64` log space rather than double-double (its terms are all positive, so nothing
//! cancels), and SciPy's `long double` rescaling after an underflow is done in `f64`.

use std::f64::consts::PI;

const TWO_128: f64 = 3.402_823_669_209_385e38; // 2^128
const TWO_M128: f64 = 2.938_735_877_055_719e-39; // 2^-128
const SQRT_2PI: f64 = 2.506_628_274_631_000_7;
/// cephes `MINLOG`: `ln(2^-1022)`.
const MINLOG: f64 = -7.083_964_185_322_641e2;

/// `scipy.stats.kstwo.sf(x, n)` for an integral `n >= 1`; NaN for other `n`.
pub(crate) fn kstwo_sf(n: f64, x: f64) -> f64 {
    if n.is_nan() || x.is_nan() || n < 1.0 || n.fract() != 0.0 || n > 1e15 {
        return f64::NAN;
    }
    // rv_continuous.sf: 1 at and below the support's lower end 0.5 / n, 0 at and above 1.
    if x <= 0.5 / n {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    kolmogn_sf(n as u64, x)
}

fn clip(p: f64) -> f64 {
    p.clamp(0.0, 1.0)
}

/// `_kolmogn(n, x, cdf=False)`.
fn kolmogn_sf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            (1..=n).fold(1.0, |acc, i| {
                acc * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
            })
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return clip(1.0 - prob);
    }
    if t >= nf - 1.0 {
        return clip(2.0 * (1.0 - x).powf(nf));
    }
    if x >= 0.5 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754693 {
            return clip(1.0 - dmtw_cdf(n, x));
        }
        if nxsquared <= 4.0 {
            return clip(1.0 - pomeranz_cdf(n, x));
        }
        return clip(2.0 * smirnov_sf(n, x));
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        dmtw_cdf(n, x)
    } else {
        pelz_good_cdf(nf, x)
    };
    clip(1.0 - cdf)
}

/// `_log_nfactorial_div_n_pow_n`: `log(n! / n^n)` by Stirling's series.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    // SciPy's `_STIRLING_COEFFS`, digits as written there.
    #[allow(clippy::excessive_precision)]
    const COEFFS: [f64; 8] = [
        -2.955065359477124183e-2,
        6.4102564102564102564e-3,
        -1.9175269175269175269e-3,
        8.4175084175084175084e-4,
        -5.952380952380952381e-4,
        7.9365079365079365079e-4,
        -2.7777777777777777778e-3,
        8.3333333333333333333e-2,
    ];
    let rn = 1.0 / n;
    let x = rn / n;
    let poly = COEFFS.iter().fold(0.0, |acc, &c| acc * x + c);
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + rn * poly
}

/// Square matrix product for row-major `m x m` matrices.
fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                out[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    out
}

/// `_kolmogn_DMTW(n, d)`: `P(D_n <= d)` by Durbin's matrix, as Marsaglia, Tsang and Wang
/// compute it.
fn dmtw_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let nd = nf * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powf(j as f64)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powf(m as f64) - 2.0 * h.powf(m as f64);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        // H[i-1:, i] = w[:m-i+1]
        for (r, &wv) in (i - 1..m).zip(w.iter()) {
            hm[r * m + i] = wv;
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut hpwr = vec![0.0; m * m];
    for i in 0..m {
        hpwr[i * m + i] = 1.0;
    }
    let (mut nn, mut expnt, mut hexpnt) = (n, 0i64, 0i64);
    while nn > 0 {
        if nn % 2 == 1 {
            hpwr = matmul(&hpwr, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > TWO_128 {
            for e in hm.iter_mut() {
                *e /= TWO_128;
            }
            hexpnt += 128;
        }
        nn /= 2;
    }
    let mut p = hpwr[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < TWO_M128 {
            p *= TWO_128;
            expnt -= 128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    clip(p)
}

/// `x * 2^e` without intermediate overflow or underflow for the exponents used here.
fn ldexp(x: f64, e: i64) -> f64 {
    let mut x = x;
    let mut e = e;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

/// `_pomeranz_compute_j1j2`.
fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (ip1div2, ip1mod2) = ((i + 1) / 2, (i + 1) % 2);
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// `_kolmogn_Pomeranz(n, x)`: `P(D_n <= x)` by Pomeranz's recursion.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let ni = n as i64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)).max(1) as usize;
    let mut gpower = vec![1.0; npwrs];
    let mut twogpower = vec![1.0; npwrs];
    let mut onem2gpower = vec![1.0; npwrs];
    let (g_over_n, two_g_over_n, one_minus_two_g_over_n) =
        (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        gpower[m] = gpower[m - 1] * g_over_n / m as f64;
        twogpower[m] = twogpower[m - 1] * two_g_over_n / m as f64;
        onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / m as f64;
    }
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt = 0i64;
    let (mut j1, _) = pomeranz_j1j2(0, ni, ll, ceilf, roundf);
    for i in 1..(2 * ni + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|e| *e = 0.0);
        let j2;
        (j1, j2) = pomeranz_j1j2(i, ni, ll, ceilf, roundf);
        let pwrs = if i == 1 || i == 2 * ni + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let lo = (k1 - v0s).max(0) as usize;
            let hi = ((k1 - v0s + ln2).max(0) as usize).min(v0.len());
            let a = v0.get(lo..hi).unwrap_or(&[]);
            let b = &pwrs[..(ln2 as usize).min(pwrs.len())];
            let conv_start = (j1 - k1).max(0) as usize;
            let conv_len = (j2 - j1 + 1).max(0) as usize;
            for (idx, slot) in v1.iter_mut().enumerate().take(conv_len) {
                *slot = convolve_at(a, b, conv_start + idx);
            }
            let max = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if 0.0 < max && max < TWO_M128 {
                v1.iter_mut().for_each(|e| *e *= TWO_128);
                expnt -= 128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = usize::try_from(ni - v1s)
        .ok()
        .and_then(|k| v1.get(k))
        .copied()
        .unwrap_or(f64::NAN);
    for m in 1..=n {
        if ans.abs() > TWO_128 {
            ans *= TWO_M128;
            expnt += 128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    clip(ans)
}

/// Entry `k` of the full convolution `np.convolve(a, b)`.
fn convolve_at(a: &[f64], b: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    for (i, &ai) in a.iter().enumerate() {
        if i > k {
            break;
        }
        if let Some(&bj) = b.get(k - i) {
            s += ai * bj;
        }
    }
    s
}

/// `_kolmogn_PelzGood(n, x)`: the Pelz–Good approximation to `P(D_n <= x)`.
fn pelz_good_cdf(n: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let pi2 = PI.powf(2.0);
    let pi4 = PI.powf(4.0);
    let pi6 = PI.powf(6.0);
    let z = n.sqrt() * x;
    let (zsquared, zthree, zfour, zsix) = (z * z, z.powf(3.0), z.powf(4.0), z.powf(6.0));
    let qlog = -pi2 / 8.0 / zsquared;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let k1a = -zsquared;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * zsix + 2.0 * zfour;
    let k2b = (2.0 * zfour - 5.0 * zsquared) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * zsquared) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * zsquared) / 64.0;
    let k3c = pi4 * (-60.0 * zsquared + 212.0 * zfour) / 16.0;
    let k3b = pi2 * (135.0 * zfour - 96.0 * zsix) / 4.0;
    let k3a = -30.0 * zsix - 90.0 * z.powf(8.0);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (msquared, mfour, msix) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf((8 * kk) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * msquared,
            k2a + k2b * msquared + k2c * mfour,
            k3a + k3b * msquared + k3c * mfour + k3d * msix,
        ];
        for (kv, c) in k.iter_mut().zip(coeffs) {
            *kv = *kv * qpower + c;
        }
    }
    let divisors = [z, 6.0 * zfour, 72.0 * z.powf(7.0), 6480.0 * z.powf(10.0)];
    for (kv, d) in k.iter_mut().zip(divisors) {
        *kv = *kv * q * SQRT_2PI / d;
    }
    let q = (-pi2 / 2.0 / zsquared).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let mut k2extra = 0.0;
    let mut k3extra = 0.0;
    for kk in (1..=maxk).rev() {
        let ksquared = (kk * kk) as f64;
        let kspi = PI * kk as f64;
        let qpwer = q.powf(ksquared);
        k2extra += ksquared * qpwer;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwer;
    }
    k[2] += k2extra * (pi2 * SQRT_2PI / (-36.0 * zthree));
    k[3] += k3extra * (pi2 * SQRT_2PI / (216.0 * zsix));
    for (i, kv) in k.iter_mut().enumerate() {
        *kv /= n.powf(i as f64 / 2.0);
    }
    k.iter().sum()
}

/// `scipy.special.smirnov(n, x)`: the one-sided `P(D_n^+ >= x)`, by the Birnbaum–Tingey sum
/// `x * sum_{v=0}^{floor(n(1-x))} C(n, v) (1 - x - v/n)^(n-v) (x + v/n)^(v-1)` in log space
/// (the lower sum that xsf's `_smirnov` uses for every `x` that reaches it from `kstwo`).
fn smirnov_sf(n: u64, x: f64) -> f64 {
    if !(n > 0 && (0.0..=1.0).contains(&x)) {
        return f64::NAN;
    }
    let nf = n as f64;
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    // n * x exactly as hi + lo, its floor and fractional part (xsf's modNX).
    let hi = nf * x;
    let lo = nf.mul_add(x, -hi);
    let mut nxfl = hi.floor();
    if hi == nxfl && lo < 0.0 {
        nxfl -= 1.0;
    }
    let mut alpha = (hi - nxfl) + lo;
    if alpha >= 1.0 {
        nxfl += 1.0;
        alpha = 0.0;
    }
    let nxfl = nxfl as i64;
    let ni = n as i64;
    if nxfl == 0 || (nxfl == 1 && alpha == 0.0) {
        let t = (1.0 + x).powf(nf - 1.0);
        return clip(1.0 - x * t);
    }
    if -2.0 * nf * x * x < MINLOG {
        return 0.0;
    }
    if nxfl >= ni - 1 {
        return clip((1.0 - x).powf(nf));
    }
    if n > 1_000_000 {
        let logp = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        return if logp < -std::f64::consts::LN_2 {
            logp.exp()
        } else {
            1.0 - (-logp.exp_m1())
        };
    }
    // Last index of the lower sum: n - floor(nx) - 1 (when n * x is an integer, the next
    // term has a zero base and is left out as well).
    let last = ni - nxfl - 1;
    let mut sum = 0.0;
    let mut ln_binom = 0.0f64;
    for v in 0..=last {
        if v > 0 {
            ln_binom += ((ni - v + 1) as f64 / v as f64).ln();
        }
        let vf = v as f64;
        // 1 - x - v/n and x + v/n, from the exact n * x.
        let base_low = (((ni - v) as f64 - hi) - lo) / nf;
        let base_high = ((vf + hi) + lo) / nf;
        if base_low <= 0.0 {
            break;
        }
        let ln_term = ln_binom + (nf - vf) * base_low.ln() + (vf - 1.0) * base_high.ln();
        sum += ln_term.exp();
    }
    clip(x * sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    /// `scipy.special.smirnov(n, x)` (SciPy 1.17.1).
    #[test]
    fn smirnov_matches_scipy() {
        for (n, x, expected) in [
            (5u64, 0.3, 0.34282),
            (100, 0.1, 0.1265906584562817),
            (1000, 0.05, 0.006506037390545166),
            (293, 0.2, 4.752822500249544e-11),
            (20, 0.5, 1.893797620269516e-05),
        ] {
            let got = smirnov_sf(n, x);
            assert!(
                close(got, expected, 1e-10),
                "smirnov({n}, {x}) = {got}, scipy {expected}"
            );
        }
    }

    /// `scipy.stats.kstwo.sf(x, n)` (SciPy 1.17.1), one case per branch of `_kolmogn`.
    #[test]
    fn kstwo_matches_scipy() {
        for (n, x, expected) in [
            (10.0, 0.04, 1.0),                      // x <= 0.5 / n
            (10.0, 0.07, 0.9999999619492741),       // Ruben-Gambino, n x <= 1
            (10.0, 0.08, 0.9999978058034054),       // Ruben-Gambino, n x <= 1
            (200.0, 0.0049, 1.0),                   // n x <= 1, n > 140 (Stirling)
            (10.0, 0.95, 1.9531250000000172e-13),   // n x >= n - 1
            (10.0, 0.6, 0.0005681672000000003),     // x >= 0.5: 2 * smirnov
            (50.0, 0.1, 0.6623112704658186),        // DMTW, n <= 140
            (50.0, 0.2, 0.03143877776953241),       // Pomeranz
            (40.0, 0.3, 0.0010904155041397967),     // Pomeranz
            (50.0, 0.35, 5.573523514803185e-06),    // 2 * smirnov, n <= 140
            (293.0, 0.025, 0.9909886696775398),     // DMTW, n > 140
            (293.0, 0.05, 0.4421809601000565),      // Pelz-Good
            (1000.0, 0.04, 0.07933956059000224),    // Pelz-Good
            (150_000.0, 0.003, 0.1341018124495077), // Pelz-Good, n > 100000
            (120_000.0, 0.002, 0.7223568874535208), // Pelz-Good, n > 100000
            (293.0, 0.1, 0.00528794011372886),      // 2 * smirnov, n > 140
            (293.0, 0.9, 2.2164402840047017e-293),  // 2 * smirnov, tiny
            (1000.0, 0.7, 0.0),                     // n x^2 >= 370
        ] {
            let got = kstwo_sf(n, x);
            assert!(
                close(got, expected, 1e-9),
                "kstwo.sf({x}, {n}) = {got}, scipy {expected}"
            );
        }
        assert!(kstwo_sf(2.5, 0.3).is_nan());
    }
}
