//! A plugin built to attack its host (`plugins/test-hostile`, a real component) on the real
//! path: every way out of the egress rules it tries (backslashes, user info, a wildcard
//! bypass, another port, special and metadata addresses, a name resolving to loopback, a
//! redirect, a forged `Host` header) is refused with an error naming the URL's host and the
//! rule, and a forbidden server never sees a request, while the real TikTok plugin keeps
//! syncing beside it. Its huge, escape-laden errors and log floods are bounded, its WASI probes
//! find nothing, and a secret it is given never reaches the logs, the job errors, the API or
//! the database file verbatim.

use crossdock::connectors::{
    ChannelConnector, ConnectionSettings, ErrorKind, Plugin, PluginRuntime, builtin,
};
use crossdock_e2e::{active_products, fresh_sqlite_url, serve_api, sync, world};
use crossdock_sandbox::server::ServerHandle;
use crossdock_sandbox::tiktok::ShopSpec;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Everything every test in this file logged (one process-wide subscriber), to search.
fn captured() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(Default::default)
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        captured().lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,crossdock=debug"))
        .with_ansi(false)
        .with_writer(|| Capture)
        .try_init();
}

fn logs() -> String {
    String::from_utf8_lossy(&captured().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

fn hostile_bytes() -> Vec<u8> {
    std::fs::read(format!("{}/test-hostile.wasm", builtin::PLUGIN_DIR))
        .expect("the build made test-hostile.wasm")
}

/// A server that counts the requests it gets; `/redirect` answers 302 to `redirect_to`.
async fn counting_server(redirect_to: Option<String>) -> (ServerHandle, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let counter = counter.clone();
        let redirect_to = redirect_to.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            match (uri.path(), redirect_to) {
                ("/redirect", Some(to)) => {
                    (axum::http::StatusCode::FOUND, [(axum::http::header::LOCATION, to)], "").into_response()
                }
                _ => (axum::http::StatusCode::OK, "fine").into_response(),
            }
        }
    });
    (ServerHandle::start(router, 0).await.expect("binds"), hits)
}

use axum::response::IntoResponse;

/// What the plugin reports for one command (the name of the one attribute it returns).
async fn ask(connector: &ChannelConnector, command: &str) -> String {
    let attributes =
        connector.category_attributes(command).await.unwrap_or_else(|e| panic!("{command}: {e}"));
    attributes.into_iter().next().map(|a| a.name).unwrap_or_default()
}

fn hostile(runtime: &PluginRuntime, label: &str, base_url: &str) -> ChannelConnector {
    let plugin = Arc::new(Plugin::load(runtime, &hostile_bytes(), "test-hostile.wasm").expect("loads"));
    let settings = ConnectionSettings::default()
        .setting("base-url", base_url)
        .secret("app-secret", "hostile-app-secret-value");
    ChannelConnector::new(runtime, plugin, label, settings).expect("binds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_out_of_the_allow_list_is_refused_while_tiktok_keeps_syncing() {
    capture_logs();
    let products = active_products(6);
    let world = world(&fresh_sqlite_url(), products.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let (forbidden, forbidden_hits) = counting_server(None).await;
    let f = forbidden.base_url().rsplit_once(':').expect("a port").1.to_string();
    let (allowed, allowed_hits) = counting_server(Some(format!("http://127.0.0.1:{f}/stolen"))).await;
    let a = allowed.base_url().rsplit_once(':').expect("a port").1.to_string();
    // The world's runtime allows loopback (the sandboxes), as an operator's allow-networks would.
    let connector = hostile(&world.app.runtime, "hostile", &allowed.base_url());

    let attacks = async {
        let mut answers = Vec::new();
        for (command, expect) in [
            (
                format!("fetch http://127.0.0.1:{f}\\@127.0.0.1:{a}/x"),
                vec![format!("127.0.0.1:{f} is not allowed"), "not in the plugin's allowed hosts".into()],
            ),
            (
                format!("fetch http:\\\\127.0.0.1:{f}/y?://127.0.0.1:{a}/"),
                vec![format!("127.0.0.1:{f} is not allowed")],
            ),
            (
                format!("fetch http:127.0.0.1:{f}/z?://127.0.0.1:{a}/"),
                vec![format!("127.0.0.1:{f} is not allowed")],
            ),
            (format!("fetch http://user:pw@127.0.0.1:{a}/u"), vec!["user name or password".into()]),
            ("fetch http://evil.com\\.myshopify.com/".into(), vec!["http://evil.com is not allowed".into()]),
            (format!("fetch http://127.0.0.1:{f}/port"), vec![format!("127.0.0.1:{f} is not allowed")]),
            (
                format!("fetch https://127.0.0.1:{a}/scheme"),
                vec![format!("https://127.0.0.1:{a} is not allowed")],
            ),
            (
                "fetch http://169.254.169.254/latest/meta-data/".into(),
                vec!["169.254.169.254 is a link-local".into(), "allow-networks".into()],
            ),
            ("fetch http://10.0.0.1/".into(), vec!["10.0.0.1 is a private".into()]),
            ("fetch http://100.64.0.1/".into(), vec!["carrier-grade NAT".into()]),
            ("fetch http://[fd00::1]/".into(), vec!["unique local".into()]),
            (
                "fetch http://93.184.216.34/".into(),
                vec!["93.184.216.34 is not allowed".into(), "not in the plugin's allowed hosts".into()],
            ),
            ("fetch file:///etc/passwd".into(), vec!["the scheme `file:`".into()]),
            (
                format!("header Host http://127.0.0.1:{a}/h"),
                vec![format!("http://127.0.0.1:{a}: the header `Host`")],
            ),
            (format!("header Transfer-Encoding http://127.0.0.1:{a}/h"), vec!["`Transfer-Encoding`".into()]),
            (format!("header Connection http://127.0.0.1:{a}/h"), vec!["`Connection`".into()]),
        ] {
            let answer = ask(&connector, &command).await;
            assert!(answer.starts_with("denied: "), "{command} → {answer}");
            for part in expect {
                assert!(answer.contains(&part), "{command} → {answer} (expected {part:?})");
            }
            answers.push(answer);
        }
        // A redirect to the forbidden server comes back to the plugin; the host never follows it.
        let redirect = ask(&connector, &format!("fetch http://127.0.0.1:{a}/redirect")).await;
        assert_eq!(redirect, format!("ok 302 location=http://127.0.0.1:{f}/stolen"));
        assert_eq!(ask(&connector, &format!("fetch http://127.0.0.1:{a}/fine")).await, "ok 200 location=");
        answers
    };
    let (answers, _) = tokio::join!(attacks, sync(&world));

    assert_eq!(forbidden_hits.load(Ordering::SeqCst), 0, "the forbidden server saw a request");
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 2, "only /redirect and /fine reached the allowed server");
    let logged = logs();
    assert!(logged.contains("http denied") && logged.contains("169.254.169.254"), "denials are logged");
    assert_eq!(answers.len(), 16);

    // With the default policy (no network allowed), a name resolving to loopback is refused
    // when it is resolved, and so is loopback written as IPv6.
    let strict = PluginRuntime::new().expect("runtime");
    let by_name = hostile(&strict, "hostile by name", &format!("http://localhost:{a}"));
    let answer = ask(&by_name, &format!("fetch http://localhost:{a}/name")).await;
    assert!(answer.starts_with("denied: localhost resolves to") && answer.contains("loopback"), "{answer}");
    let mapped = hostile(&strict, "hostile mapped", &format!("http://[::ffff:127.0.0.1]:{a}"));
    let answer = ask(&mapped, &format!("fetch http://[::ffff:127.0.0.1]:{a}/mapped")).await;
    assert!(answer.starts_with("denied: ") && answer.contains("127.0.0.1 is a loopback"), "{answer}");
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 2, "neither reached the server");

    let shop = &world.channels[0];
    assert_eq!(world.tiktok.products(&shop.shop.cipher).len(), products.len(), "TikTok synced beside it");
    assert!(world.app.db.failed_jobs().await.expect("reads").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_errors_escape_sequences_and_log_floods_are_bounded() {
    capture_logs();
    let runtime = crossdock_e2e::local_runtime();
    let connector = hostile(&runtime, "hostile text", "http://127.0.0.1:9");

    let error =
        connector.category_attributes(&format!("huge {}", 15 * 1024 * 1024)).await.expect_err("fails");
    let shown = error.to_string();
    assert!(shown.len() < 2 * 1024 + 200, "a 15 MB message is cut: {} bytes", shown.len());
    assert!(!shown.contains(['\n', '\r', '\u{1b}']), "no line breaks or escapes: {:?}", &shown[..200]);
    assert!(shown.contains("6 passed, 0 failed") && shown.contains("more bytes cut"), "{}", &shown[..200]);
    assert!(matches!(error.kind, ErrorKind::Fatal(_)));

    let answer = ask(&connector, "flood 240000").await;
    assert_eq!(answer, "logged 240000", "the plugin went on; the host dropped its lines");
    let logged = logs();
    let kept = logged.lines().filter(|l| l.contains("flood line") && l.contains("hostile text")).count();
    assert!(kept <= 1_000, "at most a call's worth of lines kept: {kept}");
    assert!(kept >= 100, "the first lines are kept: {kept}");
    let summary = logged
        .lines()
        .find(|l| l.contains("plugin log lines dropped") && l.contains("hostile text"))
        .expect("one line says how many were dropped");
    assert!(summary.contains(&format!("dropped={}", 240_000 - kept)), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_gives_a_plugin_no_environment_files_or_sockets() {
    let (server, hits) = counting_server(None).await;
    let runtime = crossdock_e2e::local_runtime();
    let connector = hostile(&runtime, "hostile wasi", &server.base_url());
    // The host's own environment has variables; none reach the plugin.
    assert!(std::env::vars().count() > 0);
    let env = ask(&connector, "wasi-env").await;
    assert!(env.starts_with("vars=0 [] args=0"), "{env}");
    let files = ask(&connector, "wasi-files").await;
    assert_eq!(files.matches("refused").count(), 4, "{files}");
    let port = server.base_url().rsplit_once(':').expect("a port").1.to_string();
    let sockets = ask(&connector, &format!("wasi-socket 127.0.0.1:{port}")).await;
    assert!(sockets.starts_with("tcp: refused") && sockets.contains("udp: refused"), "{sockets}");
    assert!(sockets.contains("dns: refused"), "{sockets}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no socket reached the server");
    // Clocks and randomness are granted (std needs them; they tell nothing the clock import
    // does not).
    let clock = ask(&connector, "wasi-clock").await;
    assert!(clock.contains("monotonic=true random=true") && !clock.starts_with("wall=0"), "{clock}");
}

/// Accepts connections and closes them at once: every request to it is a transport error.
async fn closing_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_secret_never_reaches_logs_job_errors_api_answers_or_the_database() {
    capture_logs();
    const SECRET: &str = "planted-Secret-4f9a2c71e0";
    let database_url = fresh_sqlite_url();
    let world = world(&database_url, active_products(3), vec![ShopSpec::new("US", "US", "USD")]).await;
    world
        .app
        .plugins
        .add(Plugin::load(&world.app.runtime, &hostile_bytes(), "test-hostile.wasm").expect("loads"))
        .expect("test-hostile is a new id");
    let base = closing_server().await;
    let settings = ConnectionSettings::default()
        .setting("base-url", &base)
        .setting("category-id", "1")
        .secret("app-secret", SECRET);
    let channel =
        crossdock::connections::add_channel(&world.app, world.org, "Leaky", "test-hostile", settings)
            .await
            .expect("connects");

    // Every listing call fails: a transport error on `<base>/token?app_secret=<secret>`, after
    // the plugin logged its secret, with the whole URL in its own error message.
    sync(&world).await;

    let failed = world.app.db.failed_jobs().await.expect("reads");
    let ours: Vec<_> = failed.iter().filter(|f| f.channel_id == channel).collect();
    assert_eq!(ours.len(), 3, "{failed:#?}");
    for job in &ours {
        assert!(!job.error.contains(SECRET), "{}", job.error);
        assert!(
            job.error.contains("app_secret=<redacted>") && job.error.contains("transport:"),
            "{}",
            job.error
        );
    }

    let api = serve_api(&world).await;
    for path in [
        "/api/failures".to_string(),
        format!("/api/orgs/{}/channels", world.org.0),
        format!("/api/channels/{}/products", channel.0),
    ] {
        let answer =
            crossdock_e2e::api_ok(reqwest::Method::GET, &format!("{}{path}", api.base_url()), None).await;
        assert!(!answer.to_string().contains(SECRET), "{path} shows the secret: {answer}");
    }

    let logged = logs();
    assert!(
        logged.contains("about to call with app secret <redacted>"),
        "the plugin's log line is kept, redacted"
    );
    assert!(!logged.contains(SECRET), "a log line holds the secret");
    // What the host cannot promise: a plugin that encodes its secret (here: reversed) before
    // logging it gets it through. Trusting a plugin with a secret means trusting it with it.
    let reversed: String = SECRET.chars().rev().collect();
    assert!(logged.contains(&reversed), "the limit documented in docs/security.md holds as described");

    let path = database_url.strip_prefix("sqlite:").expect("a SQLite URL");
    for file in [path.to_string(), format!("{path}-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            let found = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
            assert!(!found, "{file} holds the secret in plain text");
        }
    }
}
