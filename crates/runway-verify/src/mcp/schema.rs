//! JSON Schema checks for tool schemas and tool results.
//!
//! MCP tool schemas are JSON Schema (2020-12 when `$schema` is absent). A
//! schema that does not meta-validate or compile breaks every client that
//! validates arguments, so it is a finding, not a detail.

use serde_json::Value;

/// Why a tool's schema is not usable.
pub fn schema_problem(schema: &Value, must_be_object_type: bool) -> Option<String> {
    if !schema.is_object() {
        return Some("is not a JSON object".into());
    }
    if let Err(e) = jsonschema::meta::validate(schema) {
        return Some(format!(
            "is not valid JSON Schema: {e} (at `{}`)",
            e.instance_path()
        ));
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        return Some(format!("does not compile: {e}"));
    }
    if must_be_object_type && schema.get("type").and_then(Value::as_str) != Some("object") {
        return Some("must have `\"type\": \"object\"`".into());
    }
    None
}

/// Why `instance` does not satisfy `schema` (up to three reasons), or `None`.
pub fn instance_problem(schema: &Value, instance: &Value) -> Option<String> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => return Some(format!("the schema does not compile: {e}")),
    };
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(3)
        .map(|e| format!("{e} (at `{}`)", e.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn misspelt_types_and_non_object_input_schemas_are_found() {
        assert!(
            schema_problem(
                &json!({"type":"object","properties":{"a":{"type":"string"}}}),
                true
            )
            .is_none()
        );
        assert!(
            schema_problem(&json!({"type":"strng"}), false)
                .unwrap()
                .contains("not valid JSON Schema")
        );
        assert!(
            schema_problem(&json!({"type":"string"}), true)
                .unwrap()
                .contains("object")
        );
        assert!(schema_problem(&json!(true), false).is_some());
    }

    #[test]
    fn instances_are_checked_against_output_schemas() {
        let s = json!({"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]});
        assert!(instance_problem(&s, &json!({"sum": 3})).is_none());
        assert!(
            instance_problem(&s, &json!({"sum": "3"}))
                .unwrap()
                .contains("sum")
        );
    }
}
