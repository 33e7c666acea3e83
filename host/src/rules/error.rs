//! A rule that failed to compile or to evaluate, naming the rule, the record and where in
//! the script it went wrong.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    /// `channel 2 price rule v3`.
    pub rule: String,
    /// The record being evaluated (`product 17 / SKU CD-1`), when there is one.
    pub record: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl RuleError {
    pub(crate) fn from_parse(rule: &str, e: &rhai::ParseError) -> Self {
        RuleError {
            rule: rule.to_string(),
            record: None,
            line: e.position().line(),
            column: e.position().position(),
            message: e.err_type().to_string(),
        }
    }

    pub(crate) fn from_eval(rule: &str, record: &str, e: &rhai::EvalAltResult) -> Self {
        let inner = e.unwrap_inner();
        let message = match inner {
            rhai::EvalAltResult::ErrorTooManyOperations(_) => {
                "stopped after too many operations (endless loop?)".to_string()
            }
            rhai::EvalAltResult::ErrorStackOverflow(_) => {
                "stopped: calls nested too deep (endless recursion?)".to_string()
            }
            rhai::EvalAltResult::ErrorTerminated(_, _) => {
                "stopped: ran past its wall-clock limit".to_string()
            }
            rhai::EvalAltResult::ErrorDataTooLarge(what, _) => {
                format!("stopped: {what} grew past its size limit")
            }
            other => other.to_string().split(" (line ").next().unwrap_or_default().to_string(),
        };
        let position = inner.position();
        RuleError {
            rule: rule.to_string(),
            record: Some(record.to_string()),
            line: position.line(),
            column: position.position(),
            message,
        }
    }

    pub(crate) fn result(rule: &str, record: &str, message: String) -> Self {
        RuleError {
            rule: rule.to_string(),
            record: Some(record.to_string()),
            line: None,
            column: None,
            message,
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rule)?;
        if let Some(record) = &self.record {
            write!(f, " on {record}")?;
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " at line {l}, column {c}")?,
            (Some(l), None) => write!(f, " at line {l}")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}
