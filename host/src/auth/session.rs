//! Cookie sessions for the admin pages: logging in (password checked, attempts throttled),
//! the cookie's flags, and the per-session CSRF token every unsafe request must echo.
//!
//! A session acts for one organization: the one asked for at login, else the account's
//! oldest membership; `PUT /api/session` switches to another membership.

use super::password::{verify_against_nothing, verify_password};
use super::throttle::LoginThrottle;
use super::{new_secret, normalize_email, same_secret, secret_hash};
use crate::db::{Db, DbError, now_ms};
use crate::model::{AccountId, OrgId};
use axum::http::HeaderMap;
use std::net::IpAddr;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "crossdock_session";
/// Where an unsafe request of a cookie session carries the CSRF token: this header, or (for
/// a plain HTML form) the form field `CSRF_FIELD`.
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";
/// How long a session lasts after login.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A session just started: `token` goes in the cookie and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub account: AccountId,
    pub org: OrgId,
    pub expires_at: i64,
}

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The same answer for an unknown email and a wrong password.
    #[error("wrong email or password")]
    Wrong,
    #[error("too many failed logins for this account or address: wait a minute and try again")]
    Throttled,
    #[error("account {0} is not a member of organization {1}")]
    NotMember(String, OrgId),
    #[error("account {0} is not a member of any organization: add it with `crossdock account create`")]
    NoOrganization(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Starts a session for `account` acting for `org`.
pub async fn start_session(db: &Db, account: AccountId, org: OrgId) -> Result<NewSession, DbError> {
    let token = new_secret("");
    let csrf_token = new_secret("");
    let expires_at = now_ms() + SESSION_TTL_MS;
    db.create_session(&secret_hash(&token), account, org, &csrf_token, expires_at).await?;
    Ok(NewSession { token, csrf_token, account, org, expires_at })
}

/// Checks the email and password (throttled per email and per client address) and starts
/// a session for `org`, or the account's oldest membership.
pub async fn login(
    db: &Db,
    throttle: &LoginThrottle,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
    org: Option<OrgId>,
) -> Result<NewSession, LoginError> {
    let email = normalize_email(email).map_err(|_| LoginError::Wrong)?;
    let email_key = format!("email:{email}");
    let mut keys = vec![email_key.clone()];
    keys.extend(client.map(|ip| format!("ip:{ip}")));
    if throttle.blocked(&keys) {
        return Err(LoginError::Throttled);
    }
    let account = db.account_by_email(&email).await?;
    let password = password.to_string();
    // Argon2 is CPU work by design: keep it off the async threads.
    let verified = tokio::task::spawn_blocking(move || match account {
        Some(account) => verify_password(&password, &account.password_hash).then_some(account),
        None => {
            verify_against_nothing(&password);
            None
        }
    })
    .await
    .unwrap_or(None);
    let Some(account) = verified else {
        throttle.failed(&keys);
        return Err(LoginError::Wrong);
    };
    throttle.succeeded(&email_key);
    let memberships = db.memberships(account.id).await?;
    let org = match org {
        Some(org) if memberships.iter().any(|m| m.organization == org) => org,
        Some(org) => return Err(LoginError::NotMember(email, org)),
        None => memberships.first().map(|m| m.organization).ok_or(LoginError::NoOrganization(email))?,
    };
    Ok(start_session(db, account.id, org).await?)
}

/// The `Set-Cookie` value that stores the session token: not readable by scripts, never
/// sent by other sites, `Secure` when the admin is served over HTTPS.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie (logout).
pub fn cleared_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The session token the request's cookies carry.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// Whether the CSRF token a request sent is the session's.
pub fn csrf_matches(session_csrf: &str, given: Option<&str>) -> bool {
    given.is_some_and(|given| same_secret(session_csrf, given))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_same_site_strict_and_secure_when_asked() {
        let cookie = session_cookie("abc", 60, false);
        assert_eq!(cookie, "crossdock_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=60");
        assert!(session_cookie("abc", 60, true).ends_with("; Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "theme=dark; crossdock_session=abc; x=1".parse().expect("valid"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc"));
        assert!(
            csrf_matches("t0k", Some("t0k"))
                && !csrf_matches("t0k", Some("t0K"))
                && !csrf_matches("t0k", None)
        );
    }
}
