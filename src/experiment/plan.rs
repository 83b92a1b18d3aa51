//! Capacity planning: the smallest value of an integer parameter that meets a service
//! level, found by bisection over runs.
//!
//! `stormsim plan x.toml --param redis.shards --min 10 --max 5000 --slo "connect_p99_ms <= 50"`
//! evaluates a value by running it `replications` times (the sweep's seeds, so the runs
//! are shared with sweeps of the same scenario, and stored and resumed the same way), and
//! judges the service level twice: on the mean across replications, and on the pessimistic
//! end of its 95% confidence interval. Each judgement gets its own bisection, the second
//! reusing the points of the first. Bisection assumes that once the level holds it holds
//! for every larger value; the points visited are checked for that, and any that break it
//! are reported.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use toml::Value;

use super::sweep::SweepOptions;
use super::sweep::points::{check_not_set_elsewhere, point_scenario, replications};
use super::sweep::schedule::{BatchProgress, Job, available_memory_bytes, execute};
use super::sweep::stats::{Stats, cell};
use super::sweep::store::{load, run_key, runs_directory};
use crate::config::Experiment;
use crate::config::overrides::Override;
use crate::report::{SummaryRow, write_atomically};

/// Summary columns that are labels, not figures a service level can bound.
const NOT_FIGURES: [&str; 3] = ["variant", "strategy", "seed"];

/// How a figure must compare with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    AtMost,
    Below,
    AtLeast,
    Above,
}

impl Comparison {
    const ALL: [(&'static str, Comparison); 4] = [
        ("<=", Self::AtMost),
        (">=", Self::AtLeast),
        ("<", Self::Below),
        (">", Self::Above),
    ];

    fn symbol(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("?", |(symbol, _)| symbol)
    }

    /// Whether larger values of the figure are the bad side.
    fn bounds_from_above(self) -> bool {
        matches!(self, Self::AtMost | Self::Below)
    }
}

/// A service level: `<figure> <comparison> <threshold>`, such as `connect_p99_ms <= 50`,
/// where the figure is a column of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub metric: String,
    pub comparison: Comparison,
    pub threshold: f64,
}

impl FromStr for Slo {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: String| format!("service level '{text}': {why}");
        let (at, symbol, comparison) = Comparison::ALL
            .iter()
            .filter_map(|(symbol, comparison)| {
                text.find(symbol).map(|at| (at, *symbol, *comparison))
            })
            .min_by_key(|(at, symbol, _)| (*at, usize::MAX - symbol.len()))
            .ok_or_else(|| {
                bad(
                    "expected <figure> <= <value>, for example connect_p99_ms <= 50 (or <, >=, >)"
                        .into(),
                )
            })?;
        let metric = text[..at].trim().to_string();
        if metric.ends_with(['=', '<', '>', '!']) {
            return Err(bad(
                "the comparison must be one of <=, <, >= or >, for example connect_p99_ms <= 50"
                    .into(),
            ));
        }
        let threshold: f64 = text[at + symbol.len()..]
            .trim()
            .parse()
            .map_err(|_| bad("the threshold must be a number".into()))?;

        let figures: Vec<&str> = summary_figures().collect();
        if !figures.contains(&metric.as_str()) || !threshold.is_finite() {
            return Err(bad(format!(
                "the figure must be a column of summary.csv, one of {}, and the threshold a finite number",
                figures.join(", ")
            )));
        }
        Ok(Self {
            metric,
            comparison,
            threshold,
        })
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.metric,
            self.comparison.symbol(),
            self.threshold
        )
    }
}

impl Slo {
    fn holds(&self, value: f64) -> bool {
        match self.comparison {
            Comparison::AtMost => value <= self.threshold,
            Comparison::Below => value < self.threshold,
            Comparison::AtLeast => value >= self.threshold,
            Comparison::Above => value > self.threshold,
        }
    }

    /// The end of the confidence interval on the bad side of the threshold.
    fn pessimistic(&self, stats: &Stats) -> f64 {
        if self.comparison.bounds_from_above() {
            stats.mean + stats.ci95
        } else {
            stats.mean - stats.ci95
        }
    }
}

/// What to search for.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// A dotted scenario key taking whole numbers, such as `redis.shards`.
    pub parameter: String,
    pub min: i64,
    pub max: i64,
    pub slo: Slo,
    /// Runs per value; at least 2, so that a confidence interval exists.
    pub replications: u32,
}

/// One value the search visited.
#[derive(Debug, Clone)]
pub struct Visit {
    pub value: i64,
    /// 1 for the first value visited for this variant, and so on.
    pub step: usize,
    /// The figure across replications; `None` if a run did not measure it.
    pub stats: Option<Stats>,
    pub holds_on_mean: bool,
    pub holds_on_bound: bool,
}

/// The search's result for one variant.
#[derive(Debug, Clone)]
pub struct VariantPlan {
    pub variant: String,
    /// The smallest value meeting the level on the mean, and on the confidence bound;
    /// `None` when even the maximum does not.
    pub on_mean: Option<i64>,
    pub on_bound: Option<i64>,
    /// Every value visited, in increasing order.
    pub visits: Vec<Visit>,
    pub runs: usize,
    /// Pairs of visited values that break the monotonicity bisection assumes.
    pub violations: Vec<String>,
}

/// Searches every variant of `experiment` and writes `plan.csv` into its output
/// directory.
pub fn plan_capacity(
    experiment: &Experiment,
    overrides: &[Override],
    request: &PlanRequest,
    options: &SweepOptions,
    progress: &dyn BatchProgress,
) -> Result<Vec<VariantPlan>> {
    check_request(request)?;
    check_not_set_elsewhere(experiment, overrides, &request.parameter)?;
    let directory = options.out_root.join(&experiment.name);
    let search = Search {
        experiment,
        overrides,
        request,
        runs_directory: runs_directory(&directory),
        threads: options.jobs,
        budget_bytes: options
            .memory_budget_bytes
            .unwrap_or_else(available_memory_bytes),
        progress,
    };

    let plans = (0..experiment.variant_tables.len())
        .map(|variant| search.variant(variant))
        .collect::<Result<Vec<_>>>()?;
    write_atomically(&directory.join("plan.csv"), &plan_table(request, &plans)?)?;
    Ok(plans)
}

/// The answer in a few lines for people.
pub fn describe(request: &PlanRequest, plans: &[VariantPlan], table: &std::path::Path) -> String {
    let mut text = format!(
        "smallest {} in [{}, {}] with {} ({} replications per value)\n",
        request.parameter, request.min, request.max, request.slo, request.replications
    );
    let answer = |value: Option<i64>| {
        value.map_or_else(|| format!("none up to {}", request.max), |v| v.to_string())
    };
    for plan in plans {
        text.push_str(&format!(
            "variant '{}': {} on the mean, {} on the 95% confidence bound ({} values, {} runs)\n",
            plan.variant,
            answer(plan.on_mean),
            answer(plan.on_bound),
            plan.visits.len(),
            plan.runs
        ));
        for violation in &plan.violations {
            text.push_str(&format!("  warning: not monotone: {violation}\n"));
        }
    }
    text.push_str(&format!("points visited: {}\n", table.display()));
    text
}

fn check_request(request: &PlanRequest) -> Result<()> {
    if request.min > request.max {
        bail!(
            "--min {} is above --max {}: the range must hold at least one value",
            request.min,
            request.max
        );
    }
    if request.replications < 2 {
        bail!(
            "replications = {}: the planner needs at least 2 to bound its figure",
            request.replications
        );
    }
    Ok(())
}

/// The state shared by the searches of every variant.
struct Search<'a> {
    experiment: &'a Experiment,
    overrides: &'a [Override],
    request: &'a PlanRequest,
    runs_directory: PathBuf,
    threads: usize,
    budget_bytes: u64,
    progress: &'a dyn BatchProgress,
}

impl Search<'_> {
    /// Both bisections for one variant, then the monotonicity check.
    fn variant(&self, variant: usize) -> Result<VariantPlan> {
        let mut visits: BTreeMap<i64, Visit> = BTreeMap::new();
        let on_mean = self.smallest(variant, &mut visits, |v| v.holds_on_mean)?;
        let on_bound = self.smallest(variant, &mut visits, |v| v.holds_on_bound)?;

        let visits: Vec<Visit> = visits.into_values().collect();
        let mut broken = violations(&visits, "on the mean", |v| v.holds_on_mean);
        broken.extend(violations(&visits, "on the bound", |v| v.holds_on_bound));
        Ok(VariantPlan {
            variant: self.experiment.variant_tables[variant].0.clone(),
            on_mean,
            on_bound,
            runs: visits.len() * self.request.replications as usize,
            visits,
            violations: broken,
        })
    }

    /// Bisection for the smallest value meeting `criterion`, starting from what
    /// `visits` already knows.
    fn smallest(
        &self,
        variant: usize,
        visits: &mut BTreeMap<i64, Visit>,
        criterion: fn(&Visit) -> bool,
    ) -> Result<Option<i64>> {
        let (min, max) = (self.request.min, self.request.max);
        if !criterion(self.visit(variant, visits, max)?) {
            return Ok(None);
        }
        if criterion(self.visit(variant, visits, min)?) {
            return Ok(Some(min));
        }

        let mut high = visits
            .values()
            .filter(|v| criterion(v))
            .map(|v| v.value)
            .min()
            .unwrap_or(max);
        let mut low = visits
            .values()
            .filter(|v| v.value < high && !criterion(v))
            .map(|v| v.value)
            .max()
            .unwrap_or(min);
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if criterion(self.visit(variant, visits, middle)?) {
                high = middle;
            } else {
                low = middle;
            }
        }
        Ok(Some(high))
    }

    /// The visit of `value`, evaluating it first if it is new.
    fn visit<'v>(
        &self,
        variant: usize,
        visits: &'v mut BTreeMap<i64, Visit>,
        value: i64,
    ) -> Result<&'v Visit> {
        if !visits.contains_key(&value) {
            let stats = self.evaluate(variant, value)?;
            let slo = &self.request.slo;
            let visit = Visit {
                value,
                step: visits.len() + 1,
                holds_on_mean: stats.is_some_and(|s| slo.holds(s.mean)),
                holds_on_bound: stats.is_some_and(|s| slo.holds(slo.pessimistic(&s))),
                stats,
            };
            visits.insert(value, visit);
        }
        Ok(&visits[&value])
    }

    /// Runs (or finds stored) the replications of `value` and describes the figure.
    fn evaluate(&self, variant: usize, value: i64) -> Result<Option<Stats>> {
        let name = &self.experiment.variant_tables[variant].0;
        let assignment = [(self.request.parameter.clone(), Value::Integer(value))];
        let base = point_scenario(self.experiment, self.overrides, variant, &assignment)?;
        let scenarios = replications(&base, self.request.replications);
        let keys: Vec<String> = scenarios.iter().map(run_key).collect();

        let jobs: Vec<Job> = scenarios
            .into_iter()
            .zip(&keys)
            .enumerate()
            .filter(|(_, (_, key))| load(&self.runs_directory, key).is_none())
            .map(|(replication, (scenario, key))| Job {
                key: key.clone(),
                label: format!(
                    "{}={value} variant '{name}' replication {replication}",
                    self.request.parameter
                ),
                variant: name.clone(),
                scenario,
            })
            .collect();
        let reused = keys.len() - jobs.len();
        self.progress.begin(jobs.len() as u64, reused as u64);
        execute(
            jobs,
            &self.runs_directory,
            self.threads,
            self.budget_bytes,
            self.progress,
        )?;

        let values = keys
            .iter()
            .map(|key| self.figure(key))
            .collect::<Result<Option<Vec<f64>>>>()?;
        Ok(values.map(|values| Stats::of(&values)))
    }

    /// The service level's figure in a stored run; `None` if the run did not measure it.
    fn figure(&self, key: &str) -> Result<Option<f64>> {
        let record = load(&self.runs_directory, key)
            .ok_or_else(|| anyhow!("the run stored as {key} cannot be read back"))?;
        let mut reader = csv::Reader::from_reader(record.summary_csv.as_bytes());
        let column = reader
            .headers()?
            .iter()
            .position(|name| name == self.request.slo.metric)
            .with_context(|| {
                format!(
                    "stored run {key} has no column '{}'",
                    self.request.slo.metric
                )
            })?;
        let row = reader
            .records()
            .next()
            .with_context(|| format!("stored run {key} has no summary row"))??;
        Ok(row[column].parse::<f64>().ok().filter(|v| v.is_finite()))
    }
}

/// Pairs of visited values where `criterion` holds at the smaller and fails at the larger.
fn violations(visits: &[Visit], judged: &str, criterion: fn(&Visit) -> bool) -> Vec<String> {
    let first_holding = visits.iter().find(|v| criterion(v));
    let failing_after = first_holding.and_then(|held| {
        visits
            .iter()
            .find(|v| v.value > held.value && !criterion(v))
            .map(|failed| (held.value, failed.value))
    });
    failing_after
        .map(|(held, failed)| format!("{judged}, the level holds at {held} but not at {failed}"))
        .into_iter()
        .collect()
}

fn plan_table(request: &PlanRequest, plans: &[VariantPlan]) -> Result<Vec<u8>> {
    let metric = &request.slo.metric;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "variant".to_string(),
        request.parameter.clone(),
        "step".into(),
        "replications".into(),
        format!("{metric}_mean"),
        format!("{metric}_sd"),
        format!("{metric}_ci95"),
        format!("{metric}_bound"),
        "holds_on_mean".into(),
        "holds_on_bound".into(),
    ])?;
    for plan in plans {
        for visit in &plan.visits {
            let stats = visit.stats;
            let figure =
                |f: fn(&Stats) -> f64| stats.as_ref().map_or(String::new(), |s| cell(f(s)));
            writer.write_record([
                plan.variant.clone(),
                visit.value.to_string(),
                visit.step.to_string(),
                request.replications.to_string(),
                figure(|s| s.mean),
                figure(|s| s.sd),
                figure(|s| s.ci95),
                stats.map_or(String::new(), |s| cell(request.slo.pessimistic(&s))),
                visit.holds_on_mean.to_string(),
                visit.holds_on_bound.to_string(),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

/// The columns of `summary.csv` a service level may name, read from [`SummaryRow`]'s
/// own definition so the list never falls behind it.
fn summary_figures() -> impl Iterator<Item = &'static str> {
    field_names::<SummaryRow>()
        .iter()
        .copied()
        .filter(|name| !NOT_FIGURES.contains(name))
}

/// The field names of a struct that derives `Deserialize`, in declaration order, asked of
/// the derived code itself by a deserializer that only listens.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Listener<'n>(&'n mut &'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for Listener<'_> {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("only field names are asked for"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(serde::de::Error::custom("only field names are asked for"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Listener(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_levels_parse_with_or_without_spaces() {
        let slo: Slo = "connect_p99_ms <= 50".parse().unwrap();
        assert_eq!(slo.metric, "connect_p99_ms");
        assert_eq!(slo.comparison, Comparison::AtMost);
        assert_eq!(slo.threshold, 50.0);
        assert_eq!(slo.to_string(), "connect_p99_ms <= 50");

        let slo: Slo = "miss_rate<0.01".parse().unwrap();
        assert_eq!(slo.comparison, Comparison::Below);
        let slo: Slo = "connected >= 1e3".parse().unwrap();
        assert_eq!(slo.comparison, Comparison::AtLeast);
        assert_eq!(slo.threshold, 1000.0);
    }

    #[test]
    fn service_levels_name_what_is_allowed() {
        let error = "connect_p99_ms =< 1000".parse::<Slo>().unwrap_err();
        assert_eq!(
            error,
            "service level 'connect_p99_ms =< 1000': the comparison must be one of <=, <, >= \
             or >, for example connect_p99_ms <= 50"
        );
        let error = "connect_p99 <= 50".parse::<Slo>().unwrap_err();
        assert!(
            error.starts_with("service level 'connect_p99 <= 50': the figure must be a column of summary.csv, one of clients, connected"),
            "{error}"
        );
        assert!(
            "connect_p99_ms = 50"
                .parse::<Slo>()
                .unwrap_err()
                .contains("expected <figure> <=")
        );
        assert!(
            "connect_p99_ms <= fast"
                .parse::<Slo>()
                .unwrap_err()
                .contains("must be a number")
        );
    }

    #[test]
    fn the_pessimistic_end_depends_on_the_direction() {
        let stats = Stats::of(&[1.0, 2.0, 3.0]);
        let upper: Slo = "connect_p99_ms <= 2".parse().unwrap();
        let lower: Slo = "connected >= 2".parse().unwrap();
        assert!(upper.pessimistic(&stats) > 2.0 && lower.pessimistic(&stats) < 2.0);
        assert!(upper.holds(stats.mean) && lower.holds(stats.mean));
    }

    #[test]
    fn violations_name_a_value_that_held_and_a_larger_one_that_failed() {
        let visit = |value, holds| Visit {
            value,
            step: 1,
            stats: None,
            holds_on_mean: holds,
            holds_on_bound: holds,
        };
        let monotone = [visit(1, false), visit(5, true), visit(9, true)];
        assert!(violations(&monotone, "on the mean", |v| v.holds_on_mean).is_empty());
        let broken = [visit(1, false), visit(5, true), visit(9, false)];
        assert_eq!(
            violations(&broken, "on the mean", |v| v.holds_on_mean),
            ["on the mean, the level holds at 5 but not at 9"]
        );
    }
}
