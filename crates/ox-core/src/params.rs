//! Run parameters: typing `KEY=VALUE` strings like YAML scalars, nesting dotted keys, and
//! flattening nested params back into dotted keys, and merging params deeply.

use serde_json::{Map, Number, Value};

use crate::CoreError;

/// Merges `overlay` into `base` recursively: objects merge key by key, anything else in
/// `overlay` replaces what `base` has. The one merge of params: declared params (`{"type":
/// "params"}` lines, later lines winning) and a run's own params over them, whether the run
/// is read while running (the catalog) or finished (the supervisor), so both show the same.
pub fn deep_merge(base: &mut Map<String, Value>, overlay: &Map<String, Value>) {
    for (k, v) in overlay {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => deep_merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Types a command-line value like a YAML 1.2 scalar: integers, floats (`3e-4`, `.5`,
/// `.inf`, `.nan`), booleans, `null`/`~`, and anything else as a string. A value in quotes
/// stays a string without the quotes.
pub fn parse_param_value(raw: &str) -> Value {
    let s = raw.trim();
    if s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
    {
        return Value::String(s[1..s.len() - 1].to_string());
    }
    match s {
        "" | "null" | "Null" | "NULL" | "~" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(s) {
        return Value::Number(n.into());
    }
    if looks_like_float(s)
        && let Ok(f) = s.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    // YAML's special floats; JSON cannot hold them as numbers, so keep the canonical text.
    match s.to_ascii_lowercase().as_str() {
        ".inf" | "+.inf" => Value::String("inf".into()),
        "-.inf" => Value::String("-inf".into()),
        ".nan" => Value::String("nan".into()),
        _ => Value::String(raw.to_string()),
    }
}

fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whether `s` has the shape of a decimal float (so that words like `inf` or `nan`, which
/// Rust's parser accepts, stay strings).
fn looks_like_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = {
        let mut parts = mantissa.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        digits(int) && frac.is_none_or(digits) && (int.len() + frac.map_or(0, str::len)) > 0
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Sets `value` at the dotted path `key` in `params`, creating nested objects on the way
/// (`model.layers` → `{"model": {"layers": …}}`). Fails when a prefix of the path already
/// holds a non-object value, when the key already holds nested params (`a` after `a.b`:
/// setting it would silently drop `a.b`), or a path segment is empty.
pub fn set_dotted(
    params: &mut Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<(), CoreError> {
    let bad = |reason: &str| CoreError::BadParam {
        spec: key.to_string(),
        reason: reason.to_string(),
    };
    let segments: Vec<&str> = key.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad("empty key segment"));
    }
    let Some((last, parents)) = segments.split_last() else {
        return Err(bad("empty key"));
    };
    let mut cur = params;
    for seg in parents {
        let entry = cur
            .entry((*seg).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        cur = match entry {
            Value::Object(m) => m,
            _ => {
                return Err(bad(&format!(
                    "{seg:?} is already set to a non-object value"
                )));
            }
        };
    }
    if let Some(Value::Object(nested)) = cur.get(*last)
        && !nested.is_empty()
        && !value.is_object()
    {
        let inner: Vec<String> = nested.keys().map(|k| format!("{key}.{k}")).collect();
        return Err(bad(&format!(
            "{key:?} already holds nested params ({}); setting it would drop them",
            inner.join(", ")
        )));
    }
    cur.insert((*last).to_string(), value);
    Ok(())
}

/// Parses a `KEY=VALUE` command-line parameter and sets it in `params`.
pub fn set_param_spec(params: &mut Map<String, Value>, spec: &str) -> Result<(), CoreError> {
    let Some((key, value)) = spec.split_once('=') else {
        return Err(CoreError::BadParam {
            spec: spec.to_string(),
            reason: "expected KEY=VALUE".into(),
        });
    };
    set_dotted(params, key.trim(), parse_param_value(value))
}

/// Flattens nested params into `(dotted.key, leaf value)` pairs, depth first in key order.
/// Arrays are leaves.
pub fn flatten_params(params: &Map<String, Value>) -> Vec<(String, &Value)> {
    fn walk<'a>(prefix: &str, map: &'a Map<String, Value>, out: &mut Vec<(String, &'a Value)>) {
        for (k, v) in map {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Object(inner) if !inner.is_empty() => walk(&key, inner, out),
                _ => out.push((key, v)),
            }
        }
    }
    let mut out = Vec::new();
    walk("", params, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_merge_merges_objects_and_replaces_the_rest() {
        let mut base = json!({"a": {"x": 1, "y": {"z": 2}}, "b": [1], "c": 1})
            .as_object()
            .unwrap()
            .clone();
        let overlay = json!({"a": {"y": {"w": 3}, "x": {"now": "object"}}, "b": [2], "d": null});
        deep_merge(&mut base, overlay.as_object().unwrap());
        assert_eq!(
            Value::Object(base),
            json!({"a": {"x": {"now": "object"}, "y": {"z": 2, "w": 3}}, "b": [2], "c": 1, "d": null})
        );
    }

    #[test]
    fn values_are_typed_like_yaml() {
        assert_eq!(parse_param_value("12"), json!(12));
        assert_eq!(parse_param_value("-3"), json!(-3));
        assert_eq!(parse_param_value("3e-4"), json!(0.0003));
        assert_eq!(parse_param_value(".5"), json!(0.5));
        assert_eq!(parse_param_value("1."), json!(1.0));
        assert_eq!(parse_param_value("true"), json!(true));
        assert_eq!(parse_param_value("null"), Value::Null);
        assert_eq!(parse_param_value("adam"), json!("adam"));
        assert_eq!(parse_param_value("inf"), json!("inf"));
        assert_eq!(parse_param_value("'12'"), json!("12"));
        assert_eq!(parse_param_value("1e"), json!("1e"));
        assert_eq!(parse_param_value("99999999999999999999"), json!(1e20));
    }

    #[test]
    fn dotted_keys_nest_and_flatten_back() {
        let mut p = Map::new();
        set_param_spec(&mut p, "model.layers=12").unwrap();
        set_param_spec(&mut p, "model.act=gelu").unwrap();
        set_param_spec(&mut p, "lr=3e-4").unwrap();
        assert_eq!(
            Value::Object(p.clone()),
            json!({"model": {"layers": 12, "act": "gelu"}, "lr": 0.0003})
        );
        let flat: Vec<String> = flatten_params(&p).into_iter().map(|(k, _)| k).collect();
        assert_eq!(flat, ["lr", "model.act", "model.layers"]);
        assert!(set_param_spec(&mut p, "lr.x=1").is_err());
        assert!(set_param_spec(&mut p, "a..b=1").is_err());
        assert!(set_param_spec(&mut p, "novalue").is_err());
        // A leaf over nested params is refused in either order (it used to drop model.*).
        let e = set_param_spec(&mut p, "model=1").unwrap_err().to_string();
        assert!(e.contains("model.act, model.layers"), "{e}");
        let mut q = Map::new();
        set_param_spec(&mut q, "a=1").unwrap();
        assert!(set_param_spec(&mut q, "a.b=2").is_err());
        // The same leaf twice: the last value wins.
        set_param_spec(&mut q, "a=3").unwrap();
        assert_eq!(q["a"], 3);
    }
}
