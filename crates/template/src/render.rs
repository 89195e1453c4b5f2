//! Rendering a template on one row: building the context and running the engine within its limits.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object};
use minijinja::{Environment, Value};

use crate::PromptContext;
use crate::engine::{self, CappedOutput};
use crate::issue::TemplateIssue;
use crate::names::is_bare_variable;

const TEMPLATE_NAME: &str = "prompt";

/// A template parsed once, to render on many rows.
#[derive(Debug)]
pub struct PreparedTemplate {
    env: Environment<'static>,
    source: String,
}

impl PreparedTemplate {
    /// Parses `source`; a syntax error comes back as a [`IssueKind::Syntax`] issue.
    ///
    /// [`IssueKind::Syntax`]: crate::IssueKind::Syntax
    pub fn new(source: &str) -> Result<Self, TemplateIssue> {
        if let Some(issue) = engine::too_complex(source) {
            return Err(issue);
        }
        let mut env = engine::environment();
        env.add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(|e| TemplateIssue::from_engine(source, &e))?;
        Ok(PreparedTemplate {
            env,
            source: source.to_owned(),
        })
    }

    /// The source this was prepared from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders on one row. See [`render`] for the rules.
    pub fn render(&self, ctx: &PromptContext) -> Result<String, TemplateIssue> {
        let fail = |e: minijinja::Error| TemplateIssue::from_engine(&self.source, &e);
        let template = self.env.get_template(TEMPLATE_NAME).map_err(fail)?;
        let mut out = CappedOutput::default();
        template
            .render_captured_to(root_value(ctx), &mut out)
            .map_err(fail)?;
        // The engine only ever writes whole `str`s, so this cannot fail; stay total anyway.
        Ok(String::from_utf8(out.bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}

/// Renders `source` on one row: exactly the text the model receives.
///
/// - Cells are values, never templates: their text (HTML, `{{ … }}`...) comes out literally;
///   there is no auto-escaping at all.
/// - A name with no value (a column missing from `ctx`, a typo) is an error, never an empty
///   string; an empty cell renders as an empty string. `is defined` and `|default(…)` still
///   work for optional values.
/// - Block tags (`{% … %}`) swallow their own line break and indentation; one trailing newline
///   at the very end of the template is dropped.
/// - Limits: [`RENDER_FUEL`](crate::RENDER_FUEL) engine steps,
///   [`MAX_RENDERED_BYTES`](crate::MAX_RENDERED_BYTES) of output,
///   [`MAX_OPERATORS_PER_TAG`](crate::MAX_OPERATORS_PER_TAG) operators per tag,
///   [`MAX_NESTING`](crate::MAX_NESTING) levels of blocks and brackets. No includes, imports
///   or macros. Single operations are bounded by the engine itself (e.g. `"x" * n` up to
///   100 MB), so memory per render is bounded but not tiny.
///
/// To render many rows, [`PreparedTemplate`] parses once.
pub fn render(source: &str, ctx: &PromptContext) -> Result<String, TemplateIssue> {
    PreparedTemplate::new(source)?.render(ctx)
}

/// The template's root: bare columns, `row` and `system_params`.
fn root_value(ctx: &PromptContext) -> Value {
    let row = OrderedMap::new(&ctx.columns);
    let mut root: BTreeMap<String, Value> = BTreeMap::new();
    for (header, value) in &row.entries {
        if is_bare_variable(header) && !root.contains_key(header) {
            // The first of duplicate headers wins, as in `row[…]`.
            root.insert(header.clone(), value.clone());
        }
    }
    root.insert("row".into(), Value::from_object(row));
    root.insert(
        "system_params".into(),
        Value::from_object(OrderedMap::new(&ctx.params)),
    );
    Value::from(root)
}

/// A string map that iterates in the spreadsheet's column order (`row|items`), unlike the
/// engine's sorted maps.
#[derive(Debug)]
struct OrderedMap {
    entries: Vec<(String, Value)>,
}

impl OrderedMap {
    fn new(pairs: &[(String, String)]) -> Self {
        OrderedMap {
            entries: pairs
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect(),
        }
    }
}

impl Object for OrderedMap {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.entries
                .iter()
                .map(|(k, _)| Value::from(k.as_str()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AvailableNames, IssueKind, check};

    fn ctx(columns: &[(&str, &str)], params: &[(&str, &str)]) -> PromptContext {
        let own = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        PromptContext {
            columns: own(columns),
            params: own(params),
        }
    }

    fn ok(source: &str, ctx: &PromptContext) -> String {
        render(source, ctx).expect("renders")
    }

    #[test]
    fn columns_render_bare_through_row_and_params_through_system_params() {
        let c = ctx(
            &[("title", "Hi"), ("Customer E-mail", "a@b.c")],
            &[("lang", "fr")],
        );
        assert_eq!(
            ok(
                "{{ title }}|{{ row.title }}|{{ row[\"Customer E-mail\"] }}|{{ system_params.lang }}",
                &c
            ),
            "Hi|Hi|a@b.c|fr"
        );
    }

    #[test]
    fn html_in_cells_stays_literal() {
        let c = ctx(&[("body", "<b>&amp; \"x\" 'y'</b>")], &[]);
        assert_eq!(ok("{{ body }}", &c), "<b>&amp; \"x\" 'y'</b>");
        assert_eq!(
            ok("<i>{{ row.body }}</i>", &c),
            "<i><b>&amp; \"x\" 'y'</b></i>"
        );
    }

    #[test]
    fn cell_text_that_looks_like_a_template_is_never_evaluated() {
        let c = ctx(
            &[("body", "{{ 7 * 7 }}{% for x in range(9) %}x{% endfor %}{#")],
            &[],
        );
        assert_eq!(
            ok("{{ body }}", &c),
            "{{ 7 * 7 }}{% for x in range(9) %}x{% endfor %}{#"
        );
    }

    #[test]
    fn empty_cells_render_as_empty_strings() {
        let c = ctx(&[("notes", "")], &[]);
        assert_eq!(ok("[{{ notes }}][{{ row.notes }}]", &c), "[][]");
        assert_eq!(ok("{{ notes|default('-', true) }}", &c), "-");
    }

    #[test]
    fn a_missing_column_is_an_error_not_an_empty_string() {
        let c = ctx(&[("title", "x")], &[]);
        for source in [
            "{{ body }}",
            "a\n{{ row['body'] }}",
            "{{ system_params.lang }}",
        ] {
            let issue = render(source, &c).expect_err(source);
            assert_eq!(issue.kind, IssueKind::Render, "{source}");
            assert!(issue.message.contains("has no value"), "{}", issue.message);
        }
        let issue = render("a\n  {{ row['body'] }}", &c).expect_err("missing");
        assert_eq!((issue.line, issue.column), (2, 6));
        assert_eq!(issue.message, "`row['body']` has no value for this row.");
    }

    #[test]
    fn optional_values_can_still_be_guarded() {
        let c = ctx(&[("title", "x")], &[]);
        assert_eq!(ok("{{ body|default('none') }}", &c), "none");
        assert_eq!(
            ok(
                "{% if body is defined %}{{ body }}{% else %}-{% endif %}",
                &c
            ),
            "-"
        );
    }

    #[test]
    fn unicode_headers_and_values_and_dotted_headers_render() {
        let c = ctx(
            &[("名前", "太郎"), ("Città", "Torino ✓"), ("a.b", "dot")],
            &[],
        );
        assert_eq!(
            ok(
                "{{ row['名前'] }} {{ row[\"Città\"] }} {{ row['a.b'] }}",
                &c
            ),
            "太郎 Torino ✓ dot"
        );
    }

    #[test]
    fn a_one_megabyte_cell_renders_whole() {
        let big = "é".repeat(512 * 1024);
        let c = PromptContext {
            columns: vec![("body".into(), big.clone())],
            params: vec![],
        };
        assert_eq!(ok("<{{ body }}>", &c), format!("<{big}>"));
    }

    #[test]
    fn the_usual_filters_work() {
        let c = ctx(&[("t", "  Hello World  "), ("e", "")], &[]);
        assert_eq!(ok("{{ t|trim|upper }}", &c), "HELLO WORLD");
        assert_eq!(ok("{{ t|trim|truncate(8) }}", &c), "Hello...");
        assert_eq!(
            ok("{{ e|default('x', true) }}{{ nope|default('y') }}", &c),
            "xy"
        );
        assert_eq!(
            ok("{{ t|replace('World', 'there') }}", &c),
            "  Hello there  "
        );
        assert_eq!(ok("{{ t|length }} {{ row|length }}", &c), "15 2");
        assert_eq!(ok("{{ t|trim|lower }}", &c), "hello world");
    }

    #[test]
    fn rows_iterate_in_column_order() {
        let c = ctx(&[("z", "1"), ("a", "2"), ("m x", "3")], &[]);
        assert_eq!(
            ok(
                "{% for k, v in row|items %}{{ k }}={{ v }};{% endfor %}",
                &c
            ),
            "z=1;a=2;m x=3;"
        );
        assert_eq!(ok("{{ row|join(',') }}", &c), "z,a,m x");
    }

    #[test]
    fn block_tags_leave_no_blank_lines_and_the_final_newline_is_dropped() {
        let c = ctx(&[("title", "T"), ("body", "")], &[]);
        let source = "Title: {{ title }}\n  {% if body %}\nBody: {{ body }}\n  {% endif %}\nEnd\n";
        assert_eq!(ok(source, &c), "Title: T\nEnd");
        assert_eq!(ok("a\n\n", &c), "a\n");
    }

    #[test]
    fn duplicate_headers_resolve_to_the_first() {
        let c = ctx(&[("x", "first"), ("x", "second")], &[]);
        assert_eq!(ok("{{ x }} {{ row.x }}", &c), "first first");
    }

    #[test]
    fn reserved_headers_are_reached_only_through_row() {
        let c = ctx(&[("row", "r"), ("loop", "l"), ("true", "t")], &[]);
        assert_eq!(
            ok("{{ row['row'] }}{{ row['loop'] }}{{ row['true'] }}", &c),
            "rlt"
        );
        // Literals keep their meaning even when a header shares the name.
        assert_eq!(ok("{{ true }}", &c), "True");
    }

    #[test]
    fn statement_keywords_that_are_not_reserved_work_as_bare_column_names() {
        let keywords = [
            "for",
            "endfor",
            "endif",
            "elif",
            "set",
            "endset",
            "with",
            "endwith",
            "block",
            "endblock",
            "filter",
            "endfilter",
            "from",
            "import",
            "include",
            "extends",
            "macro",
            "call",
            "raw",
            "endraw",
            "do",
            "autoescape",
            "recursive",
            "continue",
            "break",
            "as",
        ];
        for k in keywords {
            assert!(is_bare_variable(k), "{k}");
            let c = ctx(&[(k, "v")], &[]);
            let source = format!("{{{{ {k} }}}}|{{% if {k} %}}{{{{ {k}|upper }}}}{{% endif %}}");
            assert_eq!(render(&source, &c), Ok("v|V".to_owned()), "{k}");
            let names = AvailableNames {
                columns: vec![k.to_owned()],
                params: vec![],
            };
            assert_eq!(check(&source, &names), vec![], "{k}");
        }
    }

    #[test]
    fn huge_nested_loops_run_out_of_fuel_instead_of_hanging() {
        let issue = render(
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
            &PromptContext::default(),
        )
        .expect_err("stopped");
        assert_eq!(issue.kind, IssueKind::Render);
        assert!(issue.message.contains("too much work"), "{}", issue.message);
    }

    #[test]
    fn output_past_the_size_limit_is_stopped() {
        let issue = render(
            "{% for a in range(40) %}{{ 'x' * 1000000 }}{% endfor %}",
            &PromptContext::default(),
        )
        .expect_err("too large");
        assert_eq!(issue.kind, IssueKind::Render);
        assert!(
            issue.message.contains("larger than 16 MB"),
            "{}",
            issue.message
        );
    }

    #[test]
    fn unknown_filters_fail_rendering_with_their_position() {
        let issue = render("ok\n{{ 'a'|shout }}", &PromptContext::default()).expect_err("fails");
        assert_eq!(
            (issue.kind, issue.line, issue.column),
            (IssueKind::UnknownFilter, 2, 8)
        );
    }

    #[test]
    fn syntax_errors_fail_preparation() {
        let issue = PreparedTemplate::new("{{ x ").expect_err("syntax");
        assert_eq!(issue.kind, IssueKind::Syntax);
    }

    #[test]
    fn a_prepared_template_renders_many_rows_and_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PreparedTemplate>();
        let t = PreparedTemplate::new("{{ n }}").expect("parses");
        for i in 0..3 {
            let c = PromptContext {
                columns: vec![("n".into(), i.to_string())],
                params: vec![],
            };
            assert_eq!(t.render(&c), Ok(i.to_string()));
        }
        assert_eq!(t.source(), "{{ n }}");
    }
}
