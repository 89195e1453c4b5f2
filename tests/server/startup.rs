use rowbench::Application;

use crate::helpers::test_config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_creates_the_data_directory_and_the_database() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = test_config(dir.path());
    assert!(!config.data_dir.exists());
    let app = Application::build(config.clone()).await.expect("starts");
    assert!(config.data_dir.join("rowbench.db").exists());
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_fails_loudly_when_an_applied_migration_was_edited() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = test_config(dir.path());
    drop(
        Application::build(config.clone())
            .await
            .expect("first start migrates"),
    );

    let db = rowbench_store::Database::connect(&config.database_url)
        .await
        .expect("opens");
    sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00'")
        .execute(db.pool())
        .await
        .expect("tamper with a migration checksum");
    db.close().await;

    let err = Application::build(config)
        .await
        .err()
        .expect("start-up must refuse the database");
    let message = format!("{err:#}");
    assert!(message.contains("migrations"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_names_the_address_it_could_not_bind() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let first = Application::build(test_config(dir.path()))
        .await
        .expect("starts");
    let mut config = test_config(dir.path());
    config.addr = first.address();
    let err = Application::build(config)
        .await
        .err()
        .expect("the port is taken");
    let message = format!("{err:#}");
    assert!(message.contains(&first.address().to_string()), "{message}");
}
