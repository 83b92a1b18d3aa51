//! The report as Markdown, for reading on a code host or in an editor; charts are linked
//! as the PNG files beside it.

use std::fmt::Write;
use std::path::Path;

use super::{Review, Table};

/// The whole report; image links are relative to `directory`, where it is written.
pub fn render(review: &Review, directory: &Path) -> String {
    let mut out = format!("# {}\n\n", review.title);
    if let Some(question) = &review.question {
        out.push_str("## The question\n\n");
        for line in question.lines() {
            let _ = writeln!(out, "> {line}");
        }
        out.push('\n');
    }
    if let Some(scenario) = &review.scenario {
        out.push_str("## The scenario\n\n");
        out.push_str(&table(scenario));
    }
    if let Some(summary) = &review.summary {
        out.push_str("## The variants side by side\n\n");
        out.push_str(&table(summary));
    }
    out.push_str("## Charts\n\n");
    for chart in &review.charts {
        let link = chart.png.strip_prefix(directory).unwrap_or(&chart.png);
        let link = link.to_string_lossy().replace('\\', "/");
        let _ = write!(
            out,
            "### {}\n\n![{}]({link})\n\n*{}*\n\n",
            capitalized(&chart.title),
            chart.title,
            chart.caption
        );
    }
    let _ = write!(
        out,
        "---\n\n{}. Redraw charts and report with `{}`.\n",
        review.provenance, review.redraw_command
    );
    out
}

fn table(table: &Table) -> String {
    let row = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = row(&table.header);
    let rule: Vec<String> = table
        .header
        .iter()
        .enumerate()
        .map(|(index, _)| if index == 0 { "---" } else { "---:" }.to_string())
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for cells in &table.rows {
        out.push_str(&row(cells));
    }
    out.push('\n');
    out
}

/// `the storm` reads `The storm` as a heading.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_pipes_and_right_align_values() {
        let text = table(&Table {
            header: vec![String::new(), "a|b".into()],
            rows: vec![vec!["x".into(), "1".into()]],
        });
        assert_eq!(text, "|  | a\\|b |\n|---|---:|\n| x | 1 |\n\n");
    }

    #[test]
    fn headings_start_with_a_capital() {
        assert_eq!(capitalized("queue depths"), "Queue depths");
        assert_eq!(capitalized(""), "");
    }
}
