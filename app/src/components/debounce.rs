//! Runs an action once typing pauses, so a text field saves a few times a minute rather than on
//! every key.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;

/// An action that runs `delay_ms` after the last [`Debounced::trigger`].
#[derive(Clone, Copy)]
pub struct Debounced {
    generation: StoredValue<u64>,
    waiting: RwSignal<bool>,
    delay: Duration,
    action: StoredValue<Arc<dyn Fn() + Send + Sync>>,
}

impl Debounced {
    pub fn new(delay_ms: u64, action: impl Fn() + Send + Sync + 'static) -> Self {
        Debounced {
            generation: StoredValue::new(0),
            waiting: RwSignal::new(false),
            delay: Duration::from_millis(delay_ms),
            action: StoredValue::new(Arc::new(action)),
        }
    }

    /// (Re)starts the wait; the action runs when no other trigger comes within the delay.
    pub fn trigger(&self) {
        let generation = self.generation;
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let this = *self;
        self.waiting.set(true);
        set_timeout(
            move || {
                // A newer trigger owns the wait; and the page may be gone already.
                if generation.try_get_value() == Some(mine) {
                    this.fire_now();
                }
            },
            self.delay,
        );
    }

    /// Runs the action now and drops any pending wait.
    pub fn fire_now(&self) {
        self.generation.update_value(|g| *g += 1);
        self.waiting.set(false);
        if let Some(action) = self.action.try_get_value() {
            action();
        }
    }

    /// True while a trigger waits for its delay.
    pub fn waiting(&self) -> RwSignal<bool> {
        self.waiting
    }
}
