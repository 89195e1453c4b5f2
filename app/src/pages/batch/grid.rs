//! The results grid's rows and the reviewer's keyboard: move with ↑/↓ (or j/k), accept with a,
//! reject with r (and an optional reason), fix with e (an editor per field), pick an option of
//! the first enum field with a digit, open the drill-down with Enter. A saved review replaces
//! its line in place and the focus moves on to the next row, to the next page at the end of one.

use leptos::prelude::*;

use super::editors::{FieldInput, answer_from, draft_text, option_for_digit};
use super::queue::Cursor;
use crate::api::batch::{FieldEditor, QueueLine, QueuePage, review_batch_row};
use crate::error::AppError;

/// What the reviewer is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Browse,
    /// Fixing this row's answer in its editors.
    Fixing(i64),
    /// Typing the reason for rejecting this row.
    Rejecting(i64),
}

/// Where the focus goes once the next page is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Landing {
    First,
    Last,
}

/// The grid's state, shared by its rows.
#[derive(Clone, Copy)]
pub(super) struct Grid {
    pub id: i64,
    pub page: RwSignal<Result<QueuePage, AppError>>,
    pub cursor: RwSignal<Cursor>,
    pub selected: RwSignal<Option<i64>>,
    pub mode: RwSignal<Mode>,
    /// The fixing row's drafts, one per field.
    pub drafts: RwSignal<Vec<String>>,
    pub reason: RwSignal<String>,
    /// A refused review and its row.
    pub problem: RwSignal<Option<(i64, String)>>,
    pub saving: RwSignal<bool>,
    /// Counts the reviews saved, for what shows them elsewhere on the page to refresh.
    pub reviews_saved: RwSignal<u64>,
    pub landing: RwSignal<Option<Landing>>,
    /// A page fetched while the reviewer was editing, shown once they are done.
    pub held: StoredValue<Option<Result<QueuePage, AppError>>>,
    pub editors: StoredValue<Vec<FieldEditor>>,
    pub can_edit: bool,
}

/// Moves the keyboard to row `row`'s line, once it is drawn.
pub(super) fn focus_row(row: i64) {
    focus_selector(format!("tr[data-row=\"{row}\"]"));
}

fn focus_selector(selector: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Ok(Some(element)) = document().query_selector(&selector)
            && let Ok(element) = element.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = element.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

impl Grid {
    fn line(&self, row: i64) -> Option<QueueLine> {
        self.page.with_untracked(|p| {
            p.as_ref()
                .ok()
                .and_then(|p| p.lines.iter().find(|l| l.row_index == row).cloned())
        })
    }

    /// Shows a page the table fetched, unless the reviewer is in the middle of a review.
    pub fn show(&self, page: Result<QueuePage, AppError>) {
        if self.mode.get_untracked() == Mode::Browse && !self.saving.get_untracked() {
            self.page.set(page);
        } else {
            self.held.set_value(Some(page));
        }
    }

    /// Focuses the row after (or before) `row`, paging on at either end.
    pub fn step(&self, row: i64, forward: bool) {
        let (neighbour, first, last, more) = self.page.with_untracked(|p| match p {
            Err(_) => (None, None, None, false),
            Ok(p) => {
                let at = p.lines.iter().position(|l| l.row_index == row);
                let neighbour = at
                    .and_then(|i| {
                        if forward {
                            p.lines.get(i + 1)
                        } else {
                            i.checked_sub(1).and_then(|i| p.lines.get(i))
                        }
                    })
                    .map(|l| l.row_index);
                (
                    neighbour,
                    p.lines.first().map(|l| l.row_index),
                    p.lines.last().map(|l| l.row_index),
                    p.has_more,
                )
            }
        });
        let cursor = self.cursor.get_untracked();
        match (neighbour, forward) {
            (Some(next), _) => focus_row(next),
            (None, true) => {
                if let Some(last) = last.filter(|_| more || matches!(cursor, Cursor::Before(_))) {
                    self.landing.set(Some(Landing::First));
                    self.cursor.set(Cursor::After(last));
                }
            }
            (None, false) => {
                if let Some(first) = first.filter(|_| cursor != Cursor::Start) {
                    self.landing.set(Some(Landing::Last));
                    self.cursor.set(Cursor::Before(first));
                }
            }
        }
    }

    /// Puts the focus where a page change said it should land.
    pub fn land(&self) {
        let Some(landing) = self.landing.get_untracked() else {
            return;
        };
        self.landing.set(None);
        let row = self.page.with_untracked(|p| {
            p.as_ref().ok().and_then(|p| match landing {
                Landing::First => p.lines.first().map(|l| l.row_index),
                Landing::Last => p.lines.last().map(|l| l.row_index),
            })
        });
        if let Some(row) = row {
            focus_row(row);
        }
    }

    pub fn start_fix(&self, row: i64) {
        let Some(line) = self.line(row) else { return };
        if !self.can_edit || !matches!(line.status.as_str(), "succeeded" | "failed") {
            return;
        }
        let drafts = self.editors.with_value(|editors| {
            editors
                .iter()
                .map(|e| draft_text(&e.kind, line.answer.as_ref().and_then(|a| a.get(&e.name))))
                .collect()
        });
        self.drafts.set(drafts);
        self.problem.set(None);
        self.mode.set(Mode::Fixing(row));
        focus_selector(format!("tr[data-row=\"{row}\"] .grid__editor"));
    }

    pub fn start_reject(&self, row: i64) {
        let Some(line) = self.line(row) else { return };
        if !self.can_edit || !matches!(line.status.as_str(), "succeeded" | "failed") {
            return;
        }
        self.reason.set(String::new());
        self.problem.set(None);
        self.mode.set(Mode::Rejecting(row));
        focus_selector(format!("#reject-reason-{row}"));
    }

    /// Leaves the editor or the reason unsaved, the focus back on the row.
    pub fn cancel(&self, row: i64) {
        self.mode.set(Mode::Browse);
        self.problem.set(None);
        self.release_held(None);
        focus_row(row);
    }

    pub fn accept(&self, row: i64) {
        self.save(row, "accept", None, None);
    }

    pub fn save_fix(&self, row: i64) {
        let base = self.line(row).and_then(|l| l.answer);
        let answer = self.editors.with_value(|editors| {
            self.drafts
                .with_untracked(|drafts| answer_from(editors, drafts, base.as_ref()))
        });
        self.save(row, "fix", Some(answer), None);
    }

    pub fn save_reject(&self, row: i64) {
        let reason = self.reason.get_untracked();
        self.save(row, "reject", None, Some(reason));
    }

    /// Sets the first enum field of row `row` to the option digit `key` picks, and saves it: an
    /// acceptance when it is what the model answered.
    pub fn pick(&self, row: i64, key: &str) -> bool {
        let Some(editor) = self
            .editors
            .with_value(|e| e.iter().find(|e| e.kind == "enum").cloned())
        else {
            return false;
        };
        let Some(option) = option_for_digit(&editor.options, key) else {
            return false;
        };
        let Some(line) = self.line(row) else {
            return false;
        };
        if !matches!(line.status.as_str(), "succeeded" | "failed") {
            return false;
        }
        let mut answer = match line.answer {
            Some(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        answer.insert(editor.name, serde_json::Value::String(option));
        self.save(row, "fix", Some(serde_json::Value::Object(answer)), None);
        true
    }

    fn save(
        &self,
        row: i64,
        decision: &'static str,
        answer: Option<serde_json::Value>,
        reason: Option<String>,
    ) {
        if !self.can_edit || self.saving.get_untracked() {
            return;
        }
        let Some(line) = self.line(row) else { return };
        if !matches!(line.status.as_str(), "succeeded" | "failed") {
            self.problem.set(Some((
                row,
                format!(
                    "Row {} has not finished yet; review it once it has an answer or an error.",
                    row + 1
                ),
            )));
            return;
        }
        let grid = *self;
        grid.saving.set(true);
        let answer = answer.map(|a| a.to_string());
        leptos::task::spawn_local(async move {
            let saved = review_batch_row(grid.id, row, decision.to_string(), answer, reason).await;
            grid.saving.set(false);
            match saved {
                Ok(line) => {
                    grid.reviews_saved.update(|n| *n += 1);
                    grid.mode.set(Mode::Browse);
                    grid.problem.set(None);
                    grid.release_held(Some(line));
                    grid.step(row, true);
                }
                Err(error) => {
                    grid.problem.set(Some((row, error.to_string())));
                    if grid.mode.get_untracked() == Mode::Browse {
                        focus_row(row);
                    }
                }
            }
        });
    }

    /// Shows the page held back during a review (if any), with `line` as just saved.
    fn release_held(&self, line: Option<QueueLine>) {
        let held = self.held.try_update_value(Option::take).flatten();
        let mut page = held.unwrap_or_else(|| self.page.get_untracked());
        if let (Ok(page), Some(line)) = (&mut page, line)
            && let Some(slot) = page
                .lines
                .iter_mut()
                .find(|l| l.row_index == line.row_index)
        {
            *slot = line;
        }
        self.page.set(page);
    }
}

/// The keys a focused row answers to; false for any other, which is left to the browser.
fn browse_key(grid: Grid, row: i64, ev: &leptos::ev::KeyboardEvent) -> bool {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return false;
    }
    match ev.key().as_str() {
        "ArrowDown" | "j" => grid.step(row, true),
        "ArrowUp" | "k" => grid.step(row, false),
        "Enter" | "o" => grid.selected.set(Some(row)),
        "a" if grid.can_edit => grid.accept(row),
        "e" | "f" if grid.can_edit => grid.start_fix(row),
        "r" if grid.can_edit => grid.start_reject(row),
        key if grid.can_edit => return grid.pick(row, key),
        _ => return false,
    }
    true
}

fn review_badge(review: Option<&str>) -> (&'static str, &'static str) {
    match review {
        Some("accepted") => ("badge--success", "accepted"),
        Some("fixed") => ("badge--info", "fixed"),
        Some("rejected") => ("badge--danger", "rejected"),
        _ => ("", ""),
    }
}

fn status_tone(status: &str) -> &'static str {
    match status {
        "succeeded" => "badge--success",
        "failed" => "badge--danger",
        "running" => "badge--info",
        "cancelled" => "badge--muted",
        _ => "badge--neutral",
    }
}

/// One of a row's review buttons; out of the Tab order, since the row's keys do the same.
#[component]
fn RowAction(
    row: i64,
    label: &'static str,
    key: &'static str,
    glyph: &'static str,
    act: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="btn btn--ghost btn--xs"
            title=format!("{label} ({key})")
            aria-label=format!("{label} row {}", row + 1)
            tabindex="-1"
            on:click=move |ev| {
                ev.stop_propagation();
                act();
            }
        >
            {glyph}
        </button>
    }
}

#[component]
pub(super) fn GridRows(grid: Grid, page: QueuePage, columns: usize) -> impl IntoView {
    if page.lines.is_empty() {
        return view! {
            <tbody>
                <tr>
                    <td colspan="100" class="muted">
                        "No rows here."
                    </td>
                </tr>
            </tbody>
        }
        .into_any();
    }
    view! {
        <tbody>
            {page
                .lines
                .into_iter()
                .map(|line| view! { <GridRow grid line columns /> })
                .collect_view()}
        </tbody>
    }
    .into_any()
}

#[component]
fn GridRow(grid: Grid, line: QueueLine, columns: usize) -> impl IntoView {
    let row = line.row_index;
    let reviewable = matches!(line.status.as_str(), "succeeded" | "failed");
    let fixing = move || grid.mode.get() == Mode::Fixing(row);
    let rejecting = move || grid.mode.get() == Mode::Rejecting(row);
    let (review_tone, review_text) = review_badge(line.review.as_deref());
    let review_cell = line.review.clone().map(|_| {
        view! { <span class=format!("badge {review_tone}")>{review_text}</span> }
    });
    let changed = line.model_changed.then(|| {
        view! {
            <span
                class="badge badge--warning"
                title="The model answered this row again after it was reviewed"
            >
                "model changed"
            </span>
        }
    });
    let answers = line.answers.clone();
    let model_answers = line.model_answers.clone();
    let editors = grid.editors.get_value();
    let answer_cells = answers
        .into_iter()
        .zip(model_answers)
        .zip(editors)
        .enumerate()
        .map(|(index, ((text, model), editor))| {
            let title = match &model {
                Some(model) => format!("{text}\nThe model answered: {model}"),
                None => text.clone(),
            };
            let is_fixed = model.is_some();
            let shown = text.clone();
            view! {
                <td class="truncate grid__answer" class:is-fixed=is_fixed title=title>
                    {move || {
                        if fixing() {
                            view! { <FieldInput grid row index editor=editor.clone() /> }.into_any()
                        } else {
                            view! { <span>{shown.clone()}</span> }.into_any()
                        }
                    }}
                </td>
            }
        })
        .collect_view();
    let actions = (grid.can_edit && reviewable).then(|| {
        view! {
            <span class="grid__actions">
                {move || {
                    if fixing() {
                        view! {
                            <button
                                type="button"
                                class="btn btn--primary btn--xs"
                                disabled=move || grid.saving.get()
                                on:click=move |ev| {
                                    ev.stop_propagation();
                                    grid.save_fix(row);
                                }
                            >
                                "Save fix"
                            </button>
                            <button
                                type="button"
                                class="btn btn--ghost btn--xs"
                                on:click=move |ev| {
                                    ev.stop_propagation();
                                    grid.cancel(row);
                                }
                            >
                                "Cancel"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! {
                            <RowAction
                                row
                                label="Accept"
                                key="a"
                                glyph="✓"
                                act=move || grid.accept(row)
                            />
                            <RowAction
                                row
                                label="Fix"
                                key="e"
                                glyph="✎"
                                act=move || grid.start_fix(row)
                            />
                            <RowAction
                                row
                                label="Reject"
                                key="r"
                                glyph="✕"
                                act=move || grid.start_reject(row)
                            />
                        }
                            .into_any()
                    }
                }}
            </span>
        }
    });
    let problem = move || {
        grid.problem
            .get()
            .filter(|(r, _)| *r == row)
            .map(|(_, message)| message)
    };
    view! {
        <tr
            class="queue__row"
            class:is-selected=move || grid.selected.get() == Some(row)
            class:is-editing=fixing
            tabindex="0"
            data-row=row
            data-testid="queue-row"
            data-review=line.review.clone().unwrap_or_default()
            on:click=move |_| {
                if !fixing() {
                    grid.selected.set(Some(row))
                }
            }
            on:keydown=move |ev| {
                let on_row = ev.target() == ev.current_target();
                let handled = match grid.mode.get_untracked() {
                    _ if !on_row => false,
                    Mode::Browse => browse_key(grid, row, &ev),
                    Mode::Rejecting(rejecting) if rejecting == row => {
                        match ev.key().as_str() {
                            "Enter" => {
                                grid.save_reject(row);
                                true
                            }
                            "Escape" => {
                                grid.cancel(row);
                                true
                            }
                            _ => false,
                        }
                    }
                    _ => false,
                };
                if handled {
                    ev.prevent_default();
                }
            }
        >
            <td class="num">{row + 1}</td>
            {line
                .cells
                .into_iter()
                .map(|k| {
                    let full = k.clone();
                    view! {
                        <td class="truncate" title=full>
                            {k}
                        </td>
                    }
                })
                .collect_view()}
            <td>
                <span class=format!(
                    "badge {}",
                    status_tone(&line.status),
                )>{line.status.clone()}</span>
            </td>
            <td class="grid__review" data-testid="review-cell">
                {review_cell}
                {changed}
                {actions}
            </td>
            {answer_cells}
            <td class="muted small">{line.started.clone().unwrap_or_default()}</td>
            <td class="muted small" title=line.error.clone().unwrap_or_default()>
                {line.finished.clone().unwrap_or_default()}
            </td>
            <td class="num">{line.latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}</td>
        </tr>
        {move || {
            rejecting()
                .then(|| {
                    view! {
                        <tr class="grid__note">
                            <td colspan=columns>
                                <label class="grid__reason">
                                    <span>
                                        {format!("Reject row {}: why? (optional)", row + 1)}
                                    </span>
                                    <input
                                        id=format!("reject-reason-{row}")
                                        class="input input--sm"
                                        maxlength="2000"
                                        placeholder="Enter rejects, Escape goes back"
                                        prop:value=move || grid.reason.get()
                                        on:input=move |ev| grid.reason.set(event_target_value(&ev))
                                        on:keydown=move |ev| match ev.key().as_str() {
                                            "Enter" => {
                                                ev.prevent_default();
                                                grid.save_reject(row);
                                            }
                                            "Escape" => {
                                                ev.prevent_default();
                                                ev.stop_propagation();
                                                grid.cancel(row);
                                            }
                                            _ => {}
                                        }
                                    />
                                </label>
                            </td>
                        </tr>
                    }
                })
        }}
        {move || {
            problem()
                .map(|message| {
                    view! {
                        <tr class="grid__note grid__note--error" role="alert">
                            <td colspan=columns>{message}</td>
                        </tr>
                    }
                })
        }}
    }
}
