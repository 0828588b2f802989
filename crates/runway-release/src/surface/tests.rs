//! Every kind of tool-surface change and the bump it requires.

use super::*;
use serde_json::json;

fn tool(name: &str, input: Value, output: Option<Value>) -> ToolSignature {
    ToolSignature {
        name: name.into(),
        description: Some(format!("{name} tool")),
        input_schema: input,
        output_schema: output,
    }
}

fn search_v1() -> ToolSignature {
    tool(
        "search",
        json!({"type": "object", "properties": {
            "query": {"type": "string"},
            "limit": {"type": ["integer", "null"]},
            "mode": {"type": "string", "enum": ["fast", "full"]}
        }, "required": ["query"]}),
        Some(json!({"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "score": {"type": "number"}}}},
            "total": {"type": "integer"}
        }})),
    )
}

fn diff_one(new_search: ToolSignature) -> SurfaceDiff {
    compare_surfaces(
        &ToolSurface::new(vec![search_v1()]),
        &ToolSurface::new(vec![new_search]),
    )
}

fn kinds(d: &SurfaceDiff) -> Vec<(ChangeKind, &str, Level)> {
    d.changes
        .iter()
        .map(|c| (c.kind, c.path.as_str(), c.required))
        .collect()
}

#[test]
fn identical_surfaces_have_no_changes() {
    let d = diff_one(search_v1());
    assert!(d.is_empty());
    assert_eq!(d.required(), None);
}

#[test]
fn removed_tool_is_breaking_and_added_tool_is_minor() {
    let old = ToolSurface::new(vec![
        search_v1(),
        tool("ping", json!({"type": "object"}), None),
    ]);
    let new = ToolSurface::new(vec![
        search_v1(),
        tool("fetch", json!({"type": "object"}), None),
    ]);
    let d = compare_surfaces(&old, &new);
    assert_eq!(
        kinds(&d),
        vec![
            (ChangeKind::ToolRemoved, "", Level::Major),
            (ChangeKind::ToolAdded, "", Level::Minor)
        ]
    );
    assert_eq!(d.changes[0].tool, "ping");
    assert_eq!(d.required(), Some(Level::Major));
    assert_eq!(d.decisive().unwrap().tool, "ping");
}

#[test]
fn new_required_parameter_is_breaking_optional_is_minor() {
    let mut s = search_v1();
    s.input_schema["properties"]["lang"] = json!({"type": "string"});
    assert_eq!(
        kinds(&diff_one(s.clone())),
        vec![(
            ChangeKind::OptionalParameterAdded,
            "input.lang",
            Level::Minor
        )]
    );
    s.input_schema["required"] = json!(["query", "lang"]);
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(
            ChangeKind::RequiredParameterAdded,
            "input.lang",
            Level::Major
        )]
    );
}

#[test]
fn optional_parameter_made_required_or_removed_is_breaking() {
    let mut s = search_v1();
    s.input_schema["required"] = json!(["query", "limit"]);
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(
            ChangeKind::ParameterNowRequired,
            "input.limit",
            Level::Major
        )]
    );
    let mut s = search_v1();
    s.input_schema["properties"]
        .as_object_mut()
        .unwrap()
        .remove("limit");
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::ParameterRemoved, "input.limit", Level::Major)]
    );
    let mut s = search_v1();
    s.input_schema["required"] = json!([]);
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(
            ChangeKind::ParameterNowOptional,
            "input.query",
            Level::Minor
        )]
    );
}

#[test]
fn narrowed_type_is_breaking_widened_is_minor() {
    let mut s = search_v1();
    s.input_schema["properties"]["limit"]["type"] = json!("integer");
    let d = diff_one(s);
    assert_eq!(
        kinds(&d),
        vec![(ChangeKind::TypeNarrowed, "input.limit", Level::Major)]
    );
    assert!(
        d.changes[0].detail.contains("integer|null → integer"),
        "{}",
        d.changes[0].detail
    );
    let mut s = search_v1();
    s.input_schema["properties"]["query"]["type"] = json!(["string", "array"]);
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::TypeWidened, "input.query", Level::Minor)]
    );
    let mut s = search_v1();
    s.input_schema["properties"]["query"]["type"] = json!("boolean");
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::TypeChanged, "input.query", Level::Major)]
    );
    // number → integer narrows; integer → number widens.
    let mut s = search_v1();
    s.input_schema["properties"]["limit"]["type"] = json!(["number", "null"]);
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::TypeWidened, "input.limit", Level::Minor)]
    );
}

#[test]
fn enum_values_removed_are_breaking_added_are_minor() {
    let mut s = search_v1();
    s.input_schema["properties"]["mode"]["enum"] = json!(["fast"]);
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::EnumNarrowed, "input.mode", Level::Major)]
    );
    let mut s = search_v1();
    s.input_schema["properties"]["mode"]["enum"] = json!(["fast", "full", "deep"]);
    let d = diff_one(s);
    assert_eq!(
        kinds(&d),
        vec![(ChangeKind::EnumWidened, "input.mode", Level::Minor)]
    );
    assert!(d.changes[0].detail.contains("`\"deep\"`"));
}

#[test]
fn removed_output_field_is_breaking_even_when_nested() {
    let mut s = search_v1();
    s.output_schema.as_mut().unwrap()["properties"]
        .as_object_mut()
        .unwrap()
        .remove("total");
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::OutputFieldRemoved, "output.total", Level::Major)]
    );
    let mut s = search_v1();
    s.output_schema.as_mut().unwrap()["properties"]["items"]["items"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("score");
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(
            ChangeKind::OutputFieldRemoved,
            "output.items[].score",
            Level::Major
        )]
    );
    let mut s = search_v1();
    s.output_schema.as_mut().unwrap()["properties"]["next"] = json!({"type": "string"});
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::OutputFieldAdded, "output.next", Level::Minor)]
    );
    let mut s = search_v1();
    s.output_schema = None;
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::OutputSchemaRemoved, "output", Level::Major)]
    );
    let mut s = search_v1();
    s.output_schema.as_mut().unwrap()["properties"]["total"]["type"] = json!("string");
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::OutputTypeChanged, "output.total", Level::Major)]
    );
}

#[test]
fn description_change_is_a_patch() {
    let mut s = search_v1();
    s.description = Some("better words".into());
    assert_eq!(
        kinds(&diff_one(s)),
        vec![(ChangeKind::DescriptionChanged, "description", Level::Patch)]
    );
}

#[test]
fn before_one_zero_breaking_requires_minor() {
    let d = compare_surfaces(
        &ToolSurface::new(vec![search_v1()]),
        &ToolSurface::default(),
    );
    let zero = semver::Version::new(0, 3, 0);
    assert_eq!(d.required_for(&zero, true), Some(Level::Minor));
    assert_eq!(d.required_for(&zero, false), Some(Level::Major));
    assert_eq!(
        d.required_for(&semver::Version::new(1, 0, 0), true),
        Some(Level::Major)
    );
}

#[test]
fn surface_file_round_trips_sorted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("tool-surface.json");
    assert_eq!(read_surface(&p).unwrap(), None);
    let s = ToolSurface {
        server: Some("hangar".into()),
        server_version: Some("1.0.0".into()),
        tools: vec![tool("z", json!({}), None), search_v1()],
    };
    std::fs::write(&p, render_surface(&s)).unwrap();
    let back = read_surface(&p).unwrap().unwrap();
    assert_eq!(back.tools[0].name, "search");
    assert_eq!(back.server.as_deref(), Some("hangar"));
    std::fs::write(&p, "{\n  \"tools\": 3\n}\n").unwrap();
    let err = read_surface(&p).unwrap_err().to_string();
    assert!(err.contains("tool-surface.json:2:"), "{err}");
}
