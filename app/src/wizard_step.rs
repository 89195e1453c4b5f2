//! The six steps of the new-batch wizard, in order, with their URL slugs and labels.

use serde::{Deserialize, Serialize};

/// One step of the wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WizardStep {
    Upload,
    Columns,
    Prompt,
    Schema,
    Review,
    Run,
}

impl WizardStep {
    /// Every step, in the order the user walks them.
    pub const ALL: [WizardStep; 6] = [
        WizardStep::Upload,
        WizardStep::Columns,
        WizardStep::Prompt,
        WizardStep::Schema,
        WizardStep::Review,
        WizardStep::Run,
    ];

    /// The URL segment, e.g. `/new/prompt`.
    pub fn slug(self) -> &'static str {
        match self {
            WizardStep::Upload => "upload",
            WizardStep::Columns => "columns",
            WizardStep::Prompt => "prompt",
            WizardStep::Schema => "schema",
            WizardStep::Review => "review",
            WizardStep::Run => "run",
        }
    }

    /// Parses a URL segment; anything else is not a step.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// The short name shown in the stepper.
    pub fn label(self) -> &'static str {
        match self {
            WizardStep::Upload => "Upload",
            WizardStep::Columns => "Map columns",
            WizardStep::Prompt => "Prompt",
            WizardStep::Schema => "Response schema",
            WizardStep::Review => "Review",
            WizardStep::Run => "Run",
        }
    }

    /// One line under the label saying what the step is for.
    pub fn hint(self) -> &'static str {
        match self {
            WizardStep::Upload => "Your CSV file",
            WizardStep::Columns => "What the model sees",
            WizardStep::Prompt => "What the model is asked",
            WizardStep::Schema => "What it must answer",
            WizardStep::Review => "Model, cost and time",
            WizardStep::Run => "Progress and results",
        }
    }

    /// What the step is for, in one sentence under its title.
    pub fn summary(self) -> &'static str {
        match self {
            WizardStep::Upload => {
                "Start from a CSV or TSV file. Rowbench reads it as it arrives and stores every cell exactly."
            }
            WizardStep::Columns => "Decide what the model reads from each row.",
            WizardStep::Prompt => {
                "Write the instructions the model receives for every row, and check them on real rows."
            }
            WizardStep::Schema => {
                "Design the answer: the fields the model must return, checked on every row."
            }
            WizardStep::Review => {
                "Choose the model and see what the run will take before it starts."
            }
            WizardStep::Run => {
                "Watch the batch work through the rows, inspect any of them, and export the results."
            }
        }
    }

    /// 1-based position, as shown to people.
    pub fn number(self) -> usize {
        Self::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i + 1)
    }

    pub fn previous(self) -> Option<Self> {
        Self::ALL.get(self.number().checked_sub(2)?).copied()
    }

    pub fn next(self) -> Option<Self> {
        Self::ALL.get(self.number()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_round_trips_through_its_slug() {
        for step in WizardStep::ALL {
            assert_eq!(WizardStep::from_slug(step.slug()), Some(step));
        }
    }

    #[test]
    fn an_unknown_slug_is_not_a_step() {
        assert_eq!(WizardStep::from_slug("uploads"), None);
        assert_eq!(WizardStep::from_slug(""), None);
        assert_eq!(WizardStep::from_slug("Upload"), None);
    }

    #[test]
    fn steps_are_numbered_from_one_and_linked_in_order() {
        assert_eq!(WizardStep::Upload.number(), 1);
        assert_eq!(WizardStep::Run.number(), 6);
        assert_eq!(WizardStep::Upload.previous(), None);
        assert_eq!(WizardStep::Upload.next(), Some(WizardStep::Columns));
        assert_eq!(WizardStep::Review.previous(), Some(WizardStep::Schema));
        assert_eq!(WizardStep::Run.next(), None);
    }
}
