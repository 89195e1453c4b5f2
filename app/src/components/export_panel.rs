//! A batch's downloads: CSV, JSON and JSON Lines, with or without the row metadata, and what a
//! CSV does to cells that start like a spreadsheet formula, said in numbers before the download
//! and chosen in words (no cell is ever changed without the page saying so).

use leptos::prelude::*;
use rowbench_recipe::estimate::human_count;

use crate::api::batch::{FormulaCount, formula_cells};
use crate::components::refresh::fetch_in_browser_when;

/// How a CSV treats cells that start with `=`, `+`, `-` or `@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvCells {
    /// A leading `'`, so a spreadsheet shows the text instead of running it.
    ForSpreadsheets,
    /// Every cell exactly as stored.
    AsStored,
}

/// "1,462 cells" / "1 cell".
fn cells(n: u64) -> String {
    format!(
        "{} {}",
        human_count(n),
        if n == 1 { "cell" } else { "cells" }
    )
}

/// Where the formula cells are: "in text (1,440), reason (22)", the three biggest columns.
fn where_they_are(count: &FormulaCount) -> String {
    let mut parts: Vec<String> = count
        .by_column
        .iter()
        .take(3)
        .map(|(name, n)| format!("{name} ({})", human_count(*n)))
        .collect();
    match count.by_column.len().saturating_sub(3) {
        0 => {}
        1 => parts.push("1 more column".to_string()),
        more => parts.push(format!("{more} more columns")),
    }
    parts.join(", ")
}

/// What the count line says, `partial` when the batch is still running.
fn count_line(count: &FormulaCount, partial: bool) -> String {
    let so_far = if partial { "So far, " } else { "" };
    if count.total == 0 {
        let no = if partial { "no" } else { "No" };
        format!(
            "{so_far}{no} cell starts with = + - @, so the CSV holds every cell exactly as stored."
        )
    } else {
        let start = if partial {
            cells(count.total)
        } else {
            crate::text::capitalised(&cells(count.total))
        };
        format!(
            "{so_far}{start} {} with = + - @ (in {}). A spreadsheet would run {} as a formula.",
            if count.total == 1 { "starts" } else { "start" },
            where_they_are(count),
            if count.total == 1 { "it" } else { "them" },
        )
    }
}

/// The export bar of batch `id`. `status` is the batch's live status; `finished` its finished
/// row count, which moves the count along while the batch runs.
#[component]
pub fn ExportPanel(
    id: i64,
    #[prop(into)] status: Signal<String>,
    #[prop(into)] finished: Signal<i64>,
    /// The batch's row count: the count is read again each time a tenth more have finished.
    total_rows: i64,
) -> impl IntoView {
    let with_metadata = RwSignal::new(true);
    let choice = RwSignal::new(CsvCells::ForSpreadsheets);
    let count = RwSignal::new(None::<FormulaCount>);
    // A count reads the whole batch, so the page is not held up for it: it is fetched once the
    // page is live, and again when the metadata columns come or go, the batch changes state, or
    // a tenth more of its rows have finished.
    let step = (total_rows / 10).max(1);
    fetch_in_browser_when(
        move || (with_metadata.get(), status.get(), finished.get() / step),
        move |(metadata, _, _)| formula_cells(id, metadata),
        move |answer| {
            if let Ok(answer) = answer {
                count.set(Some(answer));
            }
        },
    );
    let completed = move || status.with(|s| s == "completed");
    let export_href = move |format: &str| {
        format!(
            "/api/batches/{id}/export?format={format}&metadata={}&formula_guard={}",
            with_metadata.get(),
            choice.get() == CsvCells::ForSpreadsheets
        )
    };
    let total = move || count.with(|c| c.as_ref().map_or(0, |c| c.total));
    view! {
        <div class="batch-export" data-testid="export-panel">
            <div class="batch-export__bar">
                <span class="small muted">
                    {move || {
                        if completed() {
                            "Export the results:"
                        } else {
                            "Export what has finished so far (marked partial):"
                        }
                    }}
                </span>
                <a
                    class="btn btn--secondary btn--sm"
                    href=move || export_href("csv")
                    download
                    rel="external"
                    data-testid="export-csv"
                >
                    "CSV"
                </a>
                <a
                    class="btn btn--ghost btn--sm"
                    href=move || export_href("json")
                    download
                    rel="external"
                    data-testid="export-json"
                >
                    "JSON"
                </a>
                <a
                    class="btn btn--ghost btn--sm"
                    href=move || export_href("jsonl")
                    download
                    rel="external"
                    data-testid="export-jsonl"
                >
                    "JSONL"
                </a>
                <label class="checkbox small">
                    <input
                        type="checkbox"
                        prop:checked=move || with_metadata.get()
                        on:change=move |ev| with_metadata.set(event_target_checked(&ev))
                    />
                    "Row metadata (status, error, tokens, cost)"
                </label>
            </div>
            <fieldset class="export-cells">
                <legend class="small">"Cells that start with = + - @ in the CSV"</legend>
                <p class="small" data-testid="formula-count" aria-live="polite">
                    {move || {
                        count
                            .with(|c| match c {
                                Some(c) => count_line(c, !completed()),
                                None => "Counting the cells that start with = + - @…".to_string(),
                            })
                    }}
                </p>
                <div
                    class="export-cells__choice"
                    hidden=move || {
                        completed() && count.with(|c| c.as_ref().is_some_and(|c| c.total == 0))
                    }
                >
                    <CsvChoice
                        value=CsvCells::ForSpreadsheets
                        choice
                        testid="csv-for-spreadsheets"
                        name="For a spreadsheet"
                        says=Signal::derive(move || match total() {
                            0 => {
                                " (Excel, LibreOffice, Google Sheets): any such cell gets a leading ', which the spreadsheet hides, so it shows the text instead of running it."
                                    .to_string()
                            }
                            n => {
                                format!(
                                    " (Excel, LibreOffice, Google Sheets): those {} get a leading ', which the spreadsheet hides, so it shows the text instead of running it. Recommended.",
                                    cells(n),
                                )
                            }
                        })
                    />
                    <CsvChoice
                        value=CsvCells::AsStored
                        choice
                        testid="csv-as-stored"
                        name="Exactly as stored"
                        says=Signal::derive(move || match total() {
                            0 => " (pandas, R, a database): no cell is changed.".to_string(),
                            n => {
                                format!(
                                    " (pandas, R, a database): no cell is changed. Do not open this file in a spreadsheet: it may run those {} as formulas.",
                                    cells(n),
                                )
                            }
                        })
                    />
                </div>
                <p class="small muted">
                    "JSON and JSONL always hold every cell exactly as stored."
                </p>
            </fieldset>
        </div>
    }
}

/// One way a CSV can hold the formula cells: its radio button, its name, and what it does to
/// them.
#[component]
fn CsvChoice(
    value: CsvCells,
    choice: RwSignal<CsvCells>,
    testid: &'static str,
    name: &'static str,
    says: Signal<String>,
) -> impl IntoView {
    view! {
        <label class="radio small">
            <input
                type="radio"
                name="csv-cells"
                data-testid=testid
                prop:checked=move || choice.get() == value
                on:change=move |_| choice.set(value)
            />
            <span>
                <strong>{name}</strong>
                {move || says.get()}
            </span>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(by_column: &[(&str, u64)]) -> FormulaCount {
        FormulaCount {
            total: by_column.iter().map(|(_, n)| n).sum(),
            by_column: by_column.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            rows: 1_500,
        }
    }

    #[test]
    fn the_count_line_says_how_many_cells_and_where() {
        assert_eq!(
            count_line(&count(&[("text", 1_440), ("reason", 22)]), false),
            "1,462 cells start with = + - @ (in text (1,440), reason (22)). A spreadsheet would run them as a formula."
        );
        assert_eq!(
            count_line(&count(&[("text", 1)]), true),
            "So far, 1 cell starts with = + - @ (in text (1)). A spreadsheet would run it as a formula."
        );
        assert_eq!(
            count_line(&count(&[("a", 4), ("b", 3), ("c", 2), ("d", 1)]), false),
            "10 cells start with = + - @ (in a (4), b (3), c (2), 1 more column). A spreadsheet would run them as a formula."
        );
    }

    #[test]
    fn no_formula_cells_says_nothing_changes() {
        assert_eq!(
            count_line(&count(&[]), false),
            "No cell starts with = + - @, so the CSV holds every cell exactly as stored."
        );
        assert_eq!(
            count_line(&count(&[]), true),
            "So far, no cell starts with = + - @, so the CSV holds every cell exactly as stored."
        );
    }
}
