//! The command line: argument parsing, progress display, exit codes.
//!
//! Exit codes: 0 success; 2 bad input (an unknown key, a value out of range, a file that
//! cannot be read) or a failed run. Diagnostics go to stderr prefixed with `stormsim:`;
//! stdout carries only results, and a closed stdout pipe is not an error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::overrides::Override;
use crate::config::{Experiment, Scenario};
use crate::engine::{NANOS_PER_MS, SimTime};
use crate::experiment::merge::merge_sweeps;
use crate::experiment::plan::{PlanRequest, Slo, describe as describe_plans, plan_capacity};
use crate::experiment::sweep::grid::SweepSpec;
use crate::experiment::sweep::progress::BatchBar;
use crate::experiment::sweep::{Shard, SweepOptions, run_sweep};
use crate::experiment::{Estimate, RunOptions, run_experiment};
use crate::model::Progress;
use crate::report::review::{ExperimentNote, Published, publish, publish_gallery};
use crate::report::table::side_by_side;

/// Simulate a chat system's connection storm and compare connection-registry strategies.
#[derive(Debug, Parser)]
#[command(name = "stormsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Log more to stderr (-v: run start and end, -vv: resolved decisions); RUST_LOG
    /// overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every variant of an experiment and write its results.
    Run(RunArgs),
    /// Validate an experiment, print the resolved scenarios and estimate each run's cost.
    Check(ScenarioArgs),
    /// Redraw the charts and the report of a finished run from its output directory.
    Charts(ChartsArgs),
    /// Run the experiment's [sweep]: every point, variant and replication, resuming.
    Sweep(SweepArgs),
    /// Combine the shards of a sweep into one set of tables.
    Merge(MergeArgs),
    /// Find the smallest value of a parameter that meets a service level.
    Plan(PlanArgs),
}

#[derive(Debug, Args)]
struct ScenarioArgs {
    /// The experiment file (TOML), for example experiments/quick-storm.toml.
    #[arg(value_name = "EXPERIMENT")]
    experiment: PathBuf,

    /// Override a scenario key in every variant, for example --set redis.shards=64.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,

    /// Use this seed instead of the file's (at most 2^63 - 1, the largest TOML integer).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64)
    )]
    seed: Option<u64>,

    /// Only this variant.
    #[arg(long, value_name = "NAME")]
    variant: Option<String>,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,

    /// Write results under this directory, in a subdirectory named after the experiment.
    #[arg(long, value_name = "DIR", default_value = "output")]
    out: PathBuf,

    /// Variants to run at once (0: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    jobs: usize,

    /// Show no progress bar.
    #[arg(long)]
    quiet: bool,

    /// Write no charts and no report.md / report.html (the CSV files only).
    #[arg(long)]
    no_charts: bool,
}

#[derive(Debug, Args)]
struct ChartsArgs {
    /// A run's output directory, for example output/quick-storm.
    #[arg(value_name = "DIR")]
    directory: PathBuf,

    /// Also draw the run's charts small, as <experiment>-<chart>.png with a
    /// <experiment>-report.md, into this directory (the README's pictures: output/charts).
    #[arg(long, value_name = "GALLERY")]
    gallery: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SweepArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,

    /// Write results under this directory, in a subdirectory named after the experiment.
    #[arg(long, value_name = "DIR", default_value = "output")]
    out: PathBuf,

    /// Runs at once (0: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    jobs: usize,

    /// Run only partition I of N (I from 0), for spreading a sweep over machines; combine
    /// the partitions with `stormsim merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,

    /// Show no progress bar.
    #[arg(long)]
    quiet: bool,

    /// Write no charts and no report.md / report.html (the CSV files only).
    #[arg(long)]
    no_charts: bool,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// The shards' output directories (their --out), or experiment directories in them.
    #[arg(value_name = "DIR", required = true)]
    inputs: Vec<PathBuf>,

    /// Write the combined sweep under this directory.
    #[arg(long, value_name = "DIR", default_value = "output")]
    out: PathBuf,

    /// Write no charts and no report.md / report.html (the CSV files only).
    #[arg(long)]
    no_charts: bool,
}

#[derive(Debug, Args)]
struct PlanArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,

    /// The whole-number scenario key to search over, for example redis.shards.
    #[arg(long, value_name = "KEY")]
    param: String,

    /// The smallest value to consider.
    #[arg(long, value_name = "N")]
    min: i64,

    /// The largest value to consider.
    #[arg(long, value_name = "N")]
    max: i64,

    /// The service level, "<figure> <= <value>" (or <, >=, >) with a summary.csv
    /// column as the figure, for example "connect_p99_ms <= 50".
    #[arg(long, value_name = "LEVEL")]
    slo: Slo,

    /// Runs per value visited (default: the file's [sweep] replications, else 5).
    #[arg(long, value_name = "N")]
    replications: Option<u32>,

    /// Write plan.csv and the runs under this directory, in a subdirectory named after
    /// the experiment.
    #[arg(long, value_name = "DIR", default_value = "output")]
    out: PathBuf,

    /// Runs at once (0: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    jobs: usize,

    /// Show no progress bar.
    #[arg(long)]
    quiet: bool,

    /// Write no charts and no report.md / report.html (the CSV files only).
    #[arg(long)]
    no_charts: bool,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    install_logging(cli.verbose);
    match dispatch(cli) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("stormsim: error: {error:#}");
            2
        }
    }
}

/// Reports a command-line parsing error on one line, like every other error, and returns
/// the exit code. Help and version requests print as clap renders them.
fn usage_error(error: &clap::Error) -> i32 {
    use clap::error::ErrorKind;

    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if informational {
        error.print().ok();
        return error.exit_code();
    }

    // clap's first paragraph says what is wrong; the rest is usage and tips.
    let rendered = error.render().to_string();
    let first_paragraph: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = first_paragraph.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    eprintln!("stormsim: error: {message} (see --help)");
    2
}

fn install_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Check(args) => check(args),
        Command::Charts(args) => charts(args),
        Command::Sweep(args) => sweep(args),
        Command::Merge(args) => merge(args),
        Command::Plan(args) => plan(args),
    }
}

/// The `--set` overrides, and `--seed` as one more.
fn overrides(args: &ScenarioArgs) -> Result<Vec<Override>> {
    let mut overrides = args
        .overrides
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(seed) = args.seed {
        overrides.push(Override::parse(&format!("seed={seed}"))?);
    }
    Ok(overrides)
}

fn load(args: &ScenarioArgs) -> Result<Experiment> {
    let overrides = overrides(args)?;
    let mut experiment = Experiment::load(&args.experiment, &overrides)?;
    if let Some(name) = &args.variant {
        experiment.select_variant(name)?;
    }
    Ok(experiment)
}

fn run(args: RunArgs) -> Result<()> {
    let experiment = load(&args.scenario)?;
    let options = RunOptions {
        out_root: args.out.clone(),
        jobs: args.jobs,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    };

    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let bars = MultiProgress::with_draw_target(if show_progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let progress_for = |variant: &str, scenario: &Scenario| -> Box<dyn Progress + Send> {
        Box::new(VariantBar::new(&bars, variant, scenario))
    };
    let results = run_experiment(&experiment, &options, &progress_for)?;
    bars.clear().ok();

    let rows: Vec<_> = results.iter().map(|r| r.summary.clone()).collect();
    let directory = args.out.join(&experiment.name);
    let mut text = side_by_side(&rows);
    text.push_str(&format!("\nresults: {}\n", directory.display()));
    if !args.no_charts {
        note_of(&experiment, &args.scenario, None).write(&directory)?;
        text.push_str(&published(&publish(&directory)?));
    }
    print_stdout(&text)
}

fn charts(args: ChartsArgs) -> Result<()> {
    let mut text = published(&publish(&args.directory)?);
    if let Some(gallery) = &args.gallery {
        for file in publish_gallery(&args.directory, gallery)? {
            text.push_str(&format!("gallery: {}\n", file.display()));
        }
    }
    print_stdout(&text)
}

/// Where the charts and the report went.
fn published(published: &Published) -> String {
    let directory = published
        .charts
        .first()
        .and_then(|chart| chart.png.parent())
        .map_or_else(String::new, |d| d.display().to_string());
    let count = published.charts.len();
    let noun = if count == 1 { "chart" } else { "charts" };
    format!(
        "charts: {directory} ({count} {noun}, PNG and SVG)\nreport: {}\n",
        published.html.display()
    )
}

fn check(args: ScenarioArgs) -> Result<()> {
    let experiment = load(&args)?;
    let mut text = format!(
        "experiment '{}': valid, {} variant(s)\n",
        experiment.name,
        experiment.variants.len()
    );
    if !experiment.description.is_empty() {
        text.push_str(&format!("{}\n", experiment.description.trim()));
    }
    for variant in &experiment.variants {
        let estimate = Estimate::of(&variant.scenario);
        text.push_str(&format!("\n[variant '{}']\n", variant.name));
        text.push_str(&toml::to_string_pretty(&variant.keys)?);
        text.push_str(&format!(
            "\nestimate: about {} events, peak backlog {} writes, peak memory about {:.1} MiB\n",
            estimate.events,
            estimate.peak_backlog,
            estimate.memory_bytes as f64 / (1024.0 * 1024.0)
        ));
    }
    print_stdout(&text)
}

fn sweep(args: SweepArgs) -> Result<()> {
    let experiment = load(&args.scenario)?;
    let options = SweepOptions {
        out_root: args.out,
        jobs: args.jobs,
        shard: args.shard,
        memory_budget_bytes: None,
    };
    let bar = BatchBar::new(!args.quiet && std::io::stderr().is_terminal());
    let outcome = run_sweep(&experiment, &overrides(&args.scenario)?, &options, &bar);
    bar.finish();

    let outcome = outcome?;
    let mut text = outcome.describe();
    if !args.no_charts && outcome.complete() {
        note_of(&experiment, &args.scenario, None).write(&outcome.directory)?;
        text.push_str(&published(&publish(&outcome.directory)?));
    }
    print_stdout(&text)
}

/// What the report says about the experiment: its question and where it came from.
fn note_of(
    experiment: &Experiment,
    scenario: &ScenarioArgs,
    slo: Option<String>,
) -> ExperimentNote {
    ExperimentNote {
        experiment: experiment.name.clone(),
        description: experiment.description.clone(),
        file: scenario.experiment.display().to_string(),
        slo,
    }
}

fn merge(args: MergeArgs) -> Result<()> {
    let merged = merge_sweeps(&args.inputs, &args.out)?;
    let mut text = String::new();
    for m in &merged {
        text.push_str(&format!(
            "sweep '{}': {} runs ({} copied), results: {}\n",
            m.experiment,
            m.runs,
            m.copied,
            m.directory.join("sweep.csv").display()
        ));
        if !args.no_charts {
            text.push_str(&published(&publish(&m.directory)?));
        }
    }
    print_stdout(&text)
}

fn plan(args: PlanArgs) -> Result<()> {
    let experiment = load(&args.scenario)?;
    let declared = experiment
        .sweep
        .as_ref()
        .map(SweepSpec::from_table)
        .transpose()?;
    let request = PlanRequest {
        parameter: args.param,
        min: args.min,
        max: args.max,
        slo: args.slo,
        replications: args
            .replications
            .or(declared.map(|spec| spec.replications))
            .unwrap_or(5),
    };
    let options = SweepOptions {
        out_root: args.out,
        jobs: args.jobs,
        shard: None,
        memory_budget_bytes: None,
    };
    let bar = BatchBar::new(!args.quiet && std::io::stderr().is_terminal());
    let plans = plan_capacity(
        &experiment,
        &overrides(&args.scenario)?,
        &request,
        &options,
        &bar,
    );
    bar.finish();

    let directory = options.out_root.join(&experiment.name);
    let mut text = describe_plans(&request, &plans?, &directory.join("plan.csv"));
    if !args.no_charts {
        let slo = Some(request.slo.to_string());
        note_of(&experiment, &args.scenario, slo).write(&directory)?;
        text.push_str(&published(&publish(&directory)?));
    }
    print_stdout(&text)
}

/// Prints to stdout; a reader that closed the pipe early is not an error.
fn print_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// One variant's progress bar: virtual time reached, and events per second.
struct VariantBar {
    bar: ProgressBar,
    started: Instant,
    last: Mutex<Instant>,
}

impl VariantBar {
    fn new(bars: &MultiProgress, variant: &str, scenario: &Scenario) -> Self {
        let bar = bars.add(ProgressBar::new(scenario.horizon_ns / NANOS_PER_MS));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} ms virtual  {msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_prefix(variant.to_string());
        Self {
            bar,
            started: Instant::now(),
            last: Mutex::new(Instant::now()),
        }
    }
}

impl Progress for VariantBar {
    fn update(&mut self, now: SimTime, events: u64) {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_position(now / NANOS_PER_MS);
        self.bar
            .set_message(format!("{:.1}M events/s", events as f64 / elapsed / 1e6));
        if let Ok(mut last) = self.last.lock() {
            *last = Instant::now();
        }
    }
}

impl Drop for VariantBar {
    fn drop(&mut self) {
        self.bar.finish();
    }
}
