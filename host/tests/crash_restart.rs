//! `crossdock serve` as a real child process, killed with SIGKILL several times during a
//! first sync and started again, against the sandboxes over HTTP: every product ends listed
//! exactly once on every shop, live, with no job left running, failed or dead. On
//! PostgreSQL a second process running beside the first takes back the jobs of the first
//! when it dies, within a lease, and finishes the sync alone. Stopped with SIGTERM instead,
//! `serve` finishes its jobs in hand and leaves none leased.

use axum::extract::State;
use crossdock_sandbox::catalog::{CatalogProduct, generated_catalog};
use crossdock_sandbox::chaos::Chaos;
use crossdock_sandbox::server::ServerHandle;
use crossdock_sandbox::shopify::{CostLimits, ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec, TikTokConfig, TikTokSandbox};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Row};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Big enough that a first sync takes several seconds in a debug build.
const PRODUCTS: usize = 200;
const VARIANTS: usize = 2;
/// Short, so a dead process's jobs come back quickly.
const LEASE_SECS: u64 = 3;
/// How long the last process may take to finish the sync.
const FINISH_WITHIN: Duration = Duration::from_secs(180);
/// Seals the connection secrets in the PostgreSQL test's database (32 bytes, base64).
const TEST_SECRET_KEY: &str = "JEK1BwStsG0GSwrrHN1rx79QdybDJeiMhP9J/3fuc0E=";
/// Seeds the kill schedule, so a failing run replays.
const SEED: u64 = 0x5eed_c0de;

/// One test at a time: two syncs of 1,200 listings at once on a small machine would starve
/// the lease renewals this file is about.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_during_the_first_sync_lists_every_product_once_on_sqlite() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let dir = scratch_dir("sqlite");
    let database_url = format!("sqlite:{}", dir.join("crossdock.db").display());
    let world = World::start().await;
    let config = world.write_config(&dir, "crossdock.toml", &database_url, free_port());
    let mut schedule = SplitMix64(SEED);
    let started = Instant::now();

    let kills = kill_and_restart(&world, &dir, &config, &database_url, 5, &mut schedule).await;
    let last = Serve::spawn(&config, &dir, "final");
    last.wait_ready().await;
    let observer = Observer::connect(&database_url).await;
    wait_until_synced(&world, &observer, &[&last]).await;
    last.assert_no_failures().await;
    drop(last);

    eprintln!(
        "sqlite: {} kills after {:?} ms ({:?} listings live at each, {} creates made but unrecorded), synced after {:.1} s",
        kills.live.len(),
        kills.pauses_ms,
        kills.live,
        kills.unrecorded_creates.len(),
        started.elapsed().as_secs_f64()
    );
    assert_every_product_listed_once(&world, &observer).await;
    observer.pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_during_the_first_sync_lists_every_product_once_on_postgres() {
    let Some(database_url) = fresh_postgres_url().await else { return };
    let _turn = ONE_AT_A_TIME.lock().await;
    let dir = scratch_dir("postgres");
    let world = World::start().await;
    let config = world.write_config(&dir, "crossdock.toml", &database_url, free_port());
    let mut schedule = SplitMix64(SEED ^ 1);
    let started = Instant::now();

    // Two processes share the queue; the first dies holding jobs, the second takes them back.
    // This comes first, while the whole first sync is still ahead: slow calls keep every
    // worker busy, so the first surely holds jobs when it dies.
    world.tiktok.set_chaos(Chaos { latency: Duration::from_millis(300), ..Chaos::default() });
    let first = Serve::spawn(&config, &dir, "first");
    first.wait_ready().await;
    let second_config = world.write_config(&dir, "crossdock-second.toml", &database_url, free_port());
    let second = Serve::spawn(&second_config, &dir, "second");
    second.wait_ready().await;
    let observer = Observer::connect(&database_url).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while observer.running_jobs().await.len() < 6 {
        first.assert_alive();
        second.assert_alive();
        assert!(Instant::now() < deadline, "the two processes never held six jobs at once");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(first);
    let killed_at = Instant::now();
    let running = observer.running_jobs().await;
    let takeover = wait_until_taken_back(&observer, &second, running).await;
    world.tiktok.set_chaos(Chaos::default());
    match &takeover {
        Ok(taken_back) => eprintln!(
            "postgres: the second process took back {} jobs of the killed first within {:.1} s",
            taken_back.len(),
            killed_at.elapsed().as_secs_f64()
        ),
        Err(stuck) => eprintln!("postgres: {stuck}"),
    }
    drop(second);

    // Then the single process is killed and restarted during the rest of the first sync.
    let kills = kill_and_restart(&world, &dir, &config, &database_url, 4, &mut schedule).await;
    let second = Serve::spawn(&config, &dir, "final");
    second.wait_ready().await;
    wait_until_synced(&world, &observer, &[&second]).await;
    second.assert_no_failures().await;
    drop(second);

    eprintln!(
        "postgres: {} kills after {:?} ms ({:?} listings live at each, {} creates made but unrecorded), then the \
         takeover; the last process finished {:.1} s after the first died; {:.1} s in all",
        kills.live.len(),
        kills.pauses_ms,
        kills.live,
        kills.unrecorded_creates.len(),
        killed_at.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_every_product_listed_once(&world, &observer).await;
    observer.pool.close().await;
    // Checked last, so a slow takeover does not hide whether the sync itself came out right.
    if let Err(stuck) = takeover {
        panic!("{stuck}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM (what `docker stop`, systemd and Kubernetes send) in the middle of a sync: `serve`
/// claims nothing new, finishes the jobs in hand, gives back their leases and exits cleanly;
/// no job is left `running` for another process to wait a lease for. `/readyz` answered
/// ready while it worked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stopped_with_sigterm_mid_sync_finishes_its_jobs_and_leaves_none_leased() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let dir = scratch_dir("sigterm");
    let database_url = format!("sqlite:{}", dir.join("crossdock.db").display());
    let world = World::start().await;
    let config = world.write_config(&dir, "crossdock.toml", &database_url, free_port());
    // Slow calls keep every worker busy, so the signal surely finds jobs in hand.
    world.tiktok.set_chaos(Chaos { latency: Duration::from_millis(300), ..Chaos::default() });
    let serve = Serve::spawn(&config, &dir, "sigterm");
    serve.wait_ready().await;
    let ready = reqwest::get(format!("http://{}/readyz", serve.listen)).await.expect("answers");
    assert_eq!(ready.status(), reqwest::StatusCode::OK, "{}", serve.tail());
    let observer = Observer::connect(&database_url).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while observer.running_jobs().await.len() < 2 {
        serve.assert_alive();
        assert!(Instant::now() < deadline, "serve never held two jobs at once\n{}", serve.tail());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = serve.child.lock().expect("no panic while holding the child").id();
    let signalled = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().expect("kill runs");
    assert!(signalled.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        let exited = serve.child.lock().expect("no panic while holding the child").try_wait();
        if let Ok(Some(status)) = exited {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop after SIGTERM\n{}", serve.tail());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    world.tiktok.set_chaos(Chaos::default());
    assert!(status.success(), "serve exits cleanly on SIGTERM ({status})\n{}", serve.tail());
    let log = std::fs::read_to_string(&serve.log).expect("the log reads");
    assert!(log.contains("stopping: finishing the jobs in hand"), "{}", serve.tail());
    let left = observer.running_jobs().await;
    assert!(left.is_empty(), "jobs left leased after a graceful stop: {left:?}\n{}", serve.tail());
    observer.pool.close().await;
    drop(serve);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the kills interrupted.
#[derive(Debug)]
struct Kills {
    /// How long each process worked once it answered.
    pauses_ms: Vec<u64>,
    /// Listings live in the database at each kill.
    live: Vec<i64>,
    /// (channel, product) whose listing TikTok had made when a kill came before the process
    /// recorded it: each must be adopted after the restart, not listed again.
    unrecorded_creates: BTreeSet<(String, i64)>,
}

/// Starts `serve`, lets it work a seeded 0.5–3 s once it answers, and kills it with SIGKILL,
/// `times` times; in every second round TikTok's answers to creates are held back, so the
/// kill finds creates made and not yet recorded. The sync must still be under way at every
/// kill but perhaps the last, and some kill must have come between a create and its record, or
/// the kills proved little.
async fn kill_and_restart(
    world: &World,
    dir: &Path,
    config: &Path,
    database_url: &str,
    times: usize,
    schedule: &mut SplitMix64,
) -> Kills {
    let mut kills = Kills { pauses_ms: Vec::new(), live: Vec::new(), unrecorded_creates: BTreeSet::new() };
    for round in 1..=times {
        world.slow_creates.hold_creates(round % 2 == 0);
        let serve = Serve::spawn(config, dir, &format!("killed-{round}"));
        serve.wait_ready().await;
        let pause = 500 + schedule.below(2_500);
        kills.pauses_ms.push(pause);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        serve.assert_alive();
        drop(serve);
        let observer = Observer::connect(database_url).await;
        kills.live.push(observer.active_listings().await);
        for (channel, product, skus) in observer.interrupted_creates().await {
            let shop =
                world.tiktok.shops().into_iter().find(|s| s.name == channel).expect("a channel per shop");
            let made = world
                .tiktok
                .products(&shop.cipher)
                .iter()
                .any(|p| p.status != "DELETED" && p.skus.iter().any(|s| skus.contains(&s.seller_sku)));
            if made {
                kills.unrecorded_creates.insert((channel, product));
            }
        }
        observer.pool.close().await;
    }
    world.slow_creates.hold_creates(false);
    let total = world.expected_listings();
    // All but the last kill must come while the sync is under way (how far the last round gets
    // depends on the machine's speed that moment).
    let mid_sync = kills.live.iter().filter(|live| **live < total).count();
    assert!(
        mid_sync + 1 >= kills.live.len(),
        "the sync was over before most kills ({:?} of {total} listings live): make the catalog bigger",
        kills.live
    );
    assert!(
        !kills.unrecorded_creates.is_empty(),
        "no kill came between a create and its record ({kills:?}): hold the creates longer"
    );
    kills
}

/// The sandboxes the processes sync between: one Shopify store with a generated catalog and
/// three TikTok shops (one in another currency) whose reviews pass quickly.
struct World {
    shopify: ShopifySandbox,
    tiktok: TikTokSandbox,
    /// What the processes reach TikTok through.
    slow_creates: SlowCreates,
    catalog: Vec<CatalogProduct>,
}

impl World {
    async fn start() -> World {
        let catalog = generated_catalog(PRODUCTS, VARIANTS, 7);
        let shopify = ShopifySandbox::start(ShopifyConfig {
            shop_name: "Crash shop".into(),
            currency: "USD".into(),
            access_token: "shpat_crash".into(),
            catalog: catalog.clone(),
        })
        .await
        .expect("the Shopify sandbox starts");
        // A Shopify Plus bucket: the catalog read, which every start repeats, takes a second
        // or two, so the kills land among the pushes as well as in the read.
        shopify.set_cost_limits(CostLimits {
            maximum_available: 20_000.0,
            restore_rate: 1_000.0,
            single_query_max: 1_000,
        });
        let tiktok = TikTokSandbox::start(TikTokConfig {
            shops: vec![
                ShopSpec::new("US", "US", "USD"),
                ShopSpec::new("US 2", "US", "USD"),
                ShopSpec::new("UK", "GB", "GBP"),
            ],
            review: ReviewPolicy { delay: Duration::from_millis(200), ..ReviewPolicy::default() },
            ..TikTokConfig::default()
        })
        .await
        .expect("the TikTok sandbox starts");
        let slow_creates = SlowCreates::start(tiktok.base_url()).await;
        World { shopify, tiktok, slow_creates, catalog }
    }

    fn expected_listings(&self) -> i64 {
        (self.catalog.len() * self.tiktok.shops().len()) as i64
    }

    /// Writes a `serve` configuration (secrets in files beside it) and returns its path.
    fn write_config(&self, dir: &Path, name: &str, database_url: &str, port: u16) -> PathBuf {
        std::fs::create_dir_all(dir.join("secrets")).expect("the scratch dir is writable");
        std::fs::write(dir.join("secrets/shopify"), "shpat_crash\n").expect("secret");
        let defaults = TikTokConfig::default();
        std::fs::write(dir.join("secrets/tts-secret"), &defaults.app_secret).expect("secret");
        std::fs::write(dir.join("secrets/tts-token"), self.tiktok.access_token()).expect("secret");
        let mut config = format!(
            r#"database-url = "{database_url}"
organization = "Crash Org"
listen = "127.0.0.1:{port}"
# One catalog read per process start; no drift checks: the queue alone is under test.
poll-interval-secs = 3600
review-poll-secs = 1
drift-check-secs = 86400
lease-secs = {LEASE_SECS}
workers = 4

# The sandboxes listen on this machine.
[plugins.egress]
allow-networks = ["127.0.0.0/8"]

[store]
name = "Crash shop"
plugin = "shopify"
settings = {{ base-url = "{shopify}" }}
secrets = {{ access-token = "file:secrets/shopify" }}
"#,
            shopify = self.shopify.base_url(),
        );
        for shop in self.tiktok.shops() {
            let rate =
                if shop.currency == "USD" { String::new() } else { "exchange-rate = \"0.79\"\n".into() };
            config.push_str(&format!(
                r#"
[[channels]]
name = "{name}"
plugin = "tiktok-shop"
{rate}settings = {{ base-url = "{tiktok}", app-key = "{app_key}", shop-cipher = "{cipher}", category-id = "600001" }}
secrets = {{ app-secret = "file:secrets/tts-secret", access-token = "file:secrets/tts-token" }}
"#,
                name = shop.name,
                tiktok = self.slow_creates.server.base_url(),
                app_key = defaults.app_key,
                cipher = shop.cipher,
            ));
        }
        let path = dir.join(name);
        std::fs::write(&path, config).expect("the config is written");
        path
    }

    /// What is missing before the shops hold every product live; none when they do.
    fn shops_missing(&self) -> Option<String> {
        for shop in self.tiktok.shops() {
            let products = self.tiktok.products(&shop.cipher);
            let live = products.iter().filter(|p| p.status == "ACTIVATE").count();
            if live < self.catalog.len() {
                return Some(format!("shop {}: {live} of {} products live", shop.name, self.catalog.len()));
            }
        }
        None
    }

    /// Whether some shop lists a seller SKU twice: no waiting undoes that.
    fn lists_twice(&self) -> bool {
        self.tiktok.shops().iter().any(|shop| {
            let mut seen = BTreeSet::new();
            self.tiktok
                .products(&shop.cipher)
                .iter()
                .filter(|p| p.status != "DELETED")
                .flat_map(|p| p.skus.iter())
                .any(|s| !seen.insert(s.seller_sku.clone()))
        })
    }

    fn expected_skus(&self) -> Vec<String> {
        let mut skus: Vec<String> =
            self.catalog.iter().flat_map(|p| p.variants.iter().map(|v| v.sku.clone())).collect();
        skus.sort();
        skus
    }
}

/// Stands between the processes and the TikTok sandbox and passes every call through; while
/// `hold` is set it keeps the answer to every third listing create for 1.5 s after TikTok made
/// the listing. A kill then lands between a create and the process learning of it, the point
/// the create marker exists for, instead of only by luck.
struct SlowCreates {
    server: ServerHandle,
    hold: Arc<AtomicBool>,
}

#[derive(Clone)]
struct Upstream {
    base: String,
    client: reqwest::Client,
    hold: Arc<AtomicBool>,
    creates: Arc<AtomicU64>,
}

impl SlowCreates {
    async fn start(upstream: String) -> SlowCreates {
        let hold = Arc::new(AtomicBool::new(false));
        let state = Upstream {
            base: upstream,
            client: reqwest::Client::new(),
            hold: hold.clone(),
            creates: Arc::default(),
        };
        let router = axum::Router::new().fallback(pass_through).with_state(state);
        let server = ServerHandle::start(router, 0).await.expect("the proxy binds a port");
        SlowCreates { server, hold }
    }

    fn hold_creates(&self, on: bool) {
        self.hold.store(on, Ordering::SeqCst);
    }
}

async fn pass_through(
    State(upstream): State<Upstream>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let is_create = method == axum::http::Method::POST && uri.path() == "/product/202309/products";
    let mut request = upstream.client.request(method, format!("{}{path}", upstream.base)).body(body);
    for (name, value) in &headers {
        if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let content_type = answer.headers().get(axum::http::header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    if is_create
        && upstream.hold.load(Ordering::SeqCst)
        && upstream.creates.fetch_add(1, Ordering::SeqCst) % 3 == 0
    {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
    let mut response = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        response.headers_mut().insert(axum::http::header::CONTENT_TYPE, content_type);
    }
    response
}

/// A `crossdock serve` child process, killed with SIGKILL when dropped.
struct Serve {
    /// Behind a lock so `try_wait` works through `&self`.
    child: std::sync::Mutex<Child>,
    log: PathBuf,
    listen: String,
    label: String,
    /// An API token of the configuration's organization (see `api_token`).
    token: String,
}

/// The `crossdock` binary with the environment a configuration needs.
fn crossdock_command(config_text: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crossdock"));
    command.env_remove("CROSSDOCK_DATABASE_URL").env_remove("CROSSDOCK_SECRET_KEY");
    if config_text.contains("database-url = \"postgres") {
        // PostgreSQL keeps connection secrets sealed with a key the processes must share;
        // SQLite makes its key file beside the database on the first start.
        command.env("CROSSDOCK_SECRET_KEY", TEST_SECRET_KEY);
    }
    command
}

/// An API token for the configuration's organization, made once per configuration with the
/// CLI as an operator would (`account create`, then `token create`) and kept beside it.
fn api_token(config: &Path, config_text: &str) -> String {
    let kept = config.with_extension("token");
    if let Ok(token) = std::fs::read_to_string(&kept) {
        return token;
    }
    // One account per configuration: several may share a database.
    let stem = config.file_stem().and_then(|s| s.to_str()).unwrap_or("serve").to_string();
    let mut account = crossdock_command(config_text)
        .args(["account", "create", "--password-stdin", "--email"])
        .arg(format!("ops-{stem}@crash.test"))
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the crossdock binary starts");
    std::io::Write::write_all(&mut account.stdin.take().expect("stdin is piped"), b"crash test password\n")
        .expect("the password is written");
    let made = account.wait_with_output().expect("account create finishes");
    assert!(made.status.success(), "account create failed: {}", String::from_utf8_lossy(&made.stderr));
    let out = crossdock_command(config_text)
        .args(["token", "create", "--name", "crash test", "--config"])
        .arg(config)
        .output()
        .expect("token create runs");
    assert!(out.status.success(), "token create failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout.lines().find(|l| l.starts_with("cdk_")).expect("the token is printed").to_string();
    std::fs::write(&kept, &token).expect("the scratch dir is writable");
    token
}

impl Serve {
    fn spawn(config: &Path, dir: &Path, label: &str) -> Serve {
        let log = dir.join(format!("serve-{label}.log"));
        let out = File::create(&log).expect("the log file is writable");
        let err = out.try_clone().expect("the log file handle clones");
        let text = std::fs::read_to_string(config).expect("the config is readable");
        let listen = text
            .lines()
            .find_map(|l| l.strip_prefix("listen = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("the config names its listen address")
            .to_string();
        let token = api_token(config, &text);
        let mut command = crossdock_command(&text);
        let child = command
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn,crossdock=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the crossdock binary starts");
        Serve { child: std::sync::Mutex::new(child), log, listen, label: label.to_string(), token }
    }

    /// Waits until the API answers (the configuration is applied and the loops run).
    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("http://{}/api/failures", self.listen);
        loop {
            self.assert_alive();
            if let Ok(response) = reqwest::Client::new().get(&url).bearer_auth(&self.token).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve {} never answered on {}\n{}",
                self.label,
                self.listen,
                self.tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn assert_alive(&self) {
        let exited = self.child.lock().expect("no panic while holding the child").try_wait();
        if let Ok(Some(status)) = exited {
            panic!("serve {} exited on its own ({status})\n{}", self.label, self.tail());
        }
    }

    /// `GET /api/failures` is empty.
    async fn assert_no_failures(&self) {
        let url = format!("http://{}/api/failures", self.listen);
        let failures: serde_json::Value = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the API answers")
            .json()
            .await
            .expect("failures are JSON");
        assert_eq!(failures, serde_json::json!([]), "no failed job\n{}", self.tail());
    }

    /// The last lines of the process's log.
    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!("--- last lines of {} ---\n{}", self.log.display(), lines[from..].join("\n"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        // SIGKILL on Unix: no shutdown, no last commit.
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Reads the database the processes share, as an operator's query would.
struct Observer {
    pool: AnyPool,
}

/// A claimed job as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunningJob {
    id: i64,
    token: Option<String>,
    lease_until: Option<i64>,
}

impl Observer {
    async fn connect(database_url: &str) -> Observer {
        install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(database_url)
            .await
            .expect("the test opens the database the processes use");
        Observer { pool }
    }

    async fn active_listings(&self) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM listings WHERE state = 'active'")
            .fetch_one(&self.pool)
            .await
            .expect("listings are readable")
            .try_get("n")
            .expect("a count")
    }

    async fn job_counts(&self) -> BTreeMap<String, i64> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .expect("jobs are readable");
        rows.iter()
            .map(|r| (r.try_get("state").expect("a state"), r.try_get("n").expect("a count")))
            .collect()
    }

    async fn running_jobs(&self) -> Vec<RunningJob> {
        let rows = sqlx::query("SELECT id, lease_token, lease_until FROM jobs WHERE state = 'running'")
            .fetch_all(&self.pool)
            .await
            .expect("jobs are readable");
        rows.iter()
            .map(|r| RunningJob {
                id: r.try_get("id").expect("an id"),
                token: r.try_get("lease_token").expect("a token"),
                lease_until: r.try_get("lease_until").expect("a lease"),
            })
            .collect()
    }

    async fn job(&self, id: i64) -> (String, RunningJob) {
        let row = sqlx::query("SELECT state, lease_token, lease_until FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .expect("the job is readable");
        let state: String = row.try_get("state").expect("a state");
        let job = RunningJob {
            id,
            token: row.try_get("lease_token").expect("a token"),
            lease_until: row.try_get("lease_until").expect("a lease"),
        };
        (state, job)
    }

    /// (channel name, product, its SKUs) of every listing whose create began and was never
    /// recorded as done.
    async fn interrupted_creates(&self) -> Vec<(String, i64, Vec<String>)> {
        let rows = sqlx::query(
            "SELECT c.name AS channel, l.product_id AS product, v.sku AS sku FROM listings l \
             JOIN channels c ON c.id = l.channel_id JOIN variants v ON v.product_id = l.product_id \
             WHERE l.create_started_at IS NOT NULL AND l.external_id IS NULL",
        )
        .fetch_all(&self.pool)
        .await
        .expect("listings are readable");
        let mut by_listing: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
        for r in &rows {
            let key = (r.try_get("channel").expect("a channel"), r.try_get("product").expect("a product"));
            by_listing.entry(key).or_default().push(r.try_get("sku").expect("a sku"));
        }
        by_listing.into_iter().map(|((channel, product), skus)| (channel, product, skus)).collect()
    }

    /// (channel name, listing state, channel product id) of every listing.
    async fn listings(&self) -> Vec<(String, String, Option<String>)> {
        let rows = sqlx::query(
            "SELECT c.name AS channel, l.state AS state, l.external_id AS external_id \
             FROM listings l JOIN channels c ON c.id = l.channel_id",
        )
        .fetch_all(&self.pool)
        .await
        .expect("listings are readable");
        rows.iter()
            .map(|r| {
                (
                    r.try_get("channel").expect("a channel"),
                    r.try_get("state").expect("a state"),
                    r.try_get("external_id").expect("an id"),
                )
            })
            .collect()
    }

    async fn failed_jobs(&self) -> Vec<String> {
        let rows = sqlx::query(
            "SELECT id, kind, state, attempts, last_error FROM jobs WHERE state IN ('failed', 'dead')",
        )
        .fetch_all(&self.pool)
        .await
        .expect("jobs are readable");
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id").expect("an id");
                let kind: String = r.try_get("kind").expect("a kind");
                let state: String = r.try_get("state").expect("a state");
                let attempts: i64 = r.try_get("attempts").expect("attempts");
                let error: Option<String> = r.try_get("last_error").expect("an error");
                format!("job {id} {kind} {state} after {attempts}: {}", error.unwrap_or_default())
            })
            .collect()
    }
}

/// Waits until the shops hold every product live and the queue is empty (nothing queued or
/// running), while `running` stay alive; returns at once when a shop lists something twice.
async fn wait_until_synced(world: &World, observer: &Observer, running: &[&Serve]) {
    let deadline = Instant::now() + FINISH_WITHIN;
    let total = world.expected_listings();
    loop {
        for serve in running {
            serve.assert_alive();
        }
        if world.lists_twice() {
            // The final assertions say which.
            return;
        }
        let missing = match world.shops_missing() {
            Some(missing) => Some(missing),
            None => {
                let live = observer.active_listings().await;
                let jobs = observer.job_counts().await;
                let busy =
                    jobs.get("queued").copied().unwrap_or(0) + jobs.get("running").copied().unwrap_or(0);
                if live < total {
                    Some(format!("{live} of {total} listings live in the database; jobs {jobs:?}"))
                } else if busy > 0 {
                    Some(format!("jobs still queued or running: {jobs:?}"))
                } else {
                    None
                }
            }
        };
        let Some(missing) = missing else { return };
        if Instant::now() > deadline {
            let tails: Vec<String> = running.iter().map(|s| s.tail()).collect();
            panic!(
                "not synced {} s after the last start: {missing}; jobs {:?}\n{}",
                FINISH_WITHIN.as_secs(),
                observer.job_counts().await,
                tails.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until every job a killed process held has left it: rescued, and run again by
/// `survivor`. `running` is read just after the kill and holds the survivor's jobs too: a job
/// whose lease is renewed, or that ends before its lease ran out, was the survivor's (only a
/// rescue takes a job whose lease ran out). Returns the killed process's jobs, or what was
/// still stuck `LEASE_SECS + 5` s after the kill (with the survivor's log).
async fn wait_until_taken_back(
    observer: &Observer,
    survivor: &Serve,
    running: Vec<RunningJob>,
) -> Result<Vec<i64>, String> {
    let grace = Duration::from_secs(LEASE_SECS + 5);
    let killed_at = Instant::now();
    let mut pending: BTreeMap<i64, RunningJob> = running.into_iter().map(|j| (j.id, j)).collect();
    let mut taken_back = Vec::new();
    while !pending.is_empty() {
        survivor.assert_alive();
        for (id, held) in pending.clone() {
            let (state, now) = observer.job(id).await;
            if state != "running" || now.token != held.token {
                if held.lease_until.is_some_and(|until| until <= unix_ms()) {
                    taken_back.push(id);
                }
                pending.remove(&id);
            } else if now.lease_until > held.lease_until {
                pending.remove(&id);
            }
        }
        if !pending.is_empty() && killed_at.elapsed() > grace {
            return Err(format!(
                "jobs {:?} of the killed process were still running {} s after it died (lease {LEASE_SECS} s): \
                 the surviving process did not take them back; jobs then {:?}\n{}",
                pending.keys().collect::<Vec<_>>(),
                grace.as_secs(),
                observer.job_counts().await,
                survivor.tail()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !taken_back.is_empty(),
        "the killed process held no job when it died; the takeover was not exercised"
    );
    Ok(taken_back)
}

fn unix_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Every product listed once, live, on every shop, and in the database: one live listing per
/// (product, shop) naming a distinct shop product, and no job running, queued, failed or dead.
async fn assert_every_product_listed_once(world: &World, observer: &Observer) {
    let expected = world.expected_skus();
    for shop in world.tiktok.shops() {
        let products = world.tiktok.products(&shop.cipher);
        let deleted = products.iter().filter(|p| p.status == "DELETED").count();
        let listed: Vec<_> = products.iter().filter(|p| p.status != "DELETED").collect();
        let mut skus: Vec<String> =
            listed.iter().flat_map(|p| p.skus.iter().map(|s| s.seller_sku.clone())).collect();
        skus.sort();
        let doubles: BTreeSet<&String> = skus.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
        assert!(doubles.is_empty(), "shop {}: seller SKUs listed twice: {doubles:?}", shop.name);
        assert_eq!(skus, expected, "shop {}: every store SKU listed exactly once", shop.name);
        assert_eq!(listed.len(), world.catalog.len(), "shop {}: one listing per product", shop.name);
        let not_live: Vec<_> =
            listed.iter().filter(|p| p.status != "ACTIVATE").map(|p| (&p.title, &p.status)).collect();
        assert!(not_live.is_empty(), "shop {}: listings not live: {not_live:?}", shop.name);
        assert_eq!(deleted, 0, "shop {}: {deleted} listings made and deleted again", shop.name);

        let ids: BTreeSet<&String> = listed.iter().map(|p| &p.id).collect();
        let listings: Vec<_> =
            observer.listings().await.into_iter().filter(|(channel, _, _)| *channel == shop.name).collect();
        assert_eq!(listings.len(), world.catalog.len(), "channel {}: one listing row per product", shop.name);
        let mut recorded = BTreeSet::new();
        for (_, state, external_id) in &listings {
            assert_eq!(state, "active", "channel {}: every listing live in the database", shop.name);
            let id = external_id.as_ref().expect("a live listing knows its channel product");
            assert!(ids.contains(id), "channel {}: listing {id} is not on the shop", shop.name);
            assert!(recorded.insert(id.clone()), "channel {}: two listings recorded as {id}", shop.name);
        }
    }
    let jobs = observer.job_counts().await;
    for state in ["running", "queued", "failed", "dead"] {
        assert_eq!(
            jobs.get(state).copied().unwrap_or(0),
            0,
            "no job {state}: {jobs:?}; {:#?}",
            observer.failed_jobs().await
        );
    }
}

/// A fresh directory for one test's configuration, secrets, logs and SQLite file.
fn scratch_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crossdock-crash-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    eprintln!("{label}: config, logs and database in {}", dir.display());
    dir
}

/// A port free right now on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// A new, empty PostgreSQL database on the server `CROSSDOCK_TEST_POSTGRES_URL` points at,
/// or `None` (the test then says it was skipped). In CI (`CI` set) a PostgreSQL that is not
/// configured or not reachable fails the test instead: CI must run it.
async fn fresh_postgres_url() -> Option<String> {
    let in_ci = std::env::var_os("CI").is_some();
    let Ok(admin_url) = std::env::var("CROSSDOCK_TEST_POSTGRES_URL") else {
        assert!(
            !in_ci,
            "CI is set but CROSSDOCK_TEST_POSTGRES_URL is not: the PostgreSQL tests must run in CI"
        );
        eprintln!("skipped: CROSSDOCK_TEST_POSTGRES_URL is not set, so the PostgreSQL test did not run");
        return None;
    };
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("crossdock_crash_{}_{}", std::process::id(), nanos % 1_000_000_000);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at CROSSDOCK_TEST_POSTGRES_URL ({admin_url}) does not accept connections: {e}")
    });
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("the test role may create databases");
    let (base, _) = admin_url.rsplit_once('/').expect("the URL names a database");
    Some(format!("{base}/{name}"))
}

/// A tiny seeded generator for the kill schedule.
struct SplitMix64(u64);

impl SplitMix64 {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}
