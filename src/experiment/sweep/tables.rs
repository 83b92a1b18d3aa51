//! A sweep's tables, rebuilt from its index and its stored runs alone.
//!
//! - `sweep.csv`: one row per point × variant; for each headline figure of `summary.csv`,
//!   its mean, standard deviation and 95% confidence half-width across replications.
//! - `sweep-runs.csv`: one row per run: the point, the replication and its summary row.
//! - `sweep-paired.csv`: per point, each variant minus the first variant, figure by figure,
//!   with the confidence interval of the paired differences (both variants of a
//!   replication share a storm, so their difference is far less noisy than either).
//! - `timeseries-bands.csv`: per point × variant, bucket by bucket, the mean of every
//!   time-series column across replications and its 95% confidence half-width: a storm has
//!   no steady state, so its course is summarized, not a long-run average.
//!
//! Rows follow the index (point, then variant, then replication or bucket), and numbers
//! are read from the records' CSV text, so the tables are the same bytes whatever the
//! number of threads, the order runs finished in, or the machines they ran on.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow};

use super::stats::{Stats, cell};
use super::store::{RunRecord, SweepIndex};
use crate::report::write_atomically;

/// Summary columns that are not figures to average: names, and the seed.
const NOT_FIGURES: [&str; 2] = ["variant", "seed"];

/// A run's CSV text, parsed: column names and rows of cells.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn parse(text: &str) -> Result<Self> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers()?.iter().map(str::to_string).collect();
        let rows = reader
            .records()
            .map(|row| Ok(row?.iter().map(str::to_string).collect()))
            .collect::<Result<_>>()?;
        Ok(Self { header, rows })
    }
}

/// The parsed records of a sweep, run by run in index order.
struct Runs<'a> {
    index: &'a SweepIndex,
    summaries: Vec<Csv>,
    series: Vec<Csv>,
    /// Positions of the runs of each (point, variant), by replication.
    groups: BTreeMap<(usize, usize), Vec<usize>>,
}

impl<'a> Runs<'a> {
    fn parse(index: &'a SweepIndex, records: &BTreeMap<String, RunRecord>) -> Result<Self> {
        let mut summaries = Vec::with_capacity(index.runs.len());
        let mut series = Vec::with_capacity(index.runs.len());
        for run in &index.runs {
            let record = records
                .get(&run.key)
                .ok_or_else(|| anyhow!("run {} has no stored result", index.describe(run)))?;
            let context = || format!("stored run {}", index.describe(run));
            summaries.push(Csv::parse(&record.summary_csv).with_context(context)?);
            series.push(Csv::parse(&record.series_csv).with_context(context)?);
        }
        let mut groups: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for (position, run) in index.runs.iter().enumerate() {
            groups
                .entry((run.point, run.variant))
                .or_default()
                .push(position);
        }
        Ok(Self {
            index,
            summaries,
            series,
            groups,
        })
    }

    /// Positions (in index order) of the runs of a point and variant, by replication.
    fn group(&self, point: usize, variant: usize) -> Vec<usize> {
        self.groups
            .get(&(point, variant))
            .cloned()
            .unwrap_or_default()
    }

    /// The summary columns that hold figures: numbers (or empty) in the first run.
    fn figures(&self) -> Vec<(usize, String)> {
        let Some(first) = self.summaries.first() else {
            return Vec::new();
        };
        first
            .header
            .iter()
            .enumerate()
            .filter(|(column, name)| {
                let value = &first.rows[0][*column];
                !NOT_FIGURES.contains(&name.as_str())
                    && (value.is_empty() || value.parse::<f64>().is_ok())
            })
            .map(|(column, name)| (column, name.clone()))
            .collect()
    }

    /// One summary figure of the runs at `positions`; `None` if some run has none.
    fn figure(&self, positions: &[usize], column: usize) -> Option<Vec<f64>> {
        positions
            .iter()
            .map(|&i| number(&self.summaries[i].rows[0][column]))
            .collect()
    }

    /// The leading cells of a row: the variant and the point's values.
    fn point_cells(&self, point: usize, variant: usize) -> Vec<String> {
        let mut cells = vec![self.index.variants[variant].clone()];
        cells.extend(self.index.points[point].iter().cloned());
        cells
    }

    /// Every (point, variant) pair, in table order.
    fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.index.points.len()).flat_map(move |point| {
            (0..self.index.variants.len()).map(move |variant| (point, variant))
        })
    }
}

/// Writes the four tables of a complete sweep into `directory`.
pub fn write_sweep_tables(
    directory: &Path,
    index: &SweepIndex,
    records: &BTreeMap<String, RunRecord>,
) -> Result<()> {
    let runs = Runs::parse(index, records)?;
    write_atomically(&directory.join("sweep.csv"), &sweep_table(&runs)?)?;
    write_atomically(&directory.join("sweep-runs.csv"), &runs_table(&runs)?)?;
    write_atomically(&directory.join("sweep-paired.csv"), &paired_table(&runs)?)?;
    write_atomically(
        &directory.join("timeseries-bands.csv"),
        &bands_table(&runs)?,
    )
}

fn sweep_table(runs: &Runs) -> Result<Vec<u8>> {
    let figures = runs.figures();
    let mut header = leading_header(runs.index);
    header.push("replications".into());
    for (_, name) in &figures {
        header.extend([
            format!("{name}_mean"),
            format!("{name}_sd"),
            format!("{name}_ci95"),
        ]);
    }

    let mut table = vec![header];
    for (point, variant) in runs.pairs() {
        let positions = runs.group(point, variant);
        let mut row = runs.point_cells(point, variant);
        row.push(positions.len().to_string());
        for (column, _) in &figures {
            row.extend(stats_cells(runs.figure(&positions, *column), true));
        }
        table.push(row);
    }
    csv_of(&table)
}

fn runs_table(runs: &Runs) -> Result<Vec<u8>> {
    let Some(first) = runs.summaries.first() else {
        return csv_of(&[leading_header(runs.index)]);
    };
    let kept: Vec<usize> = (0..first.header.len())
        .filter(|&column| first.header[column] != "variant")
        .collect();
    let mut header = leading_header(runs.index);
    header.push("replication".into());
    header.extend(kept.iter().map(|&column| first.header[column].clone()));

    let mut table = vec![header];
    for (i, run) in runs.index.runs.iter().enumerate() {
        let mut row = runs.point_cells(run.point, run.variant);
        row.push(run.replication.to_string());
        row.extend(
            kept.iter()
                .map(|&column| runs.summaries[i].rows[0][column].clone()),
        );
        table.push(row);
    }
    csv_of(&table)
}

fn paired_table(runs: &Runs) -> Result<Vec<u8>> {
    let mut header = vec!["variant".to_string(), "baseline".to_string()];
    header.extend(runs.index.parameters.iter().cloned());
    header.extend(
        [
            "metric",
            "replications",
            "difference_mean",
            "difference_sd",
            "difference_ci95",
        ]
        .map(String::from),
    );

    let figures = runs.figures();
    let mut table = vec![header];
    for (point, variant) in runs.pairs().filter(|(_, variant)| *variant > 0) {
        let baseline = runs.group(point, 0);
        let compared = runs.group(point, variant);
        for (column, name) in &figures {
            let differences = runs
                .figure(&compared, *column)
                .zip(runs.figure(&baseline, *column))
                .map(|(a, b)| a.iter().zip(&b).map(|(a, b)| a - b).collect::<Vec<_>>());
            let mut row = vec![
                runs.index.variants[variant].clone(),
                runs.index.variants[0].clone(),
            ];
            row.extend(runs.index.points[point].iter().cloned());
            row.extend([name.clone(), compared.len().min(baseline.len()).to_string()]);
            row.extend(stats_cells(differences, true));
            table.push(row);
        }
    }
    csv_of(&table)
}

fn bands_table(runs: &Runs) -> Result<Vec<u8>> {
    let Some(first) = runs.series.first() else {
        return csv_of(&[leading_header(runs.index)]);
    };
    let columns: Vec<(usize, String)> = first
        .header
        .iter()
        .enumerate()
        .filter(|(_, name)| *name != "time_s")
        .map(|(column, name)| (column, name.clone()))
        .collect();
    let time_column = first.header.iter().position(|name| name == "time_s");
    let mut header = leading_header(runs.index);
    header.push("time_s".into());
    for (_, name) in &columns {
        header.extend([format!("{name}_mean"), format!("{name}_ci95")]);
    }

    let mut table = vec![header];
    for (point, variant) in runs.pairs() {
        let positions = runs.group(point, variant);
        let buckets = positions
            .iter()
            .map(|&i| runs.series[i].rows.len())
            .min()
            .unwrap_or(0);
        for bucket in 0..buckets {
            let mut row = runs.point_cells(point, variant);
            let time = time_column.map(|c| runs.series[positions[0]].rows[bucket][c].clone());
            row.push(time.unwrap_or_default());
            for (column, _) in &columns {
                let values: Option<Vec<f64>> = positions
                    .iter()
                    .map(|&i| number(&runs.series[i].rows[bucket][*column]))
                    .collect();
                row.extend(stats_cells(values, false));
            }
            table.push(row);
        }
    }
    csv_of(&table)
}

/// `variant` then the swept keys: the first columns of every table but the paired one.
fn leading_header(index: &SweepIndex) -> Vec<String> {
    let mut header = vec!["variant".to_string()];
    header.extend(index.parameters.iter().cloned());
    header
}

/// Mean, optionally standard deviation, and confidence half-width of `values`; empty cells
/// when some run lacks the figure (such as a drain time that never came).
fn stats_cells(values: Option<Vec<f64>>, with_sd: bool) -> Vec<String> {
    let stats = values.filter(|v| !v.is_empty()).map(|v| Stats::of(&v));
    let nan = f64::NAN;
    let (mean, sd, ci95) = stats.map_or((nan, nan, nan), |s| (s.mean, s.sd, s.ci95));
    if with_sd {
        vec![cell(mean), cell(sd), cell(ci95)]
    } else {
        vec![cell(mean), cell(ci95)]
    }
}

/// A cell as a number; `None` for an empty (unmeasured) cell.
fn number(text: &str) -> Option<f64> {
    text.parse().ok().filter(|v: &f64| v.is_finite())
}

fn csv_of(rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row)?;
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::sweep::stats::t_quantile;
    use crate::experiment::sweep::store::{IndexedRun, RECORD_FORMAT};

    /// Two variants at one point, two replications, with hand-picked figures.
    fn sweep() -> (SweepIndex, BTreeMap<String, RunRecord>) {
        let figures = [
            ("sync", 0, 10.0),
            ("sync", 1, 14.0),
            ("async", 0, 1.0),
            ("async", 1, 3.0),
        ];
        let mut runs = Vec::new();
        let mut records = BTreeMap::new();
        for (position, (variant, replication, p99)) in figures.into_iter().enumerate() {
            let key = format!("k{position}");
            runs.push(IndexedRun {
                point: 0,
                variant: position / 2,
                replication,
                seed: u64::from(replication),
                key: key.clone(),
            });
            let drained = if replication == 0 { "5.5" } else { "" };
            records.insert(
                key.clone(),
                RunRecord {
                    format: RECORD_FORMAT,
                    key,
                    crate_version: "test".into(),
                    seed: u64::from(replication),
                    scenario: serde_json::json!({}),
                    summary_csv: format!(
                        "variant,strategy,seed,connect_p99_ms,all_registered_at_s\n\
                         {variant},{variant},{replication},{p99},{drained}\n"
                    ),
                    series_csv: format!("time_s,arrivals\n0.0,{p99}\n0.1,1\n"),
                    wall_s: 0.0,
                },
            );
        }
        let index = SweepIndex {
            experiment: "x".into(),
            crate_version: "test".into(),
            binary: "test".into(),
            parameters: vec!["redis.shards".into()],
            points: vec![vec!["4".into()]],
            variants: vec!["sync".into(), "async".into()],
            replications: 2,
            runs,
        };
        (index, records)
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    /// The cells of the row of `table` that starts with `prefix`, after the prefix.
    fn row_after(table: &str, prefix: &str) -> Vec<String> {
        let line = table
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix} in {table}"));
        line[prefix.len()..].split(',').map(String::from).collect()
    }

    fn close(cell: &str, expected: f64) -> bool {
        (cell.parse::<f64>().unwrap() - expected).abs() < 1e-9 * expected.abs().max(1.0)
    }

    #[test]
    fn the_sweep_table_has_mean_sd_and_t_half_width() {
        let (index, records) = sweep();
        let runs = Runs::parse(&index, &records).unwrap();
        let table = text(sweep_table(&runs).unwrap());
        assert_eq!(
            table.lines().next().unwrap(),
            "variant,redis.shards,replications,connect_p99_ms_mean,connect_p99_ms_sd,\
             connect_p99_ms_ci95,all_registered_at_s_mean,all_registered_at_s_sd,\
             all_registered_at_s_ci95"
        );

        // sync: 10 and 14, mean 12, sd √8, half-width t(0.975, 1) · √8 / √2. A drain time
        // missing from one replication leaves its cells empty.
        let cells = row_after(&table, "sync,4,2,");
        assert_eq!(cells[0], "12");
        assert!(close(&cells[1], 8f64.sqrt()));
        assert!(close(&cells[2], t_quantile(1) * 2.0));
        assert_eq!(cells[3..], ["", "", ""]);
    }

    #[test]
    fn paired_differences_are_taken_replication_by_replication() {
        let (index, records) = sweep();
        let runs = Runs::parse(&index, &records).unwrap();
        let table = text(paired_table(&runs).unwrap());

        // Differences async − sync: 1 − 10 = −9 and 3 − 14 = −11: mean −10, sd √2.
        let cells = row_after(&table, "async,sync,4,connect_p99_ms,2,");
        assert_eq!(cells[0], "-10");
        assert!(close(&cells[1], 2f64.sqrt()));
        assert!(close(&cells[2], t_quantile(1)));
    }

    #[test]
    fn bands_follow_the_buckets_and_runs_keep_their_rows() {
        let (index, records) = sweep();
        let runs = Runs::parse(&index, &records).unwrap();
        let bands = text(bands_table(&runs).unwrap());
        let lines: Vec<&str> = bands.lines().collect();
        assert_eq!(
            lines[0],
            "variant,redis.shards,time_s,arrivals_mean,arrivals_ci95"
        );
        assert!(lines[1].starts_with("sync,4,0.0,12,"));
        assert_eq!(lines[2], "sync,4,0.1,1,0");

        let rows = text(runs_table(&runs).unwrap());
        let lines: Vec<&str> = rows.lines().collect();
        assert_eq!(
            lines[0],
            "variant,redis.shards,replication,strategy,seed,connect_p99_ms,all_registered_at_s"
        );
        assert_eq!(lines[4], "async,4,1,async,1,3,");
    }
}
