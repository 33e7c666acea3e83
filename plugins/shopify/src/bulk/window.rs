//! One window of a bulk result file, made into a page: whole lines, grouped into products (a
//! product's line, then the lines of its variants and images, which name it as `__parentId`;
//! the bulk query asks for `groupObjects: true`, so they follow it directly), mapped with the
//! paged read's own mapping into the same contract records. A product cut by the window's end
//! is left for the next page, which starts at that product's first byte; so is any product past
//! `limit`.

use crate::mapping::{self, ProductNode};
use crate::query::IMAGES_PER_PRODUCT;
use crossdock_plugin_sdk::types::{ConnectorError, Product};
use serde_json::{Map, Value, json};

/// What a window came to.
#[derive(Debug)]
pub enum Cut {
    /// The products it holds whole, and the byte of the file the next page starts at (none at
    /// the end of the file).
    Page { products: Vec<Product>, next: Option<u64> },
    /// Not one whole product fits: read a larger window from the same byte.
    TooSmall,
}

/// One product's lines.
struct Group {
    /// Its first byte, within the window.
    start: usize,
    id: String,
    product: Map<String, Value>,
    variants: Vec<Value>,
    images: Vec<Value>,
}

/// Reads `bytes`, the file from byte `offset` (to its end when `at_end`), into at most
/// `limit` products priced in `currency`.
pub fn read(
    bytes: &[u8],
    offset: u64,
    at_end: bool,
    limit: u32,
    currency: &str,
) -> Result<Cut, ConnectorError> {
    let limit = limit.max(1) as usize;
    let mut whole: Vec<Group> = Vec::new();
    let mut current: Option<Group> = None;
    let mut next: Option<usize> = None;
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let line = match bytes[pos..].iter().position(|b| *b == b'\n') {
            Some(newline) => {
                pos += newline + 1;
                &bytes[start..start + newline]
            }
            // The file's last line may lack its newline; elsewhere the window cut it.
            None if at_end => {
                pos = bytes.len();
                &bytes[start..]
            }
            None => break,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(line) else {
            return Err(bad_line(offset + start as u64, "is not a JSON object"));
        };
        match object.remove("__parentId") {
            None => {
                whole.extend(current.take());
                if whole.len() == limit {
                    next = Some(start);
                    break;
                }
                let Some(id) = object.get("id").and_then(Value::as_str).map(str::to_string) else {
                    return Err(bad_line(offset + start as u64, "is a product without an id"));
                };
                current =
                    Some(Group { start, id, product: object, variants: Vec::new(), images: Vec::new() });
            }
            Some(parent) => {
                let parent = parent.as_str().unwrap_or_default();
                let Some(group) = current.as_mut().filter(|g| g.id == parent) else {
                    return Err(bad_line(
                        offset + start as u64,
                        &format!(
                            "names {parent} as its parent, which is not the product before it (the file is not grouped)"
                        ),
                    ));
                };
                let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
                if id.starts_with("gid://shopify/ProductVariant/") {
                    group.variants.push(Value::Object(object));
                } else if object.contains_key("url") {
                    group.images.push(Value::Object(object));
                }
            }
        }
    }
    if next.is_none() {
        match current {
            Some(group) if at_end && pos >= bytes.len() => whole.push(group),
            Some(group) => next = Some(group.start),
            None if !(at_end && pos >= bytes.len()) => next = Some(pos),
            None => {}
        }
    }
    if whole.is_empty() && next.is_some() {
        return Ok(Cut::TooSmall);
    }
    let products = whole.into_iter().map(|group| product(group, currency)).collect::<Result<_, _>>()?;
    Ok(Cut::Page { products, next: next.map(|n| offset + n as u64) })
}

/// A product's lines as the node a page query would have returned, then its record.
fn product(group: Group, currency: &str) -> Result<Product, ConnectorError> {
    let mut node = group.product;
    let images: Vec<Value> = group.images.into_iter().take(IMAGES_PER_PRODUCT as usize).collect();
    node.insert("images".into(), json!({ "nodes": images }));
    node.insert("variants".into(), json!({ "nodes": group.variants }));
    let node: ProductNode = mapping::decode(Value::Object(node))?;
    mapping::product(node, currency)
}

fn bad_line(at: u64, what: &str) -> ConnectorError {
    ConnectorError::Fatal(format!("the bulk result file's line at byte {at} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three products as the sandbox writes them for `BULK_PRODUCTS` (2, 1 and 3 variants; see
    /// the sandbox's `the_plugins_bulk_read_runs_and_groups_each_product_with_its_variants_and_images`).
    const FILE: &str = include_str!("../../testdata/bulk-products.jsonl");

    fn page(cut: Cut) -> (Vec<Product>, Option<u64>) {
        match cut {
            Cut::Page { products, next } => (products, next),
            Cut::TooSmall => panic!("expected a page"),
        }
    }

    fn starts() -> Vec<u64> {
        let mut starts = Vec::new();
        let mut at = 0;
        for line in FILE.split_inclusive('\n') {
            if !line.contains("__parentId") {
                starts.push(at);
            }
            at += line.len() as u64;
        }
        starts
    }

    #[test]
    fn a_whole_file_maps_to_the_records_a_page_would_give() {
        let (products, next) = page(read(FILE.as_bytes(), 0, true, 50, "EUR").expect("reads"));
        assert_eq!(next, None);
        let variants: Vec<usize> = products.iter().map(|p| p.variants.len()).collect();
        assert_eq!(variants, [2, 1, 3]);
        let first = &products[0];
        assert_eq!(first.id, "gid://shopify/Product/8100000000000");
        assert_eq!(first.variants[0].price.currency, "EUR");
        assert!(first.variants[0].price.amount.contains('.'));
        assert_eq!(first.images.len(), 1);
        assert!(first.variants.iter().all(|v| !v.sku.is_empty() && v.weight_grams.is_some()));
        assert!(products[1].variants[0].options.is_empty(), "the Default Title placeholder is dropped");
        assert!(products[0].updated_at > 0);
    }

    #[test]
    fn a_page_holds_at_most_limit_products_and_the_next_starts_at_the_following_one() {
        let starts = starts();
        let (products, next) = page(read(FILE.as_bytes(), 0, true, 2, "EUR").expect("reads"));
        assert_eq!(products.len(), 2);
        assert_eq!(next, Some(starts[2]));
        let rest = &FILE.as_bytes()[starts[2] as usize..];
        let (products, next) = page(read(rest, starts[2], true, 2, "EUR").expect("reads"));
        assert_eq!((products.len(), next), (1, None));
        assert_eq!(products[0].variants.len(), 3);
    }

    #[test]
    fn a_product_cut_by_the_window_is_carried_to_the_next_page() {
        let starts = starts();
        // Ends inside the second product's variants.
        let window = &FILE.as_bytes()[..starts[2] as usize - 10];
        let (products, next) = page(read(window, 0, false, 50, "EUR").expect("reads"));
        assert_eq!(products.len(), 1);
        assert_eq!(next, Some(starts[1]), "the second product starts the next page");
        // Ends right after the second product's last line: it may have more variants yet.
        let window = &FILE.as_bytes()[..starts[2] as usize];
        let (products, next) = page(read(window, 0, false, 50, "EUR").expect("reads"));
        assert_eq!((products.len(), next), (1, Some(starts[1])));
        // A few bytes of the next line prove nothing; the whole line shows it is whole.
        let window = &FILE.as_bytes()[..starts[2] as usize + 5];
        let (products, next) = page(read(window, 0, false, 50, "EUR").expect("reads"));
        assert_eq!((products.len(), next), (1, Some(starts[1])));
        let line_end = starts[2] as usize + FILE[starts[2] as usize..].find('\n').expect("a line") + 1;
        let (products, next) = page(read(&FILE.as_bytes()[..line_end], 0, false, 50, "EUR").expect("reads"));
        assert_eq!((products.len(), next), (2, Some(starts[2])));
    }

    #[test]
    fn a_window_without_one_whole_product_asks_for_a_larger_one() {
        let window = &FILE.as_bytes()[..40];
        assert!(matches!(read(window, 0, false, 50, "EUR"), Ok(Cut::TooSmall)));
        let window = &FILE.as_bytes()[..starts()[1] as usize];
        assert!(matches!(read(window, 0, false, 50, "EUR"), Ok(Cut::TooSmall)));
    }

    #[test]
    fn the_end_of_an_empty_window_is_the_end_of_the_file() {
        let (products, next) = page(read(b"", 4096, true, 50, "EUR").expect("reads"));
        assert_eq!((products.len(), next), (0, None));
    }

    #[test]
    fn an_ungrouped_or_broken_file_is_fatal_and_says_where() {
        let ungrouped = "{\"id\":\"gid://shopify/Product/1\",\"title\":\"A\"}\n{\"id\":\"gid://shopify/Product/2\",\"title\":\"B\"}\n{\"id\":\"gid://shopify/ProductVariant/9\",\"__parentId\":\"gid://shopify/Product/1\"}\n";
        match read(ungrouped.as_bytes(), 100, true, 50, "EUR") {
            Err(ConnectorError::Fatal(m)) => {
                assert!(m.contains("byte 190") && m.contains("not grouped"), "{m}")
            }
            other => panic!("expected fatal, got {other:?}"),
        }
        let broken = "{\"id\":\"gid://shopify/Product/1\"\n";
        assert!(
            matches!(read(broken.as_bytes(), 0, true, 50, "EUR"), Err(ConnectorError::Fatal(m)) if m.contains("byte 0"))
        );
    }
}
