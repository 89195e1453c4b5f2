//! What goes wrong in a template, where (1-based line and character column), and how to say it.

use serde::{Deserialize, Serialize};

/// The kind of a [`TemplateIssue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IssueKind {
    /// The template does not parse.
    Syntax,
    /// A bare name that is no column, no built-in and nothing the template sets.
    UnknownVariable,
    /// `row["…"]` / `row.x` with a header that is not an included column.
    UnknownColumn,
    /// `system_params.x` with a key that is not a system parameter.
    UnknownParam,
    /// `value|name` with a filter that does not exist.
    UnknownFilter,
    /// `value is name` with a test that does not exist.
    UnknownTest,
    /// `name(…)` with a function that does not exist.
    UnknownFunction,
    /// Rendering failed on this row (missing value, wrong type, limits...).
    Render,
}

/// One problem in a template, positioned for the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} (line {line}, column {column})")]
pub struct TemplateIssue {
    /// What kind of problem.
    pub kind: IssueKind,
    /// A full sentence for the user.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What to write instead of the name at this position (a variable name, a column
    /// header, a parameter key, a filter name...), when something close exists.
    pub suggestion: Option<String>,
}

/// Longest piece of user text quoted in a message.
const MAX_QUOTED_CHARS: usize = 60;

/// `text` cut to a length that keeps messages readable.
pub(crate) fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(MAX_QUOTED_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// 1-based `(line, column)` of byte `offset` in `source`, columns counted in characters.
/// Offsets past the end or inside a character are clamped rather than trusted.
pub(crate) fn position(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl TemplateIssue {
    pub(crate) fn at(
        source: &str,
        offset: usize,
        kind: IssueKind,
        message: String,
        suggestion: Option<String>,
    ) -> Self {
        let (line, column) = position(source, offset);
        TemplateIssue {
            kind,
            message,
            line,
            column,
            suggestion,
        }
    }

    /// An engine error turned into a sentence, positioned on the failing piece of `source`.
    pub(crate) fn from_engine(source: &str, err: &minijinja::Error) -> Self {
        use minijinja::ErrorKind as K;
        let range = err
            .range()
            .filter(|r| r.start <= r.end && r.end <= source.len());
        let snippet = range
            .clone()
            .and_then(|r| source.get(r))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(quoted);
        let raw_detail = err
            .detail()
            .map(|d| d.trim().trim_end_matches('.').to_owned());
        let detail = err.detail().map(sentence_case);
        let (kind, message) = match err.kind() {
            K::SyntaxError | K::BadEscape | K::InvalidDelimiter => (
                IssueKind::Syntax,
                format!(
                    "Syntax error: {}.",
                    raw_detail
                        .filter(|d| !d.is_empty())
                        .unwrap_or_else(|| "the template cannot be parsed".into())
                ),
            ),
            K::UnknownFilter => (
                IssueKind::UnknownFilter,
                fallback(detail, "Unknown filter."),
            ),
            K::UnknownTest => (IssueKind::UnknownTest, fallback(detail, "Unknown test.")),
            K::UnknownFunction => (
                IssueKind::UnknownFunction,
                fallback(detail, "Unknown function."),
            ),
            K::UndefinedError => (
                IssueKind::Render,
                match snippet {
                    Some(s) => format!("`{s}` has no value for this row."),
                    None => "A name used by the template has no value for this row.".into(),
                },
            ),
            K::OutOfFuel => (
                IssueKind::Render,
                format!(
                    "The template did too much work (more than {} steps) and was stopped; \
                     look for large or nested loops.",
                    crate::engine::RENDER_FUEL
                ),
            ),
            K::WriteFailure => (
                IssueKind::Render,
                format!(
                    "The rendered prompt is larger than {} MB and was stopped.",
                    crate::engine::MAX_RENDERED_BYTES / (1024 * 1024)
                ),
            ),
            other => (
                IssueKind::Render,
                match (detail, snippet) {
                    (Some(d), Some(s)) => format!("{d} (in `{s}`)."),
                    (Some(d), None) => format!("{d}."),
                    (None, Some(s)) => format!("{} (in `{s}`).", sentence_case(&other.to_string())),
                    (None, None) => format!("{}.", sentence_case(&other.to_string())),
                },
            ),
        };
        let (line, column) = match (range, err.line()) {
            (Some(r), _) => position(source, r.start),
            (None, Some(line)) => (line, 1),
            (None, None) => (1, 1),
        };
        TemplateIssue {
            kind,
            message,
            line,
            column,
            suggestion: None,
        }
    }
}

fn fallback(detail: Option<String>, default: &str) -> String {
    detail.map_or_else(|| default.to_owned(), |d| format!("{d}."))
}

/// `text` with its first letter capitalised and no trailing period, ready to be framed.
fn sentence_case(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
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
    fn positions_are_one_based_and_count_characters_not_bytes() {
        let src = "ab\nnamé {{ x }}";
        assert_eq!(position(src, 0), (1, 1));
        assert_eq!(position(src, 3), (2, 1));
        let x = src.find('x').expect("x is in the source");
        assert_eq!(position(src, x), (2, 9));
    }

    #[test]
    fn offsets_past_the_end_or_inside_a_character_are_clamped() {
        assert_eq!(position("é", 1), (1, 1));
        assert_eq!(position("ab", 99), (1, 3));
    }

    #[test]
    fn long_text_is_cut_in_messages() {
        assert_eq!(quoted("short"), "short");
        assert_eq!(
            quoted(&"x".repeat(500)).chars().count(),
            MAX_QUOTED_CHARS + 1
        );
    }

    #[test]
    fn an_issue_displays_as_its_message_and_position() {
        let issue = TemplateIssue::at("a\nb", 2, IssueKind::Render, "Boom.".into(), None);
        assert_eq!(issue.to_string(), "Boom. (line 2, column 1)");
    }
}
