//! The frame every wizard step sits in: its number, title and purpose, then its content, then
//! Back and Continue.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::wizard_step::WizardStep;

#[component]
pub fn StepFrame(
    step: WizardStep,
    children: Children,
    /// Replaces Continue (the last steps have their own main button).
    #[prop(optional)]
    no_continue: bool,
) -> impl IntoView {
    view! {
        <section class="card step-panel" aria-labelledby="step-title">
            <header class="step-panel__head">
                <p class="eyebrow">
                    {format!("Step {} of {}", step.number(), WizardStep::ALL.len())}
                </p>
                <h2 id="step-title">{step.label()}</h2>
                <p class="lead">{step.summary()}</p>
            </header>
            {children()}
            <footer class="step-panel__foot">
                {step
                    .previous()
                    .map(|prev| {
                        view! {
                            <A href=format!("/new/{}", prev.slug()) attr:class="btn btn--ghost">
                                {format!("← Back: {}", prev.label())}
                            </A>
                        }
                    })} <span class="spacer"></span>
                {step
                    .next()
                    .filter(|_| !no_continue)
                    .map(|next| {
                        view! {
                            <A href=format!("/new/{}", next.slug()) attr:class="btn btn--primary">
                                {format!("Continue: {} →", next.label())}
                            </A>
                        }
                    })}
            </footer>
        </section>
    }
}
