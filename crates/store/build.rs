//! Rebuilds the crate when a migration is added, so `sqlx::migrate!` embeds the new file.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
