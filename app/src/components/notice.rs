//! Alerts: a coloured box with a message, for errors and information.

use leptos::prelude::*;

use crate::error::AppError;

/// How an alert is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Danger,
}

#[component]
pub fn Notice(tone: Tone, title: String, children: Children) -> impl IntoView {
    let (class, role) = match tone {
        Tone::Info => ("alert alert--info", "status"),
        Tone::Danger => ("alert alert--danger", "alert"),
    };
    view! {
        <div class=class role=role>
            <strong class="alert__title">{title}</strong>
            <div class="alert__body">{children()}</div>
        </div>
    }
}

/// An error from the server, shown where the content would have been.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! {
        <Notice tone=Tone::Danger title="Could not load this page".to_string()>
            {error.to_string()}
        </Notice>
    }
}
