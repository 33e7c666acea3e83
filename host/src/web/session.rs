//! Signing in and out, and the first-run setup link that creates the first account.

use super::WebState;
use super::api_client::Answer;
use super::layout::{PeerAddr, Visitor, bare_page};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/setup/{token}", get(setup_form).post(setup))
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

fn credentials_form(action: &str, button: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            p { label { "Email " input type="email" name="email" required autocomplete="username"; } }
            p { label { "Password " input type="password" name="password" required minlength="10" autocomplete="current-password"; } }
            button type="submit" { (button) }
        }
    }
}

async fn login_form(visitor: Option<Visitor>) -> Response {
    if visitor.is_some() {
        return Redirect::to("/").into_response();
    }
    bare_page("Log in", None, credentials_form("/login", "Log in"))
}

/// Signs in through the API and hands its session cookie to the browser.
async fn login(
    State(state): State<WebState>,
    PeerAddr(peer): PeerAddr,
    Form(form): Form<Credentials>,
) -> Response {
    let body = json!({ "email": form.email, "password": form.password });
    match state.api.call(peer, None, None, Method::POST, "/api/session", Some(&body)).await {
        Ok(Answer { headers, .. }) => signed_in(&headers),
        Err(refusal) => (
            refusal.status,
            bare_page("Log in", Some(&refusal.message), credentials_form("/login", "Log in")),
        )
            .into_response(),
    }
}

/// A redirect home carrying the API's `Set-Cookie` headers.
pub(super) fn signed_in(api_headers: &HeaderMap) -> Response {
    let mut response = Redirect::to("/").into_response();
    for cookie in api_headers.get_all(header::SET_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    response
}

async fn logout(visitor: Option<Visitor>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut response = Redirect::to("/login").into_response();
    if let Some(visitor) = visitor {
        let _ = visitor.change(&form, Method::DELETE, "/api/session", None).await;
    }
    response.headers_mut().append(
        header::SET_COOKIE,
        header::HeaderValue::from_static("crossdock_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

async fn setup_form(Path(token): Path<String>) -> Response {
    let intro = html! {
        p { "Create the first account of this Crossdock. The link works once." }
        (credentials_form(&format!("/setup/{}", super::layout::encode(&token)), "Create the account"))
    };
    bare_page("Welcome to Crossdock", None, intro)
}

/// Creates the first account with the one-time setup token, then signs it in.
async fn setup(
    State(state): State<WebState>,
    PeerAddr(peer): PeerAddr,
    Path(token): Path<String>,
    Form(form): Form<Credentials>,
) -> Response {
    let body = json!({ "email": form.email, "password": form.password });
    let path = format!("/api/setup/{}", super::layout::encode(&token));
    match state.api.call(peer, None, None, Method::POST, &path, Some(&body)).await {
        // The setup answer signs the new account in.
        Ok(Answer { headers, .. }) if headers.contains_key(header::SET_COOKIE) => signed_in(&headers),
        Ok(_) => Redirect::to("/login").into_response(),
        Err(refusal) => {
            let again =
                credentials_form(&format!("/setup/{}", super::layout::encode(&token)), "Create the account");
            (refusal.status, bare_page("Welcome to Crossdock", Some(&refusal.message), again)).into_response()
        }
    }
}
