//! The results grid's rows and the reviewer's keyboard: move with ↑/↓ (or j/k), accept with a,
//! reject with r (and an optional reason), fix with e (an editor per field), pick an option of
//! the first enum field with a digit, open the drill-down with Enter. A saved review replaces
//! its line in place and the focus moves on to the next row.
//!
//! The grid is a window of rows (see [`super::window`]) that moves as the reviewer scrolls or
//! steps near either end of it. Its rows are keyed, so a move or a live refresh redraws only the
//! lines that changed: the focused row keeps the focus, and the row at the top of the screen
//! stays where it was.

use std::hash::{DefaultHasher, Hash, Hasher};

use leptos::prelude::*;

use super::editors::{FieldInput, answer_from, draft_text, option_for_digit};
use super::window::{self, Cursor, Edges};
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

/// Where the focus goes once the window has moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Landing {
    First,
    Last,
    /// The `n`th row after this one (the reviewer stepped past the window's end `n` times
    /// before the move was shown).
    After(i64, usize),
    /// The `n`th row before this one.
    Before(i64, usize),
}

impl Landing {
    /// One more step the same way from the same row, or a new landing.
    fn and_step(current: Option<Self>, next: Self) -> Self {
        match (current, next) {
            (Some(Self::After(a, n)), Self::After(b, _)) if a == b => Self::After(a, n + 1),
            (Some(Self::Before(a, n)), Self::Before(b, _)) if a == b => Self::Before(a, n + 1),
            _ => next,
        }
    }
}

/// The filters a window was fetched with: status, review, the sample only, the search.
pub(super) type Filters = (String, String, bool, String);

/// What a window was fetched for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Asked {
    pub cursor: Cursor,
    pub filters: Filters,
}

/// How near either end of the window (in rows) the focus may come before the window moves, so
/// the reviewer stepping through rows never waits at its end.
const STEP_MARGIN: usize = 15;

/// The grid's state, shared by its rows.
#[derive(Clone, Copy)]
pub(super) struct Grid {
    pub id: i64,
    pub page: RwSignal<Result<QueuePage, AppError>>,
    pub cursor: RwSignal<Cursor>,
    pub edges: RwSignal<Edges>,
    /// A move of the window is on its way: no other starts until it is shown.
    pub moving: StoredValue<bool>,
    /// The region the grid scrolls in.
    pub region: NodeRef<leptos::html::Div>,
    /// The row that has the keyboard, kept while its line is drawn again or moved.
    pub current: StoredValue<Option<i64>>,
    /// A new window is being drawn: a row losing the focus now did not lose it to the user.
    pub redrawing: StoredValue<bool>,
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
    /// A window fetched while the reviewer was editing (and the cursor it was fetched for),
    /// shown once they are done.
    pub held: StoredValue<Option<(Asked, Result<QueuePage, AppError>)>>,
    /// The filters of the window shown.
    pub filters: StoredValue<Filters>,
    pub editors: StoredValue<Vec<FieldEditor>>,
    pub can_edit: bool,
}

/// Moves the keyboard to row `row`'s line: at once when it is drawn (so the next key pressed
/// goes to it), else once it is.
pub(super) fn focus_row(row: i64) {
    let selector = format!("tr[data-row=\"{row}\"]");
    #[cfg(feature = "hydrate")]
    if let Ok(Some(element)) = document().query_selector(&selector) {
        focus_element(element);
        return;
    }
    focus_selector(selector);
}

#[cfg(feature = "hydrate")]
fn focus_element(element: web_sys::Element) {
    use wasm_bindgen::JsCast;
    if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
        let _ = element.focus();
    }
}

fn focus_selector(selector: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Ok(Some(element)) = document().query_selector(&selector) {
            focus_element(element);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

/// What identifies a line as drawn: its row and everything shown of it, so a line is drawn again
/// exactly when something of it changed.
pub(super) fn line_key(line: &QueueLine) -> (i64, u64) {
    let mut hasher = DefaultHasher::new();
    line.status.hash(&mut hasher);
    line.cells.hash(&mut hasher);
    line.started.hash(&mut hasher);
    line.finished.hash(&mut hasher);
    line.latency_ms.hash(&mut hasher);
    line.answers.hash(&mut hasher);
    line.model_answers.hash(&mut hasher);
    line.answer
        .as_ref()
        .map(|a| a.to_string())
        .hash(&mut hasher);
    line.review.hash(&mut hasher);
    line.model_changed.hash(&mut hasher);
    line.error.hash(&mut hasher);
    (line.row_index, hasher.finish())
}

impl Grid {
    fn line(&self, row: i64) -> Option<QueueLine> {
        self.page.with_untracked(|p| {
            p.as_ref()
                .ok()
                .and_then(|p| p.lines.iter().find(|l| l.row_index == row).cloned())
        })
    }

    /// Shows a window the table fetched, unless the reviewer is in the middle of a review.
    pub fn show(&self, asked: Asked, page: Result<QueuePage, AppError>) {
        if self.mode.get_untracked() == Mode::Browse && !self.saving.get_untracked() {
            self.put(asked, page);
        } else {
            self.held.set_value(Some((asked, page)));
        }
    }

    /// Draws `page` in place of the window, keeping the screen and the focus where they were;
    /// the rows of other filters start from the top.
    fn put(&self, asked: Asked, page: Result<QueuePage, AppError>) {
        let refiltered = self.filters.with_value(|f| *f != asked.filters);
        if refiltered {
            self.filters.set_value(asked.filters);
        }
        if let Ok(new) = &page {
            let edges = self.page.with_untracked(|old| {
                let old = old.as_ref().map(|p| p.lines.as_slice()).unwrap_or_default();
                let known = if refiltered {
                    Edges::OPEN
                } else {
                    self.edges.get_untracked()
                };
                known.after_fetch(asked.cursor, if refiltered { &[] } else { old }, new)
            });
            self.edges.set(edges);
        }
        #[cfg(feature = "hydrate")]
        let kept = if refiltered {
            if let Some(region) = self.region.get_untracked() {
                region.set_scroll_top(0);
            }
            Screen::default()
        } else {
            self.screen()
        };
        #[cfg(feature = "hydrate")]
        let first = page
            .as_ref()
            .ok()
            .and_then(|p| p.lines.first().map(|l| l.row_index));
        self.redrawing.set_value(true);
        self.page.set(page);
        self.moving.set_value(false);
        #[cfg(feature = "hydrate")]
        self.keep_in_place(kept, first, 8);
        #[cfg(not(feature = "hydrate"))]
        self.redrawing.set_value(false);
    }

    /// Moves the window a step on, if rows come after it and no move is on its way.
    pub fn forward(&self) {
        if self.edges.get_untracked().later {
            let next = self
                .page
                .with_untracked(|p| p.as_ref().ok().and_then(|p| window::forward(&p.lines)));
            self.move_to(next);
        }
    }

    /// Moves the window a step back, if rows come before it and no move is on its way.
    pub fn backward(&self) {
        if self.edges.get_untracked().earlier {
            let next = self
                .page
                .with_untracked(|p| p.as_ref().ok().and_then(|p| window::backward(&p.lines)));
            self.move_to(next);
        }
    }

    fn move_to(&self, next: Option<Cursor>) {
        if self.moving.get_value() {
            return;
        }
        if let Some(next) = next.filter(|c| *c != self.cursor.get_untracked()) {
            self.moving.set_value(true);
            self.cursor.set(next);
        }
    }

    /// Shows the window `cursor` names, from wherever the grid was, and puts the focus on
    /// `landing` once it is there.
    pub fn jump(&self, cursor: Cursor, landing: Landing) {
        self.edges.set(Edges::OPEN);
        self.landing.set(Some(landing));
        self.moving.set_value(cursor != self.cursor.get_untracked());
        self.cursor.set(cursor);
        if !self.moving.get_value() {
            self.land();
        }
    }

    /// Focuses the row after (or before) `row`, moving the window on near either end of it.
    pub fn step(&self, row: i64, forward: bool) {
        let (neighbour, len) = self.page.with_untracked(|p| match p {
            Err(_) => (None, 0),
            Ok(p) => {
                let at = p.lines.iter().position(|l| l.row_index == row);
                let neighbour = at
                    .and_then(|i| {
                        if forward {
                            i.checked_add(1)
                        } else {
                            i.checked_sub(1)
                        }
                    })
                    .and_then(|i| p.lines.get(i).map(|l| (i, l.row_index)));
                (neighbour, p.lines.len())
            }
        });
        match neighbour {
            Some((at, next)) => {
                focus_row(next);
                if forward && len - at <= STEP_MARGIN {
                    self.forward();
                } else if !forward && at < STEP_MARGIN {
                    self.backward();
                }
            }
            None => {
                let edges = self.edges.get_untracked();
                let current = self.landing.get_untracked();
                if forward && edges.later {
                    let landing = Landing::and_step(current, Landing::After(row, 1));
                    self.landing.set(Some(landing));
                    self.forward();
                } else if !forward && edges.earlier {
                    let landing = Landing::and_step(current, Landing::Before(row, 1));
                    self.landing.set(Some(landing));
                    self.backward();
                }
            }
        }
    }

    /// Puts the focus where a move of the window said it should land, once it is there.
    pub fn land(&self) {
        let Some(landing) = self.landing.get_untracked() else {
            return;
        };
        let row = self.page.with_untracked(|p| {
            let lines = p.as_ref().map(|p| p.lines.as_slice()).unwrap_or_default();
            match landing {
                Landing::First => lines.first(),
                Landing::Last => lines.last(),
                Landing::After(row, n) => lines.iter().filter(|l| l.row_index > row).take(n).last(),
                Landing::Before(row, n) => lines
                    .iter()
                    .rev()
                    .filter(|l| l.row_index < row)
                    .take(n)
                    .last(),
            }
            .map(|l| l.row_index)
        });
        // A refresh that came first may not hold the row yet; the move's own window will.
        if row.is_some() || !self.moving.get_value() {
            self.landing.set(None);
        }
        if let Some(row) = row {
            focus_row(row);
        }
    }

    /// Moves the window when the region is scrolled within a screen of either end of it.
    pub fn follow_scroll(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(region) = self.region.get_untracked() {
            let (top, height, total) = (
                region.scroll_top(),
                region.client_height(),
                region.scroll_height(),
            );
            if total - (top + height) < height {
                self.forward();
            } else if top < height {
                self.backward();
            }
        }
    }

    /// The row at the top of the screen (where it is), before a redraw.
    #[cfg(feature = "hydrate")]
    fn screen(&self) -> Screen {
        use wasm_bindgen::JsCast;
        let mut screen = Screen::default();
        let Some(region) = self.region.get_untracked() else {
            return screen;
        };
        let row_of = |element: &web_sys::Element| {
            element
                .get_attribute("data-row")
                .and_then(|r| r.parse::<i64>().ok())
        };
        // The rows under the header are out of sight: the screen starts below its cells, which
        // stick (the thead box itself scrolls away with the table).
        let top = region
            .query_selector("thead th")
            .ok()
            .flatten()
            .map_or_else(
                || region.get_bounding_client_rect().top(),
                |h| h.get_bounding_client_rect().bottom(),
            );
        let Ok(rows) = region.query_selector_all("tr.queue__row") else {
            return screen;
        };
        screen.top = (0..rows.length())
            .filter_map(|i| rows.item(i)?.dyn_into::<web_sys::Element>().ok())
            .find_map(|tr| {
                let rect = tr.get_bounding_client_rect();
                (rect.bottom() > top)
                    .then(|| row_of(&tr).map(|row| (row, rect.top())))
                    .flatten()
            });
        screen
    }

    /// Once the new window is drawn (its first row is), scrolls the region so the row that was
    /// at the top of the screen is there again, and moves on again if the screen is still near
    /// an end.
    #[cfg(feature = "hydrate")]
    fn keep_in_place(&self, kept: Screen, first: Option<i64>, tries: u8) {
        let grid = *self;
        request_animation_frame(move || {
            let Some(region) = grid.region.get_untracked() else {
                grid.redrawing.set_value(false);
                return;
            };
            let find = |row: i64| {
                region
                    .query_selector(&format!("tr[data-row=\"{row}\"]"))
                    .ok()
                    .flatten()
            };
            let drawn_first = region
                .query_selector("tr.queue__row")
                .ok()
                .flatten()
                .and_then(|e| e.get_attribute("data-row"))
                .and_then(|r| r.parse::<i64>().ok());
            if drawn_first != first && tries > 0 {
                grid.keep_in_place(kept, first, tries - 1);
                return;
            }
            if let Some((row, was)) = kept.top
                && let Some(tr) = find(row)
            {
                let moved = tr.get_bounding_client_rect().top() - was;
                if moved.abs() >= 1.0 {
                    region.set_scroll_top(region.scroll_top() + moved.round() as i32);
                }
            }
            grid.redrawing.set_value(false);
            grid.give_back_focus();
            grid.follow_scroll();
        });
    }

    /// Gives the focus back to the row that had the keyboard, if a redraw took it away (moving a
    /// focused line in the page drops its focus): called as soon as the lines change, before
    /// the next key is handled, so no key is lost.
    #[cfg(feature = "hydrate")]
    pub fn give_back_focus(&self) {
        use wasm_bindgen::JsCast;
        let lost = document()
            .active_element()
            .is_none_or(|e| e.tag_name() == "BODY");
        if !lost
            || self.landing.get_untracked().is_some()
            || self.mode.get_untracked() != Mode::Browse
        {
            return;
        }
        let Some(row) = self.current.get_value() else {
            return;
        };
        if let Ok(Some(tr)) = document().query_selector(&format!("tr[data-row=\"{row}\"]"))
            && let Ok(tr) = tr.dyn_into::<web_sys::HtmlElement>()
        {
            let options = web_sys::FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = tr.focus_with_options(&options);
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

    /// Shows the window held back during a review (if any), with `line` as just saved.
    fn release_held(&self, line: Option<QueueLine>) {
        let held = self.held.try_update_value(Option::take).flatten();
        let (asked, mut page) = held.unwrap_or_else(|| {
            let asked = Asked {
                cursor: self.cursor.get_untracked(),
                filters: self.filters.get_value(),
            };
            (asked, self.page.get_untracked())
        });
        if let (Ok(page), Some(line)) = (&mut page, line)
            && let Some(slot) = page
                .lines
                .iter_mut()
                .find(|l| l.row_index == line.row_index)
        {
            *slot = line;
        }
        self.put(asked, page);
    }
}

/// The row at the top of the grid's screen: its index and where it was.
#[cfg(feature = "hydrate")]
#[derive(Debug, Clone, Copy, Default)]
struct Screen {
    top: Option<(i64, f64)>,
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

/// The window's lines, keyed by what they show, then a line saying why there are none.
#[component]
pub(super) fn GridRows(grid: Grid, columns: usize) -> impl IntoView {
    let lines = move || {
        grid.page
            .with(|p| p.as_ref().map(|p| p.lines.clone()).unwrap_or_default())
    };
    let note = move || {
        grid.page.with(|p| match p {
            Err(error) => Some(error.to_string()),
            Ok(p) if p.lines.is_empty() => Some("No rows here.".to_string()),
            Ok(_) => None,
        })
    };
    let body = NodeRef::<leptos::html::Tbody>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(body) = body.get() {
            watch_lines(grid, &body);
        }
    });
    view! {
        <tbody node_ref=body>
            <For
                each=lines
                key=line_key
                children=move |line| view! { <GridRow grid line columns /> }
            />
            {move || {
                note()
                    .map(|note| {
                        view! {
                            <tr>
                                <td colspan="100" class="muted">
                                    {note}
                                </td>
                            </tr>
                        }
                    })
            }}
        </tbody>
    }
}

/// Gives the focus back after every change to the grid's lines: a mutation observer's callback
/// runs right after the change, before the browser handles another key.
#[cfg(feature = "hydrate")]
fn watch_lines(grid: Grid, body: &web_sys::HtmlTableSectionElement) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let callback = Closure::<dyn FnMut()>::new(move || grid.give_back_focus());
    let Ok(observer) = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()) else {
        return;
    };
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    if observer.observe_with_options(body, &options).is_ok() {
        // The callback lives as long as the page's grid; the observer stops with it.
        callback.forget();
        let observer = send_wrapper::SendWrapper::new(observer);
        on_cleanup(move || observer.disconnect());
    }
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
            on:focus=move |_| grid.current.set_value(Some(row))
            on:blur=move |_| {
                if !grid.redrawing.get_value() {
                    grid.current.set_value(None);
                }
            }
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
