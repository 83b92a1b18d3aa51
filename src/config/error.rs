//! Configuration errors: each one names the key, the value and what is allowed.

use thiserror::Error;

/// Why an experiment file or an override was refused. All of these are the user's to fix;
/// none is a bug in stormsim.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read. The I/O error is part of the message rather than a
    /// `source`, so that printing the whole error chain does not say it twice.
    #[error("cannot read file '{path}': {reason}")]
    Read {
        path: String,
        reason: std::io::Error,
    },

    /// The file is not valid TOML; `message` is one line, with the line and column.
    #[error("file '{path}' is not valid TOML: {message}")]
    Syntax { path: String, message: String },

    /// A key is unknown, misspelt or of the wrong type.
    #[error("key '{key}': {message}")]
    Key { key: String, message: String },

    /// A value is of the right type but outside what the model allows.
    #[error("key '{key}' = {value}: {allowed}")]
    OutOfRange {
        key: String,
        value: String,
        allowed: String,
    },

    /// A `--set` argument is not of the form `key=value`.
    #[error("override '{text}': {reason}")]
    Override { text: String, reason: String },

    /// `--variant` names a variant the experiment does not have.
    #[error("variant '{name}' is not in the experiment; it has: {available}")]
    UnknownVariant { name: String, available: String },
}

impl ConfigError {
    /// A TOML syntax error of `text`, folded into one line that starts with the line and
    /// column where the parser stopped.
    pub(crate) fn syntax(path: &str, text: &str, error: &toml::de::Error) -> Self {
        let detail = one_line(error.message());
        let message = match error.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                format!("line {line}, column {column}: {detail}")
            }
            None => detail,
        };
        Self::Syntax {
            path: path.to_string(),
            message,
        }
    }

    /// A key that deserialization refused (unknown, or of the wrong type), with serde's
    /// message on one line and its Rust type names put in words.
    pub(crate) fn refused_key(key: String, serde_message: &str) -> Self {
        Self::Key {
            key,
            message: in_words(&one_line(serde_message)),
        }
    }

    pub(crate) fn out_of_range(
        key: &str,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Self::OutOfRange {
            key: key.to_string(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// Joins the non-empty lines of `message` with "; ", so every error fits one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before: Vec<char> = text
        .char_indices()
        .take_while(|&(index, _)| index < offset)
        .map(|(_, c)| c)
        .collect();
    let line = before.iter().filter(|&&c| c == '\n').count() + 1;
    let column = before.iter().rev().take_while(|&&c| c != '\n').count() + 1;
    (line, column)
}

/// Replaces the Rust type names serde puts after "expected" with what a scenario file
/// calls them.
fn in_words(message: &str) -> String {
    const WORDS: [(&str, &str); 4] = [
        ("expected u64", "expected a whole number of at least 0"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
    ];
    if let Some(start) = message.find("expected struct ") {
        return format!("{}expected a table", &message[..start]);
    }
    WORDS
        .iter()
        .fold(message.to_string(), |text, (rust, words)| {
            text.replace(rust, words)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_fit_one_line_with_their_position() {
        let text = "seed = 3\n[clients\ncount = 4\n";
        let error = text.parse::<toml::Table>().unwrap_err();
        let message = ConfigError::syntax("x.toml", text, &error).to_string();
        assert_eq!(
            message,
            "file 'x.toml' is not valid TOML: line 2, column 9: invalid table header; \
             expected `.`, `]`"
        );
    }

    #[test]
    fn rust_type_names_are_put_in_words() {
        assert_eq!(
            in_words("invalid type: string \"x\", expected u64"),
            "invalid type: string \"x\", expected a whole number of at least 0"
        );
        assert_eq!(
            in_words("invalid type: integer `3`, expected struct RedisSpec"),
            "invalid type: integer `3`, expected a table"
        );
    }

    #[test]
    fn positions_count_characters_from_one() {
        assert_eq!(line_and_column("ab\ncé\nd", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncé\nd", 3), (2, 1));
        assert_eq!(line_and_column("ab\ncé\nd", 7), (3, 1));
    }
}
