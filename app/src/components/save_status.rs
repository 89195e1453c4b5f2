//! The autosave line of the wizard steps: a save on its way, saved, what went wrong, or why
//! nothing is saved.

use leptos::prelude::*;

use crate::error::AppError;

/// What the line says. A step's own problem that keeps it from saving comes first, then a save
/// waiting or on its way: an older answer is never shown as the state of newer edits.
fn line(
    held: Option<String>,
    saving: bool,
    last: Option<Result<(), AppError>>,
    saved: impl FnOnce() -> String,
    idle: &str,
) -> String {
    match (held, saving, last) {
        (Some(reason), _, _) => reason,
        (None, true, _) => "Saving…".to_string(),
        (None, false, Some(Err(error))) => error.to_string(),
        (None, false, Some(Ok(()))) => saved(),
        (None, false, None) => idle.to_string(),
    }
}

#[component]
pub fn SaveStatus(
    /// True while a save waits for typing to pause, or is on its way.
    #[prop(into)]
    saving: Signal<bool>,
    /// The last save's answer; `None` before the first.
    #[prop(into)]
    last: Signal<Option<Result<(), AppError>>>,
    /// What the line says once a save went through, e.g. "All changes saved.".
    #[prop(into)]
    saved: Signal<String>,
    /// What the line says before the first save.
    idle: &'static str,
    /// Why the step saves nothing right now; said before anything else.
    #[prop(optional, into)]
    held: Option<Signal<Option<String>>>,
    /// A paragraph of its own; without it, a span in a row of actions.
    #[prop(optional)]
    paragraph: bool,
) -> impl IntoView {
    let text = move || {
        line(
            held.and_then(|h| h.get()),
            saving.get(),
            last.get(),
            || saved.get(),
            idle,
        )
    };
    if paragraph {
        view! {
            <p class="small muted" role="status" data-testid="save-status">
                {text}
            </p>
        }
        .into_any()
    } else {
        view! {
            <span class="small muted" role="status" data-testid="save-status">
                {text}
            </span>
        }
        .into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(held: Option<&str>, saving: bool, last: Option<Result<(), AppError>>) -> String {
        line(
            held.map(str::to_string),
            saving,
            last,
            || "All changes saved.".to_string(),
            "Changes are saved as you type.",
        )
    }

    #[test]
    fn a_save_on_its_way_hides_the_answer_to_the_one_before() {
        assert_eq!(said(None, true, Some(Ok(()))), "Saving…");
        assert_eq!(said(None, false, Some(Ok(()))), "All changes saved.");
        assert_eq!(said(None, false, None), "Changes are saved as you type.");
        assert_eq!(
            said(
                None,
                false,
                Some(Err(AppError::Invalid("Too long.".into())))
            ),
            "Too long."
        );
    }

    #[test]
    fn why_nothing_is_saved_comes_first() {
        assert_eq!(
            said(Some("Not saved: fix the problem shown above."), true, None),
            "Not saved: fix the problem shown above."
        );
    }
}
