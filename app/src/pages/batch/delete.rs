//! Deleting a batch, after a confirmation in place; used on the batches list.

use leptos::prelude::*;

use crate::api::batch::delete_batch;

#[component]
pub fn DeleteBatch(id: i64, on_deleted: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let delete = move |_| {
        leptos::task::spawn_local(async move {
            match delete_batch(id).await {
                Ok(()) => on_deleted(),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {move || {
            if confirming.get() {
                view! {
                    <span class="confirm confirm--inline">
                        "Delete it and its results?"
                        <button type="button" class="btn btn--danger btn--sm" on:click=delete>
                            "Delete"
                        </button>
                        <button
                            type="button"
                            class="btn btn--ghost btn--sm"
                            on:click=move |_| confirming.set(false)
                        >
                            "Keep"
                        </button>
                    </span>
                }
                    .into_any()
            } else {
                view! {
                    <button
                        type="button"
                        class="btn btn--ghost btn--sm btn--danger-text"
                        on:click=move |_| confirming.set(true)
                    >
                        "Delete"
                    </button>
                }
                    .into_any()
            }
        }}
        {move || error.get().map(|e| view! { <span class="small field__error">{e}</span> })}
    }
}
