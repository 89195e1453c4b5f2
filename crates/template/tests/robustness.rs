//! Arbitrary and hostile input: checking and rendering must answer, never panic or hang.

use rowbench_template::{
    AvailableNames, IssueKind, MAX_NESTING, MAX_OPERATORS_PER_TAG, PromptContext, check,
    default_user_template, render,
};

const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{-",
    "-}}",
    "{%-",
    "-%}",
    "|",
    "||",
    ".",
    "[",
    "]",
    "(",
    ")",
    "'",
    "\"",
    "\\",
    "\0",
    "\n",
    "\r\n",
    "\t",
    " ",
    "é",
    "名前",
    "🦀",
    "\u{202e}",
    "title",
    "row",
    "row[",
    "system_params.",
    "loop",
    "for",
    "if",
    "endif",
    "endfor",
    "set",
    "=",
    "~",
    "*",
    "**",
    "//",
    "in",
    "is",
    "not",
    "defined",
    "range(",
    "999999999999999999999",
    "1e309",
    "-",
    "+",
    ",",
    ":",
    "raw",
    "endraw",
    "include",
    "macro",
    "self",
    "none",
    "truncate",
];

/// A deterministic generator, so a failure reproduces.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).expect("31 bits fit in usize")
    }
}

fn names() -> AvailableNames {
    AvailableNames {
        columns: vec!["title".into(), "名前".into(), "a b".into()],
        params: vec!["lang".into()],
    }
}

fn context() -> PromptContext {
    PromptContext {
        columns: vec![
            ("title".into(), "{{ title }}".into()),
            ("名前".into(), "\0<b>".into()),
            ("a b".into(), String::new()),
        ],
        params: vec![("lang".into(), "fr".into())],
    }
}

fn assert_positions_are_inside(source: &str, issues: &[rowbench_template::TemplateIssue]) {
    let lines = source.split('\n').count();
    for issue in issues {
        assert!(
            issue.line >= 1 && issue.line <= lines,
            "{source:?}: {issue:?}"
        );
        assert!(issue.column >= 1, "{source:?}: {issue:?}");
        assert!(!issue.message.is_empty());
    }
}

#[test]
fn random_fragment_soup_never_panics_when_checked_or_rendered() {
    let mut rng = Lcg(0x5eed);
    for _ in 0..3_000 {
        let len = rng.next() % 12;
        let source: String = (0..len)
            .map(|_| FRAGMENTS[rng.next() % FRAGMENTS.len()])
            .collect();
        let issues = check(&source, &names());
        assert_positions_are_inside(&source, &issues);
        if let Err(issue) = render(&source, &context()) {
            assert_positions_are_inside(&source, std::slice::from_ref(&issue));
        }
    }
}

#[test]
fn lone_delimiters_and_odd_characters_are_syntax_errors_or_text() {
    for source in [
        "{{",
        "{%",
        "}}",
        "%}",
        "{#",
        "{{}}",
        "{%%}",
        "{{ \0 }}",
        "\0",
        "{{ '\u{0}' }}",
    ] {
        let issues = check(source, &names());
        assert_positions_are_inside(source, &issues);
        assert!(
            issues.iter().all(|i| i.kind == IssueKind::Syntax) || issues.is_empty(),
            "{source:?}: {issues:?}"
        );
    }
    assert_eq!(render("}} %} #}", &context()), Ok("}} %} #}".to_owned()));
}

#[test]
fn absurdly_long_expressions_are_refused_instead_of_overflowing_the_stack() {
    // Far past what the engine's recursive compiler survives on a small stack.
    let chain = vec!["title"; 200_000].join(" ~ ");
    let source = format!("{{{{ {chain} }}}}");
    let issues = check(&source, &names());
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].kind, IssueKind::Syntax);
    assert_eq!(
        render(&source, &context()).expect_err("refused").kind,
        IssueKind::Syntax
    );
}

#[test]
fn the_longest_accepted_expression_compiles_on_a_browser_sized_stack() {
    // The worst accepted case: the deepest block nesting the parser allows, around the
    // longest accepted chains.
    let chain = vec!["title"; MAX_OPERATORS_PER_TAG + 1].join(" ~ ");
    let filters = vec!["upper"; MAX_OPERATORS_PER_TAG].join("|");
    let depth = MAX_NESTING;
    let source = format!(
        "{}{{{{ {chain} }}}}{{{{ title|{filters} }}}}{}",
        "{% if title %}".repeat(depth),
        "{% endif %}".repeat(depth)
    );
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            (
                check(&source, &names()),
                render(&source, &context()).map(|s| s.len()),
            )
        })
        .expect("thread starts");
    let (issues, rendered) = handle.join().expect("no stack overflow");
    assert_eq!(issues, vec![]);
    assert!(rendered.is_ok(), "{rendered:?}");
}

#[test]
fn deeply_nested_blocks_are_a_syntax_error_not_a_crash() {
    let source = "{% if 1 %}".repeat(5_000) + &"{% endif %}".repeat(5_000);
    let issues = check(&source, &names());
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].kind, IssueKind::Syntax);
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(900), ")".repeat(900));
    assert_eq!(check(&parens, &names())[0].kind, IssueKind::Syntax);
}

#[test]
fn a_default_template_for_many_columns_checks_and_renders() {
    let headers: Vec<String> = (0..500).map(|i| format!("col {i}")).collect();
    let names = AvailableNames {
        columns: headers.clone(),
        params: vec![],
    };
    let template = default_user_template(&headers);
    assert_eq!(check(&template, &names), vec![]);
    let ctx = PromptContext {
        columns: headers.iter().map(|h| (h.clone(), "v".into())).collect(),
        params: vec![],
    };
    let rendered = render(&template, &ctx).expect("renders");
    assert_eq!(rendered.lines().count(), 500);
}
