//! Online experiments: per-variant metrics with 95 % intervals, an always-valid sequential
//! test of the primary metric (each variant against the control), and a sample-ratio-mismatch
//! alarm. Pure functions over per-shopper totals; the service gathers the totals (exposures
//! and attributed outcomes in the store) and the shopper simulator checks the
//! error rates.
//!
//! **Units.** Shoppers (users, or anonymous sessions) are randomised, so every metric is
//! computed from per-unit totals: `lists` shown, `impressions` (items shown), `clicks`,
//! `carts`, `purchases`, `revenue`.
//!
//! **Metrics** (keys as in the JSON):
//! * `ctr` = Σ clicks / Σ impressions and `add_to_cart_rate` = Σ carts / Σ impressions:
//!   ratios of two per-unit sums, so their variance comes from the **delta method**
//!   (Var(x̄/ȳ) ≈ (s²ₓ − 2r·sₓᵧ + r²·s²ᵧ) / (n·ȳ²), r = x̄/ȳ), which accounts for the clicks of
//!   one shopper being correlated;
//! * `conversion_rate`: the share of units with at least one attributed purchase;
//! * `revenue_per_user`: mean attributed revenue (price × quantity) per unit.
//!
//! Intervals are normal 95 % intervals (± 1.96 standard errors), valid at a fixed horizon.
//!
//! **Sequential test** (mSPRT with a normal mixture; Johari, Pekelis, Walsh, "Always valid
//! inference", 2017/2022). With θ̂ = metric(variant) − metric(control) and V its estimated
//! variance, the mixture likelihood ratio against θ = 0 under a N(0, τ²) mixing distribution is
//! Λ = √(V / (V + τ²)) · exp(θ̂² τ² / (2V(V + τ²))), and the always-valid p-value is the running
//! minimum of 1/Λ over every look (capped at 1): stopping whenever it drops below α keeps the
//! false-positive rate at or below α however often the results are looked at. τ is set
//! relative to the control's estimate (`tau` × |control|, default 10 %: the size of lift the
//! test is tuned to find). Before each arm has `min_units` units the p-value stays 1 (the
//! plug-in variance is not yet trustworthy).
//!
//! **Sample-ratio mismatch**: Pearson's χ² test of the units counted in each variant against
//! the configured shares (k − 1 degrees of freedom); the alarm is raised at p < 0.001, the usual
//! threshold, since a mismatch means the assignment or the logging is broken and every metric is
//! suspect.

use serde::Serialize;

/// z of a two-sided 95 % normal interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The sample-ratio-mismatch alarm fires below this p-value.
pub const SRM_ALARM_P: f64 = 0.001;

/// A metric of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Clicks per item shown (a ratio metric: delta method).
    Ctr,
    /// Add-to-carts per item shown (a ratio metric: delta method).
    AddToCartRate,
    /// Share of units with an attributed purchase.
    ConversionRate,
    /// Attributed revenue (price × quantity) per unit.
    RevenuePerUser,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 4] = [Metric::Ctr, Metric::AddToCartRate, Metric::ConversionRate, Metric::RevenuePerUser];

    /// The JSON key (`ctr`, `add_to_cart_rate`, `conversion_rate`, `revenue_per_user`).
    pub fn key(self) -> &'static str {
        match self {
            Metric::Ctr => "ctr",
            Metric::AddToCartRate => "add_to_cart_rate",
            Metric::ConversionRate => "conversion_rate",
            Metric::RevenuePerUser => "revenue_per_user",
        }
    }

    /// The metric named `key`.
    pub fn parse(key: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.key() == key)
    }

    /// One unit's numerator and denominator.
    fn terms(self, u: &UnitTotals) -> (f64, f64) {
        match self {
            Metric::Ctr => (u.clicks, u.impressions),
            Metric::AddToCartRate => (u.carts, u.impressions),
            Metric::ConversionRate => (if u.purchases > 0.0 { 1.0 } else { 0.0 }, 1.0),
            Metric::RevenuePerUser => (u.revenue, 1.0),
        }
    }
}

/// One unit's totals (or a slice of them, added up with [`UnitTotals::add`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct UnitTotals {
    /// Lists shown.
    pub lists: f64,
    /// Items shown.
    pub impressions: f64,
    /// Shown items clicked (or viewed) from the list.
    pub clicks: f64,
    /// Shown items added to the cart.
    pub carts: f64,
    /// Attributed purchases.
    pub purchases: f64,
    /// Attributed revenue (price × quantity).
    pub revenue: f64,
}

impl UnitTotals {
    /// Add `o` to these totals.
    pub fn add(&mut self, o: &UnitTotals) {
        self.lists += o.lists;
        self.impressions += o.impressions;
        self.clicks += o.clicks;
        self.carts += o.carts;
        self.purchases += o.purchases;
        self.revenue += o.revenue;
    }
}

/// Running sums of (x, y) over units, for the ratio Σx / Σy (a mean when every y is 1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RatioSums {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

/// A point estimate with its standard error and 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard error (delta method for ratios).
    pub std_error: f64,
    /// Lower end of the 95 % interval.
    pub ci_low: f64,
    /// Upper end of the 95 % interval.
    pub ci_high: f64,
}

impl Estimate {
    /// `value` ± 1.96 `std_error`.
    pub fn new(value: f64, std_error: f64) -> Estimate {
        Estimate { value, std_error, ci_low: value - Z95 * std_error, ci_high: value + Z95 * std_error }
    }
}

impl RatioSums {
    /// Add one unit's (x, y).
    pub fn push(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.syy += y * y;
        self.sxy += x * y;
    }

    /// Units added.
    pub fn units(&self) -> u64 {
        self.n as u64
    }

    /// Σx / Σy with its delta-method variance; `None` while Σy is 0 or with fewer than 2 units.
    pub fn ratio(&self) -> Option<(f64, f64)> {
        if self.n < 2.0 || self.sy <= 0.0 {
            return None;
        }
        let n = self.n;
        let (mx, my) = (self.sx / n, self.sy / n);
        let r = mx / my;
        // sample (co)variances
        let vxx = (self.sxx - n * mx * mx) / (n - 1.0);
        let vyy = (self.syy - n * my * my) / (n - 1.0);
        let vxy = (self.sxy - n * mx * my) / (n - 1.0);
        let var = ((vxx - 2.0 * r * vxy + r * r * vyy) / (n * my * my)).max(0.0);
        Some((r, var))
    }

    /// The ratio as an [`Estimate`] (`None` as in [`RatioSums::ratio`]).
    pub fn estimate(&self) -> Option<Estimate> {
        self.ratio().map(|(r, v)| Estimate::new(r, v.sqrt()))
    }
}

/// The sums of `metric` over `units`.
pub fn sums<'a>(metric: Metric, units: impl IntoIterator<Item = &'a UnitTotals>) -> RatioSums {
    let mut s = RatioSums::default();
    for u in units {
        let (x, y) = metric.terms(u);
        s.push(x, y);
    }
    s
}

/// What one variant showed and earned, with every metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantSummary {
    /// Units (shoppers) exposed.
    pub users: u64,
    /// Lists shown.
    pub lists: f64,
    /// Items shown.
    pub impressions: f64,
    /// Attributed clicks.
    pub clicks: f64,
    /// Attributed add-to-carts.
    pub carts: f64,
    /// Attributed purchases.
    pub purchases: f64,
    /// Attributed revenue.
    pub revenue: f64,
    /// Each metric by key (absent while it cannot be estimated: under 2 units, nothing shown).
    pub metrics: std::collections::BTreeMap<&'static str, Estimate>,
}

/// Totals and metrics of one variant's units.
pub fn summarize(units: &[UnitTotals]) -> VariantSummary {
    let mut t = UnitTotals::default();
    units.iter().for_each(|u| t.add(u));
    let metrics = Metric::ALL.iter().filter_map(|&m| Some((m.key(), sums(m, units).estimate()?))).collect();
    VariantSummary {
        users: units.len() as u64,
        lists: t.lists,
        impressions: t.impressions,
        clicks: t.clicks,
        carts: t.carts,
        purchases: t.purchases,
        revenue: t.revenue,
        metrics,
    }
}

/// Settings of the sequential test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SequentialConfig {
    /// Mixture standard deviation τ as a share of the control's estimate (0.1: a 10 % lift).
    pub tau: f64,
    /// Units each arm needs before the test may reject.
    pub min_units: u64,
    /// Significance level the results are judged at.
    pub alpha: f64,
}

impl Default for SequentialConfig {
    /// τ = 10 % of the control, 100 units per arm, α = 0.05.
    fn default() -> Self {
        SequentialConfig { tau: 0.1, min_units: 100, alpha: 0.05 }
    }
}

/// The mixture likelihood ratio Λ of the mSPRT for an observed difference `diff` with
/// variance `var`, mixing variance `tau2`. 1 when `var` or `tau2` is not positive.
pub fn msprt_lambda(diff: f64, var: f64, tau2: f64) -> f64 {
    if var.is_nan() || var <= 0.0 || tau2.is_nan() || tau2 <= 0.0 || !diff.is_finite() {
        return 1.0;
    }
    let s = var + tau2;
    // in logs: the exponent grows fast with evidence
    let log = 0.5 * (var / s).ln() + diff * diff * tau2 / (2.0 * var * s);
    log.exp()
}

/// A variant against the control at one look (sums of one metric): the difference with its fixed-
/// horizon interval, and 1/Λ of the mSPRT (`None` before both arms have enough units).
pub fn look(control: &RatioSums, variant: &RatioSums, cfg: &SequentialConfig) -> Option<(Estimate, f64)> {
    let (c, vc) = control.ratio()?;
    let (t, vt) = variant.ratio()?;
    let diff = t - c;
    let var = vc + vt;
    let est = Estimate::new(diff, var.sqrt());
    if control.units() < cfg.min_units || variant.units() < cfg.min_units {
        return Some((est, 1.0));
    }
    let tau = cfg.tau * c.abs();
    let inv = 1.0 / msprt_lambda(diff, var, tau * tau);
    Some((est, inv.min(1.0)))
}

/// A variant against the control on the primary metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The variant's name.
    pub variant: String,
    /// The metric compared (the experiment's primary metric).
    pub metric: Metric,
    /// variant − control, with its fixed-horizon 95 % interval.
    pub diff: Option<Estimate>,
    /// (variant − control) / control.
    pub relative: Option<f64>,
    /// The always-valid p-value: the running minimum of 1/Λ over every look.
    pub p_value: f64,
    /// p_value < α: the difference is real, whenever it was looked at.
    pub significant: bool,
}

/// The sample-ratio-mismatch check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Srm {
    /// Units counted per variant.
    pub observed: Vec<u64>,
    /// Units expected per variant from the shares.
    pub expected: Vec<f64>,
    /// Pearson's χ².
    pub chi2: f64,
    /// Degrees of freedom (variants − 1).
    pub df: u32,
    /// P(χ²_df ≥ chi2).
    pub p_value: f64,
    /// p_value < [`SRM_ALARM_P`].
    pub alarm: bool,
}

/// Pearson's χ² test of `observed` against `shares` (normalised to sum to 1).
pub fn srm(observed: &[u64], shares: &[f64]) -> Srm {
    let total: f64 = observed.iter().map(|&o| o as f64).sum();
    let share_sum: f64 = shares.iter().sum();
    let expected: Vec<f64> = shares.iter().map(|s| total * s / share_sum).collect();
    let chi2: f64 =
        observed.iter().zip(&expected).filter(|(_, &e)| e > 0.0).map(|(&o, &e)| (o as f64 - e).powi(2) / e).sum();
    let df = observed.len().saturating_sub(1) as u32;
    let p_value = if total == 0.0 || df == 0 { 1.0 } else { chi2_sf(chi2, df as f64) };
    Srm { observed: observed.to_vec(), expected, chi2, df, p_value, alarm: p_value < SRM_ALARM_P }
}

/// P(χ²_k ≥ x): the upper regularised incomplete gamma Q(k/2, x/2).
pub fn chi2_sf(x: f64, k: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    gamma_q(k / 2.0, x / 2.0)
}

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9), |error| < 1e-13 for x > 0
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Q(a, x) = Γ(a, x) / Γ(a): a series below a + 1, a continued fraction above (Numerical
/// Recipes §6.2).
fn gamma_q(a: f64, x: f64) -> f64 {
    if x < a + 1.0 {
        let mut sum = 1.0 / a;
        let mut del = sum;
        let mut ap = a;
        for _ in 0..1000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        let p = sum * (-x + a * x.ln() - ln_gamma(a)).exp();
        (1.0 - p).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-15 {
                break;
            }
        }
        ((-x + a * x.ln() - ln_gamma(a)).exp() * h).clamp(0.0, 1.0)
    }
}

/// An experiment's design as the analysis needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Variant names; the first is the control.
    pub variants: Vec<String>,
    /// Traffic shares, in variant order (relative weights).
    pub shares: Vec<f64>,
    /// The metric the sequential test watches.
    pub primary: Metric,
}

/// What one unit did in one time bucket (the store's rows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Index of the unit's variant in [`Design::variants`].
    pub variant: usize,
    /// The unit (any number unique within the experiment).
    pub unit: u64,
    /// Time bucket (0 = the first), of the list shown.
    pub bucket: u32,
    /// What the unit's lists of that bucket showed and earned.
    pub totals: UnitTotals,
}

/// One variant in the results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantResult {
    /// Its name.
    pub name: String,
    /// Its configured share (normalised).
    pub share: f64,
    /// Its totals and metrics.
    #[serde(flatten)]
    pub summary: VariantSummary,
}

/// One variant at one point of the timeline (cumulative up to the end of the bucket).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineVariant {
    /// Units so far.
    pub users: u64,
    /// Every metric so far.
    pub metrics: std::collections::BTreeMap<&'static str, Estimate>,
    /// Always-valid p-value against the control so far (1 for the control).
    pub p_value: f64,
}

/// The results at the end of one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelinePoint {
    /// Unix seconds of the end of the bucket.
    pub at: i64,
    /// Per variant, in design order.
    pub variants: Vec<TimelineVariant>,
}

/// Everything `GET /experiments/{name}` reports about the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The primary metric.
    pub primary_metric: Metric,
    /// Per variant, in design order (the first is the control).
    pub variants: Vec<VariantResult>,
    /// Each other variant against the control on the primary metric.
    pub comparisons: Vec<Comparison>,
    /// The sample-ratio-mismatch check of the units per variant.
    pub srm: Srm,
    /// Cumulative results at the end of each time bucket.
    pub timeline: Vec<TimelinePoint>,
    /// The sequential test's settings.
    pub sequential: SequentialConfig,
}

/// Analyse `rows` (what each unit did in each of `buckets` time buckets of `bucket_secs`
/// seconds from `start`). The sequential test looks once per bucket, so its p-value is the
/// minimum over the bucket ends.
pub fn analyze(
    design: &Design,
    rows: &[Row],
    start: i64,
    bucket_secs: i64,
    buckets: u32,
    cfg: &SequentialConfig,
) -> Analysis {
    let k = design.variants.len();
    let share_sum: f64 = design.shares.iter().sum();
    let mut order: Vec<&Row> = rows.iter().filter(|r| r.variant < k).collect();
    order.sort_by_key(|r| r.bucket);
    // (variant, unit) → index into totals
    let mut index: std::collections::HashMap<(usize, u64), usize> = std::collections::HashMap::new();
    let mut totals: Vec<Vec<UnitTotals>> = vec![Vec::new(); k];
    let mut p_run = vec![1.0f64; k];
    let mut last: Vec<Option<Estimate>> = vec![None; k];
    let mut timeline = Vec::new();
    let mut next = 0;
    let buckets = buckets.max(order.last().map_or(0, |r| r.bucket + 1));
    for b in 0..buckets {
        while next < order.len() && order[next].bucket == b {
            let r = order[next];
            let slot = *index.entry((r.variant, r.unit)).or_insert_with(|| {
                totals[r.variant].push(UnitTotals::default());
                totals[r.variant].len() - 1
            });
            totals[r.variant][slot].add(&r.totals);
            next += 1;
        }
        let control = sums(design.primary, &totals[0]);
        let mut variants = Vec::with_capacity(k);
        for (v, units) in totals.iter().enumerate() {
            if v > 0 {
                if let Some((est, inv)) = look(&control, &sums(design.primary, units), cfg) {
                    p_run[v] = p_run[v].min(inv);
                    last[v] = Some(est);
                }
            }
            let metrics = Metric::ALL.iter().filter_map(|&m| Some((m.key(), sums(m, units).estimate()?))).collect();
            variants.push(TimelineVariant { users: units.len() as u64, metrics, p_value: p_run[v] });
        }
        timeline.push(TimelinePoint { at: start + (b as i64 + 1) * bucket_secs, variants });
    }
    let control_value = sums(design.primary, &totals[0]).ratio().map(|(r, _)| r);
    let comparisons = (1..k)
        .map(|v| {
            let diff = last[v];
            Comparison {
                variant: design.variants[v].clone(),
                metric: design.primary,
                diff,
                relative: match (diff, control_value) {
                    (Some(d), Some(c)) if c != 0.0 => Some(d.value / c),
                    _ => None,
                },
                p_value: p_run[v],
                significant: p_run[v] < cfg.alpha,
            }
        })
        .collect();
    let observed: Vec<u64> = totals.iter().map(|t| t.len() as u64).collect();
    Analysis {
        primary_metric: design.primary,
        variants: design
            .variants
            .iter()
            .zip(&totals)
            .zip(&design.shares)
            .map(|((name, units), share)| VariantResult {
                name: name.clone(),
                share: share / share_sum,
                summary: summarize(units),
            })
            .collect(),
        comparisons,
        srm: srm(&observed, &design.shares),
        timeline,
        sequential: *cfg,
    }
}
