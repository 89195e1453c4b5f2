//! Step 1 of the wizard: drop or pick a CSV, watch it upload, then see what Rowbench read:
//! row count, encoding, delimiter, renamed headers, per-column fill rate and samples, the first
//! rows; and give the dataset a name.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::upload::{DatasetView, RenameDataset, draft_dataset};
use crate::components::notice::{ErrorNotice, Notice, Tone};
use crate::components::table_region::TableRegion;

/// What the step is doing right now.
// Only the browser build starts transfers; the server renders the idle state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq)]
enum Transfer {
    Idle,
    Sending { file_name: String, share: f64 },
    Failed { file_name: String, message: String },
}

/// How the file is read; the defaults detect everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// `None`: detect; else `comma`, `semicolon`, `tab` or `pipe`.
    pub delimiter: Option<&'static str>,
    /// Pad short rows and cut long ones instead of refusing the file.
    pub pad_ragged: bool,
}

impl ReadOptions {
    /// The upload address with these options as query parameters.
    // Called when the browser sends a file; the server never does.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn upload_url(self) -> String {
        let mut params = Vec::new();
        if let Some(delimiter) = self.delimiter {
            params.push(format!("delimiter={delimiter}"));
        }
        if self.pad_ragged {
            params.push("ragged=pad".to_string());
        }
        if params.is_empty() {
            "/api/datasets".to_string()
        } else {
            format!("/api/datasets?{}", params.join("&"))
        }
    }
}

#[component]
pub fn UploadStep() -> impl IntoView {
    let stored = Resource::new(|| (), |_| draft_dataset());
    let uploaded = RwSignal::new(None::<DatasetView>);
    let transfer = RwSignal::new(Transfer::Idle);
    let options = RwSignal::new(ReadOptions::default());

    // Browser only: start sending a file the user dropped or picked.
    let start = move |file: Option<send_file::PickedFile>| {
        #[cfg(feature = "hydrate")]
        if let Some(file) = file {
            send_file::start(
                &options.get_untracked().upload_url(),
                file,
                transfer,
                uploaded,
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = file;
    };

    view! {
        <section class="card step-panel" aria-labelledby="step-title">
            <header class="step-panel__head">
                <p class="eyebrow">"Step 1 of 6"</p>
                <h2 id="step-title">"Upload"</h2>
                <p class="lead">
                    "Start from a CSV or TSV file. Rowbench reads it as it arrives and stores every cell exactly."
                </p>
            </header>
            <DropZone transfer start />
            <ReadingOptions options />
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading your dataset…"</p> }
            }>
                {move || Suspend::new(async move {
                    match stored.await {
                        Err(error) => {
                            view! {
                                <ErrorNotice error />
                                <UploadFooter has_file=Signal::derive(|| false) />
                            }
                                .into_any()
                        }
                        Ok(from_draft) => {
                            let has_file = from_draft.is_some();
                            view! {
                                {move || {
                                    uploaded
                                        .get()
                                        .or_else(|| from_draft.clone())
                                        .map(|dataset| view! { <DatasetSummary dataset /> })
                                }}
                                <UploadFooter has_file=Signal::derive(move || {
                                    has_file || uploaded.with(Option::is_some)
                                }) />
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Continue, live once there is a file to map; before that, what it waits for.
#[component]
fn UploadFooter(has_file: Signal<bool>) -> impl IntoView {
    view! {
        <footer class="step-panel__foot">
            <span class="spacer"></span>
            {move || {
                if has_file.get() {
                    view! {
                        <A href="/new/columns" attr:class="btn btn--primary">
                            "Continue: Map columns →"
                        </A>
                    }
                        .into_any()
                } else {
                    view! {
                        <span class="small muted" id="continue-why">
                            "Upload a file to continue."
                        </span>
                        <button
                            type="button"
                            class="btn btn--primary"
                            disabled
                            aria-describedby="continue-why"
                        >
                            "Continue: Map columns →"
                        </button>
                    }
                        .into_any()
                }
            }}
        </footer>
    }
}

#[component]
fn DropZone(
    transfer: RwSignal<Transfer>,
    start: impl Fn(Option<send_file::PickedFile>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let dragging = RwSignal::new(false);
    view! {
        <div
            class="dropzone"
            class:is-dragging=move || dragging.get()
            on:dragover=move |ev| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev| {
                ev.prevent_default();
                dragging.set(false);
                start(send_file::dropped(&ev));
            }
        >
            <label class="dropzone__label">
                <input
                    class="dropzone__input"
                    type="file"
                    accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values"
                    data-testid="file-input"
                    on:change=move |ev| start(send_file::picked(&ev))
                />
                <span class="dropzone__title">"Drop a CSV file here, or " <u>"choose one"</u></span>
                <span class="dropzone__hint">
                    "Comma, semicolon, tab or pipe; UTF-8, UTF-16 or Windows-1252 — all detected."
                </span>
            </label>
            {move || match transfer.get() {
                Transfer::Idle => ().into_any(),
                Transfer::Sending { file_name, share } => {
                    let percent = (share * 100.0).round() as i64;
                    let label = if percent >= 100 {
                        format!("Reading and storing the rows of {file_name}…")
                    } else {
                        format!("Uploading {file_name}… {percent}%")
                    };
                    // Sent in full, the file is still being read and stored on the server.
                    view! {
                        <div class="dropzone__status" role="status">
                            <span>{label}</span>
                            <div
                                class="progress progress--wide"
                                role="progressbar"
                                aria-label="Upload progress"
                                aria-valuemin="0"
                                aria-valuemax="100"
                                aria-valuenow=percent
                            >
                                <div class="progress__bar" style=format!("width: {percent}%")></div>
                            </div>
                        </div>
                    }
                        .into_any()
                }
                Transfer::Failed { file_name, message } => {
                    view! {
                        <Notice tone=Tone::Danger title=format!("Could not read {file_name}")>
                            {message}
                        </Notice>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// The two ways to read a file differently from what detection decides.
#[component]
fn ReadingOptions(options: RwSignal<ReadOptions>) -> impl IntoView {
    view! {
        <details class="reading-options">
            <summary>"Reading options"</summary>
            <div class="reading-options__body">
                <label class="field">
                    <span class="field__label">"Delimiter"</span>
                    <select
                        class="select"
                        on:change=move |ev| {
                            let delimiter = match event_target_value(&ev).as_str() {
                                "comma" => Some("comma"),
                                "semicolon" => Some("semicolon"),
                                "tab" => Some("tab"),
                                "pipe" => Some("pipe"),
                                _ => None,
                            };
                            options.update(|o| o.delimiter = delimiter);
                        }
                    >
                        <option value="detect">"Detect automatically"</option>
                        <option value="comma">"Comma ,"</option>
                        <option value="semicolon">"Semicolon ;"</option>
                        <option value="tab">"Tab"</option>
                        <option value="pipe">"Pipe |"</option>
                    </select>
                    <span class="field__help">"Applies to the next file you upload."</span>
                </label>
                <label class="checkbox">
                    <input
                        type="checkbox"
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            options.update(|o| o.pad_ragged = on);
                        }
                    />
                    " Pad or cut rows that have the wrong number of fields, instead of refusing the file"
                </label>
            </div>
        </details>
    }
}

#[component]
fn DatasetSummary(dataset: DatasetView) -> impl IntoView {
    let rename = ServerAction::<RenameDataset>::new();
    let name = RwSignal::new(dataset.name.clone());
    let saved = rename.value();
    let id = dataset.id;
    let facts = format!(
        "{} rows · {} columns · {} · {} delimiter",
        dataset.row_count,
        dataset.columns.len(),
        dataset.encoding,
        dataset.delimiter_label()
    );
    let renames = dataset.renames.clone();
    let fixed = dataset.fixed_rows;
    // Each table's rows are built inside its region, which takes what it shows.
    let columns = dataset.columns.clone();

    view! {
        <div class="dataset" data-dataset-id=id>
            <form
                class="dataset__name"
                on:submit=move |ev| {
                    ev.prevent_default();
                    rename
                        .dispatch(RenameDataset {
                            id,
                            name: name.get_untracked(),
                        });
                }
            >
                <label class="field__label" for="dataset-name">
                    "Dataset name"
                </label>
                <div class="inline-field">
                    <input
                        id="dataset-name"
                        class="input"
                        maxlength="200"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                    <button class="btn btn--secondary" type="submit">
                        "Save name"
                    </button>
                </div>
                {move || match saved.get() {
                    Some(Ok(_)) => view! { <span class="field__help">"Saved."</span> }.into_any(),
                    Some(Err(error)) => {
                        view! { <span class="field__error">{error.to_string()}</span> }.into_any()
                    }
                    None => ().into_any(),
                }}
            </form>
            <p class="dataset__facts">{format!("{} — {facts}", dataset.file_name)}</p>
            {(!renames.is_empty())
                .then(|| {
                    view! {
                        <Notice tone=Tone::Info title="Some headers were renamed".to_string()>
                            <ul class="plain-list">
                                {renames
                                    .into_iter()
                                    .map(|r| {
                                        let was = if r.original.trim().is_empty() {
                                            "(blank)".to_string()
                                        } else {
                                            format!("\"{}\"", r.original)
                                        };
                                        view! {
                                            <li>
                                                {format!(
                                                    "Column {}: {was} is now \"{}\"",
                                                    r.position,
                                                    r.renamed,
                                                )}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </Notice>
                    }
                })}
            {(fixed > 0)
                .then(|| {
                    view! {
                        <Notice tone=Tone::Info title="Ragged rows were fixed".to_string()>
                            {if fixed == 1 {
                                "1 row had too few or too many fields and was padded or cut."
                                    .to_string()
                            } else {
                                format!(
                                    "{fixed} rows had too few or too many fields and were padded or cut.",
                                )
                            }}
                        </Notice>
                    }
                })}
            <h3 class="section-title">"Columns"</h3>
            <TableRegion label="Columns of the file">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Column"</th>
                            <th scope="col">"Filled"</th>
                            <th scope="col">"Sample values"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {columns
                            .iter()
                            .map(|c| {
                                let bar = (c.fill_rate * 100.0).clamp(0.0, 100.0);
                                let shown = crate::text::percent(c.fill_rate);
                                view! {
                                    <tr>
                                        <td class="strong">{c.name.clone()}</td>
                                        <td class="fill">
                                            <div class="progress" aria-hidden="true">
                                                <div
                                                    class="progress__bar"
                                                    style=format!("width: {bar:.1}%")
                                                ></div>
                                            </div>
                                            <span class="small muted">{shown}</span>
                                        </td>
                                        <td>
                                            {if c.samples.is_empty() {
                                                view! { <span class="muted small">"no values"</span> }
                                                    .into_any()
                                            } else {
                                                view! {
                                                    <div class="samples">
                                                        {c
                                                            .samples
                                                            .iter()
                                                            .map(|s| view! { <span class="chip">{s.clone()}</span> })
                                                            .collect_view()}
                                                    </div>
                                                }
                                                    .into_any()
                                            }}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </TableRegion>
            <h3 class="section-title">{format!("First {} rows", dataset.preview.len())}</h3>
            <TableRegion label="Preview of the first rows" tall=true>
                <table class="table table--data" data-testid="preview">
                    <thead>
                        <tr>
                            <th scope="col" class="num">
                                "Line"
                            </th>
                            {dataset
                                .columns
                                .iter()
                                .map(|c| view! { <th scope="col">{c.name.clone()}</th> })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {dataset
                            .preview
                            .iter()
                            .map(|row| {
                                view! {
                                    <tr>
                                        <td class="num muted">{row.line}</td>
                                        {row
                                            .cells
                                            .iter()
                                            .map(|cell| view! { <td class="cell">{cell.clone()}</td> })
                                            .collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </TableRegion>
        </div>
    }
}

mod send_file {
    //! The browser half of the upload: read the chosen file from the event, send it, report.

    #[cfg(feature = "hydrate")]
    pub type PickedFile = web_sys::File;
    /// On the server no file is ever picked.
    #[cfg(not(feature = "hydrate"))]
    pub type PickedFile = ();

    #[cfg(feature = "hydrate")]
    pub fn picked(ev: &leptos::ev::Event) -> Option<PickedFile> {
        use wasm_bindgen::JsCast;
        let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
        let file = input.files()?.get(0);
        // Let the same file be chosen again after a fix.
        input.set_value("");
        file
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn picked(_: &leptos::ev::Event) -> Option<PickedFile> {
        None
    }

    #[cfg(feature = "hydrate")]
    pub fn dropped(ev: &leptos::ev::DragEvent) -> Option<PickedFile> {
        ev.data_transfer()?.files()?.get(0)
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn dropped(_: &leptos::ev::DragEvent) -> Option<PickedFile> {
        None
    }

    #[cfg(feature = "hydrate")]
    pub fn start(
        url: &str,
        file: PickedFile,
        transfer: leptos::prelude::RwSignal<super::Transfer>,
        uploaded: leptos::prelude::RwSignal<Option<crate::api::upload::DatasetView>>,
    ) {
        use leptos::prelude::*;

        use super::Transfer;

        let file_name = file.name();
        transfer.set(Transfer::Sending {
            file_name: file_name.clone(),
            share: 0.0,
        });
        let progress_name = file_name.clone();
        let sent = crate::upload_client::send(
            url,
            &file,
            move |share| {
                transfer.set(Transfer::Sending {
                    file_name: progress_name.clone(),
                    share,
                })
            },
            move |answer| match answer {
                // The preview shows once the draft points at the file, so the next step
                // (even one opened at once, by address) finds it.
                Ok(dataset) => {
                    leptos::task::spawn_local(async move {
                        match crate::api::upload::use_dataset(dataset.id).await {
                        Ok(()) => {
                            uploaded.set(Some(dataset));
                            transfer.set(Transfer::Idle);
                        }
                        Err(error) => transfer.set(Transfer::Failed {
                            file_name,
                            message: format!("The file was read, but your draft could not be updated: {error}"),
                        }),
                    }
                    })
                }
                Err(message) => {
                    // A ragged file can still be read: say how, right where the error is.
                    let message = if message.contains(" fields but the header has ") {
                        format!(
                            "{message}. To read it anyway, open Reading options and let Rowbench pad or cut such rows."
                        )
                    } else {
                        message
                    };
                    transfer.set(Transfer::Failed { file_name, message });
                }
            },
        );
        if let Err(message) = sent {
            transfer.set(Transfer::Failed {
                file_name: file.name(),
                message,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReadOptions;

    #[test]
    fn reading_options_become_query_parameters_only_when_set() {
        assert_eq!(ReadOptions::default().upload_url(), "/api/datasets");
        let both = ReadOptions {
            delimiter: Some("semicolon"),
            pad_ragged: true,
        };
        assert_eq!(
            both.upload_url(),
            "/api/datasets?delimiter=semicolon&ragged=pad"
        );
    }
}
