//! Which spellings reach a column or a parameter: bare identifiers, `row["…"]`, `system_params.key`.

use std::fmt::Write as _;

use crate::AvailableNames;

/// Names a column can never take as a bare variable, because the template language or this
/// crate already gives them a meaning. Such columns stay reachable through `row["…"]`.
const RESERVED: &[&str] = &[
    // The two containers this crate puts in every context.
    "row",
    "system_params",
    // Literals and operator keywords of the expression grammar.
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    // Names the engine binds itself.
    "loop",
    "self",
    "caller",
    "varargs",
    "kwargs",
    // Global functions: a column would silently shadow them.
    "namespace",
    "range",
    "dict",
    "debug",
];

/// Whether `header` is reachable as a top-level variable (`{{ header }}`): an ASCII letter or
/// `_`, then ASCII letters, digits or `_`, and not one of the reserved names (`row`,
/// `system_params`, `loop`, `true`, `none`, `namespace`, ...).
pub fn is_bare_variable(header: &str) -> bool {
    is_identifier(header) && !RESERVED.contains(&header)
}

/// Whether `name` has identifier syntax, so it can follow a dot (`system_params.name`).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `value` as a template string literal, quoted and escaped so it reads back unchanged.
pub fn string_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                // The template lexer only knows four-digit `\u` escapes; control characters
                // are all in the basic plane so one escape is always enough.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The expression that reads column `header`: the bare name when possible, `row["…"]` otherwise.
pub(crate) fn column_expression(header: &str) -> String {
    if is_bare_variable(header) {
        header.to_owned()
    } else {
        format!("row[{}]", string_literal(header))
    }
}

/// The expression that reads system parameter `key`.
pub(crate) fn param_expression(key: &str) -> String {
    if is_identifier(key) {
        format!("system_params.{key}")
    } else {
        format!("system_params[{}]", string_literal(key))
    }
}

/// What the UI lists as insertable: `title`, `row["Customer E-mail"]`, `system_params.lang`...
/// One entry per column (its simplest spelling), then one per parameter.
pub fn available_variables(names: &AvailableNames) -> Vec<String> {
    names
        .columns
        .iter()
        .map(|h| column_expression(h))
        .chain(names.params.iter().map(|k| param_expression(k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ascii_identifiers_are_bare_variables() {
        for ok in ["title", "_x", "a1", "Customer_Email", "from", "filter"] {
            assert!(is_bare_variable(ok), "{ok}");
        }
    }

    #[test]
    fn headers_with_spaces_dots_unicode_or_reserved_names_are_not_bare_variables() {
        for no in [
            "",
            "1a",
            "Customer E-mail",
            "a.b",
            "Città",
            "名前",
            "row",
            "system_params",
            "loop",
            "true",
            "none",
            "self",
            "namespace",
            "a-b",
        ] {
            assert!(!is_bare_variable(no), "{no}");
        }
    }

    #[test]
    fn string_literals_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(string_literal(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(string_literal("x\ny\u{1}"), "\"x\\ny\\u0001\"");
        assert_eq!(string_literal("名前"), "\"名前\"");
    }

    #[test]
    fn available_variables_list_the_simplest_spelling_of_each_name() {
        let names = AvailableNames {
            columns: vec!["title".into(), "Customer E-mail".into(), "row".into()],
            params: vec!["lang".into()],
        };
        assert_eq!(
            available_variables(&names),
            vec![
                "title",
                r#"row["Customer E-mail"]"#,
                r#"row["row"]"#,
                "system_params.lang"
            ]
        );
    }
}
