//! Account and team: change one's password; the organization's members, invitations (owners
//! invite and remove), and the page an invited person opens to join.

use super::WebState;
use super::api_client::Answer;
use super::layout::{
    Nav, Notice, PeerAddr, Visitor, back, bare_page, csrf_field, encode, error_page, page, text,
};
use super::session::signed_in;
use axum::extract::{Path, Query, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/invite", post(invite))
        .route("/account/members/{account}/remove", post(remove_member))
        .route("/account/invitations/{invitation}/revoke", post(revoke))
        .route("/invite/{token}", get(join_form).post(join))
}

async fn account(visitor: Visitor, Query(notice): Query<Notice>) -> Response {
    render(&visitor, &notice, None).await
}

/// The account page; `new_link` is an invitation link just made (shown this once).
async fn render(visitor: &Visitor, notice: &Notice, new_link: Option<(&str, String)>) -> Response {
    let (members_path, invitations_path) = (visitor.org_path("/members"), visitor.org_path("/invitations"));
    let (me, members, invitations) = match tokio::try_join!(
        visitor.get("/api/me"),
        visitor.get(&members_path),
        visitor.get(&invitations_path),
    ) {
        Ok(all) => all,
        Err(r) => return error_page(&r),
    };
    let me_id = me["account"].as_i64();
    let owner = members
        .as_array()
        .into_iter()
        .flatten()
        .any(|m| m["account"].as_i64() == me_id && m["role"] == "owner");
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let body = html! {
        @if let Some((email, link)) = &new_link {
            div.ok #invitation-link role="status" {
                "Send this link to " (email) ". It works once, for a week, and is not shown again: "
                code { (link) }
            }
        }
        h2 { "Your password" }
        form #password method="post" action="/account/password" {
            (csrf_field(visitor))
            p { label { "Current password " input type="password" name="current_password" required autocomplete="current-password"; } }
            p { label { "New password " input type="password" name="new_password" required minlength="10" autocomplete="new-password"; } }
            button type="submit" { "Change password" }
            " Your other sessions are logged out."
        }
        h2 { "Team of " (visitor.org_name) }
        table #members {
            tr { th { "Email" } th { "Role" } th {} }
            @for m in list(&members) {
                @let id = m["account"].as_i64().unwrap_or(0);
                tr {
                    td { (text(&m["email"])) }
                    td { (text(&m["role"])) }
                    td {
                        @if Some(id) == me_id || owner {
                            form.inline method="post" action=(format!("/account/members/{id}/remove")) {
                                (csrf_field(visitor))
                                button type="submit" { @if Some(id) == me_id { "Leave" } @else { "Remove" } }
                            }
                        }
                    }
                }
            }
        }
        @if owner {
            h3 { "Invite someone" }
            form #invite method="post" action="/account/invite" {
                (csrf_field(visitor))
                label { "Email " input type="email" name="email" required; }
                " "
                label { "Role " select name="role" { option value="member" { "member" } option value="owner" { "owner" } } }
                " "
                button type="submit" { "Invite" }
            }
            (invitation_table(visitor, &list(&invitations)))
        }
    };
    page("Account and team", visitor, Nav::Account, notice, body)
}

fn invitation_table(visitor: &Visitor, invitations: &[Value]) -> Markup {
    let now = crate::db::now_ms();
    html! {
        @if !invitations.is_empty() {
            table #invitations {
                tr { th { "Invited" } th { "Role" } th { "State" } th {} }
                @for i in invitations {
                    @let state = if !i["used_at"].is_null() { "accepted" }
                        else if !i["revoked_at"].is_null() { "revoked" }
                        else if i["expires_at"].as_i64().unwrap_or(0) <= now { "expired" }
                        else { "pending" };
                    tr {
                        td { (text(&i["email"])) }
                        td { (text(&i["role"])) }
                        td { (state) }
                        td {
                            @if state == "pending" {
                                form.inline method="post" action=(format!("/account/invitations/{}/revoke", i["id"])) {
                                    (csrf_field(visitor)) button type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("")
}

async fn change_password(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let body = json!({
        "current_password": field(&form, "current_password"),
        "new_password": field(&form, "new_password"),
    });
    let outcome = visitor.change(&form, Method::PUT, "/api/me/password", Some(body)).await;
    back(
        "/account",
        outcome.map(|a| {
            format!("Password changed; {} other session(s) logged out.", text(&a["other_sessions_ended"]))
        }),
    )
}

async fn invite(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let body = json!({ "email": field(&form, "email"), "role": field(&form, "role") });
    match visitor.change(&form, Method::POST, &visitor.org_path("/invitations"), Some(body)).await {
        // Rendered here, not redirected: the link must not travel in a URL or the history.
        Ok(made) => {
            let link = text(&made["link"]);
            render(&visitor, &Notice::default(), Some((&text(&made["email"]), link))).await
        }
        Err(refusal) => back("/account", Err(refusal)),
    }
}

async fn remove_member(
    visitor: Visitor,
    Path(account): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let outcome =
        visitor.change(&form, Method::DELETE, &visitor.org_path(&format!("/members/{account}")), None).await;
    back("/account", outcome.map(|_| "Member removed.".to_string()))
}

async fn revoke(
    visitor: Visitor,
    Path(invitation): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let path = visitor.org_path(&format!("/invitations/{invitation}"));
    let outcome = visitor.change(&form, Method::DELETE, &path, None).await;
    back("/account", outcome.map(|_| "Invitation revoked.".to_string()))
}

fn join_body(token: &str, pending: &Value) -> Markup {
    let existing = pending["existing_account"].as_bool().unwrap_or(false);
    html! {
        p {
            "You are invited to " strong { (text(&pending["organization_name"])) }
            " as " (text(&pending["role"])) ", with the email " strong { (text(&pending["email"])) } "."
        }
        form #join method="post" action=(format!("/invite/{}", encode(token))) {
            p {
                label {
                    @if existing { "Your password " } @else { "Choose a password " }
                    input type="password" name="password" required minlength="10"
                        autocomplete=(if existing { "current-password" } else { "new-password" });
                }
            }
            button type="submit" { "Join" }
        }
    }
}

async fn join_form(
    State(state): State<WebState>,
    PeerAddr(peer): PeerAddr,
    Path(token): Path<String>,
) -> Response {
    let path = format!("/api/invitations/{}", encode(&token));
    match state.api.call(peer, None, None, Method::GET, &path, None).await {
        Ok(Answer { body, .. }) => bare_page("Join Crossdock", None, join_body(&token, &body)),
        Err(refusal) => {
            (refusal.status, bare_page("Join Crossdock", Some(&refusal.message), html! {})).into_response()
        }
    }
}

/// Accepts the invitation through the API, which signs the account in.
async fn join(
    State(state): State<WebState>,
    PeerAddr(peer): PeerAddr,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let path = format!("/api/invitations/{}", encode(&token));
    let body = json!({ "password": field(&form, "password") });
    match state.api.call(peer, None, None, Method::POST, &path, Some(&body)).await {
        Ok(Answer { headers, .. }) if headers.contains_key(header::SET_COOKIE) => signed_in(&headers),
        Ok(_) => Redirect::to("/login").into_response(),
        Err(refusal) => {
            let pending = state.api.call(peer, None, None, Method::GET, &path, None).await;
            let again = pending.map(|a| join_body(&token, &a.body)).unwrap_or_default();
            (refusal.status, bare_page("Join Crossdock", Some(&refusal.message), again)).into_response()
        }
    }
}
