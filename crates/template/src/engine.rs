//! The one minijinja configuration shared by checking and rendering, with its limits and extra filters.

use std::io;
use std::sync::OnceLock;

use minijinja::machinery::{Token, tokenize};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Kwargs;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

use crate::issue::{IssueKind, TemplateIssue};

/// Engine steps one render may take. A prompt over a few hundred columns needs a few thousand;
/// this stops `{% for a in range(10000) %}{% for b in range(10000) %}` within a fraction of
/// a second instead of hanging a worker.
pub const RENDER_FUEL: u64 = 1_000_000;

/// Largest rendered prompt, in bytes. Far above any model's context window, far below what
/// would hurt the server; output stops with an error as soon as it is crossed.
pub const MAX_RENDERED_BYTES: usize = 16 * 1024 * 1024;

/// Most operators (`~ + | . [ ( and or is`...) inside one `{{ … }}` or `{% … %}`. The engine
/// compiles operator chains (`a ~ a ~ a …`, `x|f|f|f …`) recursively, one stack frame per
/// operator, so an absurdly long chain would overflow the stack (1 MB in the browser, less
/// headroom still in unoptimised builds); such templates are refused as a syntax error.
/// Literals, names and commas do not count: a list of 1000 labels is fine.
pub const MAX_OPERATORS_PER_TAG: usize = 250;

/// Deepest nesting of blocks (`{% if %}`, `{% for %}`...) plus brackets inside a tag. The
/// engine's parser allows 150 levels, but unoptimised builds overflow a 1 MB stack before
/// that; prompts never need more than a handful.
pub const MAX_NESTING: usize = 32;

/// Block statements that need an `{% end… %}` (`set` only in its block form).
const BLOCK_OPENERS: &[&str] = &[
    "if",
    "for",
    "with",
    "filter",
    "autoescape",
    "macro",
    "call",
    "block",
];

/// Block tags eat the newline after them and the indentation before them, so `{% if %}`
/// lines leave no blank lines in the prompt. The template's own final newline is dropped
/// (`keep_trailing_newline` off, the Jinja default).
pub(crate) fn syntax() -> SyntaxConfig {
    SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(false)
        .build()
        .unwrap_or_default()
}

/// A fresh environment: strict undefined (a missing value is an error, not an empty string),
/// no auto-escaping whatever the name (HTML in cells stays literal), fuel-limited, plus a
/// Jinja-compatible `truncate` filter.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(syntax());
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(RENDER_FUEL));
    // Debug info would copy the row's values into every error; positions do not need it.
    env.set_debug(false);
    env.add_filter("truncate", truncate);
    env
}

/// Shared environment for questions about the configuration (which filters exist...).
pub(crate) fn shared() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(environment)
}

/// Whether the environment has a filter called `name`.
pub(crate) fn has_filter(name: &str) -> bool {
    probe("n is filter", name)
}

/// Whether the environment has a test called `name`.
pub(crate) fn has_test(name: &str) -> bool {
    probe("n is test", name)
}

fn probe(expr: &'static str, name: &str) -> bool {
    shared()
        .compile_expression(expr)
        .and_then(|e| e.eval(minijinja::context! { n => name }))
        .is_ok_and(|v| v.is_true())
}

/// Global functions (`range`, `namespace`...).
pub(crate) fn global_names() -> Vec<&'static str> {
    shared().globals().map(|(name, _)| name).collect()
}

/// Filters worth suggesting for a misspelt one; only those the environment really has count.
const FILTER_NAMES: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "count",
    "default",
    "dictsort",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "zip",
];

/// Tests worth suggesting for a misspelt one.
const TEST_NAMES: &[&str] = &[
    "defined",
    "undefined",
    "none",
    "boolean",
    "odd",
    "even",
    "divisibleby",
    "number",
    "integer",
    "float",
    "string",
    "sequence",
    "iterable",
    "mapping",
    "startingwith",
    "endingwith",
    "lower",
    "upper",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "true",
    "false",
];

pub(crate) fn filter_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        FILTER_NAMES
            .iter()
            .copied()
            .filter(|n| has_filter(n))
            .collect()
    })
}

pub(crate) fn test_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| TEST_NAMES.iter().copied().filter(|n| has_test(n)).collect())
}

/// The first place where `source` is too deep for the engine to parse and compile safely
/// ([`MAX_OPERATORS_PER_TAG`], [`MAX_NESTING`]), as a syntax issue. Lexer errors are left to
/// the parser, which reports them better.
pub(crate) fn too_complex(source: &str) -> Option<TemplateIssue> {
    let mut shape = Shape::default();
    for token in tokenize(source, false, syntax()) {
        let (token, span) = token.ok()?;
        if let Some(message) = shape.step(&token, span.start_offset as usize) {
            return Some(TemplateIssue::at(
                source,
                shape.tag_start,
                IssueKind::Syntax,
                message,
                None,
            ));
        }
    }
    None
}

/// Running measurements of the token stream for [`too_complex`].
#[derive(Default)]
struct Shape<'s> {
    tag_start: usize,
    operators: usize,
    blocks: usize,
    brackets: usize,
    in_block_tag: bool,
    keyword: Option<&'s str>,
    assigns: bool,
}

impl<'s> Shape<'s> {
    fn step(&mut self, token: &Token<'s>, offset: usize) -> Option<String> {
        match token {
            Token::VariableStart | Token::BlockStart => {
                *self = Shape {
                    tag_start: offset,
                    blocks: self.blocks,
                    in_block_tag: matches!(token, Token::BlockStart),
                    ..Shape::default()
                };
                return None;
            }
            Token::BlockEnd => {
                if self.keyword == Some("set") && !self.assigns {
                    self.blocks += 1;
                }
            }
            Token::Ident(name) if self.in_block_tag && self.keyword.is_none() => {
                self.keyword = Some(name);
                if BLOCK_OPENERS.contains(name) {
                    self.blocks += 1;
                } else if name.starts_with("end") {
                    self.blocks = self.blocks.saturating_sub(1);
                }
            }
            Token::Assign => self.assigns = true,
            Token::ParenClose | Token::BracketClose | Token::BraceClose => {
                self.brackets = self.brackets.saturating_sub(1);
            }
            Token::TemplateData(_)
            | Token::VariableEnd
            | Token::Str(_)
            | Token::String(_)
            | Token::Int(_)
            | Token::Int128(_)
            | Token::Float(_)
            | Token::Comma
            | Token::Colon => {}
            Token::Ident(name)
                if !matches!(*name, "and" | "or" | "not" | "is" | "in" | "if" | "else") => {}
            other => {
                if matches!(
                    other,
                    Token::ParenOpen | Token::BracketOpen | Token::BraceOpen
                ) {
                    self.brackets += 1;
                }
                self.operators += 1;
                if self.operators > MAX_OPERATORS_PER_TAG {
                    return Some(format!(
                        "This tag is too long (more than {MAX_OPERATORS_PER_TAG} operators); \
                         split it into several `{{% set %}}` steps."
                    ));
                }
            }
        }
        (self.blocks + self.brackets > MAX_NESTING).then(|| {
            format!(
                "The template nests too deeply (more than {MAX_NESTING} levels of blocks \
                 and brackets); flatten it."
            )
        })
    }
}

/// Collects rendered output and refuses to grow past [`MAX_RENDERED_BYTES`].
#[derive(Default)]
pub(crate) struct CappedOutput {
    pub(crate) bytes: Vec<u8>,
}

impl io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > MAX_RENDERED_BYTES {
            return Err(io::Error::other("rendered prompt too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Jinja's `truncate(length=255, killwords=false, end="...", leeway=0)`, counting characters:
/// text longer than `length + leeway` is cut to `length` characters including `end`, at a
/// word boundary unless `killwords`. `leeway` is keyword-only: the engine caps positional
/// arity.
fn truncate(
    value: &Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<&str>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let length = match kwargs.get::<Option<usize>>("length")? {
        Some(l) => l,
        None => length.unwrap_or(255),
    };
    let killwords = match kwargs.get::<Option<bool>>("killwords")? {
        Some(k) => k,
        None => killwords.unwrap_or(false),
    };
    let end = match kwargs.get::<Option<String>>("end")? {
        Some(e) => e,
        None => end.unwrap_or("...").to_owned(),
    };
    let leeway = kwargs.get::<Option<usize>>("leeway")?.unwrap_or(0);
    kwargs.assert_all_used()?;

    let text = match value.as_str() {
        Some(s) => s.to_owned(),
        None => value.to_string(),
    };
    let end_len = end.chars().count();
    if end_len > length {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "truncate: the length must be at least the length of the end text",
        ));
    }
    if text.chars().count() <= length.saturating_add(leeway) {
        return Ok(text);
    }
    let keep: String = text.chars().take(length - end_len).collect();
    let kept = if killwords {
        keep.as_str()
    } else {
        keep.rsplit_once(' ')
            .map_or(keep.as_str(), |(head, _)| head)
    };
    Ok(format!("{kept}{end}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str, text: &str) -> String {
        shared()
            .render_str(template, minijinja::context! { t => text })
            .expect("renders")
    }

    #[test]
    fn truncate_cuts_at_a_word_boundary_and_appends_the_end_text() {
        let t = "The quick brown fox jumps";
        assert_eq!(run("{{ t|truncate(13) }}", t), "The quick...");
        assert_eq!(run("{{ t|truncate(12) }}", t), "The...");
        assert_eq!(run("{{ t|truncate(12, true) }}", t), "The quick...");
        assert_eq!(run("{{ t|truncate(11, true) }}", t), "The quic...");
        assert_eq!(run("{{ t|truncate(11, end='…') }}", t), "The quick…");
        assert_eq!(run("{{ t|truncate(length=255) }}", t), t);
        assert_eq!(run("{{ t|truncate(22, leeway=5) }}", t), t);
    }

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(
            run("{{ t|truncate(5, true, '') }}", "日本語のテキスト"),
            "日本語のテ"
        );
    }

    #[test]
    fn truncate_rejects_unknown_keywords_and_an_end_longer_than_the_length() {
        let env = shared();
        assert!(
            env.render_str("{{ 'abc'|truncate(colour=1) }}", ())
                .is_err()
        );
        assert!(env.render_str("{{ 'abcdef'|truncate(2) }}", ()).is_err());
    }

    #[test]
    fn suggestion_lists_only_hold_names_the_environment_knows() {
        assert!(filter_names().contains(&"truncate"));
        assert!(filter_names().contains(&"upper"));
        assert_eq!(filter_names().len(), FILTER_NAMES.len());
        assert_eq!(test_names().len(), TEST_NAMES.len());
        assert!(!has_filter("nope"));
    }

    #[test]
    fn an_absurdly_long_tag_is_refused_before_parsing() {
        let chain = vec!["a"; MAX_OPERATORS_PER_TAG + 2].join(" ~ ");
        let issue = too_complex(&format!("x\n{{{{ {chain} }}}}")).expect("too long");
        assert_eq!(
            (issue.kind, issue.line, issue.column),
            (IssueKind::Syntax, 2, 1)
        );
        let fits = vec!["a"; MAX_OPERATORS_PER_TAG + 1].join(" ~ ");
        assert!(too_complex(&format!("{{{{ {fits} }}}}{{% if x %}}{{% endif %}}")).is_none());
    }

    #[test]
    fn deep_nesting_of_blocks_or_brackets_is_refused_before_parsing() {
        let deep_ifs = "{% if x %}".repeat(MAX_NESTING + 1);
        assert_eq!(
            too_complex(&deep_ifs).map(|i| i.kind),
            Some(IssueKind::Syntax)
        );
        let deep_parens = format!("{{{{ {}x }}}}", "(".repeat(MAX_NESTING + 1));
        assert!(too_complex(&deep_parens).is_some());
        let mixed = format!(
            "{}{{{{ {}x }}}}",
            "{% for a in b %}".repeat(20),
            "[".repeat(13)
        );
        assert!(too_complex(&mixed).is_some());
    }

    #[test]
    fn closed_blocks_and_assignments_do_not_count_as_nesting() {
        let sequential = "{% if x %}{% set y = 1 %}{% endif %}".repeat(MAX_NESTING * 4);
        assert!(too_complex(&sequential).is_none());
        let set_blocks = "{% set y %}x{% endset %}".repeat(MAX_NESTING * 4);
        assert!(too_complex(&set_blocks).is_none());
        let fits = format!(
            "{}{{{{ {}x{} }}}}{}",
            "{% if x %}".repeat(MAX_NESTING - 2),
            "(".repeat(2),
            ")".repeat(2),
            "{% endif %}".repeat(MAX_NESTING - 2)
        );
        assert!(too_complex(&fits).is_none());
    }

    #[test]
    fn long_flat_lists_are_not_mistaken_for_deep_expressions() {
        let items = vec!["'label'"; 5_000].join(", ");
        assert!(
            too_complex(&format!(
                "{{% for l in [{items}] %}}{{{{ l }}}}{{% endfor %}}"
            ))
            .is_none()
        );
    }
}
