//! Redaction on the way in: every string of a record passes through the
//! ledger's [`Redactor`], so a secret never reaches the database, and floats
//! are brought to the digits their JSON form parses back to.

use runway_core::{CheckResult, Redactor};

use crate::Record;

/// Runs every string of `record` through `redactor`; header values of
/// sensitive headers are hidden whatever they hold.
pub fn redact_record(redactor: &Redactor, record: &mut Record) {
    redact_json(redactor, &mut record.body);
    for e in &mut record.events {
        if let Some(n) = &mut e.note {
            *n = redactor.redact(n);
        }
        redact_json(redactor, &mut e.data);
    }
    for c in &mut record.checks {
        redact_check(redactor, c);
    }
}

/// Brings a float to the value its shortest JSON form parses back to, so an
/// export and a re-import print the same digits (serde_json's default parser
/// may be one ULP off for long mantissas).
fn stable_f64(mut x: f64) -> f64 {
    for _ in 0..4 {
        let Ok(text) = serde_json::to_string(&x) else {
            return x;
        };
        match serde_json::from_str::<f64>(&text) {
            Ok(y) if y != x => x = y,
            _ => break,
        }
    }
    x
}

fn redact_check(redactor: &Redactor, c: &mut CheckResult) {
    c.duration_ms = stable_f64(c.duration_ms);
    c.evidence.elapsed_ms = c.evidence.elapsed_ms.map(stable_f64);
    c.id = redactor.redact(&c.id);
    c.message = redactor.redact(&c.message);
    if let Some(h) = &mut c.hint {
        *h = redactor.redact(h);
    }
    let ev = &mut c.evidence;
    if let Some(r) = &mut ev.request {
        *r = redactor.redact(r);
    }
    if let Some(b) = &mut ev.body_excerpt {
        *b = redactor.redact(b);
    }
    for (name, value) in ev.headers.iter_mut() {
        *value = redactor.redact_header(name, value);
    }
    redact_json(redactor, &mut ev.details);
}

pub(crate) fn redact_json(redactor: &Redactor, v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = redactor.redact(s),
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n
                .as_f64()
                .and_then(|f| serde_json::Number::from_f64(stable_f64(f)))
            {
                *n = f;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| redact_json(redactor, x)),
        serde_json::Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if let serde_json::Value::String(s) = x
                    && runway_core::secret::SENSITIVE_HEADERS
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(k))
                {
                    *s = "[redacted]".to_owned();
                } else {
                    redact_json(redactor, x);
                }
            }
        }
        _ => {}
    }
}
