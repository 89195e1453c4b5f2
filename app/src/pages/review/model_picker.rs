//! The provider and model to run with, and the note that the offline demo calls no model.

use leptos::prelude::*;

use super::saving::Edits;
use crate::api::review::ProviderChoice;

#[component]
pub(super) fn ModelPicker(
    providers: StoredValue<Vec<ProviderChoice>>,
    /// The chosen provider; a memo, so typing elsewhere never rebuilds the lists.
    provider: Memo<Option<ProviderChoice>>,
    edits: Edits,
) -> impl IntoView {
    let settings = edits.settings;
    view! {
        <h3 class="section-title">"Model"</h3>
        <div class="form-grid">
            <div class="field">
                <label class="field__label" for="provider">
                    "Provider"
                </label>
                <select
                    id="provider"
                    class="select"
                    prop:value=move || settings.with(|s| s.provider.clone())
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        let first_model = providers
                            .with_value(|ps| {
                                ps.iter()
                                    .find(|p| p.id == id)
                                    .and_then(|p| p.models.first())
                                    .map(|m| m.id.clone())
                            });
                        edits
                            .change(|s| {
                                s.provider = id;
                                s.model = first_model.unwrap_or_default();
                            });
                    }
                >
                    {providers
                        .with_value(|ps| {
                            ps.iter()
                                .map(|p| {
                                    view! { <option value=p.id.clone()>{p.label.clone()}</option> }
                                })
                                .collect_view()
                        })}
                </select>
            </div>
            <div class="field">
                <label class="field__label" for="model">
                    "Model"
                </label>
                <select
                    id="model"
                    class="select"
                    prop:value=move || settings.with(|s| s.model.clone())
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        edits.change(|s| s.model = id);
                    }
                >
                    {move || {
                        provider
                            .get()
                            .map(|p| {
                                p.models
                                    .into_iter()
                                    .map(|m| {
                                        view! { <option value=m.id.clone()>{m.label}</option> }
                                    })
                                    .collect_view()
                            })
                    }}
                </select>
            </div>
        </div>
        {move || {
            provider
                .get()
                .filter(|p| p.is_demo)
                .map(|_| {
                    view! {
                        <p class="alert alert--info small" data-testid="demo-note">
                            <strong>"Offline demo: "</strong>
                            "answers are synthetic, schema-valid data made up on this server. No model is called and nothing leaves this machine."
                        </p>
                    }
                })
        }}
    }
}
