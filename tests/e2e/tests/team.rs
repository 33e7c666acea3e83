//! A team over the real HTTP API: an owner invites an email address, the link works once (not
//! after it is used, revoked or expired, and a weak password does not use it up), the new
//! member acts for the organization but cannot manage the team, and loses every session and
//! API token the moment it is removed; an account of another organization joins with its own
//! password; the last owner cannot be removed; changing a password ends the other sessions.
//! And the same through the pages: invite, join, change the password.

use crossdock_e2e::{
    OWNER_PASSWORD, active_products, api_token, fresh_postgres_url, fresh_sqlite_url, init_tracing,
    org_api_token, owner_email, serve_api, world,
};
use crossdock_sandbox::tiktok::ShopSpec;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn one_shop() -> Vec<ShopSpec> {
    vec![ShopSpec::new("US", "US", "USD")]
}

/// One request: with an API token, or a browser's cookie and CSRF token.
#[derive(Clone, Default)]
struct Who {
    token: Option<String>,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl Who {
    fn token(token: &str) -> Self {
        Who { token: Some(token.to_string()), ..Default::default() }
    }

    async fn call(&self, method: Method, url: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new().request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        if let Some(csrf) = &self.csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let text = response.text().await.expect("the body reads");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// A logged-in browser from an answer that set the session cookie.
async fn session_of(response: reqwest::Response) -> Who {
    assert_eq!(response.status(), StatusCode::OK, "signed in");
    let cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .expect("text")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let body: Value = response.json().await.expect("json");
    Who { token: None, cookie: Some(cookie), csrf: body["csrf_token"].as_str().map(str::to_string) }
}

async fn log_in(base: &str, email: &str, password: &str) -> Result<Who, StatusCode> {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/session"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("answers");
    if response.status() != StatusCode::OK {
        return Err(response.status());
    }
    Ok(session_of(response).await)
}

async fn accept(base: &str, link: &str, password: &str) -> reqwest::Response {
    let secret = link.strip_prefix("/invite/").expect("an /invite/ link");
    reqwest::Client::new()
        .post(format!("{base}/api/invitations/{secret}"))
        .json(&json!({ "password": password }))
        .send()
        .await
        .expect("answers")
}

async fn a_team_grows_by_invitation_and_a_removed_member_loses_access(database_url: &str) {
    let world = world(database_url, active_products(1), one_shop()).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let org = world.org;
    let owner = Who::token(&api_token(&base));
    let invitations = format!("{base}/api/orgs/{org}/invitations");

    let (status, made) =
        owner.call(Method::POST, &invitations, Some(json!({ "email": "  Packer@Example.COM " }))).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["email"], "packer@example.com", "the email is kept normalized");
    assert_eq!(made["role"], "member", "member by default");
    let link = made["link"].as_str().expect("the link is shown once").to_string();
    let (_, listed) = owner.call(Method::GET, &invitations, None).await;
    let secret = link.trim_start_matches("/invite/");
    assert!(!listed.to_string().contains(secret), "a link is never listed again: {listed}");

    let (status, pending) =
        Who::default().call(Method::GET, &format!("{base}/api/invitations/{secret}"), None).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["email"], "packer@example.com");
    assert_eq!(pending["organization"], org.0);
    assert_eq!(pending["existing_account"], false);

    let weak = accept(&base, &link, "short").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await.expect("body").contains("password"), "the refusal names the password");
    let member = session_of(accept(&base, &link, "packer's long password").await).await;
    let again = accept(&base, &link, "packer's long password").await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "a link works once");

    let (status, me) = member.call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "packer@example.com");
    assert_eq!(me["organization"], org.0);
    let (_, members) = owner.call(Method::GET, &format!("{base}/api/orgs/{org}/members"), None).await;
    let roles: Vec<(String, String)> = members
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| {
            (m["email"].as_str().unwrap_or("").to_string(), m["role"].as_str().unwrap_or("").to_string())
        })
        .collect();
    assert_eq!(roles, [(owner_email(org), "owner".into()), ("packer@example.com".into(), "member".into())]);
    let owner_id = members[0]["account"].as_i64().expect("an id");
    let member_id = members[1]["account"].as_i64().expect("an id");

    // A member works for the organization but does not manage its team.
    let (status, _) = member.call(Method::GET, &format!("{base}/api/orgs/{org}/channels"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) =
        member.call(Method::POST, &invitations, Some(json!({ "email": "friend@example.com" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("only an owner")), "{refused}");
    let (status, _) =
        member.call(Method::DELETE, &format!("{base}/api/orgs/{org}/members/{owner_id}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, token) =
        member.call(Method::POST, &format!("{base}/api/tokens"), Some(json!({ "name": "packer" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let member_token = Who::token(token["token"].as_str().expect("a token"));

    // Removed: its session and its token stop at once.
    let (status, _) =
        owner.call(Method::DELETE, &format!("{base}/api/orgs/{org}/members/{member_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = member.call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the removed member's session ended");
    let (status, _) = member_token.call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the removed member's token stopped");

    // The last owner stays.
    let (status, refused) =
        owner.call(Method::DELETE, &format!("{base}/api/orgs/{org}/members/{owner_id}"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("last owner")), "{refused}");

    // Revoked and expired links do not work.
    let (_, revoked) =
        owner.call(Method::POST, &invitations, Some(json!({ "email": "late@example.com" }))).await;
    let (status, _) = owner.call(Method::DELETE, &format!("{invitations}/{}", revoked["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    let link = revoked["link"].as_str().expect("a link");
    assert_eq!(accept(&base, link, "late's long password").await.status(), StatusCode::NOT_FOUND);
    let (_, expiring) =
        owner.call(Method::POST, &invitations, Some(json!({ "email": "slow@example.com" }))).await;
    sqlx::query("UPDATE invitations SET expires_at = 1 WHERE id = $1")
        .bind(expiring["id"].as_i64().expect("an id"))
        .execute(world.app.db.pool())
        .await
        .expect("expired");
    let link = expiring["link"].as_str().expect("a link");
    assert_eq!(accept(&base, link, "slow's long password").await.status(), StatusCode::NOT_FOUND);
    assert!(world.app.db.account_by_email("slow@example.com").await.expect("reads").is_none());

    // Another organization's owner joins with its own password, as an owner.
    let other = world.app.db.create_org("Other Org").await.expect("made");
    org_api_token(&world.app, other, "other").await;
    let other_email = owner_email(other);
    let (_, made) =
        owner.call(Method::POST, &invitations, Some(json!({ "email": other_email, "role": "owner" }))).await;
    let link = made["link"].as_str().expect("a link").to_string();
    let wrong = accept(&base, &link, "somebody else's password").await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN, "an existing account joins with its own password");
    let joined = session_of(accept(&base, &link, OWNER_PASSWORD).await).await;
    let (_, me) = joined.call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(me["organization"], org.0, "the session acts for the organization joined");
    let orgs: Vec<i64> = me["organizations"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|m| m["organization"].as_i64())
        .collect();
    assert_eq!(orgs.len(), 2, "a member of both: {me}");
    // Now there are two owners: the first may go.
    let (status, _) =
        joined.call(Method::DELETE, &format!("{base}/api/orgs/{org}/members/{owner_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "with another owner, an owner can be removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_grows_by_invitation_and_a_removed_member_loses_access_on_sqlite() {
    init_tracing();
    a_team_grows_by_invitation_and_a_removed_member_loses_access(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_grows_by_invitation_and_a_removed_member_loses_access_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    a_team_grows_by_invitation_and_a_removed_member_loses_access(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_password_checks_the_current_one_and_ends_the_other_sessions() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let email = owner_email(world.org);
    let laptop = log_in(&base, &email, OWNER_PASSWORD).await.expect("logs in");
    let phone = log_in(&base, &email, OWNER_PASSWORD).await.expect("logs in");
    let url = format!("{base}/api/me/password");

    let (status, refused) = laptop
        .call(
            Method::PUT,
            &url,
            Some(json!({ "current_password": "a wrong guess", "new_password": "a brand new password" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("current_password")), "{refused}");
    let (status, refused) = laptop
        .call(Method::PUT, &url, Some(json!({ "current_password": OWNER_PASSWORD, "new_password": "short" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let no_csrf = Who { csrf: None, ..laptop.clone() };
    let (status, _) = no_csrf
        .call(
            Method::PUT,
            &url,
            Some(json!({ "current_password": OWNER_PASSWORD, "new_password": "a brand new password" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a session needs its CSRF token");
    let (_, me) = phone.call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(me["email"], email.as_str(), "nothing changed yet");

    let (status, changed) = laptop
        .call(
            Method::PUT,
            &url,
            Some(json!({ "current_password": OWNER_PASSWORD, "new_password": "a brand new password" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["other_sessions_ended"], 1);
    let (status, _) = phone.call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the other session ended");
    let (status, _) = laptop.call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(status, StatusCode::OK, "the session that changed it stays");
    assert_eq!(log_in(&base, &email, OWNER_PASSWORD).await.err(), Some(StatusCode::UNAUTHORIZED));
    assert!(log_in(&base, &email, "a brand new password").await.is_ok());
    let (status, _) = Who::token(&api_token(&base)).call(Method::GET, &format!("{base}/api/me"), None).await;
    assert_eq!(status, StatusCode::OK, "API tokens are not sessions: they stay until revoked");
}

/// The pages: the owner invites from the Account page (the link shown once), the invited
/// person opens it, chooses a password and lands signed in; then changes the password there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_invites_and_the_invited_person_joins_from_the_link() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let state = crossdock::api::ApiState::new(world.app.clone(), crossdock_e2e::fast_settings());
    let server = crossdock_sandbox::server::ServerHandle::start(
        crossdock::web::with_pages(crossdock::api::router(state)),
        0,
    )
    .await
    .expect("binds");
    let base = server.base_url();
    org_api_token(&world.app, world.org, "owner").await;
    let no_redirects =
        || reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");

    let signed_in = |response: &reqwest::Response| {
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("crossdock_session=") && !c.starts_with("crossdock_session=;"))
            .map(|c| c.split(';').next().unwrap_or("").to_string())
    };
    let login = no_redirects()
        .post(format!("{base}/login"))
        .form(&[("email", owner_email(world.org).as_str()), ("password", OWNER_PASSWORD)])
        .send()
        .await
        .expect("answers");
    let owner_cookie = signed_in(&login).expect("the owner is signed in");
    let page = |cookie: String, path: String| {
        let base = base.clone();
        async move {
            let response = reqwest::Client::new()
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .expect("answers");
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.text().await.expect("html")
        }
    };
    let account = page(owner_cookie.clone(), "/account".into()).await;
    assert!(account.contains("id=\"invite\""), "an owner sees the invite form");
    let csrf = account
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries the CSRF token")
        .to_string();

    let invited = reqwest::Client::new()
        .post(format!("{base}/account/invite"))
        .header("cookie", &owner_cookie)
        .form(&[("csrf_token", csrf.as_str()), ("email", "picker@example.com"), ("role", "member")])
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("html");
    let link = invited
        .split("<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the page shows the link once")
        .to_string();
    assert!(link.starts_with("/invite/"), "{link}");
    assert!(invited.contains("picker@example.com"));

    let join = reqwest::Client::new().get(format!("{base}{link}")).send().await.expect("answers");
    assert_eq!(join.status(), StatusCode::OK);
    let join = join.text().await.expect("html");
    assert!(join.contains("picker@example.com") && join.contains("Choose a password"), "{join}");
    let weak = reqwest::Client::new()
        .post(format!("{base}{link}"))
        .form(&[("password", "short")])
        .send()
        .await
        .expect("answers");
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await.expect("html").contains("Choose a password"), "the form is shown again");
    let joined = no_redirects()
        .post(format!("{base}{link}"))
        .form(&[("password", "picker's long password")])
        .send()
        .await
        .expect("answers");
    assert!(joined.status().is_redirection());
    let picker = signed_in(&joined).expect("the new member is signed in");
    let home = page(picker.clone(), "/account".into()).await;
    assert!(home.contains("picker@example.com"));
    assert!(!home.contains("id=\"invite\""), "a member does not see the invite form");
    let used = reqwest::Client::new().get(format!("{base}{link}")).send().await.expect("answers");
    assert_eq!(used.status(), StatusCode::NOT_FOUND, "the link is used up");

    let csrf = home
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token")
        .to_string();
    let changed = no_redirects()
        .post(format!("{base}/account/password"))
        .header("cookie", &picker)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current_password", "picker's long password"),
            ("new_password", "picker's newer password"),
        ])
        .send()
        .await
        .expect("answers");
    let location = changed.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_string();
    assert!(location.starts_with("/account?ok="), "{location}");
    let api = reqwest::Client::new()
        .post(format!("{base}/api/session"))
        .json(&json!({ "email": "picker@example.com", "password": "picker's newer password" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(api.status(), StatusCode::OK, "the new password logs in");
}
