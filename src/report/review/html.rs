//! The report as one HTML page with its charts inline (PNG as data URIs), so it opens in
//! any browser with no file beside it.

use std::fmt::Write;

use anyhow::{Context, Result};
use base64::Engine;

use super::markdown::capitalized;
use super::{Review, Table};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;\
max-width:1240px;margin:2em auto;padding:0 1em;color:#212529;line-height:1.45}\
h1{font-size:1.7em}h2{margin-top:1.8em;border-bottom:1px solid #dee2e6}\
blockquote{margin:0;padding:.4em 1em;border-left:4px solid #0072b2;background:#f4f8fb}\
table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .8em;\
border-bottom:1px solid #dee2e6}td:not(:first-child),th:not(:first-child){text-align:right}\
th{background:#f8f9fa}figure{margin:1.5em 0}img{max-width:100%;border:1px solid #dee2e6}\
figcaption{color:#495057;font-style:italic}footer{color:#6c757d;margin-top:2em}\
code{background:#f1f3f5;padding:0 .2em}";

/// The whole page.
pub fn render(review: &Review) -> Result<String> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n",
        title = escape(&review.title)
    );
    if let Some(question) = &review.question {
        let paragraphs = question.split("\n\n").map(|p| escape(p.trim()));
        let _ = write!(out, "<h2>The question</h2>\n<blockquote>");
        for paragraph in paragraphs {
            let _ = write!(out, "<p>{paragraph}</p>");
        }
        out.push_str("</blockquote>\n");
    }
    if let Some(scenario) = &review.scenario {
        out.push_str("<h2>The scenario</h2>\n");
        out.push_str(&table(scenario));
    }
    if let Some(summary) = &review.summary {
        out.push_str("<h2>The variants side by side</h2>\n");
        out.push_str(&table(summary));
    }
    out.push_str("<h2>Charts</h2>\n");
    for chart in &review.charts {
        let bytes = std::fs::read(&chart.png)
            .with_context(|| format!("cannot read chart '{}'", chart.png.display()))?;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        let _ = write!(
            out,
            "<figure>\n<h3>{heading}</h3>\n<img alt=\"{alt}\" width=\"{width}\" \
             src=\"data:image/png;base64,{data}\">\n<figcaption>{caption}</figcaption>\n\
             </figure>\n",
            heading = escape(&capitalized(&chart.title)),
            alt = escape(&chart.title),
            width = chart.size_px.0,
            caption = escape(&chart.caption),
        );
    }
    let _ = write!(
        out,
        "<footer>{}. Redraw charts and report with <code>{}</code>.</footer>\n</body>\n</html>\n",
        escape(&review.provenance),
        escape(&review.redraw_command)
    );
    Ok(out)
}

fn table(table: &Table) -> String {
    let mut out = String::from("<table>\n<tr>");
    for cell in &table.header {
        let _ = write!(out, "<th>{}</th>", escape(cell));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a < b & \"c\""), "a &lt; b &amp; &quot;c&quot;");
    }

    #[test]
    fn tables_have_a_header_row() {
        let text = table(&Table {
            header: vec![String::new(), "sync".into()],
            rows: vec![vec!["p99".into(), "5 s".into()]],
        });
        assert!(text.starts_with("<table>\n<tr><th></th><th>sync</th></tr>\n"));
        assert!(text.contains("<tr><td>p99</td><td>5 s</td></tr>"));
    }
}
