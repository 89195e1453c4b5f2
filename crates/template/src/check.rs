//! Static checking: syntax errors, then every name the template reads that nothing provides.

use std::collections::HashSet;

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::machinery::parse;

use crate::AvailableNames;
use crate::engine;
use crate::issue::{IssueKind, TemplateIssue, quoted};
use crate::names::{column_expression, is_bare_variable, param_expression};
use crate::suggest::closest;

/// Enough to fix a template; past this, more issues are noise (and cost).
const MAX_ISSUES: usize = 50;

/// Every problem in `source` that shows before any row is rendered, in source order:
/// a syntax error (alone: nothing else can be trusted then), or each name that no included
/// column, system parameter, built-in or template assignment provides, each with its position
/// and, when one is close, a suggestion.
///
/// Names the template sets (`{% set %}`, `{% for %}` targets, `loop`, `{% with %}`) are known
/// within their scope. A name only tested with `is defined` / `is undefined` is not reported:
/// that is the template guarding itself.
pub fn check(source: &str, names: &AvailableNames) -> Vec<TemplateIssue> {
    if let Some(issue) = engine::too_complex(source) {
        return vec![issue];
    }
    let tree = match parse(source, "prompt", engine::syntax()) {
        Ok(tree) => tree,
        Err(e) => return vec![TemplateIssue::from_engine(source, &e)],
    };
    // Compilation can reject what parsing accepted; it is cheap, so ask it too.
    if let Err(e) = engine::shared().template_from_str(source) {
        return vec![TemplateIssue::from_engine(source, &e)];
    }
    let mut checker = Checker::new(names);
    checker.stmt(&tree);
    let mut found = checker.found;
    // Positions are computed last, and only for the issues kept: each costs a scan of the
    // source up to it.
    found.sort_by_key(|f| f.offset);
    found.truncate(MAX_ISSUES);
    found
        .into_iter()
        .map(|f| TemplateIssue::at(source, f.offset as usize, f.kind, f.message, f.suggestion))
        .collect()
}

/// The system parameters of `names` that none of `sources` reads: the model never sees them.
/// A template that does not parse reads nothing known, so it hides no warning of the others,
/// but one that reads `system_params` as a whole (a loop over it, `{{ system_params }}`) uses
/// every key.
pub fn unused_params(sources: &[&str], names: &AvailableNames) -> Vec<String> {
    let mut used: HashSet<String> = HashSet::new();
    for source in sources {
        if engine::too_complex(source).is_some() {
            continue;
        }
        let Ok(tree) = parse(source, "prompt", engine::syntax()) else {
            continue;
        };
        let mut checker = Checker::new(names);
        checker.stmt(&tree);
        if checker.reads_all_params {
            return Vec::new();
        }
        used.extend(checker.used_params.iter().map(|k| k.to_string()));
    }
    names
        .params
        .iter()
        .filter(|k| !used.contains(k.as_str()))
        .cloned()
        .collect()
}

/// An issue before its line and column are worked out.
struct Found {
    offset: u32,
    kind: IssueKind,
    message: String,
    suggestion: Option<String>,
}

struct Checker<'s, 'n> {
    names: &'n AvailableNames,
    columns: HashSet<&'n str>,
    params: HashSet<&'n str>,
    globals: Vec<&'static str>,
    /// Names the template itself binds, innermost scope last.
    scopes: Vec<HashSet<&'s str>>,
    /// Lookups known to exist here because an enclosing condition tested `is defined`.
    guards: Vec<Guarded<'s>>,
    found: Vec<Found>,
    /// System parameter keys the template reads by name.
    used_params: HashSet<&'s str>,
    /// Whether it reads `system_params` as a whole (a loop, a filter): then every key is used.
    reads_all_params: bool,
}

impl<'s, 'n> Checker<'s, 'n> {
    fn new(names: &'n AvailableNames) -> Self {
        Checker {
            names,
            columns: names.columns.iter().map(String::as_str).collect(),
            params: names.params.iter().map(String::as_str).collect(),
            globals: engine::global_names(),
            scopes: vec![HashSet::new()],
            guards: Vec::new(),
            found: Vec::new(),
            used_params: HashSet::new(),
            reads_all_params: false,
        }
    }

    fn is_local(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    fn bind(&mut self, name: &'s str) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name);
        }
    }

    /// Whether `name` still means the container this crate provides (not shadowed by a
    /// template assignment).
    fn is_container(&self, name: &str, container: &str) -> bool {
        name == container && !self.is_local(name)
    }

    fn is_known_variable(&self, name: &str) -> bool {
        self.is_local(name)
            || self.guards.contains(&Guarded::Var(name))
            || name == "row"
            || name == "system_params"
            || self.globals.contains(&name)
            || (is_bare_variable(name) && self.columns.contains(name))
    }

    fn report(
        &mut self,
        offset: u32,
        kind: IssueKind,
        message: String,
        suggestion: Option<String>,
    ) {
        let message = match &suggestion {
            Some(s) => format!("{message} Did you mean `{}`?", quoted(s)),
            None => message,
        };
        self.found.push(Found {
            offset,
            kind,
            message,
            suggestion,
        });
    }

    fn body(&mut self, stmts: &'s [Stmt<'s>]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn scoped(&mut self, bound: impl IntoIterator<Item = &'s str>, f: impl FnOnce(&mut Self)) {
        self.scopes.push(bound.into_iter().collect());
        f(self);
        self.scopes.pop();
    }

    #[allow(unreachable_patterns)] // Other crates may turn on minijinja features adding statements.
    fn stmt(&mut self, stmt: &'s Stmt<'s>) {
        match stmt {
            Stmt::Template(t) => self.body(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr),
            Stmt::EmitRaw(_) => {}
            Stmt::ForLoop(f) => {
                self.expr(&f.iter);
                let mut bound = vec!["loop"];
                targets(&f.target, &mut bound);
                self.scoped(bound, |c| {
                    if let Some(filter) = &f.filter_expr {
                        c.expr(filter);
                    }
                    c.body(&f.body);
                });
                self.body(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr);
                let (when_true, when_false) = self.guards_of(&i.expr);
                self.guarded(when_true, |c| c.body(&i.true_body));
                self.guarded(when_false, |c| c.body(&i.false_body));
            }
            Stmt::WithBlock(w) => self.scoped([], |c| {
                for (target, value) in &w.assignments {
                    c.expr(value);
                    c.assign(target);
                }
                c.body(&w.body);
            }),
            Stmt::Set(s) => {
                self.expr(&s.expr);
                self.assign(&s.target);
            }
            Stmt::SetBlock(s) => {
                self.body(&s.body);
                if let Some(filter) = &s.filter {
                    self.expr(filter);
                }
                self.assign(&s.target);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled);
                self.body(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter);
                self.body(&f.body);
            }
            Stmt::Do(d) => self.call(&d.call),
            _ => {}
        }
    }

    /// Binds the names an assignment target introduces; `ns.attr = …` reads `ns` instead.
    fn assign(&mut self, target: &'s Expr<'s>) {
        let mut bound = Vec::new();
        targets(target, &mut bound);
        for name in bound {
            self.bind(name);
        }
        if let Expr::GetAttr(a) = target {
            self.expr(&a.expr);
        }
    }

    /// Kept to a bare dispatch so each level of a deep expression costs a small stack frame;
    /// the work lives in the helpers.
    fn expr(&mut self, expr: &'s Expr<'s>) {
        match expr {
            Expr::Var(v) => self.var(v),
            Expr::Const(_) => {}
            Expr::Slice(s) => self.slice(s),
            Expr::UnaryOp(u) => self.expr(&u.expr),
            Expr::BinOp(b) => self.bin_op(b),
            Expr::Compare(c) => self.compare(c),
            Expr::IfExpr(i) => self.if_expr(i),
            Expr::Filter(f) => self.filter(f),
            Expr::Test(t) => self.test(t),
            Expr::GetAttr(a) => self.get_attr(a),
            Expr::GetItem(g) => self.get_item(g),
            Expr::Call(c) => self.call(c),
            Expr::List(l) => self.exprs(&l.items),
            Expr::Tuple(t) => self.exprs(&t.items),
            Expr::Map(m) => {
                self.exprs(&m.keys);
                self.exprs(&m.values);
            }
        }
    }

    fn exprs(&mut self, items: &'s [Expr<'s>]) {
        for item in items {
            self.expr(item);
        }
    }

    fn var(&mut self, v: &'s ast::Spanned<ast::Var<'s>>) {
        if self.is_container(v.id, "system_params") {
            self.reads_all_params = true;
        }
        if !self.is_known_variable(v.id) {
            self.unknown_variable(v.id, v.span().start_offset);
        }
    }

    fn slice(&mut self, s: &'s ast::Slice<'s>) {
        self.expr(&s.expr);
        for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
            self.expr(part);
        }
    }

    fn bin_op(&mut self, b: &'s ast::BinOp<'s>) {
        self.expr(&b.left);
        // `x is defined and x > 1`: the right side only runs when the left allows it.
        let (when_true, when_false) = self.guards_of(&b.left);
        let guards = match b.op {
            ast::BinOpKind::ScAnd => when_true,
            ast::BinOpKind::ScOr => when_false,
            _ => Vec::new(),
        };
        self.guarded(guards, |c| c.expr(&b.right));
    }

    fn compare(&mut self, c: &'s ast::Compare<'s>) {
        self.expr(&c.expr);
        for op in &c.ops {
            self.expr(&op.expr);
        }
    }

    fn if_expr(&mut self, i: &'s ast::IfExpr<'s>) {
        self.expr(&i.test_expr);
        let (when_true, when_false) = self.guards_of(&i.test_expr);
        self.guarded(when_true, |c| c.expr(&i.true_expr));
        if let Some(f) = &i.false_expr {
            self.guarded(when_false, |c| c.expr(f));
        }
    }

    fn filter(&mut self, f: &'s ast::Spanned<ast::Filter<'s>>) {
        if !engine::has_filter(f.name) {
            let suggestion = closest(
                f.name,
                engine::filter_names().iter().map(|n| (*n, (*n).to_owned())),
            );
            self.report(
                f.span().start_offset,
                IssueKind::UnknownFilter,
                format!("There is no filter named `{}`.", quoted(f.name)),
                suggestion,
            );
        }
        if let Some(e) = &f.expr {
            self.expr(e);
        }
        self.args(&f.args);
    }

    fn test(&mut self, t: &'s ast::Spanned<ast::Test<'s>>) {
        if !engine::has_test(t.name) {
            let suggestion = closest(
                t.name,
                engine::test_names().iter().map(|n| (*n, (*n).to_owned())),
            );
            self.report(
                t.span().start_offset,
                IssueKind::UnknownTest,
                format!("There is no test named `{}`.", quoted(t.name)),
                suggestion,
            );
        }
        let guards_itself = matches!(t.name, "defined" | "undefined")
            && matches!(t.expr, Expr::Var(_) | Expr::GetAttr(_) | Expr::GetItem(_));
        if guards_itself {
            self.guarded_lookup(&t.expr);
        } else {
            self.expr(&t.expr);
        }
        self.args(&t.args);
    }

    fn get_attr(&mut self, a: &'s ast::Spanned<ast::GetAttr<'s>>) {
        // The attribute name ends the span, so it starts its own length before the end.
        let name_offset = a.span().end_offset.saturating_sub(len32(a.name));
        match &a.expr {
            Expr::Var(v) if self.is_container(v.id, "row") => self.column(a.name, name_offset),
            Expr::Var(v) if self.is_container(v.id, "system_params") => {
                self.param(a.name, name_offset);
            }
            other => self.expr(other),
        }
    }

    fn get_item(&mut self, g: &'s ast::GetItem<'s>) {
        let key = match &g.subscript_expr {
            Expr::Const(c) => c.value.as_str().map(|k| (k, c.span().start_offset)),
            _ => None,
        };
        match (&g.expr, key) {
            (Expr::Var(v), Some((name, offset))) if self.is_container(v.id, "row") => {
                self.column(name, offset);
            }
            (Expr::Var(v), Some((name, offset))) if self.is_container(v.id, "system_params") => {
                self.param(name, offset);
            }
            _ => {
                self.expr(&g.expr);
                self.expr(&g.subscript_expr);
            }
        }
    }

    fn guarded(&mut self, guards: Vec<Guarded<'s>>, f: impl FnOnce(&mut Self)) {
        let depth = self.guards.len();
        self.guards.extend(guards);
        f(self);
        self.guards.truncate(depth);
    }

    /// What `cond` proves exists when it is true, and when it is false.
    fn guards_of(&self, cond: &'s Expr<'s>) -> (Vec<Guarded<'s>>, Vec<Guarded<'s>>) {
        match cond {
            Expr::Test(t) if t.name == "defined" => (self.lookup_of(&t.expr), Vec::new()),
            Expr::Test(t) if t.name == "undefined" => (Vec::new(), self.lookup_of(&t.expr)),
            Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOpKind::Not) => {
                let (t, f) = self.guards_of(&u.expr);
                (f, t)
            }
            Expr::BinOp(b) if matches!(b.op, ast::BinOpKind::ScAnd) => {
                let (mut t, _) = self.guards_of(&b.left);
                t.extend(self.guards_of(&b.right).0);
                (t, Vec::new())
            }
            Expr::BinOp(b) if matches!(b.op, ast::BinOpKind::ScOr) => {
                let (_, mut f) = self.guards_of(&b.left);
                f.extend(self.guards_of(&b.right).1);
                (Vec::new(), f)
            }
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// The variable, column or parameter `expr` looks up, if it is that simple.
    fn lookup_of(&self, expr: &'s Expr<'s>) -> Vec<Guarded<'s>> {
        let container = |e: &Expr<'s>| match e {
            Expr::Var(v) if self.is_container(v.id, "row") => Some(true),
            Expr::Var(v) if self.is_container(v.id, "system_params") => Some(false),
            _ => None,
        };
        let keyed = |is_row: bool, key: &'s str| {
            if is_row {
                Guarded::Column(key)
            } else {
                Guarded::Param(key)
            }
        };
        match expr {
            Expr::Var(v) => vec![Guarded::Var(v.id)],
            Expr::GetAttr(a) => container(&a.expr)
                .map(|is_row| keyed(is_row, a.name))
                .into_iter()
                .collect(),
            Expr::GetItem(g) => match (&g.subscript_expr, container(&g.expr)) {
                (Expr::Const(c), Some(is_row)) => c
                    .value
                    .as_str()
                    .map(|key| keyed(is_row, key))
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The operand of `is defined`: only its inner expressions must exist.
    fn guarded_lookup(&mut self, expr: &'s Expr<'s>) {
        match expr {
            Expr::Var(_) => {}
            Expr::GetAttr(a) => match &a.expr {
                Expr::Var(v) if self.is_container(v.id, "row") => {}
                Expr::Var(v) if self.is_container(v.id, "system_params") => {}
                other => self.expr(other),
            },
            Expr::GetItem(g) => {
                match &g.expr {
                    Expr::Var(v)
                        if self.is_container(v.id, "row")
                            || self.is_container(v.id, "system_params") => {}
                    other => self.expr(other),
                }
                self.expr(&g.subscript_expr);
            }
            other => self.expr(other),
        }
    }

    fn call(&mut self, call: &'s ast::Call<'s>) {
        match &call.expr {
            Expr::Var(v) if !self.is_known_variable(v.id) => {
                let suggestion = closest(
                    v.id,
                    self.globals
                        .iter()
                        .map(|g| (*g, (*g).to_owned()))
                        .collect::<Vec<_>>(),
                );
                self.report(
                    v.span().start_offset,
                    IssueKind::UnknownFunction,
                    format!("There is no function named `{}`.", quoted(v.id)),
                    suggestion,
                );
            }
            other => self.expr(other),
        }
        self.args(&call.args);
    }

    fn args(&mut self, args: &'s [CallArg<'s>]) {
        for arg in args {
            match arg {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => self.expr(e),
            }
        }
    }

    fn unknown_variable(&mut self, name: &'s str, offset: u32) {
        let locals: Vec<&'s str> = self.scopes.iter().flatten().copied().collect();
        let names = self.names;
        let candidates = names
            .columns
            .iter()
            .map(|h| (h.as_str(), column_expression(h)))
            .chain(
                names
                    .params
                    .iter()
                    .map(|k| (k.as_str(), param_expression(k))),
            )
            .chain(
                locals
                    .iter()
                    .chain(&["row", "system_params"])
                    .chain(&self.globals)
                    .map(|n| (*n, (*n).to_owned())),
            )
            .collect::<Vec<_>>();
        let suggestion = closest(name, candidates);
        self.report(
            offset,
            IssueKind::UnknownVariable,
            format!(
                "`{}` is not an included column, a system parameter or a name set in this template.",
                quoted(name)
            ),
            suggestion,
        );
    }

    fn column(&mut self, header: &'s str, offset: u32) {
        if self.columns.contains(header) || self.guards.contains(&Guarded::Column(header)) {
            return;
        }
        let names = self.names;
        let suggestion = closest(
            header,
            names.columns.iter().map(|h| (h.as_str(), h.clone())),
        );
        self.report(
            offset,
            IssueKind::UnknownColumn,
            format!("There is no included column named `{}`.", quoted(header)),
            suggestion,
        );
    }

    fn param(&mut self, key: &'s str, offset: u32) {
        self.used_params.insert(key);
        if self.params.contains(key) || self.guards.contains(&Guarded::Param(key)) {
            return;
        }
        let names = self.names;
        let suggestion = closest(key, names.params.iter().map(|k| (k.as_str(), k.clone())));
        self.report(
            offset,
            IssueKind::UnknownParam,
            format!("There is no system parameter named `{}`.", quoted(key)),
            suggestion,
        );
    }
}

/// A lookup an enclosing `is defined` test vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guarded<'s> {
    Var(&'s str),
    Column(&'s str),
    Param(&'s str),
}

/// The plain names an assignment target binds (`x`, `a, b`, `(a, (b, c))`).
fn targets<'s>(target: &'s Expr<'s>, out: &mut Vec<&'s str>) {
    match target {
        Expr::Var(v) => out.push(v.id),
        Expr::Tuple(t) => t.items.iter().for_each(|i| targets(i, out)),
        Expr::List(l) => l.items.iter().for_each(|i| targets(i, out)),
        _ => {}
    }
}

fn len32(s: &str) -> u32 {
    u32::try_from(s.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> AvailableNames {
        AvailableNames {
            columns: ["title", "body", "Customer E-mail", "a.b", "Città", "名前"]
                .map(String::from)
                .to_vec(),
            params: vec!["lang".into(), "tone".into()],
        }
    }

    fn one(source: &str) -> TemplateIssue {
        let issues = check(source, &names());
        assert_eq!(issues.len(), 1, "{issues:#?}");
        issues.into_iter().next().expect("one issue")
    }

    fn clean(source: &str) {
        assert_eq!(check(source, &names()), vec![], "{source}");
    }

    #[test]
    fn a_system_parameter_no_template_reads_is_unused() {
        let names = AvailableNames {
            columns: vec!["text".into()],
            params: vec!["lang".into(), "tone".into(), "region".into()],
        };
        assert_eq!(
            unused_params(
                &[
                    "{{ system_params.lang }}",
                    r#"{{ text }} {{ system_params["tone"] }}"#
                ],
                &names
            ),
            ["region"]
        );
        assert_eq!(
            unused_params(&["{{ text }}"], &names),
            ["lang", "tone", "region"]
        );
    }

    #[test]
    fn a_template_that_reads_every_system_parameter_leaves_none_unused() {
        let names = AvailableNames {
            columns: vec![],
            params: vec!["lang".into(), "tone".into()],
        };
        let all = "{% for k, v in system_params|items %}{{ k }}: {{ v }}\n{% endfor %}";
        assert!(unused_params(&[all, "hi"], &names).is_empty());
        // A loop variable named like the container is the template's own.
        let shadowed = "{% for system_params in [1] %}{{ system_params }}{% endfor %}";
        assert_eq!(unused_params(&[shadowed], &names), ["lang", "tone"]);
    }

    #[test]
    fn a_misspelt_variable_is_reported_with_its_line_column_and_the_closest_name() {
        let issue = one("Hello\n  {{ titel }}");
        assert_eq!(issue.kind, IssueKind::UnknownVariable);
        assert_eq!((issue.line, issue.column), (2, 6));
        assert_eq!(issue.suggestion.as_deref(), Some("title"));
        assert!(issue.message.contains("`titel`"), "{}", issue.message);
        assert!(
            issue.message.ends_with("Did you mean `title`?"),
            "{}",
            issue.message
        );
    }

    #[test]
    fn an_unknown_column_is_reported_with_its_line_and_column() {
        let issue = one(r#"{{ row["Titel"] }}"#);
        assert_eq!(issue.kind, IssueKind::UnknownColumn);
        assert_eq!((issue.line, issue.column), (1, 8));
        assert_eq!(issue.suggestion.as_deref(), Some("title"));
    }

    #[test]
    fn an_unknown_column_through_a_dot_points_at_the_header() {
        let issue = one("x {{ row.bdy }}");
        assert_eq!(issue.kind, IssueKind::UnknownColumn);
        assert_eq!((issue.line, issue.column), (1, 10));
        assert_eq!(issue.suggestion.as_deref(), Some("body"));
    }

    #[test]
    fn a_misspelt_system_parameter_suggests_the_real_key() {
        let issue = one("{{ system_params.lnag }}");
        assert_eq!(issue.kind, IssueKind::UnknownParam);
        assert_eq!((issue.line, issue.column), (1, 18));
        assert_eq!(issue.suggestion.as_deref(), Some("lang"));
        assert_eq!(
            one(r#"{{ system_params["tonee"] }}"#).kind,
            IssueKind::UnknownParam
        );
    }

    #[test]
    fn every_spelling_of_an_available_name_is_clean() {
        clean("{{ title }} {{ row.title }} {{ row['title'] }} {{ row[\"Customer E-mail\"] }}");
        clean("{{ row['a.b'] }} {{ row['Città'] }} {{ row['名前'] }}");
        clean("{{ system_params.lang }} {{ system_params['tone'] }}");
        clean("{% for k, v in row|items %}{{ loop.index }} {{ k }}={{ v }}{% endfor %}");
        clean("{{ range(3)|join(',') }} {% set ns = namespace(n=0) %}{% set ns.n = ns.n + 1 %}");
    }

    #[test]
    fn names_the_template_assigns_are_known_inside_their_scope() {
        clean("{% set x = title|upper %}{{ x }}");
        clean("{% for w in body|split %}{{ w }}{{ loop.index }}{% endfor %}");
        clean("{% for a, (b, c) in [] %}{{ a }}{{ b }}{{ c }}{% else %}none{% endfor %}");
        clean("{% with y = 1, z = y + 1 %}{{ z }}{% endwith %}");
        clean("{% set block %}{{ title }}{% endset %}{{ block }}");
        clean("{% if title %}{% set shown = 1 %}{% endif %}{{ shown }}");
    }

    #[test]
    fn loop_variables_do_not_leak_out_of_their_loop() {
        let issues = check(
            "{% for w in [1] %}{% set inner = w %}{% endfor %}{{ w }}{{ inner }}{{ loop }}",
            &names(),
        );
        let kinds: Vec<_> = issues.iter().map(|i| (i.kind, i.column)).collect();
        assert_eq!(
            kinds,
            vec![
                (IssueKind::UnknownVariable, 53),
                (IssueKind::UnknownVariable, 60),
                (IssueKind::UnknownVariable, 71),
            ]
        );
    }

    #[test]
    fn a_name_is_unknown_before_it_is_set() {
        assert_eq!(
            one("{{ later }}{% set later = 1 %}").kind,
            IssueKind::UnknownVariable
        );
        assert_eq!(
            one("{% set x = x ~ 'a' %}").kind,
            IssueKind::UnknownVariable
        );
    }

    #[test]
    fn a_shadowed_container_is_no_longer_checked_as_columns() {
        clean("{% set row = {'anything': 1} %}{{ row.anything }}");
    }

    #[test]
    fn headers_that_are_not_identifiers_are_not_bare_variables() {
        // `Città` is a header but not an ASCII identifier, so `{{ Citt }}`-like typos and the
        // header itself can only be reached through `row[...]`.
        let issue = one("{{ Customer_Email }}");
        assert_eq!(issue.kind, IssueKind::UnknownVariable);
        assert_eq!(
            issue.suggestion.as_deref(),
            Some(r#"row["Customer E-mail"]"#)
        );
    }

    #[test]
    fn unknown_filters_tests_and_functions_are_reported_where_they_are_named() {
        let f = one("{{ title|uppr }}");
        assert_eq!((f.kind, f.column), (IssueKind::UnknownFilter, 10));
        assert_eq!(f.suggestion.as_deref(), Some("upper"));

        let t = one("{% if title is defnied %}{% endif %}");
        assert_eq!((t.kind, t.column), (IssueKind::UnknownTest, 16));
        assert_eq!(t.suggestion.as_deref(), Some("defined"));

        let c = one("{{ rnage(3) }}");
        assert_eq!((c.kind, c.column), (IssueKind::UnknownFunction, 4));
        assert_eq!(c.suggestion.as_deref(), Some("range"));

        let block = one("{% filter shout %}x{% endfilter %}");
        assert_eq!(block.kind, IssueKind::UnknownFilter);
    }

    #[test]
    fn the_common_filters_are_known() {
        clean(
            "{{ title|upper }}{{ body|truncate(10) }}{{ body|default('-') }}{{ body|trim }}\
             {{ body|replace('a', 'b') }}{{ body|length }}{{ body|lower|title }}",
        );
    }

    #[test]
    fn names_guarded_by_is_defined_are_not_reported() {
        clean("{% if notes is defined %}{{ notes }}{% endif %}");
        clean("{% if notes is not defined %}-{% else %}{{ notes }}{% endif %}");
        clean("{% if row['Notes'] is defined and row['Notes'] != '' %}{{ row.Notes }}{% endif %}");
        clean("{{ system_params.extra if system_params.extra is defined else '' }}");
        clean("{{ x is defined and x }}");
        // The guard ends with its branch.
        assert_eq!(
            one("{% if notes is defined %}{% endif %}{{ notes }}").kind,
            IssueKind::UnknownVariable
        );
        assert_eq!(
            one("{% if notes is defined or 1 %}{{ notes }}{% endif %}").kind,
            IssueKind::UnknownVariable
        );
        clean(
            "{% if row['Notes'] is defined %}x{% endif %}{% if system_params.x is undefined %}y{% endif %}",
        );
        // Only the guarded name is exempt, not what it is computed from.
        assert_eq!(
            one("{% if row[keyy] is defined %}x{% endif %}").kind,
            IssueKind::UnknownVariable
        );
    }

    #[test]
    fn every_unknown_name_is_reported_in_source_order() {
        let issues = check(
            "{{ a1 }}\n{{ row['zz'] }}\n{{ system_params.qq }}",
            &names(),
        );
        let kinds: Vec<_> = issues.iter().map(|i| (i.kind, i.line)).collect();
        assert_eq!(
            kinds,
            vec![
                (IssueKind::UnknownVariable, 1),
                (IssueKind::UnknownColumn, 2),
                (IssueKind::UnknownParam, 3),
            ]
        );
    }

    #[test]
    fn syntax_errors_are_reported_alone_with_their_position_and_reason() {
        let issue = one("ok\n{{ title ");
        assert_eq!(issue.kind, IssueKind::Syntax);
        assert_eq!(issue.line, 2);
        assert!(
            issue.message.starts_with("Syntax error: "),
            "{}",
            issue.message
        );
        assert!(issue.message.ends_with('.'), "{}", issue.message);

        let issue = one("{% if %}{{ titel }}{% endif %}");
        assert_eq!((issue.kind, issue.line), (IssueKind::Syntax, 1));
        assert!(issue.column >= 4, "{issue:?}");

        assert_eq!(one("{% endif %}").kind, IssueKind::Syntax);
        assert_eq!(one("{% macro m() %}{% endmacro %}").kind, IssueKind::Syntax);
        assert_eq!(one("{% include 'other' %}").kind, IssueKind::Syntax);
    }

    #[test]
    fn messages_stay_short_for_huge_names_and_issue_lists_are_capped() {
        let long = "x".repeat(5_000);
        let issue = one(&format!("{{{{ {long} }}}}"));
        assert!(issue.message.len() < 200, "{}", issue.message.len());
        let many = "{{ nope }}".repeat(500);
        assert_eq!(check(&many, &names()).len(), MAX_ISSUES);
    }
}
