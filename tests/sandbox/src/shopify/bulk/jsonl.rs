//! A bulk query's shape rules and its result file. Shopify checks a bulk query before it runs
//! it (one top-level field, a connection, at most five connections nested at most two deep, no
//! top-level `node`/`nodes`), then writes the result as JSONL: every node of every connection
//! is its own line, without its nested connections; a nested node names its parent with
//! `__parentId`, and comes after it. With `groupObjects: true` each node's children follow it
//! directly; without, they still come after their parent but not necessarily right after.
//!
//! Choices of ours where Shopify does not publish its behaviour: the refusal messages; an
//! ungrouped file lists the roots in runs of [`UNGROUPED_RUN`], each run followed by its
//! children, then theirs; a node that has nested connections must select `id` (the children
//! could not name it otherwise); `pageInfo` and `cursor` are dropped from the lines.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value};

/// Connections a bulk query may hold.
pub const MAX_CONNECTIONS: usize = 5;
/// How deep connections may nest, the top-level one counting as 1.
pub const MAX_CONNECTION_DEPTH: usize = 2;
/// Roots per run in a file written without grouping.
pub const UNGROUPED_RUN: usize = 100;
/// Fragments nested deeper than this are not followed (validation refuses cycles anyway).
const MAX_FRAGMENT_DEPTH: usize = 16;

/// The key that names a line's parent.
pub const PARENT_KEY: &str = "__parentId";

/// A finished result file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkFile {
    /// JSONL, each line ending in `\n`.
    pub bytes: Vec<u8>,
    /// Lines (`objectCount`).
    pub objects: u64,
    /// Lines of the top-level connection (`rootObjectCount`).
    pub roots: u64,
}

impl BulkFile {
    /// What a failed operation had written: the lines of the first half of the file.
    pub fn partial(&self) -> BulkFile {
        let half = self.bytes.len() / 2;
        let end = self.bytes[..half].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let bytes = self.bytes[..end].to_vec();
        let lines = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty());
        let (mut objects, mut roots) = (0, 0);
        for line in lines {
            objects += 1;
            let line: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(line).unwrap_or_default();
            if !line.contains_key(PARENT_KEY) {
                roots += 1;
            }
        }
        BulkFile { bytes, objects, roots }
    }
}

/// Refuses a bulk query Shopify would refuse before running it; the message is the user
/// error's.
pub fn check_shape(query: &str) -> Result<(), String> {
    let doc = async_graphql::parser::parse_query(query).map_err(|e| format!("Invalid bulk query: {e}"))?;
    let operation = match &doc.operations {
        DocumentOperations::Single(operation) => operation,
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.values().next().expect("one operation, checked above")
        }
        DocumentOperations::Multiple(_) => {
            return Err("Invalid bulk query: a bulk query must contain exactly one operation.".into());
        }
    };
    if operation.node.ty != OperationType::Query {
        return Err("Invalid bulk query: only a query can run as a bulk query operation.".into());
    }
    let shape = Shape { doc: &doc };
    let mut roots = Vec::new();
    shape.fields(&operation.node.selection_set.node, 0, &mut roots);
    let roots: Vec<_> = roots.into_iter().filter(|f| f.name.node.as_str() != "__typename").collect();
    let [root] = roots.as_slice() else {
        return Err("Invalid bulk query: a bulk query must select exactly one top-level field.".into());
    };
    if matches!(root.name.node.as_str(), "node" | "nodes") {
        return Err("Invalid bulk query: the top-level `node` and `nodes` fields can't be used.".into());
    }
    if !shape.is_connection(&root.selection_set.node) {
        return Err("Invalid bulk query: bulk queries must contain at least one connection.".into());
    }
    let mut count = 0;
    let depth = shape.connections(root, 0, &mut count);
    if count > MAX_CONNECTIONS {
        return Err(format!(
            "Invalid bulk query: bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
        ));
    }
    if depth > MAX_CONNECTION_DEPTH {
        return Err(format!(
            "Invalid bulk query: bulk queries cannot contain connections nested more than {MAX_CONNECTION_DEPTH} levels deep."
        ));
    }
    Ok(())
}

struct Shape<'a> {
    doc: &'a ExecutableDocument,
}

impl<'a> Shape<'a> {
    fn fragment(&self, name: &Name) -> Option<&'a Positioned<FragmentDefinition>> {
        self.doc.fragments.get(name)
    }

    /// The fields of `set`, through fragments.
    fn fields(
        &self,
        set: &'a SelectionSet,
        depth: usize,
        out: &mut Vec<&'a async_graphql::parser::types::Field>,
    ) {
        if depth > MAX_FRAGMENT_DEPTH {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => out.push(&field.node),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.fragment(&spread.node.fragment_name.node) {
                        self.fields(&fragment.node.selection_set.node, depth + 1, out);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.fields(&inline.node.selection_set.node, depth + 1, out);
                }
            }
        }
    }

    /// Whether a field selecting `set` is a connection: it selects `edges` or `nodes`.
    fn is_connection(&self, set: &'a SelectionSet) -> bool {
        let mut fields = Vec::new();
        self.fields(set, 0, &mut fields);
        fields.iter().any(|f| matches!(f.name.node.as_str(), "edges" | "nodes"))
    }

    /// Counts the connections at and below `field` into `count`; returns the deepest nesting.
    fn connections(
        &self,
        field: &'a async_graphql::parser::types::Field,
        depth: usize,
        count: &mut usize,
    ) -> usize {
        let set = &field.selection_set.node;
        let here = if self.is_connection(set) {
            *count += 1;
            depth + 1
        } else {
            depth
        };
        if here > MAX_CONNECTION_DEPTH + 1 {
            return here;
        }
        let mut fields = Vec::new();
        self.fields(set, 0, &mut fields);
        fields.iter().map(|child| self.connections(child, here, count)).max().unwrap_or(here).max(here)
    }
}

/// One node of the result with its children, before it becomes lines.
struct Tree {
    line: IndexMap<Name, Value>,
    children: Vec<Tree>,
}

/// Turns a bulk query's `data` into its JSONL file.
pub fn flatten(data: Value, group_objects: bool) -> Result<BulkFile, String> {
    let Value::Object(top) = data else {
        return Err("the bulk query returned no data".into());
    };
    let mut roots = Vec::new();
    for (_, value) in top {
        let Some(items) = connection_items(value) else {
            return Err("Invalid bulk query: bulk queries must contain at least one connection.".into());
        };
        for item in items {
            roots.push(tree(item, None)?);
        }
    }
    let mut file = BulkFile { roots: roots.len() as u64, ..BulkFile::default() };
    if group_objects {
        for root in &roots {
            write_grouped(root, &mut file)?;
        }
    } else {
        for run in roots.chunks(UNGROUPED_RUN) {
            let mut level: Vec<&Tree> = run.iter().collect();
            while !level.is_empty() {
                for node in &level {
                    write_line(&node.line, &mut file)?;
                }
                level = level.iter().flat_map(|node| &node.children).collect();
            }
        }
    }
    Ok(file)
}

fn write_grouped(node: &Tree, file: &mut BulkFile) -> Result<(), String> {
    write_line(&node.line, file)?;
    for child in &node.children {
        write_grouped(child, file)?;
    }
    Ok(())
}

fn write_line(line: &IndexMap<Name, Value>, file: &mut BulkFile) -> Result<(), String> {
    serde_json::to_writer(&mut file.bytes, line)
        .map_err(|e| format!("could not write a result line: {e}"))?;
    file.bytes.push(b'\n');
    file.objects += 1;
    Ok(())
}

/// The nodes of a connection value (`edges { node }` or `nodes`); none when `value` is not one.
fn connection_items(value: Value) -> Option<Vec<Value>> {
    let Value::Object(fields) = value else { return None };
    let shaped = fields.keys().all(|k| matches!(k.as_str(), "edges" | "nodes" | "pageInfo"))
        && fields.keys().any(|k| matches!(k.as_str(), "edges" | "nodes"));
    if !shaped {
        return None;
    }
    let mut items = Vec::new();
    for (key, value) in fields {
        let Value::List(list) = value else { continue };
        match key.as_str() {
            "nodes" if items.is_empty() => items = list,
            "edges" => {
                items = list
                    .into_iter()
                    .filter_map(|edge| match edge {
                        Value::Object(mut edge) => edge.shift_remove("node"),
                        _ => None,
                    })
                    .collect();
            }
            _ => {}
        }
    }
    Some(items)
}

/// A node as a line and its nested connections as children.
fn tree(node: Value, parent: Option<&str>) -> Result<Tree, String> {
    let Value::Object(fields) = node else {
        return Err("a connection node is not an object".into());
    };
    let mut nested = Vec::new();
    let mut line = strip(fields, &mut nested);
    let id = match line.get("id") {
        Some(Value::String(id)) => Some(id.clone()),
        _ => None,
    };
    if !nested.is_empty() && id.is_none() {
        return Err("Invalid bulk query: a node with nested connections must select `id`.".into());
    }
    if let Some(parent) = parent {
        line.insert(Name::new(PARENT_KEY), Value::String(parent.to_string()));
    }
    let children = nested.into_iter().map(|child| tree(child, id.as_deref())).collect::<Result<_, _>>()?;
    Ok(Tree { line, children })
}

/// Removes the nested connections from `fields` (also inside plain objects, such as
/// `inventoryItem { inventoryLevels }`), adding their nodes to `nested`.
fn strip(fields: IndexMap<Name, Value>, nested: &mut Vec<Value>) -> IndexMap<Name, Value> {
    let mut kept = IndexMap::with_capacity(fields.len());
    for (key, value) in fields {
        if matches!(key.as_str(), "cursor" | "pageInfo") {
            continue;
        }
        match value {
            Value::Object(inner) if is_connection(&inner) => {
                nested.extend(connection_items(Value::Object(inner)).unwrap_or_default());
            }
            Value::Object(inner) => {
                kept.insert(key, Value::Object(strip(inner, nested)));
            }
            other => {
                kept.insert(key, other);
            }
        }
    }
    kept
}

fn is_connection(fields: &IndexMap<Name, Value>) -> bool {
    !fields.is_empty()
        && fields.keys().all(|k| matches!(k.as_str(), "edges" | "nodes" | "pageInfo"))
        && fields.keys().any(|k| matches!(k.as_str(), "edges" | "nodes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(file: &BulkFile) -> Vec<serde_json::Value> {
        String::from_utf8(file.bytes.clone())
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    fn data() -> Value {
        let json = serde_json::json!({"products": {"edges": [
            {"node": {"id": "gid://shopify/Product/1", "title": "A",
                      "variants": {"edges": [{"node": {"id": "gid://shopify/ProductVariant/11", "sku": "A1"}},
                                             {"node": {"id": "gid://shopify/ProductVariant/12", "sku": "A2"}}]},
                      "images": {"nodes": [{"url": "https://x/a.jpg"}]}}},
            {"node": {"id": "gid://shopify/Product/2", "title": "B",
                      "variants": {"edges": [{"node": {"id": "gid://shopify/ProductVariant/21", "sku": "B1",
                          "inventoryItem": {"id": "gid://shopify/InventoryItem/7",
                              "inventoryLevels": {"edges": [{"node": {"id": "gid://shopify/InventoryLevel/1"}}]}}}}]},
                      "images": {"nodes": []}}},
        ]}});
        Value::from_json(json).expect("a GraphQL value")
    }

    #[test]
    fn grouped_children_follow_their_parent_with_its_id() {
        let file = flatten(data(), true).expect("flattens");
        let lines = lines(&file);
        let ids: Vec<_> = lines.iter().map(|l| l["id"].as_str().unwrap_or("(image)").to_string()).collect();
        // Children come in the order of their connections in the node (`json!` sorts keys).
        assert_eq!(
            ids,
            [
                "gid://shopify/Product/1",
                "(image)",
                "gid://shopify/ProductVariant/11",
                "gid://shopify/ProductVariant/12",
                "gid://shopify/Product/2",
                "gid://shopify/ProductVariant/21",
                "gid://shopify/InventoryLevel/1",
            ]
        );
        assert_eq!(lines[0], serde_json::json!({"id": "gid://shopify/Product/1", "title": "A"}));
        assert_eq!(lines[1]["__parentId"], "gid://shopify/Product/1");
        assert_eq!(lines[5]["inventoryItem"], serde_json::json!({"id": "gid://shopify/InventoryItem/7"}));
        assert_eq!(lines[6]["__parentId"], "gid://shopify/ProductVariant/21");
        assert_eq!((file.objects, file.roots), (7, 2));
        assert!(file.bytes.ends_with(b"}\n"));
    }

    #[test]
    fn ungrouped_children_come_after_their_parent_but_not_right_after() {
        let file = flatten(data(), false).expect("flattens");
        let lines = lines(&file);
        assert_eq!(lines[0]["id"], "gid://shopify/Product/1");
        assert_eq!(lines[1]["id"], "gid://shopify/Product/2");
        let position = |id: &str| lines.iter().position(|l| l["id"] == id).expect("listed");
        for line in &lines {
            if let Some(parent) = line["__parentId"].as_str() {
                assert!(position(parent) < lines.iter().position(|l| l == line).expect("listed"));
            }
        }
        assert_eq!(file.objects, 7);
    }

    #[test]
    fn a_partial_file_is_whole_lines_of_the_first_half() {
        let file = flatten(data(), true).expect("flattens");
        let partial = file.partial();
        assert!(partial.bytes.len() <= file.bytes.len() / 2);
        assert!(partial.bytes.ends_with(b"\n"));
        assert_eq!(partial.objects as usize, lines(&partial).len());
        assert_eq!(partial.roots, 1);
    }

    #[test]
    fn bulk_query_shapes_are_checked_before_running() {
        let ok = "{ products { edges { node { id variants { edges { node { id } } } } } } }";
        assert_eq!(check_shape(ok), Ok(()));
        let with_fragment = "query { products { ...P } } fragment P on ProductConnection { nodes { id } }";
        assert_eq!(check_shape(with_fragment), Ok(()));
        for (query, says) in [
            ("{ products { edges { node { id } } ", "Invalid bulk query"),
            ("mutation { a }", "only a query"),
            ("{ shop { name } }", "at least one connection"),
            ("{ a: products { nodes { id } } b: orders { nodes { id } } }", "exactly one top-level field"),
            ("{ node(id: \"x\") { id } }", "`node` and `nodes`"),
            (
                "{ products { nodes { id variants { nodes { id inventoryItem { inventoryLevels { nodes { id } } } } } } } }",
                "nested more than 2",
            ),
            (
                "{ products { nodes { id a: variants { nodes { id } } b: variants { nodes { id } } c: images { nodes { id } }
                   d: images { nodes { id } } e: media { nodes { id } } } } }",
                "more than 5 connections",
            ),
        ] {
            let refused = check_shape(query).expect_err(query);
            assert!(refused.contains(says), "{query}: {refused}");
        }
    }

    #[test]
    fn a_parent_without_an_id_is_refused() {
        let data = Value::from_json(serde_json::json!({"products": {"nodes": [
            {"title": "A", "variants": {"nodes": [{"id": "gid://shopify/ProductVariant/1"}]}}
        ]}}))
        .expect("a GraphQL value");
        assert!(flatten(data, true).expect_err("refused").contains("must select `id`"));
    }
}
