//! The OpenDP measurements behind each query: built for a noise scale, their privacy loss
//! read from OpenDP's own privacy map, and run.
//!
//! Each query is a transformation that OpenDP proves stable (its sensitivity) chained with a
//! noise measurement. Float aggregates (sum, mean, quantile scores) run the whole chain on the
//! values, because OpenDP's sensitivity for them covers its own floating-point summation.
//! Exact integer counts (rows, rows per category or bin) are counted while streaming the
//! column (rows per category by DataFusion) and handed to the noise measurement; the chain
//! with OpenDP's counting transformation (`make_count`, `make_count_by_categories`) is still
//! what gives the privacy loss that is checked.

use opendp::combinators::{
    make_approximate, make_chain_mt, make_composition, make_fix_delta, make_zCDP_to_approxDP,
};
use opendp::core::{Domain, Measurement, Metric, MetricSpace, Transformation};
use opendp::domains::{AtomDomain, VectorDomain};
use opendp::error::Fallible;
use opendp::measurements::{
    DiscreteGaussian, DiscreteLaplace, MakeNoise, make_gaussian, make_laplace,
    make_private_quantile,
};
use opendp::measures::{Approximate, MaxDivergence, ZeroConcentratedDivergence};
use opendp::metrics::{IntDistance, L1Distance, L2Distance, SymmetricDistance};
use opendp::transformations::{
    CountByCategoriesConstant, Pairwise, make_bounded_float_checked_sum, make_count,
    make_count_by_categories, make_mean,
};
use opendp::{err, fallible};

use super::{
    BinCount, CategoryCount, DpQuery, DpRequest, DpResult, Plan, PrivacyCost, QUANTILE_CANDIDATES,
    QuantileValue, ReleasedMechanism,
};
use crate::{Error, Result};

/// Neighbouring datasets differ by one row added or removed (symmetric distance 1).
const ADD_OR_REMOVE_ONE_ROW: IntDistance = 1;
/// Neighbouring datasets of the same (public) size differ by one row changed: one removed
/// and one added, symmetric distance 2. Used by the mean, whose sensitivity needs the size.
const CHANGE_ONE_ROW: IntDistance = 2;

/// The noise a request asked for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Noise {
    /// Laplace: pure ε-DP.
    Laplace,
    /// Gaussian: zero-concentrated DP, converted to (ε, δ) at this δ.
    Gaussian {
        /// The δ at which OpenDP reports ε.
        delta: f64,
    },
}

/// (ε, δ) as OpenDP's privacy maps report them here.
type Loss = (f64, f64);
/// Every measurement here reports (ε, δ): Laplace as (ε, 0).
type Approx = Approximate<MaxDivergence>;
/// Runs a measurement on its data (values, or exact counts).
type Run<D, O> = Box<dyn Fn(&D) -> Fallible<O>>;
/// A measurement from datasets in `DX` (row-level neighbours) to `TO`, reporting (ε, δ).
type Chain<DX, TO> = Measurement<DX, SymmetricDistance, Approx, TO>;
/// A noise measurement over `DI` and `MI`, reporting (ε, δ).
type Noisy<DI, MI> = Measurement<DI, MI, Approx, <DI as Domain>::Carrier>;

/// A measurement built for one scale: the privacy loss OpenDP's map reports for one
/// individual, and what runs it on the data (values or exact counts).
struct Built<D, O> {
    loss: Loss,
    run: Run<D, O>,
}

/// The mechanism a request's release samples with.
pub(super) fn mechanism(request: &DpRequest) -> ReleasedMechanism {
    let gaussian = matches!(request.noise(), Noise::Gaussian { .. });
    match (&request.query, gaussian) {
        (DpQuery::Quantiles { .. }, _) => ReleasedMechanism::Exponential,
        (DpQuery::Sum { .. } | DpQuery::Mean { .. }, false) => ReleasedMechanism::Laplace,
        (DpQuery::Sum { .. } | DpQuery::Mean { .. }, true) => ReleasedMechanism::Gaussian,
        (_, false) => ReleasedMechanism::DiscreteLaplace,
        (_, true) => ReleasedMechanism::DiscreteGaussian,
    }
}

/// Laplace noise over `domain` and `metric` at `scale`, as pure DP reported as (ε, 0). On
/// integers OpenDP samples the discrete Laplace distribution.
fn laplace<DI, MI>(domain: DI, metric: MI, scale: f64) -> Fallible<Noisy<DI, MI>>
where
    DI: 'static + Domain,
    MI: 'static + Metric,
    (DI, MI): MetricSpace,
    DiscreteLaplace: MakeNoise<DI, MI, MaxDivergence>,
{
    make_approximate(make_laplace::<DI, MI, MaxDivergence>(
        domain, metric, scale, None,
    )?)
}

/// Gaussian noise over `domain` and `metric` at `scale` (σ), as zero-concentrated DP
/// converted to (ε, δ) at `delta`. On integers OpenDP samples the discrete Gaussian.
fn gaussian<DI, MI>(domain: DI, metric: MI, scale: f64, delta: f64) -> Fallible<Noisy<DI, MI>>
where
    DI: 'static + Domain,
    MI: 'static + Metric,
    (DI, MI): MetricSpace,
    DiscreteGaussian: MakeNoise<DI, MI, ZeroConcentratedDivergence>,
{
    make_fix_delta(
        &make_zCDP_to_approxDP(make_gaussian::<DI, MI, ZeroConcentratedDivergence>(
            domain, metric, scale, None,
        )?)?,
        delta,
    )
}

/// Noise on a scalar (a count, a sum, a mean), either kind.
fn scalar_noise<DI, MI>(domain: DI, metric: MI, kind: Noise, scale: f64) -> Fallible<Noisy<DI, MI>>
where
    DI: 'static + Domain,
    MI: 'static + Metric,
    (DI, MI): MetricSpace,
    DiscreteLaplace: MakeNoise<DI, MI, MaxDivergence>,
    DiscreteGaussian: MakeNoise<DI, MI, ZeroConcentratedDivergence>,
{
    match kind {
        Noise::Laplace => laplace(domain, metric, scale),
        Noise::Gaussian { delta } => gaussian(domain, metric, scale, delta),
    }
}

/// `m` after `t`, and the chain's privacy loss at `d_in`.
fn chained<DX, DI, MI>(
    t: &Transformation<DX, SymmetricDistance, DI, MI>,
    m: &Noisy<DI, MI>,
    d_in: IntDistance,
) -> Fallible<(Chain<DX, DI::Carrier>, Loss)>
where
    DX: 'static + Domain,
    DI: 'static + Domain,
    MI: 'static + Metric,
    (DX, SymmetricDistance): MetricSpace,
    (DI, MI): MetricSpace,
{
    let chain = make_chain_mt(m, t)?;
    let loss = chain.map(&d_in)?;
    Ok((chain, loss))
}

/// The row count: OpenDP's `make_count` for the sensitivity, noise on the exact count.
fn count_measurement(kind: Noise, scale: f64) -> Fallible<Built<i64, i64>> {
    let t = make_count::<bool, i64>(VectorDomain::new(AtomDomain::default()), SymmetricDistance)?;
    let m = scalar_noise(
        t.output_domain.clone(),
        t.output_metric.clone(),
        kind,
        scale,
    )?;
    let (_, loss) = chained(&t, &m, ADD_OR_REMOVE_ONE_ROW)?;
    Ok(Built {
        loss,
        run: Box::new(move |n| m.invoke(n)),
    })
}

/// Counts in `bins` bins: OpenDP's `make_count_by_categories` (the last bin being its
/// "not a declared category" bin when `other`) for the sensitivity, noise on the exact
/// counts; L1 for Laplace, L2 for Gaussian.
fn bins_measurement(
    kind: Noise,
    scale: f64,
    bins: usize,
    other: bool,
) -> Fallible<Built<Vec<i64>, Vec<i64>>> {
    match kind {
        Noise::Laplace => bins_with::<L1Distance<i64>>(bins, other, |d, m| laplace(d, m, scale)),
        Noise::Gaussian { delta } => {
            bins_with::<L2Distance<i64>>(bins, other, |d, m| gaussian(d, m, scale, delta))
        }
    }
}

fn bins_with<MO>(
    bins: usize,
    other: bool,
    noise: impl FnOnce(
        VectorDomain<AtomDomain<i64>>,
        MO,
    ) -> Fallible<Noisy<VectorDomain<AtomDomain<i64>>, MO>>,
) -> Fallible<Built<Vec<i64>, Vec<i64>>>
where
    MO: 'static + Metric<Distance = i64> + CountByCategoriesConstant<i64> + Default,
    (VectorDomain<AtomDomain<i64>>, MO): MetricSpace,
{
    let declared = if other { bins - 1 } else { bins };
    let t = make_count_by_categories::<MO, usize, i64>(
        VectorDomain::new(AtomDomain::default()),
        SymmetricDistance,
        (0..declared).collect(),
        other,
    )?;
    let m = noise(t.output_domain.clone(), t.output_metric.clone())?;
    let (_, loss) = chained(&t, &m, ADD_OR_REMOVE_ONE_ROW)?;
    Ok(Built {
        loss,
        run: Box::new(move |counts| m.invoke(counts)),
    })
}

/// Runs `chain` on `values` after OpenDP confirms they are in its input domain (the values
/// were clamped, and sized where the domain is, while reading).
fn run_in_domain<D: 'static + Domain, O: 'static>(
    chain: Measurement<D, SymmetricDistance, Approx, O>,
) -> Run<D::Carrier, O>
where
    (D, SymmetricDistance): MetricSpace,
{
    Box::new(move |values| {
        if !chain.input_domain.member(values)? {
            return fallible!(
                FailedFunction,
                "the values are outside the measurement's input domain"
            );
        }
        chain.invoke(values)
    })
}

/// The sum of values clamped into `bounds` (missing ones dropped, at most `rows` of them):
/// OpenDP's checked pairwise float sum, with its float-error relaxation, then noise.
fn sum_measurement(
    kind: Noise,
    scale: f64,
    bounds: (f64, f64),
    rows: usize,
) -> Fallible<Built<Vec<f64>, f64>> {
    let t = make_bounded_float_checked_sum::<Pairwise<f64>>(rows.max(1), bounds)?;
    let m = scalar_noise(
        t.output_domain.clone(),
        t.output_metric.clone(),
        kind,
        scale,
    )?;
    let (chain, loss) = chained(&t, &m, ADD_OR_REMOVE_ONE_ROW)?;
    Ok(Built {
        loss,
        run: run_in_domain(chain),
    })
}

/// The mean of exactly `rows` values clamped into `bounds`: OpenDP's sized-domain mean,
/// then noise; its loss is for one row changed.
fn mean_measurement(
    kind: Noise,
    scale: f64,
    bounds: (f64, f64),
    rows: usize,
) -> Fallible<Built<Vec<f64>, f64>> {
    let domain = VectorDomain::new(AtomDomain::new_closed(bounds)?).with_size(rows);
    let t = make_mean(domain, SymmetricDistance)?;
    let m = scalar_noise(
        t.output_domain.clone(),
        t.output_metric.clone(),
        kind,
        scale,
    )?;
    let (chain, loss) = chained(&t, &m, CHANGE_ONE_ROW)?;
    Ok(Built {
        loss,
        run: run_in_domain(chain),
    })
}

/// Candidates for quantiles: [`QUANTILE_CANDIDATES`] equally spaced values from `lower` to
/// `upper` (fewer where floats cannot tell them apart).
fn candidates((lower, upper): (f64, f64)) -> Vec<f64> {
    let steps = (QUANTILE_CANDIDATES - 1) as f64;
    // Clamped: `lower + (upper - lower)` may round past `upper`; the sequence stays sorted.
    let mut out: Vec<f64> = (0..QUANTILE_CANDIDATES)
        .map(|i| (lower + (upper - lower) * (i as f64 / steps)).clamp(lower, upper))
        .collect();
    if let Some(last) = out.last_mut() {
        *last = upper;
    }
    out.dedup();
    out
}

/// One OpenDP private quantile (exponential mechanism over the candidates' scores) per
/// probability, each at `scale`, composed: their losses add up.
fn quantiles_measurement(
    scale: f64,
    bounds: (f64, f64),
    probabilities: &[f64],
) -> Fallible<Built<Vec<f64>, Vec<f64>>> {
    let domain = VectorDomain::new(AtomDomain::<f64>::new_non_nan());
    let candidates = candidates(bounds);
    let each = probabilities
        .iter()
        .map(|p| {
            make_private_quantile(
                domain.clone(),
                SymmetricDistance,
                MaxDivergence,
                candidates.clone(),
                *p,
                scale,
            )
        })
        .collect::<Fallible<Vec<_>>>()?;
    let all = make_approximate(make_composition(each)?)?;
    let loss = all.map(&ADD_OR_REMOVE_ONE_ROW)?;
    Ok(Built {
        loss,
        run: run_in_domain(all),
    })
}

/// The privacy loss of `request`'s measurement at `scale` over `rows` rows.
fn loss(request: &DpRequest, rows: usize, scale: f64) -> Fallible<Loss> {
    let kind = request.noise();
    Ok(match &request.query {
        DpQuery::Count {} => count_measurement(kind, scale)?.loss,
        DpQuery::CountBy { categories, .. } => {
            bins_measurement(kind, scale, categories.len() + 1, true)?.loss
        }
        DpQuery::Histogram { bins, .. } => {
            bins_measurement(kind, scale, *bins as usize, false)?.loss
        }
        DpQuery::Sum { lower, upper, .. } => {
            sum_measurement(kind, scale, (*lower, *upper), rows)?.loss
        }
        DpQuery::Mean { lower, upper, .. } => {
            mean_measurement(kind, scale, (*lower, *upper), rows)?.loss
        }
        DpQuery::Quantiles {
            lower,
            upper,
            probabilities,
            ..
        } => quantiles_measurement(scale, (*lower, *upper), probabilities)?.loss,
    })
}

/// Refuses a measurement whose loss, as OpenDP reports it, exceeds what was charged.
fn ensure_within(loss: Loss, cost: PrivacyCost) -> Result<()> {
    if loss.0 <= cost.epsilon && loss.1 <= cost.delta {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "OpenDP reports a privacy loss of epsilon {} and delta {} for this measurement, \
             above the requested epsilon {} and delta {}: nothing was released",
            loss.0, loss.1, cost.epsilon, cost.delta
        )))
    }
}

/// An OpenDP error as the crate's (OpenDP refusing a measurement that validation accepted is
/// a bug here). Only the variant and message are kept, not the backtrace.
pub(super) fn opendp_error(err: opendp::error::Error) -> Error {
    Error::Internal(match err.message {
        Some(message) => format!("OpenDP: {}: {message}", err.variant),
        None => format!("OpenDP: {}", err.variant),
    })
}

/// The smallest noise scale whose measurement OpenDP reports within the request's budget, for
/// `rows` rows (to a relative 1e-12 in the scale, or 1e-9 of ε short of the budget).
///
/// Laplace and the exponential mechanism lose `loss(1) / scale`: the scale is
/// `loss(1) / ε`, kept when OpenDP's map confirms it (its rounding is conservative, so it may
/// miss by an ulp, and the search then goes on from there). Gaussian noise is zero-concentrated
/// DP converted to ε at the requested δ, which has no closed form: the search brackets the
/// scale by doubling and closes in by regula falsi (Illinois) in `1 / scale`, where ε is
/// nearly linear: a handful of evaluations of the map.
pub(super) fn calibrate(request: &DpRequest, rows: usize) -> Result<f64> {
    let cost = request.cost();
    let loss_at = |scale: f64| loss(request, rows, scale).map_err(opendp_error);
    // Over budget when positive; δ is fixed by the request, so ε decides.
    let excess = |scale: f64| -> Result<f64> {
        let l = loss_at(scale)?;
        if l.1 > cost.delta {
            return Err(Error::Internal(format!(
                "OpenDP reports delta {} above the requested {}",
                l.1, cost.delta
            )));
        }
        Ok(l.0 - cost.epsilon)
    };
    let start = match request.noise() {
        Noise::Laplace => {
            let guess = loss_at(1.0)?.0 / cost.epsilon;
            if guess.is_finite() && guess > 0.0 && excess(guess)? <= 0.0 {
                return Ok(guess);
            }
            guess
        }
        Noise::Gaussian { .. } => 1.0,
    };
    if !(start.is_finite() && start > 0.0) {
        return Err(Error::Internal(format!(
            "no noise scale to start from ({start})"
        )));
    }
    // Bracket: `lo` over budget (`f_lo` > 0), `hi` within (`f_hi` <= 0).
    let (mut lo, mut hi) = (start, start);
    let (mut f_lo, mut f_hi);
    let f_start = excess(start)?;
    if f_start <= 0.0 {
        f_hi = f_start;
        loop {
            lo = hi / 2.0;
            if lo < f64::MIN_POSITIVE {
                return Err(Error::Internal("no noise scale is over budget".into()));
            }
            f_lo = excess(lo)?;
            if f_lo > 0.0 {
                break;
            }
            (hi, f_hi) = (lo, f_lo);
        }
    } else {
        f_lo = f_start;
        loop {
            hi = lo * 2.0;
            if !hi.is_finite() {
                return Err(Error::Internal(
                    "no noise scale is within the budget".into(),
                ));
            }
            f_hi = excess(hi)?;
            if f_hi <= 0.0 {
                break;
            }
            (lo, f_lo) = (hi, f_hi);
        }
    }
    // Illinois: regula falsi that halves the value kept on one side twice in a row.
    let mut side = 0;
    for _ in 0..200 {
        if hi / lo <= 1.0 + 1e-12 || -f_hi <= 1e-9 * cost.epsilon {
            break;
        }
        // In 1 / scale, where ε is nearly linear (exactly for Laplace).
        let mut mid = (f_hi - f_lo) / (f_hi / lo - f_lo / hi);
        if !(mid > lo && mid < hi) {
            mid = lo + (hi - lo) / 2.0;
        }
        let f_mid = excess(mid)?;
        if f_mid <= 0.0 {
            (hi, f_hi) = (mid, f_mid);
            if side == -1 {
                f_lo /= 2.0;
            }
            side = -1;
        } else {
            (lo, f_lo) = (mid, f_mid);
            if side == 1 {
                f_hi /= 2.0;
            }
            side = 1;
        }
    }
    Ok(hi)
}

/// Builds `built` at the plan's scale, checks OpenDP's reported loss against the request's
/// budget (refusing above it), and runs it on `data`.
fn run<D, O>(request: &DpRequest, built: Fallible<Built<D, O>>, data: &D) -> Result<O> {
    let built = built.map_err(opendp_error)?;
    ensure_within(built.loss, request.cost())?;
    (built.run)(data).map_err(opendp_error)
}

/// The noisy row count.
pub(super) fn count(request: &DpRequest, plan: &Plan) -> Result<DpResult> {
    let rows = i64::try_from(plan.rows).unwrap_or(i64::MAX);
    let value = run(
        request,
        count_measurement(request.noise(), plan.scale),
        &rows,
    )?;
    Ok(DpResult::Count { value })
}

/// Noisy counts per declared category and of the rest, from the exact `counts` (one per
/// category, then the rest).
pub(super) fn count_by(
    request: &DpRequest,
    plan: &Plan,
    counts: &Vec<i64>,
    labels: Vec<String>,
) -> Result<DpResult> {
    let built = bins_measurement(request.noise(), plan.scale, counts.len(), true);
    let mut noisy = run(request, built, counts)?;
    let other = noisy
        .pop()
        .ok_or_else(|| Error::Internal("OpenDP returned no counts".into()))?;
    if noisy.len() != labels.len() {
        return Err(Error::Internal(
            "OpenDP returned the wrong number of counts".into(),
        ));
    }
    Ok(DpResult::CountBy {
        bins: labels
            .into_iter()
            .zip(noisy)
            .map(|(category, count)| CategoryCount { category, count })
            .collect(),
        other,
    })
}

/// The numeric queries over a column's values (`f64`, missing as NaN), prepared in place:
/// clamped into the bounds, missing values dropped (sum, quantiles, histogram) or set to the
/// bounds' midpoint (mean).
pub(super) fn numeric(request: &DpRequest, plan: &Plan, mut values: Vec<f64>) -> Result<DpResult> {
    let kind = request.noise();
    let scale = plan.scale;
    match &request.query {
        DpQuery::Sum { lower, upper, .. } => {
            values.retain_mut(|v| {
                *v = v.clamp(*lower, *upper);
                !v.is_nan()
            });
            let built = sum_measurement(kind, scale, (*lower, *upper), plan.rows);
            Ok(DpResult::Sum {
                value: run(request, built, &values)?,
            })
        }
        DpQuery::Mean { lower, upper, .. } => {
            if values.len() != plan.rows {
                return Err(Error::Internal(format!(
                    "read {} values from a table of {} rows",
                    values.len(),
                    plan.rows
                )));
            }
            let mid = lower + (upper - lower) / 2.0;
            for v in &mut values {
                *v = if v.is_nan() {
                    mid
                } else {
                    v.clamp(*lower, *upper)
                };
            }
            let built = mean_measurement(kind, scale, (*lower, *upper), plan.rows);
            Ok(DpResult::Mean {
                value: run(request, built, &values)?,
            })
        }
        DpQuery::Histogram {
            lower, upper, bins, ..
        } => {
            let n = *bins as usize;
            let counts = bin_counts(&values, *lower, *upper, n);
            drop(values);
            let built = bins_measurement(kind, scale, n, false);
            let noisy = run(request, built, &counts)?;
            let width = (upper - lower) / n as f64;
            Ok(DpResult::Histogram {
                bins: noisy
                    .into_iter()
                    .enumerate()
                    .map(|(i, count)| BinCount {
                        lower: lower + width * i as f64,
                        upper: if i + 1 == n {
                            *upper
                        } else {
                            lower + width * (i + 1) as f64
                        },
                        count,
                    })
                    .collect(),
            })
        }
        DpQuery::Quantiles {
            lower,
            upper,
            probabilities,
            ..
        } => {
            values.retain(|v| !v.is_nan());
            let built = quantiles_measurement(scale, (*lower, *upper), probabilities);
            let chosen = run(request, built, &values)?;
            Ok(DpResult::Quantiles {
                quantiles: probabilities
                    .iter()
                    .zip(chosen)
                    .map(|(probability, value)| QuantileValue {
                        probability: *probability,
                        value,
                    })
                    .collect(),
            })
        }
        DpQuery::Count {} | DpQuery::CountBy { .. } => {
            Err(Error::Internal("not a numeric query".into()))
        }
    }
}

/// Exact counts of the non-missing `values` in `bins` equal-width bins from `lower` to
/// `upper`, values outside (±∞ included) in the end bins.
fn bin_counts(values: &[f64], lower: f64, upper: f64, bins: usize) -> Vec<i64> {
    let width = (upper - lower) / bins as f64;
    let last = (bins - 1) as f64;
    let mut counts = vec![0i64; bins];
    for v in values {
        if v.is_nan() {
            continue;
        }
        // Clamped in floats first: `as usize` of a float is saturating, but clamping says so.
        let bin = ((v - lower) / width).floor().clamp(0.0, last) as usize;
        counts[bin] += 1;
    }
    counts
}
