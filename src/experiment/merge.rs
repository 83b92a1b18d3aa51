//! Combining the shards of a sweep run on several machines.
//!
//! Each shard writes the same `sweep-index.json` and its share of `runs/`. Merging
//! checks that the indexes agree, gathers every run record into one directory and writes
//! the tables from there, with the very code a single-machine sweep uses, so the merged
//! `sweep.csv` is byte-identical to the one a single machine would have written.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::sweep::store::{INDEX_FILE, SweepIndex, load, load_all, runs_directory, store};
use super::sweep::tables::write_sweep_tables;

/// What one merged sweep holds.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    pub experiment: String,
    pub directory: PathBuf,
    pub runs: usize,
    /// Records copied from the inputs (the others were already in the output).
    pub copied: usize,
}

/// Merges the sweeps found in `inputs` into `<out_root>/<experiment>/`. An input is a
/// shard's `--out` directory (holding one directory per experiment) or one experiment's
/// directory (holding `sweep-index.json`).
pub fn merge_sweeps(inputs: &[PathBuf], out_root: &Path) -> Result<Vec<MergeOutcome>> {
    let mut sweeps: BTreeMap<String, Vec<(PathBuf, SweepIndex)>> = BTreeMap::new();
    for input in inputs {
        for directory in sweep_directories(input)? {
            let index = SweepIndex::read(&directory)?;
            sweeps
                .entry(index.experiment.clone())
                .or_default()
                .push((directory, index));
        }
    }
    if sweeps.is_empty() {
        bail!(
            "no sweep found in the inputs: each must be a sweep's --out directory or hold {INDEX_FILE}"
        );
    }

    sweeps
        .into_iter()
        .map(|(experiment, parts)| merge_one(&experiment, &parts, out_root))
        .collect()
}

/// The experiment directories under `input`: itself if it holds an index, else its
/// subdirectories that do, by name.
fn sweep_directories(input: &Path) -> Result<Vec<PathBuf>> {
    if input.join(INDEX_FILE).is_file() {
        return Ok(vec![input.to_path_buf()]);
    }
    let entries = fs::read_dir(input)
        .with_context(|| format!("cannot read directory '{}'", input.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join(INDEX_FILE).is_file())
        .collect();
    found.sort();
    if found.is_empty() {
        bail!(
            "directory '{}' holds no sweep: expected {INDEX_FILE} in it or in a subdirectory",
            input.display()
        );
    }
    Ok(found)
}

fn merge_one(
    experiment: &str,
    parts: &[(PathBuf, SweepIndex)],
    out_root: &Path,
) -> Result<MergeOutcome> {
    let (first_directory, index) = &parts[0];
    if let Some((directory, other)) = parts.iter().find(|(_, other)| other != index) {
        let why = if other.binary != index.binary {
            "they were made by different binaries; run every shard with the same one"
        } else {
            "another grid, seed, --set or version"
        };
        bail!(
            "sweeps of experiment '{experiment}' in '{}' and '{}' differ ({why}): only \
             shards of one sweep can be merged",
            first_directory.display(),
            directory.display()
        );
    }

    // Every run is found before anything is written, so an incomplete merge leaves the
    // output as it was.
    let directory = out_root.join(experiment);
    let destination = runs_directory(&directory);
    let mut to_copy = Vec::new();
    let mut missing = Vec::new();
    for run in &index.runs {
        if load(&destination, &run.key).is_some() {
            continue;
        }
        let source = parts
            .iter()
            .map(|(source, _)| runs_directory(source))
            .find(|source| load(source, &run.key).is_some());
        match source {
            Some(source) => to_copy.push((source, &run.key)),
            None => missing.push(run),
        }
    }
    if let Some(run) = missing.first() {
        bail!(
            "sweep '{experiment}' is incomplete: {} of its runs are in no input, for example \
             {}; did every shard finish?",
            missing.len(),
            index.describe(run)
        );
    }

    let copied = to_copy.len();
    for (source, key) in to_copy {
        let record = load(&source, key)
            .with_context(|| format!("run {key} vanished from '{}'", source.display()))?;
        store(&destination, &record)?;
    }
    let (records, _) = load_all(&destination, index);
    index.write(&directory)?;
    write_sweep_tables(&directory, index, &records)?;
    Ok(MergeOutcome {
        experiment: experiment.to_string(),
        directory,
        runs: index.runs.len(),
        copied,
    })
}
