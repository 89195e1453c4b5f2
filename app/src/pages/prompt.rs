//! Step 3 of the wizard: the system prompt and the user-message template, checked as they are
//! typed, previewed on any row exactly as the model will receive them, and saved as they change.

mod preview;
mod templates;
mod unused;

use leptos::prelude::*;
use leptos_router::components::A;
use rowbench_recipe::{PromptDraft, PromptPart, available_names};

use self::preview::PromptPreview;
use self::templates::{AvailableList, TemplateField, area_id};
use self::unused::UnusedParams;
use crate::api::prompt::{PromptPage, SavePrompt, draft_prompt};
use crate::components::debounce::Debounced;
use crate::components::insert::{focus_at, insert_at, selection};
use crate::components::notice::{Notice, Tone};
use crate::components::save_status::SaveStatus;
use crate::components::step_content::StepContent;
use crate::components::step_frame::StepFrame;
use crate::wizard_step::WizardStep;

#[component]
pub fn PromptStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_prompt());
    view! {
        <StepFrame step=WizardStep::Prompt>
            <StepContent
                page
                loading="Loading your prompt…"
                show=|page| match page {
                    None => view! { <UploadFirst /> }.into_any(),
                    Some(page) => view! { <PromptEditor page /> }.into_any(),
                }
            />
        </StepFrame>
    }
}

/// Shown by the steps that need a file when none was uploaded yet.
#[component]
pub fn UploadFirst() -> impl IntoView {
    view! {
        <Notice tone=Tone::Info title="Upload a file first".to_string()>
            "This step works on the columns of your CSV. "
            <A href="/new/upload">"Go to Upload"</A>
        </Notice>
    }
}

#[component]
fn PromptEditor(page: PromptPage) -> impl IntoView {
    let PromptPage {
        mapping,
        prompt,
        generated,
        row_count,
        sample,
    } = page;
    let names = available_names(&mapping);
    let default_prompt = PromptDraft::default_for(&mapping);
    let mapping = StoredValue::new(mapping);
    let system = RwSignal::new(prompt.system);
    let user = RwSignal::new(prompt.user);
    let template = move |part: PromptPart| match part {
        PromptPart::System => system,
        PromptPart::User => user,
    };

    let save = ServerAction::<SavePrompt>::new();
    let saver = Debounced::new(400, move || {
        save.dispatch(SavePrompt {
            prompt: PromptDraft {
                system: system.get_untracked(),
                user: user.get_untracked(),
            },
        });
    });
    // A generated default is saved at once, so the draft holds the prompt the user sees.
    if generated {
        Effect::new(move |first: Option<()>| {
            if first.is_none() {
                saver.fire_now();
            }
        });
    }

    let names_for_unused = names.clone();
    let unused = Memo::new(move |_| {
        rowbench_template::unused_params(&[&system.get(), &user.get()], &names_for_unused)
    });
    let names_for_issues = names.clone();
    let issues = Memo::new(move |_| {
        let system_issues = rowbench_template::check(&system.get(), &names_for_issues);
        let user_issues = rowbench_template::check(&user.get(), &names_for_issues);
        (system_issues, user_issues)
    });

    let edited = move |part: PromptPart, value: String| {
        template(part).set(value);
        saver.trigger();
    };
    // A chip's name goes where the user was last typing (the user message at first).
    let last_part = RwSignal::new(None::<PromptPart>);
    let insert_name = move |name: String| {
        let part = last_part.get_untracked().unwrap_or(PromptPart::User);
        let id = area_id(part);
        let current = template(part).get_untracked();
        let end = current.encode_utf16().count() as u32;
        let (start, stop) = match last_part.get_untracked() {
            Some(_) => selection(id).unwrap_or((end, end)),
            None => (end, end),
        };
        let (text, caret) = insert_at(&current, start, stop, &name);
        edited(part, text);
        last_part.set(Some(part));
        focus_at(id, caret);
    };
    let restore_default = move |_| {
        system.set(default_prompt.system.clone());
        user.set(default_prompt.user.clone());
        saver.fire_now();
    };
    // Saved, but not a template that can run: never "all saved" alone.
    let saved = Signal::derive(move || match issues.with(|(s, u)| s.len() + u.len()) {
        0 => "All changes saved.".to_string(),
        1 => "Saved, but fix the problem shown before the batch can run.".to_string(),
        n => format!("Saved, but fix the {n} problems shown before the batch can run."),
    });

    view! {
        <div class="split">
            <div class="split__main">
                <TemplateField
                    part=PromptPart::System
                    value=system
                    issues
                    on_edit=edited
                    last_part
                />
                <TemplateField part=PromptPart::User value=user issues on_edit=edited last_part />
                <AvailableList names=names.clone() on_insert=insert_name />
                <UnusedParams unused />
                <div class="row-actions">
                    <button type="button" class="btn btn--ghost" on:click=restore_default>
                        "Restore the generated prompt"
                    </button>
                    <span class="spacer"></span>
                    <SaveStatus
                        saving=Signal::derive(move || saver.waiting().get() || save.pending().get())
                        last=save.value()
                        saved
                        idle="Changes are saved as you type."
                    />
                </div>
            </div>
            <aside class="split__side">
                <PromptPreview system user mapping sample row_count />
            </aside>
        </div>
    }
}
