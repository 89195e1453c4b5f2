//! Widgets shared by several pages.

pub mod empty_state;
pub mod icons;
pub mod layout;
pub mod notice;
