//! Store catalogs the sandboxes serve: a parser for Shopify's product CSV export, the
//! project's own demo catalog (`fixtures/demo-catalog.csv`), and deterministic synthetic
//! catalogs of any size for benchmarks.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;

/// One product with its variants, as the store holds it. Its JSON shape (snake_case fields,
/// decimal strings for money) is what the sandboxes' control APIs take to seed a catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogProduct {
    /// URL-safe unique key (`trail-tent-2p`); continuation CSV rows share it.
    pub handle: String,
    pub title: String,
    pub body_html: String,
    pub vendor: String,
    pub product_type: String,
    /// In the order the store lists them.
    pub tags: Vec<String>,
    pub status: ProductStatus,
    /// Image URLs, main image first, without duplicates.
    pub images: Vec<String>,
    /// At least one.
    pub variants: Vec<CatalogVariant>,
}

/// Whether a product is for sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Active,
    Draft,
    Archived,
}

/// One purchasable variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogVariant {
    /// May be empty: Shopify neither requires nor de-duplicates SKUs.
    pub sku: String,
    /// Option values joined with `" / "` (`M / Green`), or `Default Title`.
    pub title: String,
    /// `(name, value)` pairs; a single-variant product has `("Title", "Default Title")`.
    pub options: Vec<(String, String)>,
    pub price: Decimal,
    pub compare_at_price: Option<Decimal>,
    pub inventory_quantity: i64,
    pub grams: u32,
    pub barcode: Option<String>,
}

/// Why a catalog CSV could not be read. Lines and columns are 1-based; the line is where the
/// CSV record starts (the header is line 1).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    #[error("the header has no `{column}` column")]
    MissingColumn { column: &'static str },
    #[error("line {line}, column {column} ({field}): {message}")]
    Field { line: usize, column: usize, field: &'static str, message: String },
    #[error("line {line}: {message}")]
    Row { line: usize, message: String },
}

/// The demo shop's catalog: outdoor and kitchen goods, written for this project.
pub fn demo_catalog() -> Vec<CatalogProduct> {
    parse_shopify_csv(include_str!("../fixtures/demo-catalog.csv"))
        .expect("fixtures/demo-catalog.csv is valid (the catalog unit tests parse it)")
}

/// Parses Shopify's product CSV format: one row per variant or extra image; rows of one
/// product share its `Handle`, and only the first carries title, body, vendor and option names.
pub fn parse_shopify_csv(text: &str) -> Result<Vec<CatalogProduct>, CatalogError> {
    let mut records = csv_records(text)?.into_iter();
    let Some(header) = records.next() else {
        return Ok(Vec::new());
    };
    let columns = Columns::from_header(&header.fields)?;

    let mut products: Vec<CatalogProduct> = Vec::new();
    let mut option_names: Vec<[String; 3]> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();

    for record in records {
        if record.fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let row = Row { columns: &columns, record: &record };
        let handle = row.get(columns.handle).trim();
        if handle.is_empty() {
            return Err(row.field_error(columns.handle, "Handle", "is empty"));
        }
        let index = match by_handle.get(handle) {
            Some(&index) => index,
            None => {
                let product = row.new_product(handle)?;
                option_names.push(row.option_names());
                products.push(product);
                by_handle.insert(handle.to_string(), products.len() - 1);
                products.len() - 1
            }
        };
        let product = &mut products[index];
        let names = &mut option_names[index];
        // Continuation rows may name options again (some exports do); keep the first names.
        for (slot, name) in names.iter_mut().zip(row.option_names()) {
            if slot.is_empty() {
                *slot = name;
            }
        }
        let first_row = product.variants.is_empty();
        if first_row || row.has_variant_data() {
            let variant = row.variant(names)?;
            product.variants.push(variant);
        }
        row.push_images(product);
    }
    Ok(products)
}

/// Column positions, looked up by header name once.
struct Columns {
    handle: usize,
    title: Option<usize>,
    body: Option<usize>,
    vendor: Option<usize>,
    product_type: Option<usize>,
    tags: Option<usize>,
    published: Option<usize>,
    status: Option<usize>,
    option_names: [Option<usize>; 3],
    option_values: [Option<usize>; 3],
    sku: Option<usize>,
    grams: Option<usize>,
    quantity: Option<usize>,
    price: usize,
    compare_at: Option<usize>,
    barcode: Option<usize>,
    image_src: Option<usize>,
    variant_image: Option<usize>,
}

impl Columns {
    fn from_header(header: &[String]) -> Result<Self, CatalogError> {
        let find = |name: &str| header.iter().position(|h| h.trim() == name);
        let require = |name: &'static str| find(name).ok_or(CatalogError::MissingColumn { column: name });
        Ok(Columns {
            handle: require("Handle")?,
            title: find("Title"),
            body: find("Body (HTML)"),
            vendor: find("Vendor"),
            // Newer exports call it "Type"; older ones "Product Type"... and the 2024 format
            // "Product Category" is a taxonomy, not the merchant's type, so it is not read here.
            product_type: find("Type").or_else(|| find("Product Type")),
            tags: find("Tags"),
            published: find("Published"),
            status: find("Status"),
            option_names: [find("Option1 Name"), find("Option2 Name"), find("Option3 Name")],
            option_values: [find("Option1 Value"), find("Option2 Value"), find("Option3 Value")],
            sku: find("Variant SKU"),
            grams: find("Variant Grams"),
            quantity: find("Variant Inventory Qty"),
            price: require("Variant Price")?,
            compare_at: find("Variant Compare At Price"),
            barcode: find("Variant Barcode"),
            image_src: find("Image Src"),
            variant_image: find("Variant Image"),
        })
    }
}

/// One data row with its columns, for field lookups that name the line and column on error.
struct Row<'a> {
    columns: &'a Columns,
    record: &'a Record,
}

impl Row<'_> {
    /// The field at `index`; short rows read as empty fields.
    fn get(&self, index: usize) -> &str {
        self.record.fields.get(index).map(String::as_str).unwrap_or("")
    }

    fn opt(&self, index: Option<usize>) -> &str {
        index.map(|i| self.get(i)).unwrap_or("").trim()
    }

    fn field_error(&self, index: usize, field: &'static str, message: impl Into<String>) -> CatalogError {
        CatalogError::Field { line: self.record.line, column: index + 1, field, message: message.into() }
    }

    fn new_product(&self, handle: &str) -> Result<CatalogProduct, CatalogError> {
        let c = self.columns;
        let title = self.opt(c.title);
        if title.is_empty() {
            let message = format!("the first row of product `{handle}` has no title");
            return Err(match c.title {
                Some(i) => self.field_error(i, "Title", message),
                None => CatalogError::Row { line: self.record.line, message },
            });
        }
        Ok(CatalogProduct {
            handle: handle.to_string(),
            title: title.to_string(),
            body_html: self.opt(c.body).to_string(),
            vendor: self.opt(c.vendor).to_string(),
            product_type: self.opt(c.product_type).to_string(),
            tags: self
                .opt(c.tags)
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            status: self.status()?,
            images: Vec::new(),
            variants: Vec::new(),
        })
    }

    /// `Status` (active/draft/archived) when the export has it, else `Published`.
    fn status(&self) -> Result<ProductStatus, CatalogError> {
        let c = self.columns;
        if let Some(i) = c.status {
            let value = self.get(i).trim();
            if !value.is_empty() {
                return match value.to_ascii_lowercase().as_str() {
                    "active" => Ok(ProductStatus::Active),
                    "draft" => Ok(ProductStatus::Draft),
                    "archived" => Ok(ProductStatus::Archived),
                    _ => Err(self.field_error(
                        i,
                        "Status",
                        format!("`{value}` is not active, draft or archived"),
                    )),
                };
            }
        }
        match c.published {
            Some(i) => match self.get(i).trim().to_ascii_lowercase().as_str() {
                "" | "true" => Ok(ProductStatus::Active),
                "false" => Ok(ProductStatus::Draft),
                other => Err(self.field_error(i, "Published", format!("`{other}` is not true or false"))),
            },
            None => Ok(ProductStatus::Active),
        }
    }

    fn option_names(&self) -> [String; 3] {
        self.columns.option_names.map(|i| self.opt(i).to_string())
    }

    /// Image-only continuation rows carry no option value, SKU or price.
    fn has_variant_data(&self) -> bool {
        let c = self.columns;
        c.option_values.iter().any(|&i| !self.opt(i).is_empty())
            || !self.opt(c.sku).is_empty()
            || !self.get(c.price).trim().is_empty()
    }

    fn variant(&self, names: &[String; 3]) -> Result<CatalogVariant, CatalogError> {
        let c = self.columns;
        let mut options = Vec::new();
        for (name, value_index) in names.iter().zip(c.option_values) {
            let value = self.opt(value_index);
            if value.is_empty() {
                continue;
            }
            let name = if name.is_empty() { "Title" } else { name.as_str() };
            options.push((name.to_string(), value.to_string()));
        }
        if options.is_empty() {
            options.push(("Title".to_string(), "Default Title".to_string()));
        }
        let title = options.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" / ");

        let price_text = self.get(c.price).trim();
        if price_text.is_empty() {
            return Err(self.field_error(c.price, "Variant Price", "a variant needs a price"));
        }
        let price = self.decimal(c.price, "Variant Price", price_text)?;
        let compare_at_price = match c.compare_at {
            Some(i) if !self.get(i).trim().is_empty() => {
                Some(self.decimal(i, "Variant Compare At Price", self.get(i).trim())?)
            }
            _ => None,
        };
        let inventory_quantity = match c.quantity {
            Some(i) if !self.get(i).trim().is_empty() => {
                let text = self.get(i).trim();
                text.parse::<i64>().map_err(|_| {
                    self.field_error(i, "Variant Inventory Qty", format!("`{text}` is not a whole number"))
                })?
            }
            _ => 0,
        };
        let grams = match c.grams {
            Some(i) if !self.get(i).trim().is_empty() => self.grams(i, self.get(i).trim())?,
            _ => 0,
        };
        let barcode = Some(self.opt(c.barcode)).filter(|b| !b.is_empty()).map(str::to_string);
        Ok(CatalogVariant {
            sku: self.opt(c.sku).to_string(),
            title,
            options,
            price,
            compare_at_price,
            inventory_quantity,
            grams,
            barcode,
        })
    }

    fn decimal(&self, index: usize, field: &'static str, text: &str) -> Result<Decimal, CatalogError> {
        match Decimal::from_str(text) {
            Ok(value) if !value.is_sign_negative() => Ok(value),
            Ok(_) => Err(self.field_error(index, field, format!("`{text}` is negative"))),
            Err(_) => Err(self.field_error(index, field, format!("`{text}` is not a decimal amount"))),
        }
    }

    /// Whole grams; some exports write `250.0`, which is rounded.
    fn grams(&self, index: usize, text: &str) -> Result<u32, CatalogError> {
        if let Ok(grams) = text.parse::<u32>() {
            return Ok(grams);
        }
        let error = || self.field_error(index, "Variant Grams", format!("`{text}` is not a weight in grams"));
        let value = Decimal::from_str(text).map_err(|_| error())?;
        let rounded = value.round();
        if rounded.is_sign_negative() {
            return Err(error());
        }
        u32::try_from(rounded.mantissa() / 10i128.pow(rounded.scale())).map_err(|_| error())
    }

    fn push_images(&self, product: &mut CatalogProduct) {
        let c = self.columns;
        for url in [self.opt(c.image_src), self.opt(c.variant_image)] {
            if !url.is_empty() && !product.images.iter().any(|u| u == url) {
                product.images.push(url.to_string());
            }
        }
    }
}

/// One CSV record and the line it starts on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// Splits RFC 4180 CSV: `,` separators, `"` quoting with `""` escapes, quoted fields may hold
/// commas and newlines, records end with LF or CRLF. A UTF-8 BOM is skipped.
fn csv_records(text: &str) -> Result<Vec<Record>, CatalogError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut record_line = 1;
    let mut line = 1;
    let mut column = 1;
    let mut chars = text.chars().peekable();
    // Where the current field started, for errors about an unterminated quote.
    let mut quote_start = (1, 1);

    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        AfterQuote,
    }
    let mut state = State::FieldStart;

    while let Some(c) = chars.next() {
        match state {
            State::FieldStart | State::Unquoted => {
                match c {
                    ',' => {
                        fields.push(std::mem::take(&mut field));
                        state = State::FieldStart;
                    }
                    '\r' if chars.peek() == Some(&'\n') => {}
                    '\n' => {
                        fields.push(std::mem::take(&mut field));
                        records.push(Record { line: record_line, fields: std::mem::take(&mut fields) });
                        line += 1;
                        column = 0;
                        record_line = line;
                        state = State::FieldStart;
                    }
                    '"' if state == State::FieldStart => {
                        quote_start = (line, column);
                        state = State::Quoted;
                    }
                    '"' => {
                        return Err(CatalogError::Syntax {
                        line,
                        column,
                        message: "a quote inside an unquoted field (quote the whole field and double the quote)".into(),
                    });
                    }
                    _ => {
                        field.push(c);
                        state = State::Unquoted;
                    }
                }
            }
            State::Quoted => match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    column += 1;
                    field.push('"');
                }
                '"' => state = State::AfterQuote,
                '\n' => {
                    field.push('\n');
                    line += 1;
                    column = 0;
                }
                _ => field.push(c),
            },
            State::AfterQuote => match c {
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    state = State::FieldStart;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    fields.push(std::mem::take(&mut field));
                    records.push(Record { line: record_line, fields: std::mem::take(&mut fields) });
                    line += 1;
                    column = 0;
                    record_line = line;
                    state = State::FieldStart;
                }
                _ => {
                    return Err(CatalogError::Syntax {
                        line,
                        column,
                        message: format!("`{c}` after a closing quote (expected `,` or a line end)"),
                    });
                }
            },
        }
        column += 1;
    }
    match state {
        State::Quoted => Err(CatalogError::Syntax {
            line: quote_start.0,
            column: quote_start.1,
            message: "a quoted field is never closed".into(),
        }),
        State::FieldStart if fields.is_empty() && field.is_empty() => Ok(records),
        _ => {
            fields.push(field);
            records.push(Record { line: record_line, fields });
            Ok(records)
        }
    }
}

/// A deterministic synthetic catalog for benchmarks: `products` products with
/// `variants_per_product` variants each (at least one), the same for the same `seed`.
/// SKUs are unique (`GEN-000042-03`); every product is active.
pub fn generated_catalog(products: usize, variants_per_product: usize, seed: u64) -> Vec<CatalogProduct> {
    const ADJECTIVES: [&str; 12] = [
        "Alpine", "Coastal", "Rugged", "Compact", "Everyday", "Summit", "Canyon", "Harbor", "Forest",
        "Prairie", "Glacier", "Desert",
    ];
    const NOUNS: [&str; 12] = [
        "Tent",
        "Skillet",
        "Lantern",
        "Backpack",
        "Kettle",
        "Hammock",
        "Cutting Board",
        "Water Bottle",
        "Sleeping Bag",
        "Chef Knife",
        "Camp Chair",
        "Cooler",
    ];
    const TYPES: [&str; 4] = ["Camping", "Cookware", "Outdoor Gear", "Kitchen Tools"];
    const SIZES: [&str; 6] = ["XS", "S", "M", "L", "XL", "XXL"];
    const COLORS: [&str; 8] = ["Green", "Blue", "Red", "Black", "Sand", "Grey", "Orange", "White"];

    let mut rng = SplitMix64(seed);
    let variants_per_product = variants_per_product.max(1);
    let mut catalog = Vec::with_capacity(products);
    for p in 0..products {
        let adjective = ADJECTIVES[rng.below(ADJECTIVES.len())];
        let noun = NOUNS[rng.below(NOUNS.len())];
        let product_type = TYPES[rng.below(TYPES.len())];
        // Whole cents from 5.00 to 404.99.
        let base_cents = 500 + rng.below(40_000) as i64;
        let mut variants = Vec::with_capacity(variants_per_product);
        for v in 0..variants_per_product {
            let options = if variants_per_product == 1 {
                vec![("Title".to_string(), "Default Title".to_string())]
            } else {
                let mut options = vec![
                    ("Size".to_string(), SIZES[v % SIZES.len()].to_string()),
                    ("Color".to_string(), COLORS[(v / SIZES.len()) % COLORS.len()].to_string()),
                ];
                let combos = SIZES.len() * COLORS.len();
                if variants_per_product > combos {
                    options.push(("Style".to_string(), format!("Style {}", v / combos + 1)));
                }
                options
            };
            let title = options.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" / ");
            let price = Decimal::new(base_cents + 100 * v as i64, 2);
            let compare_at_price = (rng.below(4) == 0).then(|| price + Decimal::new(500, 2));
            variants.push(CatalogVariant {
                sku: format!("GEN-{p:06}-{v:02}"),
                title,
                options,
                price,
                compare_at_price,
                inventory_quantity: rng.below(201) as i64,
                grams: 100 + rng.below(5_000) as u32,
                barcode: (rng.below(2) == 0).then(|| format!("2{:011}{}", p * 100 + v, v % 10)),
            });
        }
        catalog.push(CatalogProduct {
            handle: format!("gen-{}-{}-{p}", slug(adjective), slug(noun)),
            title: format!("{adjective} {noun} #{p}"),
            body_html: format!(
                "<p>A {} {} for benchmarks.</p>",
                adjective.to_lowercase(),
                noun.to_lowercase()
            ),
            vendor: "Crossdock Bench Co".to_string(),
            product_type: product_type.to_string(),
            tags: vec![product_type.to_lowercase(), "generated".to_string()],
            status: ProductStatus::Active,
            images: vec![format!("https://cdn.example.com/generated/{p}-1.jpg")],
            variants,
        });
    }
    catalog
}

fn slug(text: &str) -> String {
    text.to_lowercase().replace(' ', "-")
}

/// A tiny, stable PRNG: the catalog must stay the same across `rand` upgrades.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for test data (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const HEADER: &str = "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Grams,Variant Inventory Qty,Variant Price,Variant Compare At Price,Variant Barcode,Image Src";

    #[test]
    fn demo_catalog_parses_with_many_products_and_unique_skus() {
        let catalog = demo_catalog();
        assert!(catalog.len() >= 50, "only {} products", catalog.len());
        let multi = catalog.iter().filter(|p| p.variants.len() > 1).count();
        assert!(multi >= catalog.len() / 4, "only {multi} multi-variant products");
        assert!(catalog.iter().any(|p| p.variants.len() >= 4));
        let mut skus = HashSet::new();
        for product in &catalog {
            assert!(!product.title.is_empty());
            assert!(!product.images.is_empty(), "{} has no image", product.handle);
            for variant in &product.variants {
                assert!(!variant.sku.is_empty(), "{} has a variant without SKU", product.handle);
                assert!(skus.insert(variant.sku.clone()), "duplicate SKU {}", variant.sku);
                assert!((0..=200).contains(&variant.inventory_quantity));
            }
        }
        assert!(catalog.iter().any(|p| p.status == ProductStatus::Draft));
        assert!(catalog.iter().flat_map(|p| &p.variants).any(|v| v.compare_at_price.is_some()));
    }

    #[test]
    fn continuation_rows_add_variants_and_images_to_the_same_product() {
        let csv = format!(
            "{HEADER}\r\n\
             mug,Camp Mug,\"<p>Enamel, 350 ml</p>\",Acme,Kitchen,\"camp, mug\",true,Color,Blue,MUG-B,300,5,12.00,15.00,0123,https://cdn.example.com/a.jpg\r\n\
             mug,,,,,,,,Red,MUG-R,300,0,12.50,,,https://cdn.example.com/b.jpg\r\n\
             mug,,,,,,,,,,,,,,,https://cdn.example.com/c.jpg\r\n"
        );
        let products = parse_shopify_csv(&csv).expect("valid csv");
        assert_eq!(products.len(), 1);
        let mug = &products[0];
        assert_eq!(mug.body_html, "<p>Enamel, 350 ml</p>");
        assert_eq!(mug.tags, ["camp", "mug"]);
        assert_eq!(mug.images.len(), 3);
        assert_eq!(mug.variants.len(), 2);
        assert_eq!(mug.variants[1].options, [("Color".to_string(), "Red".to_string())]);
        assert_eq!(mug.variants[1].price, Decimal::new(1250, 2));
        assert_eq!(mug.variants[0].compare_at_price, Some(Decimal::new(1500, 2)));
        assert_eq!(mug.variants[0].barcode.as_deref(), Some("0123"));
        assert_eq!(mug.variants[1].barcode, None);
    }

    #[test]
    fn quoted_fields_keep_newlines_and_escaped_quotes() {
        let csv = format!(
            "{HEADER}\nknife,\"The \"\"Chef\"\" Knife\",\"<p>line one\nline two</p>\",,,,true,Title,Default Title,,,,30,,,\n"
        );
        let products = parse_shopify_csv(&csv).expect("valid csv");
        assert_eq!(products[0].title, "The \"Chef\" Knife");
        assert_eq!(products[0].body_html, "<p>line one\nline two</p>");
        assert_eq!(products[0].variants[0].title, "Default Title");
    }

    #[test]
    fn a_bad_price_names_its_line_and_column() {
        let csv = format!("{HEADER}\nok,Ok,,,,,true,,,,,,1.00,,,\n\"two\nlines\",T,,,,,true,,,,,,abc,,,\n");
        let error = parse_shopify_csv(&csv).expect_err("abc is not a price");
        assert_eq!(
            error,
            CatalogError::Field {
                line: 3,
                column: 13,
                field: "Variant Price",
                message: "`abc` is not a decimal amount".into()
            }
        );
        assert_eq!(error.to_string(), "line 3, column 13 (Variant Price): `abc` is not a decimal amount");
    }

    #[test]
    fn an_unclosed_quote_names_where_it_opened() {
        let csv = format!("{HEADER}\nx,\"Open title,,,\n");
        let error = parse_shopify_csv(&csv).expect_err("unterminated");
        assert!(matches!(error, CatalogError::Syntax { line: 2, column: 3, .. }), "{error}");
    }

    #[test]
    fn a_product_without_title_is_refused() {
        let csv = format!("{HEADER}\nx,,,,,,true,,,,,,1.00,,,\n");
        let error = parse_shopify_csv(&csv).expect_err("no title");
        assert!(error.to_string().contains("line 2, column 2 (Title)"), "{error}");
    }

    #[test]
    fn a_missing_handle_column_is_refused() {
        let error = parse_shopify_csv("Title,Variant Price\nA,1\n").expect_err("no Handle");
        assert_eq!(error, CatalogError::MissingColumn { column: "Handle" });
    }

    #[test]
    fn generated_catalog_is_deterministic_and_has_unique_skus() {
        let a = generated_catalog(200, 3, 7);
        let b = generated_catalog(200, 3, 7);
        assert_eq!(a, b);
        assert_ne!(a, generated_catalog(200, 3, 8));
        let skus: HashSet<_> = a.iter().flat_map(|p| &p.variants).map(|v| &v.sku).collect();
        assert_eq!(skus.len(), 600);
        let handles: HashSet<_> = a.iter().map(|p| &p.handle).collect();
        assert_eq!(handles.len(), 200);
    }

    #[test]
    fn generated_catalog_of_ten_thousand_products_has_unique_skus() {
        // How fast it is is the benchmark's business (docs/benchmarks.md), not a test's.
        let catalog = generated_catalog(10_000, 3, 1);
        assert_eq!(catalog.len(), 10_000);
        let skus: std::collections::HashSet<&str> =
            catalog.iter().flat_map(|p| p.variants.iter().map(|v| v.sku.as_str())).collect();
        assert_eq!(skus.len(), 30_000);
    }

    #[test]
    fn shared_shopify_sample_catalogs_parse() {
        let dir = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/shopify-sample-catalogs"
        ));
        if !dir.is_dir() {
            println!("skipped: ../shared fixtures not present");
            return;
        }
        let mut files = 0;
        for entry in std::fs::read_dir(dir).expect("readable fixtures dir") {
            let path = entry.expect("dir entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("csv") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).expect("utf-8 csv");
            let products = parse_shopify_csv(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!products.is_empty(), "{} has no products", path.display());
            for product in &products {
                assert!(!product.title.is_empty(), "{}: {} has no title", path.display(), product.handle);
                assert!(
                    product.variants.iter().any(|v| v.price > Decimal::ZERO),
                    "{}: {} has no priced variant",
                    path.display(),
                    product.handle
                );
            }
        }
        assert!(files > 0, "no CSV files in {}", dir.display());
    }
}
