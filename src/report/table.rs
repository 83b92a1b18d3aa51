//! The side-by-side table of variants printed at the end of a run.

use super::SummaryRow;

/// A row of the table: its label, and how to format a variant's cell.
type Line = (&'static str, fn(&SummaryRow) -> String);

/// Formats the headline figures of each variant in aligned columns.
pub fn side_by_side(rows: &[SummaryRow]) -> String {
    let lines: [Line; 12] = [
        ("strategy", |r| r.strategy.clone()),
        ("connected", |r| group(r.connected)),
        ("rejected", |r| group(r.rejected)),
        ("connect p50 (ms)", |r| format!("{:.3}", r.connect_p50_ms)),
        ("connect p99 (ms)", |r| format!("{:.3}", r.connect_p99_ms)),
        ("registry lag p99 (ms)", |r| {
            format!("{:.3}", r.registry_lag_p99_ms)
        }),
        ("messages missed", |r| group(r.messages_missed)),
        ("miss rate", |r| format!("{:.4}%", r.miss_rate * 100.0)),
        ("peak registry queue", |r| group(r.peak_registry_queue)),
        ("peak shard queue", |r| group(r.peak_shard_queue)),
        ("all registered at (s)", |r| {
            r.all_registered_at_s
                .map_or("not by horizon".into(), |s| format!("{s:.3}"))
        }),
        ("events", |r| group(r.events)),
    ];
    let label_width = lines
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| lines.iter().map(|(_, f)| f(row)).collect())
        .collect();
    let widths: Vec<usize> = rows
        .iter()
        .zip(&cells)
        .map(|(row, column)| {
            column
                .iter()
                .map(String::len)
                .chain([row.variant.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut out = format!("{:label_width$}", "");
    for (row, width) in rows.iter().zip(&widths) {
        out.push_str(&format!("  {:>width$}", row.variant));
    }
    out.push('\n');
    for (index, (label, _)) in lines.iter().enumerate() {
        out.push_str(&format!("{label:label_width$}"));
        for (column, width) in cells.iter().zip(&widths) {
            out.push_str(&format!("  {:>width$}", column[index]));
        }
        out.push('\n');
    }
    out
}

/// `1234567` as `1,234,567`.
fn group(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(500_000_000), "500,000,000");
    }
}
