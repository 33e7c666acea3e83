//! Over real HTTP: category attributes, and Create/Edit Product checking `product_attributes`
//! against them (leaf 600002 requires Material; leaf 600001 requires nothing).

use super::*;

async fn attributes(client: &Client, cipher: &str, category: &str) -> Value {
    client
        .shop_call(Method::GET, &format!("/product/202309/categories/{category}/attributes"), cipher, None)
        .await
}

/// A one-SKU product in `category` with these `product_attributes`.
fn decor(shop: &SandboxShop, category: &str, product_attributes: Value) -> Value {
    let mut body = product_body(shop, "");
    body["category_id"] = json!(category);
    body["idempotency_key"] = Value::Null;
    body["product_attributes"] = product_attributes;
    let skus = body["skus"].as_array_mut().expect("skus");
    skus.truncate(1);
    skus[0]["sales_attributes"] = json!([]);
    body
}

async fn create_code(client: &Client, shop: &SandboxShop, body: &Value) -> Value {
    client.shop_call(Method::POST, "/product/202309/products", &shop.cipher, Some(body)).await
}

#[tokio::test]
async fn a_leaf_lists_its_attributes_with_the_real_apis_spelling() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();

    let decor = attributes(&client, &us.cipher, "600002").await;
    assert_eq!(decor["code"], 0, "{decor}");
    let list = decor["data"]["attributes"].as_array().expect("attributes");
    let material = list.iter().find(|a| a["id"] == "100198").expect("Material");
    assert_eq!(material["name"], "Material");
    assert_eq!(material["type"], "PRODUCT_PROPERTY");
    assert_eq!(material["is_requried"], true);
    assert_eq!(material["is_customizable"], true);
    assert_eq!(material["values"][0], json!({ "id": "1000058", "name": "Cotton" }));
    assert!(list.iter().any(|a| a["type"] == "SALES_PROPERTY"));

    let organizers = attributes(&client, &us.cipher, "600001").await;
    let list = organizers["data"]["attributes"].as_array().expect("attributes");
    assert!(!list.is_empty());
    assert!(list.iter().all(|a| a["is_requried"] == false));

    assert_eq!(attributes(&client, &us.cipher, "600000").await["code"], 12052024);
    assert_eq!(attributes(&client, &us.cipher, "999999").await["code"], 12052023);
}

#[tokio::test]
async fn a_product_missing_a_required_attribute_is_refused_naming_it() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();

    let refused = create_code(&client, &us, &decor(&us, "600002", json!([]))).await;
    assert_eq!(refused["code"], 12052104, "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(message.contains("Material") && message.contains("100198"), "{message}");
    assert!(sandbox.products(&us.cipher).is_empty());

    // The default leaf requires nothing.
    let plain = create_code(&client, &us, &decor(&us, "600001", json!([]))).await;
    assert_eq!(plain["code"], 0, "{plain}");
}

#[tokio::test]
async fn attribute_values_go_by_built_in_id_or_custom_name() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let attributes = json!([
        { "id": "100198", "values": [{ "id": "1000061" }, { "name": "Bamboo" }] },
        { "id": "100347", "values": [{ "id": "1000710" }] },
    ]);
    let created = create_code(&client, &us, &decor(&us, "600002", attributes)).await;
    assert_eq!(created["code"], 0, "{created}");
    let id = created["data"]["product_id"].as_str().expect("id");

    let product = sandbox.product(&us.cipher, id).expect("product");
    let material = &product.product_attributes[0];
    assert_eq!(material.id, "100198");
    assert_eq!(material.value_names, ["Wood", "Bamboo"]);
    assert_eq!(material.value_ids[0], "1000061");
    assert!(material.value_ids[1].len() == 19, "custom values get an id");

    let (_, got) = client
        .call(
            Method::GET,
            &format!("/product/202309/products/{id}"),
            &[("shop_cipher", &us.cipher), ("return_under_review_version", "true")],
            None,
        )
        .await;
    assert_eq!(got["data"]["product_attributes"][1]["values"][0]["name"], "Modern", "{got}");

    // An edit is a full replace: it must carry the required attribute again.
    let edit = client
        .shop_call(
            Method::PUT,
            &format!("/product/202309/products/{id}"),
            &us.cipher,
            Some(&decor(&us, "600002", json!([]))),
        )
        .await;
    assert_eq!(edit["code"], 12052104, "{edit}");
}

#[tokio::test]
async fn malformed_attribute_values_get_their_codes() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let material = json!({ "id": "100198", "values": [{ "id": "1000058" }] });
    let cases = [
        (json!({ "id": "100392", "values": [{ "name": "Party" }] }), 12052247),
        (json!({ "id": "100347", "values": [{ "id": "1000710" }, { "id": "1000711" }] }), 12052246),
        (json!({ "id": "100347", "values": [] }), 12052248),
        (json!({ "name": "Mood", "values": [{ "name": "Calm" }] }), 12052240),
        (json!({ "values": [{ "name": "Calm" }] }), 12052241),
        (material.clone(), 12052254),
    ];
    let unknown_value = json!([{ "id": "100198", "values": [{ "id": "42" }] }]);
    let refused = create_code(&client, &us, &decor(&us, "600002", unknown_value)).await;
    assert_eq!(refused["code"], 12052529, "{refused}");
    for (attribute, expected) in cases {
        let body = decor(&us, "600002", json!([material, attribute]));
        let refused = create_code(&client, &us, &body).await;
        assert_eq!(refused["code"], expected, "{attribute}: {refused}");
    }
    // A sales attribute is not a product attribute.
    let body = decor(&us, "600002", json!([material, { "id": "100000", "values": [{ "id": "1000010" }] }]));
    assert_ne!(create_code(&client, &us, &body).await["code"], 0);
}
