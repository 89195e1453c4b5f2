//! The warning for system parameters no template reads: they are sent nowhere, and it says where
//! to write them or how to stop sending them.

use leptos::prelude::*;

/// "The model never sees the system parameter `language`" (or the parameters, listed).
fn unused_title(keys: &[String]) -> String {
    let listed: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match listed.as_slice() {
        [one] => format!("The model never sees the system parameter {one}"),
        many => format!(
            "The model never sees the system parameters {}",
            many.join(", ")
        ),
    }
}

/// What to do about unused system parameters: where to put them, or how to stop sending them.
fn unused_body(keys: &[String]) -> String {
    let first = keys.first().map_or("key", String::as_str);
    if keys.len() == 1 {
        format!(
            "No template reads it, so it goes nowhere. Write {{{{ system_params.{first} }}}} where the model should see it, or set its column to Ignore on Map columns."
        )
    } else {
        format!(
            "No template reads them, so they go nowhere. Write {{{{ system_params.{first} }}}} (and so on) where the model should see them, or set their columns to Ignore on Map columns."
        )
    }
}

#[component]
pub(super) fn UnusedParams(
    /// The keys of the parameters no template reads.
    unused: Memo<Vec<String>>,
) -> impl IntoView {
    move || {
        let keys = unused.get();
        (!keys.is_empty()).then(|| {
            view! {
                <div class="alert alert--warning" role="status" data-testid="unused-params">
                    <strong class="alert__title">{unused_title(&keys)}</strong>
                    <div class="alert__body">{unused_body(&keys)}</div>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod unused_tests {
    use super::*;

    #[test]
    fn an_unused_parameter_is_named_with_what_to_write() {
        let keys = ["language".to_string()];
        assert_eq!(
            unused_title(&keys),
            "The model never sees the system parameter `language`"
        );
        assert!(
            unused_body(&keys)
                .contains("Write {{ system_params.language }} where the model should see it")
        );
        let two = ["a".to_string(), "b".to_string()];
        assert_eq!(
            unused_title(&two),
            "The model never sees the system parameters `a`, `b`"
        );
    }
}
