//! A wizard step's content, loaded from the draft in the step's one `Suspense`: what it waits
//! for while it loads, and the error where the content would have been if the load fails.

use leptos::prelude::*;

use crate::components::notice::ErrorNotice;
use crate::error::AppError;

#[component]
pub fn StepContent<T, V>(
    page: Resource<Result<T, AppError>>,
    /// What the step says while it loads, e.g. "Loading your prompt…".
    loading: &'static str,
    /// The content for what was loaded.
    show: fn(T) -> V,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=move || {
            view! { <p class="muted">{loading}</p> }
        }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    Ok(page) => show(page).into_any(),
                }
            })}
        </Suspense>
    }
}
