//! `crossdock serve`: applies the configuration (organization, store, channels, rates,
//! rules — idempotently; changed credentials replace the stored ones), then syncs on a timer
//! until Ctrl-C, finishing the jobs in hand.

use crate::api::{self, ApiState};
use crate::app::App;
use crate::auth::account::setup_link_if_unclaimed;
use crate::catalog::drift::schedule_drift_checks;
use crate::catalog::import::import_catalog;
use crate::config::ServeConfig;
use crate::connections;
use crate::connectors::PluginRuntime;
use crate::db::orgs::ChannelOptions;
use crate::db::placement::CategoryTemplate;
use crate::model::OrgId;
use crate::queue::{QueueSettings, run_due};
use crate::rules::RuleKind;
use crate::sync::{SyncEngine, SyncSettings};
use std::path::Path;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Makes the database match the configuration and returns the organization.
pub async fn apply_config(app: &App, config: &ServeConfig, path: &Path) -> anyhow::Result<OrgId> {
    let base = path.parent().unwrap_or(Path::new("."));
    let org = match app.db.org_by_name(&config.organization).await? {
        Some(org) => org,
        None => app.db.create_org(&config.organization).await?,
    };
    let settings = config.store.resolve(path)?;
    match app.db.store_of(org).await? {
        Some(store) => {
            connections::reconfigure_store(app, &store, &settings).await?;
        }
        None => {
            connections::connect_store(app, org, &config.store.name, &config.store.plugin, settings).await?;
        }
    }
    let existing = app.db.channels(org).await?;
    for channel in &config.channels {
        let settings = channel.connection.resolve(path)?;
        let id = match existing.iter().find(|c| c.name == channel.connection.name) {
            Some(row) => {
                connections::reconfigure_channel(app, row, &settings).await?;
                row.id
            }
            None => {
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
        let options = ChannelOptions {
            sync_content: channel.sync_content,
            auto_select: channel.auto_select,
            stock_buffer: channel.stock_buffer,
            stock_share: channel.stock_share,
        };
        app.db.set_channel_options(id, options).await?;
        for t in &channel.templates {
            app.db
                .save_template(&CategoryTemplate {
                    id: 0,
                    channel_id: id,
                    match_field: t.match_field,
                    match_value: t.match_value.clone(),
                    category_id: t.category_id.clone(),
                    attributes: t.attributes.clone(),
                    priority: t.priority,
                })
                .await?;
        }
        let rules = [
            (RuleKind::Product, &channel.product_rule),
            (RuleKind::Price, &channel.price_rule),
            (RuleKind::Category, &channel.category_rule),
            (RuleKind::Order, &channel.order_rule),
        ];
        for (kind, file) in rules {
            let Some(file) = file else { continue };
            let file = base.join(file);
            let source = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("reading rule {}: {e}", file.display()))?;
            let label = file.display().to_string();
            // Compile before saving: a broken rule never becomes the active version.
            crate::rules::check(&app.rules, kind, &label, &source)?;
            app.db.save_rule(id, kind, &source).await?;
        }
        if let Some(orders) = &channel.orders {
            app.db.set_order_settings_json(id, &orders.to_json()).await?;
        }
    }
    Ok(org)
}

/// Serves the API and webhooks, works the queue continuously (reconciling channels whose
/// inputs changed and taking back jobs of crashed workers), reads the whole catalog every poll
/// interval and reads back what each shop holds every drift interval, until Ctrl-C; jobs in
/// hand finish before it exits.
pub async fn serve(config_path: &Path) -> anyhow::Result<()> {
    let config = ServeConfig::load(config_path)?;
    let key = config.secret_key(config_path)?;
    let runtime = PluginRuntime::with_policy(config.plugins.limits.clone(), config.plugins.health.clone())
        .map_err(|e| anyhow::anyhow!("starting the wasm runtime: {e:#}"))?;
    let egress = config.plugins.egress.policy().map_err(anyhow::Error::msg)?;
    let app = App::start_with(&config.database_url, key, runtime).await?.with_egress(egress)?;
    let config = crate::plugin_files::install_plugins(&app.runtime, &app.plugins, &config, config_path)?;
    let org = apply_config(&app, &config, config_path).await?;
    let settings =
        SyncSettings { review_poll: Duration::from_secs(config.review_poll_secs), ..SyncSettings::default() };
    let queue = QueueSettings {
        workers: config.workers,
        lease: Duration::from_secs(config.lease_secs.max(3)),
        ..QueueSettings::default()
    };
    let mut state = ApiState::new(app.clone(), settings.clone());
    state.secure_cookies = config.secure_cookies;
    let cancel = CancellationToken::new();
    let mut tasks = JoinSet::new();

    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    tracing::info!(org = %org, listen = %config.listen, poll_secs = config.poll_interval_secs, "serving");
    let routers = match &config.listen_webhooks {
        Some(address) => {
            let webhooks = tokio::net::TcpListener::bind(address).await?;
            tracing::info!(listen_webhooks = %address, "webhook receivers on their own address");
            vec![(listener, api::admin_router(state.clone())), (webhooks, api::webhook_router(state.clone()))]
        }
        None => vec![(listener, api::router(state.clone()))],
    };
    for (listener, router) in routers {
        let stop = cancel.clone();
        tasks.spawn(async move {
            // The client address feeds the login throttle.
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service).with_graceful_shutdown(stop.cancelled_owned()).await?;
            anyhow::Ok(())
        });
    }
    if let Some(secret) = setup_link_if_unclaimed(&app.db, org).await? {
        println!(
            "No account can log in to organization `{}` yet. Create the first one within 24 hours:\n  \
             POST http://{}/api/setup/{secret} with {{\"email\": \"…\", \"password\": \"…\"}}\n  \
             (the admin page /setup/{secret} once it exists), or run `crossdock account create`.",
            config.organization, config.listen
        );
    }

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let (worker_app, worker_settings) = (app.clone(), settings.clone());
    tasks.spawn(async move {
        let mut engine: Option<SyncEngine> = None;
        loop {
            let round = async {
                let loaded = match engine.take() {
                    Some(e) => e,
                    None => SyncEngine::load(&worker_app, org, worker_settings.clone()).await?,
                };
                // Takes back expired leases and reconciles changed channels even when no job
                // is due, then works what is due.
                anyhow::Ok(run_due(loaded, &queue, &|| {}).await?)
            };
            match round.await {
                Ok(e) => engine = Some(e),
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "the queue round failed; retrying")
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return anyhow::Ok(()),
                _ = woken.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    });

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let (catalog_app, catalog_settings) = (app.clone(), settings.clone());
    tasks.spawn(async move {
        loop {
            let round = async {
                let engine = SyncEngine::load(&catalog_app, org, catalog_settings.clone()).await?;
                // Each page is reconciled as it is read: wake the workers so pushing starts
                // while the rest of the catalog is still being read.
                import_catalog(&engine, &|_| woken.notify_one()).await?;
                anyhow::Ok(())
            };
            if let Err(error) = round.await {
                tracing::error!(error = %format!("{error:#}"), "catalog read failed; next round retries");
            }
            tokio::select! {
                _ = stop.cancelled() => return anyhow::Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(config.poll_interval_secs)) => {}
            }
        }
    });

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let (orders_app, orders_settings) = (app.clone(), settings.clone());
    let order_poll = Duration::from_secs(config.order_poll_secs.max(5));
    tasks.spawn(async move {
        loop {
            let round = async {
                let engine = SyncEngine::load(&orders_app, org, orders_settings.clone()).await?;
                anyhow::Ok(crate::orders::import::poll_orders(&engine).await?)
            };
            match round.await {
                Ok(report) if report.orders_due > 0 => woken.notify_one(),
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "order poll failed; next round retries")
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return anyhow::Ok(()),
                _ = tokio::time::sleep(order_poll) => {}
            }
        }
    });

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let drift_every = Duration::from_secs(config.drift_check_secs.max(60));
    tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return anyhow::Ok(()),
                _ = tokio::time::sleep(drift_every) => {}
            }
            let round = async {
                let engine = SyncEngine::load(&app, org, settings.clone()).await?;
                schedule_drift_checks(&engine).await?;
                anyhow::Ok(())
            };
            match round.await {
                Ok(()) => woken.notify_one(),
                Err(error) => tracing::error!(error = %format!("{error:#}"), "drift checks not queued; next round retries"),
            }
        }
    });

    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping: finishing the jobs in hand"),
        Some(ended) = tasks.join_next() => tracing::error!(?ended, "a service task ended early; stopping"),
    }
    cancel.cancel();
    while let Some(ended) = tasks.join_next().await {
        if let Ok(Err(error)) = ended {
            tracing::error!(error = %format!("{error:#}"), "service task failed");
        }
    }
    state.app.db.close().await;
    Ok(())
}
