//! Placing a product in a channel category: a hand mapping wins, then the first matching
//! category template, then the channel's category rule, then the connection's default
//! category. The category's required attributes are checked here, before any push.

use crate::db::placement::{CategoryTemplate, HandCategory, MatchField};
use crate::model::{Attribute, AttributeValue, Product};
use crate::rules::product_rule::ChannelFacts;
use crate::rules::{CategoryOutcome, CategoryRule, RuleEngine, RuleError};

/// Where a placement came from, for the product center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementSource {
    Hand,
    Template { field: MatchField, value: String },
    Rule,
    ChannelDefault,
}

impl std::fmt::Display for PlacementSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlacementSource::Hand => write!(f, "mapped by hand"),
            PlacementSource::Template { field, value } => {
                write!(f, "template {}={value}", field.as_str())
            }
            PlacementSource::Rule => write!(f, "category rule"),
            PlacementSource::ChannelDefault => write!(f, "channel default"),
        }
    }
}

/// A product's category on a channel, with the attribute values that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub category_id: String,
    pub attributes: Vec<AttributeValue>,
    pub source: PlacementSource,
}

/// What placing a product came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementOutcome {
    Placed(Placement),
    /// The category rule skipped it.
    Skip(String),
    /// Nothing decided and the channel has no default: the merchant must map it.
    Unmapped,
}

/// A channel's category mapping, loaded once per sync.
#[derive(Debug, Clone, Default)]
pub struct CategoryMapper {
    pub templates: Vec<CategoryTemplate>,
    pub rule: Option<CategoryRule>,
    /// The connection's `category-id` setting.
    pub default_category: Option<String>,
}

impl CategoryMapper {
    pub fn place(
        &self,
        engine: &RuleEngine,
        product: &Product,
        channel: &ChannelFacts,
        by_hand: Option<HandCategory>,
    ) -> Result<PlacementOutcome, RuleError> {
        if let Some(hand) = by_hand {
            return Ok(PlacementOutcome::Placed(Placement {
                category_id: hand.category_id,
                attributes: hand.attributes,
                source: PlacementSource::Hand,
            }));
        }
        if let Some(t) = self.templates.iter().find(|t| template_matches(t, product)) {
            return Ok(PlacementOutcome::Placed(Placement {
                category_id: t.category_id.clone(),
                attributes: t.attributes.clone(),
                source: PlacementSource::Template { field: t.match_field, value: t.match_value.clone() },
            }));
        }
        if let Some(rule) = &self.rule {
            match rule.apply(engine, product, channel)? {
                CategoryOutcome::Category { id, attributes } => {
                    return Ok(PlacementOutcome::Placed(Placement {
                        category_id: id,
                        attributes,
                        source: PlacementSource::Rule,
                    }));
                }
                CategoryOutcome::Skip(reason) => return Ok(PlacementOutcome::Skip(reason)),
                CategoryOutcome::Undecided => {}
            }
        }
        Ok(match &self.default_category {
            Some(id) => PlacementOutcome::Placed(Placement {
                category_id: id.clone(),
                attributes: Vec::new(),
                source: PlacementSource::ChannelDefault,
            }),
            None => PlacementOutcome::Unmapped,
        })
    }
}

fn template_matches(t: &CategoryTemplate, p: &Product) -> bool {
    let wanted = t.match_value.trim();
    let eq = |v: &str| v.trim().eq_ignore_ascii_case(wanted);
    match t.match_field {
        MatchField::ProductType => p.product_type.as_deref().is_some_and(eq),
        MatchField::Vendor => p.vendor.as_deref().is_some_and(eq),
        MatchField::Tag => p.tags.iter().any(|tag| eq(tag)),
    }
}

/// Required product attributes of the category that the placement leaves empty. Sales
/// attributes (size, colour) come from the SKUs' options, so they are not asked for here.
pub fn missing_attributes<'a>(required_by: &'a [Attribute], given: &[AttributeValue]) -> Vec<&'a Attribute> {
    required_by
        .iter()
        .filter(|a| a.required && !a.is_sales_attribute)
        .filter(|a| !given.iter().any(|v| v.attribute_id == a.id && !v.is_empty()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChannelId, ProductStatus};

    fn product(product_type: &str, tags: &[&str]) -> Product {
        Product {
            external_id: "p1".into(),
            title: "Tent".into(),
            description_html: String::new(),
            vendor: Some("Acme".into()),
            product_type: Some(product_type.into()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            status: ProductStatus::Active,
            images: vec![],
            variants: vec![],
            updated_at_ms: 0,
        }
    }

    fn template(field: MatchField, value: &str, category: &str, priority: i64) -> CategoryTemplate {
        CategoryTemplate {
            id: priority,
            channel_id: ChannelId(1),
            match_field: field,
            match_value: value.into(),
            category_id: category.into(),
            attributes: vec![],
            priority,
        }
    }

    fn facts() -> ChannelFacts {
        ChannelFacts { name: "US".into(), currency: "USD".into(), region: None }
    }

    #[test]
    fn hand_mapping_beats_templates_and_templates_beat_the_default() {
        let mapper = CategoryMapper {
            templates: vec![template(MatchField::ProductType, "tents", "600002", 1)],
            rule: None,
            default_category: Some("600001".into()),
        };
        let engine = RuleEngine::default();
        let tent = product("Tents", &[]);
        let hand = HandCategory { category_id: "700001".into(), attributes: vec![] };
        let placed = |o: PlacementOutcome| match o {
            PlacementOutcome::Placed(p) => p.category_id,
            other => panic!("not placed: {other:?}"),
        };
        assert_eq!(placed(mapper.place(&engine, &tent, &facts(), Some(hand)).expect("ok")), "700001");
        assert_eq!(placed(mapper.place(&engine, &tent, &facts(), None).expect("ok")), "600002");
        assert_eq!(
            placed(mapper.place(&engine, &product("Mugs", &[]), &facts(), None).expect("ok")),
            "600001"
        );
    }

    #[test]
    fn the_category_rule_decides_when_no_template_matches() {
        let engine = RuleEngine::default();
        let rule = CategoryRule::compile(
            &engine,
            "category rule v1",
            1,
            r#"if product.tags.contains("cookware") { #{ category: "600003", attributes: #{ "100001": "Steel" } } } else { () }"#,
        )
        .expect("compiles");
        let mapper = CategoryMapper { templates: vec![], rule: Some(rule), default_category: None };
        match mapper.place(&engine, &product("Pans", &["cookware"]), &facts(), None).expect("ok") {
            PlacementOutcome::Placed(p) => {
                assert_eq!(p.category_id, "600003");
                assert_eq!(p.attributes[0].custom_values, vec!["Steel".to_string()]);
                assert_eq!(p.source, PlacementSource::Rule);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            mapper.place(&engine, &product("Pans", &[]), &facts(), None).expect("ok"),
            PlacementOutcome::Unmapped
        );
    }

    #[test]
    fn required_product_attributes_left_empty_are_reported() {
        let attribute = |id: &str, required: bool, sales: bool| Attribute {
            id: id.into(),
            name: format!("attr {id}"),
            required,
            options: vec![],
            custom_allowed: true,
            is_sales_attribute: sales,
        };
        let required =
            vec![attribute("1", true, false), attribute("2", true, true), attribute("3", false, false)];
        let given = vec![AttributeValue {
            attribute_id: "1".into(),
            option_ids: vec![],
            custom_values: vec![" ".into()],
        }];
        let missing: Vec<&str> =
            missing_attributes(&required, &given).iter().map(|a| a.id.as_str()).collect();
        assert_eq!(missing, vec!["1"], "blank values do not count; sales attributes come from SKUs");
    }
}
