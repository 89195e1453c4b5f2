//! Review in a spreadsheet: download the batch's review sheet, fill it in Excel or Sheets, upload
//! it back. The upload is checked first and the page says what it would do and what is wrong,
//! line and column; only then does the reviewer apply it (the valid lines alone, if they choose).

use leptos::prelude::*;
use rowbench_workbench::review_sheet::{SheetOutcome, SheetProblem};

/// The most problems listed on the page; the rest are counted.
const SHOWN_PROBLEMS: usize = 50;

/// Where the sheet upload is (it moves only in the browser).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Stage {
    Idle,
    Sending,
    /// Checked: what applying would do.
    Checked(SheetOutcome),
    Applied(SheetOutcome),
    Failed(String),
}

#[component]
pub(super) fn ReviewSheet(
    id: i64,
    /// Bumped once a sheet was applied: the grid and the accuracy read again.
    sheet_applied: RwSignal<u64>,
) -> impl IntoView {
    let stage = RwSignal::new(Stage::Idle);
    let input = NodeRef::<leptos::html::Input>::new();
    // Sends the chosen file with `apply` (check, all or valid).
    let send = move |apply: &'static str| {
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = input
                .get_untracked()
                .and_then(|i| i.files())
                .and_then(|files| files.get(0))
            else {
                stage.set(Stage::Failed("Choose the filled sheet first.".into()));
                return;
            };
            stage.set(Stage::Sending);
            let url = format!("/api/batches/{id}/review-sheet?apply={apply}");
            let sent = crate::upload_client::send_raw(&url, &file, move |status, text| {
                let next = match (status, serde_json::from_str::<SheetOutcome>(&text)) {
                    (200, Ok(outcome)) if outcome.applied => {
                        sheet_applied.update(|n| *n += 1);
                        Stage::Applied(outcome)
                    }
                    (200, Ok(outcome)) => Stage::Checked(outcome),
                    _ => Stage::Failed(crate::upload_client::refusal(status, &text)),
                };
                stage.set(next);
            });
            if let Err(message) = sent {
                stage.set(Stage::Failed(message));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (apply, input, id, sheet_applied);
    };
    view! {
        <section class="card sheet" data-testid="review-sheet" aria-labelledby="sheet-title">
            <h2 id="sheet-title" class="section-title">
                "Review in a spreadsheet"
            </h2>
            <p class="small muted">
                "Download the sheet, write accept or reject under verdict (a reason if you like) or a right answer under fix_<field>, then upload it here. Nothing is applied before you see what it does."
            </p>
            <div class="sheet__actions">
                <a
                    class="btn btn--secondary btn--sm"
                    href=format!("/api/batches/{id}/review-sheet")
                    download
                    data-testid="sheet-download"
                >
                    "Download the review sheet (CSV)"
                </a>
                <label class="btn btn--secondary btn--sm sheet__pick">
                    "Upload a filled sheet…"
                    <input
                        type="file"
                        accept=".csv,text/csv"
                        class="visually-hidden"
                        node_ref=input
                        data-testid="sheet-file"
                        on:change=move |_| send("check")
                    />
                </label>
            </div>
            {move || match stage.get() {
                Stage::Idle => ().into_any(),
                Stage::Sending => {
                    view! { <p class="muted small">"Reading the sheet…"</p> }.into_any()
                }
                Stage::Failed(message) => {
                    view! {
                        <p class="alert alert--danger small" role="alert">
                            {message}
                        </p>
                    }
                        .into_any()
                }
                Stage::Applied(outcome) => {
                    let left = outcome.problems.len();
                    view! {
                        <p
                            class="alert alert--success small"
                            role="status"
                            data-testid="sheet-result"
                        >
                            {format!("Applied: {}.", outcome.summary)}
                            {(left > 0)
                                .then(|| {
                                    format!(
                                        " {left} {} with problems left as they were.",
                                        if left == 1 { "line" } else { "lines" },
                                    )
                                })}
                        </p>
                    }
                        .into_any()
                }
                Stage::Checked(outcome) => view! { <Checked outcome send /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Checked(outcome: SheetOutcome, send: impl Fn(&'static str) + Copy + 'static) -> impl IntoView {
    let valid = outcome.fixed + outcome.accepted + outcome.rejected;
    let problems = outcome.problems.len();
    let headline = if problems == 0 {
        format!("The sheet is ready: {}.", outcome.summary)
    } else {
        format!(
            "The sheet has {problems} {} (listed below); its valid lines would apply {}.",
            if problems == 1 { "problem" } else { "problems" },
            outcome.summary
        )
    };
    let button = match (problems, valid) {
        (_, 0) => None,
        (0, _) => Some(view! {
            <button
                type="button"
                class="btn btn--primary btn--sm"
                data-testid="sheet-apply"
                on:click=move |_| send("all")
            >
                "Apply"
            </button>
        }
        .into_any()),
        _ => Some(view! {
            <button
                type="button"
                class="btn btn--primary btn--sm"
                data-testid="sheet-apply"
                on:click=move |_| send("valid")
            >
                {format!("Apply the {valid} valid {}", if valid == 1 { "line" } else { "lines" })}
            </button>
        }
        .into_any()),
    };
    let more = problems.saturating_sub(SHOWN_PROBLEMS);
    view! {
        <div class="sheet__check" data-testid="sheet-check">
            <p class="small">{headline}</p>
            {(problems > 0)
                .then(|| {
                    view! {
                        <table class="table sheet__problems" aria-label="Problems in the sheet">
                            <thead>
                                <tr>
                                    <th scope="col" class="num">
                                        "Line"
                                    </th>
                                    <th scope="col">"Column"</th>
                                    <th scope="col">"Problem"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {outcome
                                    .problems
                                    .into_iter()
                                    .take(SHOWN_PROBLEMS)
                                    .map(|SheetProblem { line, column, message }| {
                                        view! {
                                            <tr data-testid="sheet-problem">
                                                <td class="num">{line}</td>
                                                <td>
                                                    <code>{column}</code>
                                                </td>
                                                <td>{message}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                })}
            {(more > 0)
                .then(|| view! { <p class="small muted">{format!("…and {more} more.")}</p> })}
            <div class="sheet__actions">{button}</div>
        </div>
    }
}
