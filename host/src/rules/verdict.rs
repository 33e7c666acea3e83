//! What a rule decides about a record, as a value the engine understands (never a magic
//! string): keep it, skip it with a reason, or hold it for a person to look at.

/// A rule's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Skip(String),
    Hold(String),
}

impl Verdict {
    /// Registers `keep()`, `skip(reason)` and `hold(reason)` for scripts.
    pub fn register(engine: &mut rhai::Engine) {
        engine.register_type_with_name::<Verdict>("Verdict");
        engine.register_fn("keep", || Verdict::Keep);
        engine.register_fn("skip", |reason: &str| Verdict::Skip(reason.to_string()));
        engine.register_fn("hold", |reason: &str| Verdict::Hold(reason.to_string()));
        engine.register_fn("to_string", |v: &mut Verdict| format!("{v:?}"));
    }
}
