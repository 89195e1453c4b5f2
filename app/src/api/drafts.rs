//! The wizard's draft for this browser session: found or created, and the step it is on.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::wizard_step::WizardStep;

/// What the wizard shows of its draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftView {
    pub id: i64,
    pub step: WizardStep,
    pub created: String,
    pub updated: String,
}

/// The draft of this session, created on first use.
#[server(prefix = "/rpc", endpoint = "current_draft")]
pub async fn current_draft() -> Result<DraftView, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = ssr::session_draft(&state.db, state.user(), &session).await?;
    Ok(ssr::view(&draft))
}

/// Remembers the step the user is on, so coming back to the wizard resumes there.
#[server(prefix = "/rpc", endpoint = "save_step")]
pub async fn save_step(step: WizardStep) -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = ssr::session_draft(&state.db, state.user(), &session).await?;
    rowbench_store::drafts::set_step(&state.db, state.user(), draft.id, step.slug()).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The plain functions behind the draft server functions.

    use rowbench_mapping::ColumnMapping;
    use rowbench_recipe::{PromptDraft, RunSettings};
    use rowbench_schema::ResponseSchema;
    use rowbench_store::drafts::{Draft, DraftPart};
    use rowbench_store::{Database, drafts};
    use tower_sessions::Session;

    use super::DraftView;
    use crate::api::datasets::DatasetView;
    use crate::error::AppError;
    use crate::server::display_time;
    use crate::wizard_step::WizardStep;

    /// The session key holding the id of the session's draft.
    const DRAFT_KEY: &str = "draft_id";

    /// Held while a session's first draft is created: several resources of one page ask for the
    /// draft at once, and all of them must get the same one.
    static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// The session's draft if it still exists and is `owner`'s; otherwise a new one, remembered
    /// in the session.
    pub async fn session_draft(
        db: &Database,
        owner: &str,
        session: &Session,
    ) -> Result<Draft, AppError> {
        if let Some(draft) = existing(db, owner, session).await? {
            return Ok(draft);
        }
        let _creating = CREATING.lock().await;
        if let Some(draft) = existing(db, owner, session).await? {
            return Ok(draft);
        }
        let draft = drafts::create(db, owner).await?;
        session.insert(DRAFT_KEY, draft.id).await?;
        Ok(draft)
    }

    async fn existing(
        db: &Database,
        owner: &str,
        session: &Session,
    ) -> Result<Option<Draft>, AppError> {
        match session.get::<i64>(DRAFT_KEY).await? {
            Some(id) => Ok(drafts::find(db, owner, id).await?),
            None => Ok(None),
        }
    }

    /// A draft with a dataset, and every part the steps saved so far.
    pub struct LoadedDraft {
        pub draft: Draft,
        pub dataset: DatasetView,
        pub mapping: ColumnMapping,
        pub saved_prompt: Option<PromptDraft>,
        pub schema: Option<ResponseSchema>,
        pub settings: Option<RunSettings>,
    }

    impl LoadedDraft {
        /// The saved prompt, or the default one for the mapping.
        pub fn prompt(&self) -> PromptDraft {
            self.saved_prompt
                .clone()
                .unwrap_or_else(|| PromptDraft::default_for(&self.mapping))
        }
    }

    /// A part as saved, or `None` when never saved or written by a version that stored it in
    /// another shape (the step then starts over rather than failing the page).
    fn part<T: serde::de::DeserializeOwned>(draft: &Draft, part: DraftPart) -> Option<T> {
        let value = draft.part(part)?;
        match serde_json::from_value(value.clone()) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                tracing::warn!(draft_id = draft.id, ?part, %error, "ignoring an unreadable draft part");
                None
            }
        }
    }

    /// The session's draft with its dataset and parts; `None` until a file was uploaded.
    pub async fn load_parts(
        db: &Database,
        owner: &str,
        session: &Session,
    ) -> Result<Option<LoadedDraft>, AppError> {
        let draft = session_draft(db, owner, session).await?;
        let Some(dataset_id) = draft.dataset_id() else {
            return Ok(None);
        };
        let Some(dataset) = crate::api::datasets::ssr::load(db, owner, dataset_id).await? else {
            return Ok(None);
        };
        let mapping = crate::api::mapping::ssr::mapping_for(&draft, &dataset);
        Ok(Some(LoadedDraft {
            saved_prompt: part(&draft, DraftPart::Prompt),
            schema: part(&draft, DraftPart::Schema),
            settings: part(&draft, DraftPart::Settings),
            draft,
            dataset,
            mapping,
        }))
    }

    pub fn view(draft: &Draft) -> DraftView {
        DraftView {
            id: draft.id,
            // A step name written by an older version falls back to the first step.
            step: WizardStep::from_slug(&draft.step).unwrap_or(WizardStep::Upload),
            created: display_time(draft.created_at),
            updated: display_time(draft.updated_at),
        }
    }
}
