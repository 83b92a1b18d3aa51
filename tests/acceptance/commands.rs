//! The commands other than `run`'s results: `check`, `--help` and `--version`.

use stormsim::config::Experiment;
use stormsim::config::overrides::Override;
use stormsim::experiment::Estimate;

use super::common::{Scratch, stormsim};

const TWO_VARIANTS: &str = r#"
description = "Two strategies on a tiny storm."
seed = 11

[clients]
count = 1000
window_s = 1

[connection_servers]
count = 2

[redis]
shards = 2

[variants.sync]
registry.strategy = "sync"

[variants.async]
registry.strategy = "async"
"#;

fn stdout_of(args: &[&str]) -> String {
    let output = stormsim().args(args).output().expect("stormsim starts");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

#[test]
fn check_prints_each_resolved_scenario_and_an_estimate() {
    let scratch = Scratch::new("tiny", TWO_VARIANTS);
    let path = scratch.experiment().to_str().unwrap();
    let stdout = stdout_of(&["check", path, "--set", "redis.service.mean_us=20"]);

    let set = [Override::parse("redis.service.mean_us=20").unwrap()];
    let experiment = Experiment::parse("tiny", path, TWO_VARIANTS, &set).unwrap();
    let mut expected =
        String::from("experiment 'tiny': valid, 2 variant(s)\nTwo strategies on a tiny storm.\n");
    for variant in &experiment.variants {
        let estimate = Estimate::of(&variant.scenario);
        expected.push_str(&format!(
            "\n[variant '{}']\n{}\nestimate: about {} events, peak backlog {} writes, \
             peak memory about {:.1} MiB\n",
            variant.name,
            toml::to_string_pretty(&variant.keys).unwrap(),
            estimate.events,
            estimate.peak_backlog,
            estimate.memory_bytes as f64 / (1024.0 * 1024.0)
        ));
    }
    assert_eq!(stdout, expected);

    // The scenario is shown in the file's keys and units, the override included.
    assert_eq!(stdout.matches("[redis.service]").count(), 2, "{stdout}");
    assert_eq!(stdout.matches("mean_us = 20.0\n").count(), 2, "{stdout}");
    assert!(stdout.contains("strategy = \"async\""), "{stdout}");

    // What was resolved is the file with the override, not the defaults.
    let scenarios: Vec<_> = experiment.variants.iter().map(|v| &v.scenario).collect();
    assert_eq!(scenarios[0].strategy.name(), "sync");
    assert_eq!(scenarios[1].strategy.name(), "async");
    assert!(
        scenarios
            .iter()
            .all(|s| s.seed == 11 && s.clients == 1000 && s.shards == 2)
    );
    assert!(
        scenarios
            .iter()
            .all(|s| s.shard_service.mean_ns() == 20_000.0)
    );
}

#[test]
fn check_of_one_variant_prints_only_that_one() {
    let scratch = Scratch::new("tiny", TWO_VARIANTS);
    let path = scratch.experiment().to_str().unwrap();
    let stdout = stdout_of(&["check", path, "--variant", "async"]);
    assert!(
        stdout.starts_with("experiment 'tiny': valid, 1 variant(s)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n[variant 'async']\n"));
    assert!(!stdout.contains("[variant 'sync']"));
}

/// The subcommands the top-level help lists, with their one-line descriptions.
fn subcommands() -> Vec<(String, String)> {
    let help = stdout_of(&["--help"]);
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| {
            let (name, about) = line.trim().split_once(char::is_whitespace)?;
            Some((name.to_string(), about.trim().to_string()))
        })
        .filter(|(name, _)| name != "help")
        .collect()
}

#[test]
fn every_subcommand_has_help() {
    let commands = subcommands();
    let names: Vec<&str> = commands.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.starts_with(&["run", "check"]), "{names:?}");

    for (name, about) in &commands {
        let help = stdout_of(&[name, "--help"]);
        assert!(help.starts_with(about.as_str()), "{name}: {help}");
        assert!(
            help.contains(&format!("Usage: stormsim {name} ")),
            "{name}: {help}"
        );
    }
}

#[test]
fn run_help_lists_every_flag_with_its_value() {
    let help = stdout_of(&["run", "--help"]);
    for flag in [
        "<EXPERIMENT>",
        "--set <KEY=VALUE>",
        "--seed <N>",
        "--out <DIR>",
        "--variant <NAME>",
        "--jobs <N>",
        "--quiet",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn version_names_the_crate_version() {
    assert_eq!(
        stdout_of(&["--version"]),
        format!("stormsim {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_shipped_experiment_checks() {
    // A renamed or removed key must not leave a shipped scenario that no longer loads.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments");
    let mut files: Vec<_> = ["", "/validation"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(format!("{root}{sub}")).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    for file in files {
        let stdout = stdout_of(&["check", file.to_str().unwrap()]);
        assert!(stdout.contains(": valid, "), "{}: {stdout}", file.display());
    }
}
