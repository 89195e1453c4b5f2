//! How the Review step saves its settings: typing saves once it pauses, a choice from a list or
//! a box at once, and saves go one at a time so an older one never lands after a newer one.

use leptos::prelude::*;
use rowbench_recipe::RunSettings;

use crate::api::review::save_settings;
use crate::components::debounce::Debounced;

/// How long typing must pause before the settings are saved.
const SAVE_DELAY_MS: u64 = 300;

/// Saves the page's settings one request at a time, the latest each time: a change made while
/// a save is on its way is sent once that one has answered, so an older save never lands after
/// (and overwrites) a newer one.
#[derive(Clone, Copy)]
struct SettingsSaver {
    settings: RwSignal<RunSettings>,
    error: RwSignal<Option<String>>,
    in_flight: StoredValue<bool>,
    again: StoredValue<bool>,
}

impl SettingsSaver {
    fn new(settings: RwSignal<RunSettings>, error: RwSignal<Option<String>>) -> Self {
        SettingsSaver {
            settings,
            error,
            in_flight: StoredValue::new(false),
            again: StoredValue::new(false),
        }
    }

    fn save(self) {
        if self.in_flight.try_get_value().unwrap_or(true) {
            self.again.try_set_value(true);
            return;
        }
        self.in_flight.set_value(true);
        leptos::task::spawn_local(async move {
            loop {
                self.again.try_set_value(false);
                // The page may be gone already.
                let Some(latest) = self.settings.try_get_untracked() else {
                    return;
                };
                let saved = save_settings(latest).await;
                self.error.try_set(
                    saved
                        .err()
                        .map(|e| format!("Your latest settings were not saved: {e}")),
                );
                if !self.again.try_get_value().unwrap_or(false) {
                    break;
                }
            }
            self.in_flight.try_set_value(false);
        });
    }
}

/// The form's settings, and the two ways a change to them is saved.
#[derive(Clone, Copy)]
pub(super) struct Edits {
    pub settings: RwSignal<RunSettings>,
    save_later: Debounced,
}

impl Edits {
    /// `error` says when the latest settings could not be saved.
    pub fn new(settings: RwSignal<RunSettings>, error: RwSignal<Option<String>>) -> Self {
        let saver = SettingsSaver::new(settings, error);
        Edits {
            settings,
            save_later: Debounced::new(SAVE_DELAY_MS, move || saver.save()),
        }
    }

    /// A key typed into a field: saved once typing pauses.
    pub fn type_in(self, f: impl FnOnce(&mut RunSettings)) {
        self.settings.update(f);
        self.save_later.trigger();
    }

    /// A choice from a list or a box: saved at once.
    pub fn change(self, f: impl FnOnce(&mut RunSettings)) {
        self.settings.update(f);
        self.save_later.fire_now();
    }
}
