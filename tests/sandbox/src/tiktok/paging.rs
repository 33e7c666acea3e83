//! Offset paging shared by the list endpoints: `page_size` bounds and the opaque base64
//! `next_page_token` (reference §11.6).

use super::envelope::ApiError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `page_size` within `1..=max`, else an invalid-parameter error naming it.
pub(crate) fn page_size(value: Option<&str>, max: usize) -> Result<usize, ApiError> {
    match value.map(str::parse::<usize>) {
        Some(Ok(n)) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid("page_size", format!("1 to {max} is required"))),
    }
}

/// The offset a `page_token` stands for; 0 without one.
pub(crate) fn offset(token: Option<&str>) -> Result<usize, ApiError> {
    let Some(token) = token else { return Ok(0) };
    let decode = || {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        String::from_utf8(bytes).ok()?.strip_prefix("offset:")?.parse().ok()
    };
    decode().ok_or_else(|| ApiError::invalid("page_token", "is not valid"))
}

/// One page of `items` from `offset`, and the token of the next page (empty at the end).
pub(crate) fn page<T>(items: Vec<T>, offset: usize, size: usize) -> (Vec<T>, String) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(size).collect();
    let next = offset + page.len();
    let token = if next < total { URL_SAFE_NO_PAD.encode(format!("offset:{next}")) } else { String::new() };
    (page, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_the_last_page_has_none() {
        let (first, token) = page((0..5).collect(), 0, 2);
        assert_eq!(first, vec![0, 1]);
        let next = offset(Some(&token)).expect("valid token");
        let (last, token) = page((0..5).collect::<Vec<_>>(), 4, 2);
        assert_eq!((next, last, token.as_str()), (2, vec![4], ""));
        assert!(offset(Some("%%")).is_err());
        assert!(page_size(Some("0"), 50).is_err() && page_size(Some("51"), 50).is_err());
    }
}
