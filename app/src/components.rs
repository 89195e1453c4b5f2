//! Widgets shared by several pages.

pub mod debounce;
pub mod empty_state;
pub mod export_panel;
pub mod icons;
pub mod insert;
pub mod layout;
pub mod notice;
pub mod number_input;
pub mod refresh;
pub mod save_status;
pub mod step_content;
pub mod step_frame;
pub mod table_region;
