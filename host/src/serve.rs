//! `crossdock serve`: applies the configuration (organization, store, channels, rates,
//! rules — idempotently; changed credentials replace the stored ones), then syncs on a timer
//! until Ctrl-C or SIGTERM, finishing the jobs in hand.

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
use crate::dispatch::{QueueSettings, run_due};
use crate::engine::{SyncEngine, SyncSettings};
use crate::model::OrgId;
use crate::rules::RuleKind;
use crate::supervisor::Supervisor;
use crate::web;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Makes the database match the configuration and returns the organization.
pub async fn apply_config(app: &App, config: &ServeConfig, path: &Path) -> anyhow::Result<OrgId> {
    let base = path.parent().unwrap_or(Path::new("."));
    let org = match app.db.org_by_name(&config.organization).await? {
        Some(org) => org,
        None => app.db.create_org(&config.organization).await?,
    };
    if let Some(configured) = &config.store {
        let settings = configured.resolve(path)?;
        match app.db.store_of(org).await? {
            Some(store) => {
                connections::reconfigure_store(app, &store, &settings).await?;
            }
            None => {
                connections::connect_store(app, org, &configured.name, &configured.plugin, settings).await?;
            }
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

/// The operator's apps with their secrets read, and the admin's public address.
fn apps_of(config: &ServeConfig, path: &Path) -> anyhow::Result<crate::authorization::Apps> {
    let mut credentials = std::collections::BTreeMap::new();
    for (plugin, app) in &config.apps {
        credentials.insert(plugin.clone(), app.resolve(path)?);
        // Names only: the values are secrets.
        tracing::info!(plugin, settings = ?app.settings.keys().collect::<Vec<_>>(), secrets = ?app.secrets.keys().collect::<Vec<_>>(), "app configured for authorization");
    }
    Ok(crate::authorization::Apps { public_url: config.public_url.clone(), credentials })
}

/// Serves the API and webhooks, works the queue continuously (reconciling channels whose
/// inputs changed and taking back jobs of crashed workers), reads the whole catalog every poll
/// interval and reads back what each shop holds every drift interval, until Ctrl-C or
/// SIGTERM; jobs in hand finish (and give back their leases) before it exits. Each loop is
/// supervised: one that ends early is logged and started again (see `supervisor`).
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
    let cancel = CancellationToken::new();
    let queue = QueueSettings {
        workers: config.workers,
        lease: Duration::from_secs(config.lease_secs.max(3)),
        stop: cancel.clone(),
        ..QueueSettings::default()
    };
    let mut state = ApiState::new(app.clone(), settings.clone());
    state.secure_cookies = config.secure_cookies;
    state.apps = Arc::new(apps_of(&config, config_path)?);
    state.health.lease = queue.lease;
    let mut supervisor = Supervisor::new(cancel.clone(), state.health.tasks.clone());

    // Bound once here, so a taken address fails the start; a restart binds again.
    let admin = tokio::net::TcpListener::bind(&config.listen).await?;
    tracing::info!(org = %org, listen = %config.listen, poll_secs = config.poll_interval_secs, "serving");
    let listeners = match &config.listen_webhooks {
        Some(address) => {
            let webhooks = tokio::net::TcpListener::bind(address).await?;
            tracing::info!(listen_webhooks = %address, "webhook receivers on their own address");
            vec![
                ("http", config.listen.clone(), admin, web::with_pages(api::admin_router(state.clone()))),
                ("webhooks", address.clone(), webhooks, api::webhook_router(state.clone())),
            ]
        }
        None => vec![("http", config.listen.clone(), admin, web::with_pages(api::router(state.clone())))],
    };
    for (name, listen, listener, router) in listeners {
        let (stop, listener) = (cancel.clone(), Arc::new(std::sync::Mutex::new(Some(listener))));
        supervisor.spawn(name, move || {
            let (stop, router, listen, listener) =
                (stop.clone(), router.clone(), listen.clone(), listener.clone());
            async move {
                let bound = listener.lock().unwrap_or_else(|p| p.into_inner()).take();
                let listener = match bound {
                    Some(l) => l,
                    None => tokio::net::TcpListener::bind(&listen).await?,
                };
                // The client address feeds the login throttle.
                let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
                axum::serve(listener, service).with_graceful_shutdown(stop.cancelled_owned()).await?;
                anyhow::Ok(())
            }
        });
    }
    if let Some(secret) = setup_link_if_unclaimed(&app.db, org).await? {
        println!(
            "No account can log in to organization `{}` yet. Create the first one within 24 hours:\n  \
             open http://{}/setup/{secret} in a browser (or POST /api/setup/{secret} with \
             {{\"email\": \"…\", \"password\": \"…\"}}), or run `crossdock account create`.",
            config.organization, config.listen
        );
    }

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let (worker_app, worker_settings) = (app.clone(), settings.clone());
    supervisor.spawn("queue", move || {
        let (stop, woken, app, settings, queue) =
            (stop.clone(), woken.clone(), worker_app.clone(), worker_settings.clone(), queue.clone());
        async move {
            let mut engine: Option<SyncEngine> = None;
            loop {
                let round = async {
                    let loaded = match engine.take() {
                        Some(e) => e,
                        None => SyncEngine::load(&app, org, settings.clone()).await?,
                    };
                    // Takes back expired leases and reconciles changed channels even when no
                    // job is due, then works what is due.
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
        }
    });

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let (catalog_app, catalog_settings) = (app.clone(), settings.clone());
    let poll = Duration::from_secs(config.poll_interval_secs);
    supervisor.spawn("catalog", move || {
        let (stop, woken, app, settings) =
            (stop.clone(), woken.clone(), catalog_app.clone(), catalog_settings.clone());
        async move {
            loop {
                let round = async {
                    let engine = SyncEngine::load(&app, org, settings.clone()).await?;
                    // Each page is reconciled as it is read: wake the workers so pushing
                    // starts while the rest of the catalog is still being read.
                    import_catalog(&engine, &|_| woken.notify_one()).await?;
                    anyhow::Ok(())
                };
                // Stopping drops a read half-way: each committed page recorded where the read
                // goes on, so the next start resumes there.
                let ended = tokio::select! {
                    ended = round => ended,
                    _ = stop.cancelled() => return anyhow::Ok(()),
                };
                if let Err(error) = ended {
                    tracing::error!(error = %format!("{error:#}"), "catalog read failed; next round retries");
                }
                tokio::select! {
                    _ = stop.cancelled() => return anyhow::Ok(()),
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        }
    });

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let (orders_app, orders_settings) = (app.clone(), settings.clone());
    let order_poll = Duration::from_secs(config.order_poll_secs.max(5));
    supervisor.spawn("orders", move || {
        let (stop, woken, app, settings) = (stop.clone(), woken.clone(), orders_app.clone(), orders_settings.clone());
        async move {
            loop {
                let round = async {
                    let engine = SyncEngine::load(&app, org, settings.clone()).await?;
                    anyhow::Ok(crate::orders::import::poll_orders(&engine).await?)
                };
                // Polls are level-triggered: one dropped at shutdown is simply done again.
                let ended = tokio::select! {
                    ended = round => ended,
                    _ = stop.cancelled() => return anyhow::Ok(()),
                };
                match ended {
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
        }
    });

    let (stop, woken) = (cancel.clone(), state.work_queued.clone());
    let (drift_app, drift_settings) = (app.clone(), settings.clone());
    let drift_every = Duration::from_secs(config.drift_check_secs.max(60));
    let retention = Duration::from_secs(config.webhook_retention_days.saturating_mul(86_400));
    supervisor.spawn("drift", move || {
        let (stop, woken, app, settings) = (stop.clone(), woken.clone(), drift_app.clone(), drift_settings.clone());
        async move {
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
                let ended = tokio::select! {
                    ended = round => ended,
                    _ = stop.cancelled() => return anyhow::Ok(()),
                };
                match ended {
                    Ok(()) => woken.notify_one(),
                    Err(error) => tracing::error!(error = %format!("{error:#}"), "drift checks not queued; next round retries"),
                }
                match app.db.prune_webhook_deliveries(retention).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "pruned old webhook deliveries"),
                    Err(error) => tracing::warn!(%error, "pruning webhook deliveries failed; next round retries"),
                }
            }
        }
    });

    shutdown_signal().await;
    tracing::info!("stopping: finishing the jobs in hand");
    supervisor.shutdown().await;
    state.app.db.close().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `docker stop`, systemd and Kubernetes send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the service");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
