//! `crossdock serve`: applies the configuration (organization, store, channels, rates,
//! rules — idempotently), then syncs on a timer until Ctrl-C, finishing the jobs in hand.

use crate::app::App;
use crate::catalog::import::import_catalog;
use crate::config::ServeConfig;
use crate::connections;
use crate::model::OrgId;
use crate::queue::{QueueSettings, run_until_idle};
use crate::rules::RuleKind;
use crate::sync::{SyncEngine, SyncSettings};
use std::path::Path;
use std::time::Duration;

/// Makes the database match the configuration and returns the organization.
pub async fn apply_config(app: &App, config: &ServeConfig, path: &Path) -> anyhow::Result<OrgId> {
    let base = path.parent().unwrap_or(Path::new("."));
    let org = match app.db.org_by_name(&config.organization).await? {
        Some(org) => org,
        None => app.db.create_org(&config.organization).await?,
    };
    if app.db.store_of(org).await?.is_none() {
        let settings = config.store.resolve(path)?;
        connections::connect_store(app, org, &config.store.name, &config.store.plugin, settings)
            .await?;
    }
    let existing = app.db.channels(org).await?;
    for channel in &config.channels {
        let id = match existing.iter().find(|c| c.name == channel.connection.name) {
            Some(row) => row.id,
            None => {
                let settings = channel.connection.resolve(path)?;
                connections::add_channel(
                    app,
                    org,
                    &channel.connection.name,
                    &channel.connection.plugin,
                    settings,
                )
                .await?
            }
        };
        if let Some(rate) = channel.exchange_rate {
            connections::set_exchange_rate(app, id, rate).await?;
        }
        for (kind, file) in [
            (RuleKind::Product, &channel.product_rule),
            (RuleKind::Price, &channel.price_rule),
        ] {
            let Some(file) = file else { continue };
            let file = base.join(file);
            let source = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("reading rule {}: {e}", file.display()))?;
            let label = file.display().to_string();
            // Compile before saving: a broken rule never becomes the active version.
            crate::rules::check(&app.rules, kind, &label, &source)?;
            app.db.save_rule(id, kind, &source).await?;
        }
    }
    Ok(org)
}

/// Syncs until Ctrl-C.
pub async fn serve(config_path: &Path) -> anyhow::Result<()> {
    let config = ServeConfig::load(config_path)?;
    let app = App::start(&config.database_url).await?;
    let org = apply_config(&app, &config, config_path).await?;
    let settings = SyncSettings {
        review_poll: Duration::from_secs(config.review_poll_secs),
        ..SyncSettings::default()
    };
    let queue = QueueSettings {
        workers: config.workers,
        ..QueueSettings::default()
    };
    tracing::info!(org = %org, poll_secs = config.poll_interval_secs, "serving");
    loop {
        let round = async {
            let engine = SyncEngine::load(&app, org, settings.clone()).await?;
            import_catalog(&engine, &|_| {}).await?;
            run_until_idle(&engine, &queue, &|| {}).await?;
            anyhow::Ok(())
        };
        tokio::select! {
            result = round => if let Err(error) = result {
                tracing::error!(error = %format!("{error:#}"), "sync round failed; trying again next round");
            },
            _ = tokio::signal::ctrl_c() => break,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(config.poll_interval_secs)) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    tracing::info!("stopping");
    app.db.close().await;
    Ok(())
}
